//! The integration API the portal calls (SPEC §3): axum on `API_LISTEN`, on when
//! `API_TOKEN` is set. Every body goes through [`crate::ingest`], the same checks and writes
//! `kabinet import` uses; every error is problem+json ([`problem`]); the OpenAPI document is
//! generated from [`schema`] and the route table in [`openapi`].

pub mod openapi;
pub mod problem;
mod routes;
pub mod schema;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{delete, get, post, put};

use crate::config::Config;
use crate::metrics::Metrics;
use crate::notify::Wake;
use crate::storage::Storage;
use problem::Problem;

/// What every request may need.
#[derive(Clone)]
pub struct ApiState {
    pub storage: Storage,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    /// Woken when a write queued deliveries.
    pub sender: Wake,
    /// Woken when a referral was written (its reminder may be due already).
    pub reminders: Wake,
    /// The OpenAPI document, rendered once.
    pub openapi: Arc<String>,
}

impl ApiState {
    pub fn new(
        storage: Storage,
        config: Arc<Config>,
        metrics: Arc<Metrics>,
        sender: Wake,
        reminders: Wake,
    ) -> ApiState {
        ApiState {
            storage,
            config,
            metrics,
            sender,
            reminders,
            openapi: Arc::new(openapi::document().to_string()),
        }
    }
}

pub fn router(state: ApiState) -> Router {
    let v1 = Router::new()
        .route("/localities/{code}", put(routes::put_locality))
        .route("/institutions/{id}", put(routes::put_institution))
        .route("/applications/{number}", put(routes::put_application))
        .route("/applications/{number}/status", post(routes::post_status))
        .route("/referrals/{number}", put(routes::put_referral))
        .route("/children/{iin}/file", put(routes::put_child_file))
        .route("/children/{iin}/attendance", post(routes::post_attendance))
        .route("/parents/{locality}/{iin}", delete(routes::delete_parent))
        .route(
            "/announcements/{id}",
            put(routes::put_announcement)
                .get(routes::get_announcement)
                .delete(routes::delete_announcement),
        )
        .route(
            "/questions/{id}",
            put(routes::put_question)
                .get(routes::get_question)
                .delete(routes::delete_question),
        )
        .route("/answers", get(routes::get_answers))
        .route("/openapi.json", get(routes::openapi))
        .route_layer(middleware::from_fn(require_json))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            refuse_declared_too_large,
        ))
        // Checked first, before the body is read: a request without the token writes
        // nothing and learns nothing.
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .nest("/api/v1", v1)
        .fallback(routes::no_route)
        .method_not_allowed_fallback(routes::wrong_method)
        .layer(DefaultBodyLimit::max(state.config.api_max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), count_request))
        .with_state(state)
}

/// A body whose `Content-Length` is over `API_MAX_BODY_BYTES` is refused (413) before a byte
/// of it is read: a client that waits for `100 Continue`, or reads the answer before it
/// sends, learns at once; one that sends anyway is cut off early. (A body without a length
/// is cut at the limit as it is read.)
async fn refuse_declared_too_large(
    State(state): State<ApiState>,
    request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limit = state.config.api_max_body_bytes;
    match declared {
        Some(length) if length > limit as u64 => {
            axum::response::IntoResponse::into_response(Problem::too_large(limit))
        }
        _ => next.run(request).await,
    }
}

/// `Authorization: Bearer <API_TOKEN>`, compared in constant time. The scheme's name is
/// case-insensitive (RFC 9110 §11.1): `bearer` is as good as `Bearer`.
async fn require_token(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token);
    let expected = state.config.api_token.as_ref().map(|t| t.expose());
    match (presented, expected) {
        (Some(p), Some(e)) if crate::auth::same_secret(p.as_bytes(), e.as_bytes()) => {
            next.run(request).await
        }
        _ => axum::response::IntoResponse::into_response(Problem::unauthorized()),
    }
}

/// The token of an `Authorization: Bearer <token>` value.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A body that the API reads must say it is JSON (`application/json`, or a `+json` type);
/// anything else is a 415 before the body is read.
async fn require_json(request: Request, next: Next) -> Response {
    let reads_body = matches!(
        *request.method(),
        axum::http::Method::PUT | axum::http::Method::POST | axum::http::Method::PATCH
    );
    if reads_body && !is_json(request.headers().get(header::CONTENT_TYPE)) {
        return axum::response::IntoResponse::into_response(Problem::not_json());
    }
    next.run(request).await
}

fn is_json(content_type: Option<&header::HeaderValue>) -> bool {
    let Some(media) = content_type
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
    else {
        return false;
    };
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

async fn count_request(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    state
        .metrics
        .api_request(&route, response.status().as_u16(), started.elapsed());
    response
}

/// The API, running.
pub type RunningApi = crate::served::Served;

/// Binds `API_LISTEN` (port 0 picks a free one) and serves until stopped.
pub async fn start(state: ApiState) -> std::io::Result<RunningApi> {
    let listen = state.config.api_listen;
    crate::served::Served::start(listen, router(state), "the integration API").await
}

#[cfg(test)]
mod tests {
    use super::{bearer_token, is_json};
    use axum::http::HeaderValue;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer abc"), Some("abc"));
        assert_eq!(bearer_token("BEARER  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Bearerabc"), None);
    }

    #[test]
    fn json_media_types() {
        let is = |v: &str| is_json(Some(&HeaderValue::from_str(v).unwrap()));
        assert!(is("application/json"));
        assert!(is("application/json; charset=utf-8"));
        assert!(is("Application/JSON"));
        assert!(is("application/merge-patch+json"));
        assert!(!is("text/plain"));
        assert!(!is("application/x-www-form-urlencoded"));
        assert!(!is_json(None));
    }
}
