//! An announcement to a city while parents press buttons (issue "Operations", part 1).
//! Runs the whole of `kabinet run` against the Telegram simulator with its limits on: first
//! a few parents press through their sections alone (the normal answer times), then the same
//! while an announcement goes out to CHATS other chats at TELEGRAM_GLOBAL_RATE. Reports the
//! answer times in both phases, the announcement's rate against the configured one, refusals
//! from Telegram, and CPU per update.
//!
//! `cargo bench --bench announcement -- RATE CHATS PRESSERS SECONDS` (defaults: 30 2000 20
//! 20). With `TEST_DATABASE_URL` set, it runs on that PostgreSQL. Figures in BENCHMARKS.md.

mod support;

use std::time::{Duration, Instant};

use kabinet::sim::{SimConfig, Simulator};
use serde_json::json;
use support::TOKEN;

/// Presses by `chats` for `seconds`, closed loop: `(latencies sorted, errors, elapsed s)`.
async fn pressing(
    chats: Vec<kabinet::sim::ChatHandle>,
    seconds: u64,
) -> (Vec<Duration>, usize, f64) {
    let route = support::all_sections();
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let tasks = chats
        .into_iter()
        .map(|chat| tokio::spawn(support::press_round(chat, route.clone(), until, None)))
        .collect();
    let (all, errors) = support::gather(tasks).await;
    (all, errors, started.elapsed().as_secs_f64())
}

fn announcements_sent(sim: &Simulator) -> Vec<Instant> {
    sim.accepted_messages_starting("📢")
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = support::args();
    let rate = args.first().copied().unwrap_or(30) as u32;
    let chats = args.get(1).copied().unwrap_or(2000) as usize;
    let pressers = args.get(2).copied().unwrap_or(20) as i64;
    let seconds = args.get(3).copied().unwrap_or(20);

    let sim = Simulator::start(SimConfig {
        rate_limits: true,
        global_per_sec: rate,
    })
    .await
    .unwrap();
    let (storage, db_url) = support::database("announcement").await;
    let rate_setting = rate.to_string();
    let app = support::start(
        &sim,
        &storage,
        &db_url,
        &[("TELEGRAM_GLOBAL_RATE", rate_setting.as_str())],
    )
    .await;
    let base = support::api_base(&app);
    // The audience: CHATS parents of Almaty, a chat each.
    let cabinets = support::parents(&storage, &base, "CITY", chats).await;
    let _audience = support::log_in_directly(&storage, &sim, &cabinets, 5_000_000).await;
    // The parents pressing meanwhile: chats of the Astana demo parent, not in the audience.
    let astana = storage
        .fetch_i64("SELECT id FROM cabinets WHERE locality = 'astana'")
        .await
        .unwrap();
    let presser_cabinets = vec![astana; pressers as usize];
    let make_pressers = |first: i64| {
        let (storage, sim, cabinets) = (storage.clone(), sim.clone(), presser_cabinets.clone());
        async move { support::log_in_directly(&storage, &sim, &cabinets, first).await }
    };

    let backend = support::backend_name(&db_url);
    println!(
        "announcement: {chats} chats at TELEGRAM_GLOBAL_RATE={rate} on {backend}; {pressers} parents pressing for {seconds} s"
    );
    println!(" alone (no announcement):");
    let (alone, errors, elapsed) = pressing(make_pressers(9_000_000).await, seconds).await;
    support::print_answers(&alone, errors, elapsed);

    let cpu_before = support::cpu_seconds();
    let updates_before = app.metrics.updates_handled();
    let posted = Instant::now();
    let r = reqwest::Client::new()
        .put(format!("{base}/api/v1/announcements/frost-day"))
        .bearer_auth(TOKEN)
        .json(&json!({
            "text_kk": "Ертең аяз −35 °C: 1–5 сынып оқушылары үшін актіленген күн.",
            "text_ru": "Завтра мороз −35 °C: для учащихся 1–5 классов актированный день.",
            "audience": {"locality": "almaty"}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap());
    let put_ms = posted.elapsed().as_secs_f64() * 1000.0;
    println!(" while the announcement goes out (PUT answered in {put_ms:.0} ms):");
    let (during, errors, elapsed) = pressing(make_pressers(9_100_000).await, seconds).await;
    support::print_answers(&during, errors, elapsed);

    // Then the rest of the announcement, watched through the API as a portal would (the
    // simulator's log holds every request of the pressing phases: copying it over and over
    // would take the CPU the sender needs).
    loop {
        let progress: serde_json::Value = reqwest::Client::new()
            .get(format!("{base}/api/v1/announcements/frost-day"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if progress["pending"] == 0 {
            break;
        }
        assert!(
            posted.elapsed() < Duration::from_secs(3600),
            "stuck: {progress}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let sends = announcements_sent(&sim);
    let took = (*sends.last().unwrap() - posted).as_secs_f64();
    // The steady middle, away from the start and the presses' end.
    let (a, b) = (sends.len() / 10, sends.len() * 9 / 10);
    let middle = (b - a) as f64 / (sends[b] - sends[a]).as_secs_f64();
    let expected = f64::from(rate) * kabinet::telegram::RATE_MARGIN;
    let cpu = support::cpu_seconds() - cpu_before;
    let updates = app.metrics.updates_handled() - updates_before;
    println!(
        "  {} announcements in {took:.1} s; in the middle {middle:.2}/s against {expected:.2}/s configured (90 % of {rate}): {:+.2} %",
        sends.len(),
        (middle - expected) / expected * 100.0
    );
    println!(
        "  refusals from Telegram: {}; CPU {cpu:.1} s for {} announcements and {updates} updates ({:.2} ms per message; bot, simulator and harness together)",
        sim.violations().len(),
        sends.len(),
        cpu * 1000.0 / (sends.len() as f64 + updates as f64)
    );
    app.stop().await;
}
