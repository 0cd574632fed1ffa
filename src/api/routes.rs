//! The handlers: read the body, check it through [`crate::ingest`], write, answer.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::ApiState;
use super::problem::Problem;
use crate::domain::{Iin, LocalityCode};
use crate::ingest::{self, Invalid};
use crate::storage::{StatusChangeOutcome, StorageError, Written};

type Answer = Result<Response, Problem>;

/// The body as JSON, or the problem with it.
fn json_body(state: &ApiState, body: Result<Bytes, BytesRejection>) -> Result<Value, Problem> {
    let bytes = match body {
        Ok(b) => b,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(Problem::too_large(state.config.api_max_body_bytes));
        }
        Err(rejection) => return Err(Problem::malformed(rejection.body_text())),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::malformed("the body is empty; send a JSON object"));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| Problem::malformed(format!("line {}, column {}: {e}", e.line(), e.column())))
}

/// Both values, or every bad field of either.
fn both<A, B>(a: Result<A, Invalid>, b: Result<B, Invalid>) -> Result<(A, B), Problem> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (a, b) => {
            let mut fields = Vec::new();
            for Invalid(f) in [a.err(), b.err()].into_iter().flatten() {
                fields.extend(f);
            }
            Err(Problem::invalid(Invalid(fields)))
        }
    }
}

fn written(w: Written, body: Value) -> Response {
    let (status, result) = match w {
        Written::Created => (StatusCode::CREATED, "created"),
        Written::Updated => (StatusCode::OK, "updated"),
    };
    let mut body = body;
    body["result"] = json!(result);
    (status, axum::Json(body)).into_response()
}

pub async fn put_locality(
    State(state): State<ApiState>,
    Path(code): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let body = json_body(&state, body)?;
    let l = ingest::parse_locality(&code, &body, "").map_err(Problem::invalid)?;
    let w = state
        .storage
        .upsert_locality(&l, crate::clock::now())
        .await
        .map_err(Problem::storage)?;
    Ok(written(w, json!({"code": l.code.as_str()})))
}

pub async fn put_institution(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let body = json_body(&state, body)?;
    let i = ingest::parse_institution(&id, &body, "").map_err(Problem::invalid)?;
    let w = state
        .storage
        .upsert_institution(&i, crate::clock::now())
        .await
        .map_err(Problem::storage)?;
    Ok(written(w, json!({"id": i.id.as_str()})))
}

pub async fn put_application(
    State(state): State<ApiState>,
    Path(number): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let body = json_body(&state, body)?;
    let a = ingest::parse_application(&number, &body, "").map_err(Problem::invalid)?;
    let w = state
        .storage
        .upsert_application(&a, crate::clock::now())
        .await
        .map_err(Problem::storage)?;
    Ok(written(
        w.written,
        json!({"number": a.number.as_str(), "cabinet_created": w.cabinet_created}),
    ))
}

pub async fn post_status(
    State(state): State<ApiState>,
    Path(number): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let body = json_body(&state, body)?;
    let number =
        crate::domain::PortalId::parse(&number).map_err(|e| Invalid::one("number", e.to_string()));
    let (number, change) = both(number, ingest::parse_status_change(&body, ""))?;
    let outcome = state
        .storage
        .record_status_change(&number, &change, crate::clock::now())
        .await
        .map_err(|e| match e {
            StorageError::NotFound => {
                Problem::not_found(format!("there is no application {number}; PUT it first"))
            }
            other => Problem::storage(other),
        })?;
    Ok(match outcome {
        StatusChangeOutcome::Recorded { .. } => {
            state.sender.wake();
            (
                StatusCode::CREATED,
                axum::Json(json!({"event_id": change.event_id.as_str(), "result": "recorded"})),
            )
                .into_response()
        }
        StatusChangeOutcome::Replayed => (
            StatusCode::OK,
            axum::Json(json!({"event_id": change.event_id.as_str(), "result": "replayed"})),
        )
            .into_response(),
    })
}

pub async fn put_referral(
    State(state): State<ApiState>,
    Path(number): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let body = json_body(&state, body)?;
    let r = ingest::parse_referral(&number, &body, "").map_err(Problem::invalid)?;
    let w = state
        .storage
        .upsert_referral(&r, crate::clock::now())
        .await
        .map_err(Problem::storage)?;
    if w.event_id.is_some() {
        state.sender.wake();
    }
    state.reminders.wake();
    Ok(written(
        w.written,
        json!({"number": r.number.as_str(), "pushed": w.event_id.is_some()}),
    ))
}

/// A child Kabinet does not know: the path names it.
fn unknown_child(e: StorageError) -> Problem {
    match e {
        StorageError::MissingReference { field } if field == "child" => Problem::not_found(
            "no child with this IIN; the child comes with an application, PUT it first",
        ),
        other => Problem::storage(other),
    }
}

pub async fn put_child_file(
    State(state): State<ApiState>,
    Path(iin): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let body = json_body(&state, body)?;
    let f = ingest::parse_child_file(&iin, &body, "").map_err(Problem::invalid)?;
    let w = state
        .storage
        .upsert_child_file(&f, crate::clock::now())
        .await
        .map_err(unknown_child)?;
    if !w.events.is_empty() {
        state.sender.wake();
    }
    Ok(written(w.written, json!({"new_clubs": w.new_clubs})))
}

pub async fn post_attendance(
    State(state): State<ApiState>,
    Path(iin): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let body = json_body(&state, body)?;
    let (child, records) = ingest::parse_attendance(&iin, &body, "").map_err(Problem::invalid)?;
    state
        .storage
        .upsert_attendance(&child, &records)
        .await
        .map_err(unknown_child)?;
    Ok((
        StatusCode::OK,
        axum::Json(json!({"days": records.len(), "result": "recorded"})),
    )
        .into_response())
}

pub async fn delete_parent(
    State(state): State<ApiState>,
    Path((locality, iin)): Path<(String, String)>,
) -> Answer {
    let locality =
        LocalityCode::parse(&locality).map_err(|e| Invalid::one("locality", e.to_string()));
    let iin = Iin::parse(&iin).map_err(|e| Invalid::one("iin", e.to_string()));
    let (locality, iin) = both(locality, iin)?;
    let deleted = state
        .storage
        .delete_cabinet(&locality, &iin)
        .await
        .map_err(Problem::storage)?;
    if deleted {
        tracing::info!(parent = %iin, "cabinet closed at the portal's request");
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(Problem::not_found("there is no such cabinet"))
    }
}

pub async fn openapi(State(state): State<ApiState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi.as_str().to_owned(),
    )
        .into_response()
}

pub async fn healthz(State(state): State<ApiState>) -> Answer {
    match state.storage.ping().await {
        Ok(()) => Ok((StatusCode::OK, axum::Json(json!({"status": "ok"}))).into_response()),
        Err(e) => Err(Problem::storage(StorageError::Database(match e {
            StorageError::Database(db) => db,
            other => sqlx::Error::Protocol(other.log_safe()),
        }))),
    }
}

pub async fn metrics(State(state): State<ApiState>) -> Answer {
    let outbox = state
        .storage
        .outbox_stats()
        .await
        .map_err(Problem::storage)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(&outbox, crate::clock::now()),
    )
        .into_response())
}

pub async fn no_route() -> Problem {
    Problem::not_found("no such path; the API is described at /api/v1/openapi.json")
}

pub async fn wrong_method() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        "this path does not take this method; see /api/v1/openapi.json",
    )
}
