//! What `/metrics` serves (on `ADMIN_LISTEN`), in Prometheus' text format: counters and
//! latency histograms kept by this process, and the outbox's depth and age read at scrape
//! time from the pending rows alone, so they hold across restarts and replicas.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::storage::OutboxStats;

/// Upper bounds of the latency buckets, in seconds: a parent notices from about 0.1 s, and
/// a Telegram call that takes 10 s has failed in all but name.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A latency histogram with Prometheus' cumulative buckets.
#[derive(Default)]
pub struct Histogram {
    /// Observations at or below each bound (not yet cumulative).
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    /// The histogram's lines; `labels` is empty or `key="value",…` without braces.
    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(&self.counts) {
            cumulative += n.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {count}");
    }
}

/// One per running Kabinet, shared by the bot, the API, the sender and the admin endpoint.
#[derive(Default)]
pub struct Metrics {
    updates: AtomicU64,
    update_failures: AtomicU64,
    update_time: Histogram,
    logins: AtomicU64,
    login_failures: AtomicU64,
    /// `(route, status)` → requests.
    api: Mutex<BTreeMap<(String, u16), u64>>,
    api_time: Mutex<BTreeMap<String, std::sync::Arc<Histogram>>>,
    /// `(channel, outcome)` → deliveries finished by this process.
    deliveries: Mutex<BTreeMap<(String, &'static str), u64>>,
    send_time: Mutex<BTreeMap<String, std::sync::Arc<Histogram>>>,
    /// Announcement deliveries finished by this process, by outcome.
    announcements: Mutex<BTreeMap<&'static str, u64>>,
    /// Answers to questions recorded by this process.
    answers: AtomicU64,
    /// POSTs of answers to the portal's webhook, by outcome (delivered, retried).
    portal_deliveries: Mutex<BTreeMap<&'static str, u64>>,
    /// Long polling: when a `getUpdates` last succeeded (Unix milliseconds; 0: polling is
    /// not used).
    last_poll_ms: AtomicI64,
}

fn labelled(
    map: &Mutex<BTreeMap<String, std::sync::Arc<Histogram>>>,
    label: &str,
) -> std::sync::Arc<Histogram> {
    map.lock()
        .expect("metrics lock")
        .entry(label.to_owned())
        .or_default()
        .clone()
}

impl Metrics {
    /// An update handled, and how long its handling took.
    pub fn update_handled(&self, ok: bool) {
        self.updates.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.update_failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn update_took(&self, took: Duration) {
        self.update_time.observe(took);
    }

    pub fn login(&self, ok: bool) {
        if ok {
            self.logins.fetch_add(1, Ordering::Relaxed);
        } else {
            self.login_failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn api_request(&self, route: &str, status: u16, took: Duration) {
        *self
            .api
            .lock()
            .expect("metrics lock")
            .entry((route.to_owned(), status))
            .or_default() += 1;
        labelled(&self.api_time, route).observe(took);
    }

    /// `outcome`: sent, retried, postponed, failed or dropped; `took`: the send itself.
    pub fn delivery(&self, channel: &str, outcome: &'static str, took: Duration) {
        *self
            .deliveries
            .lock()
            .expect("metrics lock")
            .entry((channel.to_owned(), outcome))
            .or_default() += 1;
        // A delivery dropped before any call (a logged-out chat, a cancel) took no send.
        if !took.is_zero() {
            labelled(&self.send_time, channel).observe(took);
        }
    }

    /// An announcement's delivery finished: sent, failed, cancelled or skipped.
    pub fn announcement(&self, outcome: &'static str) {
        *self
            .announcements
            .lock()
            .expect("metrics lock")
            .entry(outcome)
            .or_default() += 1;
    }

    /// A parent's answer to a question was recorded.
    pub fn answer_given(&self) {
        self.answers.fetch_add(1, Ordering::Relaxed);
    }

    /// A POST of an answer to the portal's webhook: delivered or retried.
    pub fn portal_delivery(&self, outcome: &'static str) {
        *self
            .portal_deliveries
            .lock()
            .expect("metrics lock")
            .entry(outcome)
            .or_default() += 1;
    }

    /// A `getUpdates` succeeded (long polling).
    pub fn polled(&self, at: DateTime<Utc>) {
        self.last_poll_ms
            .store(at.timestamp_millis(), Ordering::Relaxed);
    }

    /// How long ago a `getUpdates` last succeeded; `None` when this process does not poll.
    pub fn last_poll_age(&self, now: DateTime<Utc>) -> Option<Duration> {
        match self.last_poll_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(Duration::from_millis(
                (now.timestamp_millis() - ms).max(0) as u64
            )),
        }
    }

    pub fn updates_handled(&self) -> u64 {
        self.updates.load(Ordering::Relaxed)
    }

    /// The text `/metrics` serves. `database_up`: whether the database answered the scrape.
    pub fn render(
        &self,
        outbox: Option<&OutboxStats>,
        database_up: bool,
        now: DateTime<Utc>,
    ) -> String {
        let mut out = String::new();
        let head = |out: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            head(out, name, "counter", help);
            let _ = writeln!(out, "{name} {value}");
        };
        counter(
            &mut out,
            "kabinet_updates_handled_total",
            "Telegram updates handled.",
            self.updates.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "kabinet_update_failures_total",
            "Telegram updates whose handling failed (the parent got an apology).",
            self.update_failures.load(Ordering::Relaxed),
        );
        head(
            &mut out,
            "kabinet_update_duration_seconds",
            "histogram",
            "Time to handle one Telegram update, answer included.",
        );
        self.update_time
            .render(&mut out, "kabinet_update_duration_seconds", "");
        counter(
            &mut out,
            "kabinet_logins_total",
            "Successful logins into a cabinet.",
            self.logins.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "kabinet_login_failures_total",
            "Wrong passwords entered.",
            self.login_failures.load(Ordering::Relaxed),
        );

        head(
            &mut out,
            "kabinet_api_requests_total",
            "counter",
            "Integration API requests by route and status.",
        );
        for ((route, status), n) in self.api.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                out,
                "kabinet_api_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        head(
            &mut out,
            "kabinet_api_request_duration_seconds",
            "histogram",
            "Time to answer an integration API request, by route.",
        );
        for (route, h) in self.api_time.lock().expect("metrics lock").iter() {
            h.render(
                &mut out,
                "kabinet_api_request_duration_seconds",
                &format!("route=\"{route}\""),
            );
        }

        head(
            &mut out,
            "kabinet_push_sends_total",
            "counter",
            "Delivery attempts finished by this process, by channel and outcome.",
        );
        for ((channel, outcome), n) in self.deliveries.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                out,
                "kabinet_push_sends_total{{channel=\"{channel}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        head(
            &mut out,
            "kabinet_send_duration_seconds",
            "histogram",
            "Time of one send (Telegram call, SMS gateway, mail server), pacing excluded, by channel.",
        );
        for (channel, h) in self.send_time.lock().expect("metrics lock").iter() {
            h.render(
                &mut out,
                "kabinet_send_duration_seconds",
                &format!("channel=\"{channel}\""),
            );
        }
        head(
            &mut out,
            "kabinet_announcement_deliveries_total",
            "counter",
            "Announcement deliveries finished by this process, by outcome.",
        );
        for (outcome, n) in self.announcements.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                out,
                "kabinet_announcement_deliveries_total{{outcome=\"{outcome}\"}} {n}"
            );
        }

        counter(
            &mut out,
            "kabinet_answers_total",
            "Answers to questions recorded (the first answer to each).",
            self.answers.load(Ordering::Relaxed),
        );
        head(
            &mut out,
            "kabinet_portal_webhook_deliveries_total",
            "counter",
            "POSTs of answers to the portal's webhook by this process, by outcome.",
        );
        for (outcome, n) in self.portal_deliveries.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                out,
                "kabinet_portal_webhook_deliveries_total{{outcome=\"{outcome}\"}} {n}"
            );
        }

        head(
            &mut out,
            "kabinet_database_up",
            "gauge",
            "1 when the database answered this scrape.",
        );
        let _ = writeln!(out, "kabinet_database_up {}", u8::from(database_up));
        if let Some(age) = self.last_poll_age(now) {
            head(
                &mut out,
                "kabinet_telegram_last_poll_age_seconds",
                "gauge",
                "Seconds since a getUpdates last succeeded (long polling).",
            );
            let _ = writeln!(
                out,
                "kabinet_telegram_last_poll_age_seconds {}",
                age.as_secs_f64()
            );
        }
        if let Some(outbox) = outbox {
            head(
                &mut out,
                "kabinet_outbox_pending",
                "gauge",
                "Deliveries waiting to be sent, by class (question; push: a parent's own; announcement), counted up to 100000.",
            );
            for (class, n, _) in &outbox.pending {
                let _ = writeln!(out, "kabinet_outbox_pending{{class=\"{class}\"}} {n}");
            }
            head(
                &mut out,
                "kabinet_outbox_oldest_pending_seconds",
                "gauge",
                "Age of the oldest delivery still waiting, by class (0 when none waits).",
            );
            for (class, _, oldest) in &outbox.pending {
                let age =
                    oldest.map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0);
                let _ = writeln!(
                    out,
                    "kabinet_outbox_oldest_pending_seconds{{class=\"{class}\"}} {age}"
                );
            }
            head(
                &mut out,
                "kabinet_answers_undelivered_oldest_seconds",
                "gauge",
                "Age of the oldest answer the portal's webhook has not taken yet (0 when none waits).",
            );
            let age = outbox
                .oldest_undelivered_answer
                .map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0);
            let _ = writeln!(out, "kabinet_answers_undelivered_oldest_seconds {age}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let h = Histogram::default();
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_millis(40));
        h.observe(Duration::from_secs(60));
        let mut out = String::new();
        h.render(&mut out, "x", "route=\"/a\"");
        assert!(
            out.contains("x_bucket{route=\"/a\",le=\"0.005\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("x_bucket{route=\"/a\",le=\"0.05\"} 2\n"),
            "{out}"
        );
        assert!(
            out.contains("x_bucket{route=\"/a\",le=\"30\"} 2\n"),
            "{out}"
        );
        assert!(
            out.contains("x_bucket{route=\"/a\",le=\"+Inf\"} 3\n"),
            "{out}"
        );
        assert!(out.contains("x_count{route=\"/a\"} 3\n"), "{out}");
        assert!(out.contains("x_sum{route=\"/a\"} 60.043\n"), "{out}");
    }
}
