//! Texts about events, shared by the feed and the pushes: a parent reads the same words in
//! the cabinet and in the notification.

use fluent_bundle::FluentValue;
use teloxide::utils::html::escape;

use crate::domain::{ApplicationStatus, EventKind, Language};
use crate::i18n::Localizer;
use crate::storage::Event;

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

pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    }
}

/// One line of the feed: what happened.
pub fn event_line(loc: &Localizer, lang: Language, event: &Event) -> String {
    let details: serde_json::Value = serde_json::from_str(&event.details).unwrap_or_default();
    let kind = loc.text(lang, event.kind.message_id());
    let number = event
        .referral_number
        .as_deref()
        .or(event.application_number.as_deref())
        .unwrap_or_default();
    let mut line = format!("<b>{kind}</b>");
    if !number.is_empty() {
        line.push_str(&format!(" · № {}", escape(number)));
    }
    if event.kind == EventKind::ApplicationStatus
        && let Some(status) = details["status"]
            .as_str()
            .and_then(|s| ApplicationStatus::parse(s).ok())
    {
        let queue = details["queue_position"].as_i64();
        line.push_str(&format!("\n{}", status_text(loc, lang, status, queue)));
    }
    if let Some(club) = details[format!("name_{}", lang.code())].as_str() {
        line.push_str(&format!(" · {}", escape(club)));
    }
    if let Some(comment) = details["comment"].as_str() {
        line.push_str(&format!("\n<i>{}</i>", escape(&truncate(comment, 200))));
    }
    line
}

pub fn event_button(loc: &Localizer, lang: Language, event: &Event) -> Option<String> {
    let number = event
        .referral_number
        .as_deref()
        .or(event.application_number.as_deref())?;
    Some(loc.format(
        lang,
        "button-open-number",
        &[("number", FluentValue::from(number.to_owned()))],
    ))
}
