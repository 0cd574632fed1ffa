//! Announcements (SPEC §2, §3): the education department speaks to a group of parents — a
//! frost day, a quarantine — through the API; every logged-in chat of the audience gets it
//! once, in its language, after the parents' own pushes and within Telegram's limits; it can
//! be cancelled halfway, survives a restart, and its progress can be read back.

mod common;

use std::time::{Duration, Instant};

use common::{API_TOKEN, Portal, Setup, TestBot};
use kabinet::domain::Language;
use kabinet::sim::{SimConfig, Simulator};
use serde_json::{Value, json};

const WITH_API: &[(&str, &str)] = &[("API_TOKEN", API_TOKEN)];
/// Limits on, at a rate a test can wait for: 2,000 chats in about 22 s.
const AT_100: &[(&str, &str)] = &[("API_TOKEN", API_TOKEN), ("TELEGRAM_GLOBAL_RATE", "100")];
/// Where the rate itself is measured: 2,000 chats in about 45 s, at a pace that a test
/// build (unoptimised, sharing two cores with the simulator) keeps without falling behind.
const AT_50: &[(&str, &str)] = &[("API_TOKEN", API_TOKEN), ("TELEGRAM_GLOBAL_RATE", "50")];

fn limits_at(global_per_sec: u32) -> Setup {
    Setup {
        sim: SimConfig {
            global_per_sec,
            ..SimConfig::default()
        },
        ..Setup::default()
    }
}

bot_stories! {
    with super::WITH_API;
    a_frost_day_reaches_the_audience_in_its_language_once,
    an_announcement_goes_by_institution_and_by_application,
    every_bad_field_of_an_announcement_is_named_at_once,
}

bot_stories! {
    with super::AT_50, setup super::limits_at(50);
    two_thousand_chats_get_it_at_the_configured_rate_after_a_parents_own_push,
}

bot_stories! {
    with super::AT_100, setup super::limits_at(100);
    a_cancel_halfway_stops_what_has_not_gone,
    a_restart_halfway_resumes_without_duplicates,
}

const ALMATY_PARENT: &str = "900315412348";
const ASTANA_PARENT: &str = "861120343215";
const SHYMKENT_PARENT: &str = "930708424680";

fn frost_day(audience: Value) -> Value {
    json!({
        "text_kk": "Ертең, 2 желтоқсанда, аяз −35 °C болады: 1–5 сынып оқушылары үшін актіленген күн. Сабақ қашықтан өтеді.",
        "text_ru": "Завтра, 2 декабря, мороз −35 °C: для учащихся 1–5 классов актированный день. Занятия пройдут дистанционно.",
        "audience": audience,
    })
}

/// The announcement messages a chat got.
fn announcements(chat: &kabinet::sim::ChatHandle) -> Vec<String> {
    chat.transcript()
        .into_iter()
        .filter(|m| m.text.starts_with("📢"))
        .map(|m| m.text)
        .collect()
}

async fn progress(portal: &Portal, id: &str) -> Value {
    let (status, _, body) = portal
        .raw(
            reqwest::Method::GET,
            &format!("/api/v1/announcements/{id}"),
            None,
            Some(API_TOKEN),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn wait_for_progress(portal: &Portal, id: &str, what: &str, check: impl Fn(&Value) -> bool) {
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        let p = progress(portal, id).await;
        if check(&p) {
            return;
        }
        assert!(Instant::now() < until, "{what}: not within 120 s: {p}");
        // As a portal would look: now and then, not taking the CPU the sender needs.
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// When each announcement Telegram accepted reached it.
fn announcement_sends(sim: &Simulator) -> Vec<Instant> {
    sim.accepted_messages_starting("📢")
}

async fn a_frost_day_reaches_the_audience_in_its_language_once(t: &mut TestBot) {
    let portal = Portal::of(t);
    let (mut kk, _) = t
        .logged_in(801, Language::Kk, "almaty", ALMATY_PARENT)
        .await;
    let (mut ru, _) = t
        .logged_in(802, Language::Ru, "almaty", ALMATY_PARENT)
        .await;
    let (mut astana, _) = t
        .logged_in(803, Language::Ru, "astana", ASTANA_PARENT)
        .await;
    // Logged out before the announcement: nothing for this chat.
    let (mut gone, _) = t
        .logged_in(804, Language::Ru, "almaty", ALMATY_PARENT)
        .await;
    gone.send_text("/logout");
    gone.next().await.unwrap();

    let (status, body) = portal
        .put(
            "/api/v1/announcements/frost-2026-12-02",
            frost_day(json!({"locality": "almaty"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["result"], "created");
    assert_eq!(body["recipients"], 2, "the two logged-in chats of Almaty");

    let message = kk.next().await.unwrap();
    assert_eq!(
        message.text,
        "📢 Білім басқармасының хабарландыруы\n\nЕртең, 2 желтоқсанда, аяз −35 °C болады: 1–5 сынып оқушылары үшін актіленген күн. Сабақ қашықтан өтеді."
    );
    assert_eq!(message.labels(), ["Оқиғалар таспасы"]);
    let message = ru.next().await.unwrap();
    assert!(
        message
            .text
            .starts_with("📢 Объявление управления образования\n\nЗавтра, 2 декабря"),
        "{}",
        message.text
    );
    wait_for_progress(&portal, "frost-2026-12-02", "both sent", |p| {
        p["sent"] == 2 && p["pending"] == 0
    })
    .await;

    // The same PUT again (a portal's retry) queues nothing; other words are refused.
    let (status, body) = portal
        .put(
            "/api/v1/announcements/frost-2026-12-02",
            frost_day(json!({"locality": "almaty"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], "unchanged");
    assert_eq!(body["sent"], 2);
    let (status, body) = portal
        .put(
            "/api/v1/announcements/frost-2026-12-02",
            frost_day(json!({"locality": "astana"})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["type"], "/api/v1/problems/announcement-differs");

    // The feed keeps it: the push's button opens the feed, where it stands first.
    kk.press("Оқиғалар таспасы").unwrap();
    let feed = kk.next().await.unwrap();
    assert!(
        feed.text
            .contains("Білім басқармасының хабарландыруы\nЕртең, 2 желтоқсанда"),
        "{}",
        feed.text
    );
    for chat in [&mut kk, &mut ru, &mut astana, &mut gone] {
        chat.settle(Duration::from_millis(300)).await;
    }
    assert_eq!(announcements(&kk).len(), 1);
    assert_eq!(announcements(&ru).len(), 1);
    assert_eq!(announcements(&astana), Vec::<String>::new(), "not Astana");
    assert_eq!(
        announcements(&gone),
        Vec::<String>::new(),
        "not a chat that left"
    );
}

async fn an_announcement_goes_by_institution_and_by_application(t: &mut TestBot) {
    let portal = Portal::of(t);
    let (mut almaty, _) = t
        .logged_in(811, Language::Ru, "almaty", ALMATY_PARENT)
        .await;
    let (mut astana, _) = t
        .logged_in(812, Language::Ru, "astana", ASTANA_PARENT)
        .await;
    let (mut shymkent, _) = t
        .logged_in(813, Language::Kk, "shymkent", SHYMKENT_PARENT)
        .await;
    // A quarantine at one kindergarten of Astana: the parent whose child goes there.
    let mut quarantine = frost_day(json!({"institutions": ["ast-ds-7"]}));
    quarantine["text_ru"] = json!("Детский сад №7 закрыт на карантин до 9 декабря.");
    quarantine["silent"] = json!(true);
    let (status, body) = portal
        .put("/api/v1/announcements/quarantine-ast-ds-7", quarantine)
        .await;
    assert_eq!((status, &body["recipients"]), (201, &json!(1)), "{body}");
    let message = astana.next().await.unwrap();
    assert!(message.text.ends_with("закрыт на карантин до 9 декабря."));
    assert_eq!(
        t.sim
            .requests()
            .into_iter()
            .rfind(|r| r.method == "sendMessage")
            .unwrap()
            .params["disable_notification"],
        true,
        "posted as silent"
    );
    // Transfers, whatever the locality: the Shymkent parent.
    let (status, body) = portal
        .put(
            "/api/v1/announcements/transfers-open",
            frost_day(json!({"application_kind": "transfer"})),
        )
        .await;
    assert_eq!((status, &body["recipients"]), (201, &json!(1)), "{body}");
    assert!(shymkent.next().await.unwrap().text.starts_with("📢 "));
    // Nobody matches: posted, with no one to send to.
    let (status, body) = portal
        .put(
            "/api/v1/announcements/nobody",
            frost_day(json!({"locality": "shymkent", "application_kind": "first_grade"})),
        )
        .await;
    assert_eq!((status, &body["recipients"]), (201, &json!(0)), "{body}");
    for chat in [&mut almaty, &mut astana, &mut shymkent] {
        chat.settle(Duration::from_millis(300)).await;
    }
    assert_eq!(announcements(&almaty).len(), 0);
    assert_eq!(announcements(&astana).len(), 1);
    assert_eq!(announcements(&shymkent).len(), 1);
}

async fn every_bad_field_of_an_announcement_is_named_at_once(t: &mut TestBot) {
    let portal = Portal::of(t);
    let (status, body) = portal
        .put(
            "/api/v1/announcements/bad",
            json!({
                "text_ru": "",
                "silent": "yes",
                "audience": {
                    "locality": "atlantis",
                    "institutions": ["alm-ds-12", "no-such-school"],
                    "application_status": "frozen",
                    "institution": "alm-ds-45"
                }
            }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let mut fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "audience.application_status",
            "audience.institution",
            "audience.institutions[1]",
            "audience.locality",
            "silent",
            "text_kk",
            "text_ru",
        ],
        "{body}"
    );
    let (status, body) = portal
        .put("/api/v1/announcements/everyone", frost_day(json!({})))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "audience");
    let (status, _) = portal.delete("/api/v1/announcements/never-posted").await;
    assert_eq!(status, 404);
    assert_eq!(
        t.storage()
            .fetch_i64("SELECT COUNT(*) FROM announcements")
            .await
            .unwrap(),
        0,
        "nothing written"
    );
}

/// The 2,000-chat stories take turns: on a machine of two cores, two of them at once would
/// measure each other rather than the sender.
static ONE_CITY_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `n` chats logged into the Almaty parent's cabinet, from chat id `first` on.
async fn many_chats(t: &TestBot, first: i64, n: i64) -> Vec<kabinet::sim::ChatHandle> {
    let mut chats = Vec::new();
    for i in 0..n {
        let lang = if i % 2 == 0 {
            Language::Kk
        } else {
            Language::Ru
        };
        chats.push(
            t.logged_in_quietly(first + i, lang, "almaty", ALMATY_PARENT)
                .await,
        );
    }
    chats
}

async fn two_thousand_chats_get_it_at_the_configured_rate_after_a_parents_own_push(
    t: &mut TestBot,
) {
    let _turn = ONE_CITY_AT_A_TIME.lock().await;
    let portal = Portal::of(t);
    let chats = many_chats(t, 100_000, 2000).await;
    let (status, body) = portal
        .put(
            "/api/v1/announcements/campaign-2027",
            frost_day(json!({"locality": "almaty"})),
        )
        .await;
    assert_eq!((status, &body["recipients"]), (201, &json!(2000)), "{body}");
    // A parent's own push, posted while the broadcast goes out, overtakes it: it waits for
    // a slot or two, not for the 1,800 announcements still queued.
    let (mut astana, _) = t.logged_in(99, Language::Ru, "astana", ASTANA_PARENT).await;
    common::wait_until("200 announcements out", Duration::from_secs(60), || {
        let n = announcement_sends(&t.sim).len();
        async move { n >= 200 }
    })
    .await;
    let before = announcement_sends(&t.sim).len();
    let (code, body) = portal
        .status("AST-2026-001204", "evt-mid-broadcast", "in_review", None)
        .await;
    assert_eq!(code, 201, "{body}");
    let push = astana.next().await.unwrap();
    assert!(push.text.starts_with("🔔"), "{}", push.text);
    let overtaken_by = announcement_sends(&t.sim).len() - before;
    assert!(
        overtaken_by <= 25,
        "{overtaken_by} announcements went before the parent's own push"
    );
    wait_for_progress(&portal, "campaign-2027", "all sent", |p| {
        p["sent"] == 2000 && p["pending"] == 0
    })
    .await;

    for chat in &chats {
        assert_eq!(announcements(chat).len(), 1, "chat {}", chat.chat_id());
    }
    // The announcement in its steady middle: at the configured rate with the sender's margin
    // (90 % of TELEGRAM_GLOBAL_RATE). Never above it by more than 2 %; below it, a test
    // build sharing two cores with the simulator and the other stories loses a few slots to
    // late wake-ups (1–3 %, one run in two), so the test holds the floor at 95 % — enough to
    // catch a sender that cannot keep up (a commit per send gave 60 %) — and the 2 % is
    // measured by the release benchmark (`cargo bench --bench announcement`: 27.00/s of
    // 27.00, BENCHMARKS.md part 10).
    let sends = announcement_sends(&t.sim);
    let (from, to) = (sends[100], sends[1900]);
    let rate = 1800.0 / (to - from).as_secs_f64();
    let expected = 50.0 * kabinet::telegram::RATE_MARGIN;
    eprintln!("2,000 announcements: {rate:.1}/s in the middle of the run (expected {expected})");
    assert!(
        rate <= expected * 1.02,
        "{rate:.1}/s: above {expected}/s by more than 2 %"
    );
    assert!(
        rate >= expected * 0.95,
        "{rate:.1}/s: the sender does not keep up with {expected}/s"
    );
    assert_eq!(t.sim.violations(), vec![], "no refusal from Telegram");
}

async fn a_cancel_halfway_stops_what_has_not_gone(t: &mut TestBot) {
    let _turn = ONE_CITY_AT_A_TIME.lock().await;
    let portal = Portal::of(t);
    let chats = many_chats(t, 200_000, 2000).await;
    let (status, _) = portal
        .put(
            "/api/v1/announcements/sent-by-mistake",
            frost_day(json!({"locality": "almaty"})),
        )
        .await;
    assert_eq!(status, 201);
    common::wait_until("500 announcements out", Duration::from_secs(60), || {
        let n = announcement_sends(&t.sim).len();
        async move { n >= 500 }
    })
    .await;
    let (status, body) = portal.delete("/api/v1/announcements/sent-by-mistake").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], "cancelled");
    let stopped = body["stopped"].as_i64().unwrap();
    assert!(stopped > 1000, "{body}");
    wait_for_progress(&portal, "sent-by-mistake", "nothing pending", |p| {
        p["pending"] == 0
    })
    .await;
    let p = progress(&portal, "sent-by-mistake").await;
    let (sent, cancelled) = (
        p["sent"].as_i64().unwrap(),
        p["cancelled"].as_i64().unwrap(),
    );
    assert_eq!(sent + cancelled, 2000, "{p}");
    assert!(cancelled >= stopped, "{p}");
    assert!(p["cancelled_at"].is_string(), "{p}");
    // What Telegram got is what the progress says went out, each chat once at most.
    let received: usize = chats.iter().map(|c| announcements(c).len()).sum();
    assert_eq!(received as i64, sent);
    assert!(chats.iter().all(|c| announcements(c).len() <= 1));
    // Cancelling again changes nothing.
    let (status, body) = portal.delete("/api/v1/announcements/sent-by-mistake").await;
    assert_eq!((status, &body["stopped"]), (200, &json!(0)), "{body}");
}

async fn a_restart_halfway_resumes_without_duplicates(t: &mut TestBot) {
    let _turn = ONE_CITY_AT_A_TIME.lock().await;
    let portal = Portal::of(t);
    let chats = many_chats(t, 300_000, 2000).await;
    let (status, _) = portal
        .put(
            "/api/v1/announcements/enrollment-opens",
            frost_day(json!({"locality": "almaty"})),
        )
        .await;
    assert_eq!(status, 201);
    common::wait_until("600 announcements out", Duration::from_secs(60), || {
        let n = announcement_sends(&t.sim).len();
        async move { n >= 600 }
    })
    .await;
    t.restart().await;
    let portal = Portal::of(t);
    wait_for_progress(
        &portal,
        "enrollment-opens",
        "all sent after the restart",
        |p| p["sent"] == 2000 && p["pending"] == 0,
    )
    .await;
    for chat in &chats {
        assert_eq!(announcements(chat).len(), 1, "chat {}", chat.chat_id());
    }
    assert_eq!(t.sim.violations(), vec![], "no refusal from Telegram");
}
