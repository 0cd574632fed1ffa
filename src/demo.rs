//! The demo data set (`demo/demo.json`, in the import shape of SPEC §3) and its loader, used
//! by `kabinet demo` and by the tests.

use chrono::{DateTime, Duration, NaiveDate, Utc};
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

/// The day the demo document was written for: its referral due tomorrow, its queue moved
/// last week.
pub const REFERENCE_DATE: NaiveDate = NaiveDate::from_ymd_opt(2026, 11, 25).expect("a valid date");

/// Fields of the document that hold dates or times of events (birth dates stay put: the
/// IIN encodes them).
const MOVABLE_FIELDS: [&str; 7] = [
    "submitted_at",
    "changed_at",
    "issued_at",
    "valid_until",
    "desired_date",
    "opened_at",
    "date",
];

pub fn document() -> Value {
    serde_json::from_str(DEMO_JSON).expect("demo/demo.json is valid JSON (tested)")
}

/// The document with every event moved by whole weeks so that [`REFERENCE_DATE`] falls in
/// the week of `today`: the demo stays current (a referral still due soon, attendance up to
/// this week) and weekdays stay weekdays.
pub fn document_for(today: NaiveDate) -> Value {
    let weeks = (today - REFERENCE_DATE).num_days().div_euclid(7);
    let mut doc = document();
    if weeks != 0 {
        shift(&mut doc, Duration::weeks(weeks));
    }
    doc
}

fn shift(value: &mut Value, by: Duration) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(s) if MOVABLE_FIELDS.contains(&key.as_str()) => {
                        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                            *s = (t + by).to_rfc3339();
                        } else if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                            *s = (d + by).format("%Y-%m-%d").to_string();
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

/// Loads the demo data into `storage` (migrated), moved to the week of `now`. Fails if any
/// record is refused: the demo set must always load whole.
pub async fn load(storage: &Storage, now: DateTime<Utc>) -> Result<ImportReport, StorageError> {
    let doc = document_for(now.date_naive());
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
