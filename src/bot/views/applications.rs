//! My applications (SPEC §1.5): the list, and the card of one application.

use chrono::{Datelike, NaiveDate};

use super::{PAGE, Screen, Voice, button, footer, pager};
use crate::domain::{ApplicationStatus, Sex};
use crate::i18n::Html;
use crate::messages::{Callback, status_text, truncate};
use crate::storage::{ApplicationCard, ApplicationSummary, Page};

/// History entries a card shows (the newest).
const HISTORY_SHOWN: usize = 8;

pub fn list(voice: &Voice<'_>, listed: &Page<ApplicationSummary>) -> Screen {
    let (page, pages) = (listed.number, listed.pages(PAGE));
    let mut text = voice.list_title("section-applications", page, pages);
    if listed.items.is_empty() {
        text.push_markup("\n\n")
            .push(&voice.html_text("applications-empty"));
    }
    let mut rows = Vec::new();
    for a in &listed.items {
        let mut number = Html::markup("№ ");
        number.push_text(&a.number);
        text.push_markup("\n\n")
            .push(&Html::bold(&number))
            .push_markup(" — ")
            .push_text(&a.child_name)
            .push_markup("\n")
            .push_text(&voice.text(a.kind.message_id()))
            .push_markup(" · ")
            .push_text(&status_text(
                voice.loc,
                voice.lang,
                a.status,
                a.queue_position,
                Sex::of_iin(&a.child_iin),
            ));
        rows.push(vec![button(
            format!("№ {}", a.number),
            Callback::OpenApplication(a.id),
        )]);
    }
    rows.push(pager(page, pages, Callback::Page));
    rows.push(footer(voice, true));
    Screen::new(text, rows)
}

/// The card; `today` (local) decides whether a date needs its year.
pub fn card(voice: &Voice<'_>, card: &ApplicationCard, today: NaiveDate) -> Screen {
    let a = &card.application;
    let sex = Sex::of_iin(&a.child_iin);
    let status = status_text(voice.loc, voice.lang, a.status, a.queue_position, sex);
    let kind = voice.text(a.kind.message_id());
    let language = voice.text(&format!("instruction-{}", a.language.code()));
    let (birth, desired, submitted) = (
        voice.date(a.child_birth_date),
        voice.date(a.desired_date),
        voice.date_time(a.submitted_at),
    );
    let mut text = voice.html(
        "application-card",
        &[
            ("number", a.number.as_str().into()),
            ("child", a.child_name.as_str().into()),
            ("birth", (&birth).into()),
            ("kind", (&kind).into()),
            ("desired", (&desired).into()),
            ("language", (&language).into()),
            ("submitted", (&submitted).into()),
            ("status", (&status).into()),
        ],
    );
    if let Some(moved) = queue_moved(voice, card, today) {
        text.push_markup("\n").push_text(&moved);
    }
    if let Some(p) = a.privilege {
        text.push_markup("\n").push_text(&format!(
            "{}: {}",
            voice.text("label-privilege"),
            voice.text(p.message_id())
        ));
    }
    text.push_markup("\n\n")
        .push(&Html::bold(&voice.html_text("label-institutions")));
    for (i, inst) in card.institutions.iter().enumerate() {
        text.push_markup("\n")
            .push_text(&format!("{}. {}", i + 1, inst.name(voice.lang)));
    }
    text.push_markup("\n\n")
        .push(&Html::bold(&voice.html_text("label-history")));
    let skipped = card.history.len().saturating_sub(HISTORY_SHOWN);
    if skipped > 0 {
        text.push_markup("\n…")
            .push(&voice.html("history-earlier", &[("count", (skipped as i64).into())]));
    }
    for h in card.history.iter().skip(skipped) {
        text.push_markup("\n• ").push_text(&format!(
            "{} — {}",
            voice.date_time(h.changed_at),
            status_text(voice.loc, voice.lang, h.status, h.queue_position, sex)
        ));
        if let Some(comment) = &h.comment {
            text.push_markup("\n  ")
                .push(&Html::italic(&Html::text(&truncate(
                    comment.get(voice.lang),
                    200,
                ))));
        }
    }
    let mut rows = Vec::new();
    if let Some(referral) = card.referral_id {
        rows.push(vec![button(
            voice.text("button-open-referral"),
            Callback::OpenReferral(referral),
        )]);
    }
    rows.push(footer(voice, true));
    Screen::new(text, rows)
}

/// How the queue place moved since the first one recorded: «Кезектегі орны: 57 → 42,
/// 1 қыркүйектен бері». Nothing unless the application is queued and its place changed.
fn queue_moved(voice: &Voice<'_>, card: &ApplicationCard, today: NaiveDate) -> Option<String> {
    let a = &card.application;
    let now = a
        .queue_position
        .filter(|_| a.status == ApplicationStatus::Queued)?;
    let first = card.history.iter().find(|h| h.queue_position.is_some())?;
    let from = first.queue_position?;
    if from == now {
        return None;
    }
    let day = first.changed_at.with_timezone(&voice.tz).date_naive();
    let since = voice.loc.date_from(voice.lang, day, Some(today.year()));
    Some(voice.format(
        "queue-moved",
        &[
            ("from", from.into()),
            ("to", now.into()),
            ("since", since.into()),
        ],
    ))
}
