//! Webhook mode with several replicas on one PostgreSQL (issue "Scale-out", part 8).
//!
//! `cargo bench --bench webhook -- REPLICAS CHATS SECONDS` (defaults: 3 300 15) starts
//! REPLICAS `kabinet run` processes in webhook mode behind the simulator's load balancer
//! (rate limits off), CHATS parents pressing through the sections as fast as they are
//! answered (closed loop) for SECONDS, and reports updates per second, the latency from a
//! press to its screen, and the CPU of the replicas per update. Then it measures a takeover:
//! 2,000 status changes queue pushes, the sender's replica is killed with SIGKILL, and the
//! time until another replica's sender delivers the next push is reported.
//!
//! Needs `TEST_DATABASE_URL` (PostgreSQL): several processes on one SQLite file is not a
//! deployment Kabinet has.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kabinet::sim::{SimConfig, Simulator};

const SECRET: &str = "bench-webhook-secret-0123456789abcdef";

struct Replica {
    child: Child,
    webhook: std::net::SocketAddr,
    api: std::net::SocketAddr,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(sim: &Simulator, db_url: &str, rate: u32) -> Replica {
    let webhook: std::net::SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let api: std::net::SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let dir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
    let child = Command::new(env!("CARGO_BIN_EXE_kabinet"))
        .arg("run")
        .current_dir(dir.path())
        .env("BOT_TOKEN", kabinet::sim::TOKEN)
        .env("TELEGRAM_API_URL", sim.api_url().as_str())
        .env("TELEGRAM_GLOBAL_RATE", rate.to_string())
        .env("DATABASE_URL", db_url)
        .env("DATABASE_MAX_CONNECTIONS", "10")
        .env("CODE_SECRET", "code-secret-for-this-bench-0123456789")
        .env("WEBHOOK_URL", "https://kabinet.example.kz/telegram/webhook")
        .env("WEBHOOK_SECRET", SECRET)
        .env("WEBHOOK_LISTEN", webhook.to_string())
        .env("WEBHOOK_MAX_CONNECTIONS", "20")
        .env("API_TOKEN", support::TOKEN)
        .env("API_LISTEN", api.to_string())
        .env("ADMIN_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .spawn()
        .expect("kabinet starts");
    Replica {
        child,
        webhook,
        api,
    }
}

async fn ready(replica: &Replica) {
    // The API opens once the bot has set its webhook; any answer will do.
    let url = format!("http://{}/api/v1/openapi.json", replica.api);
    for _ in 0..300 {
        if reqwest::get(&url).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("a replica did not start");
}

/// CPU seconds a process has used (user + system).
fn cpu_of(pid: u32) -> f64 {
    support::cpu_seconds_of(&format!("/proc/{pid}/stat"))
}

fn pushes_sent(sim: &Simulator) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.method.eq_ignore_ascii_case("sendMessage") && r.status == 200)
        .filter(|r| {
            r.params["text"]
                .as_str()
                .unwrap_or_default()
                .contains("WH-")
        })
        .count()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = support::args();
    let replicas_wanted = args.first().copied().unwrap_or(3).max(1) as usize;
    let chats = args.get(1).copied().unwrap_or(300) as usize;
    let seconds = args.get(2).copied().unwrap_or(15);
    assert!(
        std::env::var("TEST_DATABASE_URL").is_ok(),
        "the webhook benchmark runs on PostgreSQL: set TEST_DATABASE_URL"
    );
    let sim = Simulator::start(SimConfig {
        rate_limits: false,
        global_per_sec: 1000,
    })
    .await
    .unwrap();
    let (storage, db_url) = support::database("webhook").await;
    // 100 pushes a second: the takeover below has a steady stream to interrupt.
    let mut replicas = vec![spawn(&sim, &db_url, 100)];
    ready(&replicas[0]).await;
    for _ in 1..replicas_wanted {
        replicas.push(spawn(&sim, &db_url, 100));
    }
    for r in &replicas {
        ready(r).await;
    }
    sim.route_webhook(replicas.iter().map(|r| r.webhook).collect());
    let base = format!("http://{}", replicas[0].api);
    let cabinets = support::parents(&storage, &base, "WH", chats).await;
    let handles = support::log_in_directly(&storage, &sim, &cabinets, 3_000_000).await;
    let route = support::all_sections();
    eprintln!("{replicas_wanted} replica(s), {chats} chats pressing for {seconds} s …");
    let pids: Vec<u32> = replicas.iter().map(|r| r.child.id()).collect();
    let cpu_before: f64 = pids.iter().map(|p| cpu_of(*p)).sum();
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = handles
        .into_iter()
        .map(|chat| tokio::spawn(support::press_round(chat, route.clone(), until, None)))
        .collect();
    let (all, errors) = support::gather(tasks).await;
    let elapsed = started.elapsed().as_secs_f64();
    let cpu: f64 = pids.iter().map(|p| cpu_of(*p)).sum::<f64>() - cpu_before;
    println!(
        "webhook: {replicas_wanted} replica(s) on PostgreSQL, {chats} chats for {seconds} s, closed loop"
    );
    support::print_answers(&all, errors, elapsed);
    println!(
        "  replicas' CPU {cpu:.1} s: {:.2} ms per update ({:.0} % of one core)",
        cpu * 1000.0 / all.len().max(1) as f64,
        cpu * 100.0 / elapsed
    );

    if replicas_wanted < 2 {
        return;
    }
    // The takeover: pushes flowing at 90 a second, the sender's replica killed.
    let client = reqwest::Client::new();
    for k in 0..10 {
        for i in 0..chats.min(200) {
            let body = serde_json::json!({
                "event_id": format!("wh-{i}-{k}"),
                "status": "queued",
                "changed_at": (chrono::Utc::now() + chrono::Duration::seconds(k)).to_rfc3339(),
                "queue_position": 50 - k,
            });
            let r = client
                .post(format!("{base}/api/v1/applications/WH-{i:06}/status"))
                .bearer_auth(support::TOKEN)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
        }
    }
    while pushes_sent(&sim) < 300 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let killed_at = Instant::now();
    let mut sender = replicas.remove(0);
    sender.child.kill().unwrap();
    sender.child.wait().unwrap();
    let before = pushes_sent(&sim);
    while pushes_sent(&sim) == before {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let takeover = killed_at.elapsed();
    println!(
        "  takeover: the sender's replica killed after {before} pushes; the next push {:.0} ms later, from another replica",
        takeover.as_secs_f64() * 1000.0
    );
}
