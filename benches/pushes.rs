//! Push throughput and latency (issue: performance, part 3). Runs the whole of `kabinet run`
//! against the Telegram simulator with its rate limits on, posts status changes through
//! the integration API, and measures what reaches Telegram.
//!
//! `cargo bench --bench pushes -- RATE CHANGES` (defaults: 1000 10000). RATE is both
//! `TELEGRAM_GLOBAL_RATE` and the simulator's own overall limit. Figures in BENCHMARKS.md.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use futures::StreamExt;
use kabinet::domain::{Iin, Language, Sex};
use kabinet::sim::{SimConfig, Simulator};
use kabinet::storage::Storage;
use serde_json::json;

const TOKEN: &str = "bench-token-0123456789abcdef";

/// A valid IIN for this birth date from `serial` up (some serials have no control digit).
fn iin(birth: NaiveDate, sex: Sex, serial: u16) -> Iin {
    (serial..serial + 10)
        .find_map(|s| Iin::generate(birth, sex, s))
        .expect("one of ten serials has a control digit")
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
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
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let storage = Storage::connect_str(&db_url, 10).await.unwrap();
    storage.migrate().await.unwrap();
    kabinet::demo::load(&storage, kabinet::clock::now())
        .await
        .unwrap();
    let vars: HashMap<String, String> = [
        ("TELEGRAM_API_URL", sim.api_url().to_string()),
        ("API_TOKEN", TOKEN.into()),
        ("API_LISTEN", "127.0.0.1:0".into()),
        ("TELEGRAM_GLOBAL_RATE", rate.to_string()),
        ("DATABASE_URL", db_url.clone()),
        ("LOG_FORMAT", "pretty".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let app_config = Arc::new(kabinet::config::Config::from_vars(&vars).unwrap());
    let config = app_config.clone();
    let outlets = kabinet::app::Outlets {
        sms: kabinet::notify::sms::SmsSender::Log(Arc::new(|_: &str| {})),
        mail: None,
    };
    let app = kabinet::app::start(
        config,
        storage.clone(),
        kabinet::sim::TOKEN,
        Duration::from_secs(1),
        outlets,
    )
    .await
    .unwrap();
    let base = format!("http://{}", app.api_addr().unwrap());
    let client = reqwest::Client::new();

    // Parents, each with one application and one chat logged in.
    eprintln!("setting up {parents} parents …");
    let numbers: Vec<String> = (0..parents).map(|i| format!("BENCH-{i:06}")).collect();
    futures::stream::iter(0..parents)
        .map(|i| {
            let (client, base, number) = (client.clone(), base.clone(), numbers[i].clone());
            async move {
                let birth = NaiveDate::from_ymd_opt(1980, 1, 1).unwrap() + chrono::Days::new(i as u64);
                let parent = iin(birth, Sex::Female, 1);
                let child_birth = NaiveDate::from_ymd_opt(2021, 1, 1).unwrap() + chrono::Days::new(i as u64 % 700);
                let child = iin(child_birth, Sex::Male, (i / 700) as u16 * 10 + 1);
                let body = json!({
                    "locality": "almaty",
                    "parent": {"iin": parent.as_str(), "full_name": "Ата-ана", "phone": format!("+7701{:07}", i)},
                    "child": {"iin": child.as_str(), "full_name": "Бала", "birth_date": child_birth.to_string()},
                    "kind": "kindergarten", "institutions": ["alm-ds-12"], "desired_date": "2027-09-01",
                    "language": "kk", "submitted_at": "2026-11-01T10:00:00+05:00", "status": "submitted"
                });
                let r = client
                    .put(format!("{base}/api/v1/applications/{number}"))
                    .bearer_auth(TOKEN)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success(), "{}", r.text().await.unwrap());
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    let now = kabinet::clock::now();
    let cabinets: Vec<(i64,)> = {
        let mut out = Vec::new();
        for n in &numbers {
            out.push((storage
                .fetch_i64(&format!(
                    "SELECT cabinet_id FROM applications WHERE number = '{n}'"
                ))
                .await
                .unwrap(),));
        }
        out
    };
    let mut chats = Vec::new();
    for (i, (cabinet,)) in cabinets.iter().enumerate() {
        let chat_id = 1_000_000 + i as i64;
        storage
            .ensure_chat(
                chat_id,
                chat_id,
                Language::Kk,
                r#"{"state":{"s":"logged_in"}}"#,
                now,
            )
            .await
            .unwrap();
        storage.start_session(chat_id, *cabinet, now).await.unwrap();
        chats.push(sim.private_chat(chat_id, "Parent", Some("kk")));
    }

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
    let app = kabinet::app::start(
        app_config.clone(),
        storage.clone(),
        kabinet::sim::TOKEN,
        Duration::from_secs(1),
        kabinet::app::Outlets {
            sms: kabinet::notify::sms::SmsSender::Log(Arc::new(|_: &str| {})),
            mail: None,
        },
    )
    .await
    .unwrap();
    let base = format!("http://{}", app.api_addr().unwrap());
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

    // Latency when idle: one change at a time, from the API's answer to the sendMessage.
    let mut latencies = Vec::new();
    for (i, number) in numbers.iter().take(50).enumerate() {
        let before = sim.requests().len();
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
        let answered = Instant::now();
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
        latencies.push(sent_at.saturating_duration_since(answered).as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];

    println!("pushes: TELEGRAM_GLOBAL_RATE={rate}, {changes} status changes over {parents} chats");
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
        "  idle latency, API answer → sendMessage: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        pct(0.5),
        pct(0.95),
        pct(1.0)
    );
    app.stop().await;
}
