//! The integration API the portal calls (SPEC §3).
//!
//! Not built yet. Its write path already exists: [`crate::ingest`] checks and writes every
//! object the API will accept, and `kabinet import` uses it today.
