//! Reminders: a referral's expiry (SPEC §2), once per referral, `REFERRAL_REMINDER_HOURS`
//! before its `valid_until`; and an open question's deadline (SPEC §1.11), at each of
//! `ANSWER_REMINDER_HOURS` before it, within a few seconds of its time. Runs inside
//! `kabinet run`; every replica may run it, since each reminder is marked in the same
//! transaction that records its event.

use std::time::Duration;

use tokio::sync::watch;

use super::sender::Wake;
use crate::storage::Storage;

/// How often the scheduler looks when nothing woke it.
const EVERY: Duration = Duration::from_secs(60);

pub struct RunningReminders {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningReminders {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Starts the scheduler. `poke` makes it look at once (a referral or a question was
/// written); `sender` is woken when reminders were queued. `question_leads`: how long before
/// a question's deadline each reminder goes, longest first.
pub fn start(
    storage: Storage,
    ahead: std::time::Duration,
    question_leads: Vec<chrono::Duration>,
    poke: Wake,
    sender: Wake,
) -> RunningReminders {
    let ahead = chrono::Duration::from_std(ahead).unwrap_or(chrono::Duration::MAX);
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        while !*stopped.borrow() {
            let now = crate::clock::now();
            match storage.record_due_reminders(now, ahead).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!("{n} referral reminder(s) queued");
                    sender.wake();
                }
                Err(e) => tracing::warn!("referral reminders: {e}"),
            }
            match storage
                .record_due_question_reminders(&question_leads, now)
                .await
            {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!("{n} question reminder(s) queued");
                    sender.wake();
                }
                Err(e) => tracing::warn!("question reminders: {e}"),
            }
            // The next question reminder is due at its second, not at the next round.
            let next = storage
                .next_question_reminder(&question_leads, crate::clock::now())
                .await
                .ok()
                .flatten()
                .and_then(|at| (at - crate::clock::now()).to_std().ok())
                .map_or(EVERY, |wait| wait.min(EVERY));
            tokio::select! {
                _ = poke.woken() => {}
                _ = tokio::time::sleep(next) => {}
                _ = stopped.changed() => {}
            }
        }
    });
    RunningReminders { stop, task }
}
