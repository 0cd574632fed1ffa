//! Long polling: Kabinet's own `getUpdates` loop, feeding the lanes.
//!
//! Not teloxide's `Polling`: its HTTP client gives up after 17 s, sooner than a 30 s poll
//! ends, so every quiet poll failed as a timeout, and its backoff (1, 2, 4 … 64 s) was
//! reset only by an update — a parent writing after a quiet spell waited up to a minute.
//! Here a poll may take its whole timeout (see [`BotApi::get_updates`]), and the pause
//! between tries applies to failures only and ends with the first poll that succeeds.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::lanes::Lanes;
use crate::metrics::Metrics;
use crate::telegram::{BotApi, CallError};

/// The updates Kabinet asks for: `my_chat_member` tells when a parent blocks the bot.
pub const ALLOWED_UPDATES: &[&str] = &["message", "callback_query", "my_chat_member"];

/// The pause after the first failed poll; it doubles with each failure in a row, up to
/// [`PAUSE_CAP`].
const FIRST_PAUSE: Duration = Duration::from_secs(1);
const PAUSE_CAP: Duration = Duration::from_secs(30);

/// Polls until `stopping` turns true; then confirms what it took (so Telegram does not
/// send it again after a restart) and waits for the updates in hand.
pub async fn poll(
    api: BotApi,
    lanes: Arc<Lanes>,
    mut stopping: watch::Receiver<bool>,
    timeout: Duration,
    metrics: Arc<Metrics>,
) {
    // Counted from the start: a first poll that never succeeds shows as stale.
    metrics.polled(crate::clock::now());
    let mut offset: Option<i64> = None;
    let mut failures = 0u32;
    while !*stopping.borrow() {
        let polled = tokio::select! {
            polled = api.get_updates(offset, timeout, ALLOWED_UPDATES) => polled,
            _ = stopping.changed() => break,
        };
        let error = match polled {
            Ok(polled) => {
                metrics.polled(crate::clock::now());
                failures = 0;
                offset = polled.next_offset.or(offset);
                for update in polled.updates {
                    lanes.submit(update);
                }
                continue;
            }
            Err(error) => error,
        };
        failures += 1;
        let pause = match error {
            CallError::RetryAfter(after) => after,
            _ => pause_after(failures),
        };
        tracing::warn!(%error, "getting updates failed; trying again in {pause:?}");
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stopping.changed() => break,
        }
    }
    if let Some(offset) = offset {
        if let Err(error) = api
            .get_updates(Some(offset), Duration::ZERO, ALLOWED_UPDATES)
            .await
        {
            tracing::warn!(%error, "could not confirm the last updates; Telegram may resend them");
        }
    }
    lanes.drained().await;
}

/// The pause after `failures` failed polls in a row.
fn pause_after(failures: u32) -> Duration {
    FIRST_PAUSE
        .saturating_mul(1 << failures.saturating_sub(1).min(16))
        .min(PAUSE_CAP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_doubles_from_a_second_up_to_half_a_minute() {
        let pauses: Vec<u64> = (1..=8).map(|n| pause_after(n).as_secs()).collect();
        assert_eq!(pauses, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(pause_after(u32::MAX), PAUSE_CAP);
    }
}
