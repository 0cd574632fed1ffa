//! Questions waiting for an answer (SPEC §1.11): the list, a question's card with its
//! options, «are you sure?» before a destructive option, and the comment prompt.

use chrono::{DateTime, Datelike, Utc};

use super::{Screen, Voice, button, copy_button, footer};
use crate::domain::{CommentRule, QuestionKind, QuestionOption, QuestionState};
use crate::i18n::{Html, month_title};
use crate::messages::{Callback, first_name};
use crate::storage::{AttendanceDay, QuestionRecord};

/// Questions a list shows; a cabinet rarely has more than two at once.
const LISTED: usize = 8;

/// What the card of a question shows besides the question itself.
pub struct CardExtras<'a> {
    /// An attendance sheet's days, for its calendar above the options.
    pub attendance: Option<&'a [AttendanceDay]>,
    pub now: DateTime<Utc>,
    pub today: chrono::NaiveDate,
}

fn kind_title(voice: &Voice<'_>, kind: QuestionKind) -> String {
    voice.text(kind.message_id())
}

/// «Өтініш № ALM-… · Аяла», or the child (and the sheet's month).
fn concerns(voice: &Voice<'_>, q: &QuestionRecord) -> Option<Html> {
    let child = q.child_name.as_deref().map(first_name).unwrap_or_default();
    if let Some(number) = &q.application_number {
        return Some(voice.html(
            "question-concerns-application",
            &[("number", number.as_str().into()), ("child", child.into())],
        ));
    }
    let name = q.child_name.as_deref()?;
    Some(match q.month {
        Some(month) => {
            let title = month_title(voice.loc, voice.lang, month.year(), month.month());
            voice.html(
                "question-concerns-month",
                &[("child", name.into()), ("month", (&title).into())],
            )
        }
        None => Html::text(name),
    })
}

/// «Мерзімі: 7 желтоқсан 2026, 18:00 (1 күн 4 сағат қалды)».
fn deadline_line(voice: &Voice<'_>, q: &QuestionRecord, now: DateTime<Utc>) -> Html {
    let deadline = voice.date_time(q.content.deadline);
    if q.content.deadline > now {
        let left = voice.loc.time_left(voice.lang, q.content.deadline - now);
        voice.html(
            "question-card-deadline",
            &[("deadline", (&deadline).into()), ("left", (&left).into())],
        )
    } else {
        voice.html("question-deadline", &[("deadline", (&deadline).into())])
    }
}

/// The questions waiting for an answer, the nearest deadline first.
pub fn list(voice: &Voice<'_>, questions: &[QuestionRecord], now: DateTime<Utc>) -> Screen {
    let mut text = Html::bold(&voice.html_text("questions-title"));
    if questions.is_empty() {
        text.push_markup("\n\n")
            .push(&voice.html_text("questions-empty"));
    }
    let mut rows = Vec::new();
    for q in questions.iter().take(LISTED) {
        let title = kind_title(voice, q.kind);
        text.push_markup("\n\n• ")
            .push(&Html::bold(&Html::text(&title)));
        if let Some(concerns) = concerns(voice, q) {
            text.push_markup("\n").push(&concerns);
        }
        text.push_markup("\n").push(&deadline_line(voice, q, now));
        let child = q.child_name.as_deref().map(first_name);
        let label = match child {
            Some(child) => format!("❗ {title} · {child}"),
            None => format!("❗ {title}"),
        };
        rows.push(vec![button(label, Callback::OpenQuestion(q.id))]);
    }
    rows.push(footer(voice, false));
    Screen::new(text, rows)
}

/// A question's card: what it concerns, its words, the deadline and what is left, what
/// happens without an answer, and — while it is open — the options; otherwise where it
/// stands (answered, and whether the portal has the answer; withdrawn; expired).
pub fn card(voice: &Voice<'_>, q: &QuestionRecord, extras: &CardExtras<'_>) -> Screen {
    let c = &q.content;
    let mut text = Html::markup("❗ ");
    text.push(&Html::bold(&Html::text(&kind_title(voice, q.kind))));
    if let Some(concerns) = concerns(voice, q) {
        text.push_markup("\n").push(&concerns);
    }
    text.push_markup("\n\n").push_text(c.text(voice.lang));
    text.push_markup("\n\n")
        .push(&deadline_line(voice, q, extras.now));
    if let Some(consequence) = c.if_unanswered(voice.lang) {
        text.push_markup("\n").push(&voice.html(
            "question-card-if-unanswered",
            &[("what", consequence.into())],
        ));
    }
    if let (Some(days), Some(month)) = (extras.attendance, q.month) {
        text.push_markup("\n\n")
            .push(&Html::pre(&Html::text(&super::files::calendar(
                month,
                days,
                extras.today,
            ))))
            .push_markup("\n")
            .push(&voice.html_text("attendance-legend"));
    }
    let mut rows = Vec::new();
    match q.state(extras.now) {
        QuestionState::Open => {
            text.push_markup("\n\n")
                .push(&voice.html_text("question-choose"));
            for (i, option) in c.options.iter().enumerate() {
                rows.push(vec![button(
                    option.label(voice.lang),
                    Callback::AnswerOption {
                        question: q.id,
                        option: i as u8,
                    },
                )]);
            }
        }
        QuestionState::Answered => {
            let answer = q.answer.as_ref().expect("answered");
            let label = c
                .option(&answer.option)
                .map_or(answer.option.as_str(), |o| o.label(voice.lang));
            let at = voice.loc.day_month_time(voice.lang, answer.at, voice.tz);
            text.push_markup("\n\n").push(&voice.html(
                "question-answered",
                &[("option", label.into()), ("at", (&at).into())],
            ));
            if q.delivered_at.is_some() {
                text.push_markup(" · ")
                    .push(&voice.html_text("question-delivered"));
            }
            if let Some(comment) = &answer.comment {
                text.push_markup("\n").push(&voice.html(
                    "question-answer-comment",
                    &[("comment", comment.as_str().into())],
                ));
            }
        }
        QuestionState::Withdrawn => {
            text.push_markup("\n\n")
                .push(&voice.html_text("question-withdrawn"));
        }
        QuestionState::Expired => {
            text.push_markup("\n\n")
                .push(&voice.html_text("question-expired"));
        }
    }
    if let Some(number) = &q.application_number {
        rows.push(vec![copy_button(
            voice.format("button-copy-number", &[("number", number.clone().into())]),
            number,
        )]);
    }
    rows.push(footer(voice, true));
    Screen::new(text, rows)
}

/// The option chosen, as the confirm and comment screens name it.
fn chosen(voice: &Voice<'_>, option: &QuestionOption) -> Html {
    voice.html(
        "question-chosen",
        &[("option", option.label(voice.lang).into())],
    )
}

/// «Сенімдісіз бе?» with what the option gives up, before anything is recorded.
pub fn confirm(
    voice: &Voice<'_>,
    q: &QuestionRecord,
    index: u8,
    option: &QuestionOption,
) -> Screen {
    let mut text = Html::bold(&voice.html_text("question-sure"));
    text.push_markup("\n\n").push(&chosen(voice, option));
    text.push_markup("\n")
        .push(&voice.html_text(&format!("question-consequence-{}", q.kind.as_str())));
    Screen::new(
        text,
        vec![
            vec![button(
                voice.text("button-answer-sure"),
                Callback::ConfirmOption {
                    question: q.id,
                    option: index,
                },
            )],
            footer(voice, true),
        ],
    )
}

/// The comment an option asks for; an optional one can be skipped.
pub fn comment(
    voice: &Voice<'_>,
    q: &QuestionRecord,
    index: u8,
    option: &QuestionOption,
) -> Screen {
    let mut text = chosen(voice, option);
    let (prompt, skip) = match option.comment {
        CommentRule::Required => ("question-comment-required", false),
        CommentRule::Optional | CommentRule::None => ("question-comment-optional", true),
    };
    text.push_markup("\n\n").push(&voice.html(
        prompt,
        &[("max", (crate::domain::COMMENT_MAX_CHARS as i64).into())],
    ));
    let mut rows = Vec::new();
    if skip {
        rows.push(vec![button(
            voice.text("button-no-comment"),
            Callback::NoComment {
                question: q.id,
                option: index,
            },
        )]);
    }
    rows.push(footer(voice, true));
    Screen::new(text, rows)
}
