//! The bot's frame, end to end through the simulator: start, language, locality, the
//! cabinet button, the IIN prompt; groups, stickers, stale buttons, restarts.

mod common;

use common::TestBot;
use kabinet::sim::MessageView;

bot_stories! {
    start_in_kazakh,
    start_in_russian,
}

async fn start_in_kazakh(t: &mut TestBot) {
    let mut chat = t.sim.private_chat(501, "Айгерім", Some("kk"));
    chat.send_text("/start");
    let greeting = chat.next().await.unwrap();
    assert!(
        greeting.text.starts_with("Сәлеметсіз бе!"),
        "{}",
        greeting.text
    );
    assert_eq!(greeting.labels(), ["🇰🇿 Қазақша", "🇷🇺 Русский"]);
    chat.press("🇰🇿 Қазақша").unwrap();
    let list = chat.next().await.unwrap();
    assert_eq!(
        list.message_id, greeting.message_id,
        "navigation edits in place"
    );
    assert_eq!(list.text, "Елді мекеніңізді таңдаңыз:");
    assert_eq!(list.labels(), ["Алматы", "Астана", "Шымкент"]);
    chat.press("Алматы").unwrap();
    let chosen = chat.next().await.unwrap();
    assert!(
        chosen.text.starts_with("Елді мекен: Алматы"),
        "{}",
        chosen.text
    );
    assert_eq!(chosen.labels(), ["🔐 Жеке кабинет", "Елді мекенді өзгерту"]);
    chat.press("🔐 Жеке кабинет").unwrap();
    let prompt = chat.next().await.unwrap();
    assert_eq!(
        prompt.text,
        "Жеке сәйкестендіру нөміріңізді (ЖСН) жіберіңіз — 12 цифр."
    );
    assert_eq!(prompt.message_id, greeting.message_id);
}

async fn start_in_russian(t: &mut TestBot) {
    let mut chat = t.sim.private_chat(502, "Гульнар", Some("ru"));
    chat.send_text("/start");
    let greeting: MessageView = chat.next().await.unwrap();
    assert!(
        greeting.text.starts_with("Здравствуйте!"),
        "{}",
        greeting.text
    );
    chat.press("🇷🇺 Русский").unwrap();
    assert_eq!(
        chat.next().await.unwrap().text,
        "Выберите ваш населённый пункт:"
    );
    chat.press("Шымкент").unwrap();
    chat.next().await.unwrap();
    chat.press("🔐 Личный кабинет").unwrap();
    let prompt = chat.next().await.unwrap();
    assert_eq!(
        prompt.text,
        "Отправьте ваш индивидуальный идентификационный номер (ИИН) — 12 цифр."
    );
    assert_eq!(prompt.labels(), ["‹ Назад", "Сменить населённый пункт"]);
    // The commands are registered in both languages.
    let ru: Vec<String> = t
        .sim
        .commands(Some("ru"))
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    assert_eq!(
        ru,
        ["start", "menu", "language", "logout", "cancel", "help"]
    );
    assert_eq!(t.sim.commands(Some("kk"))[0].1, "Басынан бастау");
}

bot_stories! {
    localities_page_past_eight,
    deep_link_preselects_the_locality,
    groups_get_a_polite_refusal_and_nothing_personal,
    stickers_photos_and_stray_text_get_an_answer,
    stale_and_forged_buttons_get_the_current_screen,
    a_restart_keeps_the_chat_where_it_was,
    language_can_change_at_any_time,
    wrong_iins_get_their_reason,
    names_are_escaped,
}

/// Walks a new chat to the IIN prompt of a locality.
async fn to_iin_prompt(
    chat: &mut kabinet::sim::ChatHandle,
    language: &str,
    locality: &str,
    cabinet: &str,
) -> MessageView {
    chat.send_text("/start");
    chat.next().await.unwrap();
    chat.press(language).unwrap();
    chat.next().await.unwrap();
    chat.press(locality).unwrap();
    chat.next().await.unwrap();
    chat.press(cabinet).unwrap();
    chat.next().await.unwrap()
}

async fn add_localities(t: &TestBot, n: usize) {
    for i in 0..n {
        let l = kabinet::storage::LocalityUpsert {
            code: kabinet::domain::LocalityCode::parse(&format!("town{i:02}")).unwrap(),
            name_kk: format!("Ауыл {i:02}"),
            name_ru: format!("Посёлок {i:02}"),
        };
        t.storage()
            .upsert_locality(&l, kabinet::clock::now())
            .await
            .unwrap();
    }
}

async fn localities_page_past_eight(t: &mut TestBot) {
    add_localities(t, 15).await; // 18 in all: pages of 8, 8, 2
    let mut chat = t.sim.private_chat(601, "Ерлан", Some("ru"));
    chat.send_text("/start");
    chat.next().await.unwrap();
    chat.press("🇷🇺 Русский").unwrap();
    let first = chat.next().await.unwrap();
    assert_eq!(first.buttons.len(), 9, "8 localities and the page row");
    assert_eq!(
        first.buttons[8]
            .iter()
            .map(|b| b.text.as_str())
            .collect::<Vec<_>>(),
        ["1/3", "›"]
    );
    chat.press("›").unwrap();
    let second = chat.next().await.unwrap();
    assert_eq!(
        second.buttons[8]
            .iter()
            .map(|b| b.text.as_str())
            .collect::<Vec<_>>(),
        ["‹", "2/3", "›"]
    );
    chat.press("›").unwrap();
    let third = chat.next().await.unwrap();
    assert_eq!(
        third.labels(),
        ["Посёлок 14", "Шымкент", "‹", "3/3"],
        "in alphabetical order"
    );
    let noop = chat.press("3/3").unwrap();
    chat.press("Шымкент").unwrap();
    let chosen = chat.next().await.unwrap();
    assert!(
        chosen.text.starts_with("Населённый пункт: Шымкент"),
        "{}",
        chosen.text
    );
    assert_eq!(
        chat.callback_answer(&noop),
        Some(None),
        "the page number is answered silently"
    );
}

async fn deep_link_preselects_the_locality(t: &mut TestBot) {
    let mut chat = t.sim.private_chat(602, "Айгерім", Some("kk"));
    chat.send_text("/start loc_astana");
    chat.next().await.unwrap();
    chat.press("🇰🇿 Қазақша").unwrap();
    let chosen = chat.next().await.unwrap();
    assert!(
        chosen.text.starts_with("Елді мекен: Астана"),
        "{}",
        chosen.text
    );
    // An unknown code falls back to the list.
    chat.send_text("/start loc_atlantis");
    chat.next().await.unwrap();
    chat.press("🇰🇿 Қазақша").unwrap();
    assert_eq!(
        chat.next().await.unwrap().text,
        "Елді мекеніңізді таңдаңыз:"
    );
}

async fn groups_get_a_polite_refusal_and_nothing_personal(t: &mut TestBot) {
    let mut group = t.sim.group_chat(-1001, "Ата-аналар чаты", 603, Some("kk"));
    group.send_text("/start");
    let refusal = group.next().await.unwrap();
    assert!(
        refusal
            .text
            .starts_with("Мен тек жеке чатта жұмыс істеймін"),
        "{}",
        refusal.text
    );
    assert!(refusal.buttons.is_empty());
    group.send_text("900315412348");
    let again = group.next().await.unwrap();
    assert!(!again.text.contains("9003") && !again.text.contains("Айгерім"));
    let stored = t
        .storage()
        .fetch_i64("SELECT COUNT(*) FROM chats WHERE chat_id < 0")
        .await
        .unwrap();
    assert_eq!(stored, 0, "nothing of a group is stored");
}

async fn stickers_photos_and_stray_text_get_an_answer(t: &mut TestBot) {
    let mut chat = t.sim.private_chat(604, "Гүлнар", Some("kk"));
    chat.send_text("/start");
    let greeting = chat.next().await.unwrap();
    chat.send_sticker();
    let answer = chat.next().await.unwrap();
    assert!(
        answer.text.starts_with("Кешіріңіз, мұны түсінбедім."),
        "{}",
        answer.text
    );
    assert_eq!(
        answer.labels(),
        greeting.labels(),
        "and the current screen again"
    );
    assert_ne!(answer.message_id, greeting.message_id);
    chat.send_photo();
    assert!(chat.next().await.unwrap().text.starts_with("Кешіріңіз"));
    chat.send_voice();
    assert!(chat.next().await.unwrap().text.starts_with("Кешіріңіз"));
    chat.send_text("сәлем");
    assert!(chat.next().await.unwrap().text.starts_with("Кешіріңіз"));
    // At the IIN prompt a sticker asks for text, and a forwarded message is not taken as input.
    chat.press("🇰🇿 Қазақша").unwrap();
    chat.next().await.unwrap();
    chat.press("Алматы").unwrap();
    chat.next().await.unwrap();
    chat.press("🔐 Жеке кабинет").unwrap();
    chat.next().await.unwrap();
    chat.send_sticker();
    let ask = chat.next().await.unwrap();
    assert!(
        ask.text
            .starts_with("Мұнда мәтін жазыңыз.\n\nЖеке сәйкестендіру нөміріңізді (ЖСН)"),
        "{}",
        ask.text
    );
    // A forwarded IIN is text, but not typed here: the parent is told so, and nothing is
    // looked up.
    chat.send_forwarded("900315412348");
    let forwarded = chat.next().await.unwrap();
    assert!(
        forwarded.text.starts_with(
            "Қайта жіберілген хабарламаларды қабылдамаймын. ЖСН-ді өзіңіз теріп жіберіңіз.\n\nЖеке сәйкестендіру нөміріңізді (ЖСН)"
        ),
        "{}",
        forwarded.text
    );
    let lookups: i64 = t
        .storage()
        .fetch_i64("SELECT COUNT(*) FROM rate_limits WHERE bucket LIKE 'iin:%'")
        .await
        .unwrap();
    assert_eq!(lookups, 0, "a forwarded IIN is not looked up");
}

async fn stale_and_forged_buttons_get_the_current_screen(t: &mut TestBot) {
    let mut chat = t.sim.private_chat(605, "Ерлан", Some("ru"));
    chat.send_text("/start");
    let old = chat.next().await.unwrap();
    chat.send_text("/start");
    let current = chat.next().await.unwrap();
    // A button on the older greeting.
    let stale = chat.press_data(old.message_id, "lang:ru").unwrap();
    let answer = chat.next().await.unwrap();
    assert!(
        answer
            .text
            .starts_with("Эта кнопка устарела — вот текущий экран."),
        "{}",
        answer.text
    );
    assert_eq!(
        chat.callback_answer(&stale),
        Some(Some("Эта кнопка устарела — вот текущий экран.".into()))
    );
    assert_eq!(answer.labels(), current.labels());
    // Forged data on the current screen: answered, the screen stays.
    let screen = chat.screen().unwrap();
    let forged = chat.press_data(screen.message_id, "app:42").unwrap();
    let _ = chat.answer_of(&forged).await;
    assert!(chat.callback_answer(&forged).is_some());
    assert_eq!(chat.screen().unwrap().labels(), current.labels());
    // A button that does not fit the screen (pressed twice): the same.
    chat.press("🇷🇺 Русский").unwrap();
    let list = chat.next().await.unwrap();
    let twice = chat.press_data(list.message_id, "lang:ru").unwrap();
    let _ = chat.answer_of(&twice).await;
    assert_eq!(
        chat.callback_answer(&twice),
        Some(Some("Эта кнопка устарела — вот текущий экран.".into()))
    );
    assert_eq!(
        chat.screen().unwrap().text,
        "Выберите ваш населённый пункт:"
    );
}

async fn a_restart_keeps_the_chat_where_it_was(t: &mut TestBot) {
    let mut chat = t.sim.private_chat(606, "Айгерім", Some("kk"));
    chat.send_text("/start");
    chat.next().await.unwrap();
    chat.press("🇰🇿 Қазақша").unwrap();
    chat.next().await.unwrap();
    chat.press("Алматы").unwrap();
    chat.next().await.unwrap();
    t.restart().await;
    chat.press("🔐 Жеке кабинет").unwrap();
    let prompt = chat.next().await.unwrap();
    assert_eq!(
        prompt.text,
        "Жеке сәйкестендіру нөміріңізді (ЖСН) жіберіңіз — 12 цифр."
    );
    chat.send_text("/help"); // handled after the press is saved: the chat's updates go in order
    chat.next().await.unwrap();
    let dialogue = t.storage().chat(606).await.unwrap().unwrap().dialogue;
    assert!(dialogue.contains("entering_iin"), "{dialogue}");
}

async fn language_can_change_at_any_time(t: &mut TestBot) {
    let mut chat = t.sim.private_chat(607, "Ерлан", Some("kk"));
    to_iin_prompt(&mut chat, "🇰🇿 Қазақша", "Астана", "🔐 Жеке кабинет").await;
    chat.send_text("/language");
    let choice = chat.next().await.unwrap();
    assert_eq!(choice.text, "Тілді таңдаңыз:");
    chat.press("🇷🇺 Русский").unwrap();
    let back = chat.next().await.unwrap();
    assert_eq!(
        back.text,
        "Отправьте ваш индивидуальный идентификационный номер (ИИН) — 12 цифр."
    );
    assert_eq!(
        t.storage().chat(607).await.unwrap().unwrap().language,
        kabinet::domain::Language::Ru
    );
    chat.send_text("/cancel");
    let cancelled = chat.next().await.unwrap();
    assert!(
        cancelled
            .text
            .starts_with("Действие отменено.\n\nНаселённый пункт: Астана"),
        "{}",
        cancelled.text
    );
    chat.send_text("/cancel");
    assert!(
        chat.next()
            .await
            .unwrap()
            .text
            .starts_with("Отменять нечего.")
    );
    chat.send_text("/help");
    assert!(
        chat.next()
            .await
            .unwrap()
            .text
            .contains("/language — сменить язык")
    );
    chat.send_text("/menu");
    assert!(
        chat.next()
            .await
            .unwrap()
            .text
            .starts_with("Меню откроется после входа в кабинет.")
    );
}

async fn wrong_iins_get_their_reason(t: &mut TestBot) {
    let mut chat = t.sim.private_chat(608, "Гүлнар", Some("ru"));
    to_iin_prompt(&mut chat, "🇷🇺 Русский", "Шымкент", "🔐 Личный кабинет").await;
    let cases = [
        ("12345", "В ИИН 12 цифр, а вы ввели 5 цифр."),
        ("93070842468", "В ИИН 12 цифр, а вы ввели 11 цифр."),
        ("9307084246a0", "ИИН состоит только из цифр."),
        (
            "931308424680",
            "Первые шесть цифр — дата рождения (ГГММДД), но такой даты нет.",
        ),
        ("930708924680", "Седьмая цифра должна быть от 1 до 6."),
        ("930708424681", "Не сходится последняя (контрольная) цифра"),
    ];
    for (input, reason) in cases {
        chat.send_text(input);
        let answer = chat.next().await.unwrap();
        assert!(
            answer.text.starts_with(&format!("⚠️ {reason}")),
            "{input}: {}",
            answer.text
        );
        assert!(answer.text.contains("Отправьте ИИН ещё раз."));
    }
}

async fn names_are_escaped(t: &mut TestBot) {
    let l = kabinet::storage::LocalityUpsert {
        code: kabinet::domain::LocalityCode::parse("a-test").unwrap(),
        name_kk: "Ауыл <Тест> & Ко".into(),
        name_ru: "Посёлок <Тест> & Ко".into(),
    };
    t.storage()
        .upsert_locality(&l, kabinet::clock::now())
        .await
        .unwrap();
    let mut chat = t.sim.private_chat(609, "Айгерім", Some("ru"));
    chat.send_text("/start");
    chat.next().await.unwrap();
    chat.press("🇷🇺 Русский").unwrap();
    chat.next().await.unwrap();
    chat.press("Посёлок <Тест> & Ко").unwrap();
    let chosen = chat.next().await.unwrap();
    assert!(
        chosen
            .text
            .starts_with("Населённый пункт: Посёлок <Тест> & Ко"),
        "{}",
        chosen.text
    );
}

bot_stories! {
    a_flood_is_cut_with_one_polite_answer,
}

async fn a_flood_is_cut_with_one_polite_answer(t: &mut TestBot) {
    let mut chat = t.sim.private_chat(620, "Скрипт", Some("ru"));
    chat.send_text("/start");
    chat.next().await.unwrap();
    // Forty stickers at once: those in hand and the ten behind them are answered, the rest
    // dropped with one message saying so.
    for _ in 0..40 {
        chat.send_sticker();
    }
    let bot_messages =
        |chat: &kabinet::sim::ChatHandle| chat.transcript().iter().filter(|m| m.from_bot).count();
    // The greeting, ten to twelve answers (the ten waiting; the one in hand when /start
    // was done; one more when the first sticker came in a poll of its own), and the note.
    let at_least = 12;
    common::wait_until(
        "the flood answered",
        std::time::Duration::from_secs(60),
        || {
            let n = bot_messages(&chat);
            async move { n >= at_least }
        },
    )
    .await;
    // The chat is served again once it is quiet.
    chat.skip_to_end();
    chat.send_text("/help");
    loop {
        let answer = chat.next().await.unwrap();
        if answer.text.contains("/start — начать сначала") {
            break;
        }
    }
    let told = chat
        .transcript()
        .iter()
        .filter(|m| m.text.starts_with("Слишком много сообщений подряд"))
        .count();
    assert_eq!(told, 1, "one polite answer per flood");
    let answered = bot_messages(&chat) - 1 - told - 1;
    assert!(
        (10..=12).contains(&answered),
        "ten to twelve of forty answered: {answered}"
    );
}
