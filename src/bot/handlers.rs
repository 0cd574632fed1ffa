//! What the bot does with each kind of update.

use teloxide::prelude::*;
use teloxide::types::{ChatMemberUpdated, MaybeInaccessibleMessage};
use teloxide::utils::command::BotCommands;

use super::callback::Callback;
use super::screens::{Show, render, show};
use super::state::{AfterLanguage, State};
use super::{ChatCtx, Deps, HandlerResult, KBot};
use crate::domain::{Iin, Language, LocalityCode};

/// The commands of SPEC §1.9. Their descriptions come from the locales.
#[derive(BotCommands, Clone, Debug, PartialEq)]
#[command(rename_rule = "lowercase")]
pub enum Command {
    Start(String),
    Menu,
    Language,
    Logout,
    Cancel,
    Help,
}

/// Parses a command addressed to this bot (`/start`, `/start@kabinet_bot loc_almaty`).
pub fn parse_command(message: Message, deps: Deps) -> Option<Command> {
    Command::parse(message.text()?, &deps.bot_username).ok()
}

fn sender(message: &Message) -> Option<&teloxide::types::User> {
    message.from.as_ref()
}

/// Anything in a group or channel: one polite line, nothing personal, nothing stored.
pub async fn refuse_group(bot: KBot, message: Message, deps: Deps) -> HandlerResult {
    let lang = Language::from_telegram(
        sender(&message).and_then(|u| u.language_code.as_deref()),
        deps.config.default_language,
    );
    let text = deps.loc.format(
        lang,
        "group-only",
        &[("bot", deps.bot_username.to_string().into())],
    );
    bot.send_message(message.chat.id, text).await?;
    Ok(())
}

pub async fn on_command(
    bot: KBot,
    message: Message,
    command: Command,
    deps: Deps,
) -> HandlerResult {
    let mut ctx = ChatCtx::load(&deps, message.chat.id.0, sender(&message)).await?;
    if ctx.dialogue.state == State::New {
        ctx.dialogue.state = State::ChoosingLanguage {
            then: AfterLanguage::Locality { preselected: None },
        };
    }
    let note = match command {
        Command::Start(payload) => {
            let preselected = match payload.trim().strip_prefix("loc_").map(LocalityCode::parse) {
                Some(Ok(code)) => deps.storage.locality(code.as_str()).await?.map(|l| l.code),
                _ => None,
            };
            ctx.dialogue.state = State::ChoosingLanguage {
                then: AfterLanguage::Locality { preselected },
            };
            None
        }
        Command::Language => {
            let current = ctx.dialogue.state.clone();
            if !matches!(current, State::ChoosingLanguage { .. }) {
                ctx.dialogue.state = State::ChoosingLanguage {
                    then: AfterLanguage::Return {
                        state: Box::new(current),
                    },
                };
            }
            None
        }
        Command::Menu => Some("menu-login-first"),
        Command::Logout => Some("logout-not-logged-in"),
        Command::Cancel => match ctx.dialogue.state {
            State::EnteringIin => {
                ctx.dialogue.state = State::LocalityChosen;
                Some("cancelled")
            }
            _ => Some("cancel-nothing"),
        },
        Command::Help => Some("help"),
    };
    let mut screen = render(&deps, &ctx).await?;
    if let Some(id) = note {
        screen = screen.with_note(&deps.loc.text(ctx.lang, id));
    }
    show(&bot, &mut ctx, screen, Show::New).await?;
    ctx.save(&deps).await
}

/// A message that is not a command: the IIN when it is asked for; anything else is answered
/// politely with the current screen again.
pub async fn on_message(bot: KBot, message: Message, deps: Deps) -> HandlerResult {
    let mut ctx = ChatCtx::load(&deps, message.chat.id.0, sender(&message)).await?;
    if ctx.dialogue.state == State::New {
        ctx.dialogue.state = State::ChoosingLanguage {
            then: AfterLanguage::Locality { preselected: None },
        };
    }
    let forwarded = message.forward_origin().is_some();
    let note = match (&ctx.dialogue.state, message.text()) {
        (State::EnteringIin, Some(text)) if !forwarded => match Iin::parse(text) {
            Err(reason) => {
                let count = text.chars().filter(char::is_ascii_digit).count() as i64;
                let reason =
                    deps.loc
                        .format(ctx.lang, reason.message_id(), &[("count", count.into())]);
                deps.loc
                    .format(ctx.lang, "iin-invalid", &[("reason", reason.into())])
            }
            Ok(_) => deps.loc.text(ctx.lang, "login-unavailable"),
        },
        (State::EnteringIin, _) => deps.loc.text(ctx.lang, "text-expected"),
        _ => deps.loc.text(ctx.lang, "unexpected"),
    };
    let screen = render(&deps, &ctx).await?.with_note(&note);
    show(&bot, &mut ctx, screen, Show::New).await?;
    ctx.save(&deps).await
}

pub async fn on_callback(bot: KBot, query: CallbackQuery, deps: Deps) -> HandlerResult {
    let Some(message) = query.message.as_ref() else {
        bot.answer_callback_query(query.id.clone()).await?;
        return Ok(());
    };
    let chat = message.chat();
    let lang_of_user = Language::from_telegram(
        query.from.language_code.as_deref(),
        deps.config.default_language,
    );
    if !chat.is_private() {
        let text = deps.loc.format(
            lang_of_user,
            "group-only",
            &[("bot", deps.bot_username.to_string().into())],
        );
        bot.answer_callback_query(query.id.clone())
            .text(text)
            .show_alert(true)
            .await?;
        return Ok(());
    }
    let mut ctx = ChatCtx::load(&deps, chat.id.0, Some(&query.from)).await?;
    let pressed = message.id();
    let callback = query.data.as_deref().and_then(Callback::decode);
    let on_screen =
        ctx.is_screen(pressed) && !matches!(message, MaybeInaccessibleMessage::Inaccessible(_));
    let handled = match callback {
        Some(cb) if on_screen => apply(&deps, &mut ctx, cb).await?,
        _ => false,
    };
    if handled {
        bot.answer_callback_query(query.id.clone()).await?;
        let screen = render(&deps, &ctx).await?;
        show(&bot, &mut ctx, screen, Show::Edit(pressed)).await?;
    } else {
        // Forged, replayed, from an old screen, or pressed twice: say so, and show where the
        // chat really is.
        if ctx.dialogue.state == State::New {
            ctx.dialogue.state = State::ChoosingLanguage {
                then: AfterLanguage::Locality { preselected: None },
            };
        }
        bot.answer_callback_query(query.id.clone())
            .text(deps.loc.text(ctx.lang, "stale-button"))
            .await?;
        let screen = render(&deps, &ctx).await?;
        let how = if on_screen {
            Show::Edit(pressed)
        } else {
            Show::New
        };
        let screen = if on_screen {
            screen
        } else {
            screen.with_note(&deps.loc.text(ctx.lang, "stale-button"))
        };
        show(&bot, &mut ctx, screen, how).await?;
    }
    ctx.save(&deps).await
}

/// Applies a button press to the dialogue. `false` when the press does not fit the screen.
async fn apply(
    deps: &Deps,
    ctx: &mut ChatCtx,
    callback: Callback,
) -> Result<bool, super::BotError> {
    let state = ctx.dialogue.state.clone();
    match (callback, state) {
        (Callback::Noop, _) => {}
        (Callback::Language(lang), State::ChoosingLanguage { then }) => {
            deps.storage
                .set_chat_language(ctx.chat_id, lang, ctx.now)
                .await?;
            ctx.lang = lang;
            ctx.dialogue.state = match then {
                AfterLanguage::Locality {
                    preselected: Some(code),
                } => {
                    deps.storage
                        .set_chat_locality(ctx.chat_id, Some(&code), ctx.now)
                        .await?;
                    ctx.locality = Some(code);
                    State::LocalityChosen
                }
                AfterLanguage::Locality { preselected: None } => {
                    State::ChoosingLocality { page: 0 }
                }
                AfterLanguage::Return { state } => *state,
            };
        }
        (Callback::LocalityPage(page), State::ChoosingLocality { .. }) => {
            ctx.dialogue.state = State::ChoosingLocality { page };
        }
        (Callback::Locality(code), State::ChoosingLocality { .. }) => {
            if deps.storage.locality(code.as_str()).await?.is_none() {
                return Ok(false);
            }
            deps.storage
                .set_chat_locality(ctx.chat_id, Some(code.as_str()), ctx.now)
                .await?;
            ctx.locality = Some(code.as_str().to_owned());
            ctx.dialogue.state = State::LocalityChosen;
        }
        (Callback::ChangeLocality, State::LocalityChosen | State::EnteringIin) => {
            ctx.dialogue.state = State::ChoosingLocality { page: 0 };
        }
        (Callback::Cabinet, State::LocalityChosen) => ctx.dialogue.state = State::EnteringIin,
        (Callback::BackToLocality, State::EnteringIin) => {
            ctx.dialogue.state = State::LocalityChosen
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// The parent blocked (or unblocked) the bot in a private chat.
pub async fn on_member_update(update: ChatMemberUpdated, deps: Deps) -> HandlerResult {
    if !update.chat.is_private() {
        return Ok(());
    }
    let chat_id = update.chat.id.0;
    if update.new_chat_member.is_banned() {
        if deps.storage.chat(chat_id).await?.is_some() {
            deps.storage
                .mark_chat_blocked(chat_id, crate::clock::now())
                .await?;
        }
    } else if let Some(record) = deps.storage.chat(chat_id).await? {
        // Back again: clears the block mark.
        deps.storage
            .ensure_chat(
                chat_id,
                record.user_id,
                record.language,
                &record.dialogue,
                crate::clock::now(),
            )
            .await?;
    }
    Ok(())
}
