//! How Kabinet reaches a parent outside Telegram: SMS (a development log, a generic HTTP
//! gateway, Mobizon) and e-mail (SMTP). Below both the bot (codes by SMS) and the push
//! sender; Telegram itself is [`crate::telegram`].

pub mod email;
pub mod sms;
