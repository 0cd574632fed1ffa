//! The SMS a parent gets: a confirmation code, a lock, a push. Each is one segment — at most
//! 70 characters of Cyrillic (UCS-2) — names the service, and a push names the child, so a
//! parent with two children knows which one it is about. Where something must give way, the
//! child's name is cut, never the news.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::events::{Facts, QuestionFacts, facts, number, truncate};
use crate::domain::Language;
use crate::i18n::{Localizer, sms_date_time};
use crate::storage::Event;

/// One SMS segment of Cyrillic text (UCS-2).
pub const SMS_MAX_CHARS: usize = 70;

/// The confirmation code.
pub fn code(loc: &Localizer, lang: Language, code: &str) -> String {
    loc.format(lang, "sms-code", &[("code", code.to_owned().into())])
}

/// The cabinet was locked after wrong passwords, until `until` (local time).
pub fn locked(loc: &Localizer, lang: Language, until: DateTime<Utc>, tz: Tz) -> String {
    loc.format(
        lang,
        "sms-locked",
        &[("until", sms_date_time(until, tz).into())],
    )
}

/// A chat was locked out of the cabinet after its wrong passwords, until `until` (local
/// time); the cabinet itself is open.
pub fn chat_locked(loc: &Localizer, lang: Language, until: DateTime<Utc>, tz: Tz) -> String {
    loc.format(
        lang,
        "sms-chat-locked",
        &[("until", sms_date_time(until, tz).into())],
    )
}

/// The main phone became `new` (masked): told to the old number, with what to do if it was
/// not the parent. A warning worth two segments: it may be the parent's only sign of a
/// takeover.
pub fn phone_changed(
    loc: &Localizer,
    lang: Language,
    new: &crate::domain::Phone,
    support: Option<&str>,
) -> String {
    let phone = ("phone", new.masked().into());
    match support {
        Some(contact) => loc.format(
            lang,
            "sms-phone-changed-support",
            &[phone, ("contact", contact.to_owned().into())],
        ),
        None => loc.format(lang, "sms-phone-changed", &[phone]),
    }
}

/// A push: «Жеке кабинет: Әли, Кезекте (57-орын) · № ALM-2026-000137». The record's number
/// (or the club) is added only when it fits; a long name is cut to make room for the news.
/// A question says what to answer, by when and where (SPEC §1.11).
pub fn push(loc: &Localizer, lang: Language, tz: Tz, event: &Event) -> String {
    if event.kind.is_question() {
        return question(loc, lang, tz, event);
    }
    let Facts {
        status,
        club,
        child,
        ..
    } = facts(loc, lang, event);
    let what = status.unwrap_or_else(|| loc.text(lang, event.kind.message_id()));
    let extra = number(event).map(|n| format!("№ {n}")).or(club);
    let with_child = |child: &str| {
        loc.format(
            lang,
            "push-sms",
            &[
                ("child", child.to_owned().into()),
                ("what", what.clone().into()),
            ],
        )
    };
    let without_child = || loc.format(lang, "push-sms-no-child", &[("what", what.clone().into())]);
    let base = match &child {
        Some(child) => with_child(child),
        None => without_child(),
    };
    let fits = |text: &str| text.chars().count() <= SMS_MAX_CHARS;
    if let Some(extra) = extra {
        let full = format!("{base} · {extra}");
        if fits(&full) {
            return full;
        }
    }
    if fits(&base) {
        return base;
    }
    if let Some(child) = &child {
        let over = base.chars().count() - SMS_MAX_CHARS;
        let room = child.chars().count().saturating_sub(over);
        if room >= 2 {
            return with_child(&truncate(child, room));
        }
    }
    truncate(&without_child(), SMS_MAX_CHARS)
}

/// A question's SMS: «Жеке кабинет. Әли: орын ұсынылды. Мерзімі 07.12 18:00: бот/портал».
/// The child's name is cut before anything else, as in every push.
fn question(loc: &Localizer, lang: Language, tz: Tz, event: &Event) -> String {
    let Facts {
        question, child, ..
    } = facts(loc, lang, event);
    let Some(QuestionFacts { kind, deadline, .. }) = question else {
        return truncate(&loc.text(lang, event.kind.message_id()), SMS_MAX_CHARS);
    };
    let topic = loc.text(lang, &format!("question-topic-{}", kind.as_str()));
    let deadline = deadline.map(|d| sms_date_time(d, tz)).unwrap_or_default();
    let with_child = |child: &str| {
        loc.format(
            lang,
            "sms-question",
            &[
                ("child", child.to_owned().into()),
                ("topic", topic.clone().into()),
                ("deadline", deadline.clone().into()),
            ],
        )
    };
    let child = child.unwrap_or_default();
    let text = with_child(&child);
    let over = text.chars().count().saturating_sub(SMS_MAX_CHARS);
    if over == 0 {
        return text;
    }
    let room = child.chars().count().saturating_sub(over).max(2);
    truncate(&with_child(&truncate(&child, room)), SMS_MAX_CHARS)
}
