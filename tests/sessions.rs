//! Sessions that end (SPEC §5, §1.8): the periodic job ends logins unused for
//! `SESSION_IDLE_DAYS` or begun `SESSION_MAX_DAYS` ago, and pushes follow only live ones;
//! Settings → active sessions lists every chat of the cabinet and ends any of them; history
//! older than `RETENTION_DAYS` is deleted.

mod common;

use std::time::Duration;

use common::{TestBot, demo_now, sql_time};
use kabinet::domain::{Iin, Language, LocalityCode};
use kabinet::sim::{ChatHandle, MessageView};
use kabinet::storage::Storage;

const AIGERIM: &str = "900315412348";
const ERLAN: &str = "861120343215";

bot_stories! {
    the_periodic_job_ends_idle_and_old_sessions,
    active_sessions_are_listed_and_ended_from_settings,
}

on_both_backends! {
    history_older_than_retention_is_deleted,
}

async fn cabinet(s: &Storage, locality: &str, iin: &str) -> i64 {
    s.find_cabinet(
        &LocalityCode::parse(locality).unwrap(),
        &Iin::parse(iin).unwrap(),
    )
    .await
    .unwrap()
    .unwrap()
    .id
}

/// A chat of a parent named `name`, logged into a demo cabinet (the session written
/// directly), at the main menu.
async fn logged_in(
    t: &TestBot,
    chat_id: i64,
    name: &str,
    locality: &str,
    iin: &str,
) -> (ChatHandle, MessageView) {
    let s = t.storage();
    let now = kabinet::clock::now();
    s.ensure_chat(
        chat_id,
        chat_id,
        Language::Ru,
        r#"{"state":{"s":"logged_in"}}"#,
        now,
    )
    .await
    .unwrap();
    s.set_chat_locality(chat_id, Some(locality), now)
        .await
        .unwrap();
    s.start_session(chat_id, cabinet(s, locality, iin).await, now)
        .await
        .unwrap();
    let mut chat = t.sim.private_chat(chat_id, name, Some("ru"));
    chat.send_text("/menu");
    let menu = chat.next().await.unwrap();
    (chat, menu)
}

async fn press(chat: &mut ChatHandle, label: &str) -> MessageView {
    chat.press(label).unwrap();
    chat.next().await.unwrap()
}

async fn the_periodic_job_ends_idle_and_old_sessions(t: &mut TestBot) {
    let (_idle, _) = logged_in(t, 901, "Айгерім", "almaty", AIGERIM).await;
    let (_old, _) = logged_in(t, 902, "Айгерім", "almaty", AIGERIM).await;
    let (mut fresh, _) = logged_in(t, 903, "Айгерім", "almaty", AIGERIM).await;
    let s = t.storage();
    let now = kabinet::clock::now();
    // 901 unused for 31 days; 902 used today, but begun 181 days ago.
    let month_ago = sql_time(s, now - chrono::Duration::days(31));
    let half_year_ago = sql_time(s, now - chrono::Duration::days(181));
    s.execute_raw(&format!(
        "UPDATE sessions SET last_seen_at = {month_ago}, started_at = {month_ago} WHERE chat_id = 901"
    ))
    .await
    .unwrap();
    s.execute_raw(&format!(
        "UPDATE sessions SET started_at = {half_year_ago} WHERE chat_id = 902"
    ))
    .await
    .unwrap();
    // Neither chat writes: the job alone ends them.
    let ended =
        kabinet::maintenance::end_sessions(s, kabinet::maintenance::Limits::of(&t.config), now)
            .await
            .unwrap();
    assert_eq!(ended, 2);
    for (chat, reason) in [(901, "idle"), (902, "max_age")] {
        let ended = s
            .fetch_i64(&format!(
                "SELECT COUNT(*) FROM sessions WHERE chat_id = {chat} AND ended_at IS NOT NULL \
                 AND end_reason = '{reason}'"
            ))
            .await
            .unwrap();
        assert_eq!(ended, 1, "chat {chat}: {reason}");
    }
    // Pushes go only to the live session.
    let portal_change = kabinet::storage::StatusChange {
        event_id: kabinet::domain::PortalId::parse("evt-live").unwrap(),
        status: kabinet::domain::ApplicationStatus::InReview,
        changed_at: now,
        comment: None,
        queue_position: None,
    };
    s.record_status_change(
        &kabinet::domain::PortalId::parse("ALM-2026-000137").unwrap(),
        &portal_change,
        now,
    )
    .await
    .unwrap();
    let queued = s
        .fetch_i64("SELECT COUNT(*) FROM deliveries WHERE chat_id IN (901, 902)")
        .await
        .unwrap();
    assert_eq!(queued, 0, "no push for an ended login");
    // The sender finds it at its next sweep (nothing woke it: the change was written here).
    let push = fresh.next_within(Duration::from_secs(5)).await.unwrap();
    assert!(push.text.contains("На рассмотрении"), "{}", push.text);
}

async fn active_sessions_are_listed_and_ended_from_settings(t: &mut TestBot) {
    let (mut phone, _) = logged_in(t, 911, "Айгерім", "almaty", AIGERIM).await;
    let (mut laptop, _) = logged_in(t, 912, "Ноутбук", "almaty", AIGERIM).await;
    let (mut tablet, _) = logged_in(t, 913, "Планшет", "almaty", AIGERIM).await;
    let (_erlan, _) = logged_in(t, 914, "Ерлан", "astana", ERLAN).await;

    press(&mut phone, "⚙️ Настройки").await;
    let list = press(&mut phone, "📱 Активные сеансы").await;
    assert!(list.text.starts_with("Активные сеансы"), "{}", list.text);
    assert!(list.text.contains("• Айгерім (этот чат)"), "{}", list.text);
    assert!(list.text.contains("• Ноутбук\n"), "{}", list.text);
    assert!(list.text.contains("• Планшет\n"), "{}", list.text);
    assert!(list.text.contains("вход: "), "{}", list.text);
    assert!(
        !list.text.contains("Ерлан"),
        "another cabinet's chat is not listed"
    );
    assert_eq!(
        list.labels(),
        [
            "✖ Завершить: Ноутбук",
            "✖ Завершить: Планшет",
            "Завершить все остальные сеансы",
            "‹ Назад",
            "Меню",
        ]
    );

    // A forged id — Erlan's session — ends nothing.
    let erlans = t
        .storage()
        .fetch_i64("SELECT id FROM sessions WHERE chat_id = 914")
        .await
        .unwrap();
    let forged = phone
        .press_data(list.message_id, &format!("endss:{erlans}"))
        .unwrap();
    let _ = phone.answer_of(&forged).await;
    phone.skip_to_end();
    assert_eq!(
        t.storage()
            .fetch_i64("SELECT COUNT(*) FROM sessions WHERE chat_id = 914 AND ended_at IS NULL")
            .await
            .unwrap(),
        1
    );

    let after = press(&mut phone, "✖ Завершить: Ноутбук").await;
    assert!(after.text.starts_with("Сеанс завершён."), "{}", after.text);
    assert!(!after.text.contains("Ноутбук"), "{}", after.text);
    // The laptop is told once, then is at the start.
    laptop.send_text("/menu");
    let told = laptop.next().await.unwrap();
    assert!(
        told.text.contains("Ваш сеанс в кабинете завершён."),
        "{}",
        told.text
    );
    laptop.send_text("/menu");
    let again = laptop.next().await.unwrap();
    assert!(
        again.text.contains("Меню откроется после входа в кабинет")
            && !again.text.contains("завершён"),
        "told once: {}",
        again.text
    );

    let all = press(&mut phone, "Завершить все остальные сеансы").await;
    assert!(
        all.text.starts_with("Завершено других сеансов: 1."),
        "{}",
        all.text
    );
    assert_eq!(all.labels(), ["‹ Назад", "Меню"], "only this chat is left");
    tablet.send_text("/menu");
    assert!(
        tablet
            .next()
            .await
            .unwrap()
            .text
            .contains("Меню откроется после входа в кабинет")
    );
    assert!(
        t.storage()
            .fetch_i64("SELECT COUNT(*) FROM sessions WHERE chat_id = 911 AND ended_at IS NULL")
            .await
            .unwrap()
            == 1,
        "this chat stays in"
    );
}

async fn history_older_than_retention_is_deleted(s: Storage) {
    kabinet::demo::load(&s, demo_now()).await.unwrap();
    let aigerim = cabinet(&s, "almaty", AIGERIM).await;
    let now = demo_now();
    let old = now - chrono::Duration::days(100);
    // Old and new of each kind.
    for (chat, at) in [(1, old), (2, now)] {
        s.ensure_chat(chat, chat, Language::Kk, "{}", at)
            .await
            .unwrap();
        s.start_session(chat, aigerim, at).await.unwrap();
        s.end_chat_session(chat, kabinet::storage::SessionEnd::Logout, at)
            .await
            .unwrap();
        s.create_otp(
            aigerim,
            chat,
            None,
            kabinet::domain::OtpPurpose::Login,
            "+77011234545",
            "seal",
            Duration::from_secs(300),
            at,
        )
        .await
        .unwrap();
        s.rate_limit_hit(&format!("iin:{chat}"), 5, Duration::from_secs(600), at)
            .await
            .unwrap();
        // The webhook's mark of the chat's last update.
        let turn = s.take_chat_turn(chat, 10 + chat, at).await.unwrap();
        turn.done(&s, 10 + chat, None, at).await.unwrap();
    }
    s.ensure_chat(3, 3, Language::Kk, "{}", now).await.unwrap();
    s.start_session(3, aigerim, old).await.unwrap();
    let old_sql = sql_time(&s, old);
    // A sent delivery of 100 days ago, and one still pending from then.
    s.execute_raw(&format!(
        "INSERT INTO deliveries (event_id, channel, chat_id, state, next_attempt_at, created_at) \
         SELECT id, 'telegram', 1, 'sent', {old_sql}, {old_sql} FROM events LIMIT 1"
    ))
    .await
    .unwrap();
    s.execute_raw(&format!(
        "INSERT INTO deliveries (event_id, channel, chat_id, state, next_attempt_at, created_at) \
         SELECT id, 'telegram', 3, 'pending', {old_sql}, {old_sql} FROM events LIMIT 1"
    ))
    .await
    .unwrap();

    let pruned = s.prune(now - chrono::Duration::days(90)).await.unwrap();
    assert_eq!(
        (
            pruned.deliveries,
            pruned.codes,
            pruned.sessions,
            pruned.rate_limits,
            pruned.update_marks
        ),
        (1, 1, 1, 1, 1),
        "{pruned:?}"
    );
    let left = |sql: &'static str| s.fetch_i64(sql);
    assert_eq!(
        left("SELECT COUNT(*) FROM deliveries WHERE state = 'pending'")
            .await
            .unwrap(),
        1,
        "a delivery still to go stays"
    );
    assert_eq!(
        left("SELECT COUNT(*) FROM sessions WHERE ended_at IS NULL")
            .await
            .unwrap(),
        1,
        "a live session stays, however old"
    );
    assert_eq!(
        left("SELECT COUNT(*) FROM otp_codes").await.unwrap(),
        1,
        "the recent code stays"
    );
    assert!(
        left("SELECT COUNT(*) FROM events").await.unwrap() > 0,
        "the feed stays"
    );
    assert_eq!(
        s.prune(now - chrono::Duration::days(90)).await.unwrap(),
        kabinet::storage::Pruned::default(),
        "a second run finds nothing"
    );
}
