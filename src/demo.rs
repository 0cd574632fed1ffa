//! The demo data set (`demo/demo.json`, in the import shape of SPEC §3) and its loader, used
//! by `kabinet demo` and by the tests.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use serde_json::Value;

use crate::ingest::{ImportReport, import_document};
use crate::storage::{Storage, StorageError};

/// The demo document, embedded so `kabinet demo` needs no files beside the binary.
pub const DEMO_JSON: &str = include_str!("../demo/demo.json");

/// A demo parent, for the README and for `kabinet demo`'s welcome text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoParent {
    pub locality: String,
    pub iin: String,
    pub full_name: String,
}

/// The day the demo document was written for (a Wednesday): its referral was issued
/// yesterday and is due tomorrow, its queue moved last week, its attendance runs to
/// yesterday.
pub const REFERENCE_DATE: NaiveDate = NaiveDate::from_ymd_opt(2026, 11, 25).expect("a valid date");

/// Fields of the document that hold moments of the story, moved day for day (birth dates
/// stay put: the IIN encodes them).
const STORY_FIELDS: [&str; 5] = [
    "submitted_at",
    "changed_at",
    "issued_at",
    "valid_until",
    "deadline",
];

/// The month of an attendance sheet (`YYYY-MM`): moved by whole months.
const MONTH_FIELD: &str = "month";

/// Fields tied to the school calendar (1 September): moved by whole years only.
const CALENDAR_FIELDS: [&str; 2] = ["desired_date", "opened_at"];

/// Attendance days: moved by school days, so a weekday stays a weekday.
const SCHOOL_DAY_FIELD: &str = "date";

pub fn document() -> Value {
    serde_json::from_str(DEMO_JSON).expect("demo/demo.json is valid JSON (tested)")
}

/// How far the demo moves to look, on `today`, as it did on [`REFERENCE_DATE`].
#[derive(Debug, Clone, Copy)]
struct Shift {
    days: i64,
    school_days: i64,
    years: u32,
    months: i32,
}

impl Shift {
    fn to(today: NaiveDate) -> Shift {
        let days = (today - REFERENCE_DATE).num_days();
        let school_days = school_day_index(last_school_day_before(today))
            - school_day_index(last_school_day_before(REFERENCE_DATE));
        let month_index = |d: NaiveDate| d.year() * 12 + d.month0() as i32;
        Shift {
            days,
            school_days,
            years: u32::try_from(days.div_euclid(365)).unwrap_or(0),
            months: month_index(today) - month_index(REFERENCE_DATE),
        }
    }

    fn date(&self, field: &str, date: NaiveDate) -> NaiveDate {
        if field == SCHOOL_DAY_FIELD && date.weekday().num_days_from_monday() < 5 {
            school_day(school_day_index(date) + self.school_days)
        } else if CALENDAR_FIELDS.contains(&field) {
            date.checked_add_months(Months::new(12 * self.years))
                .unwrap_or(date)
        } else {
            date + Duration::days(self.days)
        }
    }
}

/// Mondays to Fridays counted from the Monday 2001-01-01: Monday 0, Friday 4, next Monday 5.
fn school_day_index(date: NaiveDate) -> i64 {
    let since = (date - SCHOOL_EPOCH).num_days();
    let weekday = i64::from(date.weekday().num_days_from_monday()).min(4);
    since.div_euclid(7) * 5 + weekday
}

fn school_day(index: i64) -> NaiveDate {
    SCHOOL_EPOCH + Duration::days(index.div_euclid(5) * 7 + index.rem_euclid(5))
}

const SCHOOL_EPOCH: NaiveDate = NaiveDate::from_ymd_opt(2001, 1, 1).expect("a Monday");

/// The last Monday-to-Friday before `date`.
fn last_school_day_before(date: NaiveDate) -> NaiveDate {
    let mut day = date - Duration::days(1);
    while day.weekday().num_days_from_monday() >= 5 {
        day -= Duration::days(1);
    }
    day
}

/// The document moved so that, on `today`, the demo reads as it did on [`REFERENCE_DATE`]:
/// the referral issued yesterday is due tomorrow, the queue moved five days ago, and the
/// attendance runs to the last school day before today.
pub fn document_for(today: NaiveDate) -> Value {
    let mut doc = document();
    shift(&mut doc, Shift::to(today));
    doc
}

fn shift(value: &mut Value, by: Shift) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(s) if STORY_FIELDS.contains(&key.as_str()) => {
                        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                            *s = (t + Duration::days(by.days)).to_rfc3339();
                        }
                    }
                    Value::String(s) if key == MONTH_FIELD => {
                        if let Ok(d) = NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d") {
                            let moved = if by.months >= 0 {
                                d.checked_add_months(Months::new(by.months as u32))
                            } else {
                                d.checked_sub_months(Months::new(by.months.unsigned_abs()))
                            };
                            *s = moved.unwrap_or(d).format("%Y-%m").to_string();
                        }
                    }
                    Value::String(s)
                        if CALENDAR_FIELDS.contains(&key.as_str()) || key == SCHOOL_DAY_FIELD =>
                    {
                        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                            *s = by.date(key, d).format("%Y-%m-%d").to_string();
                        }
                    }
                    other => shift(other, by),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| shift(v, by)),
        _ => {}
    }
}

/// Loads the demo data into `storage` (migrated), moved to the day of `now`. Fails if any
/// record is refused: the demo set must always load whole.
pub async fn load(storage: &Storage, now: DateTime<Utc>) -> Result<ImportReport, StorageError> {
    // The story is told in Kazakhstan's time (UTC+5), as the document's own times are.
    let local = chrono::FixedOffset::east_opt(5 * 3600).expect("a valid offset");
    let doc = document_for(now.with_timezone(&local).date_naive());
    let report = import_document(storage, &doc, now, |_| {}).await?;
    if let Some((path, reason)) = report.failures.first() {
        return Err(StorageError::Corrupt(format!(
            "demo data refused at {path}: {reason}"
        )));
    }
    Ok(report)
}

/// The parents of the demo data, one per application's parent, in document order.
pub fn parents() -> Vec<DemoParent> {
    let doc = document();
    let mut out: Vec<DemoParent> = Vec::new();
    for app in doc["applications"].as_array().into_iter().flatten() {
        let parent = DemoParent {
            locality: app["locality"].as_str().unwrap_or_default().to_owned(),
            iin: app["parent"]["iin"].as_str().unwrap_or_default().to_owned(),
            full_name: app["parent"]["full_name"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        };
        if !out.contains(&parent) {
            out.push(parent);
        }
    }
    out
}
