//! SMS providers behind one interface: `log` (development and the demo), a generic `http`
//! gateway, and Mobizon. Failures are logged with the phone masked and never with the text
//! (it may carry a code). Keys travel in headers or bodies, never in URLs, and a transport
//! error is described without its URL: neither reaches a log or the outbox.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::config::SmsConfig;
use crate::domain::Phone;

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("the gateway refused the message: {0}")]
    Refused(String),
    #[error("the gateway did not answer: {0}")]
    Unreachable(String),
}

/// Where the `log` provider writes: standard output by default, a buffer in tests.
pub type LogSink = Arc<dyn Fn(&str) + Send + Sync>;

#[derive(Clone)]
pub enum SmsSender {
    Log(LogSink),
    Http {
        client: reqwest::Client,
        url: url::Url,
        token: Option<String>,
    },
    Mobizon {
        client: reqwest::Client,
        api_url: url::Url,
        api_key: String,
    },
}

/// Attempts on a 5xx or a timeout before giving up.
const ATTEMPTS: u32 = 3;

impl SmsSender {
    pub fn from_config(config: &SmsConfig) -> SmsSender {
        let client = || {
            reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client with a timeout builds")
        };
        match config {
            SmsConfig::Log => SmsSender::Log(Arc::new(|line: &str| println!("{line}"))),
            SmsConfig::Http { url, token } => SmsSender::Http {
                client: client(),
                url: url.clone(),
                token: token.as_ref().map(|t| t.expose().to_owned()),
            },
            SmsConfig::Mobizon { api_url, api_key } => SmsSender::Mobizon {
                client: client(),
                api_url: api_url.clone(),
                api_key: api_key.expose().to_owned(),
            },
        }
    }

    /// Sends one SMS; retries on 5xx and timeouts with a short backoff.
    pub async fn send(&self, to: &Phone, text: &str) -> Result<(), SmsError> {
        let result = match self {
            SmsSender::Log(sink) => {
                sink(&format!("📱 SMS → {}: {text}", to.masked()));
                Ok(())
            }
            SmsSender::Http { client, url, token } => {
                with_retries(|| {
                    let mut request = client
                        .post(url.clone())
                        .json(&json!({"to": to.as_str(), "text": text}));
                    if let Some(token) = token {
                        request = request.bearer_auth(token);
                    }
                    async move {
                        let response = send(request).await?;
                        let status = response.status();
                        if status.is_success() {
                            Ok(())
                        } else {
                            Err(Failure::Final(format!("HTTP {status}")))
                        }
                    }
                })
                .await
            }
            SmsSender::Mobizon {
                client,
                api_url,
                api_key,
            } => {
                let url = format!(
                    "{}/service/message/sendsmsmessage",
                    api_url.as_str().trim_end_matches('/')
                );
                with_retries(|| {
                    // The key in the body: a URL ends up in proxies' and gateways' logs.
                    let request = client
                        .post(&url)
                        .query(&[("output", "json"), ("api", "v1")])
                        .form(&[
                            ("apiKey", api_key.as_str()),
                            ("recipient", to.digits()),
                            ("text", text),
                        ]);
                    async move {
                        let response = send(request).await?;
                        let body: serde_json::Value = response.json().await.map_err(|e| {
                            Failure::Final(format!("unreadable answer: {}", e.without_url()))
                        })?;
                        // Mobizon: 0 is success, 100 is "accepted, in the background".
                        match body.get("code").and_then(serde_json::Value::as_i64) {
                            Some(0 | 100) => Ok(()),
                            code => Err(Failure::Final(format!(
                                "code {code:?}: {}",
                                body.get("message")
                                    .and_then(|m| m.as_str())
                                    .unwrap_or_default()
                            ))),
                        }
                    }
                })
                .await
            }
        };
        if let Err(e) = &result {
            tracing::warn!(to = %to.masked(), error = %e, "an SMS was not sent");
        }
        result
    }
}

/// Sends a request; a transport error or a 5xx is worth another try.
async fn send(request: reqwest::RequestBuilder) -> Result<reqwest::Response, Failure> {
    let response = request
        .send()
        .await
        .map_err(|e| Failure::Retry(e.without_url().to_string()))?;
    let status = response.status();
    if status.is_server_error() {
        return Err(Failure::Retry(format!("HTTP {status}")));
    }
    Ok(response)
}

enum Failure {
    Retry(String),
    Final(String),
}

async fn with_retries<F, Fut>(mut attempt: F) -> Result<(), SmsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), Failure>>,
{
    let mut delay = Duration::from_millis(300);
    for n in 1..=ATTEMPTS {
        match attempt().await {
            Ok(()) => return Ok(()),
            Err(Failure::Final(why)) => return Err(SmsError::Refused(why)),
            Err(Failure::Retry(why)) if n == ATTEMPTS => return Err(SmsError::Unreachable(why)),
            Err(Failure::Retry(_)) => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
    }
    unreachable!("the loop returns on its last attempt")
}
