//! Before the cabinet: the greeting with the language choice, the list of localities, the
//! chosen locality with its «Жеке кабинет» button.

use super::{Screen, Voice, button, pager};
use crate::domain::{Language, LocalityCode};
use crate::i18n::{Html, Localizer};
use crate::messages::Callback;
use crate::storage::Locality;

/// Localities per page of the list.
pub const LOCALITIES_PER_PAGE: i64 = 8;

/// The language choice: with the greeting on a first start, a plain question otherwise.
/// Each language is named in itself; Kazakh first.
pub fn language(loc: &Localizer, lang: Language, greeting: bool, bot: &str) -> Screen {
    let text = if greeting {
        loc.html(lang, "welcome", &[("bot", bot.into())])
    } else {
        loc.html_text(lang, "language-prompt")
    };
    let buttons = Language::ALL.map(|l| {
        button(
            loc.text(l, &format!("language-self-{}", l.code())),
            Callback::Language(l),
        )
    });
    Screen::new(text, vec![buttons.to_vec()])
}

/// A page of the localities, already sorted in the chat's language.
pub fn localities(voice: &Voice<'_>, sorted: &[Locality], page: u32) -> Screen {
    if sorted.is_empty() {
        return Screen::new(voice.html_text("locality-none"), Vec::new());
    }
    let total = sorted.len() as i64;
    let pages = (total + LOCALITIES_PER_PAGE - 1) / LOCALITIES_PER_PAGE;
    let page = i64::from(page).min(pages - 1);
    let mut rows: Vec<_> = sorted
        .iter()
        .skip((page * LOCALITIES_PER_PAGE) as usize)
        .take(LOCALITIES_PER_PAGE as usize)
        .filter_map(|l| {
            let code = LocalityCode::parse(&l.code).ok()?;
            Some(vec![button(l.name(voice.lang), Callback::Locality(code))])
        })
        .collect();
    rows.push(pager(page, pages, Callback::LocalityPage));
    Screen::new(voice.html_text("locality-prompt"), rows)
}

/// The chosen locality and the way into the cabinet.
pub fn locality_chosen(voice: &Voice<'_>, locality: &Locality) -> Screen {
    Screen::new(
        voice.html(
            "locality-chosen",
            &[("locality", locality.name(voice.lang).into())],
        ),
        vec![
            vec![button(voice.text("button-cabinet"), Callback::Cabinet)],
            vec![button(
                voice.text("button-change-locality"),
                Callback::ChangeLocality,
            )],
        ],
    )
}

/// The support line under a dead end, when `SUPPORT_CONTACT` is set.
pub fn support(voice: &Voice<'_>, contact: Option<&str>) -> Option<Html> {
    Some(voice.html("support-contact", &[("contact", contact?.into())]))
}
