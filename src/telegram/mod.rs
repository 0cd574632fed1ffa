//! Kabinet's own side of Telegram's Bot API, below the bot and the push sender: the
//! [`Pacer`] that keeps Telegram's flood limits for both, and [`BotApi`], the client for
//! the two calls whose failures Kabinet must handle itself — the long poll and the push.
//!
//! teloxide's `Bot` stays for the dispatcher's answers (edits, callback answers, …), but its
//! HTTP client gives up after 17 s (a 30 s long poll then ends in a timeout and a growing
//! backoff) and it sleeps 10 s after any 5xx before returning the error (a push sender
//! waiting on that serialises on one bad answer). [`BotApi`] sets the timeout per call and
//! returns every answer at once, classified.

mod api;
mod pacer;

pub use api::{BotApi, CallError, OutgoingMessage};
pub use pacer::{Pacer, RATE_MARGIN};
