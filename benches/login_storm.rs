//! A login storm (issue "Performance", part 4): LOGINS parents send their password at the same
//! moment — each one a full Argon2id check with the configured parameters — while NAVIGATORS
//! logged-in chats keep pressing through the sections at a steady pace. Reports the
//! navigators' latency from press to answer before and during the storm, and how long the
//! logins took. The simulator's rate limits are off.
//!
//! `cargo bench --bench login_storm -- NAVIGATORS LOGINS OFFERED` (defaults: 500 50 500;
//! OFFERED is the navigators' presses per second, all together). With `TEST_DATABASE_URL`
//! set, it runs on that PostgreSQL.

mod support;

use std::time::{Duration, Instant};

use kabinet::domain::{Password, Phone};
use kabinet::messages::Section;
use kabinet::sim::{ChatHandle, SimConfig, Simulator};

const PASSWORD: &str = "Көктемгі жаңбыр 2026";

/// A new chat through language, locality and the IIN to the password prompt.
async fn at_password_prompt(chat: &mut ChatHandle, iin: &str) {
    let wait = Duration::from_secs(60);
    chat.send_text("/start");
    chat.next_within(wait).await.unwrap();
    for label in ["🇰🇿 Қазақша", "Алматы", "🔐 Жеке кабинет"] {
        chat.press(label).unwrap();
        chat.next_within(wait).await.unwrap();
    }
    chat.send_text(iin);
    let prompt = chat.next_within(wait).await.unwrap();
    assert_eq!(prompt.text, "Құпиясөзіңізді жіберіңіз.");
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = support::args();
    let navigators = args.first().copied().unwrap_or(500) as usize;
    let logins = args.get(1).copied().unwrap_or(50) as usize;
    let offered = args.get(2).copied().unwrap_or(500) as f64;
    let every = Duration::from_secs_f64(navigators as f64 / offered);

    let sim = Simulator::start(SimConfig {
        rate_limits: false,
        global_per_sec: 30,
    })
    .await
    .unwrap();
    let (storage, db_url) = support::database("storm").await;
    let config = support::config(&sim, &db_url, &[]);
    let app = support::start(&sim, &storage, &db_url, &[]).await;
    let cabinets = support::parents(
        &storage,
        &support::api_base(&app),
        "STORM",
        navigators + logins,
    )
    .await;

    // The logging-in parents have a password already (set here: one hash, stored for all).
    let hasher = kabinet::auth::Hasher::new(config.argon2).unwrap();
    let (parent, _, _) = support::family(navigators);
    let phone = Phone::parse("+77010000000").unwrap();
    let hash = hasher
        .hash_password(&Password::parse(PASSWORD, &parent, &phone).unwrap())
        .await
        .unwrap();
    let first_login = cabinets[navigators];
    storage
        .execute_raw(&format!(
            "UPDATE cabinets SET password_hash = '{hash}' WHERE id >= {first_login}"
        ))
        .await
        .unwrap();
    let mut loggers = Vec::with_capacity(logins);
    for i in 0..logins {
        let mut chat = sim.private_chat(5_000_000 + i as i64, "Parent", Some("kk"));
        at_password_prompt(&mut chat, support::family(navigators + i).0.as_str()).await;
        loggers.push(chat);
    }
    let chats = support::log_in_directly(&storage, &sim, &cabinets[..navigators], 4_000_000).await;

    let route = support::route(&[Section::Applications, Section::Feed, Section::Settings]);
    // Ten seconds of steady navigation, the storm, then ten seconds more.
    let started = Instant::now();
    let storm_at = started + Duration::from_secs(10);
    eprintln!("{navigators} chats navigating at {offered:.0} presses/s; {logins} logins at 10 s …");
    let navigation: Vec<_> = chats
        .into_iter()
        .enumerate()
        .map(|(i, mut chat)| {
            let route = route.clone();
            let phase = every.mul_f64(i as f64 / navigators as f64);
            tokio::spawn(async move {
                chat.send_text("/menu");
                let menu = chat.next_within(Duration::from_secs(60)).await.unwrap();
                let first = Instant::now() + phase;
                let mut presses = Vec::new();
                for step in 0.. {
                    let due = first + every.mul_f64(step as f64);
                    tokio::time::sleep_until(due.into()).await;
                    if due > storm_at + Duration::from_secs(10) {
                        break;
                    }
                    let t0 = Instant::now();
                    chat.press_data(menu.message_id, &route[step % route.len()])
                        .unwrap();
                    chat.next_within(Duration::from_secs(30)).await.unwrap();
                    presses.push((t0, t0.elapsed()));
                }
                presses
            })
        })
        .collect();
    tokio::time::sleep_until(storm_at.into()).await;
    let storm: Vec<_> = loggers
        .into_iter()
        .map(|mut chat| {
            tokio::spawn(async move {
                let t0 = Instant::now();
                chat.send_text(PASSWORD);
                let menu = chat.next_within(Duration::from_secs(60)).await.unwrap();
                assert!(menu.text.ends_with("Бөлімді таңдаңыз:"), "{}", menu.text);
                t0.elapsed()
            })
        })
        .collect();
    let mut login_times = Vec::new();
    for task in storm {
        login_times.push(task.await.unwrap());
    }
    let storm_over = storm_at + *login_times.iter().max().unwrap();
    let (mut calm, mut during) = (Vec::new(), Vec::new());
    for task in navigation {
        for (at, latency) in task.await.unwrap() {
            if at >= storm_at && at <= storm_over {
                during.push(latency);
            } else {
                calm.push(latency);
            }
        }
    }
    calm.sort_unstable();
    during.sort_unstable();
    login_times.sort_unstable();
    let line = |name: &str, l: &[Duration]| {
        println!(
            "  {name}: {} presses, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            l.len(),
            support::percentile(l, 0.5),
            support::percentile(l, 0.95),
            support::percentile(l, 0.99),
            support::percentile(l, 1.0)
        );
    };
    println!(
        "login storm: {logins} logins while {navigators} chats navigate at {offered:.0} presses/s ({}; Argon2id m={} KiB t={} p={}, {} at once)",
        support::backend_name(&db_url),
        config.argon2.memory_kib,
        config.argon2.iterations,
        config.argon2.parallelism,
        config.argon2.max_concurrent
    );
    line("navigation, calm", &calm);
    line("navigation, during the storm", &during);
    println!(
        "  logins, password sent → menu: p50 {:.0} ms, max {:.0} ms; the storm lasted {:.2} s",
        support::percentile(&login_times, 0.5),
        support::percentile(&login_times, 1.0),
        (storm_over - storm_at).as_secs_f64()
    );
    app.stop().await;
}
