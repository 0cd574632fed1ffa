//! The load generator (issue "Performance", part 2): the real bot against the simulator with
//! rate limits off; N parents logged in (their cabinets made through the API, their sessions
//! written directly: no Argon2), each pressing through the sections as fast as the bot
//! answers. Reports updates per second, latency from the press to the bot's answer (the
//! screen edited), CPU and peak RSS of the whole process (simulator and harness included).
//!
//! `cargo bench --bench load -- CHATS SECONDS [OFFERED]` (defaults: 1000 20, closed loop). With
//! `TEST_DATABASE_URL` set, it runs on that PostgreSQL (a schema of its own) instead of SQLite.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use futures::StreamExt;
use kabinet::bot::callback::{Callback, Section};
use kabinet::domain::{Iin, Language, Sex};
use kabinet::sim::{SimConfig, Simulator};
use kabinet::storage::Storage;
use serde_json::json;

const TOKEN: &str = "bench-token-0123456789abcdef";

fn iin(birth: NaiveDate, sex: Sex, serial: u16) -> Iin {
    (serial..serial + 10)
        .find_map(|s| Iin::generate(birth, sex, s))
        .expect("one of ten serials has a control digit")
}

/// Seconds of CPU this process has used (user + system).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

async fn database() -> (Storage, String) {
    if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        let schema = format!("load_{}", std::process::id());
        let admin = Storage::connect_str(&url, 1).await.unwrap();
        admin
            .execute_raw(&format!("CREATE SCHEMA {schema}"))
            .await
            .unwrap();
        let sep = if url.contains('?') { '&' } else { '?' };
        let url = format!("{url}{sep}options[search_path]={schema}");
        (Storage::connect_str(&url, 20).await.unwrap(), url)
    } else {
        let dir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
        let url = format!("sqlite://{}", dir.path().join("load.db").display());
        (Storage::connect_str(&url, 10).await.unwrap(), url)
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let chats = args.first().copied().unwrap_or(1000) as usize;
    let seconds = args.get(1).copied().unwrap_or(20);
    // Offered load in updates per second over all chats; 0 = every chat presses again as
    // soon as it has its answer (closed loop: latency is then chats / throughput).
    let offered = args.get(2).copied().unwrap_or(0) as f64;
    let interval = (offered > 0.0).then(|| Duration::from_secs_f64(chats as f64 / offered));

    let sim = Simulator::start(SimConfig {
        rate_limits: false,
        global_per_sec: 30,
    })
    .await
    .unwrap();
    let (storage, db_url) = database().await;
    storage.migrate().await.unwrap();
    kabinet::demo::load(&storage, kabinet::clock::now())
        .await
        .unwrap();
    let vars: HashMap<String, String> = [
        ("TELEGRAM_API_URL", sim.api_url().to_string()),
        ("API_TOKEN", TOKEN.into()),
        ("API_LISTEN", "127.0.0.1:0".into()),
        // The simulator's limits are off; the bot's own throttle must not stand in for them.
        ("TELEGRAM_GLOBAL_RATE", "1000".into()),
        ("DATABASE_URL", db_url.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let config = Arc::new(kabinet::config::Config::from_vars(&vars).unwrap());
    let app = kabinet::app::start(
        config,
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
    let client = reqwest::Client::new();

    eprintln!("setting up {chats} parents …");
    futures::stream::iter(0..chats)
        .map(|i| {
            let (client, base) = (client.clone(), base.clone());
            async move {
                let birth = NaiveDate::from_ymd_opt(1980, 1, 1).unwrap() + chrono::Days::new(i as u64);
                let child_birth =
                    NaiveDate::from_ymd_opt(2021, 1, 1).unwrap() + chrono::Days::new(i as u64 % 700);
                let body = json!({
                    "locality": "almaty",
                    "parent": {"iin": iin(birth, Sex::Female, 1).as_str(), "full_name": "Ата-ана",
                               "phone": format!("+7701{i:07}")},
                    "child": {"iin": iin(child_birth, Sex::Male, (i / 700) as u16 * 10 + 1).as_str(),
                              "full_name": "Бала", "birth_date": child_birth.to_string()},
                    "kind": "kindergarten", "institutions": ["alm-ds-12", "alm-ds-45"],
                    "desired_date": "2027-09-01", "language": "kk",
                    "submitted_at": "2026-11-01T10:00:00+05:00", "status": "queued", "queue_position": i + 1
                });
                let r = client
                    .put(format!("{base}/api/v1/applications/LOAD-{i:06}"))
                    .bearer_auth(TOKEN)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success());
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    let now = kabinet::clock::now();
    let mut handles = Vec::new();
    for i in 0..chats {
        let cabinet = storage
            .fetch_i64(&format!(
                "SELECT cabinet_id FROM applications WHERE number = 'LOAD-{i:06}'"
            ))
            .await
            .unwrap();
        let chat_id = 2_000_000 + i as i64;
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
        storage.start_session(chat_id, cabinet, now).await.unwrap();
        handles.push(sim.private_chat(chat_id, "Parent", Some("kk")));
    }

    // Each parent: the menu, then round the sections and back, as fast as the bot answers.
    let route: Vec<String> = [
        Callback::Section(Section::Applications),
        Callback::Menu,
        Callback::Section(Section::Feed),
        Callback::Menu,
        Callback::Section(Section::Referrals),
        Callback::Menu,
        Callback::Section(Section::Files),
        Callback::Menu,
        Callback::Section(Section::Settings),
        Callback::Menu,
    ]
    .iter()
    .map(Callback::encode)
    .collect();
    let route = Arc::new(route);
    eprintln!("{chats} chats pressing for {seconds} s …");
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = handles
        .into_iter()
        .enumerate()
        .map(|(i, mut chat)| {
            let route = route.clone();
            // Spread the chats' first presses over one interval.
            let phase = interval.map(|d| d.mul_f64(i as f64 / chats as f64));
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                chat.send_text("/menu");
                // The menu is a new message through the bot's send throttle: set-up, not
                // counted.
                let Ok(menu) = chat.next_within(Duration::from_secs(60)).await else {
                    return (latencies, 1usize);
                };
                let mut errors = 0;
                let mut step = 0;
                let first = Instant::now() + phase.unwrap_or_default();
                while Instant::now() < until {
                    if let Some(every) = interval {
                        // Open loop: presses at a steady pace, whatever the answers take.
                        let due = first + every.mul_f64(step as f64);
                        tokio::time::sleep_until(due.into()).await;
                        if Instant::now() >= until {
                            break;
                        }
                    }
                    let t0 = Instant::now();
                    if chat
                        .press_data(menu.message_id, &route[step % route.len()])
                        .is_err()
                    {
                        errors += 1;
                        break;
                    }
                    match chat.next_within(Duration::from_secs(30)).await {
                        Ok(_) => latencies.push(t0.elapsed()),
                        Err(_) => errors += 1,
                    }
                    step += 1;
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await.unwrap();
        all.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    all.sort();
    let pct = |p: f64| all[((all.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1000.0;
    let backend = if db_url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let mode = if offered > 0.0 {
        format!("offered {offered:.0} updates/s")
    } else {
        "closed loop".to_owned()
    };
    println!("load: {chats} chats for {seconds} s on {backend}, {mode}");
    println!(
        "  {} updates answered in {elapsed:.1} s: {:.0} updates/s; errors: {errors}",
        all.len(),
        all.len() as f64 / elapsed
    );
    println!(
        "  latency press → answer: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(0.5),
        pct(0.95),
        pct(0.99),
        pct(1.0)
    );
    println!(
        "  CPU {:.1} s of {elapsed:.1} s ({:.0} % of one core; bot, simulator and harness together); peak RSS {:.0} MiB",
        cpu,
        cpu * 100.0 / elapsed,
        peak_rss_mib()
    );
    app.stop().await;
}
