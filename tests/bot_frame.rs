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
    assert!(greeting.text.starts_with("Сәлеметсіз бе!"), "{}", greeting.text);
    assert_eq!(greeting.labels(), ["🇰🇿 Қазақша", "🇷🇺 Русский"]);
    chat.press("🇰🇿 Қазақша").unwrap();
    let list = chat.next().await.unwrap();
    assert_eq!(list.message_id, greeting.message_id, "navigation edits in place");
    assert_eq!(list.text, "Елді мекеніңізді таңдаңыз:");
    assert_eq!(list.labels(), ["Алматы", "Астана", "Шымкент"]);
    chat.press("Алматы").unwrap();
    let chosen = chat.next().await.unwrap();
    assert!(chosen.text.starts_with("Елді мекен: Алматы"), "{}", chosen.text);
    assert_eq!(chosen.labels(), ["🔐 Жеке кабинет", "Елді мекенді өзгерту"]);
    chat.press("🔐 Жеке кабинет").unwrap();
    let prompt = chat.next().await.unwrap();
    assert_eq!(prompt.text, "Жеке сәйкестендіру нөміріңізді (ЖСН) жіберіңіз — 12 цифр.");
    assert_eq!(prompt.message_id, greeting.message_id);
}

async fn start_in_russian(t: &mut TestBot) {
    let mut chat = t.sim.private_chat(502, "Гульнар", Some("ru"));
    chat.send_text("/start");
    let greeting: MessageView = chat.next().await.unwrap();
    assert!(greeting.text.starts_with("Здравствуйте!"), "{}", greeting.text);
    chat.press("🇷🇺 Русский").unwrap();
    assert_eq!(chat.next().await.unwrap().text, "Выберите ваш населённый пункт:");
    chat.press("Шымкент").unwrap();
    chat.next().await.unwrap();
    chat.press("🔐 Личный кабинет").unwrap();
    let prompt = chat.next().await.unwrap();
    assert_eq!(prompt.text, "Отправьте ваш индивидуальный идентификационный номер (ИИН) — 12 цифр.");
    assert_eq!(prompt.labels(), ["‹ Назад", "Сменить населённый пункт"]);
    // The commands are registered in both languages.
    let ru: Vec<String> = t.sim.commands(Some("ru")).into_iter().map(|(c, _)| c).collect();
    assert_eq!(ru, ["start", "menu", "language", "logout", "cancel", "help"]);
    assert_eq!(t.sim.commands(Some("kk"))[0].1, "Басынан бастау");
}
