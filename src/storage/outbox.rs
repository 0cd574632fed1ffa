//! The delivery outbox, as the push sender works it: claim what is due, then record how each
//! send went. A claimed row is in state `sending`; a sender that dies leaves it there, and
//! [`Storage::requeue_claimed`] puts it back in the queue when the next sender takes over;
//! a claim older than [`CLAIM_LEASE`] goes back on any replica's sweep
//! ([`Storage::requeue_expired_claims`]), whatever became of its sender.

use chrono::{DateTime, Utc};

use super::events::{OutboxBell, record_event};
use super::{Event, NewEvent, Pool, Result, Storage, in_transaction, on_pool};
use crate::domain::{Channel, EventKind, Language};

/// A delivery claimed for sending, with everything its text needs.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub channel: Channel,
    /// Telegram: the chat.
    pub chat_id: Option<i64>,
    /// SMS: the phone; e-mail: the address.
    pub address: Option<String>,
    /// Sends tried so far, this one included.
    pub attempts: i64,
    pub event: Event,
    /// The language of the chat (Telegram) or of the cabinet (SMS, e-mail).
    pub language: Language,
    /// Telegram: whether the chat is still logged into the event's cabinet and not blocked.
    /// A push must never reach a chat that has logged out since it was queued.
    pub chat_may_receive: bool,
    /// An announcement posted as silent: it arrives without a sound at any hour.
    pub silent: bool,
    /// An announcement cancelled after this delivery was claimed: it is not sent.
    pub cancelled: bool,
}

#[derive(sqlx::FromRow)]
struct ClaimRow {
    d_id: i64,
    channel: Channel,
    chat_id: Option<i64>,
    address: Option<String>,
    attempts: i64,
    #[sqlx(flatten)]
    event: Event,
    chat_language: Option<Language>,
    cabinet_language: Language,
    live_session: Option<i64>,
    announcement_silent: Option<bool>,
    announcement_cancelled_at: Option<DateTime<Utc>>,
}

/// How one send went, as the outbox records it.
#[derive(Debug, Clone, PartialEq)]
pub enum SendOutcome {
    Sent,
    /// The send failed: try again at this time.
    RetryAt(DateTime<Utc>, String),
    /// Not sent, on Telegram's request (429): try again at this time. Not a failure: it
    /// does not count towards the attempts that make the backoff grow.
    Postponed(DateTime<Utc>),
    /// Will never succeed (a refused address, a text Telegram rejects): kept for the record.
    Failed(String),
    /// Not sent on purpose: the chat blocked the bot or logged out.
    Dropped(String),
}

/// The outbox as `/metrics` shows it, read from the open rows alone (an index of pending
/// deliveries), never by counting the whole history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutboxStats {
    /// Per class (`question`, `push`, `announcement`): deliveries waiting, counted up to
    /// [`OUTBOX_COUNT_CAP`], and when the oldest of them was queued.
    pub pending: Vec<(&'static str, i64, Option<DateTime<Utc>>)>,
    /// When the oldest answer the portal's webhook has not taken was given.
    pub oldest_undelivered_answer: Option<DateTime<Utc>>,
}

/// A queue deeper than this is reported as this deep: the count stays cheap however far
/// the outbox has fallen behind (an alert fires long before).
pub const OUTBOX_COUNT_CAP: i64 = 100_000;

/// A referral that expires soon and has not been reminded of yet.
#[derive(Debug, Clone, sqlx::FromRow)]
struct DueReminder {
    id: i64,
    cabinet_id: i64,
    child_iin: String,
    valid_until: DateTime<Utc>,
}

/// A pending delivery `d` with no earlier one of its kind (a parent's own push, or an
/// announcement) to its recipient (chat, phone, address) still open — waiting for a retry,
/// or being sent. A parent's own push never waits behind an announcement queued for the
/// same chat: the announcement may be minutes back in a city-wide queue.
const NEXT_FOR_ITS_RECIPIENT: &str = "d.state = 'pending' \
    AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.chat_id = d.chat_id \
        AND e.id < d.id AND e.state IN ('pending', 'sending') AND e.priority = d.priority) \
    AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.address = d.address \
        AND e.channel = d.channel AND e.id < d.id AND e.state IN ('pending', 'sending') \
        AND e.priority = d.priority)";

const CLAIMED_SELECT: &str = "SELECT d.id AS d_id, d.channel, d.chat_id, d.address, d.attempts, \
    e.id, e.cabinet_id, e.kind, e.application_id, e.referral_id, e.child_iin, e.details, \
    e.occurred_at, e.read_at, a.number AS application_number, r.number AS referral_number, \
    kid.full_name AS child_name, an.text_kk AS announcement_kk, an.text_ru AS announcement_ru, \
    an.silent AS announcement_silent, an.cancelled_at AS announcement_cancelled_at, e.question_id, \
    ch.language AS chat_language, c.language AS cabinet_language, s.id AS live_session \
    FROM deliveries d \
    JOIN events e ON e.id = d.event_id \
    JOIN cabinets c ON c.id = e.cabinet_id \
    LEFT JOIN children kid ON kid.iin = e.child_iin \
    LEFT JOIN applications a ON a.id = e.application_id \
    LEFT JOIN referrals r ON r.id = e.referral_id \
    LEFT JOIN announcements an ON an.id = e.announcement_id \
    LEFT JOIN chats ch ON ch.chat_id = d.chat_id \
    LEFT JOIN sessions s ON s.chat_id = d.chat_id AND s.cabinet_id = e.cabinet_id \
                        AND s.ended_at IS NULL AND ch.blocked_at IS NULL";

/// How long a claimed delivery may stay claimed. A send takes seconds (the pacer's queue is
/// kept to about two seconds of sends; gateways time out sooner): a claim older than this
/// belongs to a sender that lost its database or hung, and the delivery is queued again —
/// a duplicate at worst, never a loss.
pub const CLAIM_LEASE: chrono::Duration = chrono::Duration::minutes(5);

impl Storage {
    /// Puts back in the queue every delivery claimed before `now - lease`; returns how many.
    /// Any replica's periodic chores call it.
    pub async fn requeue_expired_claims(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<u64> {
        let n = in_transaction!(self, tx => {
            let n = sqlx::query(
                "UPDATE deliveries SET state = 'pending', claimed_at = NULL, next_attempt_at = $1 \
                 WHERE state = 'sending' AND claimed_at < $2")
                .bind(now).bind(now - lease).execute(&mut *tx).await?.rows_affected();
            if n > 0 {
                OutboxBell::ring(&mut *tx).await?;
            }
            n
        });
        Ok(n)
    }

    /// Puts every delivery left in `sending` back in the queue. Called when a sender starts:
    /// only one sender runs at a time, so such rows belong to one that stopped mid-send.
    pub async fn requeue_claimed(&self, now: DateTime<Utc>) -> Result<u64> {
        Ok(on_pool!(self, pool => sqlx::query(
            "UPDATE deliveries SET state = 'pending', claimed_at = NULL, next_attempt_at = $1 \
             WHERE state = 'sending'")
            .bind(now).execute(pool).await.map(|r| r.rows_affected()))?)
    }

    /// Claims up to `limit` deliveries that are due, oldest first, and counts the attempt.
    /// A delivery is claimed only when no earlier one to its recipient (chat, phone,
    /// address) is still open — waiting for a retry, or being sent — so a parent gets
    /// the pushes one at a time, in the order their events were recorded, and a retried
    /// push is never overtaken. On PostgreSQL rows another transaction holds are skipped,
    /// not waited for.
    ///
    /// `to_portal` chooses the answers for the portal's webhook (which wait for no pace and
    /// are claimed on their own), or everything else.
    pub async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: i64,
        to_portal: bool,
    ) -> Result<Vec<ClaimedDelivery>> {
        let channel = if to_portal { "=" } else { "<>" };
        let due = format!(
            "SELECT id FROM deliveries d WHERE {NEXT_FOR_ITS_RECIPIENT} \
             AND d.channel {channel} 'portal' \
             AND d.next_attempt_at <= $1 ORDER BY d.priority, d.next_attempt_at, d.id LIMIT $2"
        );
        let claim = |lock: &str| {
            format!(
                "UPDATE deliveries SET state = 'sending', claimed_at = $1, attempts = attempts + 1 \
                 WHERE id IN ({due}{lock}) RETURNING id"
            )
        };
        let ids: Vec<i64> = match &self.pool {
            // SQLite has one writer at a time: `BEGIN IMMEDIATE` is the lock.
            Pool::Sqlite(_) => {
                let sql = claim("");
                in_transaction!(self, tx => sqlx::query_scalar(&sql)
                    .bind(now).bind(limit).fetch_all(&mut *tx).await?)
            }
            Pool::Postgres(_) => {
                let sql = claim(" FOR UPDATE SKIP LOCKED");
                in_transaction!(self, tx => sqlx::query_scalar(&sql)
                    .bind(now).bind(limit).fetch_all(&mut *tx).await?)
            }
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Ids are integers from the database: safe to write into the statement.
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let sql = format!(
            "{CLAIMED_SELECT} WHERE d.id IN ({list}) ORDER BY d.priority, d.next_attempt_at, d.id"
        );
        let rows: Vec<ClaimRow> =
            on_pool!(self, pool => sqlx::query_as(&sql).fetch_all(pool).await)?;
        Ok(rows
            .into_iter()
            .map(|r| ClaimedDelivery {
                id: r.d_id,
                channel: r.channel,
                chat_id: r.chat_id,
                address: r.address,
                attempts: r.attempts,
                language: r.chat_language.unwrap_or(r.cabinet_language),
                chat_may_receive: r.live_session.is_some(),
                silent: r.announcement_silent.unwrap_or(false),
                cancelled: r.announcement_cancelled_at.is_some(),
                event: r.event,
            })
            .collect())
    }

    /// Records how a claimed delivery's send went.
    pub async fn finish_delivery(
        &self,
        id: i64,
        outcome: &SendOutcome,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (state, next, error, uncount) = match outcome {
            SendOutcome::Sent => ("sent", None, None, 0),
            SendOutcome::RetryAt(at, why) => ("pending", Some(*at), Some(why.as_str()), 0),
            SendOutcome::Postponed(at) => ("pending", Some(*at), Some("429 Too Many Requests"), 1),
            SendOutcome::Failed(why) => ("failed", None, Some(why.as_str()), 0),
            SendOutcome::Dropped(why) => ("dropped", None, Some(why.as_str()), 0),
        };
        let sent_at = (state == "sent").then_some(now);
        on_pool!(self, pool => sqlx::query(
            "UPDATE deliveries SET state = $1, next_attempt_at = COALESCE($2, next_attempt_at), \
             last_error = $3, sent_at = $4, claimed_at = NULL, attempts = attempts - $5 \
             WHERE id = $6 AND state = 'sending'")
            .bind(state).bind(next).bind(error).bind(sent_at).bind(uncount as i64).bind(id)
            .execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// Whether more deliveries wait for `d`'s recipient (the sender looks again at once
    /// when one send ends and the next of that chat may go).
    pub async fn more_waiting_for(&self, d: &ClaimedDelivery) -> Result<bool> {
        let waiting: bool = match (d.chat_id, d.address.as_deref()) {
            (Some(chat), _) => on_pool!(self, pool => sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM deliveries \
                  WHERE chat_id = $1 AND state IN ('pending', 'sending'))")
                .bind(chat).fetch_one(pool).await)?,
            (None, Some(address)) => on_pool!(self, pool => sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM deliveries \
                  WHERE address = $1 AND channel = $2 AND state IN ('pending', 'sending'))")
                .bind(address).bind(d.channel).fetch_one(pool).await)?,
            (None, None) => false,
        };
        Ok(waiting)
    }

    /// When the last Telegram push went out, if any did.
    pub async fn last_telegram_send(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(on_pool!(self, pool => sqlx::query_scalar(
            "SELECT MAX(sent_at) FROM deliveries WHERE channel = 'telegram' AND state = 'sent'")
            .fetch_one(pool).await)?)
    }

    /// When the next delivery that may be claimed falls due, if any. Deliveries waiting
    /// behind an earlier one to their recipient do not count: they become claimable when
    /// that one ends, and the sender is woken then.
    pub async fn next_delivery_due(&self) -> Result<Option<DateTime<Utc>>> {
        // Ordered and limited rather than MIN(): the pending index is read in order and the
        // first delivery that may go ends the search.
        let sql = format!(
            "SELECT d.next_attempt_at FROM deliveries d WHERE {NEXT_FOR_ITS_RECIPIENT} \
             ORDER BY d.next_attempt_at LIMIT 1"
        );
        Ok(on_pool!(self, pool => sqlx::query_scalar(&sql).fetch_optional(pool).await)?)
    }

    pub async fn outbox_stats(&self) -> Result<OutboxStats> {
        let mut pending = Vec::new();
        for (class, priority) in [("question", 0i64), ("push", 1), ("announcement", 2)] {
            let count: i64 = on_pool!(self, pool => sqlx::query_scalar(
                "SELECT COUNT(*) FROM (SELECT 1 FROM deliveries \
                  WHERE state = 'pending' AND priority = $1 LIMIT $2) AS open")
                .bind(priority).bind(OUTBOX_COUNT_CAP).fetch_one(pool).await)?;
            let oldest: Option<DateTime<Utc>> = on_pool!(self, pool => sqlx::query_scalar(
                "SELECT created_at FROM deliveries WHERE state = 'pending' AND priority = $1 \
                 ORDER BY created_at LIMIT 1")
                .bind(priority).fetch_optional(pool).await)?;
            pending.push((class, count, oldest));
        }
        Ok(OutboxStats {
            pending,
            oldest_undelivered_answer: self.oldest_undelivered_answer().await?,
        })
    }

    /// Records the "expires soon" event of every active referral that expires within
    /// `ahead` and has not had one: once per referral, whatever restarts happen. Returns
    /// how many were recorded.
    pub async fn record_due_reminders(
        &self,
        now: DateTime<Utc>,
        ahead: chrono::Duration,
    ) -> Result<usize> {
        let due: Vec<DueReminder> = on_pool!(self, pool => sqlx::query_as(
            "SELECT r.id, a.cabinet_id, a.child_iin, r.valid_until FROM referrals r \
               JOIN applications a ON a.id = r.application_id \
              WHERE r.status = 'active' AND r.reminded_at IS NULL \
                AND r.valid_until > $1 AND r.valid_until <= $2 \
              ORDER BY r.valid_until LIMIT 500")
            .bind(now).bind(now + ahead).fetch_all(pool).await)?;
        let mut recorded = 0;
        for r in due {
            let event = NewEvent {
                cabinet_id: r.cabinet_id,
                kind: EventKind::ReferralExpiresSoon,
                application_id: None,
                referral_id: Some(r.id),
                child_iin: Some(r.child_iin),
                details: serde_json::json!({ "valid_until": r.valid_until }),
                occurred_at: now,
                dedup_key: format!("reminder:{}", r.id),
                question_id: None,
            };
            let done = in_transaction!(self, tx => {
                // Marked in the same transaction: a crash cannot remind twice or never.
                let marked = sqlx::query(
                    "UPDATE referrals SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL")
                    .bind(now).bind(r.id).execute(&mut *tx).await?.rows_affected();
                if marked == 1 {
                    record_event!(tx, &event, now).is_some()
                } else {
                    false
                }
            });
            recorded += usize::from(done);
        }
        Ok(recorded)
    }
}

/// PostgreSQL's word that deliveries were queued, on any replica (see
/// [`super::events::OUTBOX_CHANNEL`]).
pub struct OutboxListener {
    listener: sqlx::postgres::PgListener,
    schema: String,
}

impl Storage {
    /// Listens for queued deliveries; `None` on SQLite, where only this process writes.
    pub async fn listen_outbox(&self) -> Result<Option<OutboxListener>> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(None);
        };
        let schema: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(pool)
            .await?;
        let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen(super::events::OUTBOX_CHANNEL).await?;
        Ok(Some(OutboxListener { listener, schema }))
    }
}

impl OutboxListener {
    /// Resolves at the next word for this deployment's schema. A lost connection is opened
    /// again (and the words sent meanwhile are lost: the sender's sweep finds their rows).
    pub async fn next(&mut self) -> Result<()> {
        loop {
            let word = self.listener.recv().await?;
            if word.payload() == self.schema {
                return Ok(());
            }
        }
    }
}

/// Held while this process is the one push sender, so Telegram's global limit holds across
/// replicas. PostgreSQL: a session advisory lock on a connection of its own (closing it, or
/// losing it, lets another replica take over). SQLite: one process owns the file.
pub struct SenderLease {
    connection: Option<sqlx::PgConnection>,
}

impl Storage {
    /// The sender's lease, or `None` while another replica holds it.
    pub async fn try_lead_sender(
        &self,
        standby: &mut Option<sqlx::PgConnection>,
    ) -> Result<Option<SenderLease>> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(Some(SenderLease { connection: None }));
        };
        // A replica standing by keeps its connection between tries, rather than opening
        // one a second.
        let mut connection = match standby.take() {
            Some(connection) => connection,
            None => pool.acquire().await?.detach(),
        };
        // Keyed by schema: deployments (and tests) that share a database keep apart. The
        // two-number form: its keys never meet the one-number keys of chats' turns.
        let held: bool = sqlx::query_scalar(
            "SELECT pg_try_advisory_lock(hashtext(current_schema()), hashtext('kabinet-push-sender'))",
        )
        .fetch_one(&mut connection)
        .await?;
        if held {
            Ok(Some(SenderLease {
                connection: Some(connection),
            }))
        } else {
            *standby = Some(connection);
            Ok(None)
        }
    }
}

impl SenderLease {
    /// Whether the lease still holds (its connection answers).
    pub async fn is_held(&mut self) -> bool {
        match &mut self.connection {
            None => true,
            Some(c) => sqlx::query("SELECT 1").execute(&mut *c).await.is_ok(),
        }
    }

    pub async fn release(self) {
        if let Some(c) = self.connection {
            use sqlx::Connection;
            let _ = c.close().await;
        }
    }
}
