//! Texts about events, shared by the feed and the pushes: a parent reads the same words in
//! the cabinet and in the notification. Telegram gets the feed's own line (HTML) and a button
//! to the card; an SMS one short plain line; an e-mail a subject and a plain body.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use fluent_bundle::FluentValue;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use super::callback::Callback;
use crate::domain::{ApplicationStatus, EventKind, Language, PortalText, QuestionKind, Sex};
use crate::i18n::{Html, Localizer};
use crate::storage::Event;

/// A status as the parent reads it, with the queue place when queued («Кезекте (7-орын)»).
/// A label that describes the child agrees with the child's sex in Russian («Зачислена»).
pub fn status_text(
    loc: &Localizer,
    lang: Language,
    status: ApplicationStatus,
    queue: Option<i64>,
    child: Option<Sex>,
) -> String {
    let label = match (status, child) {
        (ApplicationStatus::Enrolled, Some(Sex::Female)) => {
            loc.text(lang, "application-status-enrolled-female")
        }
        _ => loc.text(lang, status.message_id()),
    };
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

/// The given name in a full name written the official way, surname first («Сейітова Аяла
/// Ерболқызы» → «Аяла»); a single word is taken whole.
pub fn first_name(full_name: &str) -> &str {
    let mut words = full_name.split_whitespace();
    let first = words.next().unwrap_or_default();
    words.next().unwrap_or(first)
}

/// What an event's text needs from its JSON details and its joins.
pub(super) struct Facts {
    /// The status an application reached, with its queue place, as the parent reads it.
    pub status: Option<String>,
    pub club: Option<String>,
    pub comment: Option<String>,
    pub child: Option<String>,
    /// A question's event: what it is about and by when.
    pub question: Option<QuestionFacts>,
}

/// What a question's event says (SPEC §1.11).
pub(super) struct QuestionFacts {
    pub kind: QuestionKind,
    pub deadline: Option<DateTime<Utc>>,
    /// The question's words in the parent's language.
    pub text: Option<String>,
    /// The answer given, in the parent's language (an answer's event).
    pub option: Option<String>,
}

pub(super) fn facts(loc: &Localizer, lang: Language, event: &Event) -> Facts {
    let details: serde_json::Value = serde_json::from_str(&event.details).unwrap_or_default();
    let sex = event.child_iin.as_deref().and_then(Sex::of_iin);
    let status = details["status"]
        .as_str()
        .and_then(|s| ApplicationStatus::parse(s).ok())
        .filter(|_| event.kind == EventKind::ApplicationStatus)
        .map(|status| {
            let queue = details["queue_position"].as_i64();
            status_text(loc, lang, status, queue, sex)
        });
    let question = event
        .kind
        .is_question()
        .then(|| {
            let kind = details["kind"]
                .as_str()
                .and_then(|k| QuestionKind::parse(k).ok())?;
            let own = |key: &str| {
                details[format!("{key}_{}", lang.code())]
                    .as_str()
                    .or_else(|| details[format!("{key}_{}", lang.other().code())].as_str())
                    .map(str::to_owned)
            };
            Some(QuestionFacts {
                kind,
                deadline: details["deadline"]
                    .as_str()
                    .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
                    .map(|d| d.with_timezone(&Utc)),
                text: own("text"),
                option: own("option"),
            })
        })
        .flatten();
    Facts {
        status,
        question,
        club: details[format!("name_{}", lang.code())]
            .as_str()
            .map(str::to_owned),
        comment: PortalText::from_json(&details["comment"]).map(|c| c.get(lang).to_owned()),
        child: event
            .child_name
            .as_deref()
            .map(|n| first_name(n).to_owned()),
    }
}

pub(super) fn number(event: &Event) -> Option<&str> {
    event
        .referral_number
        .as_deref()
        .or(event.application_number.as_deref())
        .filter(|n| !n.is_empty())
}

/// An announcement's text in the parent's language (or the other, if one is missing).
pub fn announcement_text(lang: Language, event: &Event) -> Option<&str> {
    let (own, other) = match lang {
        Language::Kk => (&event.announcement_kk, &event.announcement_ru),
        Language::Ru => (&event.announcement_ru, &event.announcement_kk),
    };
    own.as_deref()
        .or(other.as_deref())
        .filter(|t| !t.is_empty())
}

/// How much of an announcement the feed shows; the push carries it whole.
const ANNOUNCEMENT_IN_FEED: usize = 400;

/// One line of the feed: what happened, to which record, and to which child.
///
/// ```text
/// Өтініш мәртебесі өзгерді · № ALM-2026-000137
/// Әли · Кезекте (37-орын)
/// ```
pub fn event_line(loc: &Localizer, lang: Language, tz: Tz, event: &Event) -> Html {
    let mut line = Html::bold(&Html::text(&loc.text(lang, event.kind.message_id())));
    if let Some(text) = announcement_text(lang, event) {
        line.push_markup("\n")
            .push_text(&truncate(text, ANNOUNCEMENT_IN_FEED));
        return line;
    }
    let facts = facts(loc, lang, event);
    if let Some(number) = number(event) {
        line.push_markup(" · № ").push_text(number);
    }
    // A question: its kind, or the answer given; then by when.
    let about = facts.question.as_ref().map(|q| {
        q.option
            .clone()
            .unwrap_or_else(|| loc.text(lang, q.kind.message_id()))
    });
    let second: Vec<&str> = [&facts.child, &facts.status, &facts.club, &about]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    if !second.is_empty() {
        line.push_markup("\n").push_text(&second.join(" · "));
    }
    let deadline = facts
        .question
        .as_ref()
        .filter(|_| event.kind != EventKind::QuestionAnswered)
        .and_then(|q| q.deadline);
    if let Some(deadline) = deadline {
        let when = loc.date_time(lang, deadline, tz);
        line.push_markup("\n").push(&loc.html(
            lang,
            "question-deadline",
            &[("deadline", (&when).into())],
        ));
    }
    if let Some(comment) = &facts.comment {
        line.push_markup("\n")
            .push(&Html::italic(&Html::text(&truncate(comment, 200))));
    }
    line
}

/// The label of the button that opens what an event concerns: its application or referral
/// by number, or the child's personal file (a club enrollment).
pub fn event_button(loc: &Localizer, lang: Language, event: &Event) -> Option<String> {
    if let Some(number) = number(event) {
        return Some(loc.format(
            lang,
            "button-open-number",
            &[("number", FluentValue::from(number.to_owned()))],
        ));
    }
    let child = first_name(event.child_name.as_deref()?).to_owned();
    Some(loc.format(lang, "button-open-file", &[("child", child.into())]))
}

/// How much of a question's words a push carries; the card has them whole.
const QUESTION_IN_PUSH: usize = 600;

/// The Telegram message of a push: the text and its one button.
pub fn push_telegram(
    loc: &Localizer,
    lang: Language,
    tz: Tz,
    event: &Event,
) -> (Html, InlineKeyboardMarkup) {
    if event.kind.is_question() {
        // A question: what, by when, its words, and the way to the card with the options.
        let mut text = Html::markup("❗ ");
        text.push(&event_line(loc, lang, tz, event));
        if let Some(words) = facts(loc, lang, event).question.and_then(|q| q.text) {
            text.push_markup("\n\n")
                .push_text(&truncate(&words, QUESTION_IN_PUSH));
        }
        let button = InlineKeyboardButton::callback(
            loc.text(lang, "button-answer"),
            Callback::OpenEvent(event.id).encode(),
        );
        return (text, InlineKeyboardMarkup::new([[button]]));
    }
    if let Some(words) = announcement_text(lang, event) {
        // The department's words, whole, and the way to the feed where they stay.
        let mut text = Html::markup("📢 ");
        text.push(&Html::bold(&Html::text(
            &loc.text(lang, event.kind.message_id()),
        )))
        .push_markup("\n\n")
        .push_text(words);
        let button = InlineKeyboardButton::callback(
            loc.text(lang, "section-feed"),
            Callback::OpenEvent(event.id).encode(),
        );
        return (text, InlineKeyboardMarkup::new([[button]]));
    }
    let mut text = Html::markup("🔔 ");
    text.push(&event_line(loc, lang, tz, event));
    let label = event_button(loc, lang, event).unwrap_or_else(|| loc.text(lang, "push-open"));
    let button = InlineKeyboardButton::callback(label, Callback::OpenEvent(event.id).encode());
    (text, InlineKeyboardMarkup::new([[button]]))
}

/// The e-mail of a push: subject and plain-text body.
pub fn push_email(
    loc: &Localizer,
    lang: Language,
    tz: Tz,
    event: &Event,
    bot_username: &str,
) -> (String, String) {
    let what = loc.text(lang, event.kind.message_id());
    let subject = loc.format(lang, "push-email-subject", &[("what", what.into())]);
    let link = format!("https://t.me/{bot_username}");
    let question = facts(loc, lang, event).question;
    let words = question
        .as_ref()
        .and_then(|q| q.text.as_deref())
        .map(|w| format!("{w}\n\n"))
        .unwrap_or_default();
    let footer = if question.is_some() {
        "question-email-footer"
    } else {
        "push-email-footer"
    };
    let body = format!(
        "{}\n\n{words}{}\n",
        event_line(loc, lang, tz, event).to_plain(),
        loc.format(lang, footer, &[("link", link.into())])
    );
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_given_name_is_the_second_word_of_an_official_name() {
        assert_eq!(first_name("Сейітова Аяла Ерболқызы"), "Аяла");
        assert_eq!(first_name("Ким Виктория"), "Виктория");
        assert_eq!(first_name("Әли"), "Әли");
        assert_eq!(first_name(""), "");
    }
}
