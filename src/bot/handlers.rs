//! What the bot does with each kind of update: commands, messages, button presses, a flood,
//! a block. Thin: the state moves in `routes.rs` and its transitions; the screen comes from
//! `screens.rs` and goes out through `show.rs`.

use teloxide::prelude::*;
use teloxide::types::{ChatMemberUpdated, MaybeInaccessibleMessage, User};
use teloxide::utils::command::BotCommands;

use super::routes::{self, Pressed};
use super::screens::render;
use super::show::{Show, Shown, as_before, offer_contact, send_paced, show};
use super::state::{AfterLanguage, State};
use super::views::Screen;
use super::{BotError, ChatCtx, Deps, HandlerResult, KBot, login};
use crate::domain::{Language, LocalityCode};
use crate::i18n::Html;
use crate::messages::Callback;

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

fn sender(message: &Message) -> Option<&User> {
    message.from.as_ref()
}

/// Anything in a group or channel: one polite line, nothing personal, nothing stored.
pub async fn refuse_group(bot: KBot, message: Message, deps: Deps) -> HandlerResult {
    let lang = Language::from_telegram(
        sender(&message).and_then(|u| u.language_code.as_deref()),
        deps.config.default_language,
    );
    let text = deps.loc.html(
        lang,
        "group-only",
        &[("bot", deps.bot_username.as_ref().into())],
    );
    let chat = message.chat.id;
    send_paced(&deps, chat, || bot.send_message(chat, text.as_str()).send()).await?;
    Ok(())
}

/// A failed update still gets an answer: a short apology (the error goes to the log).
async fn apologise_on_error(
    bot: &KBot,
    deps: &Deps,
    chat: ChatId,
    result: HandlerResult,
) -> HandlerResult {
    deps.metrics.update_handled(result.is_ok());
    if let Err(error) = result {
        tracing::error!(chat = chat.0, %error, "an update failed");
        let lang = match deps.storage.chat(chat.0).await {
            Ok(Some(record)) => record.language,
            _ => deps.config.default_language,
        };
        let text = deps.loc.html_text(lang, "error-temporary");
        let _ = send_paced(deps, chat, || bot.send_message(chat, text.as_str()).send()).await;
    }
    Ok(())
}

pub async fn on_command(
    bot: KBot,
    message: Message,
    command: Command,
    deps: Deps,
) -> HandlerResult {
    let chat = message.chat.id;
    let result = handle_command(&bot, &message, command, &deps).await;
    apologise_on_error(&bot, &deps, chat, result).await
}

pub async fn on_message(bot: KBot, message: Message, deps: Deps) -> HandlerResult {
    let chat = message.chat.id;
    let result = handle_message(&bot, &message, &deps).await;
    apologise_on_error(&bot, &deps, chat, result).await
}

pub async fn on_callback(bot: KBot, query: CallbackQuery, deps: Deps) -> HandlerResult {
    let chat = query.message.as_ref().map(|m| m.chat().id);
    let result = handle_callback(&bot, &query, &deps).await;
    if result.is_err() {
        // The spinner on the button stops either way.
        let _ = super::reply::answer_press(&bot, &query.id.0, None, false).await;
    }
    match chat {
        Some(chat) => apologise_on_error(&bot, &deps, chat, result).await,
        None => result,
    }
}

/// The chat as stored; a chat that never started begins at the language choice.
async fn load(deps: &Deps, chat: i64, user: Option<&User>) -> Result<ChatCtx, BotError> {
    let mut ctx = ChatCtx::load(deps, chat, user).await?;
    if *ctx.dialogue.state() == State::New {
        ctx.dialogue.stay(State::ChoosingLanguage {
            then: AfterLanguage::Locality { preselected: None },
        });
    }
    Ok(ctx)
}

async fn handle_command(
    bot: &KBot,
    message: &Message,
    command: Command,
    deps: &Deps,
) -> HandlerResult {
    let mut ctx = load(deps, message.chat.id.0, sender(message)).await?;
    let text = |id: &str| Some(deps.loc.html_text(ctx.lang, id));
    let note = match command {
        Command::Start(payload) => {
            let preselected = match payload.trim().strip_prefix("loc_").map(LocalityCode::parse) {
                Some(Ok(code)) => deps.storage.locality(code.as_str()).await?.map(|l| l.code),
                _ => None,
            };
            ctx.dialogue.reset(State::ChoosingLanguage {
                then: AfterLanguage::Locality { preselected },
            });
            None
        }
        Command::Language => {
            let current = ctx.dialogue.state().clone();
            if !matches!(current, State::ChoosingLanguage { .. }) {
                ctx.dialogue.stay(State::ChoosingLanguage {
                    then: AfterLanguage::Return {
                        state: Box::new(current),
                    },
                });
            }
            None
        }
        Command::Menu if ctx.session.is_some() => {
            ctx.dialogue.reset(State::LoggedIn);
            None
        }
        Command::Menu => text("menu-login-first"),
        Command::Logout => login::log_out(deps, &mut ctx).await?,
        Command::Cancel if ctx.dialogue.state().cancellable() => login::cancel(deps, &mut ctx),
        Command::Cancel => text("cancel-nothing"),
        Command::Help => {
            let mut help = deps.loc.html_text(ctx.lang, "help");
            if let Some(support) = login::support_line(deps, &ctx) {
                help.push_markup("\n\n").push(&support);
            }
            Some(help)
        }
    };
    respond(bot, deps, &mut ctx, note, Show::New).await
}

/// The chat's current screen with the notes above it (the context's notice first).
async fn compose(deps: &Deps, ctx: &mut ChatCtx, note: Option<Html>) -> Result<Screen, BotError> {
    let mut screen = render(deps, ctx).await?;
    if let Some(note) = note {
        screen = screen.with_note(&note);
    }
    if let Some(notice) = ctx.notice.take() {
        screen = screen.with_note(&deps.loc.html_text(ctx.lang, notice));
    }
    Ok(screen)
}

/// After the screen: the contact button when a code went out, and the dialogue stored.
async fn finish(bot: &KBot, deps: &Deps, ctx: &mut ChatCtx) -> HandlerResult {
    if std::mem::take(&mut ctx.offer_contact) {
        offer_contact(bot, ctx, deps).await?;
    }
    ctx.save(deps).await
}

/// Shows the chat's current screen with the note above it, and stores the dialogue.
async fn respond(
    bot: &KBot,
    deps: &Deps,
    ctx: &mut ChatCtx,
    note: Option<Html>,
    how: Show,
) -> HandlerResult {
    let screen = compose(deps, ctx, note).await?;
    show(bot, deps, ctx, screen, how).await?;
    finish(bot, deps, ctx).await
}

/// A message that is not a command: the input the screen asks for (IIN, code, password,
/// a shared phone), or anything else, answered politely with the current screen again.
async fn handle_message(bot: &KBot, message: &Message, deps: &Deps) -> HandlerResult {
    let mut ctx = load(deps, message.chat.id.0, sender(message)).await?;
    let forwarded = message.forward_origin().is_some();
    let text = message.text().filter(|_| !forwarded);
    let mut notes: Vec<Html> = Vec::new();
    // A message that may carry a secret leaves the chat before anything else happens (a
    // forwarded one too: it is refused, but the secret must not stay in view).
    if ctx.arrived_at_secret
        && message.text().is_some()
        && bot
            .delete_message(message.chat.id, message.id)
            .await
            .is_ok()
    {
        notes.push(deps.loc.html_text(ctx.lang, "secret-deleted"));
    }
    let typed = routes::Typed {
        text,
        forwarded,
        contact: message.contact(),
    };
    // A session that ended under the chat voided the screen this was typed for: the notice
    // says so, and the input answers nothing.
    if ctx.notice.is_none() {
        notes.extend(routes::typed(deps, &mut ctx, typed).await?);
    }
    let note = (!notes.is_empty()).then(|| Html::join(&notes, "\n\n"));
    respond(bot, deps, &mut ctx, note, Show::New).await
}

/// Answers a button press, with a toast when `text` is set.
async fn answer(bot: &KBot, query: &CallbackQuery, text: Option<String>) -> HandlerResult {
    super::reply::answer_press(bot, &query.id.0, text, false).await?;
    Ok(())
}

/// A button pressed in a group: one alert, nothing personal.
async fn refuse_group_press(bot: &KBot, query: &CallbackQuery, deps: &Deps) -> HandlerResult {
    let lang = Language::from_telegram(
        query.from.language_code.as_deref(),
        deps.config.default_language,
    );
    let text = deps.loc.format(
        lang,
        "group-only",
        &[("bot", deps.bot_username.to_string().into())],
    );
    super::reply::answer_press(bot, &query.id.0, Some(text), true).await?;
    Ok(())
}

async fn handle_callback(bot: &KBot, query: &CallbackQuery, deps: &Deps) -> HandlerResult {
    let Some(message) = query.message.as_ref() else {
        return answer(bot, query, None).await;
    };
    if !message.chat().is_private() {
        return refuse_group_press(bot, query, deps).await;
    }
    let mut ctx = load(deps, message.chat().id.0, Some(&query.from)).await?;
    let pressed = message.id();
    let callback = query.data.as_deref().and_then(Callback::decode);
    let on_screen =
        ctx.is_screen(pressed) && !matches!(message, MaybeInaccessibleMessage::Inaccessible(_));
    // A push's button is pressed on the push, not on the chat's screen: the card (an
    // announcement's: the feed) opens below it and the push stays as it was. Still
    // re-authorised, like every press.
    let from_push = !on_screen
        && matches!(callback, Some(Callback::OpenEvent(_)))
        && ctx.dialogue.state().in_cabinet();
    let outcome = match callback.clone() {
        Some(cb) if on_screen || from_push => routes::press(deps, &mut ctx, cb).await?,
        _ => Pressed::Stale,
    };
    match outcome {
        Pressed::Toast(toast) => {
            answer(bot, query, Some(toast)).await?;
            return ctx.save(deps).await;
        }
        Pressed::Done(note) => {
            if let Some(Callback::Language(lang)) = callback {
                // The chat's command menu follows its language at once.
                super::set_chat_commands(bot, &deps.loc, ChatId(ctx.chat_id), lang).await?;
            }
            let how = if from_push {
                Show::New
            } else {
                Show::Edit(pressed)
            };
            show_pressed(bot, query, deps, &mut ctx, note, how).await?;
        }
        Pressed::Stale => {
            // Forged, replayed, from an old screen, or pressed twice: say so, and show where
            // the chat really is (a new message unless the press was on the screen itself).
            answer(bot, query, Some(deps.loc.text(ctx.lang, "stale-button"))).await?;
            let (how, note) = if on_screen {
                (Show::Edit(pressed), None)
            } else {
                (
                    Show::New,
                    Some(deps.loc.html_text(ctx.lang, "stale-button")),
                )
            };
            let screen = compose(deps, &mut ctx, note).await?;
            if show(bot, deps, &mut ctx, screen, how).await? == Shown::AsBefore {
                tracing::debug!(chat = ctx.chat_id, "a stale press on the current screen");
            }
        }
    }
    finish(bot, deps, &mut ctx).await
}

/// The screen after a press that moved the dialogue: drawn while the spinner stops, or —
/// when it is what the chat shows already — the note (or «nothing changed») as a toast.
async fn show_pressed(
    bot: &KBot,
    query: &CallbackQuery,
    deps: &Deps,
    ctx: &mut ChatCtx,
    note: Option<Html>,
    how: Show,
) -> HandlerResult {
    let screen = compose(deps, ctx, note.clone()).await?;
    if as_before(ctx, &screen, how) {
        let toast = note.map_or_else(|| deps.loc.text(ctx.lang, "nothing-new"), |n| n.to_plain());
        return answer(bot, query, Some(toast)).await;
    }
    let (answered, shown) =
        tokio::join!(answer(bot, query, None), show(bot, deps, ctx, screen, how));
    shown?;
    if let Err(error) = answered {
        // The new screen is there; a spinner left turning (Telegram stops it after a while)
        // is not worth an apology.
        tracing::warn!(chat = ctx.chat_id, %error, "answering a button press failed");
    }
    Ok(())
}

/// An update dropped because its chat has [`super::lanes::PER_CHAT_QUEUE`] waiting: a
/// pressed button still stops spinning, and the first dropped of a flood gets one polite
/// message.
pub async fn on_flood(bot: KBot, deps: Deps, chat: i64, update: Update, first: bool) {
    let lang = match deps.storage.chat(chat).await {
        Ok(Some(record)) => record.language,
        _ => deps.config.default_language,
    };
    if let teloxide::types::UpdateKind::CallbackQuery(query) = &update.kind {
        let _ = bot
            .answer_callback_query(query.id.clone())
            .text(deps.loc.text(lang, "too-fast"))
            .await;
    }
    if first {
        tracing::info!(
            chat,
            "a chat's updates come faster than it is answered; some dropped"
        );
        let chat = ChatId(chat);
        let text = deps.loc.html_text(lang, "too-fast");
        let _ = send_paced(&deps, chat, || bot.send_message(chat, text.as_str()).send()).await;
    }
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
