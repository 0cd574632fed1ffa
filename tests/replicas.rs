//! Three replicas on one PostgreSQL, one of them killed mid-load (SPEC §8).
//!
//! Three `kabinet run` processes in webhook mode behind the simulator's load balancer; 200
//! parents press through their cabinets while the portal posts 1,000 status changes through
//! the three APIs in turn. Midway the replica sending the pushes is killed with SIGKILL.
//!
//! Asserted: every press answered exactly once and in order per chat — also the presses
//! the killed replica had in hand, which Telegram retries elsewhere (the answer rides on the
//! webhook's HTTP answer, and a screen cut short is drawn anew rather than edited twice);
//! no refusal from Telegram and no rate limit broken; every push delivered and recorded
//! sent, another replica taking the sender over within seconds and sending what the dead
//! one had claimed. A push the dead sender had handed to Telegram but not yet recorded is
//! sent again — never lost, and never more than the deliveries it held at the kill.
//!
//! PostgreSQL only: several processes on one SQLite file is not a deployment Kabinet has.

mod common;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use common::TestDb;
use futures::future::join_all;
use kabinet::domain::{Iin, Language, Sex};
use kabinet::sim::{ChatHandle, SimConfig, Simulator};
use serde_json::json;

const CHATS: usize = 200;
const CHANGES_PER_APPLICATION: usize = 5;
const PRESSES: usize = 6;
const API_TOKEN: &str = "replica-test-api-token-0123456789";
const SECRET: &str = "replica-webhook-secret-0123456789abcdef";
const HOOK_URL: &str = "https://kabinet.example.kz/telegram/webhook";
/// Paid broadcasts: the 1,000 pushes take seconds, not a minute.
const GLOBAL_RATE: u32 = 300;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Replica {
    child: Child,
    webhook: SocketAddr,
    api: SocketAddr,
}

/// A replica that outlives a failed test is killed with it.
impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_replica(sim: &Simulator, db: &TestDb, dir: &std::path::Path) -> Replica {
    let webhook: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let api: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_kabinet"))
        .arg("run")
        .current_dir(dir)
        .env("BOT_TOKEN", kabinet::sim::TOKEN)
        .env("TELEGRAM_API_URL", sim.api_url().as_str())
        .env("TELEGRAM_GLOBAL_RATE", GLOBAL_RATE.to_string())
        .env("DATABASE_URL", &db.url)
        // Three replicas and this test within PostgreSQL's default 100 connections: each
        // replica holds up to 8 + 16 (turns) + 3 (sender, listener, standby).
        .env("DATABASE_MAX_CONNECTIONS", "8")
        .env("CODE_SECRET", "code-secret-for-this-test-0123456789")
        .env("WEBHOOK_URL", HOOK_URL)
        .env("WEBHOOK_SECRET", SECRET)
        .env("WEBHOOK_LISTEN", webhook.to_string())
        .env("WEBHOOK_MAX_CONNECTIONS", "16")
        .env("API_TOKEN", API_TOKEN)
        .env("API_LISTEN", api.to_string())
        .env("ADMIN_LISTEN", "127.0.0.1:0")
        .env("REFERRAL_REMINDER_HOURS", "1")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("kabinet starts");
    Replica {
        child,
        webhook,
        api,
    }
}

/// Waits until the replica's API answers (it starts after the webhook is set).
async fn ready(replica: &Replica) {
    // The API opens once the bot has set its webhook; any answer will do.
    let url = format!("http://{}/api/v1/openapi.json", replica.api);
    common::wait_until("the replica is up", Duration::from_secs(30), || {
        let url = url.clone();
        async move { reqwest::get(&url).await.is_ok() }
    })
    .await;
}

/// Parent `i`'s IIN, and their child's IIN and birth date.
fn family(i: usize) -> (Iin, Iin, NaiveDate) {
    let valid = common::valid_iin;
    let parent = NaiveDate::from_ymd_opt(1982, 1, 1).unwrap() + chrono::Days::new(i as u64);
    let child = NaiveDate::from_ymd_opt(2021, 1, 1).unwrap() + chrono::Days::new(i as u64);
    (valid(parent, Sex::Female), valid(child, Sex::Male), child)
}

fn number(i: usize) -> String {
    format!("REP-2026-{i:04}")
}

/// 200 cabinets with one application each, each logged into from its own chat.
async fn families(db: &TestDb, sim: &Simulator) -> Vec<ChatHandle> {
    let mut chats = Vec::new();
    for i in 0..CHATS {
        let (parent, child, birth) = family(i);
        let application = common::kindergarten_application(&number(i), &parent, &child, birth);
        db.storage
            .upsert_application(&application, common::demo_now())
            .await
            .unwrap();
        let chat = common::log_in_directly(
            &db.storage,
            sim,
            60_000 + i as i64,
            Language::Kk,
            "almaty",
            parent.as_str(),
        )
        .await;
        chats.push(chat);
    }
    chats
}

/// A parent opens the menu: a new message (the load after it is button presses, answered by
/// editing the screen).
async fn open_menu(chat: &mut ChatHandle, sim: &Simulator) {
    chat.send_text("/menu");
    let menu = match chat.next().await {
        Ok(menu) => menu,
        Err(why) => {
            let posts: Vec<_> = sim
                .webhook_posts()
                .into_iter()
                .filter(|p| p.chat_id == Some(chat.chat_id()))
                .collect();
            panic!(
                "{why}; its posts: {posts:?}; pending {}; info {}",
                sim.pending_updates(),
                sim.webhook_info()
            );
        }
    };
    assert!(menu.text.contains("Жеке кабинет"), "{}", menu.text);
}

/// A parent: the applications and back, again and again. Returns the callback ids pressed,
/// in order.
async fn press_through(chat: ChatHandle) -> Result<(i64, Vec<String>), String> {
    let mut pressed = Vec::new();
    for step in 0..PRESSES {
        let label = if step % 2 == 0 {
            "📝 Менің өтініштерім"
        } else {
            "‹ Артқа"
        };
        // The button appears once the previous press is shown.
        let deadline = Instant::now() + Duration::from_secs(60);
        let id = loop {
            match chat.press(label) {
                Ok(id) => break id,
                Err(why) => {
                    if Instant::now() > deadline {
                        return Err(format!("chat {}: {why}", chat.chat_id()));
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while chat.callback_answer(&id).is_none() {
            if Instant::now() > deadline {
                return Err(format!(
                    "chat {}: press {step} ({id}) unanswered",
                    chat.chat_id()
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        pressed.push(id);
    }
    Ok((chat.chat_id(), pressed))
}

/// The portal: 1,000 status changes, five per application, through the three APIs in turn.
async fn post_changes(apis: Vec<SocketAddr>) {
    let client = reqwest::Client::new();
    let statuses = ["in_review", "queued", "queued", "queued", "queued"];
    let posts = (0..CHANGES_PER_APPLICATION).flat_map(|k| {
        let client = client.clone();
        let apis = apis.clone();
        (0..CHATS).map(move |i| {
            let api = apis[(k * CHATS + i) % apis.len()];
            let body = json!({
                "event_id": format!("rep-{i}-{k}"),
                "status": statuses[k],
                "changed_at": (chrono::Utc::now() + chrono::Duration::seconds(k as i64)).to_rfc3339(),
                "queue_position": 100 - k as i64,
            });
            let client = client.clone();
            let apis = apis.clone();
            async move {
                // A replica killed meanwhile refuses the connection: the portal tries the
                // next one, as its own retry would.
                for attempt in 0..apis.len() * 3 {
                    let api = if attempt == 0 { api } else { apis[attempt % apis.len()] };
                    let sent = client
                        .post(format!("http://{api}/api/v1/applications/{}/status", number(i)))
                        .bearer_auth(API_TOKEN)
                        .json(&body)
                        .send()
                        .await;
                    if let Ok(response) = sent
                        && response.status().is_success()
                    {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                panic!("status change rep-{i}-{k} never taken");
            }
        })
    });
    // Fifty at a time: a portal posting steadily, not all at once.
    let posts: Vec<_> = posts.collect();
    let mut posts = posts.into_iter();
    loop {
        let batch: Vec<_> = posts.by_ref().take(50).collect();
        if batch.is_empty() {
            break;
        }
        join_all(batch).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_serve_one_bot_through_a_sigkill() {
    let Some(db) = TestDb::postgres().await else {
        eprintln!("TEST_DATABASE_URL is not set: the replica test needs PostgreSQL");
        return;
    };
    common::within_time(three_replicas(db)).await;
}

async fn three_replicas(db: TestDb) {
    kabinet::demo::load(&db.storage, common::demo_now())
        .await
        .unwrap();
    let sim = Simulator::start(SimConfig {
        rate_limits: true,
        global_per_sec: GLOBAL_RATE,
    })
    .await
    .unwrap();
    let chats = families(&db, &sim).await;
    let dir = tempfile::tempdir().unwrap();
    // The first replica up takes the sender's lock; the others stand by.
    let mut replicas = vec![spawn_replica(&sim, &db, dir.path())];
    ready(&replicas[0]).await;
    for _ in 0..2 {
        replicas.push(spawn_replica(&sim, &db, dir.path()));
    }
    for replica in &replicas[1..] {
        ready(replica).await;
    }
    sim.route_webhook(replicas.iter().map(|r| r.webhook).collect());
    let apis: Vec<SocketAddr> = replicas.iter().map(|r| r.api).collect();

    // Every parent at the menu first: 200 new messages from three replicas, whose answers
    // each replica paces on its own (only the pushes have one pacer for the deployment).
    let mut chats = chats;
    join_all(chats.iter_mut().map(|c| open_menu(c, &sim))).await;
    let parents = tokio::spawn(join_all(chats.into_iter().map(press_through)));
    let portal = tokio::spawn(post_changes(apis));

    // Midway — pushes going out, parents pressing — the sender's replica dies.
    let pushes_sent = |sim: &Simulator| {
        sim.requests()
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case("sendMessage") && r.status == 200)
            .filter(|r| {
                r.params["text"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("REP-")
            })
            .count()
    };
    common::wait_until("half the pushes sent", Duration::from_secs(120), || {
        let sent = pushes_sent(&sim);
        async move { sent >= 500 }
    })
    .await;
    let killed_at = Instant::now();
    let claimed_at_kill = db
        .storage
        .fetch_i64("SELECT COUNT(*) FROM deliveries WHERE state = 'sending'")
        .await
        .unwrap();
    let mut killed = replicas.remove(0);
    killed.child.kill().unwrap();
    killed.child.wait().unwrap();
    // The next push after the kill: another replica has taken the sender over.
    let before = pushes_sent(&sim);
    common::wait_until(
        "another replica sends the pushes",
        Duration::from_secs(30),
        || {
            let sent = pushes_sent(&sim);
            async move { sent > before }
        },
    )
    .await;
    let takeover = killed_at.elapsed();

    portal.await.expect("every status change taken");
    let pressed: Vec<(i64, Vec<String>)> = match parents
        .await
        .unwrap()
        .into_iter()
        .collect::<Result<Vec<_>, String>>()
    {
        Ok(pressed) => pressed,
        Err(why) => {
            let chat: i64 = why[5..why.find(':').unwrap()].parse().unwrap();
            let posts: Vec<_> = sim
                .webhook_posts()
                .into_iter()
                .filter(|p| p.chat_id == Some(chat))
                .map(|p| {
                    (
                        p.update_id,
                        p.target,
                        p.status,
                        p.at.checked_duration_since(killed_at),
                    )
                })
                .collect();
            panic!(
                "{why}\nposts of the chat: {posts:#?}\npending: {}, killed: {}",
                sim.pending_updates(),
                killed.webhook
            );
        }
    };
    common::wait_for_count(
        &db.storage,
        "SELECT COUNT(*) FROM deliveries WHERE state = 'sent'",
        (CHATS * CHANGES_PER_APPLICATION) as i64,
        Duration::from_secs(120),
    )
    .await;
    let unsent = db
        .storage
        .fetch_i64("SELECT COUNT(*) FROM deliveries WHERE state <> 'sent'")
        .await
        .unwrap();
    drop(replicas);

    // What the killed replica had in hand: POSTs to it that got no answer.
    let cut: HashSet<i64> = sim
        .webhook_posts()
        .iter()
        .filter(|p| p.target.contains(&killed.webhook.to_string()) && p.status.is_none())
        .filter(|p| {
            p.at.checked_duration_since(killed_at)
                .is_none_or(|after| after < Duration::from_millis(100))
        })
        .map(|p| p.update_id)
        .collect();
    let requests = sim.requests();
    // Each press answered once, in press order; a press cut by the kill may have been
    // answered by the dead replica and again by the one that took its retry.
    let mut answers: HashMap<String, usize> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for r in &requests {
        if r.method.eq_ignore_ascii_case("answerCallbackQuery") && r.status == 200 {
            let id = r.params["callback_query_id"].as_str().unwrap().to_owned();
            *answers.entry(id.clone()).or_default() += 1;
            order.push(id);
        }
    }
    let position: HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .rev()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    for (chat, presses) in &pressed {
        assert_eq!(presses.len(), PRESSES);
        let at: Vec<usize> = presses.iter().map(|id| position[id.as_str()]).collect();
        assert!(
            at.windows(2).all(|w| w[0] < w[1]),
            "chat {chat} answered in order"
        );
        for id in presses {
            assert_eq!(answers[id], 1, "chat {chat}: press {id} answered once");
        }
    }
    assert_eq!(sim.unanswered_callbacks(), 0);
    let refused: Vec<(String, String)> = requests
        .iter()
        .filter(|r| r.status == 400 || r.status == 429)
        .map(|r| (r.method.clone(), r.description.clone().unwrap_or_default()))
        .collect();
    if !refused.is_empty() {
        let violations = sim.violations();
        let chat = violations[0].chat_id;
        let sends: Vec<(String, u16, Option<Duration>, i64)> = requests
            .iter()
            .filter(|r| r.params["chat_id"].as_i64() == Some(chat))
            .filter(|r| r.method.eq_ignore_ascii_case("sendMessage"))
            .map(|r| {
                let at = if r.at >= killed_at {
                    Some(r.at - killed_at)
                } else {
                    None
                };
                let before = killed_at
                    .checked_duration_since(r.at)
                    .map_or(0, |d| d.as_millis() as i64);
                (r.method.clone(), r.status, at, -before)
            })
            .collect();
        panic!(
            "refused: {refused:?}\nviolations: {violations:?}\nsends to chat {chat} (ms before the kill negative): {sends:?}"
        );
    }
    assert_eq!(sim.violations(), vec![], "no rate limit broken");

    // Every push recorded sent once, and every chat got each of its pushes.
    assert_eq!(unsent, 0);
    let mut pushes: HashMap<i64, Vec<String>> = HashMap::new();
    for r in &requests {
        let text = r.params["text"].as_str().unwrap_or_default();
        if r.method.eq_ignore_ascii_case("sendMessage") && r.status == 200 && text.contains("REP-")
        {
            let chat = r.params["chat_id"].as_i64().unwrap();
            pushes.entry(chat).or_default().push(text.to_owned());
        }
    }
    let delivered: usize = pushes.values().map(Vec::len).sum();
    let duplicates = delivered - CHATS * CHANGES_PER_APPLICATION;
    assert_eq!(pushes.len(), CHATS, "every chat got pushes");
    assert!(
        pushes.values().all(|p| p.len() >= CHANGES_PER_APPLICATION),
        "every push reached its chat"
    );
    eprintln!(
        "replicas: {} updates cut by the kill, {claimed_at_kill} deliveries claimed at the kill, \
         {duplicates} pushes sent twice, sender taken over after {takeover:?}",
        cut.len()
    );
    assert!(
        duplicates as i64 <= claimed_at_kill,
        "only what the dead sender had claimed may have gone twice"
    );
    assert!(
        takeover < Duration::from_secs(10),
        "taken over in {takeover:?}"
    );
    db.cleanup().await;
}
