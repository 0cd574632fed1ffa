//! Running updates: one chat's updates one at a time and in the order they came, different
//! chats at once.
//!
//! teloxide's dispatcher does the same with a worker per chat, but each worker holds a queue
//! of 32 two-kilobyte `Update`s (about 62 KB) from the start, keeps the workers of every chat
//! seen at the busiest moment for good (10,000 chats pressing at once left a process of
//! 570 MB), and under steady load drops and re-creates them all the time. Here a chat
//! costs memory only while it has updates in hand, and at most [`HANDLING_AT_ONCE`] updates
//! are being handled at a time: in a burst the rest wait as updates (2 KB each), not as
//! handlers part-way through (about 40 KB each, most of them waiting for their turn to send).

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};

use teloxide::dispatching::UpdateHandler;
use teloxide::dptree::di::DependencyMap;
use teloxide::types::Update;
use tokio::sync::{Notify, Semaphore, oneshot};

use super::BotError;
use crate::metrics::Metrics;
use crate::storage::Storage;

/// How an update taken from a webhook ended: what Telegram is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Handled (or skipped as a retry of one handled, or dropped from a flood on purpose):
    /// a 2xx, and Telegram forgets it; with the call the HTTP answer carries, if any (see
    /// `reply.rs`).
    Done(Option<String>),
    /// Not handled (the database did not answer): Telegram should send it again.
    NotHandled,
}

/// An update in a lane, and who waits to hear how it ended (a webhook request).
struct Taken {
    update: Update,
    reply: Option<oneshot::Sender<Outcome>>,
}

/// Updates one chat may have waiting behind the one in hand. A person has one or two; a
/// flood (a script, a stuck key) is cut here, so one chat can neither hold unbounded memory
/// nor keep the bot busy for long. The rest are dropped, with one polite answer.
pub const PER_CHAT_QUEUE: usize = 10;

/// Told of each update dropped from a full queue: its chat, the update, and whether it is
/// the first dropped since the chat's queue was last empty (to answer once per flood).
pub type Overflow = Arc<dyn Fn(i64, Update, bool) + Send + Sync>;

/// Updates handled at once, over all chats. Far above what a busy bot needs (2,000 updates
/// a second at 5 ms each is 10 at once); it bounds memory when thousands of chats press at
/// the same moment and their answers queue behind Telegram's rate limit.
pub const HANDLING_AT_ONCE: usize = 1024;

/// The updates in hand, per chat, and the handler tree they go through.
pub struct Lanes {
    /// A chat is here while a task is handling its updates; the queue holds those that
    /// came meanwhile.
    waiting: Mutex<HashMap<i64, Lane>>,
    handler: UpdateHandler<BotError>,
    overflow: Overflow,
    deps: DependencyMap,
    handling: Semaphore,
    /// Webhook mode: each update first takes its chat's turn in the database (one chat's
    /// updates one at a time across replicas, a retried update handled once).
    turns: Option<Storage>,
    /// Updates taken and not yet handled, and a bell for when that falls to zero.
    in_hand: Mutex<usize>,
    idle: Notify,
    /// Where each update's handling time goes.
    metrics: Option<Arc<Metrics>>,
}

/// One chat's updates waiting, and whether some were dropped since it was last empty.
#[derive(Default)]
struct Lane {
    queue: VecDeque<Taken>,
    overflowed: bool,
}

impl Lanes {
    /// `deps` holds what handlers take besides the update (the bot, [`super::Deps`], `Me`);
    /// `overflow` is told of updates dropped from a full queue.
    pub fn new(
        handler: UpdateHandler<BotError>,
        deps: DependencyMap,
        overflow: Overflow,
    ) -> Arc<Lanes> {
        Self::build(handler, deps, overflow, None)
    }

    /// The same lanes, each update first taking its chat's turn in `storage` (webhook
    /// mode; see [`Storage::take_chat_turn`]).
    pub fn with_turns(
        handler: UpdateHandler<BotError>,
        deps: DependencyMap,
        overflow: Overflow,
        storage: Storage,
    ) -> Arc<Lanes> {
        Self::build(handler, deps, overflow, Some(storage))
    }

    fn build(
        handler: UpdateHandler<BotError>,
        deps: DependencyMap,
        overflow: Overflow,
        turns: Option<Storage>,
    ) -> Arc<Lanes> {
        Arc::new(Lanes {
            waiting: Mutex::new(HashMap::new()),
            handler,
            overflow,
            deps,
            handling: Semaphore::new(HANDLING_AT_ONCE),
            turns,
            in_hand: Mutex::new(0),
            idle: Notify::new(),
            metrics: None,
        })
    }

    /// The same lanes, recording each update's handling time in `metrics`. Called as the
    /// lanes are made, before anyone else holds them.
    pub fn timed(mut self: Arc<Self>, metrics: Arc<Metrics>) -> Arc<Self> {
        match Arc::get_mut(&mut self) {
            Some(lanes) => lanes.metrics = Some(metrics),
            None => tracing::warn!("lanes already shared: their handling time is not recorded"),
        }
        self
    }

    /// Takes an update: handled at once if its chat has nothing in hand, after the chat's
    /// earlier updates otherwise, or dropped if [`PER_CHAT_QUEUE`] are waiting already.
    /// Never waits.
    pub fn submit(self: &Arc<Self>, update: Update) {
        self.take(Taken {
            update,
            reply: None,
        });
    }

    /// Takes an update as [`Lanes::submit`] does, and tells how it ended.
    pub fn submit_and_tell(self: &Arc<Self>, update: Update) -> oneshot::Receiver<Outcome> {
        let (reply, told) = oneshot::channel();
        self.take(Taken {
            update,
            reply: Some(reply),
        });
        told
    }

    fn take(self: &Arc<Self>, taken: Taken) {
        let Some(lane) = lane_of(&taken.update) else {
            *self.in_hand.lock().expect("not poisoned") += 1;
            let lanes = self.clone();
            tokio::spawn(async move {
                lanes.handle(None, taken).await;
                lanes.done();
            });
            return;
        };
        let taken = match self.waiting.lock().expect("not poisoned").entry(lane) {
            Entry::Occupied(mut waiting) => {
                let waiting = waiting.get_mut();
                if waiting.queue.len() < PER_CHAT_QUEUE {
                    *self.in_hand.lock().expect("not poisoned") += 1;
                    waiting.queue.push_back(taken);
                    return;
                }
                let first = !std::mem::replace(&mut waiting.overflowed, true);
                Err((taken, first))
            }
            Entry::Vacant(slot) => {
                slot.insert(Lane::default());
                Ok(taken)
            }
        };
        let taken = match taken {
            Ok(taken) => taken,
            Err((Taken { update, reply }, first)) => {
                (self.overflow)(lane, update, first);
                // Dropped on purpose: a retry would only flood again.
                if let Some(reply) = reply {
                    let _ = reply.send(Outcome::Done(None));
                }
                return;
            }
        };
        *self.in_hand.lock().expect("not poisoned") += 1;
        let lanes = self.clone();
        tokio::spawn(async move {
            let mut next = Some(taken);
            while let Some(taken) = next {
                lanes.handle(Some(lane), taken).await;
                lanes.done();
                let mut waiting = lanes.waiting.lock().expect("not poisoned");
                next = waiting.get_mut(&lane).and_then(|l| l.queue.pop_front());
                if next.is_none() {
                    waiting.remove(&lane);
                }
            }
        });
    }

    /// Handles one update when its turn comes. The handler's future is boxed so that a task
    /// waiting for its turn is small: a task is as big as the largest future it awaits.
    async fn handle(&self, lane: Option<i64>, taken: Taken) {
        let _turn = self
            .handling
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let Taken { update, reply } = taken;
        let started = std::time::Instant::now();
        let outcome = match (&self.turns, lane) {
            (Some(storage), Some(chat)) => Box::pin(self.in_turn(storage, chat, update)).await,
            _ => {
                Box::pin(self.dispatch(update)).await;
                Outcome::Done(None)
            }
        };
        if let Some(metrics) = &self.metrics {
            metrics.update_took(started.elapsed());
        }
        if let Some(reply) = reply {
            let _ = reply.send(outcome);
        }
    }

    /// Handles an update under its chat's turn, unless it was handled before.
    async fn in_turn(&self, storage: &Storage, chat: i64, update: Update) -> Outcome {
        let update_id = i64::from(update.id.0);
        let turn = match storage
            .take_chat_turn(chat, update_id, crate::clock::now())
            .await
        {
            Ok(turn) => turn,
            Err(error) => {
                tracing::warn!(error = %error.log_safe(), "could not take a chat's turn; Telegram will send the update again");
                return Outcome::NotHandled;
            }
        };
        if let Some(reply) = turn.handled_before(update_id, crate::clock::now()) {
            tracing::debug!(update_id, "a retried update was handled before; skipped");
            turn.release().await;
            return Outcome::Done(reply);
        }
        let redraw = turn.interrupted();
        if redraw {
            tracing::info!(
                update_id,
                "an update cut short by a replica that died is handled again"
            );
        }
        let ((), reply) = super::reply::in_webhook_reply(self.dispatch(update), redraw).await;
        match turn
            .done(storage, update_id, reply.as_deref(), crate::clock::now())
            .await
        {
            Ok(()) => Outcome::Done(reply),
            Err(error) => {
                tracing::warn!(error = %error.log_safe(), "could not mark an update handled; Telegram will send it again");
                Outcome::NotHandled
            }
        }
    }

    async fn dispatch(&self, update: Update) {
        let mut deps = self.deps.clone();
        deps.insert(update);
        // A handler that panics takes only its own update down; the lane goes on.
        let outcome = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(
            self.handler.dispatch(deps),
        ))
        .await;
        match outcome {
            Ok(ControlFlow::Break(Ok(()))) | Ok(ControlFlow::Continue(_)) => {}
            Ok(ControlFlow::Break(Err(error))) => tracing::error!(%error, "an update failed"),
            Err(_) => tracing::error!("an update's handler panicked"),
        }
    }

    fn done(&self) {
        let mut in_hand = self.in_hand.lock().expect("not poisoned");
        *in_hand -= 1;
        if *in_hand == 0 {
            self.idle.notify_waiters();
        }
    }

    /// How many updates are taken and not yet handled.
    pub fn in_hand(&self) -> usize {
        *self.in_hand.lock().expect("not poisoned")
    }

    /// Resolves when every update taken so far has been handled.
    pub async fn drained(&self) {
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            // Listening before looking, so a bell between the two is not missed.
            idle.as_mut().enable();
            if self.in_hand() == 0 {
                return;
            }
            idle.await;
        }
    }
}

/// The lane an update runs in: its chat, or for an update without one its sender.
fn lane_of(update: &Update) -> Option<i64> {
    update
        .chat()
        .map(|chat| chat.id.0)
        .or_else(|| update.from().map(|user| user.id.0 as i64))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;
    use std::time::Duration;

    use teloxide::dptree;

    use super::*;

    /// Update `update_id` from private chat `chat`, as Telegram sends it. Its handler waits
    /// `wait_ms` milliseconds (the number in the message's text).
    fn message(update_id: u32, chat: i64, wait_ms: u64) -> Update {
        let json = serde_json::json!({
            "update_id": update_id,
            "message": {
                "message_id": update_id, "date": 1_764_000_000, "text": wait_ms.to_string(),
                "chat": {"id": chat, "type": "private", "first_name": "Parent"},
                "from": {"id": chat, "is_bot": false, "first_name": "Parent"}
            }
        });
        // From text, as it comes over the wire: teloxide's update reads borrowed strings.
        serde_json::from_str(&json.to_string()).expect("a valid update")
    }

    type Log = Arc<StdMutex<Vec<u32>>>;

    /// Lanes whose handler waits as the message says, then logs the update's id.
    fn lanes(log: &Log) -> Arc<Lanes> {
        let handler: UpdateHandler<BotError> =
            dptree::entry().endpoint(|update: Update, log: Log| async move {
                let wait = match &update.kind {
                    teloxide::types::UpdateKind::Message(m) => {
                        m.text().and_then(|t| t.parse().ok())
                    }
                    _ => None,
                };
                let wait = wait.expect("a message with a number");
                tokio::time::sleep(Duration::from_millis(wait)).await;
                log.lock().unwrap().push(update.id.0);
                Ok(())
            });
        Lanes::new(handler, dptree::deps![log.clone()], Arc::new(|_, _, _| {}))
    }

    #[tokio::test]
    async fn a_chat_runs_in_order_and_other_chats_do_not_wait_for_it() {
        let log: Log = Arc::default();
        let lanes = lanes(&log);
        lanes.submit(message(1, 7, 150));
        lanes.submit(message(2, 7, 0));
        lanes.submit(message(3, 8, 0));
        lanes.submit(message(4, 7, 0));
        assert_eq!(lanes.in_hand(), 4);
        tokio::time::timeout(Duration::from_secs(5), lanes.drained())
            .await
            .expect("every update handled");
        // Chat 8 went by while chat 7 waited; chat 7 kept its order.
        assert_eq!(*log.lock().unwrap(), [3, 1, 2, 4]);
        assert_eq!(lanes.in_hand(), 0);
        assert!(
            lanes.waiting.lock().unwrap().is_empty(),
            "an idle chat holds nothing"
        );
    }

    #[tokio::test]
    async fn a_flooding_chat_is_cut_at_its_queue_and_told_once() {
        let log: Log = Arc::default();
        let dropped: Arc<StdMutex<Vec<(i64, u32, bool)>>> = Arc::default();
        let handler: UpdateHandler<BotError> =
            dptree::entry().endpoint(|update: Update, log: Log| async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                log.lock().unwrap().push(update.id.0);
                Ok(())
            });
        let seen = dropped.clone();
        let lanes = Lanes::new(
            handler,
            dptree::deps![log.clone()],
            Arc::new(move |chat, update: Update, first| {
                seen.lock().unwrap().push((chat, update.id.0, first))
            }),
        );
        for id in 1..=30 {
            lanes.submit(message(id, 7, 0));
        }
        lanes.submit(message(99, 8, 0));
        tokio::time::timeout(Duration::from_secs(5), lanes.drained())
            .await
            .expect("every update taken is handled");
        let handled = log.lock().unwrap().clone();
        // The one in hand and PER_CHAT_QUEUE behind it; the other chat is not affected.
        assert_eq!(handled.len(), 1 + PER_CHAT_QUEUE + 1, "{handled:?}");
        assert!(handled.contains(&99));
        let firsts = |seen: &[(i64, u32, bool)]| seen.iter().filter(|(_, _, f)| *f).count();
        {
            let seen = dropped.lock().unwrap();
            assert_eq!(seen.len(), 30 - 1 - PER_CHAT_QUEUE);
            assert_eq!(firsts(&seen), 1, "told once per flood");
            assert!(seen.iter().all(|(chat, _, _)| *chat == 7));
        }
        // Once the chat is quiet again, a new flood is told again.
        for id in 100..=130 {
            lanes.submit(message(id, 7, 0));
        }
        lanes.drained().await;
        assert_eq!(firsts(&dropped.lock().unwrap()), 2);
    }

    #[tokio::test]
    async fn drained_waits_for_the_updates_in_hand() {
        let log: Log = Arc::default();
        let lanes = lanes(&log);
        lanes.submit(message(1, 7, 200));
        lanes.drained().await;
        assert_eq!(*log.lock().unwrap(), [1]);
    }
}
