//! The cabinet's main menu: the questions waiting for an answer first, while any waits;
//! the five sections (the feed with its unread count); log out.

use super::{Screen, Voice, button};
use crate::messages::{Callback, Section};

pub fn render(voice: &Voice<'_>, parent_name: &str, unread: i64, waiting: i64) -> Screen {
    let mut feed = format!("🔔 {}", voice.text("section-feed"));
    if unread > 0 {
        let count = voice.format("unread-count", &[("count", unread.into())]);
        feed.push_str(&format!(" ({count})"));
    }
    let section = |icon: &str, id: &str, section: Section| {
        vec![button(
            format!("{icon} {}", voice.text(id)),
            Callback::Section(section),
        )]
    };
    let questions = (waiting > 0).then(|| {
        button(
            voice.format("button-questions", &[("count", waiting.into())]),
            Callback::Questions,
        )
    });
    Screen::new(
        voice.html("menu", &[("name", parent_name.into())]),
        vec![
            questions.into_iter().collect(),
            vec![button(feed, Callback::Section(Section::Feed))],
            section("📝", "section-applications", Section::Applications),
            section("📨", "section-referrals", Section::Referrals),
            section("📁", "section-files", Section::Files),
            section("⚙️", "section-settings", Section::Settings),
            vec![button(voice.text("button-logout"), Callback::Logout)],
        ],
    )
}
