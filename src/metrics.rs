//! Counters for `/metrics`, in Prometheus' text format. One [`Metrics`] per running
//! Kabinet, shared by the bot, the API and the sender; the outbox figures are read from the
//! database at scrape time, so they hold across restarts and replicas.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};

use crate::storage::OutboxStats;

#[derive(Default)]
pub struct Metrics {
    updates: AtomicU64,
    update_failures: AtomicU64,
    logins: AtomicU64,
    login_failures: AtomicU64,
    /// `(route, status)` → requests.
    api: Mutex<BTreeMap<(String, u16), u64>>,
    /// `(channel, outcome)` → deliveries finished by this process.
    deliveries: Mutex<BTreeMap<(String, &'static str), u64>>,
}

impl Metrics {
    pub fn update_handled(&self, ok: bool) {
        self.updates.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.update_failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn login(&self, ok: bool) {
        if ok {
            self.logins.fetch_add(1, Ordering::Relaxed);
        } else {
            self.login_failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn api_request(&self, route: &str, status: u16) {
        *self
            .api
            .lock()
            .expect("metrics lock")
            .entry((route.to_owned(), status))
            .or_default() += 1;
    }

    /// `outcome`: sent, retried, failed or dropped.
    pub fn delivery(&self, channel: &str, outcome: &'static str) {
        *self
            .deliveries
            .lock()
            .expect("metrics lock")
            .entry((channel.to_owned(), outcome))
            .or_default() += 1;
    }

    pub fn updates_handled(&self) -> u64 {
        self.updates.load(Ordering::Relaxed)
    }

    /// The text `/metrics` serves.
    pub fn render(&self, outbox: &OutboxStats, now: DateTime<Utc>) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
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

        out.push_str(
            "# HELP kabinet_api_requests_total Integration API requests by route and status.\n",
        );
        out.push_str("# TYPE kabinet_api_requests_total counter\n");
        for ((route, status), n) in self.api.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                out,
                "kabinet_api_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }

        out.push_str(
            "# HELP kabinet_push_sends_total Delivery attempts finished by this process, by outcome.\n",
        );
        out.push_str("# TYPE kabinet_push_sends_total counter\n");
        for ((channel, outcome), n) in self.deliveries.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                out,
                "kabinet_push_sends_total{{channel=\"{channel}\",outcome=\"{outcome}\"}} {n}"
            );
        }

        out.push_str("# HELP kabinet_deliveries Deliveries in the outbox by channel and state.\n");
        out.push_str("# TYPE kabinet_deliveries gauge\n");
        for channel in ["telegram", "sms", "email"] {
            for state in ["pending", "sending", "sent", "failed", "dropped"] {
                let n = outbox
                    .counts
                    .iter()
                    .find(|(c, s, _)| c == channel && s == state)
                    .map_or(0, |(_, _, n)| *n);
                let _ = writeln!(
                    out,
                    "kabinet_deliveries{{channel=\"{channel}\",state=\"{state}\"}} {n}"
                );
            }
        }
        let age = outbox
            .oldest_pending
            .map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0);
        out.push_str(
            "# HELP kabinet_outbox_oldest_pending_seconds Age of the oldest delivery still waiting.\n",
        );
        out.push_str("# TYPE kabinet_outbox_oldest_pending_seconds gauge\n");
        let _ = writeln!(out, "kabinet_outbox_oldest_pending_seconds {age}");
        out
    }
}
