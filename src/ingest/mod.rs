//! What the portal sends, checked and written: the one code path behind the integration API
//! and `kabinet import`. Parsing turns JSON into domain records, naming every bad field;
//! writing goes through [`Storage`]'s idempotent upserts.

mod fields;

use chrono::{DateTime, Utc};
use serde_json::Value;

pub use fields::{Errors, FieldError, Fields, Invalid, parse_date, parse_time};

use crate::domain::{
    ApplicationKind, ApplicationStatus, AttendanceStatus, Email, Iin, InstitutionKind, Language,
    LocalityCode, Phone, PortalId, Privilege, ReferralStatus,
};
use crate::storage::{
    AnnouncementPost, ApplicationUpsert, AttendanceRecord, Audience, ChildData, ChildFileUpsert,
    ClubUpsert, InstitutionUpsert, LocalityUpsert, ParentData, ReferralUpsert, StatusChange,
    Storage, StorageError,
};

pub const NAME_MAX: usize = 300;
pub const ADDRESS_MAX: usize = 500;
pub const GROUP_MAX: usize = 100;
pub const COMMENT_MAX: usize = 1000;
pub const NOTE_MAX: usize = 500;
pub const MAX_PREFERENCES: usize = 10;
pub const MAX_ATTENDANCE_RECORDS: usize = 400;
/// An announcement's text in one language: one Telegram message with its heading.
pub const ANNOUNCEMENT_MAX: usize = 3000;
pub const MAX_AUDIENCE_INSTITUTIONS: usize = 200;

// The API takes ids as the OpenAPI document's patterns say, exactly: the portal is a
// program, and a space or a capital letter it sends is a bug to learn of, not to guess past
// (the bot is lenient with what parents type; the portal gets no such reading).

/// A locality code: lower-case latin letters, digits, `_` and `-`.
pub fn locality_code(s: &str) -> Result<LocalityCode, String> {
    let code = LocalityCode::parse(s).map_err(|e| e.to_string())?;
    if code.as_str() != s {
        return Err(format!(
            "must be written in lower case with no spaces: {:?}",
            code.as_str()
        ));
    }
    Ok(code)
}

/// A portal id: latin letters, digits, `-`, `_` and `.`, no spaces.
pub fn portal_id(s: &str) -> Result<PortalId, String> {
    let id = PortalId::parse(s).map_err(|e| e.to_string())?;
    if id.as_str() != s {
        return Err("must not begin or end with a space".into());
    }
    Ok(id)
}

/// An IIN: exactly 12 digits, the control digit right.
pub fn iin(s: &str) -> Result<Iin, String> {
    if !s.bytes().all(|b| b.is_ascii_digit()) && Iin::parse(s).is_ok() {
        return Err("must be 12 digits with nothing between them".into());
    }
    Iin::parse(s).map_err(|e| e.to_string())
}
fn vocabulary<T>(
    parse: fn(&str) -> Result<T, crate::domain::UnknownName>,
) -> impl Fn(&str) -> Result<T, String> {
    move |s| parse(s).map_err(|e| format!("{:?} is not one of: {}", e.value, e.accepted))
}

/// The ids of an array's items (each named where it is bad or listed twice).
fn portal_ids(items: Vec<(String, &Value)>, e: &mut Errors) -> Vec<PortalId> {
    let mut ids = Vec::new();
    for (item_path, item) in items {
        match item.as_str().map(portal_id) {
            Some(Ok(id)) if ids.contains(&id) => e.push(item_path, "is listed twice"),
            Some(Ok(id)) => ids.push(id),
            Some(Err(p)) => e.push(item_path, p),
            None => e.push(item_path, "must be a string"),
        }
    }
    ids
}

/// A key that travels in the URL path (`/localities/{code}`) or in the record itself.
fn key<T>(value: &str, field: &str, parse: fn(&str) -> Result<T, String>) -> Result<T, Invalid> {
    parse(value).map_err(|p| Invalid::one(field, p))
}

pub fn parse_locality(code: &str, body: &Value, path: &str) -> Result<LocalityUpsert, Invalid> {
    let mut e = Errors::default();
    let code = locality_code(code).map_err(|p| e.push("code", p)).ok();
    let f = Fields::new(body, path, &mut e);
    let name_kk = f.text("name_kk", NAME_MAX, &mut e);
    let name_ru = f.text("name_ru", NAME_MAX, &mut e);
    e.finish(|| {
        Some(LocalityUpsert {
            code: code?,
            name_kk: name_kk?,
            name_ru: name_ru?,
        })
    })
}

pub fn parse_institution(id: &str, body: &Value, path: &str) -> Result<InstitutionUpsert, Invalid> {
    let mut e = Errors::default();
    let id = portal_id(id).map_err(|p| e.push("id", p)).ok();
    let f = Fields::new(body, path, &mut e);
    let locality = f.parse("locality", &mut e, locality_code);
    let kind = f.parse("kind", &mut e, vocabulary(InstitutionKind::parse));
    let name_kk = f.text("name_kk", NAME_MAX, &mut e);
    let name_ru = f.text("name_ru", NAME_MAX, &mut e);
    let address = f.portal_text("address", ADDRESS_MAX, &mut e);
    e.finish(|| {
        Some(InstitutionUpsert {
            id: id?,
            locality: locality?,
            kind: kind?,
            name_kk: name_kk?,
            name_ru: name_ru?,
            address: address?,
        })
    })
}

pub fn parse_application(
    number: &str,
    body: &Value,
    path: &str,
) -> Result<ApplicationUpsert, Invalid> {
    let mut e = Errors::default();
    let number = portal_id(number).map_err(|p| e.push("number", p)).ok();
    let f = Fields::new(body, path, &mut e);
    let locality = f.parse("locality", &mut e, locality_code);

    let parent = f.object("parent", &mut e).and_then(|p| {
        let iin = p.parse("iin", &mut e, iin);
        let full_name = p.text("full_name", NAME_MAX, &mut e);
        let phone = p.parse("phone", &mut e, |s| {
            Phone::parse(s).map_err(|e| e.to_string())
        });
        let email = p.optional("email", &mut e, |s| {
            Email::parse(s).map_err(|e| e.to_string())
        });
        Some(ParentData {
            iin: iin?,
            full_name: full_name?,
            phone: phone?,
            email: email?,
        })
    });
    let child = f.object("child", &mut e).and_then(|c| {
        let iin = c.parse("iin", &mut e, iin);
        let full_name = c.text("full_name", NAME_MAX, &mut e);
        let birth_date = c.date("birth_date", &mut e);
        if let (Some(iin), Some(birth)) = (&iin, birth_date)
            && iin.birth_date() != birth
        {
            e.push(
                c.path_of("birth_date"),
                "differs from the birth date the child's IIN encodes",
            );
        }
        Some(ChildData {
            iin: iin?,
            full_name: full_name?,
            birth_date: birth_date?,
        })
    });
    if let (Some(p), Some(c)) = (&parent, &child)
        && p.iin == c.iin
    {
        e.push(f.path_of("child.iin"), "is the parent's IIN");
    }
    let kind = f.parse("kind", &mut e, vocabulary(ApplicationKind::parse));
    let institutions = f.array("institutions", &mut e).and_then(|items| {
        if items.is_empty() || items.len() > MAX_PREFERENCES {
            e.push(
                f.path_of("institutions"),
                format!("must list 1 to {MAX_PREFERENCES} institutions"),
            );
            return None;
        }
        Some(portal_ids(items, &mut e))
    });
    let desired_date = f.date("desired_date", &mut e);
    let language = f.parse("language", &mut e, |s| {
        Language::parse(s).map_err(|_| format!("{s:?} is not one of: kk, ru"))
    });
    let privilege = f.optional("privilege", &mut e, vocabulary(Privilege::parse));
    let submitted_at = f.time("submitted_at", &mut e);
    let status = f.parse("status", &mut e, vocabulary(ApplicationStatus::parse));
    let queue_position = f.optional_int("queue_position", 1, &mut e);
    e.finish(|| {
        Some(ApplicationUpsert {
            number: number?,
            locality: locality?,
            parent: parent?,
            child: child?,
            kind: kind?,
            institutions: institutions?,
            desired_date: desired_date?,
            language: language?,
            privilege: privilege?,
            submitted_at: submitted_at?,
            status: status?,
            queue_position: queue_position?,
        })
    })
}

pub fn parse_status_change(body: &Value, path: &str) -> Result<StatusChange, Invalid> {
    let mut e = Errors::default();
    let f = Fields::new(body, path, &mut e);
    let event_id = f.parse("event_id", &mut e, portal_id);
    let status = f.parse("status", &mut e, vocabulary(ApplicationStatus::parse));
    let changed_at = f.time("changed_at", &mut e);
    let comment = f.optional_portal_text("comment", COMMENT_MAX, &mut e);
    let queue_position = f.optional_int("queue_position", 1, &mut e);
    e.finish(|| {
        Some(StatusChange {
            event_id: event_id?,
            status: status?,
            changed_at: changed_at?,
            comment: comment?,
            queue_position: queue_position?,
        })
    })
}

pub fn parse_referral(number: &str, body: &Value, path: &str) -> Result<ReferralUpsert, Invalid> {
    let mut e = Errors::default();
    let number = portal_id(number).map_err(|p| e.push("number", p)).ok();
    let f = Fields::new(body, path, &mut e);
    let application = f.parse("application", &mut e, portal_id);
    let institution = f.parse("institution", &mut e, portal_id);
    let group = f.portal_text("group", GROUP_MAX, &mut e);
    let issued_at = f.time("issued_at", &mut e);
    let valid_until = f.time("valid_until", &mut e);
    if let (Some(issued), Some(until)) = (issued_at, valid_until)
        && until <= issued
    {
        e.push(f.path_of("valid_until"), "must be after issued_at");
    }
    let status = f.parse("status", &mut e, vocabulary(ReferralStatus::parse));
    e.finish(|| {
        Some(ReferralUpsert {
            number: number?,
            application: application?,
            institution: institution?,
            group: group?,
            issued_at: issued_at?,
            valid_until: valid_until?,
            status: status?,
        })
    })
}

pub fn parse_child_file(
    child_iin: &str,
    body: &Value,
    path: &str,
) -> Result<ChildFileUpsert, Invalid> {
    let mut e = Errors::default();
    let child_iin = iin(child_iin).map_err(|p| e.push("iin", p)).ok();
    let f = Fields::new(body, path, &mut e);
    let institution = f.parse("institution", &mut e, portal_id);
    let group = f.portal_text("group", GROUP_MAX, &mut e);
    let opened_on = f.date("opened_at", &mut e);
    let clubs = f.array("clubs", &mut e).map(|items| {
        let mut clubs: Vec<ClubUpsert> = Vec::new();
        for (item_path, item) in items {
            let c = Fields::new(item, &item_path, &mut e);
            let id = c.parse("id", &mut e, portal_id);
            let name_kk = c.text("name_kk", NAME_MAX, &mut e);
            let name_ru = c.text("name_ru", NAME_MAX, &mut e);
            let teacher = c.text("teacher", NAME_MAX, &mut e);
            let schedule = c.portal_text("schedule", NAME_MAX, &mut e);
            if let Some(id) = &id
                && clubs.iter().any(|c| &c.id == id)
            {
                e.push(c.path_of("id"), "is listed twice");
            }
            if let (Some(id), Some(name_kk), Some(name_ru), Some(teacher), Some(schedule)) =
                (id, name_kk, name_ru, teacher, schedule)
            {
                clubs.push(ClubUpsert {
                    id,
                    name_kk,
                    name_ru,
                    teacher,
                    schedule,
                });
            }
        }
        clubs
    });
    e.finish(|| {
        Some(ChildFileUpsert {
            child_iin: child_iin?,
            institution: institution?,
            group: group?,
            opened_on: opened_on?,
            clubs: clubs?,
        })
    })
}

pub fn parse_attendance(
    child_iin: &str,
    body: &Value,
    path: &str,
) -> Result<(Iin, Vec<AttendanceRecord>), Invalid> {
    let mut e = Errors::default();
    let child_iin = iin(child_iin).map_err(|p| e.push("iin", p)).ok();
    let f = Fields::new(body, path, &mut e);
    let records = f.array("records", &mut e).map(|items| {
        if items.len() > MAX_ATTENDANCE_RECORDS {
            e.push(
                f.path_of("records"),
                format!("must hold at most {MAX_ATTENDANCE_RECORDS} days a request"),
            );
        }
        let mut records: Vec<AttendanceRecord> = Vec::new();
        for (item_path, item) in items {
            let r = Fields::new(item, &item_path, &mut e);
            let day = r.date("date", &mut e);
            let status = r.parse("status", &mut e, vocabulary(AttendanceStatus::parse));
            let note = r.optional_portal_text("note", NOTE_MAX, &mut e);
            if let Some(day) = day
                && records.iter().any(|r| r.day == day)
            {
                e.push(r.path_of("date"), "is listed twice");
            }
            if let (Some(day), Some(status), Some(note)) = (day, status, note) {
                records.push(AttendanceRecord { day, status, note });
            }
        }
        records
    });
    e.finish(|| Some((child_iin?, records?)))
}

pub fn parse_announcement(id: &str, body: &Value, path: &str) -> Result<AnnouncementPost, Invalid> {
    let mut e = Errors::default();
    let id = portal_id(id).map_err(|p| e.push("id", p)).ok();
    let f = Fields::new(body, path, &mut e);
    let text_kk = f.text("text_kk", ANNOUNCEMENT_MAX, &mut e);
    let text_ru = f.text("text_ru", ANNOUNCEMENT_MAX, &mut e);
    let silent = f.optional_bool("silent", &mut e);
    let audience = f.object("audience", &mut e).and_then(|a| {
        a.refuse_unknown(
            &[
                "locality",
                "institutions",
                "application_kind",
                "application_status",
            ],
            &mut e,
        );
        let locality = a.optional("locality", &mut e, locality_code);
        let institutions = a.optional_array("institutions", &mut e).map(|items| {
            let items = items.unwrap_or_default();
            if items.len() > MAX_AUDIENCE_INSTITUTIONS {
                e.push(
                    a.path_of("institutions"),
                    format!("must list at most {MAX_AUDIENCE_INSTITUTIONS} institutions"),
                );
            }
            portal_ids(items, &mut e)
        });
        let kind = a.optional(
            "application_kind",
            &mut e,
            vocabulary(ApplicationKind::parse),
        );
        let status = a.optional(
            "application_status",
            &mut e,
            vocabulary(ApplicationStatus::parse),
        );
        let audience = Audience {
            locality: locality?,
            institutions: institutions?,
            application_kind: kind?,
            application_status: status?,
        };
        if audience.locality.is_none()
            && audience.institutions.is_empty()
            && audience.application_kind.is_none()
            && audience.application_status.is_none()
        {
            e.push(
                f.path_of("audience"),
                "must name a locality, institutions, an application_kind or an application_status",
            );
            return None;
        }
        Some(audience)
    });
    e.finish(|| {
        Some(AnnouncementPost {
            id: id?,
            text_kk: text_kk?,
            text_ru: text_ru?,
            audience: audience?,
            silent: silent?.unwrap_or(false),
        })
    })
}

/// A question's text in one language.
pub const QUESTION_TEXT_MAX: usize = 1000;
/// What happens without an answer, in one language.
pub const IF_UNANSWERED_MAX: usize = 500;
/// An option's label: one button.
pub const OPTION_LABEL_MAX: usize = 60;

/// A month, `YYYY-MM`, as its first day.
pub fn parse_month(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d")
        .ok()
        .filter(|_| s.len() == 7)
        .ok_or_else(|| "must be a month YYYY-MM".into())
}

/// A question as the portal puts it (SPEC §3). `not_before`: its deadline must be after it
/// (the API's «now»; an import of history takes questions already past).
pub fn parse_question(
    id: &str,
    body: &Value,
    path: &str,
    not_before: Option<DateTime<Utc>>,
) -> Result<crate::domain::QuestionPost, Invalid> {
    use crate::domain::{
        CommentRule, MAX_OPTIONS, MIN_OPTIONS, OptionCode, QuestionContent, QuestionKind,
        QuestionOption, QuestionPost, QuestionTarget,
    };
    let mut e = Errors::default();
    let id = portal_id(id).map_err(|p| e.push("id", p)).ok();
    let f = Fields::new(body, path, &mut e);
    let kind = f.parse("kind", &mut e, vocabulary(QuestionKind::parse));
    let application = f.optional("application", &mut e, portal_id);
    let child = f.optional("child", &mut e, iin);
    let month = f.optional("month", &mut e, parse_month);
    let text_kk = f.text("text_kk", QUESTION_TEXT_MAX, &mut e);
    let text_ru = f.text("text_ru", QUESTION_TEXT_MAX, &mut e);
    let deadline = f.time("deadline", &mut e).and_then(|d| {
        if not_before.is_some_and(|now| d <= now) {
            e.push(f.path_of("deadline"), "is not in the future");
            None
        } else {
            Some(d)
        }
    });
    let if_unanswered_kk = f.optional_text("if_unanswered_kk", IF_UNANSWERED_MAX, &mut e);
    let if_unanswered_ru = f.optional_text("if_unanswered_ru", IF_UNANSWERED_MAX, &mut e);
    let options = f.array("options", &mut e).and_then(|items| {
        if !(MIN_OPTIONS..=MAX_OPTIONS).contains(&items.len()) {
            e.push(
                f.path_of("options"),
                format!("must hold {MIN_OPTIONS} to {MAX_OPTIONS} options"),
            );
        }
        let mut options: Vec<QuestionOption> = Vec::new();
        let mut whole = true;
        for (item_path, item) in items {
            let o = Fields::new(item, &item_path, &mut e);
            let code = o.parse("code", &mut e, OptionCode::parse);
            let label_kk = o.text("label_kk", OPTION_LABEL_MAX, &mut e);
            let label_ru = o.text("label_ru", OPTION_LABEL_MAX, &mut e);
            let destructive = o.optional_bool("destructive", &mut e);
            let comment = o.optional("comment", &mut e, vocabulary(CommentRule::parse));
            match (code, label_kk, label_ru, destructive, comment) {
                (Some(code), _, _, _, _) if options.iter().any(|x| x.code == code) => {
                    e.push(o.path_of("code"), "is listed twice");
                    whole = false;
                }
                (Some(code), Some(label_kk), Some(label_ru), Some(destructive), Some(comment)) => {
                    options.push(QuestionOption {
                        code,
                        label_kk,
                        label_ru,
                        destructive: destructive.unwrap_or(false),
                        comment: comment.unwrap_or(CommentRule::None),
                    });
                }
                _ => whole = false,
            }
        }
        whole.then_some(options)
    });
    // What it concerns: an application, or a child (with the month for an attendance sheet).
    let target = match (application, child, month, kind) {
        (Some(application), Some(child), Some(month), Some(kind)) => match (application, child) {
            (Some(_), Some(_)) => {
                e.push(
                    f.path_of("child"),
                    "goes without application: name one of them",
                );
                None
            }
            (None, None) => {
                e.push(
                    f.path_of("application"),
                    "or child is required: what the question concerns",
                );
                None
            }
            (Some(_), None) if month.is_some() => {
                e.push(f.path_of("month"), "goes with child (an attendance sheet)");
                None
            }
            (_, _) if kind == QuestionKind::AttendanceApproval && (month.is_none()) => {
                e.push(
                    f.path_of("month"),
                    "is required for attendance_approval, with child",
                );
                None
            }
            (Some(number), None) => Some(QuestionTarget::Application(number)),
            (None, Some(iin)) => Some(QuestionTarget::Child { iin, month }),
        },
        _ => None,
    };
    e.finish(|| {
        Some(QuestionPost {
            id: id?,
            target: target?,
            content: QuestionContent {
                kind: kind?,
                text_kk: text_kk?,
                text_ru: text_ru?,
                deadline: deadline?,
                if_unanswered_kk: if_unanswered_kk?,
                if_unanswered_ru: if_unanswered_ru?,
                options: options?,
            },
        })
    })
}

/// How one record of an import went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    /// Status changes already recorded before (replays).
    pub unchanged: usize,
    /// `(JSON path, reason)` of each record that was not written.
    pub failures: Vec<(String, String)>,
}

impl ImportReport {
    pub fn written(&self) -> usize {
        self.created + self.updated + self.unchanged
    }
}

/// The sections of an import document, in the order they are written (each can refer to
/// the ones before it).
pub const SECTIONS: [&str; 8] = [
    "localities",
    "institutions",
    "applications",
    "status_changes",
    "referrals",
    "files",
    "attendance",
    "questions",
];

/// How many records a document holds, for a progress bar.
pub fn count_records(doc: &Value) -> usize {
    SECTIONS
        .iter()
        .filter_map(|s| doc.get(*s).and_then(Value::as_array))
        .map(Vec::len)
        .sum()
}

/// Writes an import document (SPEC §3's objects, in arrays). Each record is its own
/// transaction: a bad record is reported with its JSON path and skipped, the others are
/// written. Running the same document again changes nothing (every write is an upsert).
/// `progress` is called after each record with the number done so far.
pub async fn import_document(
    storage: &Storage,
    doc: &Value,
    now: DateTime<Utc>,
    mut progress: impl FnMut(usize),
) -> Result<ImportReport, StorageError> {
    let mut report = ImportReport::default();
    let Some(root) = doc.as_object() else {
        report.failures.push((
            "(document)".into(),
            "must be a JSON object with arrays".into(),
        ));
        return Ok(report);
    };
    for key in root.keys() {
        if !SECTIONS.contains(&key.as_str()) {
            report.failures.push((
                key.clone(),
                format!("is not a section; sections: {}", SECTIONS.join(", ")),
            ));
        }
    }
    let mut done = 0;
    for section in SECTIONS {
        let Some(value) = root.get(section) else {
            continue;
        };
        let Some(items) = value.as_array() else {
            report
                .failures
                .push((section.into(), "must be an array".into()));
            continue;
        };
        for (i, item) in items.iter().enumerate() {
            let path = format!("{section}[{i}]");
            let outcome = import_record(storage, section, item, &path, now).await;
            match outcome {
                Ok(Outcome::Created) => report.created += 1,
                Ok(Outcome::Updated) => report.updated += 1,
                Ok(Outcome::Unchanged) => report.unchanged += 1,
                Err(RecordError::Invalid(invalid)) => {
                    for fe in invalid.0 {
                        let field = if fe.field.starts_with(&path) {
                            fe.field
                        } else {
                            format!("{path}.{}", fe.field)
                        };
                        report.failures.push((field, fe.problem));
                    }
                }
                Err(RecordError::Storage(StorageError::MissingReference { field })) => {
                    report.failures.push((
                        format!("{path}.{field}"),
                        "names a record that does not exist".into(),
                    ));
                }
                Err(RecordError::Storage(StorageError::NotFound)) => {
                    report.failures.push((
                        format!("{path}.application"),
                        "names an application that does not exist".into(),
                    ));
                }
                Err(RecordError::Storage(other)) => return Err(other),
            }
            done += 1;
            progress(done);
        }
    }
    Ok(report)
}

enum Outcome {
    Created,
    Updated,
    Unchanged,
}

enum RecordError {
    Invalid(Invalid),
    Storage(StorageError),
}

impl From<Invalid> for RecordError {
    fn from(e: Invalid) -> Self {
        RecordError::Invalid(e)
    }
}
impl From<StorageError> for RecordError {
    fn from(e: StorageError) -> Self {
        RecordError::Storage(e)
    }
}

fn outcome(w: crate::storage::Written) -> Outcome {
    match w {
        crate::storage::Written::Created => Outcome::Created,
        crate::storage::Written::Updated => Outcome::Updated,
    }
}

/// The key of a record in an import document (where the API has it in the URL path).
fn record_key<'a>(item: &'a Value, name: &str, path: &str) -> Result<&'a str, Invalid> {
    item.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| Invalid::one(format!("{path}.{name}"), "is required and must be a string"))
}

async fn import_record(
    storage: &Storage,
    section: &str,
    item: &Value,
    path: &str,
    now: DateTime<Utc>,
) -> Result<Outcome, RecordError> {
    Ok(match section {
        "localities" => {
            let l = parse_locality(record_key(item, "code", path)?, item, path)?;
            outcome(storage.upsert_locality(&l, now).await?)
        }
        "institutions" => {
            let i = parse_institution(record_key(item, "id", path)?, item, path)?;
            outcome(storage.upsert_institution(&i, now).await?)
        }
        "applications" => {
            let a = parse_application(record_key(item, "number", path)?, item, path)?;
            outcome(storage.upsert_application(&a, now).await?.written)
        }
        "status_changes" => {
            let number = key(
                record_key(item, "application", path)?,
                &format!("{path}.application"),
                portal_id,
            )?;
            let change = parse_status_change(item, path)?;
            match storage.record_status_change(&number, &change, now).await? {
                crate::storage::StatusChangeOutcome::Recorded { .. } => Outcome::Created,
                crate::storage::StatusChangeOutcome::Replayed => Outcome::Unchanged,
            }
        }
        "referrals" => {
            let r = parse_referral(record_key(item, "number", path)?, item, path)?;
            outcome(storage.upsert_referral(&r, now).await?.written)
        }
        "files" => {
            let f = parse_child_file(record_key(item, "child", path)?, item, path)?;
            outcome(storage.upsert_child_file(&f, now).await?.written)
        }
        "attendance" => {
            let (child, records) = parse_attendance(record_key(item, "child", path)?, item, path)?;
            storage.upsert_attendance(&child, &records).await?;
            Outcome::Updated
        }
        "questions" => {
            let mut fields = item.clone();
            if let Some(o) = fields.as_object_mut() {
                o.remove("id");
            }
            let q = parse_question(record_key(item, "id", path)?, &fields, path, None)?;
            // Reminders already past are sent once, by the scheduler, as the first one due.
            match storage.put_question(&q, &[], now).await? {
                crate::storage::QuestionPut::Created { .. } => Outcome::Created,
                crate::storage::QuestionPut::Unchanged => Outcome::Unchanged,
                crate::storage::QuestionPut::Differs => {
                    return Err(Invalid::one(
                        format!("{path}.id"),
                        "was put before with other content; a question is not edited",
                    )
                    .into());
                }
                crate::storage::QuestionPut::NoTarget => {
                    return Err(StorageError::MissingReference {
                        field: if item.get("application").is_some() {
                            "application".into()
                        } else {
                            "child".into()
                        },
                    }
                    .into());
                }
            }
        }
        _ => unreachable!("sections are checked by the caller"),
    })
}
