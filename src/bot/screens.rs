//! Screens: what a state looks like (text and buttons), and putting a screen in the chat —
//! by editing the current one in place, or as a new message.

use teloxide::payloads::{EditMessageTextSetters, SendMessageSetters};
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, MessageId};
use teloxide::utils::html::escape;

use super::callback::Callback;
use super::state::{AfterLanguage, State};
use super::{BotError, ChatCtx, Deps, HandlerResult, KBot, send_paced};
use crate::domain::Language;

/// Localities per page of the list.
pub const LOCALITIES_PER_PAGE: i64 = 8;

/// A screen: HTML text (every data value escaped) and its inline keyboard.
#[derive(Debug, Clone, PartialEq)]
pub struct Screen {
    pub text: String,
    pub keyboard: InlineKeyboardMarkup,
}

impl Screen {
    /// The screen with a short note above it («this button is stale», an error …).
    pub fn with_note(mut self, note: &str) -> Screen {
        self.text = format!("{note}\n\n{}", self.text);
        self
    }
}

fn button(text: impl Into<String>, callback: Callback) -> InlineKeyboardButton {
    InlineKeyboardButton::callback(text.into(), callback.encode())
}

/// The screen of the chat's current state.
pub async fn render(deps: &Deps, ctx: &mut ChatCtx) -> Result<Screen, BotError> {
    if ctx.dialogue.state.in_cabinet()
        && let Some(cabinet) = ctx.cabinet_id()
    {
        return super::cabinet::render(deps, ctx, cabinet).await;
    }
    let loc = &deps.loc;
    let lang = ctx.lang;
    Ok(match &ctx.dialogue.state {
        State::New => language_screen(deps, lang, true),
        State::ChoosingLanguage { then } => {
            language_screen(deps, lang, matches!(then, AfterLanguage::Locality { .. }))
        }
        State::ChoosingLocality { page } => locality_list(deps, lang, *page).await?,
        State::LocalityChosen => {
            let locality = match &ctx.locality {
                Some(code) => deps.storage.locality(code).await?,
                None => None,
            };
            match locality {
                Some(l) => Screen {
                    text: loc.format(
                        lang,
                        "locality-chosen",
                        &[("locality", escape(l.name(lang)).into())],
                    ),
                    keyboard: InlineKeyboardMarkup::new([
                        vec![button(loc.text(lang, "button-cabinet"), Callback::Cabinet)],
                        vec![button(
                            loc.text(lang, "button-change-locality"),
                            Callback::ChangeLocality,
                        )],
                    ]),
                },
                // The locality went away (or was never chosen): choose again.
                None => locality_list(deps, lang, 0).await?,
            }
        }
        State::NoCabinet => {
            let name = match &ctx.locality {
                Some(code) => deps
                    .storage
                    .locality(code)
                    .await?
                    .map(|l| l.name(lang).to_owned()),
                None => None,
            };
            let mut text = loc.format(
                lang,
                "no-cabinet",
                &[("locality", escape(&name.unwrap_or_default()).into())],
            );
            if let Some(support) = super::login::support_line(deps, ctx) {
                text = format!("{text}\n\n{support}");
            }
            Screen {
                text,
                keyboard: InlineKeyboardMarkup::new([
                    vec![button(
                        loc.text(lang, "button-reenter-iin"),
                        Callback::ReenterIin,
                    )],
                    vec![button(
                        loc.text(lang, "button-change-locality"),
                        Callback::ChangeLocality,
                    )],
                ]),
            }
        }
        State::EnteringCode { cabinet, purpose } => {
            // Where the newest code went: the phone on file, or a new main phone.
            let to = match deps
                .storage
                .latest_otp(*cabinet, ctx.chat_id, *purpose)
                .await?
            {
                Some(last) => Some(last.phone),
                None => deps.storage.cabinet(*cabinet).await?.map(|c| c.phone),
            };
            let phone = to
                .and_then(|p| crate::domain::Phone::parse(&p).ok())
                .map(|p| p.masked())
                .unwrap_or_default();
            let minutes = (deps.config.otp.ttl.as_secs() / 60).max(1) as i64;
            Screen {
                text: loc.format(
                    lang,
                    "code-sent",
                    &[("phone", phone.into()), ("minutes", minutes.into())],
                ),
                keyboard: InlineKeyboardMarkup::new([
                    vec![button(
                        loc.text(lang, "button-continue"),
                        Callback::CodeContinue,
                    )],
                    vec![button(
                        loc.text(lang, "button-resend-code"),
                        Callback::ResendCode,
                    )],
                    vec![button(loc.text(lang, "button-cancel"), Callback::Cancel)],
                ]),
            }
        }
        State::NewPassword { .. } => Screen {
            text: loc.text(lang, "password-new-prompt"),
            keyboard: InlineKeyboardMarkup::new([vec![button(
                loc.text(lang, "button-cancel"),
                Callback::Cancel,
            )]]),
        },
        State::RepeatPassword { .. } => Screen {
            text: loc.text(lang, "password-repeat-prompt"),
            keyboard: InlineKeyboardMarkup::new([vec![button(
                loc.text(lang, "button-cancel"),
                Callback::Cancel,
            )]]),
        },
        State::EnteringPassword { .. } => Screen {
            text: loc.text(lang, "password-prompt"),
            keyboard: InlineKeyboardMarkup::new([
                vec![button(
                    loc.text(lang, "button-forgot-password"),
                    Callback::ForgotPassword,
                )],
                vec![button(loc.text(lang, "button-cancel"), Callback::Cancel)],
            ]),
        },
        State::Consent { .. } => {
            let url = deps
                .config
                .privacy_policy_url
                .as_ref()
                .map(|u| escape(u.as_str()))
                .unwrap_or_default();
            Screen {
                text: loc.format(lang, "consent-prompt", &[("url", url.into())]),
                keyboard: InlineKeyboardMarkup::new([
                    vec![button(
                        loc.text(lang, "button-consent"),
                        Callback::Consent(true),
                    )],
                    vec![button(
                        loc.text(lang, "button-consent-decline"),
                        Callback::Consent(false),
                    )],
                ]),
            }
        }
        State::EnteringIin => Screen {
            text: loc.text(lang, "iin-prompt"),
            keyboard: InlineKeyboardMarkup::new([
                vec![button(
                    loc.text(lang, "button-back"),
                    Callback::BackToLocality,
                )],
                vec![button(
                    loc.text(lang, "button-change-locality"),
                    Callback::ChangeLocality,
                )],
            ]),
        },
        // Cabinet screens without a session are left by ChatCtx::load before rendering.
        _ => language_screen(deps, lang, false),
    })
}

fn language_screen(deps: &Deps, lang: Language, greeting: bool) -> Screen {
    let loc = &deps.loc;
    let text = if greeting {
        loc.format(
            lang,
            "welcome",
            &[("bot", escape(&deps.bot_username).into())],
        )
    } else {
        loc.text(lang, "language-prompt")
    };
    // Each language is named in itself; Kazakh first.
    let buttons = Language::ALL.map(|l| {
        button(
            loc.text(l, &format!("language-self-{}", l.code())),
            Callback::Language(l),
        )
    });
    Screen {
        text,
        keyboard: InlineKeyboardMarkup::new([buttons.to_vec()]),
    }
}

async fn locality_list(deps: &Deps, lang: Language, page: u32) -> Result<Screen, BotError> {
    let loc = &deps.loc;
    let mut localities = deps.storage.all_localities().await?;
    localities.sort_by_cached_key(|l| crate::i18n::collation_key(lang, l.name(lang)));
    let total = localities.len() as i64;
    if total == 0 {
        return Ok(Screen {
            text: loc.text(lang, "locality-none"),
            keyboard: InlineKeyboardMarkup::default(),
        });
    }
    let pages = (total + LOCALITIES_PER_PAGE - 1) / LOCALITIES_PER_PAGE;
    let page = i64::from(page).min(pages - 1);
    let mut rows: Vec<Vec<InlineKeyboardButton>> = localities
        .iter()
        .skip((page * LOCALITIES_PER_PAGE) as usize)
        .take(LOCALITIES_PER_PAGE as usize)
        .map(|l| {
            let code = crate::domain::LocalityCode::parse(&l.code).expect("stored codes are valid");
            vec![button(l.name(lang), Callback::Locality(code))]
        })
        .collect();
    if pages > 1 {
        let mut nav = Vec::new();
        if page > 0 {
            nav.push(button("‹", Callback::LocalityPage(page as u32 - 1)));
        }
        nav.push(button(format!("{}/{}", page + 1, pages), Callback::Noop));
        if page + 1 < pages {
            nav.push(button("›", Callback::LocalityPage(page as u32 + 1)));
        }
        rows.push(nav);
    }
    Ok(Screen {
        text: loc.text(lang, "locality-prompt"),
        keyboard: InlineKeyboardMarkup::new(rows),
    })
}

/// Where a screen goes.
#[derive(Debug, Clone, Copy)]
pub enum Show {
    /// Replace the message in place (navigation).
    Edit(MessageId),
    /// A new message at the bottom of the chat (after the parent wrote something).
    New,
}

/// Offers Telegram's «share my phone» button under the code screen (a reply keyboard needs
/// a message of its own; it hides itself once used).
pub async fn offer_contact(bot: &KBot, ctx: &ChatCtx, deps: &Deps) -> HandlerResult {
    use teloxide::types::{KeyboardButton, KeyboardMarkup};
    let keyboard =
        KeyboardMarkup::new([[
            KeyboardButton::new(deps.loc.text(ctx.lang, "button-share-phone"))
                .request(teloxide::types::ButtonRequest::Contact),
        ]])
        .one_time_keyboard()
        .resize_keyboard();
    let text = deps.loc.text(ctx.lang, "contact-prompt");
    let chat = ChatId(ctx.chat_id);
    send_paced(deps, chat, || {
        bot.send_message(chat, &text)
            .reply_markup(keyboard.clone())
            .send()
    })
    .await?;
    Ok(())
}

/// Puts `screen` in the chat and makes it the current screen.
pub async fn show(
    bot: &KBot,
    deps: &Deps,
    ctx: &mut ChatCtx,
    screen: Screen,
    how: Show,
) -> HandlerResult {
    let chat = ChatId(ctx.chat_id);
    if let Show::Edit(message_id) = how {
        let edited = bot
            .edit_message_text(chat, message_id, &screen.text)
            .reply_markup(screen.keyboard.clone())
            .await;
        match edited {
            Ok(_) => {
                ctx.dialogue.screen = Some(message_id.0);
                return Ok(());
            }
            Err(teloxide::RequestError::Api(teloxide::ApiError::MessageNotModified)) => {
                ctx.dialogue.screen = Some(message_id.0);
                return Ok(());
            }
            // The message is gone (deleted, or too old to edit): send the screen anew.
            Err(teloxide::RequestError::Api(_)) => {}
            Err(other) => return Err(other.into()),
        }
    }
    let sent = send_paced(deps, chat, || {
        bot.send_message(chat, &screen.text)
            .reply_markup(screen.keyboard.clone())
            .send()
    })
    .await?;
    ctx.dialogue.screen = Some(sent.id.0);
    Ok(())
}
