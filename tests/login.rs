//! Logging in (SPEC §1.2, §5), end to end through the simulator and the SMS capture.

mod common;

use common::TestBot;
use kabinet::sim::{ChatHandle, MessageView};

const AIGERIM: &str = "900315412348"; // Алматы, phone +7 701 123 45 45, no password yet
const GULNAR: &str = "930708424680"; // Шымкент
const PASSWORD: &str = "Көктемгі жаңбыр 2026";

bot_stories! {
    first_login_in_kazakh,
    first_login_in_russian_then_returning,
    unknown_iin_gets_the_memo_answer,
    wrong_expired_and_exhausted_codes,
    resend_pause_and_daily_cap,
    every_password_rule_has_its_message,
    lockout_and_its_end,
    forgot_password_ends_the_other_chats,
    logout_and_a_stale_button_show_nothing_personal,
    contact_instead_of_the_code,
    iin_lookups_are_rate_limited,
}

/// A new chat to the IIN prompt.
async fn at_iin_prompt(t: &TestBot, user: i64, lang: &str, locality: &str) -> ChatHandle {
    let mut chat = t.sim.private_chat(user, "Parent", Some(lang));
    chat.send_text("/start");
    chat.next().await.unwrap();
    chat.press(if lang == "kk" {
        "🇰🇿 Қазақша"
    } else {
        "🇷🇺 Русский"
    })
    .unwrap();
    chat.next().await.unwrap();
    chat.press(locality).unwrap();
    chat.next().await.unwrap();
    chat.press(if lang == "kk" {
        "🔐 Жеке кабинет"
    } else {
        "🔐 Личный кабинет"
    })
    .unwrap();
    chat.next().await.unwrap();
    chat
}

/// Sends text and returns the bot's answer (the next message it sends).
async fn say(chat: &mut ChatHandle, text: &str) -> MessageView {
    chat.send_text(text);
    chat.next().await.unwrap()
}

fn deleted(chat: &ChatHandle, message_id: i64) -> bool {
    chat.transcript()
        .iter()
        .any(|m| m.message_id == message_id && m.deleted)
}

/// IIN, code, password twice: the first login of a cabinet without a password.
async fn first_login(t: &TestBot, chat: &mut ChatHandle, iin: &str, password: &str) -> MessageView {
    say(chat, iin).await;
    let code = t.last_code();
    say(chat, &code).await;
    say(chat, password).await;
    say(chat, password).await
}

async fn first_login_in_kazakh(t: &mut TestBot) {
    let logs = common::captured_logs();
    let mut chat = at_iin_prompt(t, 701, "kk", "Алматы").await;
    let iin_message = chat.send_text(AIGERIM);
    let code_screen = chat.next().await.unwrap();
    assert!(
        code_screen
            .text
            .starts_with("Растау коды SMS арқылы +7 *** *** 45 45 нөміріне жіберілді.\n\n6 таңбалы кодты осы чатқа жіберіңіз. Код 5 минут бойы жарамды."),
        "{}",
        code_screen.text
    );
    assert_eq!(
        code_screen.labels(),
        ["Жалғастыру", "Кодты қайта жіберу", "Болдырмау"]
    );
    assert!(!deleted(&chat, iin_message), "the IIN is not a secret");
    let sms = t.sms.lock().unwrap().clone();
    assert_eq!(sms.len(), 1);
    assert!(
        sms[0].starts_with("📱 SMS → +7 *** *** 45 45: Жеке кабинет: растау коды "),
        "{}",
        sms[0]
    );
    let code = t.last_code();
    let sms_text = sms[0].split(": ").skip(1).collect::<Vec<_>>().join(": ");
    assert!(
        sms_text.chars().count() <= 70,
        "one Cyrillic SMS segment: {sms_text}"
    );
    let toast = chat.press("Жалғастыру").unwrap();
    let _ = chat.answer_of(&toast).await;
    assert_eq!(
        chat.callback_answer(&toast),
        Some(Some("SMS-тегі 6 таңбалы кодты осы чатқа жіберіңіз.".into()))
    );

    let code_message = chat.send_text(&code);
    let prompt = chat.next().await.unwrap();
    assert!(
        prompt
            .text
            .starts_with("🔒 Хабарламаңыз қауіпсіздік үшін чаттан жойылды."),
        "{}",
        prompt.text
    );
    assert!(prompt.text.contains("құпиясөз ойлап табыңыз"));
    assert!(
        deleted(&chat, code_message),
        "the code is deleted from the chat"
    );
    let first = chat.send_text(PASSWORD);
    let again = chat.next().await.unwrap();
    assert!(
        again.text.ends_with("Құпиясөзді тағы бір рет жіберіңіз."),
        "{}",
        again.text
    );
    let second = chat.send_text(PASSWORD);
    let inside = chat.next().await.unwrap();
    assert!(
        inside
            .text
            .contains("✅ Құпиясөз сақталды. Оны есте сақтаңыз немесе жазып қойыңыз"),
        "{}",
        inside.text
    );
    assert!(
        inside.text.ends_with("Бөлімді таңдаңыз:"),
        "{}",
        inside.text
    );
    assert!(deleted(&chat, first) && deleted(&chat, second));

    let hash = t
        .storage()
        .fetch_i64("SELECT COUNT(*) FROM cabinets WHERE password_hash LIKE '$argon2id$%'")
        .await
        .unwrap();
    assert_eq!(hash, 1);
    let dialogue = t.storage().chat(701).await.unwrap().unwrap().dialogue;
    assert!(
        !dialogue.contains(PASSWORD) && !dialogue.contains(&code),
        "{dialogue}"
    );
    assert!(
        t.storage()
            .chat(701)
            .await
            .unwrap()
            .unwrap()
            .session()
            .is_some()
    );
    let logs = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(!logs.is_empty(), "logs were captured");
    for secret in [
        PASSWORD,
        code.as_str(),
        AIGERIM,
        "+77011234545",
        "7011234545",
    ] {
        assert!(!logs.contains(secret), "the logs hold {secret:?}");
    }
    // An IIN in the logs keeps its last four digits and nothing else: the birth year and
    // month would leave a few thousand candidates.
    assert!(logs.contains("********2348"), "the masked IIN is logged");
    assert!(!logs.contains("9003*"), "more than the last four digits");
}

async fn first_login_in_russian_then_returning(t: &mut TestBot) {
    let mut chat = at_iin_prompt(t, 702, "ru", "Шымкент").await;
    let code_screen = say(&mut chat, GULNAR).await;
    assert!(
        code_screen
            .text
            .starts_with("Код подтверждения отправлен по SMS на номер +7 *** *** 65 43."),
        "{}",
        code_screen.text
    );
    assert!(t.sms.lock().unwrap()[0].contains("Личный кабинет: код подтверждения"));
    let inside = {
        say(&mut chat, &t.last_code()).await;
        say(&mut chat, "Жаркое лето в Шымкенте").await;
        say(&mut chat, "Жаркое лето в Шымкенте").await
    };
    assert!(inside.text.ends_with("Выберите раздел:"), "{}", inside.text);
    chat.send_text("/logout");
    let out = chat.next().await.unwrap();
    assert!(
        out.text.starts_with("Вы вышли из кабинета."),
        "{}",
        out.text
    );
    assert!(
        t.storage()
            .chat(702)
            .await
            .unwrap()
            .unwrap()
            .session()
            .is_none()
    );
    chat.press("🔐 Личный кабинет").unwrap();
    chat.next().await.unwrap();
    let prompt = say(&mut chat, GULNAR).await;
    assert_eq!(prompt.text, "Отправьте ваш пароль.");
    assert_eq!(prompt.labels(), ["Забыли пароль?", "Отмена"]);
    let wrong = say(&mut chat, "Холодная зима").await;
    assert!(
        wrong.text.contains("Неверный пароль. Осталось 4 попытки."),
        "{}",
        wrong.text
    );
    let right = say(&mut chat, "Жаркое лето в Шымкенте").await;
    assert!(right.text.ends_with("Выберите раздел:"), "{}", right.text);
    assert_eq!(
        t.sms.lock().unwrap().len(),
        1,
        "a returning parent needs no code"
    );
}

async fn unknown_iin_gets_the_memo_answer(t: &mut TestBot) {
    let mut chat = at_iin_prompt(t, 703, "kk", "Астана").await;
    let answer = say(&mut chat, AIGERIM).await; // Алматы's parent, not Астана's
    assert!(
        answer
            .text
            .starts_with("Астана елді мекенінде бұл ЖСН бойынша жеке кабинет әзірге жоқ."),
        "{}",
        answer.text
    );
    assert!(
        answer
            .text
            .contains("алғашқы өтінішті бергенде автоматты түрде ашылады")
    );
    assert_eq!(
        answer.labels(),
        ["ЖСН-ді қайта енгізу", "Елді мекенді өзгерту"]
    );
    assert!(t.sms.lock().unwrap().is_empty());
    chat.press("ЖСН-ді қайта енгізу").unwrap();
    assert!(
        chat.next()
            .await
            .unwrap()
            .text
            .starts_with("Жеке сәйкестендіру нөміріңізді")
    );
}

async fn wrong_expired_and_exhausted_codes(t: &mut TestBot) {
    t.reconfigure(&[("OTP_MAX_ATTEMPTS", "3")]).await;
    let mut chat = at_iin_prompt(t, 704, "ru", "Алматы").await;
    say(&mut chat, AIGERIM).await;
    let code = t.last_code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let answer = say(&mut chat, wrong).await;
    assert!(
        answer.text.contains("Неверный код. Осталось 2 попытки."),
        "{}",
        answer.text
    );
    assert!(
        say(&mut chat, "12ab")
            .await
            .text
            .contains("Код состоит из 6 цифр.")
    );
    assert!(
        say(&mut chat, wrong)
            .await
            .text
            .contains("Неверный код. Осталась 1 попытка.")
    );
    assert!(
        say(&mut chat, wrong)
            .await
            .text
            .contains("Слишком много неверных попыток.")
    );
    let blocked = say(&mut chat, &code).await;
    assert!(
        blocked.text.contains("Слишком много неверных попыток."),
        "even the right code: {}",
        blocked.text
    );
    // A fresh code, then let it expire.
    expire_codes(t).await;
    chat.press("Отправить код ещё раз").unwrap();
    assert!(
        chat.next()
            .await
            .unwrap()
            .text
            .starts_with("Новый код отправлен (2-й).")
    );
    let fresh = t.last_code();
    expire_codes(t).await;
    assert!(
        say(&mut chat, &fresh)
            .await
            .text
            .contains("Срок действия кода истёк.")
    );
}

/// Moves every code's times an hour into the past (the pause before another code passes
/// with them).
async fn expire_codes(t: &TestBot) {
    let past = common::sql_time(
        t.storage(),
        kabinet::clock::now() - chrono::Duration::hours(1),
    );
    let sql = format!("UPDATE otp_codes SET created_at = {past}, expires_at = {past}");
    t.storage().execute_raw(&sql).await.unwrap();
    let_the_resend_pause_pass(t).await;
}

/// Moves the last code sent to every number an hour back: another may go now.
async fn let_the_resend_pause_pass(t: &TestBot) {
    let past = common::sql_time(
        t.storage(),
        kabinet::clock::now() - chrono::Duration::hours(1),
    );
    let sql =
        format!("UPDATE rate_limits SET window_start = {past} WHERE bucket LIKE 'code-pause:%'");
    t.storage().execute_raw(&sql).await.unwrap();
}

async fn resend_pause_and_daily_cap(t: &mut TestBot) {
    // A first login is a chat new to the cabinet: its own allowance applies.
    t.reconfigure(&[("OTP_RESEND_SECS", "60"), ("OTP_NEW_CHAT_LIMIT", "2")])
        .await;
    let mut chat = at_iin_prompt(t, 705, "kk", "Алматы").await;
    say(&mut chat, AIGERIM).await;
    chat.press("Кодты қайта жіберу").unwrap();
    let wait = chat.next().await.unwrap();
    assert!(
        wait.text
            .starts_with("Кодты қайта жіберу 60 секундтан кейін мүмкін болады.")
            || wait.text.starts_with("Кодты қайта жіберу 59"),
        "{}",
        wait.text
    );
    assert_eq!(t.sms.lock().unwrap().len(), 1);
    expire_codes(t).await;
    chat.press("Кодты қайта жіберу").unwrap();
    assert!(
        chat.next()
            .await
            .unwrap()
            .text
            .starts_with("Жаңа код жіберілді (2-ші).")
    );
    assert_eq!(t.sms.lock().unwrap().len(), 2);
    // The codes above were moved an hour back; they still count for the day.
    chat.press("Кодты қайта жіберу").unwrap();
    let capped = chat.next().await.unwrap();
    assert!(
        capped.text.starts_with("Бүгін кодтар тым көп сұралды."),
        "{}",
        capped.text
    );
    assert_eq!(t.sms.lock().unwrap().len(), 2);
}

async fn every_password_rule_has_its_message(t: &mut TestBot) {
    let mut chat = at_iin_prompt(t, 706, "ru", "Алматы").await;
    say(&mut chat, AIGERIM).await;
    say(&mut chat, &t.last_code()).await;
    let cases = [
        ("коротко", "Пароль должен быть не короче 8 символов."),
        (AIGERIM, "Пароль не должен совпадать с ИИН."),
        (
            "8 701 123 45 45",
            "Пароль не должен совпадать с номером телефона.",
        ),
        ("password123", "Этот пароль слишком распространён"),
        ("qwertyuiop", "Этот пароль слишком распространён"),
    ];
    for (password, message) in cases {
        let answer = say(&mut chat, password).await;
        assert!(answer.text.contains(message), "{password}: {}", answer.text);
        assert!(
            answer.text.ends_with("ИИН и номер телефона не подойдут."),
            "the prompt again: {}",
            answer.text
        );
    }
    say(&mut chat, "Алма ағашы гүлдеді").await;
    let mismatch = say(&mut chat, "Алма ағашы гүлдеді!").await;
    assert!(
        mismatch.text.contains("Пароли не совпали."),
        "{}",
        mismatch.text
    );
    say(&mut chat, "Алма ағашы гүлдеді").await;
    assert!(
        say(&mut chat, "Алма ағашы гүлдеді")
            .await
            .text
            .ends_with("Выберите раздел:")
    );
}

/// One chat's wrong passwords lock that chat out; `tests/account_safety.rs` has the
/// cabinet's own lock, from several chats.
async fn lockout_and_its_end(t: &mut TestBot) {
    t.reconfigure(&[("LOGIN_MAX_FAILURES", "2"), ("LOCKOUT_MINUTES", "15")])
        .await;
    let mut chat = at_iin_prompt(t, 707, "kk", "Алматы").await;
    first_login(t, &mut chat, AIGERIM, PASSWORD).await;
    chat.send_text("/logout");
    chat.next().await.unwrap();
    chat.press("🔐 Жеке кабинет").unwrap();
    chat.next().await.unwrap();
    say(&mut chat, AIGERIM).await;
    assert!(
        say(&mut chat, "бұрыс құпиясөз")
            .await
            .text
            .contains("Тағы 1 әрекет қалды.")
    );
    let locked = say(&mut chat, "тағы да бұрыс").await;
    assert!(
        locked
            .text
            .contains("бұл чаттан кіру уақытша жабылды. Қайта кіру: "),
        "{}",
        locked.text
    );
    assert!(
        locked.text.contains("«Құпиясөзді ұмыттыңыз ба?»"),
        "how to lift it now: {}",
        locked.text
    );
    // The parent is told by SMS, in one segment.
    let sms = t.sms.lock().unwrap().last().cloned().unwrap();
    assert!(
        sms.contains(": Жеке кабинет: қате құпиясөз енгізген чат жабылды. Ашылады: "),
        "{sms}"
    );
    let still = say(&mut chat, PASSWORD).await;
    assert!(
        still.text.contains("уақытша жабылды."),
        "even the right password waits: {}",
        still.text
    );
    // The lock ends.
    let past = common::sql_time(
        t.storage(),
        kabinet::clock::now() - chrono::Duration::minutes(1),
    );
    t.storage()
        .execute_raw(&format!("UPDATE login_failures SET locked_until = {past}"))
        .await
        .unwrap();
    // So does the window of this account's wrong passwords (as long as a lock).
    let window_ago = common::sql_time(
        t.storage(),
        kabinet::clock::now() - chrono::Duration::minutes(16),
    );
    t.storage()
        .execute_raw(&format!(
            "UPDATE rate_limits SET window_start = {window_ago}"
        ))
        .await
        .unwrap();
    assert!(
        say(&mut chat, PASSWORD)
            .await
            .text
            .ends_with("Бөлімді таңдаңыз:")
    );
    let counted = t
        .storage()
        .fetch_i64("SELECT COUNT(*) FROM login_failures WHERE chat_id = 707")
        .await
        .unwrap();
    assert_eq!(
        counted, 0,
        "a successful login forgets the chat's earlier locks: the next one does not double"
    );
}

async fn forgot_password_ends_the_other_chats(t: &mut TestBot) {
    let mut phone = at_iin_prompt(t, 708, "kk", "Алматы").await;
    first_login(t, &mut phone, AIGERIM, PASSWORD).await;
    let mut laptop = at_iin_prompt(t, 709, "kk", "Алматы").await;
    say(&mut laptop, AIGERIM).await;
    let_the_resend_pause_pass(t).await;
    laptop.press("Құпиясөзді ұмыттыңыз ба?").unwrap();
    let code_screen = laptop.next().await.unwrap();
    assert!(
        code_screen.text.starts_with("Растау коды SMS арқылы"),
        "{}",
        code_screen.text
    );
    say(&mut laptop, &t.last_code()).await;
    say(&mut laptop, "Жаңа құпиясөз 2027").await;
    assert!(
        say(&mut laptop, "Жаңа құпиясөз 2027")
            .await
            .text
            .ends_with("Бөлімді таңдаңыз:")
    );
    assert!(
        t.storage()
            .chat(708)
            .await
            .unwrap()
            .unwrap()
            .session()
            .is_none(),
        "the other chat is logged out"
    );
    let ended = t
        .storage()
        .fetch_i64(
            "SELECT COUNT(*) FROM sessions WHERE chat_id = 708 AND end_reason = 'password_changed'",
        )
        .await
        .unwrap();
    assert_eq!(ended, 1);
    phone.press("Шығу").unwrap();
    let answer = phone.next().await.unwrap();
    assert!(
        answer
            .text
            .starts_with("Кабинеттегі сеансыңыз аяқталды. Қайта кіріңіз."),
        "{}",
        answer.text
    );
}

async fn logout_and_a_stale_button_show_nothing_personal(t: &mut TestBot) {
    let mut chat = at_iin_prompt(t, 710, "ru", "Алматы").await;
    let inside = first_login(t, &mut chat, AIGERIM, PASSWORD).await;
    chat.press("Выйти").unwrap();
    let out = chat.next().await.unwrap();
    assert!(
        out.text.starts_with("Вы вышли из кабинета."),
        "{}",
        out.text
    );
    let stale = chat.press_data(inside.message_id, "logout").unwrap();
    let _ = chat.answer_of(&stale).await;
    assert!(chat.callback_answer(&stale).is_some());
    for m in chat
        .transcript()
        .iter()
        .filter(|m| m.from_bot && !m.deleted)
    {
        assert!(
            !m.text.contains("Айгерім") && !m.text.contains("9003"),
            "{}",
            m.text
        );
    }
}

async fn contact_instead_of_the_code(t: &mut TestBot) {
    t.reconfigure(&[("ALLOW_CONTACT_VERIFICATION", "true")])
        .await;
    let mut chat = at_iin_prompt(t, 711, "kk", "Алматы").await;
    chat.send_text(AIGERIM);
    chat.next().await.unwrap();
    let offer = chat.next().await.unwrap();
    assert_eq!(offer.reply_keyboard, ["📱 Нөмірмен бөлісу"]);
    chat.send_contact("+77011234545", Some(999));
    assert!(
        chat.next()
            .await
            .unwrap()
            .text
            .starts_with("Тек өз нөміріңізбен бөлісуге болады.")
    );
    chat.send_contact("+77770000000", Some(711));
    assert!(
        chat.next()
            .await
            .unwrap()
            .text
            .starts_with("Бұл нөмір кабинеттегі нөмірге сәйкес келмейді.")
    );
    chat.send_contact("77011234545", Some(711));
    let prompt = chat.next().await.unwrap();
    assert!(
        prompt.text.contains("құпиясөз ойлап табыңыз"),
        "{}",
        prompt.text
    );
}

async fn iin_lookups_are_rate_limited(t: &mut TestBot) {
    t.reconfigure(&[
        ("IIN_LOOKUP_LIMIT", "2"),
        ("IIN_LOOKUP_WINDOW_MINUTES", "10"),
    ])
    .await;
    let mut chat = at_iin_prompt(t, 712, "ru", "Астана").await;
    say(&mut chat, AIGERIM).await;
    chat.press("Ввести ИИН заново").unwrap();
    chat.next().await.unwrap();
    say(&mut chat, GULNAR).await;
    chat.press("Ввести ИИН заново").unwrap();
    chat.next().await.unwrap();
    let limited = say(&mut chat, "861120343215").await;
    assert!(
        limited
            .text
            .starts_with("ИИН вводили слишком часто. Попробуйте через 10 мин."),
        "{}",
        limited.text
    );
}

bot_stories! {
    with &[("PRIVACY_POLICY_URL", "https://edu.example.kz/privacy")];
    a_first_login_asks_consent_before_the_code,
}

async fn a_first_login_asks_consent_before_the_code(t: &mut TestBot) {
    let mut chat = at_iin_prompt(t, 751, "ru", "Алматы").await;
    let consent = say(&mut chat, AIGERIM).await;
    assert!(
        consent
            .text
            .starts_with("Чтобы открыть личный кабинет, дайте согласие на обработку"),
        "{}",
        consent.text
    );
    assert!(
        consent
            .text
            .contains("Подробнее: политика конфиденциальности")
    );
    assert_eq!(consent.labels(), ["✅ Даю согласие", "Отказаться"]);
    let sent = t
        .sim
        .requests()
        .into_iter()
        .rev()
        .find(|r| {
            r.params["text"]
                .as_str()
                .is_some_and(|t| t.contains("Подробнее"))
        })
        .unwrap();
    assert!(
        sent.params["text"]
            .as_str()
            .unwrap()
            .contains(r#"<a href="https://edu.example.kz/privacy">"#),
        "the policy is a link"
    );
    assert!(t.sms.lock().unwrap().is_empty(), "no code before consent");

    chat.press("Отказаться").unwrap();
    let declined = chat.next().await.unwrap();
    assert!(
        declined
            .text
            .starts_with("Без согласия кабинет не открывается."),
        "{}",
        declined.text
    );
    let consented =
        "SELECT COUNT(*) FROM cabinets WHERE iin = '900315412348' AND consented_at IS NOT NULL";
    assert_eq!(t.storage().fetch_i64(consented).await.unwrap(), 0);
    assert!(t.sms.lock().unwrap().is_empty());

    chat.press("🔐 Личный кабинет").unwrap();
    chat.next().await.unwrap();
    say(&mut chat, AIGERIM).await;
    chat.press("✅ Даю согласие").unwrap();
    let code_screen = chat.next().await.unwrap();
    assert!(
        code_screen
            .text
            .starts_with("Код подтверждения отправлен по SMS"),
        "{}",
        code_screen.text
    );
    assert_eq!(t.sms.lock().unwrap().len(), 1);
    assert_eq!(
        t.storage().fetch_i64(consented).await.unwrap(),
        0,
        "recorded once the phone is proved, not on the press"
    );
    say(&mut chat, &t.last_code()).await;
    assert_eq!(t.storage().fetch_i64(consented).await.unwrap(), 1);
    say(&mut chat, PASSWORD).await;
    assert!(
        say(&mut chat, PASSWORD)
            .await
            .text
            .ends_with("Выберите раздел:")
    );
}
