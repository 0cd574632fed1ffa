//! Long polling (SPEC §1.10, TELEGRAM.md): with `kabinet run`'s own poll timeout, a parent
//! who writes after a quiet spell is answered at once — no poll cut short by the HTTP
//! client, no growing pause, no second poll ending the first with 409.
//!
//! Its own test binary: it captures every log line of the process.

mod common;

use std::time::{Duration, Instant};

use common::{Setup, TestBot};
use kabinet::bot::POLL_TIMEOUT;

fn production_polls() -> Setup {
    Setup {
        poll_timeout: POLL_TIMEOUT,
        ..Setup::default()
    }
}

bot_stories! {
    with &[], setup super::production_polls();
    a_parent_is_answered_at_once_after_a_quiet_spell,
}

async fn a_parent_is_answered_at_once_after_a_quiet_spell(t: &mut TestBot) {
    let logs = common::captured_logs();
    let mut chat = t.sim.private_chat(700, "Parent", Some("kk"));
    // The quiet spell is what is tested: longer than one whole long poll, and than the
    // 17 s after which teloxide's HTTP client used to give up on one.
    tokio::time::sleep(POLL_TIMEOUT + Duration::from_secs(5)).await;
    let asked = Instant::now();
    chat.send_text("/start");
    let greeting = chat
        .next_within(Duration::from_secs(1))
        .await
        .expect("answered within a second");
    assert!(
        greeting.text.starts_with("Сәлеметсіз бе!"),
        "{}",
        greeting.text
    );
    eprintln!("answered {:?} after a quiet spell", asked.elapsed());

    let polls: Vec<(u16, Option<String>)> = t
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method.eq_ignore_ascii_case("getUpdates"))
        .map(|r| (r.status, r.description))
        .collect();
    assert!(
        polls.iter().all(|(status, _)| *status == 200),
        "every poll ended well (no 409, no error): {polls:?}"
    );
    assert!(
        polls.len() <= 3,
        "each poll was held for its whole timeout: {polls:?}"
    );
    let logs = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(
        !logs.contains("getting updates failed"),
        "no failed poll was logged"
    );
}
