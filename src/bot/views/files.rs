//! Personal files (SPEC §1.7): the children, one child's file with clubs, and attendance by
//! month.

use chrono::{Datelike, NaiveDate};

use super::{Screen, Voice, button, footer};
use crate::domain::{AttendanceStatus, Language};
use crate::i18n::{Html, month_title};
use crate::messages::{Callback, truncate};
use crate::storage::{AttendanceDay, Child, ChildFile};

/// Days of attendance shown in detail.
const DAYS_SHOWN: usize = 7;

pub fn list(voice: &Voice<'_>, children: &[Child]) -> Screen {
    let mut text = Html::bold(&voice.html_text("section-files"));
    if children.is_empty() {
        text.push_markup("\n\n")
            .push(&voice.html_text("files-empty"));
    }
    let mut rows: Vec<_> = children
        .iter()
        .enumerate()
        .map(|(i, c)| vec![button(c.full_name.clone(), Callback::OpenFile(i as u32))])
        .collect();
    rows.push(footer(voice, true));
    Screen::new(text, rows)
}

/// A child's file; `child` is the child's place in the list, `today` the local date (the
/// attendance button opens this month).
pub fn file(voice: &Voice<'_>, file: &ChildFile, child: u32, today: NaiveDate) -> Screen {
    let born = voice.date(file.child.birth_date);
    let mut text = Html::bold(&Html::text(&file.child.full_name));
    text.push_markup("\n")
        .push(&voice.html("label-born", &[("date", (&born).into())]));
    text.push_markup("\n\n");
    match &file.placement {
        Some(p) => {
            let institution = match voice.lang {
                Language::Kk => &p.institution_name_kk,
                Language::Ru => &p.institution_name_ru,
            };
            let since = voice.date(p.opened_on);
            text.push(&voice.html(
                "file-placement",
                &[
                    ("institution", institution.into()),
                    ("group", p.group_name.as_str().into()),
                    ("since", (&since).into()),
                ],
            ))
        }
        None => text.push(&voice.html_text("file-no-placement")),
    };
    text.push_markup("\n\n")
        .push(&Html::bold(&voice.html_text("label-clubs")));
    if file.clubs.is_empty() {
        text.push_markup("\n").push(&voice.html_text("clubs-empty"));
    }
    for club in &file.clubs {
        text.push_markup("\n• ")
            .push(&Html::bold(&Html::text(club.name(voice.lang))))
            .push_markup(" — ")
            .push_text(&club.teacher)
            .push_markup("\n  ")
            .push_text(&club.schedule);
    }
    Screen::new(
        text,
        vec![
            vec![button(
                voice.text("button-attendance"),
                Callback::Attendance {
                    child,
                    year: today.year(),
                    month: today.month(),
                },
            )],
            footer(voice, true),
        ],
    )
}

/// A month of attendance: the summary, the last days, and ‹ › to the months around it.
pub fn attendance(
    voice: &Voice<'_>,
    child: &Child,
    index: u32,
    month: NaiveDate,
    days: &[AttendanceDay],
) -> Screen {
    let count = |st: AttendanceStatus| days.iter().filter(|d| d.status == st).count() as i64;
    let mut text = Html::bold(&Html::text(&child.full_name));
    text.push_markup("\n").push_text(&month_title(
        voice.loc,
        voice.lang,
        month.year(),
        month.month(),
    ));
    if days.is_empty() {
        text.push_markup("\n\n")
            .push(&voice.html_text("attendance-empty"));
    } else {
        let present = count(AttendanceStatus::Present);
        let share = (present * 100 + (days.len() as i64) / 2) / days.len() as i64;
        text.push_markup("\n\n").push(&voice.html(
            "attendance-summary",
            &[
                ("present", present.into()),
                ("absent", count(AttendanceStatus::Absent).into()),
                ("excused", count(AttendanceStatus::Excused).into()),
                ("share", share.into()),
            ],
        ));
        text.push_markup("\n\n")
            .push(&Html::bold(&voice.html_text("label-last-days")));
        for d in days.iter().rev().take(DAYS_SHOWN) {
            text.push_markup("\n").push_text(&format!(
                "{} — {}",
                voice.loc.day_month(voice.lang, d.day),
                voice.text(d.status.message_id())
            ));
            if let Some(note) = &d.note {
                text.push_markup(" (")
                    .push(&Html::italic(&Html::text(&truncate(note, 100))))
                    .push_markup(")");
            }
        }
    }
    let other_month = |d: NaiveDate, previous: bool| {
        let title = month_title(voice.loc, voice.lang, d.year(), d.month());
        let label = if previous {
            format!("‹ {title}")
        } else {
            format!("{title} ›")
        };
        button(
            label,
            Callback::Attendance {
                child: index,
                year: d.year(),
                month: d.month(),
            },
        )
    };
    let previous = month.checked_sub_months(chrono::Months::new(1));
    let next = month.checked_add_months(chrono::Months::new(1));
    let months = previous
        .map(|d| other_month(d, true))
        .into_iter()
        .chain(next.map(|d| other_month(d, false)))
        .collect();
    Screen::new(text, vec![months, footer(voice, true)])
}
