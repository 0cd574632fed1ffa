//! The load generator (issues "Performance" and "Efficiency"): `kabinet run` as a process of
//! its own (the release binary, its default settings) against the simulator with its rate
//! limits off. N parents logged in (their cabinets made through the API, their sessions
//! written directly: no Argon2), each pressing Applications → the card → Back → Menu → Feed →
//! Menu → Referrals → Menu, round and round.
//!
//! One phase per offered load, in one process: for each, updates answered, latency from the
//! press to the bot's edited screen, and the bot process's own CPU per 1,000 updates (user and
//! system from `/proc`, and by kind of thread) with its context switches — apart from the
//! simulator's and the harness's, which share the machine.
//!
//! `cargo bench --bench load -- CHATS SECONDS RATE…` (defaults: 1000 20 100 300 1000 0):
//! RATE is updates per second over all chats, 0 for a closed loop (every chat presses again
//! as soon as it has its answer). With `TEST_DATABASE_URL` set, it runs on that PostgreSQL (a
//! schema of its own) instead of SQLite. `LOAD_LOG_TO=FILE` keeps the bot's log.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kabinet::messages::{Callback, Section};
use kabinet::sim::{ChatHandle, SimConfig, Simulator};
use support::BotProcess;

/// A parent's chat and where it stands in its round.
struct Parent {
    chat: ChatHandle,
    menu: i64,
    route: Arc<Vec<String>>,
    step: usize,
}

/// What the issue presses: the section with the card and back, then two more sections.
fn route(application: i64) -> Arc<Vec<String>> {
    Arc::new(
        [
            Callback::Section(Section::Applications),
            Callback::OpenApplication(application),
            Callback::Back,
            Callback::Menu,
            Callback::Section(Section::Feed),
            Callback::Menu,
            Callback::Section(Section::Referrals),
            Callback::Menu,
        ]
        .iter()
        .map(Callback::encode)
        .collect(),
    )
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = support::args();
    let chats = args.first().copied().unwrap_or(1000) as usize;
    let seconds = args.get(1).copied().unwrap_or(20);
    let rates: Vec<u64> = match args.get(2..) {
        Some(rates) if !rates.is_empty() => rates.to_vec(),
        _ => vec![100, 300, 1000, 0],
    };

    let sim = Simulator::start(SimConfig {
        rate_limits: false,
        global_per_sec: 30,
    })
    .await
    .unwrap();
    let (storage, db_url) = support::database("load").await;
    let dir = tempfile::tempdir().unwrap();
    let bot = BotProcess::start(&sim, &db_url, dir.path(), &[]).await;
    let cabinets = support::parents(&storage, &bot.api_base(), "LOAD", chats).await;
    let handles = support::log_in_directly(&storage, &sim, &cabinets, 2_000_000).await;
    let mut parents = Vec::with_capacity(chats);
    eprintln!("{chats} chats open the menu …");
    for (mut chat, cabinet) in handles.into_iter().zip(&cabinets) {
        let application = storage
            .fetch_i64(&format!(
                "SELECT id FROM applications WHERE cabinet_id = {cabinet}"
            ))
            .await
            .unwrap();
        let menu = support::open_menu(&mut chat).await.expect("the menu");
        parents.push(Parent {
            chat,
            menu,
            route: route(application),
            step: 0,
        });
    }

    let backend = support::backend_name(&db_url);
    println!(
        "load: {chats} chats, {seconds} s a phase, {backend}; `kabinet run` pid {}",
        bot.pid()
    );
    let mut rows = Vec::new();
    for offered in rates {
        let interval =
            (offered > 0).then(|| Duration::from_secs_f64(chats as f64 / offered as f64));
        let mode = match offered {
            0 => "closed loop".to_owned(),
            n => format!("{n}/s"),
        };
        let bot_before = bot.usage();
        let threads_before = support::cpu_by_thread_kind(bot.pid());
        let harness_before = support::cpu_seconds();
        let started = Instant::now();
        let until = started + Duration::from_secs(seconds);
        let tasks: Vec<_> = parents
            .into_iter()
            .enumerate()
            .map(|(i, mut parent)| {
                // The chats' first presses spread over one interval.
                let pace = interval.map(|every| {
                    (
                        Instant::now() + every.mul_f64(i as f64 / chats as f64),
                        every,
                    )
                });
                tokio::spawn(async move {
                    let (latencies, errors) = support::press_on(
                        &mut parent.chat,
                        parent.menu,
                        &parent.route,
                        &mut parent.step,
                        until,
                        pace,
                    )
                    .await;
                    (parent, latencies, errors)
                })
            })
            .collect();
        parents = Vec::with_capacity(chats);
        let mut all = Vec::new();
        let mut errors = 0;
        for task in tasks {
            let (parent, latencies, e) = task.await.unwrap();
            parents.push(parent);
            all.extend(latencies);
            errors += e;
        }
        all.sort_unstable();
        let elapsed = started.elapsed().as_secs_f64();
        let used = bot.usage().since(bot_before);
        let harness = support::cpu_seconds() - harness_before;
        let threads = thread_cpu_since(support::cpu_by_thread_kind(bot.pid()), &threads_before);

        let updates = all.len().max(1) as f64;
        let per_thousand = |s: f64| s * 1000.0 / updates;
        println!("offered {mode}:");
        support::print_answers(&all, errors, elapsed);
        println!(
            "  kabinet run: {:.2} s CPU per 1,000 updates (user {:.2} + system {:.2}: {:.0} % in the kernel), {:.0} % of one core; context switches per update {:.1} voluntary, {:.2} involuntary",
            per_thousand(used.cpu()),
            per_thousand(used.user),
            per_thousand(used.system),
            used.system * 100.0 / used.cpu().max(0.001),
            used.cpu() * 100.0 / elapsed,
            used.voluntary_switches as f64 / updates,
            used.involuntary_switches as f64 / updates,
        );
        println!(
            "  by thread, s per 1,000 updates: {}",
            threads
                .iter()
                .filter(|(_, s)| **s > 0.0)
                .map(|(kind, s)| format!("{kind} {:.2}", per_thousand(*s)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!(
            "  simulator and harness (this process): {:.2} s CPU per 1,000 updates",
            per_thousand(harness)
        );
        rows.push(format!(
            "| {backend} | {mode} | {:.0}/s | {:.1} / {:.1} ms | {:.2} s | {:.2} / {:.2} s ({:.0} %) | {:.1} |",
            all.len() as f64 / elapsed,
            support::percentile(&all, 0.5),
            support::percentile(&all, 0.99),
            per_thousand(used.cpu()),
            per_thousand(used.user),
            per_thousand(used.system),
            used.system * 100.0 / used.cpu().max(0.001),
            (used.voluntary_switches + used.involuntary_switches) as f64 / updates,
        ));
    }
    println!(
        "  kabinet run: peak RSS {:.0} MiB",
        support::memory_mib_of(&format!("/proc/{}/status", bot.pid()), "VmHWM:")
    );
    println!(
        "\n| backend | offered | answered | p50 / p99 | CPU per 1,000 | user / system (kernel) | switches per update |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for row in rows {
        println!("{row}");
    }
    let log = bot.log.clone();
    // LOAD_LOG_TO=FILE keeps the bot's log (with RUST_LOG=sqlx::query=debug: its statements).
    if let Ok(to) = std::env::var("LOAD_LOG_TO") {
        std::fs::copy(&log, to).expect("the log copied");
    }
    let stopped = bot.stop();
    assert!(
        stopped.success(),
        "kabinet stopped with {stopped}; its log: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// CPU seconds by kind of thread since `before`.
fn thread_cpu_since(
    now: BTreeMap<String, f64>,
    before: &BTreeMap<String, f64>,
) -> BTreeMap<String, f64> {
    now.into_iter()
        .map(|(kind, s)| {
            let was = before.get(&kind).copied().unwrap_or(0.0);
            (kind, s - was)
        })
        .collect()
}
