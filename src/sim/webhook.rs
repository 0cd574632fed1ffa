//! The simulator's webhook: after `setWebhook`, updates are POSTed to the bot instead of
//! waiting for `getUpdates` (which then answers 409), as Telegram does it:
//! - each POST carries the secret in `X-Telegram-Bot-Api-Secret-Token`;
//! - up to `max_connections` POSTs at once, but one chat's updates one at a time and in
//!   order: a chat's next update goes only after the previous one got a 2xx;
//! - a non-2xx answer, or none, is tried again later with growing pauses (shorter than
//!   Telegram's, so tests do not wait minutes), and shows in `getWebhookInfo`.
//!
//! Telegram posts to one URL; a deployment of several replicas has a load balancer behind
//! it. [`Simulator::route_webhook`] stands for that balancer: the simulator then posts to
//! the given addresses in turn (at the webhook URL's path), passes a POST a backend refuses
//! to connect on to the next, and keeps that backend out of turn for a few seconds.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::state::{ApiError, ApiResult, State, int_param};
use super::{Shared, Simulator};

/// How long one POST may take before it counts as failed.
const POST_TIMEOUT: Duration = Duration::from_secs(30);
/// The first pause before a failed update is posted again; it doubles up to the cap.
const FIRST_RETRY: Duration = Duration::from_millis(200);
const RETRY_CAP: Duration = Duration::from_secs(5);

/// The webhook as `setWebhook` set it.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub url: url::Url,
    pub secret: Option<String>,
    pub max_connections: usize,
}

/// One POST of an update, as the bot answered it.
#[derive(Debug, Clone)]
pub struct WebhookPost {
    pub update_id: i64,
    /// The chat the update belongs to.
    pub chat_id: Option<i64>,
    /// Where it went (the balancer's pick, or the webhook URL).
    pub target: String,
    /// The HTTP status, or `None` when no answer came (refused, reset, timed out).
    pub status: Option<u16>,
    pub at: Instant,
}

/// The delivery side of the state.
#[derive(Default)]
pub struct Delivery {
    pub webhook: Option<Webhook>,
    /// Updates being posted now.
    in_flight: HashSet<i64>,
    /// Chats with an update being posted now.
    busy: HashSet<i64>,
    /// Failed updates: when they may go again, and how many tries they had.
    retry: std::collections::HashMap<i64, (Instant, u32)>,
    pub last_error: Option<(i64, String)>,
    pub posts: Vec<WebhookPost>,
}

/// The chat an update belongs to: one chat's updates are posted one at a time.
pub fn queue_of(kind: &str, payload: &Value) -> Option<i64> {
    let chat = |v: &Value| v.get("chat")?.get("id")?.as_i64();
    match kind {
        "callback_query" => payload
            .get("message")
            .and_then(chat)
            .or_else(|| payload.get("from")?.get("id")?.as_i64()),
        _ => chat(payload),
    }
}

impl State {
    pub fn set_webhook(&mut self, params: &Value) -> ApiResult {
        let url = params
            .get("url")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if url.is_empty() {
            return self.delete_webhook(params);
        }
        let url = url::Url::parse(url)
            .map_err(|_| ApiError::bad_request("bad webhook: Failed to resolve host"))?;
        if url.scheme() != "https" {
            return Err(ApiError::bad_request(
                "bad webhook: An HTTPS URL must be provided for webhook",
            ));
        }
        if !matches!(url.port_or_known_default(), Some(443 | 80 | 88 | 8443)) {
            return Err(ApiError::bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
            ));
        }
        let secret = params
            .get("secret_token")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(secret) = &secret {
            let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
            if secret.is_empty() || secret.len() > 256 || !secret.chars().all(allowed) {
                return Err(ApiError::bad_request(
                    "secret token contains unallowed characters",
                ));
            }
        }
        let max_connections = int_param(params, "max_connections").unwrap_or(40);
        if !(1..=100).contains(&max_connections) {
            return Err(ApiError::bad_request(
                "bad webhook: max_connections must be 1-100",
            ));
        }
        self.remember_allowed_updates(params);
        if params.get("drop_pending_updates").and_then(Value::as_bool) == Some(true) {
            self.drop_pending();
        }
        self.delivery.webhook = Some(Webhook {
            url,
            secret,
            max_connections: max_connections as usize,
        });
        Ok(json!(true))
    }

    pub fn delete_webhook(&mut self, params: &Value) -> ApiResult {
        self.delivery.webhook = None;
        if params.get("drop_pending_updates").and_then(Value::as_bool) == Some(true) {
            self.drop_pending();
        }
        Ok(json!(true))
    }

    pub fn webhook_info(&self) -> Value {
        let d = &self.delivery;
        let mut info = json!({
            "url": d.webhook.as_ref().map(|w| w.url.to_string()).unwrap_or_default(),
            "has_custom_certificate": false,
            "pending_update_count": self.pending_count(),
        });
        if let Some(w) = &d.webhook {
            info["max_connections"] = json!(w.max_connections);
        }
        if let Some((date, message)) = &d.last_error {
            info["last_error_date"] = json!(date);
            info["last_error_message"] = json!(message);
        }
        info
    }

    /// Updates to post now: the oldest of each chat not busy or waiting for a retry, up to
    /// the free connections; each is marked in flight.
    fn due_posts(&mut self, now: Instant) -> Vec<(i64, Option<i64>, Value)> {
        let Some(webhook) = &self.delivery.webhook else {
            return Vec::new();
        };
        let free = webhook
            .max_connections
            .saturating_sub(self.delivery.in_flight.len());
        let mut held: HashSet<i64> = self.delivery.busy.clone();
        let mut due = Vec::new();
        for (id, kind, payload) in self.pending_updates() {
            if due.len() == free {
                break;
            }
            let chat = queue_of(kind, payload);
            if self.delivery.in_flight.contains(id) {
                continue;
            }
            if chat.is_some_and(|c| held.contains(&c)) {
                continue;
            }
            let waiting = self.delivery.retry.get(id).is_some_and(|(at, _)| *at > now);
            if let Some(c) = chat {
                // A chat's later updates wait behind this one, whatever happens to it.
                held.insert(c);
            }
            if waiting {
                continue;
            }
            due.push((*id, chat, json!({"update_id": id, *kind: payload})));
        }
        for (id, chat, _) in &due {
            self.delivery.in_flight.insert(*id);
            if let Some(c) = chat {
                self.delivery.busy.insert(*c);
            }
        }
        due
    }

    /// When the next retry falls due, if any waits.
    fn next_retry(&self) -> Option<Instant> {
        self.delivery.retry.values().map(|(at, _)| *at).min()
    }

    fn posted(&mut self, update_id: i64, chat_id: Option<i64>, status: Option<u16>) {
        self.delivery.in_flight.remove(&update_id);
        if let Some(c) = chat_id {
            self.delivery.busy.remove(&c);
        }
        match status {
            Some(200..=299) => {
                self.delivery.retry.remove(&update_id);
                self.confirm_update(update_id);
            }
            status => {
                let tries = self.delivery.retry.get(&update_id).map_or(0, |(_, n)| *n) + 1;
                let pause = FIRST_RETRY
                    .saturating_mul(1 << (tries - 1).min(8))
                    .min(RETRY_CAP);
                self.delivery
                    .retry
                    .insert(update_id, (Instant::now() + pause, tries));
                let message = match status {
                    Some(code) => format!("Wrong response from the webhook: {code}"),
                    None => "Connection refused".to_owned(),
                };
                self.delivery.last_error = Some((chrono::Utc::now().timestamp(), message));
            }
        }
    }
}

/// Posts updates while the simulator runs.
pub(super) async fn deliver(shared: Arc<Shared>) {
    let client = reqwest::Client::builder()
        .timeout(POST_TIMEOUT)
        .build()
        .expect("an HTTP client");
    let turn = Arc::new(AtomicUsize::new(0));
    loop {
        let wake = shared.webhook_wake.notified();
        tokio::pin!(wake);
        wake.as_mut().enable();
        let (due, next_retry, webhook) = {
            let mut state = shared.lock();
            let due = state.due_posts(Instant::now());
            (due, state.next_retry(), state.delivery.webhook.clone())
        };
        if let Some(webhook) = webhook {
            for (update_id, chat_id, body) in due {
                let targets = pick_targets(&shared, &webhook.url, &turn);
                let shared = shared.clone();
                let client = client.clone();
                let secret = webhook.secret.clone();
                tokio::spawn(async move {
                    // The balancer passes a POST a backend refuses on to the next one, and
                    // keeps that backend out for a while (nginx: `proxy_next_upstream error`,
                    // `max_fails`); Telegram itself just sees the final answer.
                    let mut result = (None, None);
                    for target in targets {
                        let mut request = client.post(target.clone()).json(&body);
                        if let Some(secret) = &secret {
                            request = request.header(crate::bot::SECRET_HEADER, secret);
                        }
                        let (status, call) = match request.send().await {
                            Ok(response) => {
                                let status = response.status().as_u16();
                                let body = response.bytes().await.unwrap_or_default();
                                (Some(status), reply_call(status, &body))
                            }
                            Err(_) => (None, None),
                        };
                        shared.lock().delivery.posts.push(WebhookPost {
                            update_id,
                            chat_id,
                            target: target.to_string(),
                            status,
                            at: Instant::now(),
                        });
                        result = (status, call);
                        if status.is_some() {
                            break;
                        }
                        mark_down(&shared, &target);
                    }
                    let (status, call) = result;
                    // The answer may carry one Bot API call: Telegram makes it.
                    if let Some((method, params)) = call {
                        let _ = super::call_logged(&shared, &method, params).await;
                    }
                    shared.lock().posted(update_id, chat_id, status);
                    shared.webhook_wake.notify_one();
                });
            }
        }
        let until_retry = next_retry
            .map(|at| at.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_secs(3600))
            .max(Duration::from_millis(5));
        tokio::select! {
            _ = wake => {}
            _ = tokio::time::sleep(until_retry) => {}
        }
    }
}

/// The Bot API call a 2xx webhook answer carries: a JSON object with `method`.
fn reply_call(status: u16, body: &[u8]) -> Option<(String, Value)> {
    if !(200..300).contains(&status) {
        return None;
    }
    let Value::Object(mut params) = serde_json::from_slice(body).ok()? else {
        return None;
    };
    let method = params.remove("method")?.as_str()?.to_owned();
    Some((method, Value::Object(params)))
}

/// How long the balancer keeps a backend that refused a connection out of its turn.
const BACKEND_DOWN_FOR: Duration = Duration::from_secs(5);

/// Where a POST goes: the balancer's backends from the next in turn (those marked down
/// last, and only if every one is), or the webhook URL itself when there is no balancer.
fn pick_targets(shared: &Shared, url: &url::Url, turn: &AtomicUsize) -> Vec<url::Url> {
    let balancer = shared.balancer.lock().unwrap_or_else(|e| e.into_inner());
    if balancer.backends.is_empty() {
        return vec![url.clone()];
    }
    let n = balancer.backends.len();
    let first = turn.fetch_add(1, Ordering::Relaxed);
    let now = Instant::now();
    let mut order: Vec<SocketAddr> = (0..n).map(|i| balancer.backends[(first + i) % n]).collect();
    order.sort_by_key(|b| balancer.down_until.get(b).is_some_and(|until| *until > now));
    order
        .into_iter()
        .map(|backend| {
            let mut target =
                url::Url::parse(&format!("http://{backend}")).expect("an address makes a URL");
            target.set_path(url.path());
            target.set_query(url.query());
            target
        })
        .collect()
}

fn mark_down(shared: &Shared, target: &url::Url) {
    let Some(addr) = target
        .socket_addrs(|| None)
        .ok()
        .and_then(|a| a.into_iter().next())
    else {
        return;
    };
    let mut balancer = shared.balancer.lock().unwrap_or_else(|e| e.into_inner());
    balancer
        .down_until
        .insert(addr, Instant::now() + BACKEND_DOWN_FOR);
}

/// The load balancer in front of the replicas (see [`Simulator::route_webhook`]).
#[derive(Default)]
pub struct Balancer {
    backends: Vec<SocketAddr>,
    down_until: std::collections::HashMap<SocketAddr, Instant>,
}

impl Simulator {
    /// Stands for the load balancer in front of several replicas: webhook POSTs go to these
    /// addresses in turn (plain HTTP, at the webhook URL's path), as the balancer passes
    /// Telegram's requests on. An empty list posts to the webhook URL itself.
    pub fn route_webhook(&self, backends: Vec<SocketAddr>) {
        *self
            .shared()
            .balancer
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Balancer {
            backends,
            down_until: Default::default(),
        };
        self.shared().webhook_wake.notify_one();
    }

    /// Every webhook POST so far, with the bot's answer.
    pub fn webhook_posts(&self) -> Vec<WebhookPost> {
        self.shared().lock().delivery.posts.clone()
    }

    /// The webhook as `setWebhook` left it.
    pub fn webhook(&self) -> Option<Webhook> {
        self.shared().lock().delivery.webhook.clone()
    }

    /// `getWebhookInfo`'s answer.
    pub fn webhook_info(&self) -> Value {
        self.shared().lock().webhook_info()
    }

    /// Updates not yet delivered (confirmed by `getUpdates`' offset or a webhook's 2xx).
    pub fn pending_updates(&self) -> usize {
        self.shared().lock().pending_count()
    }
}
