//! Pushes (SPEC §2) end to end: the portal posts over HTTP, the parent's chats get the push
//! through the simulator, in their language, with a button that opens the card; Telegram's
//! faults and limits; SMS and e-mail; the referral reminder; a crash mid-send.

mod common;

use std::time::Duration;

use common::{API_TOKEN, Portal, TestBot};
use kabinet::domain::Language;
use kabinet::sim::{Fault, FaultKind};

const WITH_API: &[(&str, &str)] = &[("API_TOKEN", API_TOKEN)];

bot_stories! {
    with super::WITH_API;
    a_status_change_reaches_every_logged_in_chat_in_its_language,
    pushes_arrive_once_through_429s_and_500s,
    a_chat_that_blocked_the_bot_loses_its_session,
    a_push_never_reaches_a_chat_that_logged_out,
    deliveries_claimed_by_a_dead_sender_go_out_after_restart,
    a_thousand_pushes_keep_telegrams_limits,
    referral_reminder_comes_once,
}

const ALMATY_PARENT: &str = "900315412348";
const APPLICATION: &str = "ALM-2026-000137";

async fn a_status_change_reaches_every_logged_in_chat_in_its_language(t: &mut TestBot) {
    let (mut kk, _) = t
        .logged_in(501, Language::Kk, "almaty", ALMATY_PARENT)
        .await;
    let (mut ru, _) = t
        .logged_in(502, Language::Ru, "almaty", ALMATY_PARENT)
        .await;
    let portal = Portal::of(t);

    let (status, body) = portal.status(APPLICATION, "evt-1", "queued", Some(7)).await;
    assert_eq!(status, 201, "{body}");
    // Within a second of the API's answer: the sender is woken, not left to its sweep.
    let push_kk = kk.next_within(Duration::from_secs(1)).await.unwrap();
    let push_ru = ru.next_within(Duration::from_secs(1)).await.unwrap();
    assert!(
        push_kk.text.contains("Өтініш мәртебесі өзгерді"),
        "{}",
        push_kk.text
    );
    assert!(push_kk.text.contains("7-орын"), "{}", push_kk.text);
    assert!(
        push_ru.text.contains("Изменён статус заявления"),
        "{}",
        push_ru.text
    );
    assert!(push_ru.text.contains("7-е место"), "{}", push_ru.text);
    assert!(push_kk.text.contains(APPLICATION));
    let quiet = kabinet::notify::sender::is_quiet_hour(kabinet::clock::now(), t.config.timezone);
    assert_eq!(push_kk.silent, quiet, "silent exactly in quiet hours");
    assert_eq!(
        push_kk.labels(),
        vec![format!("№ {APPLICATION} ашу").as_str()]
    );
    assert_eq!(
        push_ru.labels(),
        vec![format!("Открыть № {APPLICATION}").as_str()]
    );

    // The button opens the card below the push; the push stays.
    kk.press(&format!("№ {APPLICATION} ашу")).unwrap();
    let card = kk.next().await.unwrap();
    assert_ne!(card.message_id, push_kk.message_id);
    assert!(card.text.contains(APPLICATION), "{}", card.text);
    assert!(card.text.contains("Сейітов Әли"), "{}", card.text);
    let push_now = kk
        .transcript()
        .into_iter()
        .find(|m| m.message_id == push_kk.message_id)
        .unwrap();
    assert_eq!(push_now.text, push_kk.text);

    // A replay pushes nothing more.
    let (status, body) = portal.status(APPLICATION, "evt-1", "queued", Some(7)).await;
    assert_eq!((status, body["result"].as_str()), (200, Some("replayed")));
    assert!(ru.settle(Duration::from_millis(1500)).await.is_empty());
}

async fn pushes_arrive_once_through_429s_and_500s(t: &mut TestBot) {
    let (mut chat, _) = t
        .logged_in(511, Language::Ru, "almaty", ALMATY_PARENT)
        .await;
    let portal = Portal::of(t);
    t.sim.inject(
        Fault::new(FaultKind::TooManyRequests(1))
            .on("sendMessage")
            .in_chat(511)
            .times(2),
    );
    t.sim.inject(
        Fault::new(FaultKind::ServerError(500))
            .on("sendMessage")
            .in_chat(511)
            .times(2),
    );
    t.sim.inject(
        Fault::new(FaultKind::ServerError(502))
            .on("sendMessage")
            .in_chat(511),
    );
    for (i, status) in ["in_review", "queued", "waiting_list"]
        .into_iter()
        .enumerate()
    {
        let (code, body) = portal
            .status(APPLICATION, &format!("evt-f{i}"), status, None)
            .await;
        assert_eq!(code, 201, "{body}");
    }
    let mut pushes = Vec::new();
    while pushes.len() < 3 {
        pushes.push(chat.next_within(Duration::from_secs(20)).await.unwrap());
    }
    assert!(
        chat.settle(Duration::from_secs(3)).await.is_empty(),
        "no push twice"
    );
    let answered = |code: u16| {
        t.sim
            .requests()
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case("sendMessage") && r.status == code)
            .count()
    };
    assert_eq!(
        (answered(429), answered(500), answered(502)),
        (2, 2, 1),
        "the faults happened"
    );
    let texts: Vec<&str> = pushes.iter().map(|m| m.text.as_str()).collect();
    for label in ["На рассмотрении", "В очереди", "В листе ожидания"]
    {
        assert_eq!(
            texts.iter().filter(|t| t.contains(label)).count(),
            1,
            "{label} once in {texts:?}"
        );
    }
    let sent = t
        .storage()
        .fetch_i64("SELECT COUNT(*) FROM deliveries WHERE channel = 'telegram' AND state = 'sent'")
        .await
        .unwrap();
    assert_eq!(sent, 3);
}

async fn a_chat_that_blocked_the_bot_loses_its_session(t: &mut TestBot) {
    let (_chat, _) = t
        .logged_in(521, Language::Kk, "almaty", ALMATY_PARENT)
        .await;
    let (mut other, _) = t
        .logged_in(522, Language::Kk, "almaty", ALMATY_PARENT)
        .await;
    let portal = Portal::of(t);
    // Telegram refuses the push with 403 (the block update has not come yet).
    t.sim.inject(
        Fault::new(FaultKind::Blocked)
            .on("sendMessage")
            .in_chat(521)
            .times(5),
    );
    portal
        .status(APPLICATION, "evt-b1", "in_review", None)
        .await;
    other.next_within(Duration::from_secs(5)).await.unwrap();
    let s = t.storage();
    // The 403 is not retried: the delivery is dropped.
    common::wait_for_count(
        s,
        "SELECT COUNT(*) FROM deliveries WHERE chat_id = 521 AND state = 'dropped'",
        1,
        Duration::from_secs(5),
    )
    .await;
    let live = s
        .fetch_i64("SELECT COUNT(*) FROM sessions WHERE chat_id = 521 AND ended_at IS NULL")
        .await
        .unwrap();
    assert_eq!(live, 0, "the blocked chat's session ended");
    // The next change is not queued for that chat at all.
    portal.status(APPLICATION, "evt-b2", "queued", None).await;
    other.next_within(Duration::from_secs(5)).await.unwrap();
    let queued = s
        .fetch_i64("SELECT COUNT(*) FROM deliveries WHERE chat_id = 521")
        .await
        .unwrap();
    assert_eq!(queued, 1);
}

async fn a_push_never_reaches_a_chat_that_logged_out(t: &mut TestBot) {
    let (mut chat, _) = t
        .logged_in(531, Language::Kk, "almaty", ALMATY_PARENT)
        .await;
    let s = t.storage().clone();
    // Queued while the chat was logged in; the chat logs out before the sender gets to it.
    t.stop_services().await;
    s.record_status_change(
        &kabinet::domain::PortalId::parse(APPLICATION).unwrap(),
        &status_change("evt-l1", kabinet::domain::ApplicationStatus::InReview, None),
        kabinet::clock::now(),
    )
    .await
    .unwrap();
    s.end_chat_session(
        531,
        kabinet::storage::SessionEnd::Logout,
        kabinet::clock::now(),
    )
    .await
    .unwrap();
    t.restart().await;
    // Dropped, not sent.
    common::wait_for_count(
        &s,
        "SELECT COUNT(*) FROM deliveries WHERE chat_id = 531 AND state = 'dropped'",
        1,
        Duration::from_secs(5),
    )
    .await;
    assert!(chat.settle(Duration::from_secs(1)).await.is_empty());
}

fn status_change(
    event_id: &str,
    status: kabinet::domain::ApplicationStatus,
    queue_position: Option<i64>,
) -> kabinet::storage::StatusChange {
    kabinet::storage::StatusChange {
        event_id: kabinet::domain::PortalId::parse(event_id).unwrap(),
        status,
        changed_at: kabinet::clock::now(),
        comment: None,
        queue_position,
    }
}

async fn deliveries_claimed_by_a_dead_sender_go_out_after_restart(t: &mut TestBot) {
    let (mut chat, _) = t
        .logged_in(541, Language::Ru, "almaty", ALMATY_PARENT)
        .await;
    let s = t.storage().clone();
    t.stop_services().await;
    s.record_status_change(
        &kabinet::domain::PortalId::parse(APPLICATION).unwrap(),
        &status_change(
            "evt-c1",
            kabinet::domain::ApplicationStatus::Queued,
            Some(3),
        ),
        kabinet::clock::now(),
    )
    .await
    .unwrap();
    // A sender claims it and dies before sending.
    let claimed = s
        .claim_deliveries(kabinet::clock::now(), 10, false)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(chat.settle(Duration::from_millis(500)).await.is_empty());
    t.restart().await;
    let push = chat.next_within(Duration::from_secs(5)).await.unwrap();
    assert!(push.text.contains("3-е место"), "{}", push.text);
    assert!(
        chat.settle(Duration::from_secs(2)).await.is_empty(),
        "sent once"
    );
}

async fn a_thousand_pushes_keep_telegrams_limits(t: &mut TestBot) {
    // 100 chats logged into one cabinet, 10 changes: 1,000 pushes, at the default 30 a second.
    let mut chats = Vec::new();
    for i in 0..100 {
        let (chat, _) = t
            .logged_in(10_000 + i, Language::Kk, "almaty", ALMATY_PARENT)
            .await;
        chats.push(chat);
    }
    let portal = Portal::of(t);
    for i in 0..10 {
        let (code, _) = portal
            .status(APPLICATION, &format!("evt-m{i}"), "queued", Some(100 - i))
            .await;
        assert_eq!(code, 201);
    }
    common::wait_for_count(
        t.storage(),
        "SELECT COUNT(*) FROM deliveries WHERE state = 'sent'",
        1000,
        Duration::from_secs(120),
    )
    .await;
    for chat in &chats {
        let pushes = chat
            .transcript()
            .iter()
            .filter(|m| m.text.contains("🔔"))
            .count();
        assert_eq!(pushes, 10, "chat {}", chat.chat_id());
    }
    assert_eq!(t.sim.violations(), vec![], "no rate limit broken");
}

async fn referral_reminder_comes_once(t: &mut TestBot) {
    let (mut chat, _) = t
        .logged_in(551, Language::Kk, "almaty", ALMATY_PARENT)
        .await;
    let portal = Portal::of(t);
    let now = kabinet::clock::now();
    let (code, body) = portal
        .put(
            "/api/v1/referrals/ALM-R-TEST-1",
            serde_json::json!({
                "application": APPLICATION, "institution": "alm-ds-12", "group": "Ортаңғы топ",
                "issued_at": now.to_rfc3339(),
                "valid_until": (now + chrono::Duration::minutes(30)).to_rfc3339(),
                "status": "active"
            }),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    let mut texts = Vec::new();
    for _ in 0..2 {
        texts.push(chat.next_within(Duration::from_secs(5)).await.unwrap().text);
    }
    assert!(
        texts.iter().any(|t| t.contains("Жолдама берілді")),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains("Жолдаманың мерзімі жақында бітеді")),
        "{texts:?}"
    );
    t.restart().await;
    assert!(
        chat.settle(Duration::from_secs(2)).await.is_empty(),
        "reminded once"
    );
    let reminders = t
        .storage()
        .fetch_i64("SELECT COUNT(*) FROM events WHERE kind = 'referral_expires_soon'")
        .await
        .unwrap();
    assert_eq!(reminders, 1);
}
