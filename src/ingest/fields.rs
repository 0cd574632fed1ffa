//! Reading untrusted JSON objects field by field, collecting every problem with its path
//! (`applications[3].parent.iin`) instead of stopping at the first.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

use crate::domain::PortalText;

/// One bad field: where, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub problem: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

/// Every bad field of a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    pub fn one(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Invalid(vec![FieldError {
            field: field.into(),
            problem: problem.into(),
        }])
    }
}

/// Collects the errors of one record.
#[derive(Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    pub fn push(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            problem: problem.into(),
        });
    }

    /// `Ok(value)` when nothing was wrong. `value` is built from `Option`s that are `None`
    /// only where an error was pushed, so it is only called when there were none.
    pub fn finish<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, Invalid> {
        if self.0.is_empty() {
            value().ok_or_else(|| Invalid::one("", "internal: incomplete record"))
        } else {
            Err(Invalid(self.0))
        }
    }
}

/// A JSON object under a path, read into typed fields.
pub struct Fields<'a> {
    object: Option<&'a Map<String, Value>>,
    path: String,
}

impl<'a> Fields<'a> {
    /// The object at `value`, or an error at `path` if it is not one.
    pub fn new(value: &'a Value, path: &str, errors: &mut Errors) -> Fields<'a> {
        let object = value.as_object();
        if object.is_none() {
            errors.push(display_path(path), "must be a JSON object");
        }
        Fields {
            object,
            path: path.to_owned(),
        }
    }

    pub fn path_of(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        self.object
            .and_then(|o| o.get(name))
            .filter(|v| !v.is_null())
    }

    /// A required field, parsed by `parse` from its text.
    pub fn parse<T>(
        &self,
        name: &str,
        errors: &mut Errors,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        self.object?;
        match self.get(name) {
            None => {
                errors.push(self.path_of(name), "is required");
                None
            }
            Some(Value::String(s)) => match parse(s) {
                Ok(v) => Some(v),
                Err(problem) => {
                    errors.push(self.path_of(name), problem);
                    None
                }
            },
            Some(_) => {
                errors.push(self.path_of(name), "must be a string");
                None
            }
        }
    }

    /// An optional field: `None` inside when absent or null.
    pub fn optional<T>(
        &self,
        name: &str,
        errors: &mut Errors,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<Option<T>> {
        self.object?;
        match self.get(name) {
            None => Some(None),
            Some(_) => self.parse(name, errors, parse).map(Some),
        }
    }

    /// Required text, trimmed, 1 to `max` characters.
    pub fn text(&self, name: &str, max: usize, errors: &mut Errors) -> Option<String> {
        self.parse(name, errors, |s| check_text(s, max))
    }

    pub fn optional_text(
        &self,
        name: &str,
        max: usize,
        errors: &mut Errors,
    ) -> Option<Option<String>> {
        self.optional(name, errors, |s| check_text(s, max))
    }

    /// Required text the portal may give in one language or in each (SPEC §3): a string, or
    /// `{"kk": …, "ru": …}` with at least one of the two; each text 1 to `max` characters.
    pub fn portal_text(&self, name: &str, max: usize, errors: &mut Errors) -> Option<PortalText> {
        self.object?;
        match self.get(name) {
            None => {
                errors.push(self.path_of(name), "is required");
                None
            }
            Some(value) => self.read_portal_text(name, value, max, errors),
        }
    }

    pub fn optional_portal_text(
        &self,
        name: &str,
        max: usize,
        errors: &mut Errors,
    ) -> Option<Option<PortalText>> {
        self.object?;
        match self.get(name) {
            None => Some(None),
            Some(value) => self.read_portal_text(name, value, max, errors).map(Some),
        }
    }

    fn read_portal_text(
        &self,
        name: &str,
        value: &Value,
        max: usize,
        errors: &mut Errors,
    ) -> Option<PortalText> {
        let path = self.path_of(name);
        match value {
            Value::String(s) => match check_text(s, max) {
                Ok(text) => Some(PortalText::One(text)),
                Err(problem) => {
                    errors.push(path, problem);
                    None
                }
            },
            Value::Object(object) => {
                let before = errors.0.len();
                for key in object.keys().filter(|k| !matches!(k.as_str(), "kk" | "ru")) {
                    errors.push(format!("{path}.{key}"), "is not a language: kk and ru are");
                }
                let mut language = |lang: &str| match object.get(lang) {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => check_text(s, max)
                        .map_err(|problem| errors.push(format!("{path}.{lang}"), problem))
                        .ok(),
                    Some(_) => {
                        errors.push(format!("{path}.{lang}"), "must be a string");
                        None
                    }
                };
                let (kk, ru) = (language("kk"), language("ru"));
                if errors.0.len() > before {
                    return None;
                }
                if kk.is_none() && ru.is_none() {
                    errors.push(path, "must hold kk, ru or both");
                    return None;
                }
                Some(PortalText::Each { kk, ru })
            }
            _ => {
                errors.push(path, "must be a string or an object {\"kk\": …, \"ru\": …}");
                None
            }
        }
    }

    pub fn date(&self, name: &str, errors: &mut Errors) -> Option<NaiveDate> {
        self.parse(name, errors, parse_date)
    }

    pub fn time(&self, name: &str, errors: &mut Errors) -> Option<DateTime<Utc>> {
        self.parse(name, errors, parse_time)
    }

    /// An optional whole number from `min` up.
    pub fn optional_int(&self, name: &str, min: i64, errors: &mut Errors) -> Option<Option<i64>> {
        self.object?;
        match self.get(name) {
            None => Some(None),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(v) if v >= min => Some(Some(v)),
                _ => {
                    errors.push(
                        self.path_of(name),
                        format!("must be a whole number from {min} up"),
                    );
                    None
                }
            },
            Some(_) => {
                errors.push(self.path_of(name), "must be a number");
                None
            }
        }
    }

    /// An optional `true` or `false`.
    pub fn optional_bool(&self, name: &str, errors: &mut Errors) -> Option<Option<bool>> {
        self.object?;
        match self.get(name) {
            None => Some(None),
            Some(Value::Bool(b)) => Some(Some(*b)),
            Some(_) => {
                errors.push(self.path_of(name), "must be true or false");
                None
            }
        }
    }

    /// Names every key of the object that is not one of `known`: where a misspelt key would
    /// silently change what a request means (an audience grown to a whole city).
    pub fn refuse_unknown(&self, known: &[&str], errors: &mut Errors) {
        for key in self.object.into_iter().flat_map(|o| o.keys()) {
            if !known.contains(&key.as_str()) {
                errors.push(
                    self.path_of(key),
                    format!("is not a known field; known: {}", known.join(", ")),
                );
            }
        }
    }

    /// An optional array, with the path of each item.
    pub fn optional_array(
        &self,
        name: &str,
        errors: &mut Errors,
    ) -> Option<Option<Vec<(String, &'a Value)>>> {
        self.object?;
        match self.get(name) {
            None => Some(None),
            Some(_) => self.array(name, errors).map(Some),
        }
    }

    /// A nested object.
    pub fn object(&self, name: &str, errors: &mut Errors) -> Option<Fields<'a>> {
        self.object?;
        match self.get(name) {
            None => {
                errors.push(self.path_of(name), "is required");
                None
            }
            Some(v) => {
                let nested = Fields::new(v, &self.path_of(name), errors);
                nested.object.map(|_| nested)
            }
        }
    }

    /// A required array, with the path of each item.
    pub fn array(&self, name: &str, errors: &mut Errors) -> Option<Vec<(String, &'a Value)>> {
        self.object?;
        match self.get(name) {
            None => {
                errors.push(self.path_of(name), "is required");
                None
            }
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (format!("{}[{i}]", self.path_of(name)), v))
                    .collect(),
            ),
            Some(_) => {
                errors.push(self.path_of(name), "must be an array");
                None
            }
        }
    }
}

fn display_path(path: &str) -> String {
    if path.is_empty() {
        "(body)".into()
    } else {
        path.to_owned()
    }
}

pub fn check_text(s: &str, max: usize) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("must not be empty".into());
    }
    if t.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if t.chars().any(|c| c.is_control() && c != '\n') {
        return Err("must not hold control characters".into());
    }
    Ok(t.to_owned())
}

pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| "must be a date YYYY-MM-DD".into())
}

pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| "must be an RFC 3339 time, e.g. 2026-11-25T09:30:00+05:00".into())
}
