//! The portal's webhook (SPEC §3, «Answers to the portal»): each answer to a question is
//! POSTed to `PORTAL_WEBHOOK_URL` as JSON, with `X-Kabinet-Delivery` (the answer's id, the
//! same on every retry, so the portal de-duplicates) and `X-Kabinet-Signature`
//! (`sha256=` and the hex HMAC-SHA-256 of the raw body under `PORTAL_WEBHOOK_SECRET`). Any
//! 2xx acknowledges it; anything else, or no answer in [`TIMEOUT`], is the sender's to
//! retry. Errors name the status or the kind of failure, never the URL.

use std::time::Duration;

use hmac::Mac;

use crate::config::PortalWebhookConfig;
use crate::storage::PortalAnswer;

/// How long the portal has to answer one POST.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The header carrying the answer's id.
pub const DELIVERY_HEADER: &str = "x-kabinet-delivery";
/// The header carrying the body's signature.
pub const SIGNATURE_HEADER: &str = "x-kabinet-signature";

#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    #[error("the portal answered {0}")]
    Status(u16),
    #[error("the portal did not answer: {0}")]
    Unreachable(String),
}

/// Posts answers to the portal.
#[derive(Clone)]
pub struct PortalWebhook {
    client: reqwest::Client,
    url: url::Url,
    secret: crate::config::Secret,
}

impl PortalWebhook {
    pub fn from_config(config: &PortalWebhookConfig) -> PortalWebhook {
        PortalWebhook {
            client: reqwest::Client::builder()
                .timeout(TIMEOUT)
                .build()
                .expect("an HTTP client with a timeout builds"),
            url: config.url.clone(),
            secret: config.secret.clone(),
        }
    }

    /// Posts one answer; `Ok` on any 2xx.
    pub async fn post(&self, answer: &PortalAnswer) -> Result<(), PortalError> {
        let body = serde_json::to_vec(answer).expect("an answer serialises");
        let sent = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(DELIVERY_HEADER, answer.id.to_string())
            .header(SIGNATURE_HEADER, signature(self.secret.expose(), &body))
            .body(body)
            .send()
            .await
            // Without the URL: it may carry a key the operator put there.
            .map_err(|e| PortalError::Unreachable(describe(&e)))?;
        let status = sent.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(PortalError::Status(status.as_u16()))
        }
    }
}

/// `sha256=<hex>`: HMAC-SHA-256 of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        format!("no answer within {} s", TIMEOUT.as_secs())
    } else if e.is_connect() {
        "the connection was refused or failed".into()
    } else {
        "the request failed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hex_hmac_of_the_raw_body() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
