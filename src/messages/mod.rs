//! What a parent reads outside the bot's screens, below both the bot and the push sender:
//! the words for an event (the same in the feed and in the push), the bodies of a push on
//! each channel, and the callback data of the buttons those messages carry. Neither the bot
//! nor the sender owns these; both read them here.

pub mod callback;
mod events;
pub mod sms;

pub use callback::{Callback, Section};
pub use events::{
    event_button, event_line, first_name, push_email, push_telegram, status_text, truncate,
};
pub use sms::SMS_MAX_CHARS;
