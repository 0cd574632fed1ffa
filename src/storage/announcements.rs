//! Announcements (SPEC §2): the education department's words to a group of parents. Posting
//! resolves the audience once, in one transaction: an event in the feed of every cabinet of
//! the audience that has a logged-in chat, and a delivery to each of those chats that keeps
//! Telegram notifications on — queued behind the parents' own pushes (`priority` 2), sent by
//! the same sender within the same limits.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::events::OutboxBell;
use super::{Result, Storage, StorageError, in_transaction, on_pool};
use crate::domain::{ApplicationKind, ApplicationStatus, LocalityCode, PortalId};

/// Who an announcement is for. Every criterion given must hold; at least one is given.
#[derive(Debug, Clone, PartialEq)]
pub struct Audience {
    /// Parents whose cabinet is in this locality.
    pub locality: Option<LocalityCode>,
    /// Parents whose application lists one of these institutions, or whose child holds a
    /// referral to one or attends one.
    pub institutions: Vec<PortalId>,
    /// Parents with an application of this kind …
    pub application_kind: Option<ApplicationKind>,
    /// … and/or in this status (both of one application when both are given).
    pub application_status: Option<ApplicationStatus>,
}

impl Audience {
    /// The audience as stored: a repeated PUT is compared with it.
    pub fn to_json(&self) -> serde_json::Value {
        let mut institutions: Vec<&str> = self.institutions.iter().map(PortalId::as_str).collect();
        institutions.sort_unstable();
        serde_json::json!({
            "locality": self.locality.as_ref().map(LocalityCode::as_str),
            "institutions": institutions,
            "application_kind": self.application_kind.map(ApplicationKind::as_str),
            "application_status": self.application_status.map(ApplicationStatus::as_str),
        })
    }
}

/// An announcement as the portal posts it.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnouncementPost {
    pub id: PortalId,
    pub text_kk: String,
    pub text_ru: String,
    pub audience: Audience,
    /// Arrives without a sound at any hour (otherwise only between 22:00 and 08:00).
    pub silent: bool,
}

/// How far an announcement has gone out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnnouncementProgress {
    pub id: String,
    /// Chats it was queued for when it was posted.
    pub recipients: i64,
    pub sent: i64,
    /// Telegram refused it for good.
    pub failed: i64,
    /// Still to go (queued, or being sent this moment).
    pub pending: i64,
    /// Not sent because it was cancelled.
    pub cancelled: i64,
    /// Not sent because the chat logged out or blocked the bot meanwhile.
    pub skipped: i64,
    pub posted_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<DateTime<Utc>>,
}

/// What posting did.
#[derive(Debug, Clone, PartialEq)]
pub enum Posted {
    /// Queued now for this many chats.
    Created { recipients: i64 },
    /// The same announcement was posted before: nothing queued again.
    Unchanged,
    /// An announcement with this id says something else: it is not edited once posted.
    Differs,
}

#[derive(sqlx::FromRow)]
struct StoredPost {
    text_kk: String,
    text_ru: String,
    audience: String,
    silent: bool,
}

#[derive(sqlx::FromRow)]
struct StoredHead {
    recipients: i64,
    created_at: DateTime<Utc>,
    cancelled_at: Option<DateTime<Utc>>,
}

/// The SQL condition that puts cabinet `c` in the audience, with the values it binds from
/// `$first` on (all text).
fn audience_condition(audience: &Audience, first: usize) -> (String, Vec<String>) {
    let mut conditions = Vec::new();
    let mut values: Vec<String> = Vec::new();
    let next = |value: String, values: &mut Vec<String>| {
        values.push(value);
        format!("${}", first + values.len() - 1)
    };
    if let Some(locality) = &audience.locality {
        conditions.push(format!(
            "c.locality = {}",
            next(locality.as_str().to_owned(), &mut values)
        ));
    }
    if !audience.institutions.is_empty() {
        let list = audience
            .institutions
            .iter()
            .map(|i| next(i.as_str().to_owned(), &mut values))
            .collect::<Vec<_>>()
            .join(", ");
        conditions.push(format!(
            "(EXISTS (SELECT 1 FROM applications a JOIN application_institutions ai \
                 ON ai.application_id = a.id WHERE a.cabinet_id = c.id AND ai.institution_id IN ({list})) \
              OR EXISTS (SELECT 1 FROM applications a JOIN referrals r ON r.application_id = a.id \
                 WHERE a.cabinet_id = c.id AND r.institution_id IN ({list})) \
              OR EXISTS (SELECT 1 FROM applications a JOIN child_files f ON f.child_iin = a.child_iin \
                 WHERE a.cabinet_id = c.id AND f.institution_id IN ({list})))"
        ));
    }
    if audience.application_kind.is_some() || audience.application_status.is_some() {
        let mut of_application = vec!["a.cabinet_id = c.id".to_owned()];
        if let Some(kind) = audience.application_kind {
            of_application.push(format!(
                "a.kind = {}",
                next(kind.as_str().to_owned(), &mut values)
            ));
        }
        if let Some(status) = audience.application_status {
            of_application.push(format!(
                "a.status = {}",
                next(status.as_str().to_owned(), &mut values)
            ));
        }
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM applications a WHERE {})",
            of_application.join(" AND ")
        ));
    }
    if conditions.is_empty() {
        // Refused by the parser; never everyone by accident.
        conditions.push("FALSE".to_owned());
    }
    (conditions.join(" AND "), values)
}

impl Storage {
    /// Posts an announcement: once per id. The audience is resolved now, and the events and
    /// deliveries are written in the same transaction as the announcement.
    pub async fn post_announcement(
        &self,
        post: &AnnouncementPost,
        now: DateTime<Utc>,
    ) -> Result<Posted> {
        let audience = post.audience.to_json().to_string();
        let (condition, values) = audience_condition(&post.audience, 3);
        // A cabinet with a logged-in chat gets the event (its feed); each of its chats that
        // keeps Telegram notifications on gets the delivery.
        let events = format!(
            "INSERT INTO events (cabinet_id, kind, details, occurred_at, created_at, dedup_key, \
                                 announcement_id) \
             SELECT c.id, 'announcement', '{{}}', $2, $2, 'announcement:' || $1, $1 FROM cabinets c \
              WHERE {condition} AND EXISTS (SELECT 1 FROM sessions s \
                    JOIN chats ch ON ch.chat_id = s.chat_id \
                   WHERE s.cabinet_id = c.id AND s.ended_at IS NULL AND ch.blocked_at IS NULL) \
             ON CONFLICT (cabinet_id, dedup_key) DO NOTHING"
        );
        let deliveries = "INSERT INTO deliveries (event_id, channel, chat_id, address, state, \
                              next_attempt_at, created_at, priority) \
             SELECT e.id, 'telegram', s.chat_id, NULL, 'pending', $2, $2, 2 FROM events e \
               JOIN cabinets c ON c.id = e.cabinet_id \
               JOIN sessions s ON s.cabinet_id = e.cabinet_id AND s.ended_at IS NULL \
               JOIN chats ch ON ch.chat_id = s.chat_id \
              WHERE e.announcement_id = $1 AND c.notify_telegram = TRUE AND ch.blocked_at IS NULL \
              ORDER BY s.chat_id";
        let posted = in_transaction!(self, tx => {
            let inserted: Option<String> = sqlx::query_scalar(
                "INSERT INTO announcements (id, text_kk, text_ru, audience, silent, recipients, created_at) \
                 VALUES ($1, $2, $3, $4, $5, 0, $6) ON CONFLICT (id) DO NOTHING RETURNING id")
                .bind(post.id.as_str()).bind(&post.text_kk).bind(&post.text_ru)
                .bind(&audience).bind(post.silent).bind(now)
                .fetch_optional(&mut *tx).await?;
            if inserted.is_none() {
                let stored: StoredPost = sqlx::query_as(
                    "SELECT text_kk, text_ru, audience, silent FROM announcements WHERE id = $1")
                    .bind(post.id.as_str()).fetch_one(&mut *tx).await?;
                let same = stored.text_kk == post.text_kk && stored.text_ru == post.text_ru
                    && stored.audience == audience && stored.silent == post.silent;
                if same { Posted::Unchanged } else { Posted::Differs }
            } else {
                let mut query = sqlx::query(&events).bind(post.id.as_str()).bind(now);
                for value in &values {
                    query = query.bind(value);
                }
                query.execute(&mut *tx).await?;
                let recipients = sqlx::query(deliveries)
                    .bind(post.id.as_str()).bind(now)
                    .execute(&mut *tx).await?.rows_affected() as i64;
                sqlx::query("UPDATE announcements SET recipients = $1 WHERE id = $2")
                    .bind(recipients).bind(post.id.as_str()).execute(&mut *tx).await?;
                if recipients > 0 {
                    OutboxBell::ring(&mut *tx).await?;
                }
                Posted::Created { recipients }
            }
        });
        Ok(posted)
    }

    /// How far the announcement has gone out; [`StorageError::NotFound`] for an unknown id.
    pub async fn announcement_progress(&self, id: &PortalId) -> Result<AnnouncementProgress> {
        let head: StoredHead = on_pool!(self, pool => sqlx::query_as(
            "SELECT recipients, created_at, cancelled_at FROM announcements WHERE id = $1")
            .bind(id.as_str()).fetch_optional(pool).await)?
        .ok_or(StorageError::NotFound)?;
        let counts: Vec<(String, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT CASE WHEN d.state IN ('pending', 'sending') THEN 'pending' \
                         WHEN d.state = 'dropped' AND d.last_error = 'cancelled' THEN 'cancelled' \
                         ELSE d.state END AS progress, COUNT(*) \
               FROM deliveries d JOIN events e ON e.id = d.event_id \
              WHERE e.announcement_id = $1 GROUP BY 1")
            .bind(id.as_str()).fetch_all(pool).await)?;
        let count = |state: &str| {
            counts
                .iter()
                .find(|(s, _)| s == state)
                .map_or(0, |(_, n)| *n)
        };
        Ok(AnnouncementProgress {
            id: id.as_str().to_owned(),
            recipients: head.recipients,
            sent: count("sent"),
            failed: count("failed"),
            pending: count("pending"),
            cancelled: count("cancelled"),
            skipped: count("dropped"),
            posted_at: head.created_at,
            cancelled_at: head.cancelled_at,
        })
    }

    /// Cancels what of the announcement has not gone out yet (a send in progress this
    /// moment still completes); returns how many deliveries it stopped.
    /// [`StorageError::NotFound`] for an unknown id. Cancelling twice is harmless.
    pub async fn cancel_announcement(&self, id: &PortalId, now: DateTime<Utc>) -> Result<u64> {
        let stopped = in_transaction!(self, tx => {
            let known: Option<String> = sqlx::query_scalar(
                "UPDATE announcements SET cancelled_at = COALESCE(cancelled_at, $1) \
                 WHERE id = $2 RETURNING id")
                .bind(now).bind(id.as_str()).fetch_optional(&mut *tx).await?;
            if known.is_none() {
                return Err(StorageError::NotFound);
            }
            sqlx::query(
                "UPDATE deliveries SET state = 'dropped', last_error = 'cancelled' \
                 WHERE state = 'pending' AND event_id IN \
                       (SELECT id FROM events WHERE announcement_id = $1)")
                .bind(id.as_str()).execute(&mut *tx).await?.rows_affected()
        });
        Ok(stopped)
    }
}
