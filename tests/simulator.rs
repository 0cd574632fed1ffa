//! The simulator answers as Telegram does: shapes, checks, limits, faults.

use std::time::{Duration, Instant};

use kabinet::sim::{Fault, FaultKind, SimConfig, Simulator, TOKEN};
use serde_json::{Value, json};

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    fn new(sim: &Simulator) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: format!("{}bot{TOKEN}", sim.api_url()),
        }
    }

    async fn call(&self, method: &str, params: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/{method}", self.base))
            .json(&params)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    async fn send(&self, chat: i64, text: &str) -> (u16, Value) {
        self.call(
            "sendMessage",
            json!({"chat_id": chat, "text": text, "parse_mode": "HTML"}),
        )
        .await
    }
}

fn description(body: &Value) -> &str {
    body["description"].as_str().unwrap_or_default()
}

async fn sim() -> (Simulator, Api) {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let api = Api::new(&sim);
    (sim, api)
}

#[tokio::test]
async fn get_me_and_the_token() {
    let (sim, api) = sim().await;
    let (status, body) = api.call("getMe", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["is_bot"], true);
    let wrong = reqwest::get(format!("{}botWRONG/getMe", sim.api_url()))
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let (status, body) = api.call("sendPigeon", json!({})).await;
    assert_eq!((status, body["ok"].clone()), (404, json!(false)));
}

#[tokio::test]
async fn texts_are_checked_as_telegram_checks_them() {
    let (sim, api) = sim().await;
    sim.private_chat(1, "A", Some("kk"));
    let cases = [
        ("", "Bad Request: message text is empty"),
        (
            "<b>bold",
            "Can't find end tag corresponding to start tag \"b\"",
        ),
        ("<div>x</div>", "Unsupported start tag \"div\""),
        ("5 < 6", "Unexpected end of name token"),
        ("Робо & Код", "Character '&' is reserved"),
        ("<b>x</i>", "Unmatched end tag"),
    ];
    for (text, expected) in cases {
        let (status, body) = api.send(1, text).await;
        assert_eq!(status, 400, "{text}");
        assert!(
            description(&body).contains(expected),
            "{text}: {}",
            description(&body)
        );
    }
    let (status, body) = api.send(1, &"ж".repeat(4097)).await;
    assert_eq!(
        (status, description(&body)),
        (400, "Bad Request: message is too long")
    );
    // The limit counts what is visible, not the markup.
    let (status, _) = api.send(1, &format!("<b>{}</b>", "ж".repeat(4096))).await;
    assert_eq!(status, 200);
    let (status, body) = api.send(999, "hi").await;
    assert_eq!(
        (status, description(&body)),
        (400, "Bad Request: chat not found")
    );
}

#[tokio::test]
async fn buttons_are_checked() {
    let (sim, api) = sim().await;
    sim.private_chat(1, "A", None);
    for data in ["", &"x".repeat(65)] {
        let markup = json!({"inline_keyboard": [[{"text": "Go", "callback_data": data}]]});
        let (status, body) = api
            .call(
                "sendMessage",
                json!({"chat_id": 1, "text": "t", "reply_markup": markup}),
            )
            .await;
        assert_eq!(
            (status, description(&body)),
            (400, "Bad Request: BUTTON_DATA_INVALID")
        );
    }
    let markup = json!({"inline_keyboard": [[{"text": "Go", "callback_data": "x".repeat(64)}]]});
    let (status, _) = api
        .call(
            "sendMessage",
            json!({"chat_id": 1, "text": "t", "reply_markup": markup}),
        )
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn edits_deletes_and_callback_answers() {
    let (sim, api) = sim().await;
    let chat = sim.private_chat(1, "A", None);
    let (_, sent) = api.send(1, "one").await;
    let id = sent["result"]["message_id"].as_i64().unwrap();
    let (status, body) = api
        .call(
            "editMessageText",
            json!({"chat_id": 1, "message_id": id, "text": "one"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(description(&body).starts_with("Bad Request: message is not modified"));
    let (status, _) = api
        .call(
            "editMessageText",
            json!({"chat_id": 1, "message_id": id, "text": "two"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(chat.screen().unwrap().text, "two");
    let (status, body) = api
        .call(
            "editMessageText",
            json!({"chat_id": 1, "message_id": 777, "text": "x"}),
        )
        .await;
    assert_eq!(
        (status, description(&body)),
        (400, "Bad Request: message to edit not found")
    );
    let (status, _) = api
        .call("deleteMessage", json!({"chat_id": 1, "message_id": id}))
        .await;
    assert_eq!(status, 200);
    let (status, body) = api
        .call("deleteMessage", json!({"chat_id": 1, "message_id": id}))
        .await;
    assert_eq!(
        (status, description(&body)),
        (400, "Bad Request: message to delete not found")
    );
    assert!(
        chat.transcript()
            .iter()
            .any(|m| m.message_id == id && m.deleted)
    );

    let too_old =
        "Bad Request: query is too old and response timeout expired or query ID is invalid";
    let (_, body) = api
        .call("answerCallbackQuery", json!({"callback_query_id": "nope"}))
        .await;
    assert_eq!(description(&body), too_old);
    let markup = json!({"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]});
    let (_, sent) = api
        .call(
            "sendMessage",
            json!({"chat_id": 1, "text": "t", "reply_markup": markup}),
        )
        .await;
    let query = chat.press("Go").unwrap();
    assert_eq!(
        sent["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
        "go"
    );
    let (status, _) = api
        .call(
            "answerCallbackQuery",
            json!({"callback_query_id": query, "text": "ok"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(chat.callback_answer(&query), Some(Some("ok".into())));
    let (_, body) = api
        .call("answerCallbackQuery", json!({"callback_query_id": query}))
        .await;
    assert_eq!(description(&body), too_old, "answered twice");
    sim.set_callback_timeout(Duration::from_millis(10));
    let late = chat.press("Go").unwrap();
    tokio::time::sleep(Duration::from_millis(30)).await;
    let (_, body) = api
        .call("answerCallbackQuery", json!({"callback_query_id": late}))
        .await;
    assert_eq!(description(&body), too_old, "answered too late");
}

#[tokio::test]
async fn rate_limits_are_enforced_and_recorded() {
    let (sim, api) = sim().await;
    sim.private_chat(1, "A", None);
    sim.group_chat(-100, "Parents", 2, None);
    let mut statuses = Vec::new();
    for i in 0..5 {
        statuses.push(api.send(1, &format!("m{i}")).await.0);
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 429, 429],
        "a burst of three, then about one a second"
    );
    let (_, body) = api.send(1, "again").await;
    assert!(body["parameters"]["retry_after"].as_u64().unwrap() >= 1);
    let limits: Vec<(&str, i64)> = sim
        .violations()
        .iter()
        .map(|v| (v.limit, v.chat_id))
        .collect();
    assert_eq!(
        limits,
        [
            ("private chat: about 1 message per second", 1),
            ("sent before retry_after passed", 1),
            ("sent before retry_after passed", 1),
        ],
        "the fourth broke the chat's pace; the next two did not wait as told"
    );
    let group: Vec<u16> = futures::future::join_all((0..21).map(|_| api.send(-100, "g")))
        .await
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(
        group.iter().filter(|s| **s == 429).count(),
        1,
        "20 a minute in a group"
    );
    // Overall: 30 a second across chats.
    for chat in 10..50 {
        sim.private_chat(chat, "U", None);
    }
    let before = sim.violations().len();
    let overall: Vec<u16> = futures::future::join_all((10..50).map(|c| api.send(c, "hi")))
        .await
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert!(
        overall.iter().filter(|s| **s == 429).count() >= 10,
        "{overall:?}"
    );
    assert!(
        sim.violations()[before..]
            .iter()
            .any(|v| v.limit.starts_with("overall"))
    );
}

#[tokio::test]
async fn faults_can_be_injected() {
    let (sim, api) = sim().await;
    sim.private_chat(1, "A", None);
    sim.inject(
        Fault::new(FaultKind::ServerError(502))
            .on("sendMessage")
            .times(2),
    );
    assert_eq!(api.send(1, "a").await.0, 502);
    assert_eq!(api.send(1, "a").await.0, 502);
    assert_eq!(api.send(1, "a").await.0, 200);
    sim.inject(Fault::new(FaultKind::TooManyRequests(7)).in_chat(1));
    let (status, body) = api.send(1, "b").await;
    assert_eq!(
        (status, body["parameters"]["retry_after"].as_u64()),
        (429, Some(7))
    );
    sim.inject(Fault::new(FaultKind::Blocked).in_chat(1));
    let (status, body) = api.send(1, "c").await;
    assert_eq!(
        (status, description(&body)),
        (403, "Forbidden: bot was blocked by the user")
    );
    sim.inject(Fault::new(FaultKind::Slow(Duration::from_millis(300))).on("getMe"));
    let started = Instant::now();
    assert_eq!(api.call("getMe", json!({})).await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn long_polling_offsets_and_filters() {
    let (sim, api) = sim().await;
    let chat = sim.private_chat(1, "A", Some("kk"));
    let started = Instant::now();
    let (_, empty) = api.call("getUpdates", json!({"timeout": 1})).await;
    assert_eq!(empty["result"], json!([]));
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "a long poll waits"
    );
    let waiting = tokio::spawn({
        let api = Api {
            http: api.http.clone(),
            base: api.base.clone(),
        };
        async move { api.call("getUpdates", json!({"timeout": 5})).await }
    });
    within(Duration::from_secs(5), || sim.polls_waiting() == 1).await;
    chat.send_text("/start");
    let (_, body) = waiting.await.unwrap();
    let update = &body["result"][0];
    assert_eq!(update["message"]["text"], "/start");
    assert_eq!(update["message"]["from"]["language_code"], "kk");
    assert_eq!(update["message"]["entities"][0]["type"], "bot_command");
    let first = update["update_id"].as_i64().unwrap();
    chat.send_sticker();
    chat.block_bot();
    let (_, body) = api
        .call(
            "getUpdates",
            json!({"offset": first + 1, "allowed_updates": ["message"]}),
        )
        .await;
    let updates = body["result"].as_array().unwrap();
    assert_eq!(updates.len(), 1, "confirmed and filtered: {updates:?}");
    assert!(updates[0]["message"]["sticker"].is_object());
    let (_, body) = api
        .call(
            "getUpdates",
            json!({"offset": first + 2, "allowed_updates": ["my_chat_member"]}),
        )
        .await;
    assert_eq!(
        body["result"][0]["my_chat_member"]["new_chat_member"]["status"],
        "kicked"
    );
    let (status, _) = api.send(1, "still there?").await;
    assert_eq!(status, 403, "a blocked chat refuses messages");
}

#[tokio::test]
async fn commands_per_language() {
    let (sim, api) = sim().await;
    let commands = json!([{"command": "start", "description": "Бастау"}]);
    let (status, _) = api
        .call(
            "setMyCommands",
            json!({"commands": commands, "language_code": "kk"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        sim.commands(Some("kk")),
        vec![("start".to_owned(), "Бастау".to_owned())]
    );
    assert!(sim.commands(Some("ru")).is_empty());
    let bad = json!([{"command": "Start!", "description": "x"}]);
    let (status, body) = api.call("setMyCommands", json!({"commands": bad})).await;
    assert_eq!(
        (status, description(&body)),
        (400, "Bad Request: BOT_COMMAND_INVALID")
    );
    let (_, body) = api
        .call("getMyCommands", json!({"language_code": "kk"}))
        .await;
    assert_eq!(body["result"], commands);
}

/// Waits until `done` holds, failing after `deadline`.
async fn within(deadline: Duration, done: impl Fn() -> bool) {
    let until = Instant::now() + deadline;
    while !done() {
        assert!(
            Instant::now() < until,
            "the condition did not come within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn the_overall_limit_counts_a_sliding_second() {
    let (sim, api) = sim().await;
    for chat in 1..=40 {
        sim.private_chat(chat, "U", None);
    }
    let first = Instant::now();
    let burst: Vec<u16> = futures::future::join_all((1..=30).map(|c| api.send(c, "a")))
        .await
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert!(burst.iter().all(|s| *s == 200), "{burst:?}");
    // Half a second later a bucket refilled at 30 a second would take 15 more; Telegram
    // counts the last whole second, which still holds the 30.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, body) = api.send(31, "b").await;
    assert_eq!(
        (status, body["parameters"]["retry_after"].as_u64()),
        (429, Some(1))
    );
    assert_eq!(
        sim.violations().last().map(|v| v.limit),
        Some("overall: messages in a sliding second")
    );
    tokio::time::sleep_until((first + Duration::from_millis(1100)).into()).await;
    assert_eq!(api.send(32, "c").await.0, 200, "the second has passed");
}

#[tokio::test]
async fn a_send_before_retry_after_is_refused_and_recorded() {
    let (sim, api) = sim().await;
    sim.private_chat(1, "A", None);
    sim.private_chat(2, "B", None);
    sim.inject(
        Fault::new(FaultKind::TooManyRequests(3))
            .on("sendMessage")
            .in_chat(1),
    );
    assert_eq!(api.send(1, "a").await.0, 429);
    assert!(
        sim.violations().is_empty(),
        "an injected refusal is no violation"
    );
    let (status, body) = api.send(1, "too soon").await;
    assert_eq!(
        (status, body["parameters"]["retry_after"].as_u64()),
        (429, Some(3))
    );
    assert_eq!(
        sim.violations().last().map(|v| (v.limit, v.chat_id)),
        Some(("sent before retry_after passed", 1))
    );
    assert_eq!(api.send(2, "b").await.0, 200, "other chats are not held");
}

#[tokio::test]
async fn a_second_poll_ends_the_first_with_409() {
    let (sim, api) = sim().await;
    let api = std::sync::Arc::new(api);
    let first = tokio::spawn({
        let api = api.clone();
        async move { api.call("getUpdates", json!({"timeout": 10})).await }
    });
    within(Duration::from_secs(5), || sim.polls_waiting() == 1).await;
    let (status, body) = api.call("getUpdates", json!({"timeout": 0})).await;
    assert_eq!((status, &body["result"]), (200, &json!([])));
    let (status, body) = first.await.unwrap();
    assert_eq!(
        (status, description(&body)),
        (
            409,
            "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
        )
    );
}

#[tokio::test]
async fn a_fault_can_hit_one_request_in_n() {
    // Without rate limits: this test is about faults, not the chat's pace.
    let sim = Simulator::start(SimConfig {
        rate_limits: false,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let api = Api::new(&sim);
    sim.private_chat(1, "A", None);
    sim.inject(
        Fault::new(FaultKind::ServerError(500))
            .on("sendMessage")
            .one_in(3)
            .times(2),
    );
    let mut statuses = Vec::new();
    for i in 0..8 {
        statuses.push(api.send(1, &format!("m{i}")).await.0);
    }
    assert_eq!(statuses, [200, 200, 500, 200, 200, 500, 200, 200]);
}

/// A POST as the receiver saw it: (which receiver, update id, chat, secret header).
type Seen = (u16, i64, i64, Option<String>);

/// A stand-in for a bot's webhook server: records each POST (and how many were in hand at
/// once), answers 500 to the first try of `fail_once`, else 200 after a short pause.
#[derive(Clone, Default)]
struct Receiver {
    seen: std::sync::Arc<std::sync::Mutex<Vec<Seen>>>,
    in_hand: std::sync::Arc<std::sync::Mutex<(usize, usize, std::collections::HashSet<i64>)>>,
    fail_once: std::sync::Arc<std::sync::Mutex<Option<i64>>>,
    /// The same chat posted twice at once.
    overlap: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Receiver {
    async fn start(&self, port_tag: u16) -> std::net::SocketAddr {
        use axum::http::HeaderMap;
        let me = self.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let me = me.clone();
                async move {
                    let update: Value = serde_json::from_slice(&body).unwrap();
                    let id = update["update_id"].as_i64().unwrap();
                    let chat = update["message"]["chat"]["id"].as_i64().unwrap();
                    {
                        let mut h = me.in_hand.lock().unwrap();
                        h.0 += 1;
                        h.1 = h.1.max(h.0);
                        if !h.2.insert(chat) {
                            me.overlap.store(true, std::sync::atomic::Ordering::SeqCst);
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(40)).await;
                    let fail = {
                        let mut f = me.fail_once.lock().unwrap();
                        if *f == Some(id) {
                            *f = None;
                            true
                        } else {
                            false
                        }
                    };
                    let status = if fail { 500 } else { 200 };
                    let secret = headers
                        .get("x-telegram-bot-api-secret-token")
                        .map(|v| v.to_str().unwrap().to_owned());
                    me.seen.lock().unwrap().push((port_tag, id, chat, secret));
                    {
                        let mut h = me.in_hand.lock().unwrap();
                        h.0 -= 1;
                        h.2.remove(&chat);
                    }
                    axum::http::StatusCode::from_u16(status).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    }
}

#[tokio::test]
async fn set_webhook_is_checked_and_getupdates_then_conflicts() {
    let (sim, api) = sim().await;
    let refused = [
        (
            json!({"url": "http://kabinet.example.kz/hook"}),
            "An HTTPS URL must be provided",
        ),
        (
            json!({"url": "https://kabinet.example.kz:8080/hook"}),
            "ports 80, 88, 443 or 8443",
        ),
        (
            json!({"url": "https://kabinet.example.kz/hook", "secret_token": "a b"}),
            "unallowed characters",
        ),
        (
            json!({"url": "https://kabinet.example.kz/hook", "max_connections": 101}),
            "max_connections",
        ),
    ];
    for (params, why) in refused {
        let (status, body) = api.call("setWebhook", params.clone()).await;
        assert_eq!(status, 400, "{params}");
        assert!(description(&body).contains(why), "{params}: {body}");
    }
    let (status, _) = api
        .call(
            "setWebhook",
            json!({"url": "https://kabinet.example.kz/hook", "secret_token": "s-1"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = api.call("getUpdates", json!({"timeout": 0})).await;
    assert_eq!(status, 409);
    assert!(description(&body).contains("can't use getUpdates method while webhook is active"));
    let (_, info) = api.call("getWebhookInfo", json!({})).await;
    assert_eq!(info["result"]["url"], "https://kabinet.example.kz/hook");
    assert_eq!(info["result"]["max_connections"], 40);
    let (status, _) = api.call("deleteWebhook", json!({})).await;
    assert_eq!(status, 200);
    let (status, _) = api.call("getUpdates", json!({"timeout": 0})).await;
    assert_eq!(status, 200);
    assert!(sim.webhook().is_none());
}

#[tokio::test]
async fn webhooks_go_in_parallel_one_per_chat_in_order_and_failures_are_retried() {
    let (sim, api) = sim().await;
    let receiver = Receiver::default();
    let (a, b) = (receiver.start(1).await, receiver.start(2).await);
    sim.route_webhook(vec![a, b]);
    // Six chats write three messages each before the webhook is set.
    let chats: Vec<_> = (1..=6)
        .map(|c| sim.private_chat(c, "P", Some("kk")))
        .collect();
    for round in 0..3 {
        for chat in &chats {
            chat.send_text(&format!("m{round}"));
        }
    }
    // The first update of chat 2 (update 2) fails once: chat 2 waits, the others do not.
    *receiver.fail_once.lock().unwrap() = Some(2);
    let (status, _) = api
        .call(
            "setWebhook",
            json!({"url": "https://kabinet.example.kz/hook", "secret_token": "s-1", "max_connections": 3}),
        )
        .await;
    assert_eq!(status, 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    while sim.pending_updates() > 0 {
        assert!(Instant::now() < deadline, "every update delivered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seen = receiver.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 19, "18 updates, one of them twice: {seen:?}");
    assert!(
        seen.iter().all(|(_, _, _, s)| s.as_deref() == Some("s-1")),
        "the secret header"
    );
    let (most, _, _) = *receiver.in_hand.lock().unwrap();
    assert_eq!(most, 0);
    let peak = receiver.in_hand.lock().unwrap().1;
    assert!(
        (2..=3).contains(&peak),
        "in parallel, up to max_connections: {peak}"
    );
    assert!(
        !receiver.overlap.load(std::sync::atomic::Ordering::SeqCst),
        "never two updates of one chat at once"
    );
    for chat in 1..=6 {
        let ids: Vec<i64> = seen.iter().filter(|s| s.2 == chat).map(|s| s.1).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted, "chat {chat} in update order");
    }
    let chat2: Vec<i64> = seen.iter().filter(|s| s.2 == 2).map(|s| s.1).collect();
    assert_eq!(
        chat2[..2],
        [2, 2],
        "the failed update went again before the chat's next"
    );
    assert!(
        seen.iter().any(|s| s.0 == 1) && seen.iter().any(|s| s.0 == 2),
        "both backends"
    );
    let posts = sim.webhook_posts();
    assert_eq!(posts.iter().filter(|p| p.status == Some(500)).count(), 1);
    let (_, info) = api.call("getWebhookInfo", json!({})).await;
    assert_eq!(info["result"]["pending_update_count"], 0);
    assert!(
        description(&json!({"description": info["result"]["last_error_message"]})).contains("500")
    );
}
