//! Limits that hold under concurrency (SPEC §5): every limit is one atomic statement that
//! reserves the attempt before the secret is checked, so N attempts at once — from N chats
//! or N replicas — count as N. Each story runs on SQLite and on PostgreSQL, the competing
//! attempts at the same moment; then the same through the bot, as strangers would try.

mod common;

use std::time::Duration;

use common::{TestBot, demo_now, say};
use futures::future::join_all;
use kabinet::domain::{Iin, Language, LocalityCode, OtpPurpose};
use kabinet::sim::ChatHandle;
use kabinet::storage::{
    CodeAllowance, CodeReservation, LockPolicy, PasswordAttempt, Requester, Storage, WrongPassword,
};

const AIGERIM: &str = "900315412348"; // Алматы, +7 701 123 45 45
const ERLAN: &str = "861120343215"; // Астана
const PASSWORD: &str = "Көктемгі жаңбыр 2026";

on_both_backends! {
    twenty_guesses_at_one_code_get_its_attempts_and_no_more,
    twenty_passwords_at_once_from_one_chat_are_checked_five_times,
    twenty_chats_guessing_at_once_lock_the_cabinet_once,
    five_chats_at_once_with_the_right_password_lock_nothing,
    two_code_requests_at_once_send_one,
    the_parents_daily_cap_holds_under_twenty_requests,
    a_strangers_twenty_requests_at_once_leave_the_parents_allowance_whole,
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

/// Aigerim's cabinet with a password, and `chat` one of her own chats (it held a session).
async fn aigerim_with_own_chat(s: &Storage, chat: i64) -> i64 {
    let cabinet = aigerim(s).await;
    let now = demo_now();
    s.set_password_hash(cabinet, "$argon2id$stub", now)
        .await
        .unwrap();
    s.ensure_chat(chat, chat, Language::Kk, "{}", now)
        .await
        .unwrap();
    s.start_session(chat, cabinet, now).await.unwrap();
    cabinet
}

const POLICY: LockPolicy = LockPolicy {
    chat_failures: 5,
    cabinet_failures: 10,
    lockout: Duration::from_secs(15 * 60),
};

fn allowance(resend_after: Duration) -> CodeAllowance {
    CodeAllowance {
        resend_after,
        own_chats: 5,
        new_chat: 3,
        new_user: 5,
    }
}

async fn twenty_guesses_at_one_code_get_its_attempts_and_no_more(s: Storage) {
    let cabinet = aigerim(&s).await;
    let now = demo_now();
    s.create_otp(
        cabinet,
        10,
        None,
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

async fn twenty_passwords_at_once_from_one_chat_are_checked_five_times(s: Storage) {
    let cabinet = aigerim(&s).await;
    let now = demo_now();
    s.set_password_hash(cabinet, "$argon2id$stub", now)
        .await
        .unwrap();
    let attempts = join_all((0..20).map(|_| s.reserve_password_attempt(cabinet, 10, 5, now))).await;
    let checked = attempts
        .iter()
        .filter(|a| matches!(a.as_ref().unwrap(), PasswordAttempt::Check { .. }))
        .count();
    assert_eq!(
        checked, 5,
        "LOGIN_MAX_FAILURES checks for one chat: {attempts:?}"
    );
}

async fn twenty_chats_guessing_at_once_lock_the_cabinet_once(s: Storage) {
    let cabinet = aigerim(&s).await;
    let now = demo_now();
    s.set_password_hash(cabinet, "$argon2id$stub", now)
        .await
        .unwrap();
    // All reserve, then all are found wrong, at once: each chat's one wrong password counts.
    let reserved =
        join_all((0..20).map(|chat| s.reserve_password_attempt(cabinet, 100 + chat, 5, now))).await;
    assert!(
        reserved
            .iter()
            .all(|r| matches!(r.as_ref().unwrap(), PasswordAttempt::Check { .. }))
    );
    let wrong =
        join_all((0..20).map(|chat| s.record_wrong_password(cabinet, 100 + chat, POLICY, now)))
            .await;
    let wrong: Vec<WrongPassword> = wrong.into_iter().map(Result::unwrap).collect();
    let locking = wrong.iter().filter(|w| w.locked_cabinet).count();
    let told_locked = wrong
        .iter()
        .filter(|w| w.cabinet_locked_until.is_some())
        .count();
    assert_eq!(locking, 1, "locked once: {wrong:?}");
    assert_eq!(
        told_locked, 11,
        "the tenth locks; every later one finds it locked"
    );
    let lockouts = s
        .fetch_i64(&format!(
            "SELECT lockouts FROM cabinets WHERE id = {cabinet}"
        ))
        .await
        .unwrap();
    assert_eq!(lockouts, 1);
}

async fn five_chats_at_once_with_the_right_password_lock_nothing(s: Storage) {
    let cabinet = aigerim(&s).await;
    let now = demo_now();
    s.set_password_hash(cabinet, "$argon2id$stub", now)
        .await
        .unwrap();
    // Five chats of one family at once, each twice in a row (more than a cabinet-wide count
    // of LOGIN_MAX_FAILURES would allow): every one is checked, and each proves right.
    for _ in 0..2 {
        let reserved =
            join_all((0..5).map(|chat| s.reserve_password_attempt(cabinet, 200 + chat, 5, now)))
                .await;
        assert!(
            reserved
                .iter()
                .all(|r| matches!(r.as_ref().unwrap(), PasswordAttempt::Check { .. })),
            "{reserved:?}"
        );
        for r in join_all((0..5).map(|chat| s.record_login_success(cabinet, 200 + chat))).await {
            r.unwrap();
        }
    }
    let c = s.cabinet(cabinet).await.unwrap().unwrap();
    assert_eq!((c.failed_logins, c.lockouts, c.locked_until), (0, 0, None));
    let counted = s
        .fetch_i64(&format!(
            "SELECT COUNT(*) FROM login_failures WHERE cabinet_id = {cabinet}"
        ))
        .await
        .unwrap();
    assert_eq!(counted, 0, "no chat is left with a count");
}

async fn two_code_requests_at_once_send_one(s: Storage) {
    let cabinet = aigerim_with_own_chat(&s, 10).await;
    let now = demo_now();
    let pause = allowance(Duration::from_secs(60));
    let who = Requester { chat: 10, user: 10 };
    let both =
        join_all((0..2).map(|_| s.reserve_code(cabinet, who, "+77011234545", pause, now))).await;
    let granted = both
        .iter()
        .filter(|r| *r.as_ref().unwrap() == CodeReservation::Granted)
        .count();
    assert_eq!(granted, 1, "one code a pause to one number");
}

async fn the_parents_daily_cap_holds_under_twenty_requests(s: Storage) {
    let cabinet = aigerim_with_own_chat(&s, 10).await;
    let now = demo_now();
    let who = Requester { chat: 10, user: 10 };
    let no_pause = allowance(Duration::ZERO);
    let all =
        join_all((0..20).map(|_| s.reserve_code(cabinet, who, "+77011234545", no_pause, now)))
            .await;
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

async fn a_strangers_twenty_requests_at_once_leave_the_parents_allowance_whole(s: Storage) {
    let cabinet = aigerim_with_own_chat(&s, 10).await;
    let now = demo_now();
    let no_pause = allowance(Duration::ZERO);
    let stranger = Requester { chat: 66, user: 66 };
    let theirs =
        join_all((0..20).map(|_| s.reserve_code(cabinet, stranger, "+77011234545", no_pause, now)))
            .await;
    let granted = |all: &[kabinet::storage::Result<CodeReservation>]| {
        all.iter()
            .filter(|r| *r.as_ref().unwrap() == CodeReservation::Granted)
            .count()
    };
    assert_eq!(
        granted(&theirs),
        3,
        "OTP_NEW_CHAT_LIMIT for the stranger's chat"
    );
    // The parent's own chat, and a parent's new chat (a first login elsewhere), still have
    // every code of their own.
    let own = Requester { chat: 10, user: 10 };
    let parents =
        join_all((0..5).map(|_| s.reserve_code(cabinet, own, "+77011234545", no_pause, now))).await;
    assert_eq!(granted(&parents), 5, "OTP_DAILY_LIMIT whole");
    let new_chat = Requester { chat: 11, user: 11 };
    assert_eq!(
        s.reserve_code(cabinet, new_chat, "+77011234545", no_pause, now)
            .await
            .unwrap(),
        CodeReservation::Granted
    );
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
    wrong_passwords_from_two_chats_lock_the_cabinet_and_a_reset_by_sms_lifts_it,
    one_account_cannot_lock_many_cabinets,
    twenty_chats_guessing_at_once_lock_the_cabinet_once_and_tell_the_parent_once,
}

/// A chat at a screen of the login, its dialogue written directly.
async fn at(t: &TestBot, chat: i64, locality: &str, state: &str) -> ChatHandle {
    t.chat_at(chat, Language::Ru, locality, state).await
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
    t.give_password("almaty", AIGERIM, PASSWORD).await
}

async fn a_code_belongs_to_the_chat_that_asked_for_it(t: &mut TestBot) {
    let mut parent = at(t, 801, "almaty", r#"{"s":"entering_iin"}"#).await;
    say(&mut parent, AIGERIM).await;
    assert_eq!(codes_sent(t).len(), 1);
    let parents_code = t.last_code();
    // A stranger who knows the IIN asks in their own chat: no code of the parent's is
    // joined, and within the pause no new one is sent to the number.
    let mut stranger = at(t, 802, "almaty", r#"{"s":"entering_iin"}"#).await;
    // The stranger is not told a code was sent to them: they are back at the locality.
    let told = say(&mut stranger, AIGERIM).await.text;
    assert!(
        told.starts_with("Отправить код ещё раз можно через ")
            && told.ends_with("Населённый пункт: Алматы\n\nЧтобы войти, нажмите «Личный кабинет»."),
        "{told}"
    );
    assert!(!told.contains("Код подтверждения отправлен"), "{told}");
    assert_eq!(codes_sent(t).len(), 1);
    let refused = say(&mut stranger, &parents_code).await.text;
    assert!(
        refused.starts_with("Извините, я этого не понял."),
        "{refused}"
    );
    // The parent's code still works in the parent's chat.
    let next = say(&mut parent, &parents_code).await.text;
    assert!(
        next.contains("Теперь придумайте пароль для входа"),
        "{next}"
    );
}

async fn wrong_passwords_from_two_chats_lock_the_cabinet_and_a_reset_by_sms_lifts_it(
    t: &mut TestBot,
) {
    let cabinet = with_password(t).await;
    // Two strangers' chats, five wrong passwords each: each locks itself out, and the
    // tenth, from the second chat, locks the cabinet.
    for chat in [811, 812] {
        let mut stranger = at(t, chat, "almaty", r#"{"s":"entering_iin"}"#).await;
        say(&mut stranger, AIGERIM).await;
        for _ in 0..4 {
            let wrong = say(&mut stranger, "не тот пароль").await.text;
            assert!(wrong.contains("Неверный пароль"), "{wrong}");
        }
        let locked = say(&mut stranger, "и этот не тот").await.text;
        let expected = if chat == 811 {
            "вход из этого чата временно закрыт"
        } else {
            "кабинет временно заблокирован"
        };
        assert!(locked.contains(expected), "{chat}: {locked}");
    }
    let sms = t.sms.lock().unwrap().last().cloned().unwrap();
    assert!(
        sms.contains(": Жеке кабинет бұғатталды: қате құпиясөз. Қайта кіру: "),
        "the parent is told, in the cabinet's language: {sms}"
    );
    // The parent proves the phone by SMS and sets a new password.
    let mut parent = at(t, 813, "almaty", r#"{"s":"entering_iin"}"#).await;
    let prompt = say(&mut parent, AIGERIM).await.text;
    assert!(prompt.contains("заблокирован"), "{prompt}");
    parent.press("Забыли пароль?").unwrap();
    parent.next().await.unwrap();
    say(&mut parent, &t.last_code()).await;
    say(&mut parent, "Новый пароль весной").await;
    let inside = say(&mut parent, "Новый пароль весной").await.text;
    assert!(inside.ends_with("Выберите раздел:"), "{inside}");
    // In any other chat — even a stranger's locked one — the lock is gone.
    let record = t.storage().cabinet(cabinet).await.unwrap().unwrap();
    assert_eq!((record.locked_until, record.lockouts), (None, 0));
    let mut laptop = at(t, 814, "almaty", r#"{"s":"entering_iin"}"#).await;
    say(&mut laptop, AIGERIM).await;
    let in_again = say(&mut laptop, "Новый пароль весной").await.text;
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
    let refused = say(&mut stranger, "угадываю дальше").await.text;
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

async fn twenty_chats_guessing_at_once_lock_the_cabinet_once_and_tell_the_parent_once(
    t: &mut TestBot,
) {
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
        } else if answer.contains("кабинет временно заблокирован") {
            locked += 1;
        }
    }
    // LOGIN_CABINET_MAX_FAILURES (10) wrong from several chats lock the cabinet: at most
    // nine are told «wrong» before it; every other finds it locked.
    assert_eq!(wrong + locked, 20, "every chat is answered");
    assert!(wrong <= 9, "wrong {wrong}, locked {locked}");
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
