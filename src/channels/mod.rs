//! How Kabinet reaches a parent outside Telegram: SMS (a development log, a generic HTTP
//! gateway, Mobizon) and e-mail (SMTP); and the portal, with the answers to its questions. Below both the bot (codes by SMS) and the push
//! sender; Telegram itself is [`crate::telegram`].

pub mod email;
pub mod portal;
pub mod sms;
