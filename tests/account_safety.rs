//! Account safety (SPEC §5), tried as an attacker would: with a minute at a parent's unlocked
//! Telegram («a borrowed phone is not a stolen cabinet»), or with nothing but the parent's
//! IIN («strangers pay for their own attempts»). Each story runs through the simulator on
//! SQLite and on PostgreSQL; the limits under concurrent attempts are in `limits.rs`.

mod common;

use common::{TestBot, demo_now, kindergarten_application, press, say, sql_time, valid_iin};
use kabinet::domain::{Iin, Language, LocalityCode, OtpPurpose, Sex};
use kabinet::sim::ChatHandle;
use kabinet::storage::Storage;

const AIGERIM: &str = "900315412348"; // Алматы, +7 701 123 45 45, her cabinet speaks Kazakh
const AIGERIMS_PHONE: &str = "+7 *** *** 45 45";
const PASSWORD: &str = "Көктемгі жаңбыр 2026";
const NEW_PHONE: &str = "+7 702 555 66 77";
const NEW_PHONE_MASKED: &str = "+7 *** *** 66 77";

bot_stories! {
    a_new_main_phone_needs_the_password_tells_the_old_number_and_ends_other_sessions,
    an_email_or_an_extra_phone_needs_the_password_first,
    a_wrong_password_before_a_change_counts_and_its_lock_ends_only_this_chat,
    a_phone_change_ended_from_another_chat_lands_on_the_start_and_its_code_is_dead,
    a_password_prompt_expires_ten_minutes_after_the_code,
    a_stale_password_prompt_never_sets_another_cabinets_password,
    a_strangers_wrong_passwords_lock_the_strangers_chat_not_the_parent,
    five_chats_of_one_parent_send_the_right_password_at_once_and_all_get_in,
    the_resend_pause_is_the_numbers_not_the_cabinets,
}

bot_stories! {
    with &[("SUPPORT_CONTACT", "+7 727 000 00 00")];
    a_new_main_phone_in_kazakh_and_the_old_number_told_where_to_call,
}

bot_stories! {
    with &[("OTP_RESEND_SECS", "0")];
    strangers_asking_for_codes_leave_the_parents_own_whole,
}

bot_stories! {
    with &[("ALLOW_CONTACT_VERIFICATION", "true"), ("OTP_NEW_CHAT_LIMIT", "1")];
    a_shared_contact_resets_the_password_whatever_the_sms_limits_say,
}

bot_stories! {
    with &[("PRIVACY_POLICY_URL", "https://portal.example.kz/privacy"), ("OTP_RESEND_SECS", "0")];
    consent_is_recorded_only_once_the_phone_is_proved,
}

on_both_backends! {
    cabinet_ids_are_never_reused,
}

fn deleted(chat: &ChatHandle, message_id: i64) -> bool {
    chat.transcript()
        .iter()
        .any(|m| m.message_id == message_id && m.deleted)
}

async fn count(t: &TestBot, sql: &str) -> i64 {
    t.storage().fetch_i64(sql).await.unwrap()
}

async fn main_phone(t: &TestBot, cabinet: i64) -> String {
    t.storage().cabinet(cabinet).await.unwrap().unwrap().phone
}

/// Settings → «change main phone» → the password → the new number: the code screen.
async fn to_new_phone_code(chat: &mut ChatHandle) -> String {
    press(chat, "⚙️ Настройки").await;
    let asked = press(chat, "📱 Сменить основной телефон").await;
    assert!(
        asked
            .text
            .starts_with("Это изменение защищено паролем: отправьте ваш пароль от кабинета."),
        "{}",
        asked.text
    );
    let prompt = say(chat, PASSWORD).await;
    assert!(
        prompt
            .text
            .contains("Отправьте новый основной номер телефона."),
        "{}",
        prompt.text
    );
    say(chat, NEW_PHONE).await.text
}

async fn a_new_main_phone_needs_the_password_tells_the_old_number_and_ends_other_sessions(
    t: &mut TestBot,
) {
    let cabinet = t.give_password("almaty", AIGERIM, PASSWORD).await;
    let (mut laptop, _) = t.logged_in(931, Language::Ru, "almaty", AIGERIM).await;
    let (mut tablet, _) = t.logged_in(932, Language::Ru, "almaty", AIGERIM).await;
    press(&mut laptop, "⚙️ Настройки").await;
    press(&mut laptop, "📱 Сменить основной телефон").await;
    let typed = laptop.send_text(PASSWORD);
    laptop.next().await.unwrap();
    assert!(deleted(&laptop, typed), "the password leaves the chat");
    let code_screen = say(&mut laptop, NEW_PHONE).await;
    assert!(
        code_screen.text.starts_with(&format!(
            "Код подтверждения отправлен по SMS на номер {NEW_PHONE_MASKED}."
        )),
        "{}",
        code_screen.text
    );
    assert_eq!(
        t.sms_to(NEW_PHONE_MASKED).len(),
        1,
        "the code goes to the new number"
    );
    let done = say(&mut laptop, &t.last_code()).await;
    assert!(
        done.text.contains(
            "✅ Основной телефон изменён. Другие сеансы кабинета завершены, на прежний номер отправлено SMS."
        ),
        "{}",
        done.text
    );
    assert!(
        done.text
            .contains(&format!("Основной телефон: {NEW_PHONE_MASKED}")),
        "{}",
        done.text
    );
    assert_eq!(main_phone(t, cabinet).await, "+77025556677");
    // The old number hears of it, in the cabinet's language.
    assert_eq!(
        t.sms_to(AIGERIMS_PHONE).last().map(String::as_str),
        Some(
            "Жеке кабинет: кіру нөмірі +7 *** *** 66 77 болып өзгерді. Бұл сіз болмасаңыз, порталдың қолдау қызметіне хабарласыңыз."
        )
    );
    // Every other session ended: the tablet is back at the start, and told why.
    let told = say(&mut tablet, "/menu").await;
    assert!(
        told.text.contains("Ваш сеанс в кабинете завершён."),
        "{}",
        told.text
    );
    assert_eq!(
        count(
            t,
            "SELECT COUNT(*) FROM sessions WHERE chat_id = 932 AND end_reason = 'phone_changed'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            t,
            "SELECT COUNT(*) FROM sessions WHERE chat_id = 931 AND ended_at IS NULL"
        )
        .await,
        1,
        "the chat that changed it stays in"
    );
}

async fn a_new_main_phone_in_kazakh_and_the_old_number_told_where_to_call(t: &mut TestBot) {
    t.give_password("almaty", AIGERIM, PASSWORD).await;
    let (mut chat, _) = t.logged_in(933, Language::Kk, "almaty", AIGERIM).await;
    press(&mut chat, "⚙️ Баптаулар").await;
    let asked = press(&mut chat, "📱 Негізгі телефонды ауыстыру").await;
    assert!(
        asked
            .text
            .starts_with("Бұл өзгеріс құпиясөзбен қорғалған: кабинеттің құпиясөзін жіберіңіз."),
        "{}",
        asked.text
    );
    say(&mut chat, PASSWORD).await;
    say(&mut chat, NEW_PHONE).await;
    let done = say(&mut chat, &t.last_code()).await;
    assert!(
        done.text.contains(
            "✅ Негізгі телефон ауыстырылды. Кабинеттің басқа сеанстары аяқталды, бұрынғы нөмірге SMS жіберілді."
        ),
        "{}",
        done.text
    );
    assert_eq!(
        t.sms_to(AIGERIMS_PHONE).last().map(String::as_str),
        Some(
            "Жеке кабинет: кіру нөмірі +7 *** *** 66 77 болып өзгерді. Бұл сіз болмасаңыз, қолдау қызметіне хабарласыңыз: +7 727 000 00 00"
        )
    );
}

async fn an_email_or_an_extra_phone_needs_the_password_first(t: &mut TestBot) {
    let cabinet = t.give_password("almaty", AIGERIM, PASSWORD).await;
    let (mut chat, _) = t.logged_in(934, Language::Ru, "almaty", AIGERIM).await;
    press(&mut chat, "⚙️ Настройки").await;
    let asked = press(&mut chat, "✉️ Электронная почта").await;
    assert!(asked.text.contains("защищено паролем"), "{}", asked.text);
    let wrong = say(&mut chat, "не тот пароль").await;
    assert!(
        wrong.text.starts_with(
            "🔒 Ваше сообщение удалено из чата в целях безопасности.\n\nНеверный пароль. Осталось 4 попытки."
        ),
        "a wrong one counts like any other: {}",
        wrong.text
    );
    assert!(wrong.text.contains("защищено паролем"), "still asked");
    let prompt = say(&mut chat, PASSWORD).await;
    assert!(
        prompt.text.contains("Отправьте адрес электронной почты"),
        "{}",
        prompt.text
    );
    let saved = say(&mut chat, "new.address@example.kz").await;
    assert!(
        saved.text.starts_with("Электронная почта сохранена."),
        "{}",
        saved.text
    );
    press(&mut chat, "➕ Добавить телефон").await;
    let prompt = say(&mut chat, PASSWORD).await;
    assert!(
        prompt
            .text
            .contains("Отправьте дополнительный номер телефона."),
        "{}",
        prompt.text
    );
    let added = say(&mut chat, "+7 705 111 22 33").await;
    assert!(
        added.text.starts_with("Телефон добавлен."),
        "{}",
        added.text
    );
    let record = t.storage().cabinet(cabinet).await.unwrap().unwrap();
    assert_eq!(record.email.as_deref(), Some("new.address@example.kz"));
    assert_eq!(
        t.storage().extra_phones(cabinet).await.unwrap(),
        ["+77051112233"]
    );
}

async fn a_wrong_password_before_a_change_counts_and_its_lock_ends_only_this_chat(t: &mut TestBot) {
    let cabinet = t.give_password("almaty", AIGERIM, PASSWORD).await;
    let (mut borrowed, _) = t.logged_in(941, Language::Ru, "almaty", AIGERIM).await;
    let (mut parents, _) = t.logged_in(942, Language::Ru, "almaty", AIGERIM).await;
    press(&mut borrowed, "⚙️ Настройки").await;
    press(&mut borrowed, "📱 Сменить основной телефон").await;
    for left in ["4 попытки", "3 попытки", "2 попытки", "1 попытка"] {
        let wrong = say(&mut borrowed, "угадываю").await;
        assert!(wrong.text.contains(left), "{left}: {}", wrong.text);
    }
    let locked = say(&mut borrowed, "угадываю").await;
    assert!(
        locked.text.contains(
            "Слишком много неверных паролей: вход из этого чата временно закрыт. Вход снова: "
        ),
        "{}",
        locked.text
    );
    assert!(
        locked
            .text
            .ends_with("Чтобы войти, нажмите «Личный кабинет»."),
        "the borrowed chat is out: {}",
        locked.text
    );
    assert_eq!(
        count(
            t,
            "SELECT COUNT(*) FROM sessions WHERE chat_id = 941 AND ended_at IS NULL"
        )
        .await,
        0
    );
    // The parent's own chat is still in, and the cabinet is not locked.
    let menu = say(&mut parents, "/menu").await;
    assert!(menu.text.ends_with("Выберите раздел:"), "{}", menu.text);
    let record = t.storage().cabinet(cabinet).await.unwrap().unwrap();
    assert_eq!(record.locked_until, None);
    assert_eq!(record.phone, "+77011234545");
    let told = t.sms_to(AIGERIMS_PHONE);
    assert!(
        told.last()
            .is_some_and(|sms| sms
                .starts_with("Жеке кабинет: қате құпиясөз енгізген чат жабылды. Ашылады: ")),
        "the parent is told of the lock: {told:?}"
    );
}

async fn a_phone_change_ended_from_another_chat_lands_on_the_start_and_its_code_is_dead(
    t: &mut TestBot,
) {
    let cabinet = t.give_password("almaty", AIGERIM, PASSWORD).await;
    let (mut borrowed, _) = t.logged_in(951, Language::Ru, "almaty", AIGERIM).await;
    let (mut parents, _) = t.logged_in(952, Language::Ru, "almaty", AIGERIM).await;
    to_new_phone_code(&mut borrowed).await;
    let code = t.last_code();
    // The parent notices and ends that session from their own chat.
    press(&mut parents, "⚙️ Настройки").await;
    press(&mut parents, "📱 Активные сеансы").await;
    let ended = press(&mut parents, "✖ Завершить: Parent").await;
    assert!(ended.text.starts_with("Сеанс завершён."), "{}", ended.text);
    // The code that reached the new number no longer works: the chat is at the start.
    let typed = borrowed.send_text(&code);
    let start = borrowed.next().await.unwrap();
    assert!(
        start
            .text
            .contains("Ваш сеанс в кабинете завершён. Войдите снова."),
        "{}",
        start.text
    );
    assert!(
        start
            .text
            .ends_with("Чтобы войти, нажмите «Личный кабинет»."),
        "{}",
        start.text
    );
    assert!(!start.text.contains("не понял"), "{}", start.text);
    assert!(deleted(&borrowed, typed), "the code still leaves the chat");
    assert_eq!(main_phone(t, cabinet).await, "+77011234545");
    let reserved = t
        .storage()
        .reserve_code_attempt(
            cabinet,
            951,
            OtpPurpose::PhoneChange,
            5,
            kabinet::clock::now(),
        )
        .await
        .unwrap();
    assert!(reserved.is_none(), "the step's code is dead");
}

async fn a_password_prompt_expires_ten_minutes_after_the_code(t: &mut TestBot) {
    let cabinet = t.cabinet_id("almaty", AIGERIM).await;
    let mut chat = t
        .chat_at(961, Language::Ru, "almaty", r#"{"s":"entering_iin"}"#)
        .await;
    say(&mut chat, AIGERIM).await;
    let prompt = say(&mut chat, &t.last_code()).await;
    assert!(
        prompt.text.contains("Теперь придумайте пароль"),
        "{}",
        prompt.text
    );
    // Eleven minutes pass at the prompt.
    let used = kabinet::clock::now() - chrono::Duration::minutes(11);
    t.storage()
        .execute_raw(&format!(
            "UPDATE otp_codes SET consumed_at = {} WHERE chat_id = 961",
            sql_time(t.storage(), used)
        ))
        .await
        .unwrap();
    say(&mut chat, PASSWORD).await;
    let lapsed = say(&mut chat, PASSWORD).await;
    assert!(
        lapsed
            .text
            .contains("Время на установку пароля истекло. Подтвердите номер ещё раз."),
        "{}",
        lapsed.text
    );
    assert!(
        t.storage()
            .cabinet(cabinet)
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .is_none(),
        "nothing was set"
    );
    assert!(
        t.storage()
            .chat(961)
            .await
            .unwrap()
            .unwrap()
            .session()
            .is_none()
    );
}

/// A new parent in Almaty (the newest cabinet: the one with the highest id).
async fn new_parent(s: &Storage, number: &str, serial_day: u32) -> (Iin, i64) {
    let birth = chrono::NaiveDate::from_ymd_opt(1991, 4, serial_day).unwrap();
    let parent = valid_iin(birth, Sex::Female);
    let child = valid_iin(
        chrono::NaiveDate::from_ymd_opt(2022, 5, serial_day).unwrap(),
        Sex::Male,
    );
    let application = kindergarten_application(
        number,
        &parent,
        &child,
        chrono::NaiveDate::from_ymd_opt(2022, 5, serial_day).unwrap(),
    );
    let written = s
        .upsert_application(&application, kabinet::clock::now())
        .await
        .unwrap();
    (parent, written.cabinet_id)
}

async fn a_stale_password_prompt_never_sets_another_cabinets_password(t: &mut TestBot) {
    let (first, first_id) = new_parent(t.storage(), "ALM-2026-900001", 11).await;
    let mut chat = t
        .chat_at(971, Language::Ru, "almaty", r#"{"s":"entering_iin"}"#)
        .await;
    say(&mut chat, first.as_str()).await;
    let prompt = say(&mut chat, &t.last_code()).await;
    assert!(
        prompt.text.contains("Теперь придумайте пароль"),
        "{}",
        prompt.text
    );
    // The portal deletes that cabinet while the chat waits, and another parent's first
    // application opens a new one.
    let almaty = LocalityCode::parse("almaty").unwrap();
    assert!(t.storage().delete_cabinet(&almaty, &first).await.unwrap());
    let (_, second_id) = new_parent(t.storage(), "ALM-2026-900002", 12).await;
    assert_ne!(
        second_id, first_id,
        "a deleted cabinet's id is not given again"
    );
    say(&mut chat, PASSWORD).await;
    chat.send_text(PASSWORD);
    chat.settle(std::time::Duration::from_millis(300)).await;
    let second = t.storage().cabinet(second_id).await.unwrap().unwrap();
    assert!(
        second.password_hash.is_none(),
        "the other parent's cabinet is untouched"
    );
    assert!(
        t.storage()
            .chat(971)
            .await
            .unwrap()
            .unwrap()
            .session()
            .is_none(),
        "and nobody is logged into it"
    );
}

async fn cabinet_ids_are_never_reused(s: Storage) {
    kabinet::demo::load(&s, demo_now()).await.unwrap();
    let (first, first_id) = new_parent(&s, "ALM-2026-900001", 11).await;
    let almaty = LocalityCode::parse("almaty").unwrap();
    assert!(s.delete_cabinet(&almaty, &first).await.unwrap());
    let (_, second_id) = new_parent(&s, "ALM-2026-900002", 12).await;
    assert!(second_id > first_id, "{second_id} after {first_id}");
}

async fn a_strangers_wrong_passwords_lock_the_strangers_chat_not_the_parent(t: &mut TestBot) {
    let cabinet = t.give_password("almaty", AIGERIM, PASSWORD).await;
    let state = format!(r#"{{"s":"entering_password","cabinet":{cabinet}}}"#);
    let mut stranger = t.chat_at(981, Language::Kk, "almaty", &state).await;
    for _ in 0..4 {
        let wrong = say(&mut stranger, "болжап көремін").await;
        assert!(
            wrong.text.contains("Құпиясөз дұрыс емес."),
            "{}",
            wrong.text
        );
    }
    let locked = say(&mut stranger, "болжап көремін").await;
    assert!(
        locked.text.contains(
            "Қате құпиясөз тым көп енгізілді: бұл чаттан кіру уақытша жабылды. Қайта кіру: "
        ),
        "{}",
        locked.text
    );
    // Locked: the next guess is not even checked.
    let again = say(&mut stranger, PASSWORD).await;
    assert!(again.text.contains("уақытша жабылды"), "{}", again.text);
    assert!(
        t.sms_to(AIGERIMS_PHONE)
            .last()
            .is_some_and(|sms| sms.starts_with("Жеке кабинет: қате құпиясөз енгізген чат жабылды.")),
        "the parent is told"
    );
    // The parent, in a chat of her own, is not locked out.
    let mut parent = t
        .chat_at(982, Language::Ru, "almaty", r#"{"s":"entering_iin"}"#)
        .await;
    let prompt = say(&mut parent, AIGERIM).await;
    assert!(
        prompt.text.starts_with("Отправьте ваш пароль.") && !prompt.text.contains("заблокирован"),
        "{}",
        prompt.text
    );
    let inside = say(&mut parent, PASSWORD).await;
    assert!(inside.text.ends_with("Выберите раздел:"), "{}", inside.text);
    let record = t.storage().cabinet(cabinet).await.unwrap().unwrap();
    assert_eq!(
        record.locked_until, None,
        "the cabinet itself was never locked"
    );
}

async fn five_chats_of_one_parent_send_the_right_password_at_once_and_all_get_in(t: &mut TestBot) {
    let cabinet = t.give_password("almaty", AIGERIM, PASSWORD).await;
    let state = format!(r#"{{"s":"entering_password","cabinet":{cabinet}}}"#);
    let mut chats = Vec::new();
    for i in 0..5 {
        chats.push(t.chat_at(990 + i, Language::Ru, "almaty", &state).await);
    }
    for chat in &chats {
        chat.send_text(PASSWORD);
    }
    for chat in &mut chats {
        let inside = chat.next().await.unwrap();
        assert!(inside.text.ends_with("Выберите раздел:"), "{}", inside.text);
    }
    let record = t.storage().cabinet(cabinet).await.unwrap().unwrap();
    assert_eq!((record.lockouts, record.locked_until), (0, None));
    assert_eq!(
        count(
            t,
            &format!(
                "SELECT COUNT(*) FROM sessions WHERE cabinet_id = {cabinet} AND ended_at IS NULL"
            )
        )
        .await,
        5
    );
    assert!(t.sms_to(AIGERIMS_PHONE).is_empty(), "no SMS about a lock");
}

async fn strangers_asking_for_codes_leave_the_parents_own_whole(t: &mut TestBot) {
    let cabinet = t.give_password("almaty", AIGERIM, PASSWORD).await;
    // The parent's own chat has logged in before.
    let mut own = t
        .chat_at(1000, Language::Ru, "almaty", r#"{"s":"entering_iin"}"#)
        .await;
    let now = kabinet::clock::now();
    t.storage().start_session(1000, cabinet, now).await.unwrap();
    t.storage()
        .end_chat_session(1000, kabinet::storage::SessionEnd::Logout, now)
        .await
        .unwrap();
    // Twenty strangers know the IIN and ask for codes at once, and once more each — and
    // one of them, again and again.
    let mut strangers = Vec::new();
    for i in 0..20 {
        strangers.push(
            t.chat_at(1001 + i, Language::Ru, "almaty", r#"{"s":"entering_iin"}"#)
                .await,
        );
    }
    for s in &strangers {
        s.send_text(AIGERIM);
    }
    for s in &mut strangers {
        s.next().await.unwrap();
    }
    for s in &strangers {
        s.press("Забыли пароль?").unwrap();
    }
    for s in &mut strangers {
        let sent = s.next().await.unwrap();
        assert!(
            sent.text.starts_with("Код подтверждения отправлен"),
            "{}",
            sent.text
        );
    }
    let one = &mut strangers[0];
    for expected in [
        "Новый код отправлен",
        "Новый код отправлен",
        "Сегодня запрошено слишком много кодов",
    ] {
        let answer = press(one, "Отправить код ещё раз").await;
        assert!(
            answer.text.starts_with(expected),
            "{expected}: {}",
            answer.text
        );
    }
    // The parent's own chat still gets its code.
    say(&mut own, AIGERIM).await;
    let sent = press(&mut own, "Забыли пароль?").await;
    assert!(
        sent.text.starts_with("Код подтверждения отправлен"),
        "{}",
        sent.text
    );
    let inside = {
        say(&mut own, &t.last_code()).await;
        say(&mut own, "Новый пароль весной").await;
        say(&mut own, "Новый пароль весной").await
    };
    assert!(inside.text.ends_with("Выберите раздел:"), "{}", inside.text);
}

async fn the_resend_pause_is_the_numbers_not_the_cabinets(t: &mut TestBot) {
    t.give_password("almaty", AIGERIM, PASSWORD).await;
    let mut chat = t
        .chat_at(1100, Language::Ru, "almaty", r#"{"s":"entering_iin"}"#)
        .await;
    say(&mut chat, AIGERIM).await;
    press(&mut chat, "Забыли пароль?").await;
    say(&mut chat, &t.last_code()).await;
    say(&mut chat, PASSWORD).await;
    let inside = say(&mut chat, PASSWORD).await;
    assert!(inside.text.ends_with("Выберите раздел:"), "{}", inside.text);
    // Within the minute, a code to a new number goes at once.
    let code_screen = to_new_phone_code(&mut chat).await;
    assert!(
        code_screen.starts_with(&format!(
            "Код подтверждения отправлен по SMS на номер {NEW_PHONE_MASKED}."
        )),
        "{code_screen}"
    );
}

async fn a_shared_contact_resets_the_password_whatever_the_sms_limits_say(t: &mut TestBot) {
    let mut chat = t
        .chat_at(1200, Language::Ru, "almaty", r#"{"s":"entering_iin"}"#)
        .await;
    say(&mut chat, AIGERIM).await;
    let offer = chat.next().await.unwrap();
    assert_eq!(offer.reply_keyboard, ["📱 Поделиться номером"]);
    // The code is lost, and this chat's one code a day is spent.
    t.storage()
        .execute_raw(&format!(
            "UPDATE otp_codes SET expires_at = {} WHERE chat_id = 1200",
            sql_time(
                t.storage(),
                kabinet::clock::now() - chrono::Duration::minutes(1)
            )
        ))
        .await
        .unwrap();
    let refused = press(&mut chat, "Отправить код ещё раз").await;
    assert!(
        refused
            .text
            .starts_with("Сегодня запрошено слишком много кодов."),
        "{}",
        refused.text
    );
    assert!(
        refused
            .text
            .contains("Новый код сейчас отправить нельзя. Подтвердите номер иначе: нажмите кнопку «📱 Поделиться номером» ниже."),
        "{}",
        refused.text
    );
    let offer = chat.next().await.unwrap();
    assert_eq!(offer.reply_keyboard, ["📱 Поделиться номером"]);
    chat.send_contact("+77011234545", Some(1200));
    let prompt = chat.next().await.unwrap();
    assert!(
        prompt.text.contains("Теперь придумайте пароль"),
        "{}",
        prompt.text
    );
    say(&mut chat, PASSWORD).await;
    let inside = say(&mut chat, PASSWORD).await;
    assert!(inside.text.ends_with("Выберите раздел:"), "{}", inside.text);
}

async fn consent_is_recorded_only_once_the_phone_is_proved(t: &mut TestBot) {
    let cabinet = t.cabinet_id("almaty", AIGERIM).await;
    let consented = || async {
        count(
            t,
            &format!(
                "SELECT COUNT(*) FROM cabinets WHERE id = {cabinet} AND consented_at IS NOT NULL"
            ),
        )
        .await
    };
    // A stranger with the IIN agrees on the parent's behalf: nothing is recorded.
    let mut stranger = t
        .chat_at(1300, Language::Ru, "almaty", r#"{"s":"entering_iin"}"#)
        .await;
    let asked = say(&mut stranger, AIGERIM).await;
    assert!(asked.text.contains("дайте согласие"), "{}", asked.text);
    let sent = press(&mut stranger, "✅ Даю согласие").await;
    assert!(
        sent.text.starts_with("Код подтверждения отправлен"),
        "{}",
        sent.text
    );
    assert_eq!(consented().await, 0);
    // The parent agrees and proves the phone: now it is.
    let mut parent = t
        .chat_at(1301, Language::Ru, "almaty", r#"{"s":"entering_iin"}"#)
        .await;
    say(&mut parent, AIGERIM).await;
    press(&mut parent, "✅ Даю согласие").await;
    assert_eq!(consented().await, 0, "not on the press");
    let prompt = say(&mut parent, &t.last_code()).await;
    assert!(
        prompt.text.contains("Теперь придумайте пароль"),
        "{}",
        prompt.text
    );
    assert_eq!(consented().await, 1, "once the code proved the phone");
}
