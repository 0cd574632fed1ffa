//! Limits that hold under concurrency (SPEC §5): every limit is one atomic statement that
//! reserves the attempt before the secret is checked, so N attempts at once — from N chats
//! or N replicas — count as N. Each story runs on SQLite and on PostgreSQL, the competing
//! attempts at the same moment; then the same through the bot, as strangers would try.

mod common;

use std::time::Duration;

use common::{TestBot, demo_now};
use futures::future::join_all;
use kabinet::domain::{Iin, Language, LocalityCode, OtpPurpose};
use kabinet::sim::ChatHandle;
use kabinet::storage::{CodeReservation, PasswordAttempt, Storage};

const AIGERIM: &str = "900315412348"; // Алматы, +7 701 123 45 45
const ERLAN: &str = "861120343215"; // Астана
const PASSWORD: &str = "Көктемгі жаңбыр 2026";

on_both_backends! {
    twenty_guesses_at_one_code_get_its_attempts_and_no_more,
    twenty_wrong_passwords_at_once_lock_once,
    two_code_requests_at_once_send_one,
    the_daily_cap_holds_under_twenty_requests,
    iin_lookups_at_once_count_each,
}

async fn cabinet_id(s: &Storage, locality: &str, iin: &str) -> i64 {
    s.find_cabinet(
        &LocalityCode::parse(locality).unwrap(),
        &Iin::parse(iin).unwrap(),
    )
    .await
    .unwrap()
    .unwrap()
    .id
}

async fn aigerim(s: &Storage) -> i64 {
    kabinet::demo::load(s, demo_now()).await.unwrap();
    cabinet_id(s, "almaty", AIGERIM).await
}

async fn twenty_guesses_at_one_code_get_its_attempts_and_no_more(s: Storage) {
    let cabinet = aigerim(&s).await;
    let now = demo_now();
    s.create_otp(
        cabinet,
        10,
        OtpPurpose::Login,
        "+77011234545",
        "seal",
        Duration::from_secs(300),
        now,
    )
    .await
    .unwrap();
    let tries =
        join_all((0..20).map(|_| s.reserve_code_attempt(cabinet, 10, OtpPurpose::Login, 5, now)))
            .await;
    let checked = tries
        .iter()
        .filter(|t| t.as_ref().unwrap().is_some())
        .count();
    assert_eq!(checked, 5, "OTP_MAX_ATTEMPTS guesses in all");
    // And none from another chat, whatever it names.
    assert!(
        s.reserve_code_attempt(cabinet, 11, OtpPurpose::Login, 5, now)
            .await
            .unwrap()
            .is_none()
    );
}

async fn twenty_wrong_passwords_at_once_lock_once(s: Storage) {
    let cabinet = aigerim(&s).await;
    let now = demo_now();
    s.set_password_hash(cabinet, "$argon2id$stub", now)
        .await
        .unwrap();
    let lock = Duration::from_secs(15 * 60);
    let attempts =
        join_all((0..20).map(|_| s.reserve_password_attempt(cabinet, 5, lock, now))).await;
    let attempts: Vec<PasswordAttempt> = attempts.into_iter().map(Result::unwrap).collect();
    let checked = attempts
        .iter()
        .filter(|a| matches!(a, PasswordAttempt::Check { .. }))
        .count();
    let locking = attempts
        .iter()
        .filter(|a| {
            matches!(
                a,
                PasswordAttempt::Check {
                    locks_until: Some(_),
                    ..
                }
            )
        })
        .count();
    assert_eq!((checked, locking), (5, 1), "{attempts:?}");
    let lockouts = s
        .fetch_i64(&format!(
            "SELECT lockouts FROM cabinets WHERE id = {cabinet}"
        ))
        .await
        .unwrap();
    assert_eq!(lockouts, 1, "locked once");
}

async fn two_code_requests_at_once_send_one(s: Storage) {
    let cabinet = aigerim(&s).await;
    let now = demo_now();
    let pause = Duration::from_secs(60);
    let both = join_all((0..2).map(|_| s.reserve_code(cabinet, pause, 5, now))).await;
    let granted = both
        .iter()
        .filter(|r| *r.as_ref().unwrap() == CodeReservation::Granted)
        .count();
    assert_eq!(granted, 1);
}

async fn the_daily_cap_holds_under_twenty_requests(s: Storage) {
    let cabinet = aigerim(&s).await;
    let now = demo_now();
    let no_pause = Duration::ZERO;
    let all = join_all((0..20).map(|_| s.reserve_code(cabinet, no_pause, 5, now))).await;
    let granted = all
        .iter()
        .filter(|r| *r.as_ref().unwrap() == CodeReservation::Granted)
        .count();
    assert_eq!(granted, 5, "OTP_DAILY_LIMIT codes in all");
    assert!(all.iter().all(|r| matches!(
        r.as_ref().unwrap(),
        CodeReservation::Granted | CodeReservation::DailyLimit
    )));
}

async fn iin_lookups_at_once_count_each(s: Storage) {
    let now = demo_now();
    let window = Duration::from_secs(600);
    let hits = join_all((0..20).map(|_| s.rate_limit_hit("iin:42", 10, window, now))).await;
    let allowed = hits.iter().filter(|h| *h.as_ref().unwrap()).count();
    assert_eq!(allowed, 10);
}

// ---- the same, through the bot, as strangers with many Telegram accounts would try -------

bot_stories! {
    a_code_belongs_to_the_chat_that_asked_for_it,
    a_reset_by_sms_lifts_the_lock,
    one_account_cannot_lock_many_cabinets,
}

bot_stories! {
    with &[("OTP_RESEND_SECS", "0")];
    twenty_chats_asking_for_codes_at_once_get_the_daily_cap,
    twenty_chats_guessing_at_once_lock_once,
}

/// A chat at a screen of the login, its dialogue written directly.
async fn at(t: &TestBot, chat: i64, locality: &str, state: &str) -> ChatHandle {
    let s = t.storage();
    let now = kabinet::clock::now();
    s.ensure_chat(
        chat,
        chat,
        Language::Ru,
        &format!(r#"{{"state":{state}}}"#),
        now,
    )
    .await
    .unwrap();
    s.set_chat_locality(chat, Some(locality), now)
        .await
        .unwrap();
    t.sim.private_chat(chat, "Parent", Some("ru"))
}

async fn say(chat: &mut ChatHandle, text: &str) -> String {
    chat.send_text(text);
    chat.next().await.unwrap().text
}

fn codes_sent(t: &TestBot) -> Vec<String> {
    t.sms
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("код подтверждения"))
        .cloned()
        .collect()
}

/// Gives Aigerim a password, as if she had logged in before.
async fn with_password(t: &TestBot) -> i64 {
    let cabinet = cabinet_id(t.storage(), "almaty", AIGERIM).await;
    let hasher = kabinet::auth::Hasher::new(t.config.argon2).unwrap();
    let hash = hasher
        .hash_password(
            &kabinet::domain::Password::parse(
                PASSWORD,
                &Iin::parse(AIGERIM).unwrap(),
                &kabinet::domain::Phone::parse("+77011234545").unwrap(),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    t.storage()
        .set_password_hash(cabinet, &hash, kabinet::clock::now())
        .await
        .unwrap();
    cabinet
}

async fn a_code_belongs_to_the_chat_that_asked_for_it(t: &mut TestBot) {
    let mut parent = at(t, 801, "almaty", r#"{"s":"entering_iin"}"#).await;
    say(&mut parent, AIGERIM).await;
    assert_eq!(codes_sent(t).len(), 1);
    let parents_code = t.last_code();
    // A stranger who knows the IIN asks in their own chat: no code of the parent's is
    // joined, and within the pause no new one is sent.
    let mut stranger = at(t, 802, "almaty", r#"{"s":"entering_iin"}"#).await;
    // The stranger is not told a code was sent to them: they are back at the locality.
    let told = say(&mut stranger, AIGERIM).await;
    assert!(
        told.starts_with("Отправить код ещё раз можно через ")
            && told.ends_with("Населённый пункт: Алматы\n\nЧтобы войти, нажмите «Личный кабинет»."),
        "{told}"
    );
    assert!(!told.contains("Код подтверждения отправлен"), "{told}");
    assert_eq!(codes_sent(t).len(), 1);
    let refused = say(&mut stranger, &parents_code).await;
    assert!(
        refused.starts_with("Извините, я этого не понял."),
        "{refused}"
    );
    // The parent's code still works in the parent's chat.
    let next = say(&mut parent, &parents_code).await;
    assert!(
        next.contains("Теперь придумайте пароль для входа"),
        "{next}"
    );
}

async fn a_reset_by_sms_lifts_the_lock(t: &mut TestBot) {
    with_password(t).await;
    let mut stranger = at(t, 811, "almaty", r#"{"s":"entering_iin"}"#).await;
    say(&mut stranger, AIGERIM).await;
    for _ in 0..4 {
        let wrong = say(&mut stranger, "не тот пароль").await;
        assert!(wrong.contains("Неверный пароль"), "{wrong}");
    }
    let locked = say(&mut stranger, "и этот не тот").await;
    assert!(locked.contains("кабинет временно заблокирован"), "{locked}");
    let sms = t.sms.lock().unwrap().last().cloned().unwrap();
    assert!(
        sms.contains(": Жеке кабинет бұғатталды: қате құпиясөз. Қайта кіру: "),
        "the parent is told, in the cabinet's language: {sms}"
    );
    // The parent proves the phone by SMS and sets a new password.
    let mut parent = at(t, 812, "almaty", r#"{"s":"entering_iin"}"#).await;
    let prompt = say(&mut parent, AIGERIM).await;
    assert!(prompt.contains("заблокирован"), "{prompt}");
    parent.press("Забыли пароль?").unwrap();
    parent.next().await.unwrap();
    say(&mut parent, &t.last_code()).await;
    say(&mut parent, "Новый пароль весной").await;
    let inside = say(&mut parent, "Новый пароль весной").await;
    assert!(inside.ends_with("Выберите раздел:"), "{inside}");
    // In any other chat, the new password works at once: the lock is gone.
    let mut laptop = at(t, 813, "almaty", r#"{"s":"entering_iin"}"#).await;
    say(&mut laptop, AIGERIM).await;
    let in_again = say(&mut laptop, "Новый пароль весной").await;
    assert!(in_again.ends_with("Выберите раздел:"), "{in_again}");
}

async fn one_account_cannot_lock_many_cabinets(t: &mut TestBot) {
    with_password(t).await;
    let erlan = cabinet_id(t.storage(), "astana", ERLAN).await;
    t.storage()
        .set_password_hash(
            erlan,
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            kabinet::clock::now(),
        )
        .await
        .unwrap();
    let mut stranger = at(t, 821, "almaty", r#"{"s":"entering_iin"}"#).await;
    say(&mut stranger, AIGERIM).await;
    for _ in 0..5 {
        say(&mut stranger, "угадываю пароль").await;
    }
    // The same account, another cabinet: refused before anything is counted there.
    t.storage()
        .set_chat_locality(821, Some("astana"), kabinet::clock::now())
        .await
        .unwrap();
    stranger.send_text("/cancel");
    stranger.next().await.unwrap();
    stranger.press("🔐 Личный кабинет").unwrap();
    stranger.next().await.unwrap();
    say(&mut stranger, ERLAN).await;
    let refused = say(&mut stranger, "угадываю дальше").await;
    assert!(
        refused.contains("С этого аккаунта Telegram введено слишком много неверных паролей"),
        "{refused}"
    );
    let failures = t
        .storage()
        .fetch_i64(&format!(
            "SELECT failed_logins + lockouts FROM cabinets WHERE id = {erlan}"
        ))
        .await
        .unwrap();
    assert_eq!(failures, 0, "Erlan's cabinet was not touched");
}

async fn twenty_chats_asking_for_codes_at_once_get_the_daily_cap(t: &mut TestBot) {
    let mut chats = Vec::new();
    for i in 0..20 {
        chats.push(at(t, 830 + i, "almaty", r#"{"s":"entering_iin"}"#).await);
    }
    for chat in &mut chats {
        chat.send_text(AIGERIM);
    }
    for chat in &mut chats {
        chat.next().await.unwrap();
    }
    assert_eq!(codes_sent(t).len(), 5, "OTP_DAILY_LIMIT codes, not 20");
}

async fn twenty_chats_guessing_at_once_lock_once(t: &mut TestBot) {
    let cabinet = with_password(t).await;
    let state = format!(r#"{{"s":"entering_password","cabinet":{cabinet}}}"#);
    let mut chats = Vec::new();
    for i in 0..20 {
        chats.push(at(t, 860 + i, "almaty", &state).await);
    }
    for chat in &mut chats {
        chat.send_text("наугад");
    }
    let mut wrong = 0;
    let mut locked = 0;
    for chat in &mut chats {
        let answer = chat.next().await.unwrap().text;
        if answer.contains("Неверный пароль") {
            wrong += 1;
        } else if answer.contains("временно заблокирован") {
            locked += 1;
        }
    }
    assert_eq!((wrong, locked), (4, 16), "five checked, the fifth locked");
    let lockouts = t
        .storage()
        .fetch_i64(&format!(
            "SELECT lockouts FROM cabinets WHERE id = {cabinet}"
        ))
        .await
        .unwrap();
    assert_eq!(lockouts, 1, "locked once");
    let lock_sms = t
        .sms
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("кабинет бұғатталды"))
        .count();
    assert_eq!(lock_sms, 1, "told once");
}
