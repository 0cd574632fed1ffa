//! The referral-expiry reminder (SPEC §2): once per referral, `REFERRAL_REMINDER_HOURS`
//! before its `valid_until`. Runs inside `kabinet run`; every replica may run it, since a
//! referral is marked reminded in the same transaction that records the event.

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

/// Starts the scheduler. `poke` makes it look at once (a referral was written); `sender`
/// is woken when reminders were queued.
pub fn start(
    storage: Storage,
    ahead: std::time::Duration,
    poke: Wake,
    sender: Wake,
) -> RunningReminders {
    let ahead = chrono::Duration::from_std(ahead).unwrap_or(chrono::Duration::MAX);
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        while !*stopped.borrow() {
            match storage
                .record_due_reminders(crate::clock::now(), ahead)
                .await
            {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!("{n} referral reminder(s) queued");
                    sender.wake();
                }
                Err(e) => tracing::warn!("referral reminders: {e}"),
            }
            tokio::select! {
                _ = poke.woken() => {}
                _ = tokio::time::sleep(EVERY) => {}
                _ = stopped.changed() => {}
            }
        }
    });
    RunningReminders { stop, task }
}
