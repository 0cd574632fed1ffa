//! What a parent reads outside the bot's screens, below both the bot and the push sender:
//! the words for an event (the same in the feed and in the push), the bodies of a push on
//! each channel, and the callback data of the buttons those messages carry. Neither the bot
//! nor the sender owns these; both read them here.

pub mod callback;
mod events;

pub use callback::{Callback, Section};
pub use events::{
    SMS_MAX_CHARS, event_button, event_line, push_email, push_sms, push_telegram, status_text,
    truncate,
};
