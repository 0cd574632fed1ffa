//! The load generator (issue "Performance", part 2): the real bot against the simulator with
//! rate limits off; N parents logged in (their cabinets made through the API, their sessions
//! written directly: no Argon2), each pressing through the sections as fast as the bot
//! answers. Reports updates per second, latency from the press to the bot's answer (the
//! screen edited), CPU and peak RSS of the whole process (simulator and harness included).
//!
//! `cargo bench --bench load -- CHATS SECONDS [OFFERED]` (defaults: 1000 20, closed loop). With
//! `TEST_DATABASE_URL` set, it runs on that PostgreSQL (a schema of its own) instead of SQLite.

mod support;

use std::time::{Duration, Instant};

use kabinet::sim::{SimConfig, Simulator};

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = support::args();
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
    let (storage, db_url) = support::database("load").await;
    let app = support::start(&sim, &storage, &db_url, &[]).await;
    let cabinets = support::parents(&storage, &support::api_base(&app), "LOAD", chats).await;
    let handles = support::log_in_directly(&storage, &sim, &cabinets, 2_000_000).await;

    // Each parent: the menu, then round the sections and back, as fast as the bot answers.
    let route = support::all_sections();
    eprintln!("{chats} chats pressing for {seconds} s …");
    let cpu_before = support::cpu_seconds();
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = handles
        .into_iter()
        .enumerate()
        .map(|(i, chat)| {
            // Spread the chats' first presses over one interval.
            let pace = interval.map(|every| {
                let phase = every.mul_f64(i as f64 / chats as f64);
                (Instant::now() + phase, every)
            });
            tokio::spawn(support::press_round(chat, route.clone(), until, pace))
        })
        .collect();
    let (all, errors) = support::gather(tasks).await;
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = support::cpu_seconds() - cpu_before;
    let backend = support::backend_name(&db_url);
    let mode = if offered > 0.0 {
        format!("offered {offered:.0} updates/s")
    } else {
        "closed loop".to_owned()
    };
    println!("load: {chats} chats for {seconds} s on {backend}, {mode}");
    support::print_answers(&all, errors, elapsed);
    println!(
        "  CPU {:.1} s of {elapsed:.1} s ({:.0} % of one core; bot, simulator and harness together); peak RSS {:.0} MiB",
        cpu,
        cpu * 100.0 / elapsed,
        support::memory_mib("VmHWM:")
    );
    app.stop().await;
}
