//! What the whole-service benchmarks share: a database (SQLite, or a schema of its own on the
//! PostgreSQL of `TEST_DATABASE_URL`), `kabinet run` against the simulator, parents made
//! through the API, chats logged in directly (no Argon2), and the process's own CPU and memory.
// Each benchmark uses part of this.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use futures::StreamExt;
use kabinet::app::Kabinet;
use kabinet::domain::{Iin, Language, Sex};
use kabinet::messages::{Callback, Section};
use kabinet::sim::{ChatHandle, Simulator};
use kabinet::storage::Storage;
use serde_json::json;

pub const TOKEN: &str = "bench-token-0123456789abcdef-0123456789";

/// The benchmark's numeric arguments (`cargo bench --bench NAME -- 1000 20`), `--bench` and
/// the like skipped.
pub fn args() -> Vec<u64> {
    std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect()
}

/// A valid IIN for this birth date from `serial` up (some serials have no control digit).
pub fn iin(birth: NaiveDate, sex: Sex, serial: u16) -> Iin {
    (serial..serial + 10)
        .find_map(|s| Iin::generate(birth, sex, s))
        .expect("one of ten serials has a control digit")
}

/// The IINs of bench parent `i` and of their child: distinct for every `i` below 25,000.
pub fn family(i: usize) -> (Iin, Iin, NaiveDate) {
    let birth = NaiveDate::from_ymd_opt(1980, 1, 1).unwrap() + chrono::Days::new(i as u64);
    let child_birth =
        NaiveDate::from_ymd_opt(2021, 1, 1).unwrap() + chrono::Days::new(i as u64 % 700);
    (
        iin(birth, Sex::Female, 1),
        iin(child_birth, Sex::Male, (i / 700) as u16 * 10 + 1),
        child_birth,
    )
}

/// Seconds of CPU this process has used (user + system).
pub fn cpu_seconds() -> f64 {
    cpu_seconds_of("/proc/self/stat")
}

/// The same of any process (`/proc/PID/stat`).
pub fn cpu_seconds_of(stat_file: &str) -> f64 {
    let (user, system) = user_system(&std::fs::read_to_string(stat_file).unwrap_or_default());
    user + system
}

/// Every section in turn, each followed by the menu: what the benchmarks' parents press.
pub fn all_sections() -> Arc<Vec<String>> {
    route(&[
        Section::Applications,
        Section::Feed,
        Section::Referrals,
        Section::Files,
        Section::Settings,
    ])
}

/// The buttons a chat presses round and round: each section, then back to the menu.
pub fn route(sections: &[Section]) -> Arc<Vec<String>> {
    Arc::new(
        sections
            .iter()
            .flat_map(|&section| [Callback::Section(section), Callback::Menu])
            .map(|press| press.encode())
            .collect(),
    )
}

/// A running `kabinet run`, a process of its own (so its CPU and memory are its own): the
/// real binary with nothing but the environment given here (no developer's `.env` is read).
pub struct BotProcess {
    child: std::process::Child,
    /// The integration API's address.
    pub api: std::net::SocketAddr,
    /// Where its log goes (a file: the terminal stays for the figures).
    pub log: std::path::PathBuf,
}

/// A port free now on 127.0.0.1 (for a child process to listen on).
fn free_port() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

impl BotProcess {
    /// Starts `kabinet run` against the simulator on `db_url` (migrated already), in `dir`,
    /// and waits until its admin endpoint says it is healthy. `extra` adds environment keys.
    pub async fn start(
        sim: &Simulator,
        db_url: &str,
        dir: &std::path::Path,
        extra: &[(&str, &str)],
    ) -> BotProcess {
        let (api, admin) = (free_port(), free_port());
        let log = dir.join("kabinet.log");
        // `KABINET_BIN` runs another build (an older one, for a before/after on one machine).
        let binary =
            std::env::var_os("KABINET_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_kabinet").into());
        let mut child = std::process::Command::new(binary)
            .arg("run")
            .current_dir(dir)
            .env_clear()
            .env("BOT_TOKEN", kabinet::sim::TOKEN)
            .env("TELEGRAM_API_URL", sim.api_url().to_string())
            // With the simulator's limits off, the bot's own throttle must not stand in.
            .env("TELEGRAM_GLOBAL_RATE", "1000")
            .env("DATABASE_URL", db_url)
            .env(
                "CODE_SECRET",
                "bench-code-secret-0123456789abcdef-0123456789",
            )
            .env("API_TOKEN", TOKEN)
            .env("API_LISTEN", api.to_string())
            .env("ADMIN_LISTEN", admin.to_string())
            .envs(extra.iter().copied())
            // Allocator, log and pool settings pass through, for experiments
            // (MIMALLOC_PURGE_DELAY=0, RUST_LOG=sqlx::query=debug to see every statement,
            // DATABASE_MAX_CONNECTIONS …).
            .envs(std::env::vars().filter(|(k, _)| {
                k.starts_with("MIMALLOC_")
                    || k == "RUST_LOG"
                    || k == "DATABASE_MAX_CONNECTIONS"
                    || k == "KABINET_DIRECT"
            }))
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("kabinet starts");
        let health = format!("http://{admin}/healthz");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = reqwest::get(&health).await
                && r.status().is_success()
            {
                break;
            }
            let ended = child.try_wait().ok().flatten();
            assert!(
                ended.is_none() && std::time::Instant::now() < deadline,
                "kabinet did not become healthy ({ended:?}); its log: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        BotProcess { child, api, log }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The API's base address.
    pub fn api_base(&self) -> String {
        format!("http://{}", self.api)
    }

    /// What the process has used so far.
    pub fn usage(&self) -> Usage {
        Usage::of_process(self.pid())
    }

    /// SIGTERM (the graceful stop), then waits for it; returns how it ended.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let _ = std::process::Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        self.child.wait().expect("kabinet stops")
    }
}

/// CPU time (user and system) and context switches of a process, summed over its threads
/// (a thread that has ended is no longer counted: Kabinet's threads live as long as it).
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub user: f64,
    pub system: f64,
    pub voluntary_switches: u64,
    pub involuntary_switches: u64,
}

impl Usage {
    pub fn of_process(pid: u32) -> Usage {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let (user, system) = user_system(&stat);
        let mut usage = Usage {
            user,
            system,
            ..Usage::default()
        };
        for thread in thread_dirs(pid) {
            let status = std::fs::read_to_string(thread.join("status")).unwrap_or_default();
            usage.voluntary_switches += status_number(&status, "voluntary_ctxt_switches:");
            usage.involuntary_switches += status_number(&status, "nonvoluntary_ctxt_switches:");
        }
        usage
    }

    pub fn since(self, before: Usage) -> Usage {
        Usage {
            user: self.user - before.user,
            system: self.system - before.system,
            voluntary_switches: self.voluntary_switches - before.voluntary_switches,
            involuntary_switches: self.involuntary_switches - before.involuntary_switches,
        }
    }

    pub fn cpu(&self) -> f64 {
        self.user + self.system
    }
}

/// CPU seconds of each kind of thread of a process (named by their `comm`, digits dropped:
/// `tokio-runtime-w`, `sqlx-sqlite-wor`, …).
pub fn cpu_by_thread_kind(pid: u32) -> std::collections::BTreeMap<String, f64> {
    let mut kinds = std::collections::BTreeMap::new();
    for thread in thread_dirs(pid) {
        let comm = std::fs::read_to_string(thread.join("comm")).unwrap_or_default();
        let kind: String = comm
            .trim()
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .into();
        let (user, system) =
            user_system(&std::fs::read_to_string(thread.join("stat")).unwrap_or_default());
        *kinds.entry(kind).or_insert(0.0) += user + system;
    }
    kinds
}

/// The `/proc` folder of each thread of a process.
fn thread_dirs(pid: u32) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|tasks| tasks.flatten().map(|t| t.path()).collect())
        .unwrap_or_default()
}

fn status_number(status: &str, field: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// User and system seconds from a `stat` file's text.
fn user_system(stat: &str) -> (f64, f64) {
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 100.0
    };
    (ticks(11), ticks(12))
}

/// A line of a process's status file (`/proc/PID/status`) in MiB: `VmRSS:` (now) or
/// `VmHWM:` (peak).
pub fn memory_mib_of(status_file: &str, field: &str) -> f64 {
    std::fs::read_to_string(status_file)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// A percentile of sorted latencies, in milliseconds.
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1000.0
}

/// A migrated database with the demo's reference data: PostgreSQL (a schema of its own)
/// when `TEST_DATABASE_URL` is set, SQLite in a temporary folder otherwise.
pub async fn database(name: &str) -> (Storage, String) {
    let (storage, url) = if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        let schema = format!("{name}_{}", std::process::id());
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
        let url = format!(
            "sqlite://{}",
            dir.path().join(format!("{name}.db")).display()
        );
        (Storage::connect_str(&url, 10).await.unwrap(), url)
    };
    storage.migrate().await.unwrap();
    kabinet::demo::load(&storage, kabinet::clock::now())
        .await
        .unwrap();
    (storage, url)
}

pub fn backend_name(db_url: &str) -> &'static str {
    if db_url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}

/// The configuration of a bench run against the simulator, the API on a free port; `extra`
/// adds or overrides keys.
pub fn config(sim: &Simulator, db_url: &str, extra: &[(&str, &str)]) -> kabinet::config::Config {
    let mut vars: HashMap<String, String> = [
        ("TELEGRAM_API_URL", sim.api_url().to_string()),
        ("API_TOKEN", TOKEN.into()),
        ("API_LISTEN", "127.0.0.1:0".into()),
        ("ADMIN_LISTEN", "127.0.0.1:0".into()),
        // With the simulator's limits off, the bot's own throttle must not stand in for them.
        ("TELEGRAM_GLOBAL_RATE", "1000".into()),
        ("DATABASE_URL", db_url.to_owned()),
        ("LOG_FORMAT", "pretty".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, v) in extra {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    kabinet::config::Config::from_vars(&vars).unwrap()
}

/// `kabinet run` against the simulator (see [`config`]).
pub async fn start(
    sim: &Simulator,
    storage: &Storage,
    db_url: &str,
    extra: &[(&str, &str)],
) -> Kabinet {
    kabinet::app::start(
        Arc::new(config(sim, db_url, extra)),
        storage.clone(),
        kabinet::sim::TOKEN,
        Duration::from_secs(1),
        kabinet::app::Outlets {
            sms: kabinet::channels::sms::SmsSender::Log(Arc::new(|_: &str| {})),
            mail: None,
        },
    )
    .await
    .unwrap()
}

/// The API's base address.
pub fn api_base(app: &Kabinet) -> String {
    format!("http://{}", app.api_addr().unwrap())
}

/// `count` parents, each with one application `{prefix}-{i:06}` in Almaty, made through the
/// API (which opens their cabinets). Returns the cabinets' ids in order.
pub async fn parents(storage: &Storage, base: &str, prefix: &str, count: usize) -> Vec<i64> {
    eprintln!("setting up {count} parents …");
    let client = reqwest::Client::new();
    futures::stream::iter(0..count)
        .map(|i| {
            let (client, base) = (client.clone(), base.to_owned());
            let number = format!("{prefix}-{i:06}");
            async move {
                let (parent, child, child_birth) = family(i);
                let body = json!({
                    "locality": "almaty",
                    "parent": {"iin": parent.as_str(), "full_name": "Ата-ана",
                               "phone": format!("+7701{i:07}")},
                    "child": {"iin": child.as_str(), "full_name": "Бала",
                              "birth_date": child_birth.to_string()},
                    "kind": "kindergarten", "institutions": ["alm-ds-12", "alm-ds-45"],
                    "desired_date": "2027-09-01", "language": "kk",
                    "submitted_at": "2026-11-01T10:00:00+05:00", "status": "queued",
                    "queue_position": i + 1
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
    let mut cabinets = Vec::with_capacity(count);
    for i in 0..count {
        cabinets.push(
            storage
                .fetch_i64(&format!(
                    "SELECT cabinet_id FROM applications WHERE number = '{prefix}-{i:06}'"
                ))
                .await
                .unwrap(),
        );
    }
    cabinets
}

/// A chat logged into each cabinet, written directly (no Argon2): chat ids from `first_chat`.
pub async fn log_in_directly(
    storage: &Storage,
    sim: &Simulator,
    cabinets: &[i64],
    first_chat: i64,
) -> Vec<ChatHandle> {
    let now = kabinet::clock::now();
    let mut chats = Vec::with_capacity(cabinets.len());
    for (i, cabinet) in cabinets.iter().enumerate() {
        let chat_id = first_chat + i as i64;
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
        storage
            .set_chat_locality(chat_id, Some("almaty"), now)
            .await
            .unwrap();
        storage.start_session(chat_id, *cabinet, now).await.unwrap();
        chats.push(sim.private_chat(chat_id, "Parent", Some("kk")));
    }
    chats
}

/// A parent at the menu pressing `route` round and round until `until`, each press as soon
/// as the previous one is answered (`every`: at a steady pace from `first` instead). Returns
/// the latencies from press to answer and the errors.
pub async fn press_round(
    mut chat: ChatHandle,
    route: Arc<Vec<String>>,
    until: std::time::Instant,
    pace: Option<(std::time::Instant, Duration)>,
) -> (Vec<Duration>, usize) {
    let Some(menu) = open_menu(&mut chat).await else {
        return (Vec::new(), 1);
    };
    press_on(&mut chat, menu, &route, &mut 0, until, pace).await
}

/// Sends /menu and waits for it: set-up, not counted (the menu is a new message, through the
/// bot's send throttle). Returns the menu's message id.
pub async fn open_menu(chat: &mut ChatHandle) -> Option<i64> {
    chat.send_text("/menu");
    let menu = chat.next_within(Duration::from_secs(60)).await.ok()?;
    Some(menu.message_id)
}

/// Presses `route` round and round on the screen `menu` until `until` (see [`press_round`]),
/// from its `step`th press on; `step` is left at the next press due.
pub async fn press_on(
    chat: &mut ChatHandle,
    menu: i64,
    route: &[String],
    step: &mut usize,
    until: std::time::Instant,
    pace: Option<(std::time::Instant, Duration)>,
) -> (Vec<Duration>, usize) {
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut pressed = 0;
    while std::time::Instant::now() < until {
        if let Some((first, every)) = pace {
            // Open loop: presses at a steady pace, whatever the answers take.
            let due = first + every.mul_f64(pressed as f64);
            tokio::time::sleep_until(due.min(until).into()).await;
            if std::time::Instant::now() >= until {
                break;
            }
        }
        let t0 = std::time::Instant::now();
        if chat.press_data(menu, &route[*step % route.len()]).is_err() {
            errors += 1;
            break;
        }
        match chat.next_within(Duration::from_secs(30)).await {
            Ok(_) => latencies.push(t0.elapsed()),
            Err(_) => errors += 1,
        }
        *step += 1;
        pressed += 1;
    }
    (latencies, errors)
}

/// Waits for the parents' pressing tasks; returns every latency, sorted, and the errors.
pub async fn gather(
    tasks: Vec<tokio::task::JoinHandle<(Vec<Duration>, usize)>>,
) -> (Vec<Duration>, usize) {
    let mut all = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (latencies, e) = task.await.unwrap();
        all.extend(latencies);
        errors += e;
    }
    all.sort_unstable();
    (all, errors)
}

/// Prints how many updates were answered in `elapsed` seconds and their latencies.
pub fn print_answers(all: &[Duration], errors: usize, elapsed: f64) {
    let pct = |p: f64| percentile(all, p);
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
}
