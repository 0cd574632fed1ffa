//! The view layer: one module per screen. A view takes what its screen shows and the
//! [`Voice`] it speaks with, and returns a [`Screen`]: HTML text (escaped by type) and an
//! inline keyboard. Views read nothing and write nothing; `screens.rs` loads their data.
//!
//! The widgets every screen shares — a button, a pager, the Back/Menu footer — are here,
//! once.

pub mod applications;
pub mod feed;
pub mod files;
pub mod login;
pub mod menu;
pub mod questions;
pub mod referrals;
pub mod settings;
pub mod start;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::domain::Language;
use crate::i18n::{Arg, Html, Localizer};
use crate::messages::Callback;

/// Items per page of a list.
pub const PAGE: i64 = 5;

/// A screen: HTML text and its inline keyboard.
#[derive(Debug, Clone, PartialEq)]
pub struct Screen {
    pub text: Html,
    pub keyboard: InlineKeyboardMarkup,
}

impl Screen {
    /// A screen of these rows (empty rows left out: Telegram refuses them).
    pub fn new(text: Html, rows: Vec<Vec<InlineKeyboardButton>>) -> Screen {
        Screen {
            text,
            keyboard: InlineKeyboardMarkup::new(rows.into_iter().filter(|r| !r.is_empty())),
        }
    }

    /// The screen with a short note above it («this button is stale», a wrong code …).
    pub fn with_note(self, note: &Html) -> Screen {
        let mut text = note.clone();
        text.push_markup("\n\n").push(&self.text);
        Screen { text, ..self }
    }

    /// A fingerprint of exactly what the chat would show: the text and every button. Equal
    /// fingerprints mean an edit would change nothing (Telegram refuses it with 400 «message
    /// is not modified»). FNV-1a, so it is the same in every process and version.
    pub fn fingerprint(&self) -> u64 {
        let keyboard = serde_json::to_string(&self.keyboard).unwrap_or_default();
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in self
            .text
            .as_str()
            .bytes()
            .chain([0])
            .chain(keyboard.bytes())
        {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        hash
    }
}

/// What a view speaks with: the texts, the chat's language, the local time zone.
#[derive(Clone, Copy)]
pub struct Voice<'a> {
    pub loc: &'a Localizer,
    pub lang: Language,
    pub tz: Tz,
}

impl Voice<'_> {
    /// A plain text (a button label, a toast).
    pub fn text(&self, id: &str) -> String {
        self.loc.text(self.lang, id)
    }

    /// A plain text with arguments.
    pub fn format(&self, id: &str, args: &[(&str, fluent_bundle::FluentValue<'_>)]) -> String {
        self.loc.format(self.lang, id, args)
    }

    /// A message as HTML, its text arguments escaped.
    pub fn html(&self, id: &str, args: &[(&str, Arg<'_>)]) -> Html {
        self.loc.html(self.lang, id, args)
    }

    pub fn html_text(&self, id: &str) -> Html {
        self.loc.html_text(self.lang, id)
    }

    pub fn date(&self, date: NaiveDate) -> String {
        self.loc.date(self.lang, date)
    }

    pub fn date_time(&self, at: DateTime<Utc>) -> String {
        self.loc.date_time(self.lang, at, self.tz)
    }

    /// A section's title, bold, with «· 2/3» when the list has pages.
    pub fn list_title(&self, section: &str, page: i64, pages: i64) -> Html {
        let mut title = Html::bold(&self.html_text(section));
        if pages > 1 {
            title.push_text(&format!(" · {}/{}", page + 1, pages));
        }
        title
    }
}

pub fn button(label: impl Into<String>, callback: Callback) -> InlineKeyboardButton {
    InlineKeyboardButton::callback(label.into(), callback.encode())
}

/// A button that puts `text` on the parent's clipboard (Bot API `copy_text`): a number to
/// give elsewhere, without retyping it.
pub fn copy_button(label: impl Into<String>, text: &str) -> InlineKeyboardButton {
    InlineKeyboardButton::copy_text_button(
        label.into(),
        teloxide::types::CopyTextButton {
            text: text.to_owned(),
        },
    )
}

/// ‹ 2/3 › under a list; nothing for a list of one page.
pub fn pager(page: i64, pages: i64, to: impl Fn(u32) -> Callback) -> Vec<InlineKeyboardButton> {
    let mut row = Vec::new();
    if pages > 1 {
        if page > 0 {
            row.push(button("‹", to(page as u32 - 1)));
        }
        row.push(button(format!("{}/{}", page + 1, pages), Callback::Noop));
        if page + 1 < pages {
            row.push(button("›", to(page as u32 + 1)));
        }
    }
    row
}

/// «‹ Артқа» (when there is somewhere to go back to) and «Мәзір».
pub fn footer(voice: &Voice<'_>, back: bool) -> Vec<InlineKeyboardButton> {
    let mut row = Vec::new();
    if back {
        row.push(button(voice.text("button-back"), Callback::Back));
    }
    row.push(button(voice.text("button-menu"), Callback::Menu));
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_sees_every_character_and_button() {
        let screen = |text: &str, label: &str| {
            Screen::new(Html::text(text), vec![vec![button(label, Callback::Menu)]])
        };
        let a = screen("Мәзір", "Мәзір");
        assert_eq!(a.fingerprint(), screen("Мәзір", "Мәзір").fingerprint());
        assert_ne!(a.fingerprint(), screen("Мәзір.", "Мәзір").fingerprint());
        assert_ne!(a.fingerprint(), screen("Мәзір", "Мәзір ").fingerprint());
    }
}
