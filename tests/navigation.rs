//! Moving through the cabinet (SPEC §1.3): «Артқа» / «Назад» returns to the screen the parent
//! came from, with its page; «Мәзір» / «Меню» forgets the way; a press that would show what
//! is already on screen is answered with a toast, never with an edit Telegram refuses. Every
//! story ends with the simulator having recorded no 400 (checked by `TestBot::stop`).

mod common;

use common::TestBot;
use kabinet::domain::Language;
use kabinet::sim::{ChatHandle, MessageView};

const AIGERIM: &str = "900315412348";

bot_stories! {
    back_returns_where_the_parent_came_from_in_kazakh,
    back_returns_where_the_parent_came_from_in_russian,
    presses_that_change_nothing_get_a_toast,
    every_screen_pressed_twice_and_forged,
}

/// The words of one language that the stories press and read.
struct Words {
    lang: Language,
    feed: &'static str,
    feed_title: &'static str,
    referrals: &'static str,
    applications: &'static str,
    back: &'static str,
    menu: &'static str,
    /// The application card's button to its referral.
    open_referral: &'static str,
    menu_title: &'static str,
}

const KK: Words = Words {
    lang: Language::Kk,
    feed: "🔔 Оқиғалар таспасы",
    feed_title: "Оқиғалар таспасы",
    referrals: "📨 Менің жолдамаларым",
    applications: "📝 Менің өтініштерім",
    back: "‹ Артқа",
    menu: "Мәзір",
    open_referral: "📨 Жолдаманы ашу",
    menu_title: "Жеке кабинет",
};

const RU: Words = Words {
    lang: Language::Ru,
    feed: "🔔 Лента событий",
    feed_title: "Лента событий",
    referrals: "📨 Мои направления",
    applications: "📝 Мои заявления",
    back: "‹ Назад",
    menu: "Меню",
    open_referral: "📨 Открыть направление",
    menu_title: "Личный кабинет",
};

/// Presses the button labelled `label` (its label may begin so) and waits for the screen.
async fn press(chat: &mut ChatHandle, label: &str) -> MessageView {
    let screen = chat.screen().expect("a screen");
    let full = screen
        .labels()
        .into_iter()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no {label:?} in {:?}", screen.labels()))
        .to_owned();
    chat.press(&full).unwrap();
    chat.next().await.unwrap()
}

fn first_label_starting(screen: &MessageView, prefix: &str) -> String {
    screen
        .labels()
        .into_iter()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in {:?}", screen.labels()))
        .to_owned()
}

async fn back_returns_where_the_parent_came_from(t: &TestBot, chat_id: i64, w: &Words) {
    let (mut chat, _) = t.logged_in(chat_id, w.lang, "almaty", AIGERIM).await;

    // Feed, its second page, a card from it: Back is that page of the feed again.
    press(&mut chat, w.feed).await;
    let page2 = press(&mut chat, "›").await;
    assert!(
        page2.text.starts_with(&format!("{} · 2/", w.feed_title)),
        "{}",
        page2.text
    );
    let open = page2
        .labels()
        .into_iter()
        .find(|l| l.contains("№"))
        .unwrap()
        .to_owned();
    let card = press(&mut chat, &open).await;
    assert!(!card.text.starts_with(w.feed_title), "{}", card.text);
    let back = press(&mut chat, w.back).await;
    assert_eq!(
        back.text,
        page2.text.replace("🆕 ", ""),
        "the feed, on the same page (its events read now)"
    );

    // A referral, its application, Back: the referral; Back again: the list.
    press(&mut chat, w.menu).await;
    let list = press(&mut chat, w.referrals).await;
    let referral = press(&mut chat, &first_label_starting(&list, "№")).await;
    let application = press(&mut chat, &first_label_starting(&referral, "📝")).await;
    assert!(
        application.labels().contains(&w.open_referral),
        "the application card, with its referral: {:?}",
        application.labels()
    );
    let back = press(&mut chat, w.back).await;
    assert_eq!(
        back.text, referral.text,
        "Back from the application: the referral"
    );
    let back = press(&mut chat, w.back).await;
    assert_eq!(back.text, list.text, "and then the list");
    let back = press(&mut chat, w.back).await;
    assert!(back.text.starts_with(w.menu_title), "{}", back.text);

    // Applications, page 2, a card: Back is page 2.
    let apps = press(&mut chat, w.applications).await;
    let apps2 = if apps.labels().contains(&"›") {
        press(&mut chat, "›").await
    } else {
        apps
    };
    press(&mut chat, &first_label_starting(&apps2, "№")).await;
    let back = press(&mut chat, w.back).await;
    assert_eq!(back.text, apps2.text, "the applications, on the same page");

    // Menu from deep inside forgets the way: Back from a section is the menu.
    press(&mut chat, &first_label_starting(&apps2, "№")).await;
    press(&mut chat, w.menu).await;
    press(&mut chat, w.referrals).await;
    let back = press(&mut chat, w.back).await;
    assert!(back.text.starts_with(w.menu_title), "{}", back.text);
}

async fn back_returns_where_the_parent_came_from_in_kazakh(t: &mut TestBot) {
    back_returns_where_the_parent_came_from(t, 1001, &KK).await;
}

async fn back_returns_where_the_parent_came_from_in_russian(t: &mut TestBot) {
    back_returns_where_the_parent_came_from(t, 1002, &RU).await;
}

/// Presses `data` on the chat's screen and waits for the answer; returns the toast.
async fn press_data(chat: &ChatHandle, data: &str) -> Option<String> {
    let screen = chat.screen().unwrap();
    let id = chat.press_data(screen.message_id, data).unwrap();
    chat.answer_of(&id).await.expect("every press is answered")
}

async fn presses_that_change_nothing_get_a_toast(t: &mut TestBot) {
    let (mut chat, _) = t.logged_in(1003, Language::Ru, "almaty", AIGERIM).await;
    let apps = press(&mut chat, RU.applications).await;
    let edits = apps.edits;
    // The page counter: a label, answered silently.
    assert_eq!(press_data(&chat, "noop").await, None);
    // The section pressed again: the same screen, so a toast, not an edit.
    assert_eq!(
        press_data(&chat, "sec:apps").await.as_deref(),
        Some("На экране ничего не изменилось.")
    );
    // A forged press on the current screen: stale, and no edit either.
    assert_eq!(
        press_data(&chat, "rmph:3").await.as_deref(),
        Some("Эта кнопка устарела — вот текущий экран.")
    );
    chat.skip_to_end();
    assert_eq!(chat.screen().unwrap().edits, edits, "no edit was sent");
}

/// Every button of every screen of the cabinet, pressed twice in a row (the second press on
/// the screen the first one left), then a forged press on it.
async fn every_screen_pressed_twice_and_forged(t: &mut TestBot) {
    let (mut chat, _) = t.logged_in(1004, Language::Kk, "almaty", AIGERIM).await;
    let paths: &[&[&str]] = &[
        &[KK.feed],
        &[KK.feed, "›"],
        &[KK.applications],
        &[KK.applications, "№"],
        &[KK.referrals],
        &[KK.referrals, "№"],
        &[KK.referrals, "№", "📝"],
        &["📁 Жеке іс-құжаттарым"],
        &["📁 Жеке іс-құжаттарым", "Сейітов"],
        &["📁 Жеке іс-құжаттарым", "Сейітов", "📅"],
        &["⚙️ Баптаулар"],
        &["⚙️ Баптаулар", "📱"],
    ];
    for path in paths {
        let asked = chat.send_text("/menu");
        // An edit from the last round's presses may still come first (and may itself show the
        // menu): wait for the menu sent after the command, the newest message.
        loop {
            let shown = chat.next().await.unwrap();
            let newest = chat.screen().map(|s| s.message_id);
            if shown.message_id > asked
                && shown.text.contains(KK.menu_title)
                && Some(shown.message_id) == newest
            {
                break;
            }
        }
        for step in *path {
            press(&mut chat, step).await;
        }
        let screen = chat.screen().unwrap();
        let buttons: Vec<String> = screen
            .buttons
            .iter()
            .flatten()
            .filter_map(|b| b.data.clone())
            // Buttons that leave the cabinet or open a prompt are pressed elsewhere.
            .filter(|d| {
                ![
                    "logout", "setpwd", "setmail", "setph", "addph", "setlang", "endall",
                ]
                .contains(&d.as_str())
            })
            .filter(|d| !d.starts_with("rmph") && !d.starts_with("endss") && !d.starts_with("ch:"))
            .collect();
        for data in buttons {
            press_data(&chat, &data).await;
            press_data(&chat, &data).await;
            chat.skip_to_end();
        }
        press_data(&chat, "app:999999").await;
        press_data(&chat, "att:9:202611").await;
        chat.skip_to_end();
    }
}
