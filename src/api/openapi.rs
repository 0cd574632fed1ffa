//! The OpenAPI 3.1 document served at `/api/v1/openapi.json`, generated from the route
//! table below and the body descriptions in [`super::schema`].

use serde_json::{Map, Value, json};

use super::problem::TYPE_BASE;
use super::schema::{self, Body, Shape, json_schema};
use crate::domain::QuestionKind;

struct Route {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    params: Vec<(&'static str, Shape, &'static str)>,
    body: Option<Body>,
    /// `(status, what it means)`; problem answers are added for every route.
    answers: Vec<(u16, &'static str)>,
    /// The name of the success body's schema in [`replies`] (none for 204).
    reply: Option<&'static str>,
}

/// A property of a reply: its name, schema, and whether every answer has it.
fn property(name: &str, schema: Value, required: bool) -> (String, Value, bool) {
    (name.to_owned(), schema, required)
}

fn object(properties: Vec<(String, Value, bool)>, about: &str) -> Value {
    let required: Vec<&str> = properties
        .iter()
        .filter(|(_, _, r)| *r)
        .map(|(n, _, _)| n.as_str())
        .collect();
    let props: Map<String, Value> = properties
        .iter()
        .map(|(n, s, _)| (n.clone(), s.clone()))
        .collect();
    json!({"type": "object", "description": about, "properties": props,
           "required": required, "additionalProperties": false})
}

fn written() -> Value {
    json!({"type": "string", "enum": ["created", "updated"],
           "description": "created: the record is new; updated: it existed (a retry changes nothing)"})
}

fn count(about: &str) -> Value {
    json!({"type": "integer", "minimum": 0, "description": about})
}

/// The success bodies, by schema name: what a portal can rely on in each answer.
pub fn replies() -> Vec<(&'static str, Value)> {
    let id = json_schema(&Shape::Id);
    let progress = vec![
        property("id", id.clone(), true),
        property(
            "recipients",
            count("chats it was queued for when posted"),
            true,
        ),
        property("sent", count("delivered to Telegram"), true),
        property("failed", count("refused by Telegram for good"), true),
        property("pending", count("still to go"), true),
        property(
            "cancelled",
            count("not sent: the announcement was cancelled"),
            true,
        ),
        property(
            "skipped",
            count("not sent: the chat logged out or blocked the bot meanwhile"),
            true,
        ),
        property(
            "posted_at",
            json!({"type": "string", "format": "date-time"}),
            true,
        ),
        property(
            "cancelled_at",
            json!({"type": "string", "format": "date-time"}),
            false,
        ),
    ];
    let mut posted = progress.clone();
    posted.push(property(
        "result",
        json!({"type": "string", "enum": ["created", "unchanged"],
               "description": "created: queued now (201); unchanged: posted before with the same words, nothing queued again (200)"}),
        true,
    ));
    let mut cancelled = progress.clone();
    cancelled.push(property(
        "result",
        json!({"type": "string", "enum": ["cancelled"]}),
        true,
    ));
    cancelled.push(property(
        "stopped",
        count("deliveries this request stopped (0 when cancelled before)"),
        true,
    ));
    let time = json!({"type": "string", "format": "date-time"});
    let answer = object(
        vec![
            property(
                "id",
                json!({"type": "integer", "minimum": 1,
                "description": "the answer's place in the order answers were given; the X-Kabinet-Delivery of its webhook POST"}),
                true,
            ),
            property("question", id.clone(), true),
            property(
                "kind",
                json!({"type": "string", "enum": QuestionKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>()}),
                true,
            ),
            property("option", json_schema(&Shape::OptionCode), true),
            property(
                "comment",
                json!({"type": ["string", "null"], "maxLength": 500}),
                true,
            ),
            property("answered_at", time.clone(), true),
            property(
                "application",
                json!({"type": "string", "description": "the application's number, for a question about one"}),
                false,
            ),
            property("child", json_schema(&Shape::Iin), false),
            property(
                "parent",
                object(
                    vec![
                        property("iin", json_schema(&Shape::Iin), true),
                        property("locality", json_schema(&Shape::Locality), true),
                    ],
                    "whose cabinet answered",
                ),
                true,
            ),
        ],
        "an answer: the body of the webhook POST to PORTAL_WEBHOOK_URL, and an item of GET /api/v1/answers",
    );
    let question = object(
        vec![
            property("id", id.clone(), true),
            property(
                "kind",
                json!({"type": "string", "enum": QuestionKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>()}),
                true,
            ),
            property(
                "state",
                json!({"type": "string", "enum": ["open", "answered", "withdrawn", "expired"]}),
                true,
            ),
            property("deadline", time.clone(), true),
            property(
                "answer",
                json!({"oneOf": [{"type": "null"}, object(vec![
                property("id", json!({"type": "integer", "minimum": 1}), true),
                property("option", json_schema(&Shape::OptionCode), true),
                property("comment", json!({"type": ["string", "null"]}), true),
                property("answered_at", time.clone(), true),
            ], "the first answer given")]}),
                true,
            ),
            property(
                "delivered_at",
                json!({"type": ["string", "null"], "format": "date-time",
                "description": "when the portal's webhook took the answer (a 2xx)"}),
                true,
            ),
            property(
                "result",
                json!({"type": "string", "enum": ["created", "unchanged"],
                "description": "PUT only: created (201) or unchanged (200)"}),
                false,
            ),
        ],
        "a question and where it stands",
    );
    vec![
        ("Question", question),
        (
            "Answers",
            object(
                vec![
                    property("answers", json!({"type": "array", "items": answer}), true),
                    property(
                        "next",
                        json!({"type": "integer", "minimum": 0,
                        "description": "the cursor to pass as after next time (the last id here, or after itself when none came)"}),
                        true,
                    ),
                ],
                "a page of answers, oldest first",
            ),
        ),
        (
            "LocalityWritten",
            object(
                vec![
                    property("code", json_schema(&Shape::Locality), true),
                    property("result", written(), true),
                ],
                "the locality is stored",
            ),
        ),
        (
            "InstitutionWritten",
            object(
                vec![
                    property("id", id.clone(), true),
                    property("result", written(), true),
                ],
                "the institution is stored",
            ),
        ),
        (
            "ApplicationWritten",
            object(
                vec![
                    property("number", id.clone(), true),
                    property(
                        "cabinet_created",
                        json!({"type": "boolean",
                "description": "true when this application opened the parent's cabinet"}),
                        true,
                    ),
                    property("result", written(), true),
                ],
                "the application is stored",
            ),
        ),
        (
            "StatusRecorded",
            object(
                vec![
                    property("event_id", id.clone(), true),
                    property(
                        "result",
                        json!({"type": "string", "enum": ["recorded", "replayed"],
                "description": "recorded: new, pushed to the parent (201); replayed: this event_id was recorded before, nothing changed (200)"}),
                        true,
                    ),
                ],
                "the status change is recorded",
            ),
        ),
        (
            "ReferralWritten",
            object(
                vec![
                    property("number", id.clone(), true),
                    property(
                        "pushed",
                        json!({"type": "boolean",
                "description": "true when this write told the parent (an issue or a change of status)"}),
                        true,
                    ),
                    property("result", written(), true),
                ],
                "the referral is stored",
            ),
        ),
        (
            "ChildFileWritten",
            object(
                vec![
                    property(
                        "new_clubs",
                        json!({"type": "array", "items": id.clone(),
                "description": "clubs the child was not enrolled in before (each pushed to the parent)"}),
                        true,
                    ),
                    property("result", written(), true),
                ],
                "the personal file is stored",
            ),
        ),
        (
            "AttendanceRecorded",
            object(
                vec![
                    property("days", count("days recorded"), true),
                    property(
                        "result",
                        json!({"type": "string", "enum": ["recorded"]}),
                        true,
                    ),
                ],
                "the attendance is recorded",
            ),
        ),
        (
            "AnnouncementPosted",
            object(posted, "the announcement and how far it has gone out"),
        ),
        (
            "AnnouncementProgress",
            object(progress, "how far the announcement has gone out"),
        ),
        (
            "AnnouncementCancelled",
            object(
                cancelled,
                "the announcement is cancelled: what had not gone out will not",
            ),
        ),
    ]
}

fn routes() -> Vec<Route> {
    let upserted = vec![(200, "updated (or unchanged)"), (201, "created")];
    vec![
        Route {
            method: "put",
            path: "/api/v1/localities/{code}",
            summary: "Create or update a locality; it appears in the bot's list",
            params: vec![("code", Shape::Locality, "the locality's code, e.g. almaty")],
            body: Some(schema::locality()),
            answers: upserted.clone(),
            reply: Some("LocalityWritten"),
        },
        Route {
            method: "put",
            path: "/api/v1/institutions/{id}",
            summary: "Create or update a kindergarten, school or club centre",
            params: vec![("id", Shape::Id, "the portal's id of the institution")],
            body: Some(schema::institution()),
            answers: upserted.clone(),
            reply: Some("InstitutionWritten"),
        },
        Route {
            method: "put",
            path: "/api/v1/applications/{number}",
            summary: "Create or update an application; the parent's cabinet opens automatically",
            params: vec![("number", Shape::Id, "the application's number")],
            body: Some(schema::application()),
            answers: upserted.clone(),
            reply: Some("ApplicationWritten"),
        },
        Route {
            method: "post",
            path: "/api/v1/applications/{number}/status",
            summary: "Record a status change: history, an event, pushes. Replaying an event_id records nothing new",
            params: vec![("number", Shape::Id, "the application's number")],
            body: Some(schema::status_change()),
            answers: vec![
                (200, "a replay: already recorded, nothing changed"),
                (201, "recorded and pushed"),
            ],
            reply: Some("StatusRecorded"),
        },
        Route {
            method: "put",
            path: "/api/v1/referrals/{number}",
            summary: "Create or update a referral; its issue and each change of status are pushed",
            params: vec![("number", Shape::Id, "the referral's number")],
            body: Some(schema::referral()),
            answers: upserted.clone(),
            reply: Some("ReferralWritten"),
        },
        Route {
            method: "put",
            path: "/api/v1/children/{iin}/file",
            summary: "Create or update a child's personal file; a new club enrollment is pushed",
            params: vec![(
                "iin",
                Shape::Iin,
                "the child's IIN (the child comes with an application)",
            )],
            body: Some(schema::child_file()),
            answers: upserted,
            reply: Some("ChildFileWritten"),
        },
        Route {
            method: "post",
            path: "/api/v1/children/{iin}/attendance",
            summary: "Record attendance, one record per day (a day posted again is replaced)",
            params: vec![("iin", Shape::Iin, "the child's IIN")],
            body: Some(schema::attendance()),
            answers: vec![(200, "recorded")],
            reply: Some("AttendanceRecorded"),
        },
        Route {
            method: "delete",
            path: "/api/v1/parents/{locality}/{iin}",
            summary: "Close a cabinet and its sessions (the right to be forgotten)",
            params: vec![
                ("locality", Shape::Locality, "the cabinet's locality"),
                ("iin", Shape::Iin, "the parent's IIN"),
            ],
            body: None,
            answers: vec![
                (204, "closed"),
                (404, "there is no such cabinet (or it was closed before)"),
            ],
            reply: None,
        },
        Route {
            method: "put",
            path: "/api/v1/announcements/{id}",
            summary: "Post an announcement to a group of parents: queued for every logged-in chat of the audience now, sent after the parents' own pushes. Once per id: a retry queues nothing; other words under the same id are refused (409)",
            params: vec![("id", Shape::Id, "the portal's id of the announcement")],
            body: Some(schema::announcement()),
            answers: vec![
                (
                    200,
                    "posted before with the same words: nothing queued again",
                ),
                (201, "queued"),
                (
                    409,
                    "posted before with other words; an announcement is not edited",
                ),
            ],
            reply: Some("AnnouncementPosted"),
        },
        Route {
            method: "get",
            path: "/api/v1/announcements/{id}",
            summary: "How far an announcement has gone out",
            params: vec![("id", Shape::Id, "the announcement's id")],
            body: None,
            answers: vec![(200, "its progress")],
            reply: Some("AnnouncementProgress"),
        },
        Route {
            method: "delete",
            path: "/api/v1/announcements/{id}",
            summary: "Cancel what of an announcement has not gone out (a send in progress completes)",
            params: vec![("id", Shape::Id, "the announcement's id")],
            body: None,
            answers: vec![(200, "cancelled")],
            reply: Some("AnnouncementCancelled"),
        },
        Route {
            method: "put",
            path: "/api/v1/questions/{id}",
            summary: "Put a question to the parent, with a deadline: pushed at once on every channel the parent keeps on, ahead of every other push, and reminded of before the deadline. Once per id: the same content again changes nothing; other content under the same id is refused (409)",
            params: vec![("id", Shape::Id, "the portal's id of the question")],
            body: Some(schema::question()),
            answers: vec![
                (200, "put before with the same content: nothing asked again"),
                (201, "asked"),
                (
                    409,
                    "put before with other content; a question is not edited once asked",
                ),
            ],
            reply: Some("Question"),
        },
        Route {
            method: "get",
            path: "/api/v1/questions/{id}",
            summary: "Where a question stands, and its answer",
            params: vec![("id", Shape::Id, "the question's id")],
            body: None,
            answers: vec![(200, "the question")],
            reply: Some("Question"),
        },
        Route {
            method: "delete",
            path: "/api/v1/questions/{id}",
            summary: "Withdraw a question not yet answered (its card says so); an answered one stays answered",
            params: vec![("id", Shape::Id, "the question's id")],
            body: None,
            answers: vec![(
                200,
                "withdrawn, or where it stands when it was answered or expired before",
            )],
            reply: Some("Question"),
        },
        Route {
            method: "get",
            path: "/api/v1/answers",
            summary: "Answers in the order they were given, after a cursor. The same bodies the webhook POSTs",
            params: vec![
                (
                    "after",
                    Shape::Int { min: 0 },
                    "the last answer id read (0, or none, at first)",
                ),
                (
                    "limit",
                    Shape::Int { min: 1 },
                    "answers per page, 1 to 1000; 100 by default",
                ),
            ],
            body: None,
            answers: vec![(200, "a page of answers and the cursor to ask from next")],
            reply: Some("Answers"),
        },
    ]
}

const PROBLEMS: [(u16, &str, &str); 7] = [
    (400, "malformed-json", "the body is not valid JSON"),
    (
        401,
        "unauthorized",
        "no token, or the wrong one; nothing was written",
    ),
    (
        404,
        "not-found",
        "the record named in the path does not exist",
    ),
    (
        413,
        "body-too-large",
        "the body is larger than API_MAX_BODY_BYTES",
    ),
    (
        415,
        "not-json",
        "the body was not sent as JSON (Content-Type: application/json)",
    ),
    (
        422,
        "invalid-fields",
        "fields that are not valid, or name records that do not exist; each is in `errors`",
    ),
    (
        503,
        "unavailable",
        "the database did not answer; retry later",
    ),
];

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for route in routes() {
        let mut operation = json!({
            "summary": route.summary,
            "operationId": operation_id(route.method, route.path),
            "security": [{"bearer": []}],
            // A parameter named in the path is the path's; any other is the query's, optional.
            "parameters": route.params.iter().map(|(name, shape, about)| {
                let in_path = route.path.contains(&format!("{{{name}}}"));
                json!({
                    "name": name, "in": if in_path { "path" } else { "query" },
                    "required": in_path, "description": about, "schema": json_schema(shape),
                })
            }).collect::<Vec<_>>(),
        });
        if let Some(body) = &route.body {
            let mut s = schema::object_schema(&body.fields);
            s["example"] = body.example.clone();
            schemas.insert(body.name.to_owned(), s);
            operation["requestBody"] = json!({
                "required": true,
                "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{}", body.name)}}}
            });
        }
        let mut responses = Map::new();
        for (status, about) in &route.answers {
            let mut answer = json!({"description": about});
            match (status, route.reply) {
                (200..=299, Some(reply)) if *status != 204 => {
                    answer["content"] = json!({"application/json": {"schema":
                        {"$ref": format!("#/components/schemas/{reply}")}}});
                }
                (400..=599, _) => {
                    answer["content"] = json!({"application/problem+json": {"schema":
                        {"$ref": "#/components/schemas/Problem"}}});
                }
                _ => {}
            }
            responses.insert(status.to_string(), answer);
        }
        for (status, kind, about) in PROBLEMS {
            let applies = match status {
                400 | 413 | 415 | 422 => route.body.is_some() || status == 422,
                404 => {
                    route.path.contains("/status")
                        || route.path.contains("/children/")
                        || route.path.contains("/announcements/")
                        || route.path.contains("/questions/")
                        || route.method == "delete"
                }
                _ => true,
            };
            if applies {
                responses.entry(status.to_string()).or_insert_with(|| {
                    json!({
                        "description": format!("{about} ({TYPE_BASE}{kind})"),
                        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
                    })
                });
            }
        }
        operation["responses"] = Value::Object(responses);
        paths
            .entry(route.path.to_owned())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("a path item is an object")
            .insert(route.method.to_owned(), operation);
    }
    for (name, reply) in replies() {
        schemas.insert(name.into(), reply);
    }
    schemas.insert("Problem".into(), json!({
        "type": "object",
        "description": "RFC 9457 problem details",
        "properties": {
            "type": {"type": "string", "format": "uri-reference",
                "description": "relative to the API: /api/v1/problems/<kind>, each kind listed in the answers"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object", "properties": {
                "field": {"type": "string", "description": "the field's path (parent.iin, records[2].date) or a path parameter's name"},
                "pointer": {"type": "string", "description": "the same place as a JSON Pointer into the body"},
                "detail": {"type": "string"}
            }}}
        },
        "required": ["type", "title", "status", "detail"]
    }));
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Kabinet integration API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "How the education portal feeds the parents' cabinet. Every write is an idempotent \
                upsert keyed by the portal's own ids, so any request may be retried. Times are RFC 3339 with \
                an offset; dates YYYY-MM-DD. Errors are application/problem+json naming each bad field."
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "API_TOKEN"}}
        },
        "security": [{"bearer": []}]
    })
}

fn operation_id(method: &str, path: &str) -> String {
    let words: Vec<&str> = path
        .trim_start_matches("/api/v1/")
        .split('/')
        .filter(|p| !p.starts_with('{'))
        .collect();
    format!("{method}_{}", words.join("_"))
}

/// Every body the document describes, with the route's method and path.
pub fn bodies() -> Vec<(&'static str, &'static str, Body)> {
    routes()
        .into_iter()
        .filter_map(|r| r.body.map(|b| (r.method, r.path, b)))
        .collect()
}
