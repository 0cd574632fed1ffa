//! Distribution day (issue «Answers»): the portal puts QUESTIONS place offers through the
//! API at once, one to each of QUESTIONS logged-in chats, and ANSWERING of those parents
//! answer within a minute, in the chat, as a parent would (menu → the question → the
//! option). `kabinet run` runs as a process of its own against the Telegram simulator with
//! its limits on, and posts each answer to a portal's webhook served here.
//!
//! Reports: how long until every question's push went out, against the configured rate;
//! the answer-to-portal latency (the press to the webhook's arrival) at p50 and p99; the
//! bot's own CPU per answer and per update; and whether anything was lost — every push
//! sent, every answer at the webhook once and in `GET /api/v1/answers`.
//!
//! `cargo bench --bench distribution_day -- QUESTIONS ANSWERING RATE` (defaults: 10000 2000
//! 30). With `TEST_DATABASE_URL` set, it runs on that PostgreSQL. Figures in BENCHMARKS.md.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use kabinet::sim::{SimConfig, Simulator};
use serde_json::{Value, json};
use support::TOKEN;

const SECRET: &str = "bench-portal-secret-0123456789abcdef";

/// The portal: when each answer's first POST arrived, by question, and how many POSTs came.
#[derive(Default)]
struct Portal {
    arrived: HashMap<String, Instant>,
    posts: usize,
}

async fn portal() -> (Arc<Mutex<Portal>>, String) {
    let shared = Arc::new(Mutex::new(Portal::default()));
    let state = shared.clone();
    let app = axum::Router::new().route(
        "/answers",
        axum::routing::post(move |body: String| {
            let state = state.clone();
            async move {
                let at = Instant::now();
                let answer: Value = serde_json::from_str(&body).unwrap();
                let mut p = state.lock().unwrap();
                p.posts += 1;
                p.arrived
                    .entry(answer["question"].as_str().unwrap().to_owned())
                    .or_insert(at);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/answers", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (shared, url)
}

fn offer(number: &str) -> Value {
    json!({
        "kind": "place_offer",
        "application": number,
        "text_kk": "Кезегіңіз келді: №12 «Балапан» балабақшасында орын бар. Растайсыз ба?",
        "text_ru": "Подошла очередь: в детском саду №12 «Балапан» есть место. Подтверждаете?",
        "deadline": (kabinet::clock::now() + chrono::Duration::days(2)).to_rfc3339(),
        "options": [
            {"code": "confirm", "label_kk": "Растаймын", "label_ru": "Подтверждаю"},
            {"code": "decline", "label_kk": "Бас тартамын", "label_ru": "Отказываюсь",
             "destructive": true}
        ]
    })
}

/// A parent answering at `at`: the menu, the question, «Растаймын». Returns when the option
/// was pressed, or `None` when a screen did not come.
async fn answer(mut chat: kabinet::sim::ChatHandle, at: Instant) -> Option<Instant> {
    tokio::time::sleep_until(at.into()).await;
    chat.skip_to_end();
    chat.send_text("/menu");
    let wait = Duration::from_secs(120);
    let menu = loop {
        let m = chat.next_within(wait).await.ok()?;
        if m.labels().iter().any(|l| l.starts_with("❗ Жауап күтеді")) {
            break m;
        }
    };
    let row = menu
        .labels()
        .into_iter()
        .find(|l| l.starts_with("❗ Жауап күтеді"))?
        .to_owned();
    chat.press(&row).ok()?;
    loop {
        let card = chat.next_within(wait).await.ok()?;
        if card.button("Растаймын").is_some() {
            break;
        }
    }
    let pressed = Instant::now();
    chat.press("Растаймын").ok()?;
    loop {
        let done = chat.next_within(wait).await.ok()?;
        if done.text.starts_with("✅") {
            return Some(pressed);
        }
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = support::args();
    let questions = args.first().copied().unwrap_or(10_000) as usize;
    let answering = (args.get(1).copied().unwrap_or(2_000) as usize).min(questions);
    let rate = args.get(2).copied().unwrap_or(30) as u32;

    let sim = Simulator::start(SimConfig {
        rate_limits: true,
        global_per_sec: rate,
    })
    .await
    .unwrap();
    let (storage, db_url) = support::database("distribution_day").await;
    let (portal, portal_url) = portal().await;
    let dir = tempfile::tempdir().unwrap();
    let rate_setting = rate.to_string();
    let bot = support::BotProcess::start(
        &sim,
        &db_url,
        dir.path(),
        &[
            ("TELEGRAM_GLOBAL_RATE", rate_setting.as_str()),
            ("PORTAL_WEBHOOK_URL", portal_url.as_str()),
            ("PORTAL_WEBHOOK_SECRET", SECRET),
        ],
    )
    .await;
    let base = bot.api_base();
    let backend = support::backend_name(&db_url);
    println!(
        "distribution day: {questions} questions to {questions} chats, {answering} answering within a minute, TELEGRAM_GLOBAL_RATE={rate}, on {backend}"
    );
    let cabinets = support::parents(&storage, &base, "DAY", questions).await;
    let chats = support::log_in_directly(&storage, &sim, &cabinets, 7_000_000).await;

    let usage_before = bot.usage();
    let started = Instant::now();
    let client = reqwest::Client::new();
    futures::stream::iter(0..questions)
        .map(|i| {
            let (client, base) = (client.clone(), base.clone());
            async move {
                let number = format!("DAY-{i:06}");
                let r = client
                    .put(format!("{base}/api/v1/questions/offer-{i:06}"))
                    .bearer_auth(TOKEN)
                    .json(&offer(&number))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap());
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    let put_took = started.elapsed().as_secs_f64();
    println!("  {questions} questions put in {put_took:.1} s");

    // The answering parents, spread over the minute after the questions came.
    let answered_from = Instant::now();
    let tasks: Vec<_> = chats
        .iter()
        .take(answering)
        .enumerate()
        .map(|(i, chat)| {
            let at = answered_from + Duration::from_secs(60).mul_f64(i as f64 / answering as f64);
            tokio::spawn(answer(chat.clone(), at))
        })
        .collect();
    let mut pressed = Vec::with_capacity(answering);
    for (i, task) in tasks.into_iter().enumerate() {
        pressed.push((format!("offer-{i:06}"), task.await.unwrap()));
    }
    let answer_phase = answered_from.elapsed().as_secs_f64();

    // Every push out, every answer at the portal.
    let deadline = Instant::now() + Duration::from_secs(3600);
    loop {
        let pushed = sim.accepted_messages_starting("❗").len();
        let arrived = portal.lock().unwrap().arrived.len();
        if pushed >= questions && arrived >= pressed.iter().filter(|(_, p)| p.is_some()).count() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "stuck: {pushed} pushed, {arrived} answers at the portal"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let pushes = sim.accepted_messages_starting("❗ <b>Жауап күтеді</b>");
    let all_out = (*pushes.last().unwrap() - started).as_secs_f64();
    let usage = bot.usage().since(usage_before);
    let updates: usize = sim
        .requests()
        .iter()
        .filter(|r| r.method.eq_ignore_ascii_case("answerCallbackQuery"))
        .count();

    let arrived = portal.lock().unwrap().arrived.clone();
    let mut latencies: Vec<Duration> = pressed
        .iter()
        .filter_map(|(q, p)| Some(arrived.get(q)?.saturating_duration_since((*p)?)))
        .collect();
    latencies.sort_unstable();
    let answered = pressed.iter().filter(|(_, p)| p.is_some()).count();
    let expected = f64::from(rate) * kabinet::telegram::RATE_MARGIN;
    println!(
        "  every question pushed {all_out:.1} s after the first PUT: {:.2}/s against {expected:.2}/s configured",
        pushes.len() as f64 / all_out
    );
    println!(
        "  {answered} of {answering} answered in {answer_phase:.1} s; answer → portal: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        support::percentile(&latencies, 0.5),
        support::percentile(&latencies, 0.99),
        support::percentile(&latencies, 1.0)
    );
    let listed: Value = client
        .get(format!("{base}/api/v1/answers?after=0&limit=1000"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut listed_total = listed["answers"].as_array().unwrap().len();
    let mut next = listed["next"].as_i64().unwrap();
    while listed_total < answered {
        let page: Value = client
            .get(format!("{base}/api/v1/answers?after={next}&limit=1000"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let n = page["answers"].as_array().unwrap().len();
        if n == 0 {
            break;
        }
        listed_total += n;
        next = page["next"].as_i64().unwrap();
    }
    let posts = portal.lock().unwrap().posts;
    println!(
        "  lost: {} pushes, {} answers at the webhook ({posts} POSTs for {} answers), {} in GET /answers; refusals from Telegram: {}",
        questions.saturating_sub(pushes.len()),
        answered.saturating_sub(arrived.len()),
        arrived.len(),
        answered.saturating_sub(listed_total),
        sim.violations().len()
    );
    for v in sim.violations().iter().take(5) {
        println!("  refused: {} (chat {})", v.limit, v.chat_id);
    }
    println!(
        "  bot CPU {:.1} s (user {:.1}, system {:.1}) for {questions} pushes, {answered} answers and {updates} presses: {:.2} ms per answer, {:.2} ms per message or press",
        usage.cpu(),
        usage.user,
        usage.system,
        usage.cpu() * 1000.0 / answered.max(1) as f64,
        usage.cpu() * 1000.0 / (questions + updates) as f64
    );
    bot.stop();
}
