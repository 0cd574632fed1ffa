//! Push throughput and latency (issue: performance, part 3). Runs the whole of `kabinet run`
//! against the Telegram simulator with its rate limits on, posts status changes through
//! the integration API, and measures what reaches Telegram.
//!
//! `cargo bench --bench pushes -- RATE CHANGES` (defaults: 1000 10000). RATE is both
//! `TELEGRAM_GLOBAL_RATE` and the simulator's own overall limit. With `TEST_DATABASE_URL` set,
//! it runs on that PostgreSQL. Figures in BENCHMARKS.md.

mod support;

use std::time::{Duration, Instant};

use futures::StreamExt;
use kabinet::sim::{SimConfig, Simulator};
use serde_json::json;
use support::TOKEN;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = support::args();
    let rate = args.first().copied().unwrap_or(1000) as u32;
    let changes = args.get(1).copied().unwrap_or(10_000) as usize;
    // Enough parents that the per-chat limit (1/s) is not what bounds the rate.
    let parents = (rate as usize * 2).clamp(100, 2000).min(changes);

    let sim = Simulator::start(SimConfig {
        rate_limits: true,
        global_per_sec: rate,
    })
    .await
    .unwrap();
    let (storage, db_url) = support::database("pushes").await;
    let rate_setting = rate.to_string();
    let settings = [("TELEGRAM_GLOBAL_RATE", rate_setting.as_str())];
    let app = support::start(&sim, &storage, &db_url, &settings).await;
    let base = support::api_base(&app);
    let client = reqwest::Client::new();

    // Parents, each with one application and one chat logged in.
    let cabinets = support::parents(&storage, &base, "BENCH", parents).await;
    let numbers: Vec<String> = (0..parents).map(|i| format!("BENCH-{i:06}")).collect();
    let _chats = support::log_in_directly(&storage, &sim, &cabinets, 1_000_000).await;

    // Throughput: every change posted as fast as the API takes them.
    eprintln!("posting {changes} status changes …");
    let posted = Instant::now();
    futures::stream::iter(0..changes)
        .map(|i| {
            let (client, base) = (client.clone(), base.clone());
            let number = numbers[i % parents].clone();
            async move {
                let r = client
                    .post(format!("{base}/api/v1/applications/{number}/status"))
                    .bearer_auth(TOKEN)
                    .json(&json!({"event_id": format!("e{i}"), "status": "queued",
                                  "changed_at": kabinet::clock::now().to_rfc3339(), "queue_position": i + 1}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status().as_u16(), 201);
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
    let post_secs = posted.elapsed().as_secs_f64();
    loop {
        let sent = storage
            .fetch_i64("SELECT COUNT(*) FROM deliveries WHERE state = 'sent'")
            .await
            .unwrap();
        if sent as usize >= changes {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let sends: Vec<Instant> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method.eq_ignore_ascii_case("sendMessage") && r.status == 200)
        .map(|r| r.at)
        .collect();
    let (first, last) = (sends[0], *sends.last().unwrap());
    let achieved = (sends.len() - 1) as f64 / (last - first).as_secs_f64();

    // The sender alone: the same number of changes queued while Kabinet is stopped (as after
    // a restart with a backlog), then sent.
    app.stop().await;
    for i in 0..changes {
        let number = kabinet::domain::PortalId::parse(&numbers[i % parents]).unwrap();
        let change = kabinet::storage::StatusChange {
            event_id: kabinet::domain::PortalId::parse(&format!("b{i}")).unwrap(),
            status: kabinet::domain::ApplicationStatus::Queued,
            changed_at: kabinet::clock::now(),
            comment: None,
            queue_position: Some(i as i64 + 1),
        };
        storage
            .record_status_change(&number, &change, kabinet::clock::now())
            .await
            .unwrap();
    }
    let before = sim.requests().len();
    let app = support::start(&sim, &storage, &db_url, &settings).await;
    let base = support::api_base(&app);
    loop {
        let sent = storage
            .fetch_i64("SELECT COUNT(*) FROM deliveries WHERE state = 'sent'")
            .await
            .unwrap();
        if sent as usize >= 2 * changes {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let backlog: Vec<Instant> = sim.requests()[before..]
        .iter()
        .filter(|r| r.method.eq_ignore_ascii_case("sendMessage") && r.status == 200)
        .map(|r| r.at)
        .collect();
    let backlog_rate =
        (backlog.len() - 1) as f64 / (*backlog.last().unwrap() - backlog[0]).as_secs_f64();
    let violations = sim.violations().len();

    // Latency when idle: one change at a time, from the moment the portal posts it to the
    // moment Telegram has the sendMessage.
    let mut latencies = Vec::new();
    for (i, number) in numbers.iter().take(50).enumerate() {
        let before = sim.requests().len();
        let posted = Instant::now();
        let r = client
            .post(format!("{base}/api/v1/applications/{number}/status"))
            .bearer_auth(TOKEN)
            .json(
                &json!({"event_id": format!("idle{i}"), "status": "in_review",
                          "changed_at": kabinet::clock::now().to_rfc3339()}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let sent_at = loop {
            if let Some(r) = sim.requests()[before..]
                .iter()
                .find(|r| r.method.eq_ignore_ascii_case("sendMessage") && r.status == 200)
            {
                break r.at;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        latencies.push(sent_at.saturating_duration_since(posted));
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    latencies.sort_unstable();
    let pct = |p: f64| support::percentile(&latencies, p);

    println!(
        "pushes: TELEGRAM_GLOBAL_RATE={rate}, {changes} status changes over {parents} chats ({})",
        support::backend_name(&db_url)
    );
    println!(
        "  API took the changes in {post_secs:.1} s ({:.0}/s)",
        changes as f64 / post_secs
    );
    println!(
        "  through the API: sent {} messages at {achieved:.1}/s = {:.1} % of the limit",
        sends.len(),
        achieved * 100.0 / f64::from(rate)
    );
    println!(
        "  a backlog of {} queued changes: sent at {backlog_rate:.1}/s = {:.1} % of the limit",
        backlog.len(),
        backlog_rate * 100.0 / f64::from(rate)
    );
    println!("  rate-limit violations recorded by the simulator: {violations}");
    println!(
        "  idle latency, status POST → sendMessage: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        pct(0.5),
        pct(0.95),
        pct(1.0)
    );
    app.stop().await;
}
