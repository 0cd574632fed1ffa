//! Webhook mode (SPEC §8): Telegram posts each update to `WEBHOOK_URL`; the reverse proxy in
//! front passes it to this server on `WEBHOOK_LISTEN`, which feeds the same per-chat lanes
//! as long polling.
//!
//! Not teloxide's webhook listener: it logs a whole update it cannot parse (a parent's
//! message, their phone), compares the secret in variable time, and deletes the webhook when
//! it stops — which, with several replicas, would cut off every other one.
//!
//! A POST is answered 200 only once its update is handled (or skipped as a retry of one
//! handled): a replica that dies mid-update never said 200, so Telegram sends the update
//! again, to whichever replica the proxy picks. While stopping, new updates get 503 and go
//! to the others.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use teloxide::types::Update;
use tokio::sync::watch;

use super::lanes::{Lanes, Outcome};
use crate::auth::same_secret;

/// The header Telegram repeats `setWebhook`'s `secret_token` in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// The largest update body taken. Telegram's updates are a few kilobytes; a message with
/// the longest text and entities stays far below this.
const MAX_BODY: usize = 1024 * 1024;

struct Hook {
    lanes: Arc<Lanes>,
    secret: Vec<u8>,
    stopping: AtomicBool,
}

/// The webhook server, listening.
pub struct Listening {
    pub addr: SocketAddr,
    listener: tokio::net::TcpListener,
}

/// Binds `listen` (before `setWebhook`, so Telegram's first POST finds it).
pub async fn bind(listen: SocketAddr) -> std::io::Result<Listening> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    Ok(Listening {
        addr: listener.local_addr()?,
        listener,
    })
}

/// Serves POSTs on `path` until `stopping` turns true; then answers 503 to new ones, lets
/// the updates in hand finish, and returns.
pub async fn serve(
    listening: Listening,
    path: String,
    secret: String,
    lanes: Arc<Lanes>,
    mut stopping: watch::Receiver<bool>,
) {
    let hook = Arc::new(Hook {
        lanes: lanes.clone(),
        secret: secret.into_bytes(),
        stopping: AtomicBool::new(false),
    });
    let app = Router::new()
        .route(&path, post(receive))
        .with_state(hook.clone());
    let (closed_tx, closed) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let served = axum::serve(listening.listener, app)
            .with_graceful_shutdown(async {
                let _ = closed.await;
            })
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "the webhook server failed");
        }
    });
    while !*stopping.borrow() {
        if stopping.changed().await.is_err() {
            break;
        }
    }
    // New updates go to the other replicas (Telegram retries a 503); those in hand finish.
    hook.stopping.store(true, Ordering::SeqCst);
    lanes.drained().await;
    let _ = closed_tx.send(());
    let _ = server.await;
}

/// The secret is compared before a byte of the body is read: a stranger's request costs the
/// headers, never a megabyte of reading.
async fn receive(State(hook): State<Arc<Hook>>, headers: HeaderMap, body: Body) -> Response {
    let presented = headers
        .get(SECRET_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !same_secret(presented, &hook.secret) {
        tracing::warn!("a webhook request without the right secret was refused");
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if hook.stopping.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(body) => body,
        Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    let update: Update = match serde_json::from_slice(&body) {
        Ok(update) => update,
        Err(error) => {
            // The body is a parent's message: only where it broke is logged, never its text
            // (serde's own message can quote a value).
            tracing::warn!(
                bytes = body.len(),
                line = error.line(),
                column = error.column(),
                "a webhook body that is not an update was refused ({:?})",
                error.classify()
            );
            return StatusCode::BAD_REQUEST.into_response();
        }
    };
    match hook.lanes.submit_and_tell(update).await {
        // The button press's answer rides on the HTTP answer (see `reply.rs`).
        Ok(Outcome::Done(Some(call))) => (
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            call,
        )
            .into_response(),
        Ok(Outcome::Done(None)) => StatusCode::OK.into_response(),
        Ok(Outcome::NotHandled) | Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
