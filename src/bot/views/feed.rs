//! The event feed (SPEC §1.4): newest first, local time, unread marked, a button to the card
//! each event concerns.

use super::{PAGE, Screen, Voice, button, footer, pager};
use crate::i18n::Html;
use crate::messages::{Callback, event_button, event_line};
use crate::storage::{Event, Page};

pub fn render(voice: &Voice<'_>, listed: &Page<Event>) -> Screen {
    let (page, pages) = (listed.number, listed.pages(PAGE));
    let mut text = voice.list_title("section-feed", page, pages);
    if listed.items.is_empty() {
        text.push_markup("\n\n")
            .push(&voice.html_text("feed-empty"));
    }
    let mut rows = Vec::new();
    for event in &listed.items {
        text.push_markup("\n\n");
        if event.read_at.is_none() {
            text.push_markup("🆕 ");
        }
        text.push(&Html::italic(&Html::text(
            &voice.date_time(event.occurred_at),
        )))
        .push_markup("\n")
        .push(&event_line(voice.loc, voice.lang, voice.tz, event));
        if let Some(label) = event_button(voice.loc, voice.lang, event) {
            rows.push(vec![button(label, Callback::OpenEvent(event.id))]);
        }
    }
    rows.push(pager(page, pages, Callback::Page));
    rows.push(footer(voice, true));
    Screen::new(text, rows)
}
