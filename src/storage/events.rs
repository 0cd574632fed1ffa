//! Events (the feed) and their deliveries (the outbox), written inside the transaction of the
//! change that caused them: either both are stored or neither is.

use chrono::{DateTime, Utc};

use super::direct::{Param, params};
use super::{Counted, Delivery, Event, Page, Result, Storage, on_pool};
use crate::domain::EventKind;

/// An event about to be recorded.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub cabinet_id: i64,
    pub kind: EventKind,
    pub application_id: Option<i64>,
    pub referral_id: Option<i64>,
    pub child_iin: Option<String>,
    pub details: serde_json::Value,
    pub occurred_at: DateTime<Utc>,
    /// Recording the same key twice for a cabinet records one event.
    pub dedup_key: String,
    /// The question the event is about (a question asked, a reminder, an answer).
    pub question_id: Option<i64>,
}

/// Records `$event` (a [`NewEvent`]) on the connection `$tx` and queues one delivery per
/// channel the parent keeps on: every live, unblocked Telegram chat of the cabinet, the
/// phone, the e-mail. Evaluates to `Some(event id)`, or `None` when the dedup key was
/// already recorded. A macro, not a function, so that it compiles for both backends.
macro_rules! record_event {
    ($tx:expr, $event:expr, $now:expr) => {{
        let event: &$crate::storage::NewEvent = $event;
        let now: chrono::DateTime<chrono::Utc> = $now;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO events (cabinet_id, kind, application_id, referral_id, child_iin, details, \
                                 occurred_at, created_at, dedup_key, question_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (cabinet_id, dedup_key) DO NOTHING \
             RETURNING id",
        )
        .bind(event.cabinet_id)
        .bind(event.kind)
        .bind(event.application_id)
        .bind(event.referral_id)
        .bind(event.child_iin.as_deref())
        .bind(event.details.to_string())
        .bind(event.occurred_at)
        .bind(now)
        .bind(&event.dedup_key)
        .bind(event.question_id)
        .fetch_optional(&mut *$tx)
        .await?;
        if let Some(id) = id {
            sqlx::query(
                "INSERT INTO deliveries (event_id, channel, chat_id, address, state, next_attempt_at, created_at, priority) \
                 SELECT $1, 'telegram', s.chat_id, NULL, 'pending', $2, $2, $4 \
                   FROM sessions s \
                   JOIN cabinets c ON c.id = s.cabinet_id \
                   JOIN chats ch ON ch.chat_id = s.chat_id \
                  WHERE s.cabinet_id = $3 AND s.ended_at IS NULL \
                    AND c.notify_telegram = TRUE AND ch.blocked_at IS NULL \
                 UNION ALL \
                 SELECT $1, 'sms', NULL, c.phone, 'pending', $2, $2, $4 \
                   FROM cabinets c WHERE c.id = $3 AND c.notify_sms = TRUE \
                 UNION ALL \
                 SELECT $1, 'email', NULL, c.email, 'pending', $2, $2, $4 \
                   FROM cabinets c WHERE c.id = $3 AND c.notify_email = TRUE AND c.email IS NOT NULL",
            )
            .bind(id)
            .bind(now)
            .bind(event.cabinet_id)
            .bind(event.kind.delivery_priority())
            .execute(&mut *$tx)
            .await?;
            $crate::storage::events::OutboxBell::ring(&mut *$tx).await?;
        }
        id
    }};
}

/// The channel on which PostgreSQL tells the sender that deliveries were queued; the
/// payload is the schema, so deployments sharing a database keep apart.
pub const OUTBOX_CHANNEL: &str = "kabinet_outbox";

/// Tells the push sender — on whichever replica it runs — that deliveries were queued.
pub(crate) trait OutboxBell {
    async fn ring(&mut self) -> Result<()>;
}

/// SQLite: one process, whose sender the writer wakes itself ([`crate::notify::Wake`]).
impl OutboxBell for sqlx::SqliteConnection {
    async fn ring(&mut self) -> Result<()> {
        Ok(())
    }
}

/// PostgreSQL: `NOTIFY` inside the transaction, delivered when it commits — when the
/// rows are there to be claimed — to the sender listening on any replica.
impl OutboxBell for sqlx::PgConnection {
    async fn ring(&mut self) -> Result<()> {
        sqlx::query("SELECT pg_notify($1, current_schema())")
            .bind(OUTBOX_CHANNEL)
            .execute(self)
            .await?;
        Ok(())
    }
}
pub(crate) use record_event;

const EVENT_SELECT: &str = "SELECT e.id, e.cabinet_id, e.kind, e.application_id, e.referral_id, e.child_iin, \
    e.details, e.occurred_at, e.read_at, a.number AS application_number, r.number AS referral_number, \
    kid.full_name AS child_name, an.text_kk AS announcement_kk, an.text_ru AS announcement_ru, \
    e.question_id";
const EVENT_FROM: &str = "FROM events e LEFT JOIN applications a ON a.id = e.application_id \
    LEFT JOIN referrals r ON r.id = e.referral_id LEFT JOIN children kid ON kid.iin = e.child_iin \
    LEFT JOIN announcements an ON an.id = e.announcement_id";

impl Storage {
    /// Records an event outside any other change (the referral reminder, tests).
    pub async fn record_event(&self, event: &NewEvent, now: DateTime<Utc>) -> Result<Option<i64>> {
        Ok(super::in_transaction!(self, tx => record_event!(tx, event, now)))
    }

    /// The feed: newest first.
    pub async fn feed(&self, cabinet_id: i64, page: i64, per_page: i64) -> Result<Page<Event>> {
        let sql = format!(
            "{EVENT_SELECT}, (SELECT COUNT(*) FROM events WHERE cabinet_id = $1) AS total {EVENT_FROM} \
              WHERE e.cabinet_id = $1 ORDER BY e.occurred_at DESC, e.id DESC LIMIT $2 OFFSET $3"
        );
        if let Some(direct) = self.direct()
            && let Some(found) = Page::read_now(page, per_page, |offset| {
                direct.all(&sql, params![cabinet_id, per_page, offset])
            })
        {
            return Ok(found);
        }
        Ok(on_pool!(self, pool => Page::read(page, per_page, |offset| {
            sqlx::query_as::<_, Counted<Event>>(&sql)
                .bind(cabinet_id).bind(per_page).bind(offset).fetch_all(pool)
        }).await)?)
    }

    pub async fn unread_count(&self, cabinet_id: i64) -> Result<i64> {
        const SQL: &str = "SELECT COUNT(*) FROM events WHERE cabinet_id = $1 AND read_at IS NULL";
        if let Some(Some(count)) = self
            .direct()
            .and_then(|d| d.scalar(SQL, params![cabinet_id]))
        {
            return Ok(count);
        }
        Ok(on_pool!(self, pool => sqlx::query_scalar(SQL).bind(cabinet_id).fetch_one(pool).await)?)
    }

    /// Marks the given events of the cabinet read; ids of other cabinets are ignored.
    pub async fn mark_read(&self, cabinet_id: i64, ids: &[i64], now: DateTime<Utc>) -> Result<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        // One statement for the screen's events (a page: a handful of ids).
        let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "UPDATE events SET read_at = $1 WHERE cabinet_id = $2 AND read_at IS NULL AND id IN ({})",
            placeholders.join(", ")
        );
        if let Some(direct) = self.direct() {
            let mut params = vec![Param::from(now), Param::from(cabinet_id)];
            params.extend(ids.iter().map(|&id| Param::from(id)));
            if let Some(n) = direct.write(&sql, &params) {
                return Ok(n);
            }
        }
        Ok(on_pool!(chat_state self, pool => {
            let mut query = sqlx::query(&sql).bind(now).bind(cabinet_id);
            for id in ids {
                query = query.bind(id);
            }
            query.execute(pool).await.map(|r| r.rows_affected())
        })?)
    }

    /// The event with this id if it belongs to the cabinet.
    pub async fn event(&self, cabinet_id: i64, id: i64) -> Result<Option<Event>> {
        let sql = format!("{EVENT_SELECT} {EVENT_FROM} WHERE e.id = $1 AND e.cabinet_id = $2");
        if let Some(found) = self
            .direct()
            .and_then(|d| d.optional(&sql, params![id, cabinet_id]))
        {
            return Ok(found);
        }
        Ok(
            on_pool!(self, pool => sqlx::query_as(&sql).bind(id).bind(cabinet_id).fetch_optional(pool).await)?,
        )
    }

    /// The deliveries queued for an event.
    pub async fn deliveries_of_event(&self, event_id: i64) -> Result<Vec<Delivery>> {
        Ok(on_pool!(self, pool => sqlx::query_as(
            "SELECT id, event_id, channel, chat_id, address, state, attempts, next_attempt_at \
               FROM deliveries WHERE event_id = $1 ORDER BY id")
            .bind(event_id).fetch_all(pool).await)?)
    }
}
