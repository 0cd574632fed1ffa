//! What the bot does with each kind of update.

use teloxide::prelude::*;
use teloxide::types::{ChatMemberUpdated, MaybeInaccessibleMessage};
use teloxide::utils::command::BotCommands;

use super::callback::{Callback, Section};
use super::login;
use super::screens::{Show, render, show};
use super::state::{AfterLanguage, State};
use super::{ChatCtx, Deps, HandlerResult, KBot, send_paced};
use crate::domain::{Channel, Language, LocalityCode};
use crate::storage::SessionEnd;

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
    let chat = message.chat.id;
    send_paced(&deps, chat, || bot.send_message(chat, &text).send()).await?;
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
        let text = deps.loc.text(lang, "error-temporary");
        let _ = send_paced(deps, chat, || bot.send_message(chat, &text).send()).await;
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
    let result = handle_command(bot.clone(), message, command, deps.clone()).await;
    apologise_on_error(&bot, &deps, chat, result).await
}

pub async fn on_message(bot: KBot, message: Message, deps: Deps) -> HandlerResult {
    let chat = message.chat.id;
    let result = handle_message(bot.clone(), message, deps.clone()).await;
    apologise_on_error(&bot, &deps, chat, result).await
}

pub async fn on_callback(bot: KBot, query: CallbackQuery, deps: Deps) -> HandlerResult {
    let chat = query.message.as_ref().map(|m| m.chat().id);
    let id = query.id.clone();
    let result = handle_callback(bot.clone(), query, deps.clone()).await;
    if result.is_err() {
        // The spinner on the button stops either way.
        let _ = bot.answer_callback_query(id).await;
    }
    match chat {
        Some(chat) => apologise_on_error(&bot, &deps, chat, result).await,
        None => result,
    }
}

async fn handle_command(
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
        Command::Menu if ctx.session.is_some() => {
            ctx.dialogue.state = State::LoggedIn;
            None
        }
        Command::Menu => Some(deps.loc.text(ctx.lang, "menu-login-first")),
        Command::Logout => super::login::log_out(&deps, &mut ctx).await?,
        Command::Cancel
            if ctx.dialogue.state.in_login() || ctx.dialogue.state.in_settings_prompt() =>
        {
            ctx.dialogue.state = if ctx.session.is_some() {
                State::Settings
            } else {
                State::LocalityChosen
            };
            Some(deps.loc.text(ctx.lang, "cancelled"))
        }
        Command::Cancel => Some(deps.loc.text(ctx.lang, "cancel-nothing")),
        Command::Help => {
            let help = deps.loc.text(ctx.lang, "help");
            Some(match super::login::support_line(&deps, &ctx) {
                Some(support) => format!("{help}\n\n{support}"),
                None => help,
            })
        }
    };
    respond(&bot, &deps, &mut ctx, note, Show::New).await
}

/// Shows the chat's current screen with the notes above it (the context's notice first),
/// and stores the dialogue.
async fn respond(
    bot: &KBot,
    deps: &Deps,
    ctx: &mut ChatCtx,
    note: Option<String>,
    how: Show,
) -> HandlerResult {
    let mut screen = render(deps, ctx).await?;
    if let Some(note) = note {
        screen = screen.with_note(&note);
    }
    if let Some(notice) = ctx.notice.take() {
        screen = screen.with_note(&deps.loc.text(ctx.lang, notice));
    }
    show(bot, deps, ctx, screen, how).await?;
    if std::mem::take(&mut ctx.code_sent) && deps.config.allow_contact_verification {
        super::screens::offer_contact(bot, ctx, deps).await?;
    }
    ctx.save(deps).await
}

/// A message that is not a command: the input the screen asks for (IIN, code, password,
/// a shared phone), or anything else, answered politely with the current screen again.
async fn handle_message(bot: KBot, message: Message, deps: Deps) -> HandlerResult {
    let mut ctx = ChatCtx::load(&deps, message.chat.id.0, sender(&message)).await?;
    if ctx.dialogue.state == State::New {
        ctx.dialogue.state = State::ChoosingLanguage {
            then: AfterLanguage::Locality { preselected: None },
        };
    }
    let user_id = sender(&message).map_or(ctx.chat_id, |u| u.id.0 as i64);
    let forwarded = message.forward_origin().is_some();
    let text = message.text().filter(|_| !forwarded);
    let mut notes: Vec<String> = Vec::new();
    // A message that may carry a secret leaves the chat before anything else happens.
    if ctx.dialogue.state.expects_secret()
        && text.is_some()
        && bot
            .delete_message(message.chat.id, message.id)
            .await
            .is_ok()
    {
        notes.push(deps.loc.text(ctx.lang, "secret-deleted"));
    }
    let state = ctx.dialogue.state.clone();
    let note = match (state, text) {
        (State::EnteringIin, Some(text)) => login::on_iin(&deps, &mut ctx, user_id, text).await?,
        (State::EnteringCode { cabinet, purpose }, Some(text)) => {
            login::on_code(&deps, &mut ctx, cabinet, purpose, text).await?
        }
        (State::EnteringCode { cabinet, purpose }, None)
            if message.contact().is_some() && deps.config.allow_contact_verification =>
        {
            let contact = message.contact().expect("checked");
            let contact_user = contact.user_id.map(|u| u.0 as i64);
            login::on_contact(
                &deps,
                &mut ctx,
                cabinet,
                purpose,
                user_id,
                contact_user,
                &contact.phone_number,
            )
            .await?
        }
        (State::NewPassword { cabinet, purpose }, Some(text)) => {
            login::on_new_password(&deps, &mut ctx, cabinet, purpose, text).await?
        }
        (
            State::RepeatPassword {
                cabinet,
                purpose,
                pending,
            },
            Some(text),
        ) => login::on_repeat_password(&deps, &mut ctx, cabinet, purpose, &pending, text).await?,
        (State::EnteringPassword { cabinet }, Some(text)) => {
            login::on_password(&deps, &mut ctx, cabinet, text).await?
        }
        (State::OldPassword { cabinet }, Some(text)) => {
            login::on_old_password(&deps, &mut ctx, cabinet, text).await?
        }
        (State::EnteringEmail, Some(text)) => login::on_email(&deps, &mut ctx, text).await?,
        (State::EnteringNewPhone, Some(text)) => login::on_new_phone(&deps, &mut ctx, text).await?,
        (State::EnteringExtraPhone, Some(text)) => {
            login::on_extra_phone(&deps, &mut ctx, text).await?
        }
        (state, None) if state.in_login() && state != State::NoCabinet => {
            Some(deps.loc.text(ctx.lang, "text-expected"))
        }
        _ => Some(deps.loc.text(ctx.lang, "unexpected")),
    };
    notes.extend(note);
    let note = (!notes.is_empty()).then(|| notes.join("\n\n"));
    respond(&bot, &deps, &mut ctx, note, Show::New).await
}

async fn handle_callback(bot: KBot, query: CallbackQuery, deps: Deps) -> HandlerResult {
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
    // A push's button is pressed on the push, not on the chat's screen: the card opens
    // below it and the push stays as it was. Still re-authorised, like every press.
    let from_push = !on_screen
        && matches!(callback, Some(Callback::OpenEvent(_)))
        && ctx.dialogue.state.in_cabinet();
    let outcome = match callback {
        Some(cb) if on_screen || from_push => apply(&deps, &mut ctx, cb).await?,
        _ => Pressed::Stale,
    };
    if let Pressed::Toast(toast) = outcome {
        bot.answer_callback_query(query.id.clone())
            .text(toast)
            .await?;
        return ctx.save(&deps).await;
    }
    if let Pressed::Done(note) = outcome {
        if let Some(Callback::Language(lang)) = query.data.as_deref().and_then(Callback::decode) {
            // The chat's command menu follows its language at once.
            super::set_chat_commands(&bot, &deps.loc, ChatId(ctx.chat_id), lang).await?;
        }
        let how = if from_push {
            Show::New
        } else {
            Show::Edit(pressed)
        };
        // The spinner on the button stops while the new screen is read and drawn.
        let (answered, shown) = tokio::join!(
            bot.answer_callback_query(query.id.clone()).into_future(),
            respond(&bot, &deps, &mut ctx, note, how)
        );
        shown?;
        if let Err(error) = answered {
            // The new screen is there; a spinner left turning (Telegram stops it after a
            // while) is not worth an apology.
            tracing::warn!(chat = ctx.chat_id, %error, "answering a button press failed");
        }
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
        let (how, note) = if on_screen {
            (Show::Edit(pressed), None)
        } else {
            (Show::New, Some(deps.loc.text(ctx.lang, "stale-button")))
        };
        respond(&bot, &deps, &mut ctx, note, how).await?;
    }
    Ok(())
}

/// What a button press did.
enum Pressed {
    /// The dialogue moved on; show its screen (with the note) in place.
    Done(Option<String>),
    /// Nothing to redraw; a short answer on the button.
    Toast(String),
    /// The press does not fit the screen.
    Stale,
}

/// Applies a button press to the dialogue. `false` when the press does not fit the screen.
async fn apply(
    deps: &Deps,
    ctx: &mut ChatCtx,
    callback: Callback,
) -> Result<Pressed, super::BotError> {
    let state = ctx.dialogue.state.clone();
    let mut note = None;
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
                return Ok(Pressed::Stale);
            }
            deps.storage
                .set_chat_locality(ctx.chat_id, Some(code.as_str()), ctx.now)
                .await?;
            ctx.locality = Some(code.as_str().to_owned());
            ctx.dialogue.state = State::LocalityChosen;
        }
        (
            Callback::ChangeLocality,
            State::LocalityChosen | State::EnteringIin | State::NoCabinet,
        ) => {
            ctx.dialogue.state = State::ChoosingLocality { page: 0 };
        }
        (Callback::Cabinet, State::LocalityChosen) => {
            ctx.dialogue.state = if ctx.session.is_some() {
                State::LoggedIn
            } else {
                State::EnteringIin
            };
        }
        (Callback::BackToLocality, State::EnteringIin) => {
            ctx.dialogue.state = State::LocalityChosen
        }
        (Callback::ReenterIin, State::NoCabinet) => ctx.dialogue.state = State::EnteringIin,
        (Callback::Consent(agreed), State::Consent { cabinet }) => {
            note = login::on_consent(deps, ctx, cabinet, agreed).await?;
        }
        (Callback::CodeContinue, State::EnteringCode { .. }) => {
            return Ok(Pressed::Toast(deps.loc.text(ctx.lang, "code-continue")));
        }
        (Callback::ResendCode, State::EnteringCode { cabinet, purpose }) => {
            note = login::resend_code(deps, ctx, cabinet, purpose).await?;
        }
        (Callback::ForgotPassword, State::EnteringPassword { cabinet }) => {
            note = login::forgot_password(deps, ctx, cabinet).await?;
        }
        (Callback::Cancel, state) if state.in_login() || state.in_settings_prompt() => {
            // A parent who is in the cabinet goes back to Settings; one logging in, to the start.
            ctx.dialogue.state = if ctx.session.is_some() {
                State::Settings
            } else {
                State::LocalityChosen
            };
            note = Some(deps.loc.text(ctx.lang, "cancelled"));
        }
        (Callback::ChangePassword, State::Settings) => {
            let Some(cabinet) = ctx.cabinet_id() else {
                return Ok(Pressed::Stale);
            };
            ctx.dialogue.state = State::OldPassword { cabinet };
        }
        (Callback::SetEmail, State::Settings) => ctx.dialogue.state = State::EnteringEmail,
        (Callback::ChangePhone, State::Settings) => ctx.dialogue.state = State::EnteringNewPhone,
        (Callback::AddPhone, State::Settings) => ctx.dialogue.state = State::EnteringExtraPhone,
        (Callback::RemovePhone(index), State::Settings) => {
            let Some(cabinet) = ctx.cabinet_id() else {
                return Ok(Pressed::Stale);
            };
            // Re-authorised: the index is looked up in this cabinet's own list.
            let phones = deps.storage.extra_phones(cabinet).await?;
            let Some(phone) = phones.get(index as usize) else {
                return Ok(Pressed::Stale);
            };
            deps.storage.remove_extra_phone(cabinet, phone).await?;
            note = Some(deps.loc.text(ctx.lang, "phone-removed"));
        }
        (Callback::RemoveEmail, State::Settings) => {
            let Some(cabinet) = ctx.cabinet_id() else {
                return Ok(Pressed::Stale);
            };
            let Some(c) = deps.storage.cabinet(cabinet).await? else {
                return Ok(Pressed::Stale);
            };
            if c.notify_email && !c.notify_telegram && !c.notify_sms {
                return Ok(Pressed::Toast(deps.loc.text(ctx.lang, "channel-last-one")));
            }
            deps.storage.set_email(cabinet, None, ctx.now).await?;
            note = Some(deps.loc.text(ctx.lang, "email-removed"));
        }
        (Callback::Logout, state) if state.in_cabinet() => note = login::log_out(deps, ctx).await?,
        (Callback::Menu, state) if state.in_cabinet() => ctx.dialogue.state = State::LoggedIn,
        (Callback::Back, state) if state.in_cabinet() => ctx.dialogue.state = state.back(),
        (Callback::Section(section), state) if state.in_cabinet() => {
            ctx.dialogue.state = match section {
                Section::Feed => State::Feed { page: 0 },
                Section::Applications => State::Applications { page: 0 },
                Section::Referrals => State::Referrals { page: 0 },
                Section::Files => State::Files,
                Section::Settings => State::Settings,
            };
        }
        (Callback::Page(page), State::Feed { .. }) => ctx.dialogue.state = State::Feed { page },
        (Callback::Page(page), State::Applications { .. }) => {
            ctx.dialogue.state = State::Applications { page }
        }
        (Callback::Page(page), State::Referrals { .. }) => {
            ctx.dialogue.state = State::Referrals { page }
        }
        (Callback::OpenApplication(id), state) if state.in_cabinet() => {
            let page = if let State::Applications { page } = state {
                page
            } else {
                0
            };
            ctx.dialogue.state = State::Application { id, page };
        }
        (Callback::OpenReferral(id), state) if state.in_cabinet() => {
            let page = if let State::Referrals { page } = state {
                page
            } else {
                0
            };
            ctx.dialogue.state = State::Referral { id, page };
        }
        (Callback::OpenEvent(id), state) if state.in_cabinet() => {
            let Some(cabinet) = ctx.cabinet_id() else {
                return Ok(Pressed::Stale);
            };
            // Re-authorised: only an event of this cabinet opens.
            let Some(event) = deps.storage.event(cabinet, id).await? else {
                return Ok(Pressed::Stale);
            };
            // Opened from a push means read, as shown in the feed does.
            deps.storage.mark_read(cabinet, &[id], ctx.now).await?;
            ctx.dialogue.state = match (event.referral_id, event.application_id, event.child_iin) {
                (Some(referral), _, _) => State::Referral {
                    id: referral,
                    page: 0,
                },
                (None, Some(application), _) => State::Application {
                    id: application,
                    page: 0,
                },
                (None, None, Some(child)) => {
                    let children = deps.storage.children(cabinet).await?;
                    match children.iter().position(|c| c.iin == child) {
                        Some(i) => State::File { child: i as u32 },
                        None => return Ok(Pressed::Stale),
                    }
                }
                _ => return Ok(Pressed::Stale),
            };
        }
        (Callback::OpenFile(child), State::Files) => ctx.dialogue.state = State::File { child },
        (
            Callback::Attendance { child, year, month },
            State::File { .. } | State::Attendance { .. },
        ) => {
            ctx.dialogue.state = State::Attendance { child, year, month };
        }
        (Callback::ToggleChannel(channel), State::Settings) => {
            let Some(cabinet) = ctx.cabinet_id() else {
                return Ok(Pressed::Stale);
            };
            let Some(c) = deps.storage.cabinet(cabinet).await? else {
                return Ok(Pressed::Stale);
            };
            let (mut telegram, mut sms, mut email) =
                (c.notify_telegram, c.notify_sms, c.notify_email);
            match channel {
                Channel::Telegram => telegram = !telegram,
                Channel::Sms => sms = !sms,
                Channel::Email if deps.config.smtp.is_some() && c.email.is_some() => email = !email,
                Channel::Email => return Ok(Pressed::Stale),
            }
            if !(telegram || sms || email) {
                return Ok(Pressed::Toast(deps.loc.text(ctx.lang, "channel-last-one")));
            }
            deps.storage
                .set_channels(cabinet, telegram, sms, email, ctx.now)
                .await?;
        }
        (Callback::Sessions, State::Settings) => ctx.dialogue.state = State::Sessions,
        (Callback::EndSession(session), State::Sessions) => {
            let Some(cabinet) = ctx.cabinet_id() else {
                return Ok(Pressed::Stale);
            };
            // Re-authorised: only a live session of this cabinet, and not this chat's own.
            let ended = deps
                .storage
                .end_session(
                    cabinet,
                    session,
                    ctx.chat_id,
                    SessionEnd::EndedElsewhere,
                    ctx.now,
                )
                .await?;
            if !ended {
                return Ok(Pressed::Stale);
            }
            tracing::info!(cabinet, "a session was ended from another chat");
            note = Some(deps.loc.text(ctx.lang, "session-ended-one"));
        }
        (Callback::EndOtherSessions, State::Sessions) => {
            let Some(cabinet) = ctx.cabinet_id() else {
                return Ok(Pressed::Stale);
            };
            let ended = deps
                .storage
                .end_cabinet_sessions(
                    cabinet,
                    Some(ctx.chat_id),
                    SessionEnd::EndedElsewhere,
                    ctx.now,
                )
                .await?;
            note = Some(deps.loc.format(
                ctx.lang,
                "sessions-ended-others",
                &[("count", (ended as i64).into())],
            ));
        }
        (Callback::ChangeLanguage, State::Settings) => {
            ctx.dialogue.state = State::ChoosingLanguage {
                then: AfterLanguage::Return {
                    state: Box::new(State::Settings),
                },
            };
        }
        _ => return Ok(Pressed::Stale),
    }
    Ok(Pressed::Done(note))
}

/// An update dropped because its chat has [`super::lanes::PER_CHAT_QUEUE`] waiting: a
/// pressed button still stops spinning, and the first dropped of a flood gets one polite
/// message.
pub async fn on_flood(bot: KBot, deps: Deps, chat: i64, update: Update, first: bool) {
    let lang = match deps.storage.chat(chat).await {
        Ok(Some(record)) => record.language,
        _ => deps.config.default_language,
    };
    let text = deps.loc.text(lang, "too-fast");
    if let teloxide::types::UpdateKind::CallbackQuery(query) = &update.kind {
        let _ = bot
            .answer_callback_query(query.id.clone())
            .text(&text)
            .await;
    }
    if first {
        tracing::info!(
            chat,
            "a chat's updates come faster than it is answered; some dropped"
        );
        let chat = ChatId(chat);
        let _ = send_paced(&deps, chat, || bot.send_message(chat, &text).send()).await;
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
