//! Memory (issue "Performance", part 5): the resident memory of the `kabinet run` process, a
//! process of its own, with 100,000 cabinets in the database and 10,000 live sessions, after
//! a few hundred of those chats have used the bot; the simulator and this harness are
//! outside it. Rows are written in bulk with SQL (the figure is about what the running
//! process holds, not about how the rows came). SQLite.
//!
//! `cargo bench --bench memory -- CABINETS SESSIONS ACTIVE` (defaults: 100000 10000 10000):
//! ACTIVE of the logged-in chats open the menu and go round two sections first.

mod support;

use std::time::Duration;

use kabinet::messages::Section;
use kabinet::sim::{SimConfig, Simulator};
use kabinet::storage::Storage;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = support::args();
    let cabinets = args.first().copied().unwrap_or(100_000);
    let sessions = args.get(1).copied().unwrap_or(10_000).min(cabinets);
    let active = args.get(2).copied().unwrap_or(sessions).min(sessions);

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("memory.db").display());
    let storage = Storage::connect_str(&url, 10).await.unwrap();
    storage.migrate().await.unwrap();
    kabinet::demo::load(&storage, kabinet::clock::now())
        .await
        .unwrap();
    // Times as the storage writes them (RFC 3339, UTC), so the rows read back like any other.
    let stamp = kabinet::clock::now().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false);
    eprintln!("writing {cabinets} cabinets and {sessions} sessions …");
    storage
        .execute_raw(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {cabinets}) \
             INSERT INTO cabinets (locality, iin, full_name, phone, language, created_at, updated_at) \
             SELECT 'almaty', printf('%012d', i), 'Ата-ана ' || i, printf('+7701%07d', i), 'kk', '{stamp}', '{stamp}' FROM n"
        ))
        .await
        .unwrap();
    storage
        .execute_raw(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {sessions}) \
             INSERT INTO chats (chat_id, user_id, language, locality, dialogue, created_at, updated_at) \
             SELECT 3000000 + i, 3000000 + i, 'kk', 'almaty', '{{\"state\":{{\"s\":\"logged_in\"}}}}', '{stamp}', '{stamp}' FROM n"
        ))
        .await
        .unwrap();
    storage
        .execute_raw(&format!(
            "INSERT INTO sessions (chat_id, cabinet_id, started_at, last_seen_at) \
             SELECT 3000000 + (c.id - m.first) + 1, c.id, '{stamp}', '{stamp}' \
               FROM cabinets c, (SELECT MIN(id) AS first FROM cabinets WHERE iin LIKE '0%') m \
              WHERE c.iin LIKE '0%' AND c.id - m.first < {sessions}"
        ))
        .await
        .unwrap();
    let live = storage
        .fetch_i64("SELECT COUNT(*) FROM sessions WHERE ended_at IS NULL")
        .await
        .unwrap();

    let sim = Simulator::start(SimConfig {
        rate_limits: false,
        global_per_sec: 30,
    })
    .await
    .unwrap();
    // In a folder of its own, so no developer's .env is read.
    let kabinet = support::BotProcess::start(&sim, &url, dir.path(), &[("RUST_LOG", "warn")]).await;
    let status = format!("/proc/{}/status", kabinet.pid());
    eprintln!("{active} of the logged-in chats use the bot …");
    let presses = support::route(&[Section::Applications, Section::Settings]);
    let started = std::time::Instant::now();
    let tasks: Vec<_> = (0..active)
        .map(|i| {
            let mut chat = sim.private_chat(3_000_001 + i as i64, "Parent", Some("kk"));
            let presses = presses.clone();
            tokio::spawn(async move {
                chat.send_text("/menu");
                let menu = chat.next_within(Duration::from_secs(60)).await.unwrap();
                for p in presses.iter() {
                    chat.press_data(menu.message_id, p).unwrap();
                    chat.next_within(Duration::from_secs(30)).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let burst = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after_2s = support::memory_mib_of(&status, "VmRSS:");
    tokio::time::sleep(Duration::from_secs(28)).await;
    println!("memory: {cabinets} cabinets, {live} live sessions, {active} chats active (SQLite)");
    println!(
        "  kabinet run: peak RSS {:.1} MiB (the chats' burst took {:.1} s); 2 s after it {after_2s:.1} MiB, 30 s after {:.1} MiB",
        support::memory_mib_of(&status, "VmHWM:"),
        burst.as_secs_f64(),
        support::memory_mib_of(&status, "VmRSS:")
    );
    println!(
        "  open files (connections among them): {}",
        std::fs::read_dir(format!("/proc/{}/fd", kabinet.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    );
    // SIGTERM: the graceful stop.
    let stopped = kabinet.stop();
    println!("  stopped on SIGTERM: {stopped}");
}
