//! Records as the rest of Kabinet reads them. Vocabulary columns decode straight into their
//! domain types, so a screen never handles a raw status string.

use chrono::{DateTime, NaiveDate, Utc};

use super::direct::{DecodeError, FromDirectRow, direct_row};
use crate::domain::{
    ApplicationKind, ApplicationStatus, AttendanceStatus, EventKind, InstitutionKind, Language,
    PortalText, Privilege, ReferralStatus,
};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Locality {
    pub code: String,
    pub name_kk: String,
    pub name_ru: String,
}

impl Locality {
    pub fn name(&self, lang: Language) -> &str {
        match lang {
            Language::Kk => &self.name_kk,
            Language::Ru => &self.name_ru,
        }
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Institution {
    pub id: String,
    pub locality: String,
    pub kind: InstitutionKind,
    pub name_kk: String,
    pub name_ru: String,
    pub address: PortalText,
}

impl Institution {
    pub fn name(&self, lang: Language) -> &str {
        match lang {
            Language::Kk => &self.name_kk,
            Language::Ru => &self.name_ru,
        }
    }
}

/// A parent's cabinet. The IIN and phone stay strings here: they were validated on the way in,
/// and they are shown only masked.
#[derive(Clone, sqlx::FromRow)]
pub struct Cabinet {
    pub id: i64,
    pub locality: String,
    pub iin: String,
    pub full_name: String,
    pub phone: String,
    pub email: Option<String>,
    pub language: Language,
    pub password_hash: Option<String>,
    pub notify_telegram: bool,
    pub notify_sms: bool,
    pub notify_email: bool,
    pub failed_logins: i64,
    pub lockouts: i64,
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// When the parent agreed to the processing of personal data, if asked.
    pub consented_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Cabinet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Personal data stays out of debug output and therefore out of logs.
        f.debug_struct("Cabinet")
            .field("id", &self.id)
            .field("locality", &self.locality)
            .field("has_password", &self.password_hash.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Child {
    pub iin: String,
    pub full_name: String,
    pub birth_date: NaiveDate,
}

/// A line of the applications list.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ApplicationSummary {
    pub id: i64,
    pub number: String,
    pub child_iin: String,
    pub child_name: String,
    pub kind: ApplicationKind,
    pub status: ApplicationStatus,
    pub queue_position: Option<i64>,
    pub submitted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Application {
    pub id: i64,
    pub number: String,
    pub cabinet_id: i64,
    pub child_iin: String,
    pub child_name: String,
    pub child_birth_date: NaiveDate,
    pub locality: String,
    pub kind: ApplicationKind,
    pub desired_date: NaiveDate,
    pub language: Language,
    pub privilege: Option<Privilege>,
    pub submitted_at: DateTime<Utc>,
    pub status: ApplicationStatus,
    pub queue_position: Option<i64>,
    pub status_changed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct HistoryEntry {
    pub status: ApplicationStatus,
    pub changed_at: DateTime<Utc>,
    pub comment: Option<PortalText>,
    pub queue_position: Option<i64>,
}

/// Everything the application card shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplicationCard {
    pub application: Application,
    /// In order of preference.
    pub institutions: Vec<Institution>,
    /// Oldest first.
    pub history: Vec<HistoryEntry>,
    pub referral_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Referral {
    pub id: i64,
    pub number: String,
    pub application_id: i64,
    pub application_number: String,
    pub child_name: String,
    pub institution_id: String,
    pub institution_name_kk: String,
    pub institution_name_ru: String,
    pub institution_address: PortalText,
    pub group_name: PortalText,
    pub issued_at: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub status: ReferralStatus,
}

impl Referral {
    /// The status as of `now`: an active referral whose date has passed is expired, even
    /// before the portal (or the expiry job) says so.
    pub fn status_at(&self, now: DateTime<Utc>) -> ReferralStatus {
        match self.status {
            ReferralStatus::Active if self.valid_until <= now => ReferralStatus::Expired,
            status => status,
        }
    }

    pub fn institution_name(&self, lang: Language) -> &str {
        match lang {
            Language::Kk => &self.institution_name_kk,
            Language::Ru => &self.institution_name_ru,
        }
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Club {
    pub id: String,
    pub name_kk: String,
    pub name_ru: String,
    pub teacher: String,
    pub schedule: PortalText,
}

impl Club {
    pub fn name(&self, lang: Language) -> &str {
        match lang {
            Language::Kk => &self.name_kk,
            Language::Ru => &self.name_ru,
        }
    }
}

/// A child's personal file: the child, where they study, and their clubs.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildFile {
    pub child: Child,
    /// `None` until the portal has sent the file.
    pub placement: Option<Placement>,
    pub clubs: Vec<Club>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Placement {
    pub institution_id: String,
    pub institution_name_kk: String,
    pub institution_name_ru: String,
    pub group_name: PortalText,
    pub opened_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AttendanceDay {
    pub day: NaiveDate,
    pub status: AttendanceStatus,
    pub note: Option<PortalText>,
}

/// An entry of the event feed.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Event {
    pub id: i64,
    pub cabinet_id: i64,
    pub kind: EventKind,
    pub application_id: Option<i64>,
    pub referral_id: Option<i64>,
    pub child_iin: Option<String>,
    /// JSON: what the texts need (status reached, comment, club …).
    pub details: String,
    pub occurred_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    pub application_number: Option<String>,
    pub referral_number: Option<String>,
    /// The full name of the child the event concerns.
    pub child_name: Option<String>,
    /// An announcement's texts (the department's own words, in each language).
    pub announcement_kk: Option<String>,
    pub announcement_ru: Option<String>,
    /// The question the event is about.
    pub question_id: Option<i64>,
}

impl Event {
    /// The last reminder of a question: it sounds even in quiet hours.
    pub fn sounds_always(&self) -> bool {
        self.kind == crate::domain::EventKind::QuestionReminder
            && serde_json::from_str::<serde_json::Value>(&self.details)
                .is_ok_and(|d| d["loud"] == serde_json::Value::Bool(true))
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Delivery {
    pub id: i64,
    pub event_id: i64,
    pub channel: crate::domain::Channel,
    pub chat_id: Option<i64>,
    pub address: Option<String>,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
}

/// One page of a list, with how many the whole list holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The page shown, counted from 0: the last page when the one asked for is past the end
    /// (the list shrank since its button was drawn).
    pub number: i64,
    pub total: i64,
}

/// A row of a page, with the list's total alongside (a `(SELECT COUNT(*) …) AS total`
/// column, evaluated once per query), so a page and its count take one round trip.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct Counted<T> {
    #[sqlx(flatten)]
    pub item: T,
    pub total: i64,
}

direct_row!(Locality {
    code,
    name_kk,
    name_ru
});
direct_row!(Institution {
    id,
    locality,
    kind,
    name_kk,
    name_ru,
    address
});
direct_row!(Cabinet {
    id,
    locality,
    iin,
    full_name,
    phone,
    email,
    language,
    password_hash,
    notify_telegram,
    notify_sms,
    notify_email,
    failed_logins,
    lockouts,
    locked_until,
    created_at,
    consented_at,
});
direct_row!(Child {
    iin,
    full_name,
    birth_date
});
direct_row!(ApplicationSummary {
    id,
    number,
    child_iin,
    child_name,
    kind,
    status,
    queue_position,
    submitted_at,
});
direct_row!(Application {
    id,
    number,
    cabinet_id,
    child_iin,
    child_name,
    child_birth_date,
    locality,
    kind,
    desired_date,
    language,
    privilege,
    submitted_at,
    status,
    queue_position,
    status_changed_at,
});
direct_row!(HistoryEntry {
    status,
    changed_at,
    comment,
    queue_position
});
direct_row!(Referral {
    id,
    number,
    application_id,
    application_number,
    child_name,
    institution_id,
    institution_name_kk,
    institution_name_ru,
    institution_address,
    group_name,
    issued_at,
    valid_until,
    status,
});
direct_row!(Club {
    id,
    name_kk,
    name_ru,
    teacher,
    schedule
});
direct_row!(Placement {
    institution_id,
    institution_name_kk,
    institution_name_ru,
    group_name,
    opened_on
});
direct_row!(AttendanceDay { day, status, note });
direct_row!(Event {
    id,
    cabinet_id,
    kind,
    application_id,
    referral_id,
    child_iin,
    details,
    occurred_at,
    read_at,
    application_number,
    referral_number,
    child_name,
    announcement_kk,
    announcement_ru,
    question_id,
});

impl<T: FromDirectRow> FromDirectRow for Counted<T> {
    fn from_row(row: &rusqlite::Row<'_>) -> Result<Self, DecodeError> {
        Ok(Counted {
            item: T::from_row(row)?,
            total: super::direct::get(row, "total")?,
        })
    }
}

impl<T> Page<T> {
    /// Reads page `number` of `per_page` rows with `fetch(offset)`; past the end, the last page.
    pub(crate) async fn read<F, Fut, E>(number: i64, per_page: i64, fetch: F) -> Result<Page<T>, E>
    where
        F: Fn(i64) -> Fut,
        Fut: std::future::Future<Output = Result<Vec<Counted<T>>, E>>,
    {
        let number = number.max(0);
        let rows = fetch(number * per_page).await?;
        if !rows.is_empty() || number == 0 {
            return Ok(Page::from_rows(number, rows));
        }
        // Past the end: the first page tells the total, then the last page is read.
        let first = fetch(0).await?;
        let total = first.first().map_or(0, |r| r.total);
        let last = ((total - 1) / per_page).max(0);
        let rows = if last == 0 {
            first
        } else {
            fetch(last * per_page).await?
        };
        Ok(Page::from_rows(last, rows))
    }

    /// [`Page::read`] with reads answered at once (the direct SQLite connection); `None` when
    /// one of them was not.
    pub(crate) fn read_now<F>(number: i64, per_page: i64, fetch: F) -> Option<Page<T>>
    where
        F: Fn(i64) -> Option<Vec<Counted<T>>>,
    {
        use futures::FutureExt;
        Page::read(number, per_page, |offset| {
            std::future::ready(fetch(offset).ok_or(()))
        })
        .now_or_never()?
        .ok()
    }

    fn from_rows(number: i64, rows: Vec<Counted<T>>) -> Page<T> {
        let total = rows.first().map_or(0, |r| r.total);
        Page {
            items: rows.into_iter().map(|r| r.item).collect(),
            number,
            total,
        }
    }

    /// How many pages the list fills (at least one, for the «empty» screen).
    pub fn pages(&self, per_page: i64) -> i64 {
        ((self.total + per_page - 1) / per_page).max(1)
    }
}
