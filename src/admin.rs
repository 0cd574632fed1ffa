//! The admin endpoint on `ADMIN_LISTEN`: `/healthz` and `/metrics`, always on, with no token
//! (keep the address on a private network; the default is loopback). Apart from the
//! integration API, so that a deployment without the API can be watched, and so that the
//! API's port, which faces the portal, tells nothing about the service's inner state.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::metrics::Metrics;
use crate::storage::Storage;

/// A long poll returns within its timeout (30 s against Telegram); a process whose last
/// successful `getUpdates` is older than this is not receiving what parents write.
pub const POLL_STALE_AFTER: Duration = Duration::from_secs(90);

#[derive(Clone)]
pub struct AdminState {
    pub storage: Storage,
    pub metrics: Arc<Metrics>,
}

pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// 200 when the database answers and, with long polling, Telegram answered a poll lately;
/// 503 naming what is wrong otherwise.
async fn healthz(State(state): State<AdminState>) -> Response {
    let now = crate::clock::now();
    let database = match state.storage.ping().await {
        Ok(()) => "ok".to_owned(),
        Err(e) => {
            tracing::warn!(
                "health check: the database does not answer: {}",
                e.log_safe()
            );
            "not answering".to_owned()
        }
    };
    let poll_age = state.metrics.last_poll_age(now);
    let polling_ok = poll_age.is_none_or(|age| age <= POLL_STALE_AFTER);
    let healthy = database == "ok" && polling_ok;
    let mut body = json!({
        "status": if healthy { "ok" } else { "failing" },
        "database": database,
    });
    if let Some(age) = poll_age {
        body["telegram_last_poll_age_seconds"] = json!(age.as_secs());
    }
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

/// The metrics; the outbox is read from its pending rows (two index look-ups per class).
async fn metrics(State(state): State<AdminState>) -> Response {
    let outbox = state.storage.outbox_stats().await;
    if let Err(e) = &outbox {
        tracing::warn!("metrics: the outbox could not be read: {}", e.log_safe());
    }
    let text = state
        .metrics
        .render(outbox.as_ref().ok(), outbox.is_ok(), crate::clock::now());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// The admin endpoint, running.
pub type RunningAdmin = crate::served::Served;

/// Binds `listen` (port 0 picks a free one) and serves until stopped.
pub async fn start(listen: SocketAddr, state: AdminState) -> std::io::Result<RunningAdmin> {
    crate::served::Served::start(listen, router(state), "/healthz and /metrics").await
}
