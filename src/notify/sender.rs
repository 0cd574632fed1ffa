//! The push sender: works the outbox until stopped. It wakes at once when a write queues a
//! delivery — [`Wake`] from this process, PostgreSQL's `NOTIFY` from any replica — sweeps
//! every few seconds in case a word was missed, and sends each recipient's deliveries one
//! at a time, in order (see [`Storage::claim_deliveries`]), different recipients at once.
//!
//! One sender runs in a deployment (a PostgreSQL advisory lock), so `TELEGRAM_GLOBAL_RATE`
//! holds for all replicas together; the others stand by, trying for the lock every
//! [`STANDBY_RETRY`], and the first to get it after the sender's replica dies requeues what
//! that sender had claimed and goes on.
//!
//! Telegram's limits are kept by the [`Pacer`] the bot's answers go through too, so pushes
//! and answers together stay within `TELEGRAM_GLOBAL_RATE` and the per-chat rate, and
//! answers go first. A 429 holds that chat for its `retry_after` (and the push is tried
//! again after it); 5xx and network errors are retried with capped backoff, at once and
//! never by waiting on the failed answer; a 403 ends that chat's session and is not retried.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};
use rand::Rng;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

use crate::channels::email::{MailError, Mailer};
use crate::channels::portal::PortalWebhook;
use crate::channels::sms::{SmsError, SmsSender};
use crate::config::Config;
use crate::domain::{Channel, EventKind, Phone};
use crate::i18n::Localizer;
use crate::messages;
use crate::metrics::Metrics;
use crate::storage::{ClaimedDelivery, SendOutcome, SenderLease, Storage};
use crate::telegram::{BotApi, CallError, OutgoingMessage, Pacer};

/// Deliveries claimed per round trip to the database.
const BATCH: usize = 200;
/// How often the outbox is looked at when nothing woke the sender.
const SWEEP: Duration = Duration::from_secs(2);
/// A previous sender whose last recorded push is more recent than this may still have been
/// sending a moment ago.
const RECENT_SENDER: Duration = Duration::from_secs(5);
/// How often a replica standing by tries to become the sender.
const STANDBY_RETRY: Duration = Duration::from_secs(1);
/// How long a stop waits for the sends in hand.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// Backoff for a failed send: 0.5 s, 0.75 s, 1.1 s … up to this.
const FIRST_BACKOFF_MS: i64 = 500;
const BACKOFF_GROWTH: f64 = 1.5;
const BACKOFF_CAP_SECS: i64 = 600;
/// Why an announcement's delivery was not sent: it was cancelled (the progress counts these).
const CANCELLED: &str = "cancelled";
/// Attempts before a delivery is given up as failed (about an hour and a half of retries).
const MAX_ATTEMPTS: i64 = 25;

/// Tells the sender that deliveries were queued. Cheap to clone; a wake with no sender
/// waiting is kept until it looks.
#[derive(Clone, Default)]
pub struct Wake(Arc<Notify>);

impl Wake {
    pub fn wake(&self) {
        self.0.notify_one();
    }

    pub(crate) async fn woken(&self) {
        self.0.notified().await;
    }
}

/// What the sender sends with.
#[derive(Clone)]
pub struct SenderDeps {
    pub storage: Storage,
    pub telegram: BotApi,
    /// Shared with the bot's answers.
    pub pacer: Pacer,
    pub loc: Arc<Localizer>,
    pub config: Arc<Config>,
    pub sms: SmsSender,
    pub mail: Option<Mailer>,
    /// Where answers to questions go (`PORTAL_WEBHOOK_URL`).
    pub portal: Option<PortalWebhook>,
    pub metrics: Arc<Metrics>,
    pub bot_username: Arc<str>,
}

pub struct RunningSender {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningSender {
    /// Stops claiming, lets the sends in hand finish (a short grace), and returns. Anything
    /// claimed but unsent goes back to the queue when a sender starts again.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Starts the sender on its own task.
pub fn start(deps: SenderDeps, wake: Wake) -> RunningSender {
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(run(deps, wake, stopped));
    RunningSender { stop, task }
}

async fn run(deps: SenderDeps, wake: Wake, mut stopped: watch::Receiver<bool>) {
    let Some(mut lease) = lead(&deps.storage, &mut stopped).await else {
        return;
    };
    take_over(&deps).await;
    let mut listening = listen(&deps.storage, &wake).await;
    // Enough sends in flight to keep the pacer's queue full, not so many that a long
    // queue sits claimed in memory.
    let capacity = (deps.config.telegram_rates.global_per_sec as usize * 2).clamp(16, 2048);
    let in_flight = Arc::new(Semaphore::new(capacity));
    // Claiming again once a quarter of the sends in hand are done, not at each one: a claim
    // is a commit, and a commit per send held a city-wide announcement on PostgreSQL to the
    // disk's pace (54 a second where 90 were allowed).
    let refill_at = (capacity / 4).max(1);
    // Answers for the portal wait for no Telegram slot: claimed and sent on their own.
    let portal_slots = Arc::new(Semaphore::new(PORTAL_AT_ONCE));
    let mut sends = JoinSet::new();
    let mut last_lease_check = tokio::time::Instant::now();
    while !*stopped.borrow() {
        while sends.try_join_next().is_some() {}
        if last_lease_check.elapsed() > SWEEP {
            last_lease_check = tokio::time::Instant::now();
            if !lease.is_held().await {
                tracing::warn!("lost the sender lease; waiting to take it again");
                lease.release().await;
                if let Some(l) = listening.take() {
                    l.abort();
                }
                match lead(&deps.storage, &mut stopped).await {
                    Some(l) => lease = l,
                    None => return,
                }
                take_over(&deps).await;
                listening = listen(&deps.storage, &wake).await;
            }
        }
        if deps.portal.is_some() {
            claim_for_portal(&deps, &wake, &portal_slots, &mut sends).await;
        }
        let mut free = in_flight.available_permits();
        if free < refill_at {
            // Enough in hand to keep the pacer busy: wait until a quarter is done, or until
            // something new is queued (a parent's push is claimed at once, ahead of the
            // announcements: the claim takes the highest priority first).
            tokio::select! {
                permits = in_flight.clone().acquire_many_owned(refill_at as u32) => drop(permits),
                _ = wake.woken() => {}
                _ = stopped.changed() => continue,
            }
            free = in_flight.available_permits();
            if free == 0 {
                // Woken with every slot taken: claim as soon as one frees, not a quarter
                // later, so the new push is not kept waiting.
                tokio::select! {
                    permit = in_flight.clone().acquire_owned() => drop(permit),
                    _ = wake.woken() => continue,
                    _ = stopped.changed() => continue,
                }
                free = in_flight.available_permits();
                if free == 0 {
                    continue;
                }
            }
        }
        let limit = free.min(BATCH);
        let batch = match deps
            .storage
            .claim_deliveries(crate::clock::now(), limit as i64, false)
            .await
        {
            Ok(batch) => batch,
            Err(e) => {
                tracing::warn!("could not read the outbox: {e}");
                idle(&wake, &mut stopped, SWEEP).await;
                continue;
            }
        };
        let full = batch.len() == limit;
        for delivery in batch {
            let permit = in_flight
                .clone()
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let deps = deps.clone();
            let wake = wake.clone();
            sends.spawn(async move {
                send_and_record(&deps, &wake, delivery).await;
                drop(permit);
            });
        }
        if full {
            continue;
        }
        let wait = match deps.storage.next_delivery_due().await {
            Ok(Some(due)) => (due - crate::clock::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(SWEEP),
            _ => SWEEP,
        };
        if !wait.is_zero() {
            idle(&wake, &mut stopped, wait).await;
        }
    }
    let drained = tokio::time::timeout(STOP_GRACE, async {
        while sends.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("sends still in hand after {STOP_GRACE:?}; they will be retried");
        sends.abort_all();
    }
    if let Some(l) = listening {
        l.abort();
    }
    lease.release().await;
}

/// Answers for the portal's webhook sent at once (a POST each).
const PORTAL_AT_ONCE: usize = 16;

/// Claims the answers due for the portal's webhook, as many as there are free slots, and
/// sends them: they go past the pushes waiting for Telegram's pace.
async fn claim_for_portal(
    deps: &SenderDeps,
    wake: &Wake,
    slots: &Arc<Semaphore>,
    sends: &mut JoinSet<()>,
) {
    let free = slots.available_permits();
    if free == 0 {
        return;
    }
    let batch = match deps
        .storage
        .claim_deliveries(crate::clock::now(), free as i64, true)
        .await
    {
        Ok(batch) => batch,
        Err(e) => {
            tracing::warn!("could not read the portal's outbox: {e}");
            return;
        }
    };
    for delivery in batch {
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            break;
        };
        let (deps, wake) = (deps.clone(), wake.clone());
        sends.spawn(async move {
            send_and_record(&deps, &wake, delivery).await;
            drop(permit);
        });
    }
}

/// What a sender does on taking the lease: the deliveries its predecessor had claimed (it
/// stopped or died: it no longer holds the lease) go back to the queue, and its last sends
/// still count against Telegram's sliding second.
async fn take_over(deps: &SenderDeps) {
    match deps.storage.requeue_claimed(crate::clock::now()).await {
        Ok(0) => {}
        Ok(n) => tracing::info!("{n} deliveries claimed by an earlier sender are queued again"),
        Err(e) => tracing::warn!("could not requeue claimed deliveries: {e}"),
    }
    pace_after_previous_sender(deps).await;
}

/// On PostgreSQL, a task that wakes the sender when any replica queues deliveries.
async fn listen(storage: &Storage, wake: &Wake) -> Option<tokio::task::AbortHandle> {
    let mut listener = match storage.listen_outbox().await {
        Ok(Some(listener)) => listener,
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!(
                "could not listen for queued deliveries (the sweep still finds them): {e}"
            );
            return None;
        }
    };
    let wake = wake.clone();
    let task = tokio::spawn(async move {
        loop {
            match listener.next().await {
                Ok(()) => wake.wake(),
                Err(e) => {
                    tracing::warn!("listening for queued deliveries failed: {e}");
                    tokio::time::sleep(SWEEP).await;
                }
            }
        }
    });
    Some(task.abort_handle())
}

/// Telegram counts a sliding second: the sends of a sender that stopped a moment ago (a
/// restart, a crash) still count when this one starts. The first push goes one slot after
/// the last one recorded, as if the same sender had gone on.
async fn pace_after_previous_sender(deps: &SenderDeps) {
    let last = match deps.storage.last_telegram_send().await {
        Ok(Some(last)) => last,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!("could not read the last push's time: {e}");
            crate::clock::now()
        }
    };
    let since = (crate::clock::now() - last)
        .to_std()
        .unwrap_or(Duration::ZERO);
    if let Some(wait) = deps.pacer.interval().checked_sub(since) {
        deps.pacer.not_before(tokio::time::Instant::now() + wait);
    }
    // A sender that was sending moments ago (a takeover, a crash and restart) may have
    // reached any chat just now; what it sent last is not all recorded.
    if since < RECENT_SENDER {
        deps.pacer.after_other_sender();
    }
}

/// Waits until this process may send (another replica may hold the lease), or a stop.
async fn lead(storage: &Storage, stopped: &mut watch::Receiver<bool>) -> Option<SenderLease> {
    let mut told = false;
    let mut standby = None;
    let lease = loop {
        if *stopped.borrow() {
            break None;
        }
        match storage.try_lead_sender(&mut standby).await {
            Ok(Some(lease)) => break Some(lease),
            Ok(None) if !told => {
                tracing::info!("another replica is sending pushes; this one stands by");
                told = true;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("could not take the sender lease: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(STANDBY_RETRY) => {}
            _ = stopped.changed() => {}
        }
    };
    if let Some(connection) = standby {
        use sqlx::Connection;
        let _ = connection.close().await;
    }
    if lease.is_some() && told {
        tracing::info!("this replica now sends the pushes");
    }
    lease
}

async fn idle(wake: &Wake, stopped: &mut watch::Receiver<bool>, at_most: Duration) {
    tokio::select! {
        _ = wake.woken() => {}
        _ = tokio::time::sleep(at_most) => {}
        _ = stopped.changed() => {}
    }
}

async fn send_and_record(deps: &SenderDeps, wake: &Wake, delivery: ClaimedDelivery) {
    let (outcome, took) = match delivery.channel {
        Channel::Telegram => send_telegram(deps, &delivery).await,
        Channel::Sms => timed(send_sms(deps, &delivery)).await,
        Channel::Email => timed(send_email(deps, &delivery)).await,
        Channel::Portal => timed(send_portal(deps, &delivery)).await,
    };
    let label = match &outcome {
        SendOutcome::Sent => "sent",
        SendOutcome::RetryAt(_, why) => {
            tracing::info!(
                delivery = delivery.id,
                attempt = delivery.attempts,
                "send failed, will retry: {why}"
            );
            "retried"
        }
        SendOutcome::Failed(why) => {
            tracing::warn!(delivery = delivery.id, "delivery failed for good: {why}");
            "failed"
        }
        SendOutcome::Postponed(at) => {
            tracing::warn!(
                delivery = delivery.id,
                "Telegram asked to wait (429); the push goes again at {at}"
            );
            "postponed"
        }
        SendOutcome::Dropped(_) => "dropped",
    };
    deps.metrics
        .delivery(delivery.channel.as_str(), label, took);
    if delivery.event.kind == EventKind::Announcement {
        deps.metrics.announcement(match &outcome {
            SendOutcome::Sent => "sent",
            SendOutcome::Failed(_) => "failed",
            SendOutcome::Dropped(why) if why == CANCELLED => "cancelled",
            SendOutcome::Dropped(_) => "skipped",
            SendOutcome::RetryAt(..) | SendOutcome::Postponed(_) => "retried",
        });
    }
    if let Err(e) = deps
        .storage
        .finish_delivery(delivery.id, &outcome, crate::clock::now())
        .await
    {
        // The row stays claimed and is sent again after a restart: a duplicate at worst,
        // never a loss.
        tracing::warn!(delivery = delivery.id, "could not record a send: {e}");
        return;
    }
    // The recipient's next delivery may go now (or the sender's wait for the next one
    // due must be looked at again).
    let more = matches!(
        outcome,
        SendOutcome::RetryAt(..) | SendOutcome::Postponed(_)
    ) || deps
        .storage
        .more_waiting_for(&delivery)
        .await
        .unwrap_or(true);
    if more {
        wake.wake();
    }
}

/// The outcome of a send and how long the send itself took.
async fn timed(send: impl std::future::Future<Output = SendOutcome>) -> (SendOutcome, Duration) {
    let started = std::time::Instant::now();
    let outcome = send.await;
    (outcome, started.elapsed())
}

/// A Telegram push; the time is the Bot API call's, the wait for a slot not counted.
async fn send_telegram(deps: &SenderDeps, d: &ClaimedDelivery) -> (SendOutcome, Duration) {
    let Some(chat) = d.chat_id else {
        return (
            SendOutcome::Failed("a Telegram delivery without a chat".into()),
            Duration::ZERO,
        );
    };
    if d.cancelled {
        return (SendOutcome::Dropped(CANCELLED.into()), Duration::ZERO);
    }
    if !d.chat_may_receive {
        return (
            SendOutcome::Dropped("the chat is no longer logged into the cabinet".into()),
            Duration::ZERO,
        );
    }
    let (text, keyboard) =
        messages::push_telegram(&deps.loc, d.language, deps.config.timezone, &d.event);
    // The last reminder of a question sounds whatever the hour: a missed deadline costs the
    // child's place.
    let quiet =
        is_quiet_hour(crate::clock::now(), deps.config.timezone) && !d.event.sounds_always();
    let message = OutgoingMessage::html(chat, text.as_str())
        .keyboard(&keyboard)
        .silent(d.silent || quiet);
    if d.event.kind == EventKind::Announcement {
        deps.pacer.broadcast(chat).await;
    } else {
        deps.pacer.push(chat).await;
    }
    let started = std::time::Instant::now();
    let sent = deps.telegram.send_message(&message).await;
    let took = started.elapsed();
    let now = crate::clock::now();
    let outcome = match sent {
        Ok(()) => SendOutcome::Sent,
        Err(CallError::RetryAfter(after)) => {
            deps.pacer.refused(chat, after);
            let after = chrono::Duration::from_std(after).unwrap_or(chrono::Duration::MAX);
            SendOutcome::Postponed(now + after)
        }
        // Blocked, deactivated, never started, or gone: stop sending to that chat.
        Err(CallError::Refused { code, description })
            if code == 403 || description.contains("chat not found") =>
        {
            if let Err(e) = deps.storage.mark_chat_blocked(chat, now).await {
                tracing::warn!("could not end a blocked chat's session: {e}");
            }
            SendOutcome::Dropped(format!("the chat cannot be reached: {description}"))
        }
        // A wrong token or Bot API address: the operator's to fix; the push waits.
        Err(
            error @ CallError::Refused {
                code: 401 | 404, ..
            },
        ) => retry_later(d, now, error.to_string()),
        // Telegram refused this very message: it would refuse it again.
        Err(CallError::Refused { description, .. }) => SendOutcome::Failed(description),
        // Telegram's front failed: the message did not reach the chat, whose turn is free.
        Err(error @ CallError::Server(_)) => {
            deps.pacer.not_delivered(chat);
            retry_later(d, now, error.to_string())
        }
        // No answer: it may have arrived, so the chat's turn stays spent.
        Err(error) => retry_later(d, now, error.to_string()),
    };
    (outcome, took)
}

async fn send_sms(deps: &SenderDeps, d: &ClaimedDelivery) -> SendOutcome {
    let Some(phone) = d.address.as_deref().and_then(|a| Phone::parse(a).ok()) else {
        return SendOutcome::Failed("no valid phone".into());
    };
    let text = messages::sms::push(&deps.loc, d.language, deps.config.timezone, &d.event);
    match deps.sms.send(&phone, &text).await {
        Ok(()) => SendOutcome::Sent,
        Err(SmsError::Refused(why)) => SendOutcome::Failed(why),
        Err(SmsError::Unreachable(why)) => retry_later(d, crate::clock::now(), why),
    }
}

async fn send_email(deps: &SenderDeps, d: &ClaimedDelivery) -> SendOutcome {
    let Some(mail) = &deps.mail else {
        return SendOutcome::Dropped("the e-mail channel is off (no SMTP_URL)".into());
    };
    let Some(to) = d.address.as_deref() else {
        return SendOutcome::Failed("no address".into());
    };
    let (subject, body) = messages::push_email(
        &deps.loc,
        d.language,
        deps.config.timezone,
        &d.event,
        &deps.bot_username,
    );
    match mail.send(to, &subject, &body).await {
        Ok(()) => SendOutcome::Sent,
        Err(MailError::Transient(why)) => retry_later(d, crate::clock::now(), why),
        Err(e) => SendOutcome::Failed(e.to_string()),
    }
}

/// An answer to the portal's webhook: retried until the portal takes it, however long
/// that is (the backoff tops out at ten minutes), and marked delivered on its 2xx.
async fn send_portal(deps: &SenderDeps, d: &ClaimedDelivery) -> SendOutcome {
    let Some(portal) = &deps.portal else {
        return SendOutcome::Dropped(
            "PORTAL_WEBHOOK_URL is not set: the portal reads answers from the API".into(),
        );
    };
    let Some(question) = d.event.question_id else {
        return SendOutcome::Failed("a portal delivery without a question".into());
    };
    let now = crate::clock::now();
    let answer = match deps.storage.portal_answer(question).await {
        Ok(Some(answer)) => answer,
        Ok(None) => return SendOutcome::Dropped("the question is gone".into()),
        Err(e) => return SendOutcome::RetryAt(now + backoff(d.attempts), e.log_safe()),
    };
    let outcome = match portal.post(&answer).await {
        Ok(()) => {
            if let Err(e) = deps.storage.mark_answer_delivered(question, now).await {
                // Sent again later: the portal de-duplicates by the answer's id.
                return SendOutcome::RetryAt(now + backoff(d.attempts), e.log_safe());
            }
            SendOutcome::Sent
        }
        Err(e) => SendOutcome::RetryAt(now + backoff(d.attempts), e.to_string()),
    };
    deps.metrics.portal_delivery(match &outcome {
        SendOutcome::Sent => "delivered",
        _ => "retried",
    });
    outcome
}

/// The next try after `d.attempts` failed ones: doubling from a second, capped, with a
/// little jitter so a burst of failures does not come back as a burst. Gives up after
/// [`MAX_ATTEMPTS`].
fn retry_later(d: &ClaimedDelivery, now: DateTime<Utc>, why: String) -> SendOutcome {
    if d.attempts >= MAX_ATTEMPTS {
        return SendOutcome::Failed(format!("gave up after {} attempts: {why}", d.attempts));
    }
    SendOutcome::RetryAt(now + backoff(d.attempts), why)
}

/// Half a second after the first failure, then half as long again after each further one,
/// up to [`BACKOFF_CAP_SECS`], with up to a quarter more at random. Gentle at first because
/// Telegram's and gateways' 5xx are mostly blips of seconds, and a parent's later pushes
/// wait behind this one.
fn backoff(attempts: i64) -> chrono::Duration {
    let growth = BACKOFF_GROWTH.powi(attempts.saturating_sub(1).clamp(0, 64) as i32);
    let millis = (FIRST_BACKOFF_MS as f64 * growth).min((BACKOFF_CAP_SECS * 1000) as f64) as i64;
    let jitter = rand::rng().random_range(0..=millis / 4);
    chrono::Duration::milliseconds(millis + jitter)
}

/// 22:00 to 08:00 local time: pushes arrive without a sound.
pub fn is_quiet_hour(now: DateTime<Utc>, tz: chrono_tz::Tz) -> bool {
    let hour = now.with_timezone(&tz).hour();
    !(8..22).contains(&hour)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_are_22_to_8_local_time() {
        let tz = chrono_tz::Asia::Almaty;
        let at = |h: u32, m: u32| {
            chrono::NaiveDate::from_ymd_opt(2026, 11, 25)
                .unwrap()
                .and_hms_opt(h, m, 0)
                .unwrap()
                .and_local_timezone(tz)
                .unwrap()
                .with_timezone(&Utc)
        };
        assert!(!is_quiet_hour(at(8, 0), tz));
        assert!(!is_quiet_hour(at(21, 59), tz));
        assert!(is_quiet_hour(at(22, 0), tz));
        assert!(is_quiet_hour(at(3, 0), tz));
        assert!(is_quiet_hour(at(7, 59), tz));
    }

    #[test]
    fn backoff_doubles_and_stops_at_the_cap() {
        let millis = |a| backoff(a).num_milliseconds();
        let secs = |a| backoff(a).num_seconds();
        assert!((500..=625).contains(&millis(1)));
        assert!((750..=938).contains(&millis(2)));
        assert!((1687..=2110).contains(&millis(4)));
        assert!((BACKOFF_CAP_SECS..=BACKOFF_CAP_SECS * 5 / 4).contains(&secs(40)));
    }
}
