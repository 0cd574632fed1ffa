//! Dates and times as parents read them: local time (`TIMEZONE`), month names in words.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use fluent_bundle::FluentValue;

use super::Localizer;
use crate::domain::Language;

/// The month's name as it stands inside a date: «қараша», «ноября».
pub fn month_name(loc: &Localizer, lang: Language, month: u32) -> String {
    loc.text(lang, &format!("month-in-date-{month}"))
}

/// A month as a heading, e.g. of an attendance summary: «Қараша 2026», «Ноябрь 2026».
pub fn month_title(loc: &Localizer, lang: Language, year: i32, month: u32) -> String {
    let name = loc.text(lang, &format!("month-title-{month}"));
    loc.format(
        lang,
        "month-with-year",
        &[("month", name.into()), ("year", year.to_string().into())],
    )
}

impl Localizer {
    /// «25 қараша 2026 ж.», «25 ноября 2026 г.».
    pub fn date(&self, lang: Language, date: NaiveDate) -> String {
        self.format(
            lang,
            "date-long",
            &[
                ("day", FluentValue::from(date.day().to_string())),
                ("month", month_name(self, lang, date.month()).into()),
                ("year", date.year().to_string().into()),
            ],
        )
    }

    /// A moment in the local time zone: «25 қараша 2026 ж., 14:05».
    pub fn date_time(&self, lang: Language, at: DateTime<Utc>, tz: Tz) -> String {
        let local = at.with_timezone(&tz);
        self.format(
            lang,
            "date-time",
            &[
                ("date", self.date(lang, local.date_naive()).into()),
                ("time", local.format("%H:%M").to_string().into()),
            ],
        )
    }

    /// A date without the year, for short lists: «25 қараша», «25 ноября».
    pub fn day_month(&self, lang: Language, date: NaiveDate) -> String {
        self.format(
            lang,
            "date-day-month",
            &[
                ("day", FluentValue::from(date.day().to_string())),
                ("month", month_name(self, lang, date.month()).into()),
            ],
        )
    }
}
