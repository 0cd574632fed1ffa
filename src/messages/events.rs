//! Texts about events, shared by the feed and the pushes: a parent reads the same words in
//! the cabinet and in the notification. Telegram gets the feed's own line (HTML) and a button
//! to the card; an SMS one short plain line; an e-mail a subject and a plain body.

use fluent_bundle::FluentValue;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use super::callback::Callback;
use crate::domain::{ApplicationStatus, EventKind, Language};
use crate::i18n::{Html, Localizer};
use crate::storage::Event;

/// One SMS segment of Cyrillic text (UCS-2).
pub const SMS_MAX_CHARS: usize = 70;

/// A status as the parent reads it, with the queue place when queued («Кезекте (7-орын)»).
pub fn status_text(
    loc: &Localizer,
    lang: Language,
    status: ApplicationStatus,
    queue: Option<i64>,
) -> String {
    let label = loc.text(lang, status.message_id());
    match queue.filter(|_| status == ApplicationStatus::Queued) {
        Some(position) => loc.format(
            lang,
            "queue-position",
            &[("status", label.into()), ("position", position.into())],
        ),
        None => label,
    }
}

/// At most `max` characters, with «…» when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    }
}

fn details(event: &Event) -> serde_json::Value {
    serde_json::from_str(&event.details).unwrap_or_default()
}

fn number(event: &Event) -> Option<&str> {
    event
        .referral_number
        .as_deref()
        .or(event.application_number.as_deref())
}

/// One line of the feed: what happened.
pub fn event_line(loc: &Localizer, lang: Language, event: &Event) -> Html {
    let details = details(event);
    let mut line = Html::bold(&Html::text(&loc.text(lang, event.kind.message_id())));
    if let Some(number) = number(event).filter(|n| !n.is_empty()) {
        line.push_markup(" · № ").push_text(number);
    }
    if event.kind == EventKind::ApplicationStatus
        && let Some(status) = details["status"]
            .as_str()
            .and_then(|s| ApplicationStatus::parse(s).ok())
    {
        let queue = details["queue_position"].as_i64();
        line.push_markup("\n")
            .push_text(&status_text(loc, lang, status, queue));
    }
    if let Some(club) = details[format!("name_{}", lang.code())].as_str() {
        line.push_markup(" · ").push_text(club);
    }
    if let Some(comment) = details["comment"].as_str() {
        line.push_markup("\n")
            .push(&Html::italic(&Html::text(&truncate(comment, 200))));
    }
    line
}

/// The label of the button that opens the card an event concerns.
pub fn event_button(loc: &Localizer, lang: Language, event: &Event) -> Option<String> {
    let number = number(event)?;
    Some(loc.format(
        lang,
        "button-open-number",
        &[("number", FluentValue::from(number.to_owned()))],
    ))
}

/// The Telegram message of a push: the text and its one button.
pub fn push_telegram(
    loc: &Localizer,
    lang: Language,
    event: &Event,
) -> (Html, InlineKeyboardMarkup) {
    let mut text = Html::markup("🔔 ");
    text.push(&event_line(loc, lang, event));
    let label = event_button(loc, lang, event).unwrap_or_else(|| loc.text(lang, "push-open"));
    let button = InlineKeyboardButton::callback(label, Callback::OpenEvent(event.id).encode());
    (text, InlineKeyboardMarkup::new([[button]]))
}

/// The SMS of a push: what happened and to which number, in one segment.
pub fn push_sms(loc: &Localizer, lang: Language, event: &Event) -> String {
    let details = details(event);
    let what = match details["status"]
        .as_str()
        .and_then(|s| ApplicationStatus::parse(s).ok())
    {
        Some(status) if event.kind == EventKind::ApplicationStatus => {
            status_text(loc, lang, status, details["queue_position"].as_i64())
        }
        _ => loc.text(lang, event.kind.message_id()),
    };
    let text = match number(event) {
        Some(number) => format!("№{number}: {what}"),
        None => what,
    };
    truncate(&text, SMS_MAX_CHARS)
}

/// The e-mail of a push: subject and plain-text body.
pub fn push_email(
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
        event_line(loc, lang, event).to_plain(),
        loc.format(lang, "push-email-footer", &[("link", link.into())])
    );
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_sms_is_cut_to_one_segment() {
        let long = "ә".repeat(100);
        let short = truncate(&long, SMS_MAX_CHARS);
        assert_eq!(short.chars().count(), SMS_MAX_CHARS);
        assert!(short.ends_with('…'));
    }
}
