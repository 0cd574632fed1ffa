//! The Telegram simulator: an in-process Bot API server on loopback that the real bot talks to
//! over HTTP exactly as it talks to Telegram, with Telegram's answers, checks, limits and
//! injectable faults. `kabinet demo`, the end-to-end tests and the benchmarks drive it.

mod client;
pub mod html;
pub mod smtp;
mod state;
mod webhook;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Value, json};
use tokio::sync::Notify;

pub use client::{Button, ChatHandle, MessageView};
pub use state::{
    ApiError, BOT_ID, BOT_USERNAME, ChangeKind, Fault, FaultKind, RequestRecord, Violation,
};
use state::{ChatKind, SimUser, State};
pub use webhook::{Webhook, WebhookPost};

/// The token the simulator accepts.
pub const TOKEN: &str = "7000000001:SIMULATOR-token-not-a-real-one-000000";

/// How the simulator behaves.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Enforce Telegram's rate limits (off for load tests).
    pub rate_limits: bool,
    /// Messages per second overall: 30 for every bot, up to 1000 with paid broadcasts.
    pub global_per_sec: u32,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            rate_limits: true,
            global_per_sec: 30,
        }
    }
}

pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    /// Wakes long polls when an update arrives (or another poll begins).
    updates: Notify,
    /// Counts `getUpdates` calls: a poll that sees a newer one begin ends with 409, as
    /// Telegram ends it.
    polls: std::sync::atomic::AtomicU64,
    /// `getUpdates` calls waiting for updates right now.
    waiting_polls: std::sync::atomic::AtomicUsize,
    /// Wakes the webhook poster: an update arrived, a POST ended, the webhook changed.
    webhook_wake: Notify,
    /// The load balancer's backends (see [`Simulator::route_webhook`]).
    balancer: Mutex<webhook::Balancer>,
}

impl Shared {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock would be a simulator bug; keep serving regardless.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running simulator. Dropping every handle stops its server.
#[derive(Clone)]
pub struct Simulator {
    shared: Arc<Shared>,
    url: url::Url,
    _stop: Arc<StopOnDrop>,
}

struct StopOnDrop(
    Option<tokio::sync::oneshot::Sender<()>>,
    tokio::task::AbortHandle,
);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
        self.1.abort();
    }
}

impl Simulator {
    /// Starts the server on 127.0.0.1 on a free port.
    pub async fn start(config: SimConfig) -> std::io::Result<Simulator> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(config.rate_limits, config.global_per_sec)),
            updates: Notify::new(),
            polls: Default::default(),
            waiting_polls: Default::default(),
            webhook_wake: Notify::new(),
            balancer: Mutex::default(),
        });
        let app = Router::new()
            .route("/{bot_token}/{method}", any(handle))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        let url = url::Url::parse(&format!("http://{addr}")).expect("a valid URL");
        let poster = tokio::spawn(webhook::deliver(shared.clone())).abort_handle();
        Ok(Simulator {
            shared,
            url,
            _stop: Arc::new(StopOnDrop(Some(tx), poster)),
        })
    }

    /// The Bot API base URL to give the bot (`TELEGRAM_API_URL`).
    pub fn api_url(&self) -> url::Url {
        self.url.clone()
    }

    /// A private chat with a user (chat id = user id, as in Telegram).
    pub fn private_chat(
        &self,
        user_id: i64,
        first_name: &str,
        language_code: Option<&str>,
    ) -> ChatHandle {
        let user = SimUser {
            id: user_id,
            first_name: first_name.to_owned(),
            language_code: language_code.map(str::to_owned),
        };
        self.shared
            .lock()
            .add_chat(user_id, ChatKind::Private, user);
        ChatHandle::new(self.clone(), user_id)
    }

    /// A group chat (negative id) in which `member` writes.
    pub fn group_chat(
        &self,
        chat_id: i64,
        title: &str,
        member_id: i64,
        language_code: Option<&str>,
    ) -> ChatHandle {
        let user = SimUser {
            id: member_id,
            first_name: "Member".into(),
            language_code: language_code.map(str::to_owned),
        };
        self.shared.lock().add_chat(
            chat_id,
            ChatKind::Group {
                title: title.to_owned(),
            },
            user,
        );
        ChatHandle::new(self.clone(), chat_id)
    }

    /// Every request the bot made so far.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.lock().log.clone()
    }

    /// When each message Telegram accepted whose text begins with `prefix` arrived, earliest
    /// first. Reads the log in place: a copy of a long log would take the CPU the bot needs.
    pub fn accepted_messages_starting(&self, prefix: &str) -> Vec<std::time::Instant> {
        let mut times: Vec<std::time::Instant> = self
            .shared
            .lock()
            .log
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case("sendMessage") && r.status == 200)
            .filter(|r| {
                r.params["text"]
                    .as_str()
                    .is_some_and(|t| t.starts_with(prefix))
            })
            .map(|r| r.at)
            .collect();
        times.sort();
        times
    }

    /// Every request refused for breaking a rate limit.
    pub fn violations(&self) -> Vec<Violation> {
        self.shared.lock().violations.clone()
    }

    /// Makes the next matching requests fail (or slow down) as described.
    pub fn inject(&self, fault: Fault) {
        self.shared.lock().faults.push(fault);
    }

    /// The commands registered for a language (`None`: the default list), as (command,
    /// description).
    pub fn commands(&self, language_code: Option<&str>) -> Vec<(String, String)> {
        let state = self.shared.lock();
        let key = (
            "default".to_owned(),
            language_code.unwrap_or_default().to_owned(),
        );
        state
            .commands
            .get(&key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| {
                let field = |n: &str| {
                    c.get(n)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                (field("command"), field("description"))
            })
            .collect()
    }

    /// How many button presses the bot has not answered (Telegram shows a spinner until it
    /// does).
    pub fn unanswered_callbacks(&self) -> usize {
        self.shared
            .lock()
            .callbacks
            .values()
            .filter(|c| c.answered.is_none())
            .count()
    }

    /// How many `getUpdates` calls are waiting for updates right now.
    pub fn polls_waiting(&self) -> usize {
        self.shared
            .waiting_polls
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Callback queries must be answered within this long (Telegram: about 15 s).
    pub fn set_callback_timeout(&self, timeout: Duration) {
        self.shared.lock().callback_timeout = timeout;
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub(crate) fn updates_arrived(&self) {
        self.shared.updates.notify_waiters();
        self.shared.webhook_wake.notify_one();
    }
}

/// Long polls wait at most this long for an update, whatever `timeout` asks.
const MAX_POLL: Duration = Duration::from_secs(50);

async fn handle(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path((bot_token, method)): Path<(String, String)>,
    Query(query): Query<serde_json::Map<String, Value>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if bot_token.strip_prefix("bot") != Some(TOKEN) {
        return reply(Err(ApiError {
            code: 401,
            description: "Unauthorized".into(),
            retry_after: None,
        }));
    }
    let params = parse_params(&headers, &body, query);
    reply(call_logged(&shared, &method, params).await)
}

/// Runs a Bot API call and records it (the log tests read).
pub(crate) async fn call_logged(
    shared: &Arc<Shared>,
    method: &str,
    params: Value,
) -> Result<Value, ApiError> {
    let method = method.to_owned();
    let result = call(shared, &method, &params).await;
    {
        let mut state = shared.lock();
        if let Some(chat) = state::chat_id_param(&params).and_then(|id| state.chats.get(&id)) {
            chat.changed.notify_waiters();
        }
        let (status, description) = match &result {
            Ok(_) => (200, None),
            Err(e) => (e.code, Some(e.description.clone())),
        };
        state.log.push(RequestRecord {
            method: method.clone(),
            params,
            status,
            description,
            at: Instant::now(),
        });
    }
    result
}

fn parse_params(headers: &HeaderMap, body: &[u8], query: serde_json::Map<String, Value>) -> Value {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut params = if content_type.starts_with("application/json") {
        serde_json::from_slice(body).unwrap_or(Value::Object(Default::default()))
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
        Value::Object(
            pairs
                .into_iter()
                .map(|(k, v)| (k, serde_json::from_str(&v).unwrap_or(Value::String(v))))
                .collect(),
        )
    } else {
        Value::Object(Default::default())
    };
    if let Value::Object(map) = &mut params {
        for (k, v) in query {
            map.entry(k).or_insert(v);
        }
    }
    params
}

async fn call(shared: &Arc<Shared>, method: &str, params: &Value) -> Result<Value, ApiError> {
    let fault = shared.lock().take_fault(method, params);
    match fault {
        Some(FaultKind::TooManyRequests(retry_after)) => {
            shared
                .lock()
                .told_to_wait(state::chat_id_param(params), retry_after);
            return Err(ApiError {
                code: 429,
                description: format!("Too Many Requests: retry after {retry_after}"),
                retry_after: Some(retry_after),
            });
        }
        Some(FaultKind::ServerError(code)) => {
            let description = if code == 502 {
                "Bad Gateway"
            } else {
                "Internal Server Error"
            };
            return Err(ApiError {
                code,
                description: description.into(),
                retry_after: None,
            });
        }
        Some(FaultKind::Blocked) => {
            return Err(ApiError {
                code: 403,
                description: "Forbidden: bot was blocked by the user".into(),
                retry_after: None,
            });
        }
        Some(FaultKind::Slow(delay)) => tokio::time::sleep(delay).await,
        None => {}
    }
    if method.eq_ignore_ascii_case("getUpdates") {
        return get_updates(shared, params).await;
    }
    let mut state = shared.lock();
    match method.to_ascii_lowercase().as_str() {
        "getme" => Ok(json!({
            "id": BOT_ID, "is_bot": true, "first_name": "Kabinet", "username": BOT_USERNAME,
            "can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false,
            "can_connect_to_business": false, "has_main_web_app": false,
        })),
        "setmychatmenubutton" | "setchatmenubutton" => Ok(json!(true)),
        "setwebhook" => {
            let set = state.set_webhook(params);
            shared.webhook_wake.notify_one();
            set
        }
        "deletewebhook" => state.delete_webhook(params),
        "getwebhookinfo" => Ok(state.webhook_info()),
        "sendmessage" => state.send_message(params),
        "editmessagetext" => state.edit_message_text(params),
        "editmessagereplymarkup" => state.edit_message_reply_markup(params),
        "answercallbackquery" => state.answer_callback_query(params),
        "deletemessage" => state.delete_message(params),
        "deletemessages" => state.delete_messages(params),
        "setmycommands" => state.set_my_commands(params),
        "getmycommands" => state.get_my_commands(params),
        "sendchataction" => state.send_chat_action(params),
        _ => Err(ApiError {
            code: 404,
            description: "Not Found: method not found".into(),
            retry_after: None,
        }),
    }
}

async fn get_updates(shared: &Arc<Shared>, params: &Value) -> Result<Value, ApiError> {
    let timeout = params
        .get("timeout")
        .and_then(Value::as_u64)
        .map(Duration::from_secs)
        .unwrap_or_default()
        .min(MAX_POLL);
    let deadline = tokio::time::Instant::now() + timeout;
    use std::sync::atomic::Ordering;
    let this_poll = shared.polls.fetch_add(1, Ordering::SeqCst) + 1;
    shared.updates.notify_waiters();
    let _waiting = WaitingPoll::new(shared);
    loop {
        let notified = shared.updates.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if shared.polls.load(Ordering::SeqCst) != this_poll {
            return Err(ApiError {
                code: 409,
                description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running".into(),
                retry_after: None,
            });
        }
        if let Some(updates) = shared.lock().get_updates(params)? {
            return Ok(updates);
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return Ok(json!([]));
        }
    }
}

/// Counts a poll as waiting while it lives (also when its client goes away).
struct WaitingPoll<'a>(&'a Shared);

impl<'a> WaitingPoll<'a> {
    fn new(shared: &'a Shared) -> Self {
        shared
            .waiting_polls
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        WaitingPoll(shared)
    }
}

impl Drop for WaitingPoll<'_> {
    fn drop(&mut self) {
        self.0
            .waiting_polls
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

fn reply(result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(value) => (
            StatusCode::OK,
            axum::Json(json!({"ok": true, "result": value})),
        )
            .into_response(),
        Err(e) => {
            let mut body = json!({"ok": false, "error_code": e.code, "description": e.description});
            if let Some(retry) = e.retry_after {
                body["parameters"] = json!({"retry_after": retry});
            }
            let status = StatusCode::from_u16(e.code).unwrap_or(StatusCode::BAD_REQUEST);
            (status, axum::Json(body)).into_response()
        }
    }
}
