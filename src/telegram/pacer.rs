//! Telegram's flood limits, kept on Kabinet's side so that Telegram never has to refuse a
//! message. TELEGRAM.md: about 30 messages a second overall (up to 1000 with paid
//! broadcasts), about one a second in a private chat with short bursts tolerated, 20 a
//! minute in a group; a refused message says how long to wait (`retry_after`).
//!
//! Every `sendMessage` — a parent's answer or a push — takes its turn here first:
//! - **Overall**, messages leave evenly spaced at [`RATE_MARGIN`] of `TELEGRAM_GLOBAL_RATE`
//!   (27 a second, one every 37 ms, by default), never in bursts: Telegram counts a sliding
//!   second, and network jitter must not push two bursts into one.
//! - **Per chat**, a generic cell rate (GCRA): a couple of messages back to back, then one
//!   every `1 / (RATE_MARGIN × TELEGRAM_CHAT_RATE)` seconds; groups 20 a minute.
//! - **Answers before pushes**: an answer reserves the next free slot at once, a push takes
//!   a slot only when it is free and no answer holds it, so a broadcast of thousands never
//!   keeps a parent who pressed a button waiting longer than one slot.
//! - **Refusals**: a 429 holds that chat for its `retry_after`; two chats refused within a
//!   second mean the overall limit was hit, and every send waits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

/// The share of Telegram's limits Kabinet uses; the rest absorbs network jitter and the
/// sends of a process that stopped a moment ago.
pub const RATE_MARGIN: f64 = 0.9;

/// Messages a private chat may get back to back before the pace applies (Telegram
/// tolerates short bursts; one less than it tolerates).
const PRIVATE_BURST: u32 = 2;
/// Telegram allows 20 messages a minute in a group.
const GROUP_PER_SEC: f64 = 20.0 / 60.0;
const GROUP_BURST: u32 = 3;
/// How early an overall slot may be taken: what a timer tick (tokio's are a millisecond)
/// and a hand-off between threads may make a send late by. Without it, at 1000 a second
/// (one slot every 1.1 ms) every send waits for the next tick and only half the rate is
/// reached; with it, a late send is made up for, and a sliding second still holds at most
/// `(1 s + 5 ms) / interval` slots.
const GLOBAL_TOLERANCE: Duration = Duration::from_millis(5);
/// Two chats refused within this long: the overall limit was hit, not a chat's.
const GLOBAL_REFUSAL_WINDOW: Duration = Duration::from_secs(1);
/// The per-chat table is swept of chats at rest when it grows past this (and past twice
/// what the last sweep left).
const PRUNE_FLOOR: usize = 1024;

/// Takes every `sendMessage` in turn. Cheap to clone; one per process, shared by the bot
/// and the push sender.
#[derive(Clone)]
pub struct Pacer(Arc<Inner>);

struct Inner {
    state: Mutex<State>,
    /// Pushes wait for an overall slot one at a time, first come first served.
    push_turn: tokio::sync::Mutex<()>,
    /// Announcements queue here before they queue with the pushes: at most one of them
    /// waits among the pushes at a time.
    broadcast_turn: tokio::sync::Mutex<()>,
    global_interval: Duration,
    private: Pace,
    group: Pace,
}

/// A chat's pace: one message per `interval`, `tolerance` of it ahead of time (the burst).
#[derive(Debug, Clone, Copy)]
struct Pace {
    interval: Duration,
    tolerance: Duration,
}

impl Pace {
    fn new(per_sec: f64, burst: u32) -> Pace {
        let interval = Duration::from_secs_f64(1.0 / (per_sec * RATE_MARGIN));
        Pace {
            interval,
            tolerance: interval * burst.saturating_sub(1),
        }
    }
}

struct State {
    /// When the next overall slot is free (it may be taken up to [`GLOBAL_TOLERANCE`]
    /// early).
    global_next: Instant,
    /// Nothing goes before this, not even early: a 429 for every chat, or a start right
    /// after another sender's last send.
    hold_until: Instant,
    /// Per chat, GCRA's theoretical arrival time: the next message may go at
    /// `tat - tolerance`. A chat whose time has passed is at rest and may be forgotten.
    chats: HashMap<i64, Instant>,
    prune_above: usize,
    /// Another sender stopped at about this time (a takeover): a chat not in `chats` may
    /// have had a burst from it just before.
    other_sender_until: Option<Instant>,
    /// The last refused chat, and when.
    last_refusal: Option<(i64, Instant)>,
}

impl State {
    /// When the next overall slot may be taken, at the earliest.
    fn global_free_at(&self, now: Instant) -> Instant {
        self.global_next
            .checked_sub(GLOBAL_TOLERANCE)
            .unwrap_or(now)
            .max(self.hold_until)
            .max(now)
    }

    /// Counts a message going at `at`. A message that goes late — its task woke a few
    /// milliseconds after its slot on a busy machine — keeps the schedule by up to one
    /// slot, so that lateness does not add up into a lower rate (it did: 2–3 % below the
    /// configured rate on two busy cores). The next message may then follow at once, and a
    /// sliding second holds at most `(1 s + tolerance + interval) / interval + 1` messages:
    /// two more than the even pace, within Telegram's limit thanks to [`RATE_MARGIN`] (29
    /// at 30 a second, 93 at 100).
    fn commit_global(&mut self, at: Instant, interval: Duration) {
        let late_by_a_slot = at.checked_sub(interval).unwrap_or(at);
        self.global_next = self.global_next.max(late_by_a_slot) + interval;
    }

    /// `chat`'s theoretical arrival time: as counted here, and — after another sender
    /// stopped — no earlier than if that sender had just sent it a whole burst (what this
    /// process sent the chat since, an answer say, comes on top).
    fn tat_of(&self, chat: i64, pace: Pace) -> Option<Instant> {
        let other = self
            .other_sender_until
            .map(|stopped| stopped + pace.interval + pace.tolerance);
        match (self.chats.get(&chat).copied(), other) {
            (Some(own), Some(other)) => Some(own.max(other)),
            (own, other) => own.or(other),
        }
    }

    /// When a message to `chat` may go, at the earliest.
    fn chat_free_at(&self, chat: i64, pace: Pace, now: Instant) -> Instant {
        match self.tat_of(chat, pace) {
            Some(tat) => tat.checked_sub(pace.tolerance).unwrap_or(now).max(now),
            None => now,
        }
    }

    /// Counts a message to `chat` going at `at`.
    fn commit_chat(&mut self, chat: i64, pace: Pace, at: Instant) {
        let tat = self.tat_of(chat, pace).unwrap_or(at).max(at) + pace.interval;
        self.hold_chat(chat, tat);
    }

    fn hold_chat(&mut self, chat: i64, tat: Instant) {
        let entry = self.chats.entry(chat).or_insert(tat);
        *entry = (*entry).max(tat);
        if self.chats.len() > self.prune_above {
            let now = Instant::now();
            self.chats.retain(|_, tat| *tat > now);
            self.prune_above = (self.chats.len() * 2).max(PRUNE_FLOOR);
        }
    }
}

impl Pacer {
    /// Paces at [`RATE_MARGIN`] of `global_per_sec` overall and of `chat_per_sec` per
    /// private chat.
    pub fn new(global_per_sec: u32, chat_per_sec: u32) -> Pacer {
        let global = Pace::new(f64::from(global_per_sec.max(1)), 1);
        Pacer(Arc::new(Inner {
            state: Mutex::new(State {
                global_next: Instant::now(),
                hold_until: Instant::now(),
                chats: HashMap::new(),
                prune_above: PRUNE_FLOOR,
                other_sender_until: None,
                last_refusal: None,
            }),
            push_turn: tokio::sync::Mutex::new(()),
            broadcast_turn: tokio::sync::Mutex::new(()),
            global_interval: global.interval,
            private: Pace::new(f64::from(chat_per_sec.max(1)), PRIVATE_BURST),
            group: Pace::new(GROUP_PER_SEC, GROUP_BURST),
        }))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding it; a poisoned lock still holds valid times.
        self.0.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Private chats have positive ids, groups and channels negative ones.
    fn pace(&self, chat: i64) -> Pace {
        if chat < 0 {
            self.0.group
        } else {
            self.0.private
        }
    }

    /// The time between two overall slots.
    pub fn interval(&self) -> Duration {
        self.0.global_interval
    }

    /// Waits until a message answering the parent in `chat` may go. It reserves the first
    /// slot free for its chat and overall at once, ahead of every push waiting.
    pub async fn answer(&self, chat: i64) {
        let pace = self.pace(chat);
        let at = {
            let mut s = self.lock();
            let now = Instant::now();
            let at = s.chat_free_at(chat, pace, now).max(s.global_free_at(now));
            s.commit_global(at, self.0.global_interval);
            s.commit_chat(chat, pace, at);
            at
        };
        tokio::time::sleep_until(at).await;
    }

    /// Waits until a push to `chat` may go: when its chat is free, and then the first
    /// overall slot that no answer has reserved. Pushes never reserve ahead, so answers
    /// arriving meanwhile go first.
    pub async fn push(&self, chat: i64) {
        let pace = self.pace(chat);
        loop {
            let chat_free = self.lock().chat_free_at(chat, pace, Instant::now());
            tokio::time::sleep_until(chat_free).await;
            let _turn = self.0.push_turn.lock().await;
            loop {
                let now = Instant::now();
                let free = self.lock().global_free_at(now);
                if free <= now {
                    break;
                }
                tokio::time::sleep_until(free).await;
            }
            let mut s = self.lock();
            let now = Instant::now();
            if s.global_free_at(now) <= now && s.chat_free_at(chat, pace, now) <= now {
                s.commit_global(now, self.0.global_interval);
                s.commit_chat(chat, pace, now);
                return;
            }
            // An answer took the slot or the chat between the two looks: wait again.
        }
    }

    /// Waits until an announcement to `chat` may go: as a push, but behind every push
    /// waiting — a city-wide announcement holds a parent's own push up by one slot at most.
    pub async fn broadcast(&self, chat: i64) {
        let pace = self.pace(chat);
        // The chat's own pace is waited for first, outside the queue, so one chat that had
        // a push a moment ago does not hold up the announcement to everyone else.
        let chat_free = self.lock().chat_free_at(chat, pace, Instant::now());
        tokio::time::sleep_until(chat_free).await;
        let _turn = self.0.broadcast_turn.lock().await;
        self.push(chat).await;
    }

    /// The message to `chat` that [`Pacer::push`] let go did not reach Telegram (a 5xx
    /// from its front): the chat's turn is given back, so a retry need not wait for the
    /// next one. (The overall slot is spent either way.)
    pub fn not_delivered(&self, chat: i64) {
        let pace = self.pace(chat);
        let mut s = self.lock();
        let now = Instant::now();
        if let Some(tat) = s.chats.get_mut(&chat) {
            *tat = tat.checked_sub(pace.interval).unwrap_or(now).max(now);
        }
    }

    /// Telegram refused a message to `chat` with 429: nothing goes to that chat for
    /// `retry_after`; and if another chat was refused within a second, nothing goes at all.
    pub fn refused(&self, chat: i64, retry_after: Duration) {
        let pace = self.pace(chat);
        let mut s = self.lock();
        let now = Instant::now();
        let until = now + retry_after;
        s.hold_chat(chat, until + pace.tolerance);
        if let Some((other, at)) = s.last_refusal {
            if other != chat && now.saturating_duration_since(at) < GLOBAL_REFUSAL_WINDOW {
                tracing::warn!(
                    "Telegram refused two chats within a second: every send waits {retry_after:?}"
                );
                s.hold_until = s.hold_until.max(until);
            }
        }
        s.last_refusal = Some((chat, now));
    }

    /// Nothing goes before `at` (a start after a stop: the last second's sends of the
    /// previous process still count at Telegram).
    pub fn not_before(&self, at: Instant) {
        let mut s = self.lock();
        s.hold_until = s.hold_until.max(at);
    }

    /// Another sender was sending until about now (this process takes over from one that
    /// stopped or died): every chat's first message is paced as if that sender had just
    /// sent it a whole burst, since which chats it reached is not known.
    pub fn after_other_sender(&self) {
        let mut s = self.lock();
        s.other_sender_until = Some(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The most sends within any one-second window.
    fn busiest_second(times: &[Instant]) -> usize {
        let mut times = times.to_vec();
        times.sort();
        (0..times.len())
            .map(|i| {
                times[i..]
                    .iter()
                    .take_while(|t| t.duration_since(times[i]) < Duration::from_secs(1))
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    async fn pushes(pacer: &Pacer, chats: impl Iterator<Item = i64>) -> Vec<Instant> {
        let tasks: Vec<_> = chats
            .map(|chat| {
                let pacer = pacer.clone();
                tokio::spawn(async move {
                    pacer.push(chat).await;
                    Instant::now()
                })
            })
            .collect();
        let mut times = Vec::new();
        for t in tasks {
            times.push(t.await.unwrap());
        }
        times
    }

    #[tokio::test(start_paused = true)]
    async fn pushes_leave_evenly_below_the_overall_limit() {
        let pacer = Pacer::new(30, 1);
        let start = Instant::now();
        let times = pushes(&pacer, 1..=300).await;
        assert!(busiest_second(&times) <= 28, "{}", busiest_second(&times));
        let mut sorted = times.clone();
        sorted.sort();
        for pair in sorted.windows(2) {
            assert!(
                pair[1] - pair[0] >= pacer.interval() - GLOBAL_TOLERANCE,
                "never two at once"
            );
        }
        // 300 at 27 a second: about 11 s, not more.
        let took = *sorted.last().unwrap() - start;
        assert!(took < Duration::from_secs(12), "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn one_chat_gets_a_short_burst_then_its_pace() {
        let pacer = Pacer::new(30, 1);
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..10 {
            pacer.push(7).await;
            times.push(Instant::now() - start);
        }
        assert!(times[1] < Duration::from_millis(100), "{times:?}");
        // Then one per 1/0.9 s: the k-th push no earlier than k - 1 such intervals.
        for (k, at) in times.iter().enumerate().skip(2) {
            assert!(
                *at >= Duration::from_millis(1111) * (k as u32 - 1),
                "{times:?}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_goes_before_the_pushes_waiting() {
        let pacer = Pacer::new(30, 1);
        let queued = tokio::spawn({
            let pacer = pacer.clone();
            async move { pushes(&pacer, 1..=60).await }
        });
        tokio::time::sleep(Duration::from_millis(500)).await;
        let asked = Instant::now();
        pacer.answer(1_000).await;
        let answered = Instant::now();
        assert!(
            answered - asked <= pacer.interval(),
            "waited {:?}",
            answered - asked
        );
        let times = queued.await.unwrap();
        let mut all = times.clone();
        all.push(answered);
        assert!(busiest_second(&all) <= 28);
    }

    #[tokio::test(start_paused = true)]
    async fn after_taking_over_each_chat_waits_as_if_it_had_just_had_a_burst() {
        let pacer = Pacer::new(1000, 1);
        let start = Instant::now();
        pacer.push(7).await;
        pacer.push(7).await;
        assert!(
            Instant::now() - start < Duration::from_millis(10),
            "a fresh chat's burst"
        );
        let taken_over = Instant::now();
        pacer.after_other_sender();
        pacer.push(8).await;
        let first = Instant::now() - taken_over;
        pacer.push(8).await;
        let second = Instant::now() - taken_over;
        // One chat interval (1 / 0.9 s) before the first, another before the second.
        assert!(first >= Duration::from_millis(1111), "{first:?}");
        assert!(second >= Duration::from_millis(2222), "{second:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_chat_waits_its_retry_after_and_two_stop_everything() {
        let pacer = Pacer::new(30, 1);
        pacer.refused(5, Duration::from_secs(3));
        let start = Instant::now();
        pacer.push(6).await;
        assert!(
            Instant::now() - start < Duration::from_millis(100),
            "other chats go on"
        );
        pacer.push(5).await;
        assert!(Instant::now() - start >= Duration::from_secs(3));

        pacer.refused(8, Duration::from_secs(2));
        pacer.refused(9, Duration::from_secs(2));
        let refused_at = Instant::now();
        pacer.answer(10).await;
        assert!(
            Instant::now() - refused_at >= Duration::from_secs(2),
            "all wait"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_message_that_did_not_arrive_gives_its_turn_back() {
        let pacer = Pacer::new(30, 1);
        for _ in 0..3 {
            pacer.push(7).await;
        }
        let start = Instant::now();
        pacer.not_delivered(7);
        pacer.push(7).await;
        assert!(Instant::now() - start < Duration::from_millis(100));
        pacer.push(7).await;
        assert!(
            Instant::now() - start >= Duration::from_secs(1),
            "then the pace again"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn groups_get_twenty_a_minute() {
        let pacer = Pacer::new(30, 1);
        let start = Instant::now();
        for _ in 0..20 {
            pacer.answer(-100).await;
        }
        assert!(Instant::now() - start >= Duration::from_secs(55));
    }

    #[tokio::test(start_paused = true)]
    async fn a_start_waits_for_the_previous_senders_last_slot() {
        let pacer = Pacer::new(30, 1);
        let at = Instant::now() + Duration::from_millis(700);
        pacer.not_before(at);
        pacer.push(1).await;
        assert!(Instant::now() >= at);
    }
}
