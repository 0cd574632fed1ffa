//! Errors as `application/problem+json` (RFC 9457): a type, a title, the status, a detail,
//! and for a bad request every bad field with what is wrong with it.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use crate::ingest::{FieldError, Invalid};
use crate::storage::StorageError;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BadField {
    /// The field's path in the body (`parent.iin`, `records[2].date`), or the path
    /// parameter's name (`number`).
    pub field: String,
    /// The same place as a JSON Pointer into the body, as RFC 9457's example has it.
    pub pointer: String,
    pub detail: String,
}

#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    /// The last part of the problem type URI.
    pub kind: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<BadField>,
}

/// Where problem types are documented (the OpenAPI document describes each).
pub const TYPE_BASE: &str = "/api/v1/problems/";

impl Problem {
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Problem {
        Problem {
            status,
            kind,
            title,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn unauthorized() -> Problem {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Missing or wrong API token",
            "send Authorization: Bearer <API_TOKEN>",
        )
    }

    pub fn malformed(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "The body is not valid JSON",
            detail,
        )
    }

    pub fn not_json() -> Problem {
        Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not-json",
            "The body must be JSON",
            "send the body with Content-Type: application/json",
        )
    }

    pub fn too_large(limit: usize) -> Problem {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            "The body is too large",
            format!("the body may be at most {limit} bytes (API_MAX_BODY_BYTES)"),
        )
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// Every bad field of a request.
    pub fn invalid(invalid: Invalid) -> Problem {
        let errors: Vec<BadField> = invalid.0.into_iter().map(bad_field).collect();
        let detail = format!(
            "{} field(s) are not valid: {}",
            errors.len(),
            errors
                .iter()
                .map(|e| e.field.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        Problem {
            errors,
            ..Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-fields",
                "Some fields are not valid",
                detail,
            )
        }
    }

    /// A field that names a record Kabinet does not have.
    pub fn unknown_reference(field: &str) -> Problem {
        Problem::invalid(Invalid::one(
            field,
            "names a record that does not exist; send it first",
        ))
    }

    /// A storage failure. Only its kind is logged: a database message may quote a value.
    pub fn storage(e: StorageError) -> Problem {
        match e {
            StorageError::MissingReference { field } => Problem::unknown_reference(&field),
            StorageError::NotFound => Problem::not_found("no such record"),
            other => {
                tracing::error!("API request failed: {}", other.log_safe());
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "The service cannot answer now",
                    "the database did not answer; retry later",
                )
            }
        }
    }
}

fn bad_field(e: FieldError) -> BadField {
    let pointer = if e.field.is_empty() || e.field == "(body)" {
        "#".to_owned()
    } else {
        let mut p = String::from("#");
        for part in e.field.split('.') {
            match part.split_once('[') {
                Some((name, rest)) => {
                    p.push('/');
                    p.push_str(name);
                    for index in rest.split('[') {
                        p.push('/');
                        p.push_str(index.trim_end_matches(']'));
                    }
                }
                None => {
                    p.push('/');
                    p.push_str(part);
                }
            }
        }
        p
    };
    BadField {
        field: e.field,
        pointer,
        detail: e.problem,
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": format!("{TYPE_BASE}{}", self.kind),
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if !self.errors.is_empty() {
            body["errors"] = json!(self.errors);
        }
        let mut response = (self.status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_follow_field_paths() {
        let p = |f: &str| {
            bad_field(FieldError {
                field: f.into(),
                problem: String::new(),
            })
            .pointer
        };
        assert_eq!(p("parent.iin"), "#/parent/iin");
        assert_eq!(p("records[2].date"), "#/records/2/date");
        assert_eq!(p("institutions[0]"), "#/institutions/0");
        assert_eq!(p("(body)"), "#");
    }
}
