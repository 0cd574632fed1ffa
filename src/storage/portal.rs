//! What the portal writes (through the API or `kabinet import`): idempotent upserts keyed by
//! the portal's own ids, each in one transaction with the events it causes.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

use super::events::record_event;
use super::{NewEvent, Result, Storage, StorageError, in_transaction, reference};
use crate::domain::{
    ApplicationKind, ApplicationStatus, AttendanceStatus, Email, EventKind, Iin, InstitutionKind,
    Language, LocalityCode, Phone, PortalId, PortalText, Privilege, ReferralStatus,
};

/// Whether an upsert created its record or updated one that existed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Created,
    Updated,
}

#[derive(Debug, Clone)]
pub struct LocalityUpsert {
    pub code: LocalityCode,
    pub name_kk: String,
    pub name_ru: String,
}

#[derive(Debug, Clone)]
pub struct InstitutionUpsert {
    pub id: PortalId,
    pub locality: LocalityCode,
    pub kind: InstitutionKind,
    pub name_kk: String,
    pub name_ru: String,
    pub address: PortalText,
}

#[derive(Debug, Clone)]
pub struct ParentData {
    pub iin: Iin,
    pub full_name: String,
    pub phone: Phone,
    pub email: Option<Email>,
}

#[derive(Debug, Clone)]
pub struct ChildData {
    pub iin: Iin,
    pub full_name: String,
    pub birth_date: NaiveDate,
}

#[derive(Debug, Clone)]
pub struct ApplicationUpsert {
    pub number: PortalId,
    pub locality: LocalityCode,
    pub parent: ParentData,
    pub child: ChildData,
    pub kind: ApplicationKind,
    /// Institution ids in order of preference.
    pub institutions: Vec<PortalId>,
    pub desired_date: NaiveDate,
    pub language: Language,
    pub privilege: Option<Privilege>,
    pub submitted_at: DateTime<Utc>,
    pub status: ApplicationStatus,
    pub queue_position: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApplicationWritten {
    pub application_id: i64,
    pub cabinet_id: i64,
    pub written: Written,
    pub cabinet_created: bool,
}

#[derive(Debug, Clone)]
pub struct StatusChange {
    pub event_id: PortalId,
    pub status: ApplicationStatus,
    pub changed_at: DateTime<Utc>,
    pub comment: Option<PortalText>,
    pub queue_position: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChangeOutcome {
    /// A new history row, and the event (the feed and the pushes).
    Recorded { event_id: i64 },
    /// This `event_id` was recorded before: nothing changed.
    Replayed,
}

#[derive(Debug, Clone)]
pub struct ReferralUpsert {
    pub number: PortalId,
    pub application: PortalId,
    pub institution: PortalId,
    pub group: PortalText,
    pub issued_at: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub status: ReferralStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReferralWritten {
    pub referral_id: i64,
    pub written: Written,
    /// The event recorded on issue or on a change of status.
    pub event_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct ClubUpsert {
    pub id: PortalId,
    pub name_kk: String,
    pub name_ru: String,
    pub teacher: String,
    pub schedule: PortalText,
}

#[derive(Debug, Clone)]
pub struct ChildFileUpsert {
    pub child_iin: Iin,
    pub institution: PortalId,
    pub group: PortalText,
    pub opened_on: NaiveDate,
    pub clubs: Vec<ClubUpsert>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileWritten {
    pub written: Written,
    /// Clubs the child was not enrolled in before.
    pub new_clubs: Vec<String>,
    pub events: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct AttendanceRecord {
    pub day: NaiveDate,
    pub status: AttendanceStatus,
    pub note: Option<PortalText>,
}

/// Whether a referral PUT is an old one arriving late: the referral has moved on from
/// `active` (used, expired, revoked) and the PUT would make it active again without a new
/// validity. A referral the portal issues again comes with a later `valid_until`.
fn is_late_retry(
    stored: ReferralStatus,
    stored_until: DateTime<Utc>,
    put: ReferralStatus,
    put_until: DateTime<Utc>,
) -> bool {
    stored != ReferralStatus::Active && put == ReferralStatus::Active && put_until <= stored_until
}

fn written(existed: bool) -> Written {
    if existed {
        Written::Updated
    } else {
        Written::Created
    }
}

impl Storage {
    pub async fn upsert_locality(&self, l: &LocalityUpsert, now: DateTime<Utc>) -> Result<Written> {
        let existed = in_transaction!(self, tx => {
            let existed: Option<i32> = sqlx::query_scalar("SELECT 1 FROM localities WHERE code = $1")
                .bind(l.code.as_str()).fetch_optional(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO localities (code, name_kk, name_ru, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (code) DO UPDATE SET name_kk = excluded.name_kk, name_ru = excluded.name_ru, \
                 updated_at = excluded.updated_at",
            )
            .bind(l.code.as_str()).bind(&l.name_kk).bind(&l.name_ru).bind(now)
            .execute(&mut *tx).await?;
            existed.is_some()
        });
        Ok(written(existed))
    }

    pub async fn upsert_institution(
        &self,
        i: &InstitutionUpsert,
        now: DateTime<Utc>,
    ) -> Result<Written> {
        let existed = in_transaction!(self, tx => {
            let existed: Option<i32> = sqlx::query_scalar("SELECT 1 FROM institutions WHERE id = $1")
                .bind(i.id.as_str()).fetch_optional(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO institutions (id, locality, kind, name_kk, name_ru, address, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (id) DO UPDATE SET locality = excluded.locality, kind = excluded.kind, \
                 name_kk = excluded.name_kk, name_ru = excluded.name_ru, address = excluded.address, \
                 updated_at = excluded.updated_at",
            )
            .bind(i.id.as_str()).bind(i.locality.as_str()).bind(i.kind).bind(&i.name_kk)
            .bind(&i.name_ru).bind(&i.address).bind(now)
            .execute(&mut *tx).await.map_err(reference("locality"))?;
            existed.is_some()
        });
        Ok(written(existed))
    }

    /// Creates or updates an application, and the parent's cabinet with it if this is the
    /// parent's first application in the locality (memo: the cabinet opens automatically).
    ///
    /// `status` and `queue_position` set the application's first state. Later changes come
    /// through [`Storage::record_status_change`], which carries the portal's event id: a
    /// retried or late PUT can then never undo a newer status.
    ///
    /// The parent's phone and e-mail are taken when the cabinet is created; after that the
    /// parent manages them in Settings, and the portal's copies do not overwrite them.
    pub async fn upsert_application(
        &self,
        a: &ApplicationUpsert,
        now: DateTime<Utc>,
    ) -> Result<ApplicationWritten> {
        let out = in_transaction!(self, tx => {
            let locality: Option<i32> = sqlx::query_scalar("SELECT 1 FROM localities WHERE code = $1")
                .bind(a.locality.as_str()).fetch_optional(&mut *tx).await?;
            if locality.is_none() {
                return Err(StorageError::MissingReference { field: "locality".into() });
            }
            for (i, inst) in a.institutions.iter().enumerate() {
                let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM institutions WHERE id = $1")
                    .bind(inst.as_str()).fetch_optional(&mut *tx).await?;
                if found.is_none() {
                    return Err(StorageError::MissingReference { field: format!("institutions[{i}]") });
                }
            }

            // Insert first, look second: of two first applications of one parent written at
            // once, the second insert waits for the first and then does nothing, and the
            // update below finds the cabinet the first one made (no unique violation).
            let created: Option<i64> = sqlx::query_scalar(self.insert_cabinet_sql())
                .bind(a.locality.as_str()).bind(a.parent.iin.as_str()).bind(&a.parent.full_name)
                .bind(a.parent.phone.as_str()).bind(a.parent.email.as_ref().map(Email::as_str))
                .bind(a.language).bind(now)
                .fetch_optional(&mut *tx).await?;
            let (cabinet_id, cabinet_created) = match created {
                Some(id) => (id, true),
                None => {
                    let id: i64 = sqlx::query_scalar(
                        "UPDATE cabinets SET full_name = $1, updated_at = $2 \
                         WHERE locality = $3 AND iin = $4 RETURNING id")
                        .bind(&a.parent.full_name).bind(now).bind(a.locality.as_str())
                        .bind(a.parent.iin.as_str()).fetch_one(&mut *tx).await?;
                    (id, false)
                }
            };

            sqlx::query(
                "INSERT INTO children (iin, full_name, birth_date, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (iin) DO UPDATE SET full_name = excluded.full_name, \
                 birth_date = excluded.birth_date, updated_at = excluded.updated_at")
                .bind(a.child.iin.as_str()).bind(&a.child.full_name).bind(a.child.birth_date).bind(now)
                .execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO cabinet_children (cabinet_id, child_iin) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(cabinet_id).bind(a.child.iin.as_str()).execute(&mut *tx).await?;

            // The same for the application: a new one is inserted with its first history
            // row; an existing one is locked (`FOR UPDATE`) before it is read, so two PUTs of
            // one application are written one after the other.
            let inserted: Option<i64> = sqlx::query_scalar(
                "INSERT INTO applications (number, cabinet_id, child_iin, locality, kind, desired_date, \
                 language, privilege, submitted_at, status, queue_position, status_changed_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $9, $12) \
                 ON CONFLICT (number) DO NOTHING RETURNING id")
                .bind(a.number.as_str()).bind(cabinet_id).bind(a.child.iin.as_str())
                .bind(a.locality.as_str()).bind(a.kind).bind(a.desired_date).bind(a.language)
                .bind(a.privilege).bind(a.submitted_at).bind(a.status).bind(a.queue_position).bind(now)
                .fetch_optional(&mut *tx).await?;
            let existing: Option<(i64, i64, String)> = match inserted {
                Some(id) => {
                    sqlx::query(
                        "INSERT INTO application_history (application_id, status, changed_at, queue_position) \
                         VALUES ($1, $2, $3, $4)")
                        .bind(id).bind(a.status).bind(a.submitted_at).bind(a.queue_position)
                        .execute(&mut *tx).await?;
                    None
                }
                None => {
                    let sql = format!(
                        "SELECT id, cabinet_id, child_iin FROM applications WHERE number = $1{}",
                        self.for_update());
                    let existing: (i64, i64, String) = sqlx::query_as(&sql)
                        .bind(a.number.as_str()).fetch_one(&mut *tx).await?;
                    sqlx::query(
                        "UPDATE applications SET cabinet_id = $1, child_iin = $2, locality = $3, kind = $4, \
                         desired_date = $5, language = $6, privilege = $7, submitted_at = $8, \
                         updated_at = $9 WHERE id = $10")
                        .bind(cabinet_id).bind(a.child.iin.as_str()).bind(a.locality.as_str()).bind(a.kind)
                        .bind(a.desired_date).bind(a.language).bind(a.privilege).bind(a.submitted_at)
                        .bind(now).bind(existing.0)
                        .execute(&mut *tx).await?;
                    Some(existing)
                }
            };
            let application_id = match (inserted, &existing) {
                (Some(id), _) => id,
                (None, Some((id, ..))) => *id,
                (None, None) => unreachable!("an application is either inserted or found"),
            };

            // Who sees a child follows the data: when the portal moves the application to
            // another parent (or to another child), the first cabinet keeps the child only
            // while another application of its own still names the child.
            if let Some((_, old_cabinet, old_child)) = &existing
                && (*old_cabinet != cabinet_id || old_child != a.child.iin.as_str())
            {
                sqlx::query(
                    "DELETE FROM cabinet_children WHERE cabinet_id = $1 AND child_iin = $2 \
                     AND NOT EXISTS (SELECT 1 FROM applications a \
                                      WHERE a.cabinet_id = $1 AND a.child_iin = $2)")
                    .bind(old_cabinet).bind(old_child).execute(&mut *tx).await?;
            }

            sqlx::query("DELETE FROM application_institutions WHERE application_id = $1")
                .bind(application_id).execute(&mut *tx).await?;
            for (i, inst) in a.institutions.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO application_institutions (application_id, preference, institution_id) \
                     VALUES ($1, $2, $3)")
                    .bind(application_id).bind(i as i64 + 1).bind(inst.as_str())
                    .execute(&mut *tx).await?;
            }

            ApplicationWritten {
                application_id,
                cabinet_id,
                written: written(existing.is_some()),
                cabinet_created,
            }
        });
        Ok(out)
    }

    /// Records a status change the portal posts. Replaying an `event_id` changes nothing.
    /// A change older than the current status goes into the history without overwriting it
    /// (the portal may deliver changes out of order).
    pub async fn record_status_change(
        &self,
        number: &PortalId,
        change: &StatusChange,
        now: DateTime<Utc>,
    ) -> Result<StatusChangeOutcome> {
        let out = in_transaction!(self, tx => {
            let (application_id, cabinet_id, child_iin): (i64, i64, String) =
                sqlx::query_as(
                    "SELECT id, cabinet_id, child_iin FROM applications WHERE number = $1")
                    .bind(number.as_str()).fetch_optional(&mut *tx).await?
                    .ok_or(StorageError::NotFound)?;
            let inserted: Option<i64> = sqlx::query_scalar(
                "INSERT INTO application_history (application_id, status, changed_at, comment, queue_position, event_id) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (application_id, event_id) DO NOTHING RETURNING id")
                .bind(application_id).bind(change.status).bind(change.changed_at)
                .bind(change.comment.as_ref()).bind(change.queue_position).bind(change.event_id.as_str())
                .fetch_optional(&mut *tx).await?;
            if inserted.is_none() {
                StatusChangeOutcome::Replayed
            } else {
                // The time is compared in the statement, not after a read: of two changes
                // written at once, PostgreSQL makes the second wait for the first's row lock
                // and looks again, so the older can never overwrite the newer.
                sqlx::query(
                    "UPDATE applications SET status = $1, queue_position = $2, status_changed_at = $3, \
                     updated_at = $4 WHERE id = $5 AND status_changed_at <= $3")
                    .bind(change.status).bind(change.queue_position).bind(change.changed_at)
                    .bind(now).bind(application_id).execute(&mut *tx).await?;
                let event = NewEvent {
                    cabinet_id,
                    kind: EventKind::ApplicationStatus,
                    application_id: Some(application_id),
                    referral_id: None,
                    child_iin: Some(child_iin),
                    details: json!({
                        "status": change.status,
                        "comment": change.comment,
                        "queue_position": change.queue_position,
                    }),
                    occurred_at: change.changed_at,
                    dedup_key: format!("status:{application_id}:{}", change.event_id),
                    question_id: None,
                };
                let event_id = record_event!(tx, &event, now).ok_or_else(|| {
                    StorageError::Corrupt("a new history row found its event already recorded".into())
                })?;
                StatusChangeOutcome::Recorded { event_id }
            }
        });
        Ok(out)
    }

    /// Creates or updates a referral. Its issue, and each later change of status, is an event.
    pub async fn upsert_referral(
        &self,
        r: &ReferralUpsert,
        now: DateTime<Utc>,
    ) -> Result<ReferralWritten> {
        let out = in_transaction!(self, tx => {
            let (application_id, cabinet_id, child_iin): (i64, i64, String) = sqlx::query_as(
                "SELECT id, cabinet_id, child_iin FROM applications WHERE number = $1")
                .bind(r.application.as_str()).fetch_optional(&mut *tx).await?
                .ok_or(StorageError::MissingReference { field: "application".into() })?;
            let institution: Option<i32> = sqlx::query_scalar("SELECT 1 FROM institutions WHERE id = $1")
                .bind(r.institution.as_str()).fetch_optional(&mut *tx).await?;
            if institution.is_none() {
                return Err(StorageError::MissingReference { field: "institution".into() });
            }
            let inserted: Option<i64> = sqlx::query_scalar(
                "INSERT INTO referrals (number, application_id, institution_id, group_name, issued_at, \
                 valid_until, status, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (number) DO NOTHING RETURNING id")
                .bind(r.number.as_str()).bind(application_id).bind(r.institution.as_str()).bind(&r.group)
                .bind(r.issued_at).bind(r.valid_until).bind(r.status).bind(now)
                .fetch_optional(&mut *tx).await?;
            // An existing referral is locked before it is read: two PUTs at once are compared
            // one after the other, and only one of them sees the status change.
            let existing: Option<(i64, ReferralStatus, DateTime<Utc>)> = match inserted {
                Some(_) => None,
                None => {
                    let sql = format!(
                        "SELECT id, status, valid_until FROM referrals WHERE number = $1{}",
                        self.for_update());
                    Some(sqlx::query_as(&sql).bind(r.number.as_str()).fetch_one(&mut *tx).await?)
                }
            };
            let stale = existing.is_some_and(|(_, old, old_until)| {
                is_late_retry(old, old_until, r.status, r.valid_until)
            });
            let referral_id = match (inserted, existing) {
                (Some(id), _) => id,
                (None, Some((id, ..))) if stale => id,
                (None, Some((id, ..))) => {
                    sqlx::query(
                        "UPDATE referrals SET application_id = $1, institution_id = $2, group_name = $3, \
                         issued_at = $4, valid_until = $5, status = $6, updated_at = $7, \
                         reminded_at = CASE WHEN valid_until = $5 THEN reminded_at ELSE NULL END \
                         WHERE id = $8")
                        .bind(application_id).bind(r.institution.as_str()).bind(&r.group).bind(r.issued_at)
                        .bind(r.valid_until).bind(r.status).bind(now).bind(id)
                        .execute(&mut *tx).await?;
                    id
                }
                (None, None) => unreachable!("a referral is either inserted or found"),
            };
            let changed = !stale && existing.is_none_or(|(_, old, _)| old != r.status);
            let mut event_id = None;
            if changed {
                let occurred_at = if existing.is_none() { r.issued_at } else { now };
                let event = NewEvent {
                    cabinet_id,
                    kind: r.status.event_kind(),
                    application_id: Some(application_id),
                    referral_id: Some(referral_id),
                    child_iin: Some(child_iin),
                    details: json!({ "status": r.status, "valid_until": r.valid_until }),
                    occurred_at,
                    // The same change written twice is one event: the key is the change
                    // itself (a referral issued again is issued with a new validity).
                    dedup_key: format!(
                        "referral:{referral_id}:{}:{}", r.status, r.valid_until.timestamp_micros()),
                    question_id: None,
                };
                event_id = record_event!(tx, &event, now);
            }
            ReferralWritten { referral_id, written: written(inserted.is_none()), event_id }
        });
        Ok(out)
    }

    /// Creates or updates a child's personal file and clubs. Each club the child joins is an
    /// event for every cabinet that shows the child; clubs left out of the list are left.
    pub async fn upsert_child_file(
        &self,
        f: &ChildFileUpsert,
        now: DateTime<Utc>,
    ) -> Result<FileWritten> {
        let out = in_transaction!(self, tx => {
            let child: Option<i32> = sqlx::query_scalar("SELECT 1 FROM children WHERE iin = $1")
                .bind(f.child_iin.as_str()).fetch_optional(&mut *tx).await?;
            if child.is_none() {
                return Err(StorageError::MissingReference { field: "child".into() });
            }
            let existed: Option<i32> = sqlx::query_scalar("SELECT 1 FROM child_files WHERE child_iin = $1")
                .bind(f.child_iin.as_str()).fetch_optional(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO child_files (child_iin, institution_id, group_name, opened_on, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (child_iin) DO UPDATE SET \
                 institution_id = excluded.institution_id, group_name = excluded.group_name, \
                 opened_on = excluded.opened_on, updated_at = excluded.updated_at")
                .bind(f.child_iin.as_str()).bind(f.institution.as_str()).bind(&f.group).bind(f.opened_on).bind(now)
                .execute(&mut *tx).await.map_err(reference("institution"))?;

            let enrolled: Vec<String> = sqlx::query_scalar(
                "SELECT club_id FROM club_enrollments WHERE child_iin = $1")
                .bind(f.child_iin.as_str()).fetch_all(&mut *tx).await?;
            let cabinets: Vec<i64> = sqlx::query_scalar(
                "SELECT cabinet_id FROM cabinet_children WHERE child_iin = $1 ORDER BY cabinet_id")
                .bind(f.child_iin.as_str()).fetch_all(&mut *tx).await?;
            let mut new_clubs = Vec::new();
            let mut events = Vec::new();
            for club in &f.clubs {
                sqlx::query(
                    "INSERT INTO clubs (id, name_kk, name_ru, teacher, schedule, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET \
                     name_kk = excluded.name_kk, name_ru = excluded.name_ru, teacher = excluded.teacher, \
                     schedule = excluded.schedule, updated_at = excluded.updated_at")
                    .bind(club.id.as_str()).bind(&club.name_kk).bind(&club.name_ru).bind(&club.teacher)
                    .bind(&club.schedule).bind(now)
                    .execute(&mut *tx).await?;
                if enrolled.iter().any(|c| c == club.id.as_str()) {
                    continue;
                }
                sqlx::query("INSERT INTO club_enrollments (child_iin, club_id, enrolled_at) VALUES ($1, $2, $3)")
                    .bind(f.child_iin.as_str()).bind(club.id.as_str()).bind(now)
                    .execute(&mut *tx).await?;
                new_clubs.push(club.id.as_str().to_owned());
                for cabinet_id in &cabinets {
                    let event = NewEvent {
                        cabinet_id: *cabinet_id,
                        kind: EventKind::ClubEnrolled,
                        application_id: None,
                        referral_id: None,
                        child_iin: Some(f.child_iin.as_str().to_owned()),
                        details: json!({ "club": club.id.as_str(), "name_kk": club.name_kk, "name_ru": club.name_ru }),
                        occurred_at: now,
                        dedup_key: format!("club:{}:{}:{}", f.child_iin.as_str(), club.id, now.timestamp_micros()),
                        question_id: None,
                    };
                    events.extend(record_event!(tx, &event, now));
                }
            }
            for old in &enrolled {
                if !f.clubs.iter().any(|c| c.id.as_str() == old) {
                    sqlx::query("DELETE FROM club_enrollments WHERE child_iin = $1 AND club_id = $2")
                        .bind(f.child_iin.as_str()).bind(old).execute(&mut *tx).await?;
                }
            }
            FileWritten { written: written(existed.is_some()), new_clubs, events }
        });
        Ok(out)
    }

    /// Upserts attendance by date; returns how many days were written.
    pub async fn upsert_attendance(
        &self,
        child_iin: &Iin,
        records: &[AttendanceRecord],
    ) -> Result<usize> {
        in_transaction!(self, tx => {
            let child: Option<i32> = sqlx::query_scalar("SELECT 1 FROM children WHERE iin = $1")
                .bind(child_iin.as_str()).fetch_optional(&mut *tx).await?;
            if child.is_none() {
                return Err(StorageError::MissingReference { field: "child".into() });
            }
            for r in records {
                sqlx::query(
                    "INSERT INTO attendance (child_iin, day, status, note) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (child_iin, day) DO UPDATE SET status = excluded.status, note = excluded.note")
                    .bind(child_iin.as_str()).bind(r.day).bind(r.status).bind(r.note.as_ref())
                    .execute(&mut *tx).await?;
            }
        });
        Ok(records.len())
    }

    /// A new cabinet's row. Its id is never one a deleted cabinet had: PostgreSQL's identity
    /// column never gives one twice; SQLite would give the highest id in the table plus one
    /// again, so there the next id comes from the highest ever given (`id_sequences`).
    fn insert_cabinet_sql(&self) -> &'static str {
        match self.backend() {
            crate::storage::Backend::Postgres => {
                "INSERT INTO cabinets (locality, iin, full_name, phone, email, language, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (locality, iin) DO NOTHING RETURNING id"
            }
            crate::storage::Backend::Sqlite => {
                "INSERT INTO cabinets (id, locality, iin, full_name, phone, email, language, created_at, updated_at) \
                 VALUES ((SELECT last_id + 1 FROM id_sequences WHERE name = 'cabinets'), \
                         $1, $2, $3, $4, $5, $6, $7, $7) \
                 ON CONFLICT (locality, iin) DO NOTHING RETURNING id"
            }
        }
    }

    /// Deletes a cabinet and everything that is only its own: applications, referrals, events,
    /// sessions (right to be forgotten). Returns whether there was one.
    pub async fn delete_cabinet(&self, locality: &LocalityCode, iin: &Iin) -> Result<bool> {
        let deleted = in_transaction!(self, tx => {
            let id: Option<i64> = sqlx::query_scalar("SELECT id FROM cabinets WHERE locality = $1 AND iin = $2")
                .bind(locality.as_str()).bind(iin.as_str()).fetch_optional(&mut *tx).await?;
            if let Some(id) = id {
                sqlx::query("DELETE FROM cabinets WHERE id = $1").bind(id).execute(&mut *tx).await?;
                // Children no other cabinet shows go too, with their files and attendance.
                sqlx::query(
                    "DELETE FROM children WHERE NOT EXISTS \
                     (SELECT 1 FROM cabinet_children cc WHERE cc.child_iin = children.iin) \
                     AND NOT EXISTS (SELECT 1 FROM applications a WHERE a.child_iin = children.iin)")
                    .execute(&mut *tx).await?;
            }
            id.is_some()
        });
        Ok(deleted)
    }
}
