//! Everything that reaches a parent outside a chat's own screens: the push sender working
//! the outbox (Telegram, SMS, e-mail), the referral reminder, the SMS providers. Events and
//! their deliveries are recorded in the same transaction as the change that caused them
//! (see [`crate::storage::NewEvent`]); this module only sends what is queued.

pub mod reminders;
pub mod sender;

pub use sender::Wake;
