//! What a push says on each channel. Telegram gets the feed's own line (HTML) and a button
//! to the card; an SMS gets one short plain line; an e-mail a subject and a plain body.

use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::bot::callback::Callback;
use crate::bot::texts::{event_button, event_line, status_text};
use crate::domain::{ApplicationStatus, EventKind, Language};
use crate::i18n::Localizer;
use crate::storage::Event;

/// One SMS segment of Cyrillic text (UCS-2).
pub const SMS_MAX_CHARS: usize = 70;

/// The Telegram message of a push: the text and its one button.
pub fn telegram(loc: &Localizer, lang: Language, event: &Event) -> (String, InlineKeyboardMarkup) {
    let text = format!("🔔 {}", event_line(loc, lang, event));
    let label = event_button(loc, lang, event).unwrap_or_else(|| loc.text(lang, "push-open"));
    let button = InlineKeyboardButton::callback(label, Callback::OpenEvent(event.id).encode());
    (text, InlineKeyboardMarkup::new([[button]]))
}

/// The SMS of a push: what happened and to which number, in one segment.
pub fn sms(loc: &Localizer, lang: Language, event: &Event) -> String {
    let details: serde_json::Value = serde_json::from_str(&event.details).unwrap_or_default();
    let what = match details["status"]
        .as_str()
        .and_then(|s| ApplicationStatus::parse(s).ok())
    {
        Some(status) if event.kind == EventKind::ApplicationStatus => {
            status_text(loc, lang, status, details["queue_position"].as_i64())
        }
        _ => loc.text(lang, event.kind.message_id()),
    };
    let number = event
        .referral_number
        .as_deref()
        .or(event.application_number.as_deref());
    let text = match number {
        Some(number) => format!("№{number}: {what}"),
        None => what,
    };
    shorten(&text, SMS_MAX_CHARS)
}

/// The e-mail of a push: subject and plain-text body.
pub fn email(
    loc: &Localizer,
    lang: Language,
    event: &Event,
    bot_username: &str,
) -> (String, String) {
    let what = loc.text(lang, event.kind.message_id());
    let subject = loc.format(lang, "push-email-subject", &[("what", what.into())]);
    let link = format!("https://t.me/{bot_username}");
    let body = format!(
        "{}\n\n{}\n",
        plain(&event_line(loc, lang, event)),
        loc.format(lang, "push-email-footer", &[("link", link.into())])
    );
    (subject, body)
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    }
}

/// The text of our own HTML: tags dropped, the entities Telegram's HTML uses turned back.
fn plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_of_html_keeps_what_was_escaped() {
        assert_eq!(
            plain("<b>Робо &amp; Код &lt;Junior&gt;</b> · № 1"),
            "Робо & Код <Junior> · № 1"
        );
    }

    #[test]
    fn a_long_sms_is_cut_to_one_segment() {
        let long = "ә".repeat(100);
        let short = shorten(&long, SMS_MAX_CHARS);
        assert_eq!(short.chars().count(), SMS_MAX_CHARS);
        assert!(short.ends_with('…'));
    }
}
