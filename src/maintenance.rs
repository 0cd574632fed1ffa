//! Chores that keep the database true and bounded, on a timer: logins end on time whether
//! or not their chat writes again (`SESSION_IDLE_DAYS`, `SESSION_MAX_DAYS`), so a push
//! never reaches a chat whose login should have ended; and what is only history —
//! finished deliveries, codes, ended sessions, old rate-limit windows — goes after
//! `RETENTION_DAYS`, so no table grows without bound.
//!
//! Deliveries claimed by a sender that lost its database or hung go back to the queue after
//! their lease ([`crate::storage::CLAIM_LEASE`]).
//!
//! Every statement is idempotent: on PostgreSQL each replica may run the chores.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::config::Config;
use crate::storage::{Pruned, Storage, StorageError};

/// How often sessions are checked.
const SESSIONS_EVERY: Duration = Duration::from_secs(60);
/// How often old rows are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// The chores, running.
pub struct RunningMaintenance {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningMaintenance {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Starts the chores: both at once, then each on its own period.
pub fn start(storage: Storage, config: &Config) -> RunningMaintenance {
    let limits = Limits::of(config);
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        let mut sessions = tokio::time::interval(SESSIONS_EVERY);
        let mut prune = tokio::time::interval(PRUNE_EVERY);
        for every in [&mut sessions, &mut prune] {
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        }
        loop {
            tokio::select! {
                _ = sessions.tick() => {
                    if let Err(e) = end_sessions(&storage, limits, crate::clock::now()).await {
                        tracing::warn!("could not end expired sessions: {}", e.log_safe());
                    }
                    if let Err(e) = requeue_expired_claims(&storage, crate::clock::now()).await {
                        tracing::warn!("could not requeue expired claims: {}", e.log_safe());
                    }
                }
                _ = prune.tick() => {
                    if let Err(e) = prune_history(&storage, limits, crate::clock::now()).await {
                        tracing::warn!("could not delete old rows: {}", e.log_safe());
                    }
                }
                _ = stopped.changed() => return,
            }
        }
    });
    RunningMaintenance { stop, task }
}

/// The limits the chores keep.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub session_idle: Duration,
    pub session_max: Duration,
    pub retention: Duration,
}

impl Limits {
    pub fn of(config: &Config) -> Limits {
        Limits {
            session_idle: config.login.session_idle,
            session_max: config.login.session_max,
            retention: config.retention,
        }
    }
}

fn before(now: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    now - chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX / 2)
}

/// Ends the sessions unused for `SESSION_IDLE_DAYS` or begun `SESSION_MAX_DAYS` ago.
pub async fn end_sessions(
    storage: &Storage,
    limits: Limits,
    now: DateTime<Utc>,
) -> Result<u64, StorageError> {
    let ended = storage
        .expire_sessions(
            before(now, limits.session_idle),
            before(now, limits.session_max),
            now,
        )
        .await?;
    if ended > 0 {
        tracing::info!(ended, "sessions ended: idle or too old");
    }
    Ok(ended)
}

/// Puts deliveries claimed longer than their lease ago back in the queue.
pub async fn requeue_expired_claims(
    storage: &Storage,
    now: DateTime<Utc>,
) -> Result<u64, StorageError> {
    let requeued = storage
        .requeue_expired_claims(now, crate::storage::CLAIM_LEASE)
        .await?;
    if requeued > 0 {
        tracing::warn!(
            requeued,
            "deliveries claimed past their lease are queued again"
        );
    }
    Ok(requeued)
}

/// Deletes the rows older than `RETENTION_DAYS` that are only history.
pub async fn prune_history(
    storage: &Storage,
    limits: Limits,
    now: DateTime<Utc>,
) -> Result<Pruned, StorageError> {
    let pruned = storage.prune(before(now, limits.retention)).await?;
    if pruned.total() > 0 {
        tracing::info!(?pruned, "old rows deleted (RETENTION_DAYS)");
    }
    Ok(pruned)
}
