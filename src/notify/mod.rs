//! Pushes and messages that leave Telegram: the SMS providers today; the outbox sender and
//! the e-mail channel with the pushes milestone. Events and their deliveries are already
//! recorded, in the same transaction as the change that caused them
//! (see [`crate::storage::NewEvent`]).

pub mod sms;
