//! The Telegram simulator: an in-process Bot API server for `kabinet demo`, the end-to-end
//! tests and the benchmarks.
//!
//! Not built yet.
