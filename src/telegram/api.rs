//! A small Bot API client for the calls whose answers Kabinet handles itself: the long
//! poll (`getUpdates`) and the push (`sendMessage`). Each call has its own timeout, every
//! answer comes back at once and classified, and no error text carries the URL (it holds
//! the bot token).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use teloxide::types::{InlineKeyboardMarkup, Update};

/// Time to open a connection to the Bot API.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A send that has no answer after this long is given up (and retried by the sender).
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How much longer than the long poll itself a `getUpdates` may take: Telegram answers at
/// the end of the poll's timeout, and the answer must still have time to arrive.
const POLL_GRACE: Duration = Duration::from_secs(10);
/// Idle connections kept for reuse: a busy sender keeps a few dozen requests in flight.
const IDLE_CONNECTIONS: usize = 64;

/// Why a call did not succeed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    /// 429: Telegram asks to wait this long.
    #[error("429 Too Many Requests: retry after {0:?}")]
    RetryAfter(Duration),
    /// Any other 4xx: Telegram refused this very request (it would refuse it again).
    #[error("{code}: {description}")]
    Refused { code: u16, description: String },
    /// 5xx: worth another try later.
    #[error("the Bot API answered {0}")]
    Server(u16),
    /// No answer: the connection failed or timed out.
    #[error("the Bot API did not answer: {0}")]
    Network(String),
    /// An answer that is not the Bot API's JSON.
    #[error("the Bot API's answer could not be read: {0}")]
    Malformed(String),
}

/// A message as the sender sends it: HTML text, an inline keyboard, silent or not.
#[derive(Debug, Serialize)]
pub struct OutgoingMessage<'a> {
    pub chat_id: i64,
    pub text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_markup: Option<&'a InlineKeyboardMarkup>,
    disable_notification: bool,
    parse_mode: &'static str,
}

impl<'a> OutgoingMessage<'a> {
    pub fn html(chat_id: i64, text: &'a str) -> Self {
        OutgoingMessage {
            chat_id,
            text,
            reply_markup: None,
            disable_notification: false,
            parse_mode: "HTML",
        }
    }

    pub fn keyboard(mut self, keyboard: &'a InlineKeyboardMarkup) -> Self {
        self.reply_markup = Some(keyboard);
        self
    }

    /// Arrives without a sound.
    pub fn silent(mut self, silent: bool) -> Self {
        self.disable_notification = silent;
        self
    }
}

/// What one long poll brought.
#[derive(Debug, Default)]
pub struct Polled {
    pub updates: Vec<Update>,
    /// The offset that confirms everything this poll brought, including updates that could
    /// not be read (they are logged by id and skipped, never fetched forever).
    pub next_offset: Option<i64>,
}

#[derive(Deserialize)]
struct Answer<T> {
    ok: bool,
    result: Option<T>,
    error_code: Option<u16>,
    description: Option<String>,
    parameters: Option<Parameters>,
}

#[derive(Deserialize)]
struct Parameters {
    retry_after: Option<u64>,
}

/// The Bot API at `TELEGRAM_API_URL`, for one bot token.
#[derive(Clone)]
pub struct BotApi {
    client: reqwest::Client,
    base: url::Url,
    token: std::sync::Arc<str>,
}

impl std::fmt::Debug for BotApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotApi")
            .field("base", &self.base.as_str())
            .finish()
    }
}

impl BotApi {
    pub fn new(base: &url::Url, token: &str) -> BotApi {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .pool_max_idle_per_host(IDLE_CONNECTIONS)
            .tcp_nodelay(true)
            .build()
            .expect("the HTTP client builds with rustls");
        BotApi {
            client,
            base: base.clone(),
            token: token.into(),
        }
    }

    fn url(&self, method: &str) -> url::Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("TELEGRAM_API_URL is an http(s) URL")
            .pop_if_empty()
            .push(&format!("bot{}", self.token))
            .push(method);
        url
    }

    /// Calls `method`; the answer's status and body (a 5xx is an error at once).
    async fn exchange(
        &self,
        method: &str,
        body: &impl Serialize,
        timeout: Duration,
    ) -> Result<(u16, Vec<u8>), CallError> {
        let response = self
            .client
            .post(self.url(method))
            .timeout(timeout)
            .json(body)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(transport)?.to_vec();
        if status >= 500 {
            return Err(CallError::Server(status));
        }
        Ok((status, bytes))
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        body: &impl Serialize,
        timeout: Duration,
    ) -> Result<T, CallError> {
        let (status, bytes) = self.exchange(method, body, timeout).await?;
        decode(status, bytes.as_ref())
    }
}

/// The Bot API's answer: its result, or the error it stands for.
fn decode<T: serde::de::DeserializeOwned>(status: u16, bytes: &[u8]) -> Result<T, CallError> {
    let answer: Answer<T> = serde_json::from_slice(bytes)
        .map_err(|e| CallError::Malformed(format!("status {status}, {}", e.classify_name())))?;
    match answer {
        Answer {
            ok: true,
            result: Some(result),
            ..
        } => Ok(result),
        Answer {
            parameters: Some(Parameters {
                retry_after: Some(secs),
            }),
            ..
        } => Err(CallError::RetryAfter(Duration::from_secs(secs))),
        Answer {
            error_code,
            description,
            ..
        } => Err(CallError::Refused {
            code: error_code.unwrap_or(status),
            description: description.unwrap_or_default(),
        }),
    }
}

impl BotApi {
    /// Asks Telegram to post updates to `url` (webhook mode), with `secret` in each POST's
    /// `X-Telegram-Bot-Api-Secret-Token` and at most `max_connections` at once. Pending
    /// updates are kept: they are delivered to the webhook.
    pub async fn set_webhook(
        &self,
        url: &url::Url,
        secret: &str,
        max_connections: u8,
        allowed_updates: &[&str],
    ) -> Result<(), CallError> {
        #[derive(Serialize)]
        struct SetWebhook<'a> {
            url: &'a str,
            secret_token: &'a str,
            max_connections: u8,
            allowed_updates: &'a [&'a str],
            drop_pending_updates: bool,
        }
        let body = SetWebhook {
            url: url.as_str(),
            secret_token: secret,
            max_connections,
            allowed_updates,
            drop_pending_updates: false,
        };
        let _: bool = self
            .call("setWebhook", &body, Duration::from_secs(30))
            .await?;
        Ok(())
    }

    /// One long poll: waits up to `timeout` for updates after `offset` (which confirms
    /// every update before it).
    pub async fn get_updates(
        &self,
        offset: Option<i64>,
        timeout: Duration,
        allowed_updates: &[&str],
    ) -> Result<Polled, CallError> {
        #[derive(Serialize)]
        struct GetUpdates<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            offset: Option<i64>,
            timeout: u64,
            limit: u8,
            allowed_updates: &'a [&'a str],
        }
        let body = GetUpdates {
            offset,
            timeout: timeout.as_secs(),
            limit: 100,
            allowed_updates,
        };
        let (status, bytes) = self
            .exchange("getUpdates", &body, timeout + POLL_GRACE)
            .await?;
        // Every update readable: the usual case, read once.
        if let Ok(updates) = decode::<Vec<Update>>(status, bytes.as_ref()) {
            let next_offset = updates.iter().map(|u| i64::from(u.id.0) + 1).max();
            return Ok(Polled {
                updates,
                next_offset,
            });
        }
        let raw: Vec<Value> = decode(status, bytes.as_ref())?;
        let mut polled = Polled::default();
        for value in raw {
            let id = value.get("update_id").and_then(Value::as_i64);
            if let Some(id) = id {
                polled.next_offset = Some(polled.next_offset.unwrap_or(id + 1).max(id + 1));
            }
            // teloxide's `Update` borrows from text while it reads; give it text.
            match serde_json::from_str::<Update>(&value.to_string()) {
                Ok(update) => polled.updates.push(update),
                // Logged by id only: an update carries a parent's words.
                Err(e) => tracing::warn!(
                    update_id = ?id,
                    "an update could not be read and is skipped: {}",
                    e.classify_name()
                ),
            }
        }
        Ok(polled)
    }

    /// Sends one message.
    pub async fn send_message(&self, message: &OutgoingMessage<'_>) -> Result<(), CallError> {
        self.call::<serde::de::IgnoredAny>("sendMessage", message, SEND_TIMEOUT)
            .await
            .map(|_| ())
    }
}

/// A transport error without its URL (the URL holds the bot token).
fn transport(e: reqwest::Error) -> CallError {
    let what = if e.is_timeout() {
        "timed out".to_owned()
    } else {
        e.without_url().to_string()
    };
    CallError::Network(what)
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O error",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "unexpected JSON",
            serde_json::error::Category::Eof => "cut short",
        }
    }
}
