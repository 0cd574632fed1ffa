//! The integration API (SPEC §3) over HTTP: each endpoint's happy path and bad inputs with
//! the exact status and the field named, replays, the cabinet's deletion, health, metrics,
//! the OpenAPI document, and SMS and e-mail pushes reaching a fake gateway and an SMTP sink.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{API_TOKEN, Portal, TestBot, TestDb};
use kabinet::domain::Language;
use reqwest::Method;
use serde_json::{Value, json};

const WITH_API: &[(&str, &str)] = &[("API_TOKEN", API_TOKEN)];

bot_stories! {
    with super::WITH_API;
    every_endpoint_writes_and_says_what_it_did,
    bad_requests_are_refused_naming_each_field,
    replays_change_nothing,
    deleting_a_cabinet_closes_its_sessions,
    health_metrics_and_the_openapi_document,
    every_answer_is_what_the_document_describes,
}

const PARENT: &str = "900315412348";

fn new_application() -> Value {
    json!({
        "locality": "almaty",
        "parent": {"iin": "851002400016", "full_name": "Нұрланова Дана", "phone": "8 (702) 555-12-34"},
        "child": {"iin": "230415500016", "full_name": "Нұрланов Алан", "birth_date": "2023-04-15"},
        "kind": "kindergarten",
        "institutions": ["alm-ds-12"],
        "desired_date": "2027-09-01",
        "language": "ru",
        "submitted_at": "2026-11-20T10:00:00+05:00",
        "status": "submitted"
    })
}

async fn count(t: &TestBot, sql: &str) -> i64 {
    t.storage().fetch_i64(sql).await.unwrap()
}

async fn every_endpoint_writes_and_says_what_it_did(t: &mut TestBot) {
    let p = Portal::of(t);
    let (status, body) = p
        .put(
            "/api/v1/localities/taraz",
            json!({"name_kk": "Тараз", "name_ru": "Тараз"}),
        )
        .await;
    assert_eq!(
        (status, body["result"].as_str()),
        (201, Some("created")),
        "{body}"
    );
    let (status, body) = p
        .put(
            "/api/v1/localities/taraz",
            json!({"name_kk": "Тараз қаласы", "name_ru": "Тараз"}),
        )
        .await;
    assert_eq!((status, body["result"].as_str()), (200, Some("updated")));
    assert_eq!(
        count(
            t,
            "SELECT COUNT(*) FROM localities WHERE code = 'taraz' AND name_kk = 'Тараз қаласы'"
        )
        .await,
        1
    );

    let (status, _) = p
        .put(
            "/api/v1/institutions/trz-ds-1",
            json!({"locality": "taraz", "kind": "kindergarten", "name_kk": "№1 балабақша",
                   "name_ru": "Детский сад №1", "address": "Тараз, Абай даңғылы, 1"}),
        )
        .await;
    assert_eq!(status, 201);

    // The application opens the parent's cabinet.
    let (status, body) = p
        .put("/api/v1/applications/ALM-2026-900001", new_application())
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["cabinet_created"], json!(true));
    assert_eq!(
        count(
            t,
            "SELECT COUNT(*) FROM cabinets WHERE iin = '851002400016' AND phone = '+77025551234'"
        )
        .await,
        1
    );

    let (status, body) = p
        .status("ALM-2026-900001", "evt-a1", "queued", Some(4))
        .await;
    assert_eq!(
        (status, body["result"].as_str()),
        (201, Some("recorded")),
        "{body}"
    );
    assert_eq!(
        count(t, "SELECT COUNT(*) FROM applications WHERE number = 'ALM-2026-900001' AND status = 'queued' AND queue_position = 4").await,
        1
    );

    let (status, body) = p
        .put(
            "/api/v1/referrals/ALM-R-900001",
            json!({"application": "ALM-2026-900001", "institution": "alm-ds-12", "group": "Кіші топ",
                   "issued_at": "2026-11-25T09:00:00+05:00", "valid_until": "2026-12-20T18:00:00+05:00",
                   "status": "active"}),
        )
        .await;
    assert_eq!(
        (status, body["pushed"].as_bool()),
        (201, Some(true)),
        "{body}"
    );

    let (status, body) = p
        .put(
            "/api/v1/children/230415500016/file",
            json!({"institution": "alm-ds-12", "group": "Кіші топ", "opened_at": "2026-12-01",
                   "clubs": [{"id": "club-x", "name_kk": "Би", "name_ru": "Танцы",
                              "teacher": "Ким А.", "schedule": "Сб 10:00"}]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["new_clubs"], json!(["club-x"]));

    let (status, body) = p
        .post(
            "/api/v1/children/230415500016/attendance",
            json!({"records": [{"date": "2026-12-01", "status": "present"},
                               {"date": "2026-12-02", "status": "absent", "note": "Ауырды"}]}),
        )
        .await;
    assert_eq!((status, body["days"].as_i64()), (200, Some(2)), "{body}");
    assert_eq!(
        count(
            t,
            "SELECT COUNT(*) FROM attendance WHERE child_iin = '230415500016'"
        )
        .await,
        2
    );
    // The feed holds the status change, the referral and the club.
    assert_eq!(
        count(t, "SELECT COUNT(*) FROM events e JOIN cabinets c ON c.id = e.cabinet_id WHERE c.iin = '851002400016'").await,
        3
    );
}

async fn bad_requests_are_refused_naming_each_field(t: &mut TestBot) {
    let p = Portal::of(t);
    let body = json!({"name_kk": "Тараз", "name_ru": "Тараз"})
        .to_string()
        .into_bytes();
    let path = "/api/v1/localities/taraz";

    // No token, a wrong token: 401, nothing written.
    for token in [None, Some("wrong-token-0123456789"), Some("")] {
        let (status, content_type, problem) =
            p.raw(Method::PUT, path, Some(body.clone()), token).await;
        assert_eq!(status, 401, "token {token:?}");
        assert_eq!(content_type, "application/problem+json");
        assert_eq!(problem["status"], json!(401));
        assert!(problem["type"].as_str().unwrap().ends_with("/unauthorized"));
    }
    assert_eq!(
        count(t, "SELECT COUNT(*) FROM localities WHERE code = 'taraz'").await,
        0
    );

    // A body that is not sent as JSON: 415, nothing written.
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let (status, answer_type, problem) = p
            .raw_typed(Method::PUT, path, body.clone(), content_type, API_TOKEN)
            .await;
        assert_eq!(
            (status, answer_type.as_str()),
            (415, "application/problem+json"),
            "{content_type:?}"
        );
        assert!(problem["type"].as_str().unwrap().ends_with("/not-json"));
    }
    assert_eq!(
        count(t, "SELECT COUNT(*) FROM localities WHERE code = 'taraz'").await,
        0
    );
    // The scheme's name is case-insensitive (RFC 9110); the type may carry a charset.
    let (status, _, _) = p
        .raw_typed(
            Method::PUT,
            "/api/v1/localities/otrar",
            body.clone(),
            Some("application/json; charset=utf-8"),
            &format!("bearer {API_TOKEN}"),
        )
        .await;
    assert_eq!(status, 201);

    // Malformed JSON and an empty body: 400.
    let (status, content_type, problem) = p
        .raw(
            Method::PUT,
            path,
            Some(b"{\"name_kk\": ".to_vec()),
            Some(API_TOKEN),
        )
        .await;
    assert_eq!(
        (status, content_type.as_str()),
        (400, "application/problem+json")
    );
    assert!(
        problem["detail"].as_str().unwrap().contains("line 1"),
        "{problem}"
    );
    let (status, _, _) = p
        .raw(Method::PUT, path, Some(Vec::new()), Some(API_TOKEN))
        .await;
    assert_eq!(status, 400);

    // Every bad field at once, each named.
    let mut bad = new_application();
    bad["kind"] = json!("university");
    bad["parent"]["iin"] = json!("851002400017");
    bad["parent"]["phone"] = json!("+7 727 250 00 00");
    bad["child"]["birth_date"] = json!("15.04.2023");
    bad["desired_date"] = json!("2027-02-30");
    bad["submitted_at"] = json!("yesterday");
    bad.as_object_mut().unwrap().remove("language");
    let (status, problem) = p.put("/api/v1/applications/ALM-2026-900002", bad).await;
    assert_eq!(status, 422, "{problem}");
    let fields = fields_named(&problem);
    assert_eq!(
        fields,
        vec![
            "parent.iin",
            "parent.phone",
            "child.birth_date",
            "kind",
            "desired_date",
            "language",
            "submitted_at"
        ]
    );
    let kind = &problem["errors"][3];
    assert_eq!(kind["pointer"], json!("#/kind"));
    assert!(
        kind["detail"]
            .as_str()
            .unwrap()
            .contains("kindergarten, first_grade"),
        "{kind}"
    );
    assert!(
        problem["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("control digit")
    );

    // Unknown references: 422 naming the field; an unknown application or child: 404.
    let mut unknown = new_application();
    unknown["institutions"] = json!(["alm-ds-12", "no-such-kindergarten"]);
    let (status, problem) = p.put("/api/v1/applications/ALM-2026-900003", unknown).await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], json!("institutions[1]"));
    let mut unknown = new_application();
    unknown["locality"] = json!("atlantis");
    let (status, problem) = p.put("/api/v1/applications/ALM-2026-900003", unknown).await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("locality"))
    );
    let (status, problem) = p.status("NO-SUCH-1", "evt-x", "queued", None).await;
    assert_eq!(status, 404, "{problem}");
    let (status, _) = p
        .post(
            "/api/v1/children/230415500016/attendance",
            json!({"records": []}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, problem) = p.status("ALM-2026-000137", "evt-x", "flying", None).await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("status"))
    );
    let (status, problem) = p
        .post(
            "/api/v1/children/12345/attendance",
            json!({"records": [{"date": "2026-13-01", "status": "present"}]}),
        )
        .await;
    assert_eq!(status, 422);
    let fields = fields_named(&problem);
    assert_eq!(fields, vec!["iin", "records[0].date"]);
    assert_eq!(problem["errors"][1]["pointer"], json!("#/records/0/date"));

    // A text per language: an object of kk and ru, each checked, and nothing else.
    let institution = |address: Value| {
        json!({"locality": "almaty", "kind": "school", "name_kk": "№1 мектеп",
               "name_ru": "Школа №1", "address": address})
    };
    let (status, problem) = p
        .put(
            "/api/v1/institutions/alm-sch-1",
            institution(json!({"kk": "", "en": "Abay avenue, 1", "ru": 5})),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        fields_named(&problem),
        vec!["address.en", "address.kk", "address.ru"]
    );
    for empty in [json!({}), json!(5), json!(["Абай даңғылы, 1"])] {
        let (status, problem) = p
            .put("/api/v1/institutions/alm-sch-1", institution(empty))
            .await;
        assert_eq!((status, fields_named(&problem)), (422, vec!["address"]));
    }
    let (status, problem) = p
        .put(
            "/api/v1/institutions/alm-sch-1",
            institution(json!({"ru": "Алматы, проспект Абая, 1"})),
        )
        .await;
    assert_eq!(status, 201, "one language is enough: {problem}");

    // Too large: 413 (the default limit is 1 MiB), told from the declared length before the
    // body is sent — a client that sent it all first could find the connection closed under
    // it instead of reading the answer.
    let status_line = declared_too_large(&t.api_url(), path, 2 << 20).await;
    assert!(status_line.starts_with("HTTP/1.1 413"), "{status_line}");
    // Wrong method, unknown path.
    let (status, _, _) = p.raw(Method::GET, path, None, Some(API_TOKEN)).await;
    assert_eq!(status, 405);
    let (status, _, problem) = p
        .raw(Method::GET, "/api/v1/nothing", None, Some(API_TOKEN))
        .await;
    assert_eq!((status, problem["status"].as_i64()), (404, Some(404)));
    assert_eq!(
        count(t, "SELECT COUNT(*) FROM localities WHERE code = 'taraz'").await,
        0
    );
}

async fn replays_change_nothing(t: &mut TestBot) {
    let p = Portal::of(t);
    let snapshot = |t: &TestBot| {
        let s = t.storage().clone();
        async move {
            let mut all = Vec::new();
            for table in [
                "cabinets",
                "applications",
                "application_history",
                "events",
                "deliveries",
                "referrals",
            ] {
                all.push(
                    s.fetch_i64(&format!("SELECT COUNT(*) FROM {table}"))
                        .await
                        .unwrap(),
                );
            }
            all
        }
    };
    let referral = json!({"application": "ALM-2026-000137", "institution": "alm-ds-12", "group": "Топ",
        "issued_at": "2026-11-25T09:00:00+05:00", "valid_until": "2026-12-25T18:00:00+05:00", "status": "active"});
    let (_, _) = p
        .put("/api/v1/applications/ALM-2026-900010", new_application())
        .await;
    p.status("ALM-2026-900010", "evt-r1", "in_review", None)
        .await;
    p.put("/api/v1/referrals/ALM-R-900010", referral.clone())
        .await;
    let before = snapshot(t).await;
    let (status, body) = p
        .put("/api/v1/applications/ALM-2026-900010", new_application())
        .await;
    assert_eq!(
        (status, body["cabinet_created"].as_bool()),
        (200, Some(false))
    );
    let (status, _) = p
        .status("ALM-2026-900010", "evt-r1", "in_review", None)
        .await;
    assert_eq!(status, 200);
    let (status, body) = p.put("/api/v1/referrals/ALM-R-900010", referral).await;
    assert_eq!((status, body["pushed"].as_bool()), (200, Some(false)));
    assert_eq!(snapshot(t).await, before, "a replay wrote nothing new");
    // An old PUT never undoes a newer status.
    assert_eq!(
        count(t, "SELECT COUNT(*) FROM applications WHERE number = 'ALM-2026-900010' AND status = 'in_review'").await,
        1
    );
}

async fn deleting_a_cabinet_closes_its_sessions(t: &mut TestBot) {
    let (mut chat, _) = t.logged_in(601, Language::Kk, "almaty", PARENT).await;
    let p = Portal::of(t);
    let (status, problem) = p.delete("/api/v1/parents/almaty/900315412349").await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("iin"))
    );
    let (status, _) = p.delete(&format!("/api/v1/parents/almaty/{PARENT}")).await;
    assert_eq!(status, 204);
    assert_eq!(
        count(
            t,
            "SELECT COUNT(*) FROM sessions WHERE chat_id = 601 AND ended_at IS NULL"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            t,
            &format!("SELECT COUNT(*) FROM cabinets WHERE iin = '{PARENT}'")
        )
        .await,
        0
    );
    let (status, _) = p.delete(&format!("/api/v1/parents/almaty/{PARENT}")).await;
    assert_eq!(status, 404);
    // The chat is logged out: the menu asks for the IIN again, nothing personal shows.
    chat.send_text("/menu");
    let screen = chat.next().await.unwrap();
    assert!(!screen.text.contains("Сейітов"), "{}", screen.text);
}

async fn health_metrics_and_the_openapi_document(t: &mut TestBot) {
    let p = Portal::of(t);
    let admin = t.admin_url();
    let health = reqwest::get(format!("{admin}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let health: Value = health.json().await.unwrap();
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["database"], "ok", "{health}");
    assert!(
        health["telegram_last_poll_age_seconds"].as_u64().unwrap() < 90,
        "polling: the last getUpdates is recent: {health}"
    );
    // The API's port faces the portal: no health or metrics there.
    let (status, _, _) = p.raw(Method::GET, "/healthz", None, None).await;
    assert_eq!(status, 404);
    let (status, _, _) = p.raw(Method::GET, "/metrics", None, None).await;
    assert_eq!(status, 404);

    let (status, _, doc) = p.raw(Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(
        status, 401,
        "the document is behind the token like the rest of /api/v1"
    );
    let (status, _, doc2) = p
        .raw(Method::GET, "/api/v1/openapi.json", None, Some(API_TOKEN))
        .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc2["openapi"], json!("3.1.0"));
    for path in [
        "/api/v1/localities/{code}",
        "/api/v1/applications/{number}/status",
        "/api/v1/parents/{locality}/{iin}",
        "/api/v1/announcements/{id}",
    ] {
        assert!(doc2["paths"][path].is_object(), "{path} documented");
    }
    assert_eq!(
        doc2["components"]["schemas"]["Application"]["properties"]["status"]["enum"],
        json!([
            "submitted",
            "in_review",
            "queued",
            "waiting_list",
            "referral_issued",
            "inactive",
            "enrolled",
            "rejected",
            "cancelled"
        ])
    );

    let (_, mut chat_menu) = (0, t.logged_in(611, Language::Ru, "almaty", PARENT).await.0);
    p.put(
        "/api/v1/localities/taraz",
        json!({"name_kk": "Тараз", "name_ru": "Тараз"}),
    )
    .await;
    p.status("ALM-2026-000137", "evt-m1", "in_review", None)
        .await;
    chat_menu.next_within(Duration::from_secs(5)).await.unwrap();
    // The sender records the send after Telegram's answer, a moment after the chat has it.
    common::wait_for_count(
        t.storage(),
        "SELECT COUNT(*) FROM deliveries WHERE state = 'sent'",
        1,
        Duration::from_secs(5),
    )
    .await;
    let metrics = reqwest::get(format!("{admin}/metrics")).await.unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let metrics = metrics.text().await.unwrap();
    for line in [
        "kabinet_api_requests_total{route=\"/api/v1/localities/{code}\",status=\"201\"} 1",
        "kabinet_api_requests_total{route=\"/api/v1/openapi.json\",status=\"401\"} 1",
        "kabinet_api_request_duration_seconds_count{route=\"/api/v1/localities/{code}\"} 1",
        "kabinet_api_request_duration_seconds_bucket{route=\"/api/v1/localities/{code}\",le=\"+Inf\"} 1",
        "kabinet_push_sends_total{channel=\"telegram\",outcome=\"sent\"} 1",
        "kabinet_send_duration_seconds_count{channel=\"telegram\"} 1",
        "kabinet_outbox_pending{class=\"push\"} 0",
        "kabinet_outbox_pending{class=\"announcement\"} 0",
        "kabinet_outbox_oldest_pending_seconds{class=\"push\"} 0",
        "kabinet_database_up 1",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    assert!(metrics.contains("kabinet_updates_handled_total "));
    assert!(metrics.contains("kabinet_update_duration_seconds_count "));
    assert!(metrics.contains("kabinet_telegram_last_poll_age_seconds "));
    common::promtool_accepts_metrics(&metrics);
}

/// A generic SMS gateway that keeps what it is sent.
async fn sms_gateway() -> (String, Arc<Mutex<Vec<Value>>>) {
    let kept: Arc<Mutex<Vec<Value>>> = Arc::default();
    let state = kept.clone();
    let app = axum::Router::new().route(
        "/send",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let state = state.clone();
            async move {
                state.lock().unwrap().push(body);
                axum::http::StatusCode::ACCEPTED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/send"), kept)
}

async fn sms_and_email_reach_their_gateways(db: TestDb) {
    let sink = kabinet::sim::smtp::SmtpSink::start().await.unwrap();
    let (gateway, texts) = sms_gateway().await;
    let smtp = sink.url();
    let t = TestBot::start_with(
        db,
        &[
            ("API_TOKEN", API_TOKEN),
            ("SMTP_URL", &smtp),
            ("SMTP_FROM", "Kabinet <kabinet@example.kz>"),
            ("SMS_PROVIDER", "http"),
            ("SMS_HTTP_URL", &gateway),
        ],
    )
    .await;
    t.storage()
        .execute_raw(&format!(
            "UPDATE cabinets SET notify_sms = TRUE, notify_email = TRUE, language = 'ru' WHERE iin = '{PARENT}'"
        ))
        .await
        .unwrap();
    let p = Portal::of(&t);
    let (status, _) = p
        .status("ALM-2026-000137", "evt-s1", "queued", Some(5))
        .await;
    assert_eq!(status, 201);
    common::wait_until("an SMS and an e-mail", Duration::from_secs(10), || {
        let done = !texts.lock().unwrap().is_empty() && !sink.mails().is_empty();
        async move { done }
    })
    .await;
    let sms = texts.lock().unwrap().clone();
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert_eq!(sms[0]["to"], json!("+77011234545"));
    assert_eq!(
        sms[0]["text"],
        json!("Личный кабинет: Әли, В очереди (5-е место) · № ALM-2026-000137")
    );
    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, vec!["aigerim.seitova@example.kz".to_owned()]);
    assert!(
        mails[0].body_text().contains("В очереди (5-е место)"),
        "{}",
        mails[0].body_text()
    );
    assert!(
        mails[0].body_text().contains("https://t.me/"),
        "{}",
        mails[0].data
    );
    assert_eq!(
        t.storage()
            .fetch_i64("SELECT COUNT(*) FROM deliveries WHERE channel IN ('sms', 'email') AND state = 'sent'")
            .await
            .unwrap(),
        2
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_and_email_reach_their_gateways_sqlite() {
    common::within_time(sms_and_email_reach_their_gateways(TestDb::sqlite().await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_and_email_reach_their_gateways_postgres() {
    let Some(db) = TestDb::postgres().await else {
        eprintln!("TEST_DATABASE_URL is not set: PostgreSQL story skipped");
        return;
    };
    common::within_time(sms_and_email_reach_their_gateways(db)).await;
}

/// The fields a problem+json answer names, in its order.
fn fields_named(problem: &serde_json::Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect()
}

/// Sends only the head of a PUT declaring a `length`-byte JSON body and returns the status
/// line of the answer: what a client waiting for `100 Continue` learns.
async fn declared_too_large(base: &str, path: &str, length: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {API_TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 512];
    let n = stream.read(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Whether `value` is what `schema` (a schema of the OpenAPI document, `$ref`s resolved in
/// `doc`) describes; the first difference otherwise. Types, required properties, enums and
/// "nothing undocumented" are checked: what the portal's code relies on.
fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return conforms(doc, &doc["components"]["schemas"][name], value, at);
    }
    let kind = schema["type"].as_str().unwrap_or("");
    let fits = match kind {
        "object" => value.is_object(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        _ => true,
    };
    if !fits {
        return Err(format!("{at}: {value} is not a {kind}"));
    }
    if let Some(values) = schema["enum"].as_array()
        && !values.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {values:?}"));
    }
    if let Some(min) = schema["minimum"].as_i64()
        && value.as_i64().is_some_and(|v| v < min)
    {
        return Err(format!("{at}: {value} is below {min}"));
    }
    if kind == "array" {
        for (i, item) in value.as_array().unwrap().iter().enumerate() {
            conforms(doc, &schema["items"], item, &format!("{at}[{i}]"))?;
        }
    }
    if kind == "object" {
        let object = value.as_object().unwrap();
        for required in schema["required"].as_array().into_iter().flatten() {
            let name = required.as_str().unwrap();
            if !object.contains_key(name) {
                return Err(format!("{at}.{name} is required but missing"));
            }
        }
        for (name, v) in object {
            match schema["properties"].get(name) {
                Some(property) => conforms(doc, property, v, &format!("{at}.{name}"))?,
                None if schema["additionalProperties"] == json!(false) => {
                    return Err(format!("{at}.{name} is not documented"));
                }
                None => {}
            }
        }
    }
    Ok(())
}

/// The documented answer of a route for a status.
fn documented<'d>(doc: &'d Value, method: &str, path: &str, status: u16) -> &'d Value {
    let answer = &doc["paths"][path][method]["responses"][status.to_string()];
    assert!(answer.is_object(), "{method} {path} documents no {status}");
    answer["content"]
        .as_object()
        .and_then(|c| c.values().next())
        .map_or(&Value::Null, |c| &c["schema"])
}

async fn every_answer_is_what_the_document_describes(t: &mut TestBot) {
    let p = Portal::of(t);
    let (_, _, doc) = p
        .raw(Method::GET, "/api/v1/openapi.json", None, Some(API_TOKEN))
        .await;
    let _chat = t.logged_in(621, Language::Ru, "almaty", PARENT).await;
    let file = json!({"institution": "alm-ds-45", "group": "Ортаңғы топ", "opened_at": "2024-09-02",
        "clubs": [{"id": "club-art-alm", "name_kk": "Сурет", "name_ru": "Рисование",
                   "teacher": "Ахметова А.", "schedule": "Сс 15:00"}]});
    let referral = json!({"application": "ALM-2026-000137", "institution": "alm-ds-12",
        "group": "Кіші топ", "issued_at": "2026-11-20T10:00:00+05:00",
        "valid_until": "2026-11-22T18:00:00+05:00", "status": "revoked"});
    let mut application = kindergarten_application_body();
    application["status"] = json!("queued");
    let announcement =
        json!({"text_kk": "Сәлем", "text_ru": "Привет", "audience": {"locality": "almaty"}});
    let calls: Vec<(Method, &str, &str, Option<Value>)> = vec![
        (
            Method::PUT,
            "/api/v1/localities/{code}",
            "/api/v1/localities/taraz",
            Some(json!({"name_kk": "Тараз", "name_ru": "Тараз"})),
        ),
        (
            Method::PUT,
            "/api/v1/localities/{code}",
            "/api/v1/localities/taraz",
            Some(json!({"name_kk": "Тараз", "name_ru": "Тараз"})),
        ),
        (
            Method::PUT,
            "/api/v1/institutions/{id}",
            "/api/v1/institutions/alm-ds-12",
            Some(
                json!({"locality": "almaty", "kind": "kindergarten", "name_kk": "Балапан",
                        "name_ru": "Балапан", "address": "Алматы"}),
            ),
        ),
        (
            Method::PUT,
            "/api/v1/applications/{number}",
            "/api/v1/applications/ALM-2026-099999",
            Some(application),
        ),
        (
            Method::POST,
            "/api/v1/applications/{number}/status",
            "/api/v1/applications/ALM-2026-000137/status",
            Some(
                json!({"event_id": "evt-doc-1", "status": "in_review", "changed_at": "2026-11-30T10:00:00+05:00"}),
            ),
        ),
        (
            Method::POST,
            "/api/v1/applications/{number}/status",
            "/api/v1/applications/ALM-2026-000137/status",
            Some(
                json!({"event_id": "evt-doc-1", "status": "in_review", "changed_at": "2026-11-30T10:00:00+05:00"}),
            ),
        ),
        (
            Method::PUT,
            "/api/v1/referrals/{number}",
            "/api/v1/referrals/ALM-R-2026-9999",
            Some(referral),
        ),
        (
            Method::PUT,
            "/api/v1/children/{iin}/file",
            "/api/v1/children/210610511117/file",
            Some(file),
        ),
        (
            Method::POST,
            "/api/v1/children/{iin}/attendance",
            "/api/v1/children/210610511117/attendance",
            Some(json!({"records": [{"date": "2026-11-24", "status": "present"}]})),
        ),
        (
            Method::PUT,
            "/api/v1/announcements/{id}",
            "/api/v1/announcements/doc-1",
            Some(announcement.clone()),
        ),
        (
            Method::PUT,
            "/api/v1/announcements/{id}",
            "/api/v1/announcements/doc-1",
            Some(announcement),
        ),
        (
            Method::GET,
            "/api/v1/announcements/{id}",
            "/api/v1/announcements/doc-1",
            None,
        ),
        (
            Method::DELETE,
            "/api/v1/announcements/{id}",
            "/api/v1/announcements/doc-1",
            None,
        ),
        // Problems are answered as documented too.
        (
            Method::PUT,
            "/api/v1/localities/{code}",
            "/api/v1/localities/Bad%20Code",
            Some(json!({})),
        ),
        (
            Method::DELETE,
            "/api/v1/parents/{locality}/{iin}",
            "/api/v1/parents/almaty/861120343215",
            None,
        ),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for (method, route, path, body) in calls {
        let body = body.map(|b| b.to_string().into_bytes());
        let (status, content_type, answer) =
            p.raw(method.clone(), path, body, Some(API_TOKEN)).await;
        let schema = documented(&doc, &method.as_str().to_lowercase(), route, status);
        if let Err(difference) = conforms(&doc, schema, &answer, "body") {
            panic!("{method} {path} → {status} {content_type}: {difference}\n{answer}");
        }
        if status >= 400 {
            assert_eq!(content_type, "application/problem+json");
            assert!(
                answer["type"]
                    .as_str()
                    .unwrap()
                    .starts_with("/api/v1/problems/"),
                "{answer}"
            );
        }
        seen.insert((route, status));
    }
    // Every success answer the document names was seen.
    for (route, statuses) in [
        ("/api/v1/localities/{code}", &[200, 201][..]),
        ("/api/v1/applications/{number}/status", &[200, 201]),
        ("/api/v1/announcements/{id}", &[200, 201]),
    ] {
        for status in statuses {
            assert!(
                seen.contains(&(route, *status)),
                "{route} {status} not tried"
            );
        }
    }
}

/// A new application's body, with its own child and the demo parent of Almaty.
fn kindergarten_application_body() -> Value {
    json!({
        "locality": "almaty",
        "parent": {"iin": PARENT, "full_name": "Сейітова Айгерім Нұрланқызы", "phone": "+77011234567"},
        "child": {"iin": "230415500016", "full_name": "Сейітов Нұр Ерболұлы", "birth_date": "2023-04-15"},
        "kind": "kindergarten",
        "institutions": ["alm-ds-12"],
        "desired_date": "2027-09-01",
        "language": "kk",
        "submitted_at": "2026-11-01T09:00:00+05:00",
        "status": "submitted"
    })
}
