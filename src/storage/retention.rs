//! Deleting what is only history once it is older than `RETENTION_DAYS`: finished
//! deliveries, confirmation codes, ended sessions, old rate-limit windows, the webhook's
//! marks of chats quiet since. Events stay: they are the parent's feed.
//!
//! Each table goes in batches, so a first run over a large table never holds SQLite's write
//! lock (or PostgreSQL's row locks) for long; each batch is found through an index.

use chrono::{DateTime, Utc};

use super::{Result, Storage, on_pool};

/// Rows deleted per statement.
const BATCH: i64 = 5_000;

/// What a prune deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub deliveries: u64,
    pub codes: u64,
    pub sessions: u64,
    pub rate_limits: u64,
    /// Chats' last-update marks (webhook mode).
    pub update_marks: u64,
}

impl Pruned {
    pub fn total(&self) -> u64 {
        self.deliveries + self.codes + self.sessions + self.rate_limits + self.update_marks
    }
}

impl Storage {
    /// Deletes history from before `cutoff`.
    pub async fn prune(&self, cutoff: DateTime<Utc>) -> Result<Pruned> {
        Ok(Pruned {
            deliveries: self
                .delete_in_batches(
                    "DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries \
                     WHERE state IN ('sent', 'failed', 'dropped') AND created_at < $1 LIMIT $2)",
                    cutoff,
                )
                .await?,
            codes: self
                .delete_in_batches(
                    "DELETE FROM otp_codes WHERE id IN (SELECT id FROM otp_codes \
                     WHERE created_at < $1 LIMIT $2)",
                    cutoff,
                )
                .await?,
            sessions: self
                .delete_in_batches(
                    "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions \
                     WHERE ended_at IS NOT NULL AND ended_at < $1 LIMIT $2)",
                    cutoff,
                )
                .await?,
            // Fixed-window counters, and the chats' counts of wrong passwords (a day without
            // one forgets them anyway).
            rate_limits: self
                .delete_in_batches(
                    "DELETE FROM rate_limits WHERE bucket IN (SELECT bucket FROM rate_limits \
                     WHERE window_start < $1 LIMIT $2)",
                    cutoff,
                )
                .await?
                + self
                    .delete_in_batches(
                        "DELETE FROM login_failures WHERE (cabinet_id, chat_id) IN \
                         (SELECT cabinet_id, chat_id FROM login_failures \
                          WHERE last_failure_at < $1 LIMIT $2)",
                        cutoff,
                    )
                    .await?,
            update_marks: self
                .delete_in_batches(
                    "DELETE FROM chat_updates WHERE chat_id IN (SELECT chat_id FROM chat_updates \
                     WHERE handled_at < $1 LIMIT $2)",
                    cutoff,
                )
                .await?,
        })
    }

    async fn delete_in_batches(&self, sql: &str, cutoff: DateTime<Utc>) -> Result<u64> {
        let mut deleted = 0;
        loop {
            let n = on_pool!(self, pool => sqlx::query(sql).bind(cutoff).bind(BATCH)
                .execute(pool).await.map(|r| r.rows_affected()))?;
            deleted += n;
            if n < BATCH as u64 {
                return Ok(deleted);
            }
        }
    }
}
