//! The cabinet's sections for a logged-in parent, through the simulator, on the demo data.

mod common;

use chrono::Datelike;
use common::TestBot;
use kabinet::domain::{Iin, Language};
use kabinet::sim::{ChatHandle, MessageView};

bot_stories! {
    menu_feed_and_reading,
    applications_and_their_cards,
    referrals_with_days_left_and_expired,
    files_clubs_and_attendance_by_month,
    settings_channels,
    forged_and_stale_buttons_show_nothing_of_another_parent,
}

async fn logged_in(
    t: &TestBot,
    chat_id: i64,
    lang: Language,
    locality: &str,
    iin: &str,
) -> (ChatHandle, MessageView) {
    t.logged_in(chat_id, lang, locality, iin).await
}

async fn press(chat: &mut ChatHandle, label: &str) -> MessageView {
    chat.press(label).unwrap();
    chat.next().await.unwrap()
}

async fn menu_feed_and_reading(t: &mut TestBot) {
    let (mut chat, menu) = logged_in(t, 801, Language::Kk, "almaty", "900315412348").await;
    assert!(
        menu.text
            .starts_with("Жеке кабинет · Сейітова Айгерім Нұрланқызы"),
        "{}",
        menu.text
    );
    assert_eq!(
        menu.labels(),
        [
            "🔔 Оқиғалар таспасы (13 жаңа)",
            "📝 Менің өтініштерім",
            "📨 Менің жолдамаларым",
            "📁 Жеке іс-құжаттарым",
            "⚙️ Баптаулар",
            "Шығу"
        ]
    );
    let feed = press(&mut chat, "🔔 Оқиғалар таспасы (13 жаңа)").await;
    assert_eq!(feed.message_id, menu.message_id, "edited in place");
    assert!(
        feed.text.starts_with("Оқиғалар таспасы · 1/3"),
        "{}",
        feed.text
    );
    // Newest first (the clubs recorded at import), in Almaty time.
    // Each line names the child it is about.
    assert!(
        feed.text
            .contains("🆕 2026 жылғы 24 қараша, 09:00\nЖолдама берілді · № ALM-R-2026-0451\nАяла"),
        "{}",
        feed.text
    );
    let clubs = feed.text.find("Үйірмеге жазылды\nАяла · Шахмат").unwrap();
    assert!(clubs < feed.text.find("Жолдама берілді").unwrap());
    // A club enrollment opens the child's file.
    assert_eq!(
        feed.labels().iter().filter(|l| **l == "📁 Аяла").count(),
        2,
        "{:?}",
        feed.labels()
    );
    let file = press(&mut chat, "📁 Аяла").await;
    assert!(
        file.text
            .starts_with("Сейітова Аяла Ерболқызы\nТуған күні: 2019 жылғы 2 қыркүйек"),
        "{}",
        file.text
    );
    assert!(
        file.text
            .contains("№154 мектеп-гимназия, 1 «Ә» сынып (2026 жылғы 1 қыркүйектен бастап)"),
        "{}",
        file.text
    );
    let feed = press(&mut chat, "‹ Артқа").await;
    assert!(feed.labels().contains(&"1/3") && feed.labels().contains(&"›"));
    let second = press(&mut chat, "›").await;
    assert!(second.text.starts_with("Оқиғалар таспасы · 2/3"));
    let menu = press(&mut chat, "Мәзір").await;
    assert_eq!(
        menu.labels()[0],
        "🔔 Оқиғалар таспасы (3 жаңа)",
        "the third page is not seen yet"
    );
    press(&mut chat, "🔔 Оқиғалар таспасы (3 жаңа)").await;
    press(&mut chat, "›").await;
    let third = press(&mut chat, "›").await;
    assert!(
        third.text.starts_with("Оқиғалар таспасы · 3/3"),
        "{}",
        third.text
    );
    let menu = press(&mut chat, "Мәзір").await;
    assert_eq!(
        menu.labels()[0],
        "🔔 Оқиғалар таспасы",
        "everything shown is read"
    );
    // The button on an event opens its card.
    press(&mut chat, "🔔 Оқиғалар таспасы").await;
    let card = press(&mut chat, "№ ALM-R-2026-0451 ашу").await;
    assert!(
        card.text.starts_with("Жолдама № ALM-R-2026-0451"),
        "{}",
        card.text
    );
}

async fn applications_and_their_cards(t: &mut TestBot) {
    let (mut chat, _) = logged_in(t, 802, Language::Ru, "almaty", "900315412348").await;
    let list = press(&mut chat, "📝 Мои заявления").await;
    assert!(
        list.text.starts_with(
            "Мои заявления\n\n№ ALM-2026-007731 — Сейітова Аяла Ерболқызы\nКружок · Зачислена"
        ),
        "{}",
        list.text
    );
    assert!(
        list.text.contains(
            "№ ALM-2026-000137 — Сейітов Әли Ерболұлы\nДетский сад · В очереди (37-е место)"
        ),
        "{}",
        list.text
    );
    let card = press(&mut chat, "№ ALM-2026-000137").await;
    // The queue place and how it moved since it was first given, with the year only when
    // it is not this year's.
    let this_year = kabinet::clock::now().year() == 2026;
    let moved = if this_year {
        "Статус: В очереди (37-е место)\nМесто в очереди: 52 → 37 с 12 марта\n"
    } else {
        "Статус: В очереди (37-е место)\nМесто в очереди: 52 → 37 с 12 марта 2026 г.\n"
    };
    assert!(card.text.contains(moved), "{moved:?} in {}", card.text);
    for line in [
        "Заявление № ALM-2026-000137",
        "Ребёнок: Сейітов Әли Ерболұлы (10 июня 2021 г.)",
        "Вид: Детский сад",
        "Желаемая дата зачисления: 1 сентября 2027 г.",
        "Язык обучения: казахский",
        "Подано: 10 марта 2026 г., 10:15",
        "Статус: В очереди (37-е место)",
        "1. Детский сад №12 «Балапан»\n2. Детский сад №45 «Куншуак»",
        "• 12 марта 2026 г., 14:30 — В очереди (52-е место)",
        // The portal's comment, in the parent's language.
        "  Очередь продвинулась",
    ] {
        assert!(card.text.contains(line), "{line:?} in {}", card.text);
    }
    assert_eq!(card.labels(), ["‹ Назад", "Меню"], "no referral yet");
    let back = press(&mut chat, "‹ Назад").await;
    assert!(back.text.starts_with("Мои заявления"));
    let issued = press(&mut chat, "№ ALM-2026-004512").await;
    assert!(issued.labels().contains(&"📨 Открыть направление"));
    let referral = press(&mut chat, "📨 Открыть направление").await;
    assert!(referral.text.starts_with("Направление № ALM-R-2026-0451"));
    let app = press(&mut chat, "📝 Заявление № ALM-2026-004512").await;
    assert!(app.text.starts_with("Заявление № ALM-2026-004512"));
}

async fn referrals_with_days_left_and_expired(t: &mut TestBot) {
    let (mut chat, _) = logged_in(t, 803, Language::Ru, "astana", "861120343215").await;
    let list = press(&mut chat, "📨 Мои направления").await;
    assert!(
        list.text.contains(
            "№ AST-R-2026-1102 — Жақсыбеков Тимур Ерланұлы\nДетский сад №7 «Айголек» · Отозвано"
        ),
        "{}",
        list.text
    );
    // An expired referral: its date, no countdown, and the status says the rest.
    let card = press(&mut chat, "№ AST-R-2026-0907").await;
    assert!(
        card.text.contains(
            "Срок действия: до 22 октября 2026 г., 18:00\nСтатус: Истёк срок\nЗаявление: № AST-2026-002310"
        ),
        "{}",
        card.text
    );
    // The address and the group as the portal wrote them in Russian.
    assert!(card.text.contains("Адрес: Астана, проспект Туран, 37"));
    assert!(
        card.text
            .contains("Группа / класс: Младшая группа «Балдырган»")
    );
}

async fn files_clubs_and_attendance_by_month(t: &mut TestBot) {
    let (mut chat, _) = logged_in(t, 804, Language::Ru, "astana", "861120343215").await;
    let files = press(&mut chat, "📁 Личные дела").await;
    assert_eq!(
        files.labels(),
        [
            "Жақсыбеков Тимур Ерланұлы",
            "Жақсыбекова Дана Ерланқызы",
            "‹ Назад",
            "Меню"
        ]
    );
    let dana = press(&mut chat, "Жақсыбекова Дана Ерланқызы").await;
    assert!(
        dana.text
            .contains("Детский сад №7 «Айголек», Старшая группа «Жулдыз» (с 1 сентября 2026 г.)"),
        "{}",
        dana.text
    );
    // The club's name carries <, > and &: it renders as written.
    assert!(
        dana.text
            .contains("• Робототехника <Junior> & Код — Ким Виктория\n  Сб 10:00–11:30"),
        "{}",
        dana.text
    );
    let timur = {
        press(&mut chat, "‹ Назад").await;
        press(&mut chat, "Жақсыбеков Тимур Ерланұлы").await
    };
    assert!(
        timur
            .text
            .contains("Сведения об организации пока не поступили.")
            && timur.text.contains("Кружков нет.")
    );
    press(&mut chat, "‹ Назад").await;
    press(&mut chat, "Жақсыбекова Дана Ерланқызы").await;
    // Attendance opens at the latest month with records, and goes no further: the demo's
    // records run to November 2026.
    let november = press(&mut chat, "📅 Посещаемость").await;
    assert!(november.text.contains("Ноябрь 2026"), "{}", november.text);
    assert_eq!(
        november.labels(),
        ["‹ Октябрь 2026", "‹ Назад", "Меню"],
        "nothing after the last month with records"
    );
    let view = press(&mut chat, "‹ Октябрь 2026").await;
    assert!(view.text.contains("Октябрь 2026"), "{}", view.text);
    assert_eq!(
        view.labels(),
        ["Ноябрь 2026 ›", "‹ Назад", "Меню"],
        "nothing before the first month with records"
    );
    // 22 weekdays in October 2026; the demo marks every day whose pattern is 0 absent, 5 excused.
    let days = kabinet::demo::document()["attendance"][2]["records"]
        .as_array()
        .unwrap()
        .clone();
    let october: Vec<_> = days
        .iter()
        .filter(|d| d["date"].as_str().unwrap().starts_with("2026-10"))
        .collect();
    let count = |s: &str| october.iter().filter(|d| d["status"] == s).count();
    let (present, absent, excused) = (count("present"), count("absent"), count("excused"));
    assert_eq!(present + absent + excused, 22);
    let share = (present * 100 + 11) / 22;
    let summary = format!(
        "Посещено: {present} · Пропущено: {absent} · По уважительной причине: {excused}\nДоля посещений: {share}%"
    );
    assert!(view.text.contains(&summary), "{summary} in {}", view.text);
    // The month at a glance: October 2026 begins on a Thursday.
    let mark = |status: &serde_json::Value| match status.as_str().unwrap() {
        "present" => '🟩',
        "absent" => '🟥',
        _ => '🟨',
    };
    let marks: String = october.iter().map(|d| mark(&d["status"])).collect();
    let rows: Vec<String> = [(0, 2), (2, 7), (7, 12), (12, 17), (17, 22)]
        .iter()
        .map(|(from, to)| marks.chars().skip(*from).take(to - from).collect())
        .collect();
    let calendar = format!(
        " 1–2  ➖➖➖{}\n 5–9  {}\n12–16 {}\n19–23 {}\n26–30 {}\n🟩 посещено · 🟥 пропущено · 🟨 по уважительной причине · ⬜ нет сведений",
        rows[0], rows[1], rows[2], rows[3], rows[4]
    );
    assert!(
        view.text.contains(&calendar),
        "{calendar}\nin\n{}",
        view.text
    );
    assert!(
        view.text.contains("Последние дни\n30 октября — "),
        "{}",
        view.text
    );
}

async fn settings_channels(t: &mut TestBot) {
    let (mut chat, _) = logged_in(t, 805, Language::Kk, "almaty", "900315412348").await;
    let settings = press(&mut chat, "⚙️ Баптаулар").await;
    assert!(
        settings.text.contains("Негізгі телефон: +7 *** *** 45 45"),
        "{}",
        settings.text
    );
    assert!(
        settings
            .text
            .contains("Электрондық пошта: aigerim.seitova@example.kz")
    );
    assert_eq!(
        settings.labels()[..2],
        ["✅ Telegram", "⬜ SMS"],
        "e-mail is offered only when SMTP is set"
    );
    let on = press(&mut chat, "⬜ SMS").await;
    assert_eq!(on.labels()[..2], ["✅ Telegram", "✅ SMS"]);
    press(&mut chat, "✅ Telegram").await;
    let refused = chat.press("✅ SMS").unwrap();
    let _ = chat.answer_of(&refused).await;
    assert_eq!(
        chat.callback_answer(&refused),
        Some(Some("Кемінде бір арна қосулы болуы керек.".into()))
    );
    let c = t
        .storage()
        .fetch_i64(
            "SELECT COUNT(*) FROM cabinets WHERE notify_sms = TRUE AND notify_telegram = FALSE",
        )
        .await
        .unwrap();
    assert_eq!(c, 1);
    press(&mut chat, "🌐 Тілді ауыстыру").await;
    let ru = press(&mut chat, "🇷🇺 Русский").await;
    assert!(ru.text.starts_with("Настройки"), "{}", ru.text);
    // The chat's command menu switched with it.
    let menus = t.sim.requests();
    let chat_menu = menus.iter().rev().find(|r| {
        r.method.eq_ignore_ascii_case("setMyCommands")
            && r.params["scope"]["type"] == "chat"
            && r.params["scope"]["chat_id"] == 805
    });
    let chat_menu = chat_menu.unwrap_or_else(|| {
        let seen: Vec<_> = menus
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case("setMyCommands"))
            .map(|r| r.params["scope"].clone())
            .collect();
        panic!("the chat's own command menu: {seen:?}")
    });
    assert_eq!(
        chat_menu.params["commands"][0]["description"],
        "Начать сначала"
    );
}

async fn forged_and_stale_buttons_show_nothing_of_another_parent(t: &mut TestBot) {
    let (mut chat, menu) = logged_in(t, 806, Language::Ru, "almaty", "900315412348").await;
    let erlans: i64 = t
        .storage()
        .fetch_i64("SELECT id FROM applications WHERE number = 'AST-2026-001204'")
        .await
        .unwrap();
    let erlans_referral: i64 = t
        .storage()
        .fetch_i64("SELECT id FROM referrals WHERE number = 'AST-R-2026-0907'")
        .await
        .unwrap();
    for data in [format!("app:{erlans}"), format!("ref:{erlans_referral}")] {
        let screen = press(&mut chat, "📝 Мои заявления").await;
        chat.press_data(screen.message_id, &data).unwrap();
        let answer = chat.next().await.unwrap();
        assert!(
            answer.text.starts_with("Эта запись не найдена."),
            "{data}: {}",
            answer.text
        );
        assert!(
            !answer.text.contains("AST-") && !answer.text.contains("Жақсыбек"),
            "{}",
            answer.text
        );
    }
    press(&mut chat, "📁 Личные дела").await;
    let screen = chat.screen().unwrap();
    chat.press_data(screen.message_id, "kid:7").unwrap();
    assert!(
        chat.next()
            .await
            .unwrap()
            .text
            .starts_with("Эта запись не найдена.")
    );
    // After logout the old menu shows nothing.
    chat.send_text("/logout");
    chat.next().await.unwrap();
    chat.press_data(menu.message_id, "sec:apps").unwrap();
    let answer = chat.next().await.unwrap();
    assert!(
        answer.text.starts_with("Эта кнопка устарела"),
        "{}",
        answer.text
    );
    assert!(!answer.text.contains("ALM-"), "{}", answer.text);
}

bot_stories! {
    buttons_forged_with_other_digits_are_answered,
}

async fn buttons_forged_with_other_digits_are_answered(t: &mut TestBot) {
    let (mut chat, _) = logged_in(t, 807, Language::Ru, "almaty", "900315412348").await;
    press(&mut chat, "📁 Личные дела").await;
    let screen = chat.screen().unwrap();
    // Not even numbers: non-ASCII, full-width and Arabic digits, on the attendance
    // screen's own prefix. Each press is answered and nothing breaks.
    for data in [
        "att:0:123ж5",
        "att:0:２０２６１１",
        "att:١:202611",
        "pg:１",
        "kid:٣",
        "app:-1",
    ] {
        let forged = chat.press_data(screen.message_id, data).unwrap();
        let _ = chat.answer_of(&forged).await;
        assert!(chat.callback_answer(&forged).is_some(), "{data} answered");
    }
    // The bot still serves the chat.
    chat.send_text("/menu");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let message = chat.next().await.unwrap();
        if message.text.contains("Личный кабинет") && !message.text.contains("устарела")
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no menu");
    }
}

bot_stories! {
    change_password_and_email_in_settings,
    an_idle_session_ends,
}

async fn change_password_and_email_in_settings(t: &mut TestBot) {
    // A password first, set through the real flow elsewhere: give the cabinet one directly.
    let hasher = kabinet::auth::Hasher::new(t.config.argon2).unwrap();
    let iin = Iin::parse("930708424680").unwrap();
    let phone = kabinet::domain::Phone::parse("+77059876543").unwrap();
    let old = kabinet::domain::Password::parse("Ескі құпиясөз 2025", &iin, &phone).unwrap();
    let hash = hasher.hash_password(&old).await.unwrap();
    t.storage()
        .execute_raw(&format!(
            "UPDATE cabinets SET password_hash = '{hash}' WHERE iin = '930708424680'"
        ))
        .await
        .unwrap();
    logged_in(t, 808, Language::Ru, "shymkent", "930708424680").await;
    let (mut chat, _) = logged_in(t, 807, Language::Ru, "shymkent", "930708424680").await;
    press(&mut chat, "⚙️ Настройки").await;
    let prompt = press(&mut chat, "🔑 Сменить пароль").await;
    assert_eq!(prompt.text, "Отправьте ваш текущий пароль.");
    chat.send_text("не тот пароль");
    assert!(
        chat.next()
            .await
            .unwrap()
            .text
            .contains("Неверный пароль. Осталось 4 попытки.")
    );
    let old_message = chat.send_text("Ескі құпиясөз 2025");
    let new_prompt = chat.next().await.unwrap();
    assert!(
        new_prompt.text.ends_with(
            "Придумайте новый пароль: не короче 8 символов; ИИН и номер телефона не подойдут."
        ),
        "{}",
        new_prompt.text
    );
    assert!(
        chat.transcript()
            .iter()
            .any(|m| m.message_id == old_message && m.deleted)
    );
    chat.send_text("Жаңа құпиясөз 2026");
    chat.next().await.unwrap();
    chat.send_text("Жаңа құпиясөз 2026");
    let done = chat.next().await.unwrap();
    assert!(done.text.contains("✅ Пароль сохранён."), "{}", done.text);
    assert!(
        t.storage()
            .chat(808)
            .await
            .unwrap()
            .unwrap()
            .session()
            .is_none(),
        "the other chat's session ended"
    );
    assert!(
        t.storage()
            .chat(807)
            .await
            .unwrap()
            .unwrap()
            .session()
            .is_some()
    );
    // E-mail: a wrong address, then a right one, then removed.
    press(&mut chat, "⚙️ Настройки").await;
    press(&mut chat, "✉️ Электронная почта").await;
    // The address is guarded by the password (tests/account_safety.rs has the rest).
    chat.send_text("Жаңа құпиясөз 2026");
    chat.next().await.unwrap();
    chat.send_text("not an address");
    assert!(
        chat.next()
            .await
            .unwrap()
            .text
            .starts_with("Адрес должен выглядеть как name@example.kz.")
    );
    chat.send_text("Gulnar.New@Mail.KZ");
    let saved = chat.next().await.unwrap();
    assert!(
        saved.text.starts_with("Электронная почта сохранена.")
            && saved.text.contains("Электронная почта: Gulnar.New@mail.kz"),
        "{}",
        saved.text
    );
    let removed = press(&mut chat, "Удалить почту").await;
    assert!(
        removed.text.starts_with("Электронная почта удалена.")
            && removed.text.contains("Электронная почта: не указана"),
        "{}",
        removed.text
    );
}

async fn an_idle_session_ends(t: &mut TestBot) {
    let (mut chat, _) = logged_in(t, 809, Language::Kk, "almaty", "900315412348").await;
    let past = common::sql_time(
        t.storage(),
        kabinet::clock::now() - chrono::Duration::days(31),
    );
    t.storage()
        .execute_raw(&format!(
            "UPDATE sessions SET last_seen_at = {past} WHERE chat_id = 809"
        ))
        .await
        .unwrap();
    chat.press("📝 Менің өтініштерім").unwrap();
    let answer = chat.next().await.unwrap();
    assert!(
        answer
            .text
            .starts_with("Кабинеттегі сеансыңыз аяқталды. Қайта кіріңіз."),
        "{}",
        answer.text
    );
    assert!(!answer.text.contains("ALM-"), "{}", answer.text);
    let reason = t
        .storage()
        .fetch_i64("SELECT COUNT(*) FROM sessions WHERE chat_id = 809 AND end_reason = 'idle'")
        .await
        .unwrap();
    assert_eq!(reason, 1);
}

bot_stories! {
    phones_in_settings,
}

async fn phones_in_settings(t: &mut TestBot) {
    const PASSWORD: &str = "Көктемгі жаңбыр 2026";
    t.give_password("almaty", "900315412348", PASSWORD).await;
    let (mut chat, _) = logged_in(t, 810, Language::Ru, "almaty", "900315412348").await;
    press(&mut chat, "⚙️ Настройки").await;
    press(&mut chat, "📱 Сменить основной телефон").await;
    chat.send_text(PASSWORD);
    let prompt = chat.next().await.unwrap();
    assert!(
        prompt.text.contains("Отправьте новый основной номер"),
        "{}",
        prompt.text
    );
    chat.send_text("+7 727 123 45 67");
    assert!(
        chat.next()
            .await
            .unwrap()
            .text
            .starts_with("Это не мобильный номер")
    );
    chat.send_text("8 777 555 44 33");
    let code_screen = chat.next().await.unwrap();
    assert!(
        code_screen
            .text
            .starts_with("Код подтверждения отправлен по SMS на номер +7 *** *** 44 33."),
        "{}",
        code_screen.text
    );
    assert!(
        t.sms
            .lock()
            .unwrap()
            .last()
            .unwrap()
            .starts_with("📱 SMS → +7 *** *** 44 33:"),
        "the code goes to the new number"
    );
    let code_message = chat.send_text(&t.last_code());
    let done = chat.next().await.unwrap();
    assert!(
        done.text.starts_with("🔒 Ваше сообщение удалено")
            && done.text.contains("✅ Основной телефон изменён."),
        "{}",
        done.text
    );
    assert!(
        done.text.contains("Основной телефон: +7 *** *** 44 33"),
        "{}",
        done.text
    );
    assert!(
        chat.transcript()
            .iter()
            .any(|m| m.message_id == code_message && m.deleted)
    );
    let stored = t
        .storage()
        .fetch_i64("SELECT COUNT(*) FROM cabinets WHERE phone = '+77775554433'")
        .await
        .unwrap();
    assert_eq!(stored, 1);
    // An extra phone, added and removed.
    press(&mut chat, "➕ Добавить телефон").await;
    chat.send_text(PASSWORD);
    chat.next().await.unwrap();
    chat.send_text("87011234545");
    let added = chat.next().await.unwrap();
    assert!(
        added.text.starts_with("Телефон добавлен.")
            && added
                .text
                .contains("Дополнительные телефоны: +7 *** *** 45 45"),
        "{}",
        added.text
    );
    let removed = press(&mut chat, "✖ +7 *** *** 45 45").await;
    assert!(
        removed.text.starts_with("Телефон удалён.")
            && removed.text.contains("Дополнительные телефоны: нет"),
        "{}",
        removed.text
    );
    // A forged index removes nothing and shows nothing.
    let screen = chat.screen().unwrap();
    let forged = chat.press_data(screen.message_id, "rmph:5").unwrap();
    assert!(chat.answer_of(&forged).await.is_some());
    assert!(
        chat.screen()
            .unwrap()
            .text
            .contains("Дополнительные телефоны: нет")
    );
}

bot_stories! {
    a_card_for_every_status_and_kind_words_for_empty_sections,
}

async fn a_card_for_every_status_and_kind_words_for_empty_sections(t: &mut TestBot) {
    let parents = [
        (811, "almaty", "900315412348"),
        (812, "astana", "861120343215"),
        (813, "shymkent", "930708424680"),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for (chat_id, locality, iin) in parents {
        let (mut chat, _) = logged_in(t, chat_id, Language::Ru, locality, iin).await;
        let list = press(&mut chat, "📝 Мои заявления").await;
        let numbers: Vec<String> = list
            .labels()
            .into_iter()
            .filter(|l| l.starts_with("№ "))
            .map(str::to_owned)
            .collect();
        for number in numbers {
            let card = press(&mut chat, &number).await;
            let status = card
                .text
                .lines()
                .find_map(|l| l.strip_prefix("Статус: "))
                .expect("a status line")
                .to_owned();
            assert!(card.text.contains("История статусов"), "{}", card.text);
            seen.insert(status.split(" (").next().unwrap().to_owned());
            press(&mut chat, "‹ Назад").await;
        }
        if locality == "shymkent" {
            press(&mut chat, "Меню").await;
            let referrals = press(&mut chat, "📨 Мои направления").await;
            assert!(
                referrals.text.ends_with("Направлений пока нет."),
                "{}",
                referrals.text
            );
            assert_eq!(
                referrals.labels(),
                ["‹ Назад", "Меню"],
                "no pager for an empty list"
            );
        }
    }
    let expected: std::collections::BTreeSet<String> = [
        "Подано",
        "На рассмотрении",
        "В очереди",
        "В листе ожидания",
        "Выдано направление",
        "Неактивно",
        "Зачислена",
        "Отказано",
        "Отменено",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(seen, expected, "a card for every application status");
}

bot_stories! {
    with &[("API_TOKEN", crate::common::API_TOKEN)];
    a_child_moved_to_another_parent_leaves_the_first_cabinet,
}

/// The demo application, as the portal sends it, with another parent.
fn moved_to_another_parent(child: (&str, &str, &str), kind: &str) -> serde_json::Value {
    serde_json::json!({
        "locality": "almaty",
        "parent": {"iin": "851002400016", "full_name": "Сейітов Ербол Қанатұлы", "phone": "+77017654321"},
        "child": {"iin": child.0, "full_name": child.1, "birth_date": child.2},
        "kind": kind,
        "institutions": ["alm-ds-12"],
        "desired_date": "2027-09-01",
        "language": "kk",
        "submitted_at": "2026-03-10T10:15:00+05:00",
        "status": "submitted",
    })
}

async fn a_child_moved_to_another_parent_leaves_the_first_cabinet(t: &mut TestBot) {
    let (mut chat, _) = logged_in(t, 851, Language::Ru, "almaty", "900315412348").await;
    let files = press(&mut chat, "📁 Личные дела").await;
    assert!(
        files.labels().iter().any(|l| l.contains("Әли")),
        "{:?}",
        files.labels()
    );
    let ali = t
        .storage()
        .fetch_i64("SELECT id FROM applications WHERE number = 'ALM-2026-000137'")
        .await
        .unwrap();
    // The portal moves Әли's application, and one of Аяла's two, to the father.
    let portal = common::Portal::of(t);
    for (number, child, kind) in [
        (
            "ALM-2026-000137",
            ("210610511117", "Сейітов Әли Ерболұлы", "2021-06-10"),
            "kindergarten",
        ),
        (
            "ALM-2026-004512",
            ("190902622229", "Сейітова Аяла Ерболқызы", "2019-09-02"),
            "first_grade",
        ),
    ] {
        let body = moved_to_another_parent(child, kind);
        let (status, answer) = portal
            .put(&format!("/api/v1/applications/{number}"), body)
            .await;
        assert_eq!(status, 200, "{answer}");
    }
    // Aigerim's lists no longer show Әли; Аяла stays (another application names her).
    let menu = press(&mut chat, "Меню").await;
    assert!(menu.text.contains("Личный кабинет"), "{}", menu.text);
    let files = press(&mut chat, "📁 Личные дела").await;
    let labels = files.labels().join(" | ");
    assert!(!labels.contains("Әли"), "{labels}");
    assert!(labels.contains("Аяла"), "{labels}");
    assert!(!files.text.contains("Әли"), "{}", files.text);
    press(&mut chat, "Меню").await;
    let apps = press(&mut chat, "📝 Мои заявления").await;
    assert!(!apps.text.contains("ALM-2026-000137"), "{}", apps.text);
    // Her old buttons and forged ones show nothing of him: his application from the list,
    // his file from the files (he was the second child), his attendance.
    let forged = [
        ("📝 Мои заявления", format!("app:{ali}")),
        ("📁 Личные дела", "kid:1".to_owned()),
        ("📁 Личные дела", "att:1:202611".to_owned()),
    ];
    for (section, data) in forged {
        chat.send_text("/menu");
        chat.next().await.unwrap();
        let mut screen = press(&mut chat, section).await;
        if data.starts_with("att:") {
            // From Аяла's file, where attendance buttons are.
            let hers = screen
                .labels()
                .into_iter()
                .find(|l| l.contains("Аяла"))
                .unwrap()
                .to_owned();
            screen = press(&mut chat, &hers).await;
        }
        chat.press_data(screen.message_id, &data).unwrap();
        let answer = chat.next().await.unwrap();
        assert!(!answer.text.contains("Әли"), "{data}: {}", answer.text);
        assert!(
            !answer.text.contains("ALM-2026-000137"),
            "{data}: {}",
            answer.text
        );
    }
    // The father sees him.
    let father = t
        .storage()
        .fetch_i64(
            "SELECT COUNT(*) FROM cabinet_children cc JOIN cabinets c ON c.id = cc.cabinet_id \
             WHERE c.iin = '851002400016' AND cc.child_iin IN ('210610511117', '190902622229')",
        )
        .await
        .unwrap();
    assert_eq!(father, 2);
}
