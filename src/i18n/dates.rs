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
    /// The official forms: «2026 жылғы 25 қараша», «25 ноября 2026 г.».
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

    /// A moment in the local time zone: «2026 жылғы 25 қараша, 14:05».
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

    /// A date as the start of a span, for «… бастап», «… бері», «с …»: Kazakh puts it in
    /// the ablative («2026 жылғы 1 қыркүйектен»), Russian keeps the genitive («1 сентября
    /// 2026 г.»). The year is left out when it is `this_year`.
    pub fn date_from(&self, lang: Language, date: NaiveDate, this_year: Option<i32>) -> String {
        let day = FluentValue::from(date.day().to_string());
        let month = self.text(lang, &format!("month-from-{}", date.month()));
        if this_year == Some(date.year()) {
            self.format(
                lang,
                "date-day-month",
                &[("day", day), ("month", month.into())],
            )
        } else {
            self.format(
                lang,
                "date-long",
                &[
                    ("day", day),
                    ("month", month.into()),
                    ("year", date.year().to_string().into()),
                ],
            )
        }
    }

    /// How long something lasts, in whole minutes, or in seconds under a minute: «5 минут»,
    /// «30 секунд»; «5 минут», «1 минуту», «30 секунд».
    pub fn duration(&self, lang: Language, span: std::time::Duration) -> String {
        let seconds = span.as_secs() as i64;
        if seconds < 60 {
            self.format(lang, "duration-seconds", &[("count", seconds.into())])
        } else {
            self.format(
                lang,
                "duration-minutes",
                &[("count", (seconds / 60).into())],
            )
        }
    }
}

impl Localizer {
    /// What is left until a deadline, to the minute and never less than one: «1 күн 4 сағат
    /// қалды», «осталось 1 день 4 часа», «осталась 1 минута».
    pub fn time_left(&self, lang: Language, span: chrono::Duration) -> String {
        let minutes = span.num_minutes().max(1);
        let (days, hours, mins) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
        let (id, args): (&str, Vec<(&str, FluentValue<'_>)>) = match (days, hours, mins) {
            (0, 0, m) => ("time-left-minutes", vec![("minutes", m.into())]),
            (0, h, 0) => ("time-left-hours", vec![("hours", h.into())]),
            (0, h, m) => (
                "time-left-hours-minutes",
                vec![("hours", h.into()), ("minutes", m.into())],
            ),
            (d, 0, _) => ("time-left-days", vec![("days", d.into())]),
            (d, h, _) => (
                "time-left-days-hours",
                vec![("days", d.into()), ("hours", h.into())],
            ),
        };
        self.format(lang, id, &args)
    }

    /// A moment of this year, short: «3 желтоқсан 14:05», «3 декабря 14:05».
    pub fn day_month_time(&self, lang: Language, at: DateTime<Utc>, tz: Tz) -> String {
        let local = at.with_timezone(&tz);
        format!(
            "{} {}",
            self.day_month(lang, local.date_naive()),
            local.format("%H:%M")
        )
    }
}

/// A moment for an SMS, where every character counts: «30.11 15:07», local time.
pub fn sms_date_time(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%d.%m %H:%M").to_string()
}
