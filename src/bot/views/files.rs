//! Personal files (SPEC §1.7): the children, one child's file with clubs, and attendance by
//! month.

use chrono::{Datelike, Months, NaiveDate};

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

/// A child's file; `child` is the child's place in the list. The attendance button opens
/// `attendance_month`: the latest month with records (or this one).
pub fn file(
    voice: &Voice<'_>,
    file: &ChildFile,
    child: u32,
    attendance_month: NaiveDate,
) -> Screen {
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
            let since = voice.loc.date_from(voice.lang, p.opened_on, None);
            text.push(&voice.html(
                "file-placement",
                &[
                    ("institution", institution.into()),
                    ("group", p.group_name.get(voice.lang).into()),
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
            .push_text(club.schedule.get(voice.lang));
    }
    Screen::new(
        text,
        vec![
            vec![button(
                voice.text("button-attendance"),
                Callback::Attendance {
                    child,
                    year: attendance_month.year(),
                    month: attendance_month.month(),
                },
            )],
            footer(voice, true),
        ],
    )
}

/// Where ‹ › lead from a month of attendance: the nearest months with records before and
/// after it (never past this month).
#[derive(Debug, Clone, Copy, Default)]
pub struct MonthsAround {
    pub previous: Option<NaiveDate>,
    pub next: Option<NaiveDate>,
}

/// A month of attendance: the summary, the month at a glance, the last days, and ‹ › to
/// the nearest months with records. `today` is the local date: the calendar stops there.
pub fn attendance(
    voice: &Voice<'_>,
    child: &Child,
    index: u32,
    month: NaiveDate,
    days: &[AttendanceDay],
    around: MonthsAround,
    today: NaiveDate,
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
            .push(&Html::pre(&Html::text(&calendar(month, days, today))))
            .push_markup("\n")
            .push(&voice.html_text("attendance-legend"));
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
                    .push(&Html::italic(&Html::text(&truncate(
                        note.get(voice.lang),
                        100,
                    ))))
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
    let months = around
        .previous
        .map(|d| other_month(d, true))
        .into_iter()
        .chain(around.next.map(|d| other_month(d, false)))
        .collect();
    Screen::new(text, vec![months, footer(voice, true)])
}

/// The month at a glance, a row per week: the week's dates, then one mark per school day
/// (🟩 present, 🟥 absent, 🟨 excused, ⬜ no record; ➖ a weekday of the month before).
/// Every cell of the grid is an emoji of the same width and the dates are padded, so the
/// columns stay aligned in any font; Saturday and Sunday get a column only in a month that
/// has a record on them.
///
/// ```text
///  2–6  🟩🟩🟩🟩🟩
///  9–13 🟩🟥🟩🟩🟨
/// ```
pub fn calendar(month: NaiveDate, days: &[AttendanceDay], today: NaiveDate) -> String {
    let first = month.with_day(1).unwrap_or(month);
    let last_of_month = first
        .checked_add_months(Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(first);
    let last = last_of_month.min(today.max(first));
    let columns = days
        .iter()
        .map(|d| d.day.weekday().num_days_from_monday() + 1)
        .max()
        .unwrap_or(5)
        .max(5);
    let mut rows = Vec::new();
    let mut monday =
        first - chrono::Duration::days(i64::from(first.weekday().num_days_from_monday()));
    while monday <= last {
        let week: Vec<NaiveDate> = (0..columns)
            .map(|i| monday + chrono::Duration::days(i64::from(i)))
            .collect();
        let shown: Vec<&NaiveDate> = week
            .iter()
            .filter(|d| **d >= first && **d <= last)
            .collect();
        if let (Some(from), Some(to)) = (shown.first(), shown.last()) {
            let dates = if from == to {
                format!("{:>2}", from.day())
            } else {
                format!("{:>2}–{}", from.day(), to.day())
            };
            let mut row = format!("{dates:<5} ");
            for day in week.iter().take_while(|d| **d <= last) {
                row.push(if *day < first {
                    '➖'
                } else {
                    match days.iter().find(|d| d.day == *day).map(|d| d.status) {
                        Some(AttendanceStatus::Present) => '🟩',
                        Some(AttendanceStatus::Absent) => '🟥',
                        Some(AttendanceStatus::Excused) => '🟨',
                        None => '⬜',
                    }
                });
            }
            rows.push(row);
        }
        monday += chrono::Duration::days(7);
    }
    rows.join("\n")
}
