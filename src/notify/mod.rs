//! Pushes: the outbox sender and its channels (Telegram, SMS, e-mail).
//!
//! Not built yet. Events and their deliveries are already recorded, in the same transaction
//! as the change that caused them (see [`crate::storage::NewEvent`]).
