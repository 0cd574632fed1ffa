//! What the parent's screens read. Every query about a parent's data names the cabinet, so
//! a forged or stale button can never reach another parent's records.

use chrono::NaiveDate;

use super::direct::params;
use super::{
    Application, ApplicationCard, ApplicationSummary, AttendanceDay, Cabinet, Child, ChildFile,
    Club, Counted, HistoryEntry, Institution, Locality, Page, Placement, Referral, Result, Storage,
    on_pool,
};
use crate::domain::{Iin, LocalityCode};

const CABINET_COLUMNS: &str = "id, locality, iin, full_name, phone, email, language, password_hash, \
    notify_telegram, notify_sms, notify_email, failed_logins, lockouts, locked_until, created_at, \
    consented_at";

macro_rules! referral_select {
    ($extra:literal) => {
        concat!(
            "SELECT r.id, r.number, r.application_id, a.number AS application_number, \
             ch.full_name AS child_name, r.institution_id, i.name_kk AS institution_name_kk, \
             i.name_ru AS institution_name_ru, i.address AS institution_address, r.group_name, \
             r.issued_at, r.valid_until, r.status",
            $extra,
            " FROM referrals r JOIN applications a ON a.id = r.application_id \
             JOIN children ch ON ch.iin = a.child_iin JOIN institutions i ON i.id = r.institution_id"
        )
    };
}
const REFERRAL_SELECT: &str = referral_select!("");
/// The same, with the list's total on every row (see [`Page`]).
const REFERRAL_SELECT_COUNTED: &str = referral_select!(
    ", (SELECT COUNT(*) FROM referrals r2 JOIN applications a2 ON a2.id = r2.application_id \
       WHERE a2.cabinet_id = $1) AS total"
);

impl Storage {
    /// Every locality (a few hundred at most: the bot sorts them in the parent's language).
    pub async fn all_localities(&self) -> Result<Vec<Locality>> {
        Ok(on_pool!(self, pool => sqlx::query_as(
            "SELECT code, name_kk, name_ru FROM localities ORDER BY code")
            .fetch_all(pool).await)?)
    }

    pub async fn count_localities(&self) -> Result<i64> {
        Ok(
            on_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM localities").fetch_one(pool).await)?,
        )
    }

    pub async fn locality(&self, code: &str) -> Result<Option<Locality>> {
        const SQL: &str = "SELECT code, name_kk, name_ru FROM localities WHERE code = $1";
        if let Some(found) = self.direct().and_then(|d| d.optional(SQL, params![code])) {
            return Ok(found);
        }
        Ok(on_pool!(self, pool => sqlx::query_as(SQL).bind(code).fetch_optional(pool).await)?)
    }

    pub async fn institution(&self, id: &str) -> Result<Option<Institution>> {
        Ok(on_pool!(self, pool => sqlx::query_as(
            "SELECT id, locality, kind, name_kk, name_ru, address FROM institutions WHERE id = $1")
            .bind(id).fetch_optional(pool).await)?)
    }

    /// The cabinet of the parent with this IIN in this locality, if the portal opened one.
    pub async fn find_cabinet(
        &self,
        locality: &LocalityCode,
        iin: &Iin,
    ) -> Result<Option<Cabinet>> {
        let sql =
            format!("SELECT {CABINET_COLUMNS} FROM cabinets WHERE locality = $1 AND iin = $2");
        Ok(on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(locality.as_str()).bind(iin.as_str()).fetch_optional(pool).await)?)
    }

    pub async fn cabinet(&self, id: i64) -> Result<Option<Cabinet>> {
        let sql = format!("SELECT {CABINET_COLUMNS} FROM cabinets WHERE id = $1");
        if let Some(found) = self.direct().and_then(|d| d.optional(&sql, params![id])) {
            return Ok(found);
        }
        Ok(on_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?)
    }

    /// The cabinet's applications, newest submitted first.
    pub async fn applications(
        &self,
        cabinet_id: i64,
        page: i64,
        per_page: i64,
    ) -> Result<Page<ApplicationSummary>> {
        const SQL: &str = "SELECT a.id, a.number, a.child_iin, ch.full_name AS child_name, a.kind, \
                a.status, a.queue_position, a.submitted_at, \
                (SELECT COUNT(*) FROM applications WHERE cabinet_id = $1) AS total \
           FROM applications a JOIN children ch ON ch.iin = a.child_iin \
          WHERE a.cabinet_id = $1 ORDER BY a.submitted_at DESC, a.id DESC LIMIT $2 OFFSET $3";
        if let Some(direct) = self.direct()
            && let Some(found) = Page::read_now(page, per_page, |offset| {
                direct.all(SQL, params![cabinet_id, per_page, offset])
            })
        {
            return Ok(found);
        }
        Ok(on_pool!(self, pool => Page::read(page, per_page, |offset| {
            sqlx::query_as::<_, Counted<ApplicationSummary>>(SQL)
                .bind(cabinet_id).bind(per_page).bind(offset).fetch_all(pool)
        }).await)?)
    }

    /// The application card, if the application belongs to the cabinet.
    pub async fn application_card(
        &self,
        cabinet_id: i64,
        application_id: i64,
    ) -> Result<Option<ApplicationCard>> {
        const APPLICATION: &str = "SELECT a.id, a.number, a.cabinet_id, a.child_iin, \
                ch.full_name AS child_name, ch.birth_date AS child_birth_date, a.locality, a.kind, \
                a.desired_date, a.language, a.privilege, a.submitted_at, a.status, \
                a.queue_position, a.status_changed_at \
           FROM applications a JOIN children ch ON ch.iin = a.child_iin \
          WHERE a.id = $1 AND a.cabinet_id = $2";
        const INSTITUTIONS: &str = "SELECT i.id, i.locality, i.kind, i.name_kk, i.name_ru, i.address \
           FROM application_institutions ai JOIN institutions i ON i.id = ai.institution_id \
          WHERE ai.application_id = $1 ORDER BY ai.preference";
        const HISTORY: &str = "SELECT status, changed_at, comment, queue_position \
           FROM application_history WHERE application_id = $1 ORDER BY changed_at, id";
        const REFERRAL: &str = "SELECT id FROM referrals WHERE application_id = $1 \
          ORDER BY issued_at DESC, id DESC LIMIT 1";
        // The four reads are one snapshot only inside a transaction; apart, a status change
        // between them shows on the next press, as it would a moment later anyway.
        if let Some(direct) = self.direct() {
            let card = (|| {
                let Some(application) =
                    direct.optional(APPLICATION, params![application_id, cabinet_id])?
                else {
                    return Some(None);
                };
                Some(Some(ApplicationCard {
                    application,
                    institutions: direct.all(INSTITUTIONS, params![application_id])?,
                    history: direct.all(HISTORY, params![application_id])?,
                    referral_id: direct.scalar(REFERRAL, params![application_id])?,
                }))
            })();
            if let Some(card) = card {
                return Ok(card);
            }
        }
        let application: Option<Application> = on_pool!(self, pool => sqlx::query_as(APPLICATION)
            .bind(application_id).bind(cabinet_id).fetch_optional(pool).await)?;
        let Some(application) = application else {
            return Ok(None);
        };
        let institutions: Vec<Institution> = on_pool!(self, pool => sqlx::query_as(INSTITUTIONS)
            .bind(application_id).fetch_all(pool).await)?;
        let history: Vec<HistoryEntry> = on_pool!(self, pool => sqlx::query_as(HISTORY)
            .bind(application_id).fetch_all(pool).await)?;
        let referral_id: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(REFERRAL)
            .bind(application_id).fetch_optional(pool).await)?;
        Ok(Some(ApplicationCard {
            application,
            institutions,
            history,
            referral_id,
        }))
    }

    /// The cabinet's referrals, newest issued first.
    pub async fn referrals(
        &self,
        cabinet_id: i64,
        page: i64,
        per_page: i64,
    ) -> Result<Page<Referral>> {
        let sql = format!(
            "{REFERRAL_SELECT_COUNTED} WHERE a.cabinet_id = $1 ORDER BY r.issued_at DESC, r.id DESC LIMIT $2 OFFSET $3"
        );
        if let Some(direct) = self.direct()
            && let Some(found) = Page::read_now(page, per_page, |offset| {
                direct.all(&sql, params![cabinet_id, per_page, offset])
            })
        {
            return Ok(found);
        }
        Ok(on_pool!(self, pool => Page::read(page, per_page, |offset| {
            sqlx::query_as::<_, Counted<Referral>>(&sql)
                .bind(cabinet_id).bind(per_page).bind(offset).fetch_all(pool)
        }).await)?)
    }

    /// The referral card, if the referral belongs to the cabinet.
    pub async fn referral(&self, cabinet_id: i64, referral_id: i64) -> Result<Option<Referral>> {
        let sql = format!("{REFERRAL_SELECT} WHERE r.id = $1 AND a.cabinet_id = $2");
        if let Some(found) = self
            .direct()
            .and_then(|d| d.optional(&sql, params![referral_id, cabinet_id]))
        {
            return Ok(found);
        }
        Ok(on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(referral_id).bind(cabinet_id).fetch_optional(pool).await)?)
    }

    /// The children the cabinet shows, youngest first.
    pub async fn children(&self, cabinet_id: i64) -> Result<Vec<Child>> {
        const SQL: &str = "SELECT ch.iin, ch.full_name, ch.birth_date FROM cabinet_children cc \
           JOIN children ch ON ch.iin = cc.child_iin \
          WHERE cc.cabinet_id = $1 ORDER BY ch.birth_date DESC, ch.iin";
        if let Some(found) = self.direct().and_then(|d| d.all(SQL, params![cabinet_id])) {
            return Ok(found);
        }
        Ok(on_pool!(self, pool => sqlx::query_as(SQL).bind(cabinet_id).fetch_all(pool).await)?)
    }

    /// A child's personal file, if the cabinet shows that child.
    pub async fn child_file(&self, cabinet_id: i64, child_iin: &str) -> Result<Option<ChildFile>> {
        const CHILD: &str = "SELECT ch.iin, ch.full_name, ch.birth_date FROM cabinet_children cc \
           JOIN children ch ON ch.iin = cc.child_iin WHERE cc.cabinet_id = $1 AND cc.child_iin = $2";
        const PLACEMENT: &str = "SELECT f.institution_id, i.name_kk AS institution_name_kk, \
                i.name_ru AS institution_name_ru, f.group_name, f.opened_on \
           FROM child_files f JOIN institutions i ON i.id = f.institution_id WHERE f.child_iin = $1";
        const CLUBS: &str = "SELECT c.id, c.name_kk, c.name_ru, c.teacher, c.schedule \
           FROM club_enrollments e JOIN clubs c ON c.id = e.club_id \
          WHERE e.child_iin = $1 ORDER BY e.enrolled_at, c.id";
        if let Some(direct) = self.direct() {
            let file = (|| {
                let Some(child) = direct.optional(CHILD, params![cabinet_id, child_iin])? else {
                    return Some(None);
                };
                Some(Some(ChildFile {
                    child,
                    placement: direct.optional(PLACEMENT, params![child_iin])?,
                    clubs: direct.all(CLUBS, params![child_iin])?,
                }))
            })();
            if let Some(file) = file {
                return Ok(file);
            }
        }
        let child: Option<Child> = on_pool!(self, pool => sqlx::query_as(CHILD)
            .bind(cabinet_id).bind(child_iin).fetch_optional(pool).await)?;
        let Some(child) = child else {
            return Ok(None);
        };
        let placement: Option<Placement> = on_pool!(self, pool => sqlx::query_as(PLACEMENT)
            .bind(child_iin).fetch_optional(pool).await)?;
        let clubs: Vec<Club> = on_pool!(self, pool => sqlx::query_as(CLUBS)
            .bind(child_iin).fetch_all(pool).await)?;
        Ok(Some(ChildFile {
            child,
            placement,
            clubs,
        }))
    }

    /// The days with records nearest to the month `[from, to)` of a child's attendance: the
    /// latest before it, and the earliest after it up to `today` (so ‹ › skip months without
    /// records, and never lead into the future).
    pub async fn attendance_around(
        &self,
        cabinet_id: i64,
        child_iin: &str,
        from: NaiveDate,
        to: NaiveDate,
        today: NaiveDate,
    ) -> Result<(Option<NaiveDate>, Option<NaiveDate>)> {
        const SQL: &str = "SELECT \
                (SELECT MAX(a.day) FROM attendance a WHERE a.child_iin = cc.child_iin AND a.day < $3), \
                (SELECT MIN(a.day) FROM attendance a WHERE a.child_iin = cc.child_iin \
                    AND a.day >= $4 AND a.day <= $5) \
           FROM cabinet_children cc WHERE cc.cabinet_id = $1 AND cc.child_iin = $2";
        let around = match self
            .direct()
            .and_then(|d| d.optional(SQL, params![cabinet_id, child_iin, from, to, today]))
        {
            Some(found) => found,
            None => on_pool!(self, pool => sqlx::query_as(SQL)
                .bind(cabinet_id).bind(child_iin).bind(from).bind(to).bind(today)
                .fetch_optional(pool).await)?,
        };
        Ok(around.unwrap_or((None, None)))
    }

    /// Attendance days in `[from, to)`, oldest first, if the cabinet shows that child.
    pub async fn attendance(
        &self,
        cabinet_id: i64,
        child_iin: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<AttendanceDay>> {
        const SQL: &str = "SELECT a.day, a.status, a.note FROM attendance a \
           JOIN cabinet_children cc ON cc.child_iin = a.child_iin AND cc.cabinet_id = $1 \
          WHERE a.child_iin = $2 AND a.day >= $3 AND a.day < $4 ORDER BY a.day";
        if let Some(found) = self
            .direct()
            .and_then(|d| d.all(SQL, params![cabinet_id, child_iin, from, to]))
        {
            return Ok(found);
        }
        Ok(on_pool!(self, pool => sqlx::query_as(SQL)
            .bind(cabinet_id).bind(child_iin).bind(from).bind(to).fetch_all(pool).await)?)
    }
}

/// A record another one names by the portal's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference {
    Locality,
    Institution,
    Application,
    /// A child some cabinet shows.
    Child,
}

impl Storage {
    /// The fields of `references` (`(field, kind, id)`) that name a record Kabinet does not
    /// have: checked before a write, so that one answer names every bad field of a request.
    pub async fn missing_references(
        &self,
        references: &[(String, Reference, String)],
    ) -> Result<Vec<String>> {
        let mut missing = Vec::new();
        for (field, kind, id) in references {
            let sql = match kind {
                Reference::Locality => "SELECT EXISTS (SELECT 1 FROM localities WHERE code = $1)",
                Reference::Institution => {
                    "SELECT EXISTS (SELECT 1 FROM institutions WHERE id = $1)"
                }
                Reference::Application => {
                    "SELECT EXISTS (SELECT 1 FROM applications WHERE number = $1)"
                }
                Reference::Child => {
                    "SELECT EXISTS (SELECT 1 FROM cabinet_children WHERE child_iin = $1)"
                }
            };
            let exists: bool =
                on_pool!(self, pool => sqlx::query_scalar(sql).bind(id).fetch_one(pool).await)?;
            if !exists {
                missing.push(field.clone());
            }
        }
        Ok(missing)
    }
}
