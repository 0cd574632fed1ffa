//! The simulator's world: chats, messages, pending updates, callback queries, limits, faults,
//! and the Bot API methods acting on them with Telegram's answers.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::html;

pub const BOT_ID: i64 = 7_000_000_001;
pub const BOT_USERNAME: &str = "kabinet_demo_bot";
const MAX_TEXT: usize = 4096;

/// A Bot API error: HTTP status, description, and `retry_after` for 429.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub description: String,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn bad_request(what: &str) -> Self {
        ApiError {
            code: 400,
            description: format!("Bad Request: {what}"),
            retry_after: None,
        }
    }
    fn raw(code: u16, description: String) -> Self {
        ApiError {
            code,
            description,
            retry_after: None,
        }
    }
}

pub type ApiResult = Result<Value, ApiError>;

/// A fault to inject into the next matching requests.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultKind {
    /// 429 with this `retry_after` (seconds).
    TooManyRequests(u64),
    /// 500, 502 …
    ServerError(u16),
    /// 403 "bot was blocked by the user".
    Blocked,
    /// The answer comes after this long (then the request proceeds normally).
    Slow(Duration),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub kind: FaultKind,
    /// Only this method (`sendMessage` …); any when `None`.
    pub method: Option<String>,
    /// Only requests to this chat; any when `None`.
    pub chat_id: Option<i64>,
    /// How many matching requests it hits.
    pub times: u32,
    /// Hits one matching request in this many (1: every one).
    pub one_in: u32,
    /// Matching requests seen so far.
    seen: u32,
    /// Hits each matching request with this chance instead, drawn from a seeded generator
    /// (the same draws every run): `(chance, generator state)`.
    random: Option<(f64, u64)>,
}

impl Fault {
    pub fn new(kind: FaultKind) -> Self {
        Fault {
            kind,
            method: None,
            chat_id: None,
            times: 1,
            one_in: 1,
            seen: 0,
            random: None,
        }
    }
    pub fn on(mut self, method: &str) -> Self {
        self.method = Some(method.to_owned());
        self
    }
    pub fn in_chat(mut self, chat_id: i64) -> Self {
        self.chat_id = Some(chat_id);
        self
    }
    pub fn times(mut self, n: u32) -> Self {
        self.times = n;
        self
    }
    /// Hits every `n`-th matching request (the `n`-th, the `2n`-th …) instead of each one:
    /// `one_in(5)` fails a fifth of them.
    pub fn one_in(mut self, n: u32) -> Self {
        self.one_in = n.max(1);
        self
    }
    /// Hits each matching request with this chance, at random but with the same draws
    /// every run. The generator's seed is one whose draws keep close to the chance from the
    /// start (at 0.2: 25 of the first 125, 58 of 300, never more than 3 in a row), so a
    /// test of "a fifth fail" sees a fifth fail.
    pub fn at_random(mut self, chance: f64) -> Self {
        self.random = Some((chance, 0x4540_21DE_755D_453B));
        self
    }
    /// Whether this matching request is hit.
    fn hits(&mut self) -> bool {
        self.seen += 1;
        match &mut self.random {
            Some((chance, state)) => {
                // xorshift64*: small, and the same sequence every run.
                *state ^= *state >> 12;
                *state ^= *state << 25;
                *state ^= *state >> 27;
                let draw = state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
                (draw as f64 / (1u64 << 53) as f64) < *chance
            }
            None => self.seen % self.one_in == 0,
        }
    }
}

/// One request the bot made, as the simulator answered it.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    pub method: String,
    pub params: Value,
    pub status: u16,
    pub description: Option<String>,
    pub at: Instant,
}

/// A request refused for going over one of Telegram's rate limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub limit: &'static str,
    pub chat_id: i64,
}

/// A token bucket: `capacity` sends at once, refilled at `per_sec`.
#[derive(Debug, Clone)]
pub struct Bucket {
    capacity: f64,
    per_sec: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    pub fn new(capacity: f64, per_sec: f64) -> Self {
        Bucket {
            capacity,
            per_sec,
            tokens: capacity,
            at: Instant::now(),
        }
    }
    /// Takes a token, or says in how many whole seconds one will be there.
    fn take(&mut self, now: Instant) -> Result<(), u64> {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.capacity);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - self.tokens) / self.per_sec).ceil().max(1.0) as u64)
        }
    }
}

/// Telegram's overall limit: at most `per_sec` messages in any sliding second.
#[derive(Debug, Clone)]
pub struct SlidingSecond {
    per_sec: usize,
    sent: VecDeque<Instant>,
}

impl SlidingSecond {
    pub fn new(per_sec: u32) -> Self {
        SlidingSecond {
            per_sec: per_sec as usize,
            sent: VecDeque::new(),
        }
    }

    /// Counts a message, or says in how many whole seconds one may go.
    fn take(&mut self, now: Instant) -> Result<(), u64> {
        let second = Duration::from_secs(1);
        while self
            .sent
            .front()
            .is_some_and(|at| now.saturating_duration_since(*at) >= second)
        {
            self.sent.pop_front();
        }
        if self.sent.len() >= self.per_sec {
            return Err(1);
        }
        self.sent.push_back(now);
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ChatKind {
    Private,
    Group { title: String },
}

#[derive(Debug, Clone)]
pub struct SimUser {
    pub id: i64,
    pub first_name: String,
    pub language_code: Option<String>,
}

impl SimUser {
    pub fn json(&self) -> Value {
        let mut u = json!({"id": self.id, "is_bot": false, "first_name": self.first_name});
        if let Some(code) = &self.language_code {
            u["language_code"] = json!(code);
        }
        u
    }
}

/// A message in a chat, by the bot or by the user.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    pub id: i64,
    pub from_bot: bool,
    /// What the user sees: the text after HTML parsing.
    pub text: String,
    /// The reply markup as sent (inline keyboard, reply keyboard, removal).
    pub reply_markup: Option<Value>,
    pub deleted: bool,
    pub edits: u32,
    pub silent: bool,
    pub date: i64,
}

#[derive(Debug, Clone)]
pub struct SimChat {
    pub id: i64,
    pub kind: ChatKind,
    pub user: SimUser,
    pub messages: BTreeMap<i64, StoredMessage>,
    pub blocked: bool,
    /// Bot-side changes (sent, edited, deleted message ids), in order, for clients to follow.
    pub changes: Vec<Change>,
    /// Wakes the clients of this chat (only them: with many chats, waking every client on
    /// every change would make the simulator the bottleneck).
    pub changed: Arc<tokio::sync::Notify>,
    bucket: Bucket,
    /// A 429 told the bot to wait until then before sending to this chat again.
    retry_until: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Sent,
    Edited,
    Deleted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    pub message_id: i64,
}

#[derive(Debug, Clone)]
pub struct CallbackRecord {
    pub created: Instant,
    pub answered: Option<Option<String>>,
}

pub struct State {
    pub rate_limits: bool,
    pub callback_timeout: Duration,
    next_update_id: i64,
    pending: VecDeque<(i64, &'static str, Value)>,
    allowed_updates: Option<Vec<String>>,
    next_message_id: i64,
    pub chats: HashMap<i64, SimChat>,
    pub callbacks: HashMap<String, CallbackRecord>,
    next_callback: u64,
    pub commands: HashMap<(String, String), Value>,
    pub log: Vec<RequestRecord>,
    pub violations: Vec<Violation>,
    pub faults: Vec<Fault>,
    global: SlidingSecond,
    /// A 429 not tied to a chat told the bot to wait until then before sending at all.
    global_retry_until: Option<Instant>,
    /// The webhook, and the updates being posted to it.
    pub delivery: super::webhook::Delivery,
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub(crate) fn chat_id_param(params: &Value) -> Option<i64> {
    match params.get("chat_id")? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

pub(crate) fn int_param(params: &Value, name: &str) -> Option<i64> {
    match params.get(name)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

impl State {
    pub fn new(rate_limits: bool, global_per_sec: u32) -> Self {
        State {
            rate_limits,
            callback_timeout: Duration::from_secs(15),
            next_update_id: 1,
            pending: VecDeque::new(),
            allowed_updates: None,
            next_message_id: 1,
            chats: HashMap::new(),
            callbacks: HashMap::new(),
            next_callback: 1,
            commands: HashMap::new(),
            log: Vec::new(),
            violations: Vec::new(),
            faults: Vec::new(),
            global: SlidingSecond::new(global_per_sec),
            global_retry_until: None,
            delivery: Default::default(),
        }
    }

    pub fn bot_json() -> Value {
        json!({"id": BOT_ID, "is_bot": true, "first_name": "Kabinet", "username": BOT_USERNAME})
    }

    fn chat_json(chat: &SimChat) -> Value {
        match &chat.kind {
            ChatKind::Private => {
                json!({"id": chat.id, "type": "private", "first_name": chat.user.first_name})
            }
            ChatKind::Group { title } => json!({"id": chat.id, "type": "group", "title": title}),
        }
    }

    pub fn message_json(chat: &SimChat, m: &StoredMessage) -> Value {
        let from = if m.from_bot {
            Self::bot_json()
        } else {
            chat.user.json()
        };
        let mut v = json!({
            "message_id": m.id,
            "date": m.date,
            "chat": Self::chat_json(chat),
            "from": from,
            "text": m.text,
        });
        if let Some(markup) = m
            .reply_markup
            .as_ref()
            .filter(|k| k.get("inline_keyboard").is_some())
        {
            v["reply_markup"] = markup.clone();
        }
        if m.edits > 0 {
            v["edit_date"] = json!(m.date);
        }
        v
    }

    // ---- the user side --------------------------------------------------------------------

    pub fn add_chat(&mut self, id: i64, kind: ChatKind, user: SimUser) {
        let bucket = match kind {
            // About one message a second in a private chat, with a small burst.
            ChatKind::Private => Bucket::new(3.0, 1.0),
            // Twenty messages a minute in a group.
            ChatKind::Group { .. } => Bucket::new(20.0, 20.0 / 60.0),
        };
        self.chats.entry(id).or_insert(SimChat {
            id,
            kind,
            user,
            messages: BTreeMap::new(),
            blocked: false,
            changes: Vec::new(),
            changed: Arc::default(),
            bucket,
            retry_until: None,
        });
    }

    fn push_update(&mut self, kind: &'static str, payload: Value) -> i64 {
        let id = self.next_update_id;
        self.next_update_id += 1;
        self.pending.push_back((id, kind, payload));
        id
    }

    /// A message from the user; `fill` adds the content (text, sticker …).
    pub fn user_message(&mut self, chat_id: i64, fill: impl FnOnce(&mut Value)) -> i64 {
        let message_id = self.next_message_id;
        self.next_message_id += 1;
        let chat = self.chats.get_mut(&chat_id).expect("chat added first");
        let stored = StoredMessage {
            id: message_id,
            from_bot: false,
            text: String::new(),
            reply_markup: None,
            deleted: false,
            edits: 0,
            silent: false,
            date: unix_now(),
        };
        let mut json = Self::message_json(chat, &stored);
        json.as_object_mut().expect("object").remove("text");
        fill(&mut json);
        let mut stored = stored;
        stored.text = json
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        chat.messages.insert(message_id, stored);
        self.push_update("message", json);
        message_id
    }

    /// A press of an inline button: a callback query update; returns its id.
    pub fn press(&mut self, chat_id: i64, message_id: i64, data: &str) -> Result<String, String> {
        let chat = self.chats.get(&chat_id).ok_or("no such chat")?;
        let message = chat.messages.get(&message_id).ok_or("no such message")?;
        let id = format!("cb{}", self.next_callback);
        self.next_callback += 1;
        let payload = json!({
            "id": id,
            "from": chat.user.json(),
            "message": Self::message_json(chat, message),
            "chat_instance": format!("ci{chat_id}"),
            "data": data,
        });
        self.callbacks.insert(
            id.clone(),
            CallbackRecord {
                created: Instant::now(),
                answered: None,
            },
        );
        self.push_update("callback_query", payload);
        Ok(id)
    }

    /// The user blocks the bot: Telegram sends `my_chat_member` and refuses later sends.
    pub fn block(&mut self, chat_id: i64) {
        let Some(chat) = self.chats.get_mut(&chat_id) else {
            return;
        };
        chat.blocked = true;
        let payload = json!({
            "chat": Self::chat_json(chat),
            "from": chat.user.json(),
            "date": unix_now(),
            "old_chat_member": {"user": Self::bot_json(), "status": "member"},
            "new_chat_member": {"user": Self::bot_json(), "status": "kicked", "until_date": 0},
        });
        self.push_update("my_chat_member", payload);
    }

    // ---- the bot side: Bot API methods ------------------------------------------------------

    /// Takes a matching injected fault, if any.
    pub fn take_fault(&mut self, method: &str, params: &Value) -> Option<FaultKind> {
        let chat = chat_id_param(params);
        let index = self.faults.iter().position(|f| {
            f.method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && f.chat_id.is_none_or(|c| Some(c) == chat)
        })?;
        let fault = &mut self.faults[index];
        if !fault.hits() {
            return None;
        }
        fault.times -= 1;
        let kind = fault.kind.clone();
        if fault.times == 0 {
            self.faults.remove(index);
        }
        Some(kind)
    }

    /// Updates for `getUpdates`; `None` when there are none yet (the caller long-polls).
    pub fn get_updates(&mut self, params: &Value) -> Result<Option<Value>, ApiError> {
        if self.delivery.webhook.is_some() {
            return Err(ApiError::raw(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first".into(),
            ));
        }
        if let Some(offset) = int_param(params, "offset") {
            while self.pending.front().is_some_and(|(id, _, _)| *id < offset) {
                self.pending.pop_front();
            }
        }
        self.remember_allowed_updates(params);
        let limit = int_param(params, "limit").unwrap_or(100).clamp(1, 100) as usize;
        let updates: Vec<Value> = self
            .pending_updates()
            .take(limit)
            .map(|(id, kind, payload)| json!({"update_id": id, *kind: payload}))
            .collect();
        Ok((!updates.is_empty()).then_some(Value::Array(updates)))
    }

    /// `allowed_updates` is remembered until a call changes it (an empty list: all).
    pub(crate) fn remember_allowed_updates(&mut self, params: &Value) {
        if let Some(allowed) = params.get("allowed_updates").and_then(Value::as_array) {
            let list: Vec<String> = allowed
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            self.allowed_updates = if list.is_empty() { None } else { Some(list) };
        }
    }

    /// The updates not yet delivered, of the kinds the bot asked for, oldest first.
    pub(crate) fn pending_updates(&self) -> impl Iterator<Item = &(i64, &'static str, Value)> {
        let allowed = self.allowed_updates.as_ref();
        self.pending
            .iter()
            .filter(move |(_, kind, _)| allowed.is_none_or(|a| a.iter().any(|k| k == kind)))
    }

    pub(crate) fn pending_count(&self) -> usize {
        self.pending_updates().count()
    }

    /// A webhook POST of this update got a 2xx: it is delivered.
    pub(crate) fn confirm_update(&mut self, update_id: i64) {
        self.pending.retain(|(id, _, _)| *id != update_id);
    }

    pub(crate) fn drop_pending(&mut self) {
        self.pending.clear();
    }

    fn chat_for_send(&mut self, params: &Value) -> Result<i64, ApiError> {
        let chat_id =
            chat_id_param(params).ok_or_else(|| ApiError::bad_request("chat_id is empty"))?;
        let chat = self
            .chats
            .get(&chat_id)
            .ok_or_else(|| ApiError::bad_request("chat not found"))?;
        if chat.blocked {
            return Err(ApiError::raw(
                403,
                "Forbidden: bot was blocked by the user".into(),
            ));
        }
        Ok(chat_id)
    }

    fn check_text(params: &Value) -> Result<String, ApiError> {
        let raw = params
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let html = params
            .get("parse_mode")
            .and_then(Value::as_str)
            .is_some_and(|m| m.eq_ignore_ascii_case("html"));
        let visible = if html {
            html::parse(raw).map_err(|d| ApiError::raw(400, d))?
        } else {
            raw.to_owned()
        };
        if visible.trim().is_empty() {
            return Err(ApiError::bad_request("message text is empty"));
        }
        if html::telegram_len(&visible) > MAX_TEXT {
            return Err(ApiError::bad_request("message is too long"));
        }
        Ok(visible)
    }

    fn check_markup(params: &Value) -> Result<Option<Value>, ApiError> {
        let Some(markup) = params.get("reply_markup").filter(|m| !m.is_null()) else {
            return Ok(None);
        };
        let markup = match markup {
            Value::String(s) => serde_json::from_str(s).map_err(|_| {
                ApiError::bad_request("can't parse reply keyboard markup JSON object")
            })?,
            other => other.clone(),
        };
        if let Some(rows) = markup.get("inline_keyboard").and_then(Value::as_array) {
            for button in rows.iter().filter_map(Value::as_array).flatten() {
                let text = button
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if text.is_empty() {
                    return Err(ApiError::bad_request(
                        "text buttons are unallowed in the inline keyboard",
                    ));
                }
                if let Some(data) = button.get("callback_data") {
                    let len = data.as_str().map_or(0, str::len);
                    if !(1..=64).contains(&len) {
                        return Err(ApiError::bad_request("BUTTON_DATA_INVALID"));
                    }
                } else if let Some(copy) = button.get("copy_text") {
                    // A button that copies its text to the clipboard: 1-256 characters.
                    let len = copy
                        .get("text")
                        .and_then(Value::as_str)
                        .map_or(0, |t| t.chars().count());
                    if !(1..=256).contains(&len) {
                        return Err(ApiError::bad_request("COPY_TEXT_INVALID"));
                    }
                } else if button.get("url").is_none() {
                    return Err(ApiError::bad_request(
                        "text buttons are unallowed in the inline keyboard",
                    ));
                }
            }
        }
        Ok(Some(markup))
    }

    /// Remembers that a 429 told the bot to wait `retry_after` seconds before sending to
    /// `chat_id` (or, without a chat, at all): a send before then is a violation too.
    pub fn told_to_wait(&mut self, chat_id: Option<i64>, retry_after: u64) {
        let until = Instant::now() + Duration::from_secs(retry_after);
        match chat_id.and_then(|id| self.chats.get_mut(&id)) {
            Some(chat) => chat.retry_until = Some(until),
            None => self.global_retry_until = Some(until),
        }
    }

    fn rate_limit(&mut self, chat_id: i64) -> Result<(), ApiError> {
        if !self.rate_limits {
            return Ok(());
        }
        let now = Instant::now();
        let chat = self.chats.get_mut(&chat_id).expect("checked");
        let limit = match chat.kind {
            ChatKind::Private => "private chat: about 1 message per second",
            ChatKind::Group { .. } => "group: 20 messages per minute",
        };
        let early = [chat.retry_until, self.global_retry_until]
            .into_iter()
            .flatten()
            .filter(|until| *until > now)
            .max();
        let refused = if let Some(until) = early {
            let left = until.saturating_duration_since(now).as_secs_f64().ceil();
            Some(("sent before retry_after passed", (left as u64).max(1)))
        } else {
            match self.global.take(now) {
                Err(retry) => Some(("overall: messages in a sliding second", retry)),
                Ok(()) => chat.bucket.take(now).err().map(|retry| (limit, retry)),
            }
        };
        if let Some((limit, retry_after)) = refused {
            self.violations.push(Violation { limit, chat_id });
            self.told_to_wait(Some(chat_id), retry_after);
            return Err(ApiError {
                code: 429,
                description: format!("Too Many Requests: retry after {retry_after}"),
                retry_after: Some(retry_after),
            });
        }
        Ok(())
    }

    pub fn send_message(&mut self, params: &Value) -> ApiResult {
        let chat_id = self.chat_for_send(params)?;
        let text = Self::check_text(params)?;
        let reply_markup = Self::check_markup(params)?;
        self.rate_limit(chat_id)?;
        let id = self.next_message_id;
        self.next_message_id += 1;
        let silent = params
            .get("disable_notification")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let chat = self.chats.get_mut(&chat_id).expect("checked");
        let message = StoredMessage {
            id,
            from_bot: true,
            text,
            reply_markup,
            deleted: false,
            edits: 0,
            silent,
            date: unix_now(),
        };
        let json = Self::message_json(chat, &message);
        chat.messages.insert(id, message);
        chat.changes.push(Change {
            kind: ChangeKind::Sent,
            message_id: id,
        });
        Ok(json)
    }

    fn bot_message_mut(&mut self, params: &Value, missing: &str) -> Result<(i64, i64), ApiError> {
        let chat_id = self.chat_for_send(params)?;
        let message_id =
            int_param(params, "message_id").ok_or_else(|| ApiError::bad_request(missing))?;
        let chat = self.chats.get(&chat_id).expect("checked");
        match chat.messages.get(&message_id) {
            Some(m) if m.from_bot && !m.deleted => Ok((chat_id, message_id)),
            _ => Err(ApiError::bad_request(missing)),
        }
    }

    pub fn edit_message_text(&mut self, params: &Value) -> ApiResult {
        let (chat_id, message_id) = self.bot_message_mut(params, "message to edit not found")?;
        let text = Self::check_text(params)?;
        let markup = Self::check_markup(params)?;
        self.apply_edit(chat_id, message_id, Some(text), markup)
    }

    pub fn edit_message_reply_markup(&mut self, params: &Value) -> ApiResult {
        let (chat_id, message_id) = self.bot_message_mut(params, "message to edit not found")?;
        let markup = Self::check_markup(params)?;
        self.apply_edit(chat_id, message_id, None, markup)
    }

    fn apply_edit(
        &mut self,
        chat_id: i64,
        message_id: i64,
        text: Option<String>,
        markup: Option<Value>,
    ) -> ApiResult {
        let chat = self.chats.get_mut(&chat_id).expect("checked");
        let message = chat.messages.get_mut(&message_id).expect("checked");
        let new_text = text.unwrap_or_else(|| message.text.clone());
        if new_text == message.text && markup == message.reply_markup {
            return Err(ApiError::bad_request(
                "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
            ));
        }
        message.text = new_text;
        message.reply_markup = markup;
        message.edits += 1;
        let message = message.clone();
        chat.changes.push(Change {
            kind: ChangeKind::Edited,
            message_id,
        });
        Ok(Self::message_json(chat, &message))
    }

    pub fn answer_callback_query(&mut self, params: &Value) -> ApiResult {
        let too_old = || {
            ApiError::bad_request(
                "query is too old and response timeout expired or query ID is invalid",
            )
        };
        let id = params
            .get("callback_query_id")
            .and_then(Value::as_str)
            .ok_or_else(too_old)?;
        let timeout = self.callback_timeout;
        let record = self.callbacks.get_mut(id).ok_or_else(too_old)?;
        if record.answered.is_some() || record.created.elapsed() > timeout {
            return Err(too_old());
        }
        record.answered = Some(
            params
                .get("text")
                .and_then(Value::as_str)
                .map(str::to_owned),
        );
        Ok(json!(true))
    }

    pub fn delete_message(&mut self, params: &Value) -> ApiResult {
        let chat_id = self.chat_for_send(params)?;
        let message_id = int_param(params, "message_id").unwrap_or(0);
        self.delete_one(chat_id, message_id)
            .then_some(json!(true))
            .ok_or_else(|| ApiError::bad_request("message to delete not found"))
    }

    pub fn delete_messages(&mut self, params: &Value) -> ApiResult {
        let chat_id = self.chat_for_send(params)?;
        let ids: Vec<i64> = params
            .get("message_ids")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_i64)
            .collect();
        if ids.is_empty() || ids.len() > 100 {
            return Err(ApiError::bad_request("message identifiers are invalid"));
        }
        for id in ids {
            self.delete_one(chat_id, id);
        }
        Ok(json!(true))
    }

    fn delete_one(&mut self, chat_id: i64, message_id: i64) -> bool {
        let chat = self.chats.get_mut(&chat_id).expect("checked");
        match chat.messages.get_mut(&message_id) {
            Some(m) if !m.deleted => {
                m.deleted = true;
                chat.changes.push(Change {
                    kind: ChangeKind::Deleted,
                    message_id,
                });
                true
            }
            _ => false,
        }
    }

    pub fn set_my_commands(&mut self, params: &Value) -> ApiResult {
        let commands = params
            .get("commands")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if commands.len() > 100 {
            return Err(ApiError::bad_request("too many commands"));
        }
        for c in &commands {
            let name = c.get("command").and_then(Value::as_str).unwrap_or_default();
            let description = c
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let name_ok = (1..=32).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !name_ok {
                return Err(ApiError::bad_request("BOT_COMMAND_INVALID"));
            }
            if !(1..=256).contains(&description.chars().count()) {
                return Err(ApiError::bad_request("BOT_COMMAND_DESCRIPTION_INVALID"));
            }
        }
        let key = Self::commands_key(params);
        self.commands.insert(key, Value::Array(commands));
        Ok(json!(true))
    }

    pub fn get_my_commands(&mut self, params: &Value) -> ApiResult {
        let key = Self::commands_key(params);
        Ok(self
            .commands
            .get(&key)
            .cloned()
            .unwrap_or_else(|| json!([])))
    }

    fn commands_key(params: &Value) -> (String, String) {
        let scope = params
            .get("scope")
            .and_then(|s| s.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_owned();
        let lang = params
            .get("language_code")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        (scope, lang)
    }

    pub fn send_chat_action(&mut self, params: &Value) -> ApiResult {
        self.chat_for_send(params)?;
        Ok(json!(true))
    }
}
