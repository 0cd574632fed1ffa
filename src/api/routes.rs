//! The handlers: read the body, check it through [`crate::ingest`], write, answer.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::ApiState;
use super::problem::Problem;
use crate::ingest::{self, Invalid};
use crate::storage::{Posted, QuestionPut, Reference, StatusChangeOutcome, StorageError, Written};

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

/// The references a body makes at `field` (a dotted path; a string, or an array of
/// strings there), with the path of each. What is not a string is the parser's to name.
fn named(body: &Value, field: &str, kind: Reference) -> Vec<(String, Reference, String)> {
    let mut at = body;
    for part in field.split('.') {
        at = &at[part];
    }
    match at {
        Value::String(id) => vec![(field.to_owned(), kind, id.clone())],
        Value::Array(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                Some((format!("{field}[{i}]"), kind, item.as_str()?.to_owned()))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The parsed record, or every bad field of the request at once: what the parser found and
/// each reference to a record Kabinet does not have (a portal fixing one field at a time
/// would otherwise learn of an unknown institution only after the rest).
async fn checked<T>(
    state: &ApiState,
    parsed: Result<T, Invalid>,
    references: Vec<(String, Reference, String)>,
) -> Result<T, Problem> {
    let missing = state
        .storage
        .missing_references(&references)
        .await
        .map_err(Problem::storage)?;
    let (value, mut fields) = match parsed {
        Ok(value) => (Some(value), Vec::new()),
        Err(Invalid(fields)) => (None, fields),
    };
    for field in missing {
        if !fields.iter().any(|f| f.field == field) {
            fields.push(ingest::FieldError {
                field,
                problem: "names a record that does not exist; send it first".into(),
            });
        }
    }
    match value {
        Some(value) if fields.is_empty() => Ok(value),
        _ => Err(Problem::invalid(Invalid(fields))),
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
    let references = named(&body, "locality", Reference::Locality);
    let i = checked(
        &state,
        ingest::parse_institution(&id, &body, ""),
        references,
    )
    .await?;
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
    let mut references = named(&body, "locality", Reference::Locality);
    references.extend(named(&body, "institutions", Reference::Institution));
    let a = checked(
        &state,
        ingest::parse_application(&number, &body, ""),
        references,
    )
    .await?;
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
    let number = ingest::portal_id(&number).map_err(|e| Invalid::one("number", e));
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
    let mut references = named(&body, "application", Reference::Application);
    references.extend(named(&body, "institution", Reference::Institution));
    let r = checked(
        &state,
        ingest::parse_referral(&number, &body, ""),
        references,
    )
    .await?;
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
    let references = named(&body, "institution", Reference::Institution);
    let f = checked(
        &state,
        ingest::parse_child_file(&iin, &body, ""),
        references,
    )
    .await?;
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
    let locality = ingest::locality_code(&locality).map_err(|e| Invalid::one("locality", e));
    let iin = ingest::iin(&iin).map_err(|e| Invalid::one("iin", e));
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

pub async fn put_announcement(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let body = json_body(&state, body)?;
    let mut references = named(&body, "audience.locality", Reference::Locality);
    references.extend(named(
        &body,
        "audience.institutions",
        Reference::Institution,
    ));
    let post = checked(
        &state,
        ingest::parse_announcement(&id, &body, ""),
        references,
    )
    .await?;
    let now = crate::clock::now();
    let posted = state
        .storage
        .post_announcement(&post, now)
        .await
        .map_err(Problem::storage)?;
    let status = match posted {
        Posted::Created { recipients } => {
            tracing::info!(
                announcement = post.id.as_str(),
                recipients,
                "announcement queued"
            );
            state.sender.wake();
            StatusCode::CREATED
        }
        Posted::Unchanged => StatusCode::OK,
        Posted::Differs => {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "announcement-differs",
                "This announcement was posted with other words",
                format!(
                    "announcement {} was posted with other texts, audience or silent flag; \
                     a posted announcement is not edited: DELETE it and post a new id",
                    post.id
                ),
            ));
        }
    };
    let progress = state
        .storage
        .announcement_progress(&post.id)
        .await
        .map_err(Problem::storage)?;
    let mut body = json!(progress);
    body["result"] = json!(if status == StatusCode::CREATED {
        "created"
    } else {
        "unchanged"
    });
    Ok((status, axum::Json(body)).into_response())
}

fn announcement_id(id: &str) -> Result<crate::domain::PortalId, Problem> {
    ingest::portal_id(id).map_err(|e| Problem::invalid(Invalid::one("id", e)))
}

fn unknown_announcement(e: StorageError) -> Problem {
    match e {
        StorageError::NotFound => Problem::not_found("there is no announcement with this id"),
        other => Problem::storage(other),
    }
}

pub async fn get_announcement(State(state): State<ApiState>, Path(id): Path<String>) -> Answer {
    let id = announcement_id(&id)?;
    let progress = state
        .storage
        .announcement_progress(&id)
        .await
        .map_err(unknown_announcement)?;
    Ok((StatusCode::OK, axum::Json(json!(progress))).into_response())
}

pub async fn delete_announcement(State(state): State<ApiState>, Path(id): Path<String>) -> Answer {
    let id = announcement_id(&id)?;
    let stopped = state
        .storage
        .cancel_announcement(&id, crate::clock::now())
        .await
        .map_err(unknown_announcement)?;
    tracing::info!(
        announcement = id.as_str(),
        stopped,
        "announcement cancelled"
    );
    let progress = state
        .storage
        .announcement_progress(&id)
        .await
        .map_err(unknown_announcement)?;
    let mut body = json!(progress);
    body["result"] = json!("cancelled");
    body["stopped"] = json!(stopped);
    Ok((StatusCode::OK, axum::Json(body)).into_response())
}

pub async fn put_question(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let body = json_body(&state, body)?;
    let mut references = named(&body, "application", Reference::Application);
    references.extend(named(&body, "child", Reference::Child));
    let now = crate::clock::now();
    let post = checked(
        &state,
        ingest::parse_question(&id, &body, "", Some(now)),
        references,
    )
    .await?;
    let put = state
        .storage
        .put_question(&post, &state.config.answer_reminder_leads(), now)
        .await
        .map_err(Problem::storage)?;
    let (status, result) = match put {
        QuestionPut::Created { cabinets } => {
            tracing::info!(question = post.id.as_str(), cabinets, "question asked");
            state.sender.wake();
            state.reminders.wake();
            (StatusCode::CREATED, "created")
        }
        QuestionPut::Unchanged => (StatusCode::OK, "unchanged"),
        QuestionPut::Differs => {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "question-differs",
                "This question was asked with other content",
                format!(
                    "question {} was put to the parent with other texts, deadline, options or \
                     target; a question is not edited once asked: DELETE it and put a new id",
                    post.id
                ),
            ));
        }
        QuestionPut::NoTarget => {
            let field = match post.target {
                crate::domain::QuestionTarget::Application(_) => "application",
                crate::domain::QuestionTarget::Child { .. } => "child",
            };
            return Err(Problem::invalid(Invalid::one(
                field,
                "names a record that does not exist; send it first",
            )));
        }
    };
    let question = state
        .storage
        .question_by_portal_id(&post.id)
        .await
        .map_err(Problem::storage)?
        .ok_or_else(|| Problem::not_found("the question is gone"))?;
    let mut body = question_body(&question, now);
    body["result"] = json!(result);
    Ok((status, axum::Json(body)).into_response())
}

/// A question as the API shows it: where it stands, and its answer.
fn question_body(q: &crate::storage::QuestionRecord, now: chrono::DateTime<chrono::Utc>) -> Value {
    json!({
        "id": q.portal_id,
        "kind": q.kind,
        "state": q.state(now).as_str(),
        "deadline": q.content.deadline,
        "answer": q.answer.as_ref().map(|a| json!({
            "id": a.id,
            "option": a.option.as_str(),
            "comment": a.comment,
            "answered_at": a.at,
        })),
        "delivered_at": q.delivered_at,
    })
}

fn question_id(id: &str) -> Result<crate::domain::PortalId, Problem> {
    ingest::portal_id(id).map_err(|e| Problem::invalid(Invalid::one("id", e)))
}

fn no_question() -> Problem {
    Problem::not_found("there is no question with this id")
}

pub async fn get_question(State(state): State<ApiState>, Path(id): Path<String>) -> Answer {
    let id = question_id(&id)?;
    let question = state
        .storage
        .question_by_portal_id(&id)
        .await
        .map_err(Problem::storage)?
        .ok_or_else(no_question)?;
    Ok((
        StatusCode::OK,
        axum::Json(question_body(&question, crate::clock::now())),
    )
        .into_response())
}

pub async fn delete_question(State(state): State<ApiState>, Path(id): Path<String>) -> Answer {
    let id = question_id(&id)?;
    let now = crate::clock::now();
    let question = state
        .storage
        .withdraw_question(&id, now)
        .await
        .map_err(Problem::storage)?
        .ok_or_else(no_question)?;
    tracing::info!(
        question = id.as_str(),
        state = question.state(now).as_str(),
        "question withdrawn"
    );
    Ok((StatusCode::OK, axum::Json(question_body(&question, now))).into_response())
}

/// How many answers one page holds by default, and at most.
const ANSWERS_PAGE: i64 = 100;
const ANSWERS_PAGE_MAX: i64 = 1000;

/// `GET /api/v1/answers?after=&limit=`: answers in the order they were given.
pub async fn get_answers(
    State(state): State<ApiState>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Answer {
    let mut fields = Vec::new();
    let mut number = |name: &str, default: i64, range: std::ops::RangeInclusive<i64>| match query
        .get(name)
        .map(|v| v.parse::<i64>())
    {
        None => Some(default),
        Some(Ok(n)) if range.contains(&n) => Some(n),
        Some(_) => {
            fields.push(ingest::FieldError {
                field: name.to_owned(),
                problem: format!(
                    "must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            });
            None
        }
    };
    let after = number("after", 0, 0..=i64::MAX);
    let limit = number("limit", ANSWERS_PAGE, 1..=ANSWERS_PAGE_MAX);
    let (Some(after), Some(limit)) = (after, limit) else {
        return Err(Problem::invalid(Invalid(fields)));
    };
    let answers = state
        .storage
        .answers_after(after, limit)
        .await
        .map_err(Problem::storage)?;
    let next = answers.last().map_or(after, |a| a.id);
    Ok((
        StatusCode::OK,
        axum::Json(json!({"answers": answers, "next": next})),
    )
        .into_response())
}

pub async fn openapi(State(state): State<ApiState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi.as_str().to_owned(),
    )
        .into_response()
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
