//! One chat's updates one at a time, across replicas, each handled once (webhook mode).
//!
//! Telegram posts a chat's next update only after the previous one was answered, but it
//! retries an update it got no 2xx for — maybe to another replica, maybe while the first is
//! still at work on it. So before an update is handled its chat's *turn* is taken:
//! - on PostgreSQL, a transaction holding `pg_advisory_xact_lock(chat)`: a replica handling
//!   the same chat's update waits for it, and a replica that dies (even by SIGKILL) loses
//!   its connection and so its lock at once;
//! - on SQLite there is one process, whose per-chat lanes already run one update at a time.
//!
//! Under the turn, `chat_updates` says which update the chat saw last; one not above it is
//! a retry of an update already handled, and is skipped (answered again with the webhook
//! reply it had, see `bot/reply.rs`). The mark is written when the update is done, in the
//! turn's own transaction: a replica that dies mid-update leaves no mark, and Telegram's
//! retry is handled by another. That the update began is written at once, on its own, so
//! the retry knows it was cut short and sends its screen anew instead of editing.

use chrono::{DateTime, Utc};
use sqlx::Postgres;

use super::{Pool, Result, Storage, on_pool};

/// Telegram gives up retrying an update after about a day, and after a week without updates
/// it may start numbering them anew (lower): past this, an id not above the last one is a
/// new update, not a retry.
const RETRY_WINDOW_HOURS: i64 = 24;

/// The right to handle one chat's update; see the module's text.
pub struct ChatTurn {
    chat_id: i64,
    /// PostgreSQL: the transaction holding the chat's advisory lock until it ends (a turn
    /// dropped without [`ChatTurn::done`] rolls back, which releases it too).
    lock: Option<sqlx::Transaction<'static, Postgres>>,
    /// The last update handled in this chat, when, and the webhook answer it had.
    last: Option<(i64, DateTime<Utc>, Option<String>)>,
    /// This update was begun before and never marked handled: whoever began it died.
    interrupted: bool,
}

/// The chat's marks as a turn reads them.
#[derive(sqlx::FromRow)]
struct Marks {
    last_update_id: i64,
    handled_at: DateTime<Utc>,
    reply: Option<String>,
    started_update_id: Option<i64>,
}

impl Storage {
    /// Takes `chat_id`'s turn for `update_id`, waiting while another replica holds it, and
    /// notes that the update has begun.
    pub async fn take_chat_turn(
        &self,
        chat_id: i64,
        update_id: i64,
        now: DateTime<Utc>,
    ) -> Result<ChatTurn> {
        const MARKS: &str = "SELECT last_update_id, handled_at, reply, started_update_id \
            FROM chat_updates WHERE chat_id = $1";
        let (lock, marks): (_, Option<Marks>) = match (&self.pool, &self.turns) {
            (Pool::Postgres(_), Some(turns)) => {
                let mut lock = turns.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(chat_id)
                    .execute(&mut *lock)
                    .await?;
                let marks = sqlx::query_as(MARKS)
                    .bind(chat_id)
                    .fetch_optional(&mut *lock)
                    .await?;
                (Some(lock), marks)
            }
            _ => {
                let marks = on_pool!(self, pool => sqlx::query_as(MARKS)
                    .bind(chat_id).fetch_optional(pool).await)?;
                (None, marks)
            }
        };
        let interrupted = marks.as_ref().is_some_and(|m| {
            m.started_update_id == Some(update_id) && m.last_update_id < update_id
        });
        // Committed on its own, outside the turn's transaction: it must outlive a replica
        // that dies with the update in hand.
        on_pool!(chat_state self, pool => sqlx::query(
            "INSERT INTO chat_updates (chat_id, last_update_id, handled_at, started_update_id) \
             VALUES ($1, 0, $2, $3) ON CONFLICT (chat_id) DO UPDATE SET \
             started_update_id = excluded.started_update_id")
            .bind(chat_id).bind(now).bind(update_id).execute(pool).await.map(|_| ()))?;
        Ok(ChatTurn {
            chat_id,
            lock,
            last: marks.map(|m| (m.last_update_id, m.handled_at, m.reply)),
            interrupted,
        })
    }
}

impl ChatTurn {
    /// `Some` when `update_id` was handled in this chat already (Telegram retried it), with
    /// the webhook answer it had when it is that very update (Telegram retried because that
    /// answer never reached it).
    pub fn handled_before(&self, update_id: i64, now: DateTime<Utc>) -> Option<Option<String>> {
        let (last, at, reply) = self.last.as_ref()?;
        let retried = update_id <= *last && now - *at < chrono::Duration::hours(RETRY_WINDOW_HOURS);
        retried.then(|| reply.clone().filter(|_| update_id == *last))
    }

    /// Whether this update was begun before by a replica that died with it in hand: what
    /// that replica already showed cannot be known, so the screen is sent anew rather than
    /// edited (an edit it already made would be refused as not modified).
    pub fn interrupted(&self) -> bool {
        self.interrupted
    }

    /// Marks `update_id` handled, with the webhook answer it had, and gives the turn back.
    pub async fn done(
        self,
        storage: &Storage,
        update_id: i64,
        reply: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        const MARK: &str = "INSERT INTO chat_updates (chat_id, last_update_id, handled_at, reply) \
            VALUES ($1, $2, $3, $4) ON CONFLICT (chat_id) DO UPDATE SET \
            last_update_id = excluded.last_update_id, handled_at = excluded.handled_at, \
            reply = excluded.reply";
        match self.lock {
            Some(mut lock) => {
                sqlx::query(MARK)
                    .bind(self.chat_id)
                    .bind(update_id)
                    .bind(now)
                    .bind(reply)
                    .execute(&mut *lock)
                    .await?;
                lock.commit().await?;
            }
            None => {
                on_pool!(storage, pool => sqlx::query(MARK)
                    .bind(self.chat_id).bind(update_id).bind(now).bind(reply)
                    .execute(pool).await.map(|_| ()))?;
            }
        }
        Ok(())
    }

    /// Gives the turn back without a mark (the update was a retry, already marked).
    pub async fn release(self) {
        if let Some(lock) = self.lock {
            let _ = lock.rollback().await;
        }
    }
}
