//! What parents watch most, walked through as they would in both languages: the referral's
//! countdown, the queue, portal texts in their language, the support contact wherever they
//! cannot go on, and login screens that never say more than happened.

mod common;

use chrono::{Duration, TimeZone};
use common::{Portal, TestBot};
use kabinet::domain::Language;
use kabinet::sim::{ChatHandle, MessageView};
use serde_json::json;

const AIGERIM: &str = "900315412348";
const SUPPORT: &str = "+7 727 300 00 00";

bot_stories! {
    with &[("API_TOKEN", crate::common::API_TOKEN)];
    a_referral_counts_down_only_while_it_is_active,
    portal_texts_read_in_the_parents_language,
}

mod with_support {
    use super::*;

    bot_stories! {
        with &[("SUPPORT_CONTACT", crate::SUPPORT), ("OTP_NEW_CHAT_LIMIT", "1")];
        the_support_contact_at_help_and_every_dead_end,
    }
}

mod short_codes {
    use super::*;

    bot_stories! {
        with &[("OTP_TTL_SECS", "30"), ("OTP_NEW_CHAT_LIMIT", "1"), ("OTP_RESEND_SECS", "0")];
        a_thirty_second_code_and_the_daily_cap_in_a_new_chat,
    }
}

async fn press(chat: &mut ChatHandle, label: &str) -> MessageView {
    chat.press(label).unwrap();
    chat.next().await.unwrap()
}

async fn say(chat: &mut ChatHandle, text: &str) -> MessageView {
    chat.send_text(text);
    chat.next().await.unwrap()
}

/// A new chat taken to the IIN prompt of Almaty.
async fn at_iin_prompt(t: &TestBot, user: i64, lang: Language) -> ChatHandle {
    let mut chat = t.sim.private_chat(user, "Parent", Some(lang.code()));
    chat.send_text("/start");
    chat.next().await.unwrap();
    let (language, cabinet) = match lang {
        Language::Kk => ("🇰🇿 Қазақша", "🔐 Жеке кабинет"),
        Language::Ru => ("🇷🇺 Русский", "🔐 Личный кабинет"),
    };
    press(&mut chat, language).await;
    press(&mut chat, "Алматы").await;
    press(&mut chat, cabinet).await;
    chat
}

/// Pushes go by SMS only, so that the screens under test are the chat's last messages.
async fn pushes_by_sms(t: &TestBot) {
    t.storage()
        .execute_raw(&format!(
            "UPDATE cabinets SET notify_telegram = FALSE, notify_sms = TRUE WHERE iin = '{AIGERIM}'"
        ))
        .await
        .unwrap();
}

/// The end of today in Almaty, a second before midnight.
fn end_of_today() -> chrono::DateTime<chrono::Utc> {
    let tz = chrono_tz::Asia::Almaty;
    let today = kabinet::clock::now().with_timezone(&tz).date_naive();
    tz.from_local_datetime(&today.and_hms_opt(23, 59, 59).unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc)
}

async fn put_referral(
    p: &Portal,
    number: &str,
    valid_until: chrono::DateTime<chrono::Utc>,
    status: &str,
) {
    let (code, body) = p
        .put(
            &format!("/api/v1/referrals/{number}"),
            json!({
                "application": "ALM-2026-004512",
                "institution": "alm-sch-154",
                "group": "1 «Ә» сынып",
                "issued_at": (valid_until - Duration::days(3)).to_rfc3339(),
                "valid_until": valid_until.to_rfc3339(),
                "status": status,
            }),
        )
        .await;
    assert!(code == 200 || code == 201, "{code} {body}");
}

async fn a_referral_counts_down_only_while_it_is_active(t: &mut TestBot) {
    pushes_by_sms(t).await;
    let p = Portal::of(t);
    // Due tonight: its last day, in words.
    put_referral(&p, "ALM-R-2026-0451", end_of_today(), "active").await;
    let (mut kk, _) = t.logged_in(1501, Language::Kk, "almaty", AIGERIM).await;
    let (mut ru, _) = t.logged_in(1502, Language::Ru, "almaty", AIGERIM).await;
    press(&mut kk, "📨 Менің жолдамаларым").await;
    let card = press(&mut kk, "№ ALM-R-2026-0451").await;
    assert!(
        card.text.contains(" (бүгін бітеді)\nМәртебесі: Белсенді\n"),
        "{}",
        card.text
    );
    press(&mut ru, "📨 Мои направления").await;
    let card = press(&mut ru, "№ ALM-R-2026-0451").await;
    assert!(
        card.text
            .contains(" (истекает сегодня)\nСтатус: Действует\n"),
        "{}",
        card.text
    );
    // Still active at the portal, but its time is up: it reads as expired, with no
    // countdown, in the list and on the card.
    put_referral(
        &p,
        "ALM-R-2026-0451",
        kabinet::clock::now() - Duration::hours(1),
        "active",
    )
    .await;
    let card = press(&mut ru, "‹ Назад").await;
    assert!(
        card.text.contains(
            "№ ALM-R-2026-0451 — Сейітова Аяла Ерболқызы\nШкола-гимназия №154 · Истёк срок"
        ),
        "{}",
        card.text
    );
    let card = press(&mut ru, "№ ALM-R-2026-0451").await;
    assert!(
        card.text.contains("\nСтатус: Истёк срок\n"),
        "{}",
        card.text
    );
    assert!(!card.text.contains("(срок истёк)") && !card.text.contains("осталось"));
    // Used: no countdown, even with days to go.
    put_referral(
        &p,
        "ALM-R-2026-0451",
        kabinet::clock::now() + Duration::days(5),
        "used",
    )
    .await;
    let card = press(&mut ru, "‹ Назад").await;
    let card = {
        let _ = card;
        press(&mut ru, "№ ALM-R-2026-0451").await
    };
    let validity = card
        .text
        .lines()
        .find(|l| l.starts_with("Срок действия: до "))
        .unwrap();
    assert!(!validity.contains('('), "{validity}");
    assert!(
        card.text.contains("\nСтатус: Использовано\n"),
        "{}",
        card.text
    );
}

async fn portal_texts_read_in_the_parents_language(t: &mut TestBot) {
    pushes_by_sms(t).await;
    let p = Portal::of(t);
    // A comment in both languages, and a schedule in Russian only (Kazakh screens fall
    // back to it).
    let (code, body) = p
        .post(
            "/api/v1/applications/ALM-2026-000137/status",
            json!({
                "event_id": "evt-bilingual",
                "status": "queued",
                "queue_position": 30,
                "changed_at": kabinet::clock::now().to_rfc3339(),
                "comment": {"kk": "Кезек жылжыды", "ru": "Очередь продвинулась"},
            }),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    let (code, body) = p
        .put(
            "/api/v1/children/190902622229/file",
            json!({
                "institution": "alm-sch-154",
                "group": {"kk": "1 «Ә» сынып", "ru": "1 «Ә» класс"},
                "opened_at": "2026-09-01",
                "clubs": [{"id": "club-chess-alm", "name_kk": "Шахмат", "name_ru": "Шахматы",
                           "teacher": "Қайратұлы Ерболат", "schedule": {"ru": "Пн, Ср 15:00–16:00"}}],
            }),
        )
        .await;
    assert!(code == 200 || code == 201, "{code} {body}");
    for (chat_id, lang, comment, files, group, schedule) in [
        (
            1511,
            Language::Kk,
            "Кезек жылжыды",
            "📁 Жеке іс-құжаттарым",
            "1 «Ә» сынып (2026 жылғы 1 қыркүйектен бастап)",
            "Пн, Ср 15:00–16:00",
        ),
        (
            1512,
            Language::Ru,
            "Очередь продвинулась",
            "📁 Личные дела",
            "1 «Ә» класс (с 1 сентября 2026 г.)",
            "Пн, Ср 15:00–16:00",
        ),
    ] {
        let (mut chat, menu) = t.logged_in(chat_id, lang, "almaty", AIGERIM).await;
        let shown = press(&mut chat, menu.labels()[0]).await;
        assert!(shown.text.contains(comment), "{comment} in {}", shown.text);
        chat.send_text("/menu");
        chat.next().await.unwrap();
        let _ = press(&mut chat, files).await;
        let file = press(&mut chat, "Сейітова Аяла Ерболқызы").await;
        assert!(file.text.contains(group), "{group} in {}", file.text);
        assert!(file.text.contains(schedule), "{schedule} in {}", file.text);
    }
}

async fn the_support_contact_at_help_and_every_dead_end(t: &mut TestBot) {
    let support_kk = format!("Сұрақтар бойынша: {SUPPORT}");
    let support_ru = format!("По вопросам: {SUPPORT}");
    // /help.
    let mut chat = t.sim.private_chat(1521, "Parent", Some("ru"));
    let help = say(&mut chat, "/help").await;
    assert!(
        help.text
            .contains(&format!("/help — эта справка\n\n{support_ru}\n\n")),
        "{}",
        help.text
    );
    // No cabinet for this IIN.
    let mut chat = at_iin_prompt(t, 1522, Language::Kk).await;
    let none = say(&mut chat, "851002400016").await;
    assert!(none.text.contains(&support_kk), "{}", none.text);
    // The daily code limit: the chat takes its day's one code, and asks again.
    let mut first = at_iin_prompt(t, 1523, Language::Ru).await;
    let sent = say(&mut first, AIGERIM).await;
    assert!(sent.text.starts_with("Код подтверждения отправлен"));
    first.press("Отправить код ещё раз").unwrap();
    let capped = first.next().await.unwrap();
    assert!(
        capped.text.starts_with(&format!(
            "Сегодня запрошено слишком много кодов. Попробуйте завтра или обратитесь в службу поддержки портала.\n{support_ru}"
        )),
        "{}",
        capped.text
    );
    // Locked after wrong passwords.
    let cabinet = t
        .storage()
        .fetch_i64(&format!("SELECT id FROM cabinets WHERE iin = '{AIGERIM}'"))
        .await
        .unwrap();
    let hash = kabinet::auth::Hasher::new(t.config.argon2)
        .unwrap()
        .hash_password(
            &kabinet::domain::Password::parse(
                "Көктем келді 2026",
                &kabinet::domain::Iin::parse(AIGERIM).unwrap(),
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
    let mut chat = at_iin_prompt(t, 1525, Language::Kk).await;
    say(&mut chat, AIGERIM).await;
    let mut last = None;
    for _ in 0..5 {
        last = Some(say(&mut chat, "қате құпиясөз").await);
    }
    let locked = last.unwrap();
    assert!(
        locked.text.contains("бұл чаттан кіру уақытша жабылды")
            && locked.text.contains(&support_kk),
        "{}",
        locked.text
    );
}

async fn a_thirty_second_code_and_the_daily_cap_in_a_new_chat(t: &mut TestBot) {
    let mut kk = at_iin_prompt(t, 1531, Language::Kk).await;
    let code = say(&mut kk, AIGERIM).await;
    assert!(
        code.text
            .ends_with("6 таңбалы кодты осы чатқа жіберіңіз. Код 30 секунд бойы жарамды."),
        "{}",
        code.text
    );
    // A chat whose one code a day is spent and gone is told so, and is not shown a code
    // screen for a code it no longer has.
    let mut ru = at_iin_prompt(t, 1532, Language::Ru).await;
    say(&mut ru, AIGERIM).await;
    let past = common::sql_time(
        t.storage(),
        kabinet::clock::now() - chrono::Duration::minutes(10),
    );
    t.storage()
        .execute_raw(&format!(
            "UPDATE otp_codes SET expires_at = {past} WHERE chat_id = 1532"
        ))
        .await
        .unwrap();
    ru.press("Отправить код ещё раз").unwrap();
    let capped = ru.next().await.unwrap();
    assert_eq!(
        capped.text,
        "Сегодня запрошено слишком много кодов. Попробуйте завтра или обратитесь в службу поддержки портала.\n\nНаселённый пункт: Алматы\n\nЧтобы войти, нажмите «Личный кабинет»."
    );
    assert_eq!(
        capped.labels(),
        ["🔐 Личный кабинет", "Сменить населённый пункт"]
    );
    assert_eq!(
        t.sms.lock().unwrap().len(),
        2,
        "one code to each chat, none more"
    );
}
