//! Webhook mode (SPEC §8, TELEGRAM.md): with `WEBHOOK_URL` set, Kabinet sets the webhook with
//! its secret, the allowed updates and `max_connections`, serves Telegram's POSTs on
//! `WEBHOOK_LISTEN`, answers 2xx only once an update is handled, handles a retried update
//! once, refuses a wrong secret (401) and a malformed body (400, its content never logged),
//! answers 503 while stopping, and never deletes the webhook.
//!
//! Its own test binary: it captures every log line of the process.

mod common;

use std::time::Duration;

use common::TestBot;
use kabinet::domain::Language;
use kabinet::sim::{Fault, FaultKind};
use serde_json::{Value, json};

const AIGERIM: &str = "900315412348";
const SECRET: &str = "kabinet-webhook-Secret_2026-0123456789";
const HOOK_URL: &str = "https://kabinet.example.kz/telegram/webhook";

const WEBHOOK: &[(&str, &str)] = &[
    ("WEBHOOK_URL", HOOK_URL),
    ("WEBHOOK_SECRET", SECRET),
    ("WEBHOOK_LISTEN", "127.0.0.1:0"),
    ("WEBHOOK_MAX_CONNECTIONS", "8"),
];

bot_stories! {
    with super::WEBHOOK;
    the_webhook_is_set_and_a_parent_goes_through_the_cabinet,
    a_wrong_secret_and_a_malformed_body_are_refused,
    a_wrong_secret_is_refused_before_the_body_is_read,
    an_update_posted_twice_is_handled_once,
    a_stopping_replica_answers_503_and_keeps_the_webhook,
}

/// A message update from private chat `chat`, as Telegram posts it.
fn text_update(update_id: i64, chat: i64, text: &str) -> Value {
    json!({
        "update_id": update_id,
        "message": {
            "message_id": update_id, "date": 1_764_000_000, "text": text,
            "chat": {"id": chat, "type": "private", "first_name": "Ата-ана"},
            "from": {"id": chat, "is_bot": false, "first_name": "Ата-ана", "language_code": "kk"},
            "entities": if text.starts_with('/') {
                json!([{"type": "bot_command", "offset": 0, "length": text.len()}])
            } else { json!([]) },
        }
    })
}

/// POSTs `body` to the bot's webhook server as Telegram would, with `secret` (if any).
async fn post(t: &TestBot, secret: Option<&str>, body: &str) -> u16 {
    let url = format!("http://{}/telegram/webhook", t.webhook_addr());
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(secret) = secret {
        request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
    }
    request
        .send()
        .await
        .expect("the webhook answers")
        .status()
        .as_u16()
}

async fn the_webhook_is_set_and_a_parent_goes_through_the_cabinet(t: &mut TestBot) {
    let set: Vec<Value> = t
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method.eq_ignore_ascii_case("setWebhook"))
        .map(|r| r.params)
        .collect();
    assert_eq!(set.len(), 1, "set once, at start");
    assert_eq!(set[0]["url"], HOOK_URL);
    assert_eq!(set[0]["secret_token"], SECRET);
    assert_eq!(set[0]["max_connections"], 8);
    assert_eq!(
        set[0]["allowed_updates"],
        json!(["message", "callback_query", "my_chat_member"])
    );
    assert_eq!(t.sim.webhook_info()["url"], HOOK_URL);

    // A parent starts, and a logged-in parent walks the cabinet: every answer came
    // through the webhook.
    let mut newcomer = t.sim.private_chat(900, "Жаңа", Some("kk"));
    newcomer.send_text("/start");
    let greeting = newcomer.next().await.unwrap();
    assert!(
        greeting.text.starts_with("Сәлеметсіз бе!"),
        "{}",
        greeting.text
    );
    let (mut chat, menu) = t.logged_in(901, Language::Kk, "almaty", AIGERIM).await;
    assert!(menu.text.contains("Жеке кабинет"), "{}", menu.text);
    chat.press("📝 Менің өтініштерім").unwrap();
    let list = chat.next().await.unwrap();
    assert!(list.text.contains("ALM-2026-000137"), "{}", list.text);
    chat.press("‹ Артқа").unwrap();
    let back = chat.next().await.unwrap();
    assert!(back.text.contains("Жеке кабинет"), "{}", back.text);

    // The last answer may reach the chat a moment before the bot's 200 reaches Telegram.
    let sim = t.sim.clone();
    common::wait_until("every update delivered", Duration::from_secs(5), || {
        let sim = sim.clone();
        async move { sim.pending_updates() == 0 }
    })
    .await;
    let posts = t.sim.webhook_posts();
    assert_eq!(posts.len(), 4, "{posts:?}");
    assert!(
        posts.iter().all(|p| p.status == Some(200)),
        "every update was answered 200: {posts:?}"
    );
    let polls = t
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method.eq_ignore_ascii_case("getUpdates"))
        .count();
    assert_eq!(polls, 0, "no long polling in webhook mode");
}

async fn a_wrong_secret_and_a_malformed_body_are_refused(t: &mut TestBot) {
    let logs = common::captured_logs();
    let mut chat = t.sim.private_chat(910, "Parent", Some("kk"));
    let start = text_update(1_000_001, 910, "/start").to_string();
    assert_eq!(post(t, None, &start).await, 401, "no secret");
    assert_eq!(
        post(t, Some("kabinet-webhook-Secret_2025"), &start).await,
        401
    );
    assert_eq!(post(t, Some(""), &start).await, 401);
    assert!(
        chat.next_within(Duration::from_millis(300)).await.is_err(),
        "nothing was handled"
    );
    // Not an update: refused, and the parent's words are not in the log.
    let malformed =
        r#"{"update_id": "x", "message": {"text": "ЖСН 900315412348, тел +77011234545"}}"#;
    assert_eq!(post(t, Some(SECRET), malformed).await, 400);
    assert_eq!(post(t, Some(SECRET), "{not json").await, 400);
    let logged = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(
        logged.contains("not an update was refused"),
        "the refusal is logged"
    );
    for secret in ["900315412348", "77011234545", SECRET] {
        assert!(!logged.contains(secret), "{secret} leaked into the log");
    }
    // The real update, with the secret, is handled and answered 200.
    assert_eq!(post(t, Some(SECRET), &start).await, 200);
    let greeting = chat.next().await.unwrap();
    assert!(
        greeting.text.starts_with("Сәлеметсіз бе!"),
        "{}",
        greeting.text
    );
}

async fn a_wrong_secret_is_refused_before_the_body_is_read(t: &mut TestBot) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A stranger announces a megabyte and sends none of it: the answer comes from the
    // headers alone. (A server that read the body first would wait for it.)
    let mut stream = tokio::net::TcpStream::connect(t.webhook_addr())
        .await
        .unwrap();
    stream
        .write_all(
            b"POST /telegram/webhook HTTP/1.1\r\nHost: kabinet\r\n\
              Content-Type: application/json\r\nContent-Length: 1000000\r\n\
              X-Telegram-Bot-Api-Secret-Token: not-the-secret\r\n\r\n",
        )
        .await
        .unwrap();
    let mut answer = vec![0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("answered without the body")
        .unwrap();
    let status_line = String::from_utf8_lossy(&answer[..read]).into_owned();
    assert!(status_line.starts_with("HTTP/1.1 401"), "{status_line}");
}

async fn an_update_posted_twice_is_handled_once(t: &mut TestBot) {
    let mut chat = t.sim.private_chat(920, "Parent", Some("kk"));
    let start = text_update(2_000_001, 920, "/start").to_string();
    // Telegram's retry of an update it got no answer for: the same update, twice at once
    // and once more later.
    let (a, b) = tokio::join!(post(t, Some(SECRET), &start), post(t, Some(SECRET), &start));
    assert_eq!((a, b), (200, 200));
    assert_eq!(post(t, Some(SECRET), &start).await, 200);
    let answers = chat.settle(Duration::from_millis(500)).await;
    assert_eq!(answers.len(), 1, "one greeting: {answers:?}");
    let marked = t
        .storage()
        .fetch_i64("SELECT last_update_id FROM chat_updates WHERE chat_id = 920")
        .await
        .unwrap();
    assert_eq!(marked, 2_000_001);
    // The next update of the chat is handled as usual.
    let help = text_update(2_000_002, 920, "/help").to_string();
    assert_eq!(post(t, Some(SECRET), &help).await, 200);
    assert_eq!(chat.settle(Duration::from_millis(300)).await.len(), 1);
}

async fn a_stopping_replica_answers_503_and_keeps_the_webhook(t: &mut TestBot) {
    let mut chat = t.sim.private_chat(930, "Parent", Some("kk"));
    let mut other = t.sim.private_chat(931, "Parent", Some("kk"));
    // The greeting takes over a second to send: the update is in hand when the stop begins.
    t.sim.inject(
        Fault::new(FaultKind::Slow(Duration::from_millis(1500)))
            .on("sendMessage")
            .in_chat(930),
    );
    let addr = t.webhook_addr();
    let send = move |body: String| async move {
        reqwest::Client::new()
            .post(format!("http://{addr}/telegram/webhook"))
            .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map(|r| r.status().as_u16())
    };
    let first = tokio::spawn(send(text_update(3_000_001, 930, "/start").to_string()));
    let storage = t.storage().clone();
    common::wait_until(
        "the first update is in hand",
        Duration::from_secs(10),
        || {
            let storage = storage.clone();
            async move {
                storage
                    .fetch_i64("SELECT COUNT(*) FROM chats WHERE chat_id = 930")
                    .await
                    .unwrap()
                    == 1
            }
        },
    )
    .await;
    // Another chat's update, posted again and again (as Telegram retries): 200 while the
    // replica runs, then 503 once it is stopping, until it has gone.
    let probe = tokio::spawn(async move {
        let mut seen = Vec::new();
        for _ in 0..500 {
            match send(text_update(3_000_002, 931, "/help").to_string()).await {
                Ok(status) => seen.push(status),
                Err(_) => break,
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        seen
    });
    let help = other.next().await.unwrap();
    assert!(help.text.contains("/start"), "{}", help.text);
    t.stop_services().await;
    assert_eq!(
        first
            .await
            .unwrap()
            .expect("the update in hand is answered"),
        200
    );
    let seen = probe.await.unwrap();
    assert!(seen.contains(&200), "{seen:?}");
    assert!(seen.contains(&503), "refused while stopping: {seen:?}");
    assert!(seen.iter().all(|s| [200, 503].contains(s)), "{seen:?}");
    let greeting = chat.next().await.unwrap();
    assert!(
        greeting.text.starts_with("Сәлеметсіз бе!"),
        "{}",
        greeting.text
    );
    assert_eq!(
        other.settle(Duration::from_millis(200)).await,
        vec![],
        "handled once"
    );
    let deleted = t
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method.eq_ignore_ascii_case("deleteWebhook"))
        .count();
    assert_eq!(deleted, 0, "a stopping replica never deletes the webhook");
    assert_eq!(t.sim.webhook_info()["url"], HOOK_URL);
    t.restart().await;
}
