//! Settings (SPEC §1.8): what its buttons and prompts do. Every button naming something —
//! an extra phone, a session — is looked up again in this chat's own cabinet.

use super::login::{Note, ask_code, in_cabinet_password};
use super::pressed::Pressed;
use super::state::{AfterLanguage, Guarded, State};
use super::{BotError, ChatCtx, Deps};
use crate::domain::{Channel, OtpPurpose, Phone};
use crate::storage::SessionEnd;

fn note(deps: &Deps, ctx: &ChatCtx, id: &str) -> Pressed {
    Pressed::Done(Some(deps.loc.html_text(ctx.lang, id)))
}

fn toast(deps: &Deps, ctx: &ChatCtx, id: &str) -> Pressed {
    Pressed::Toast(deps.loc.text(ctx.lang, id))
}

/// A channel on or off; the last one on stays on.
pub async fn toggle_channel(
    deps: &Deps,
    ctx: &mut ChatCtx,
    channel: Channel,
) -> Result<Pressed, BotError> {
    let Some(c) = cabinet(deps, ctx).await? else {
        return Ok(Pressed::Stale);
    };
    let (mut telegram, mut sms, mut email) = (c.notify_telegram, c.notify_sms, c.notify_email);
    match channel {
        Channel::Telegram => telegram = !telegram,
        Channel::Sms => sms = !sms,
        Channel::Email if deps.config.smtp.is_some() && c.email.is_some() => email = !email,
        Channel::Email | Channel::Portal => return Ok(Pressed::Stale),
    }
    if !(telegram || sms || email) {
        return Ok(toast(deps, ctx, "channel-last-one"));
    }
    deps.storage
        .set_channels(c.id, telegram, sms, email, ctx.now)
        .await?;
    Ok(Pressed::Done(None))
}

/// The language choice, returning to Settings.
pub fn change_language(ctx: &mut ChatCtx) -> Result<Pressed, BotError> {
    ctx.dialogue.stay(State::ChoosingLanguage {
        then: AfterLanguage::Return {
            state: Box::new(State::Settings),
        },
    });
    Ok(Pressed::Done(None))
}

/// The current password first, then a new one twice.
pub fn change_password(ctx: &mut ChatCtx) -> Result<Pressed, BotError> {
    let Some(session) = ctx.session else {
        return Ok(Pressed::Stale);
    };
    ctx.dialogue.stay(State::OldPassword {
        cabinet: session.cabinet_id,
        session: session.id,
    });
    Ok(Pressed::Done(None))
}

/// A change that could hand the cabinet to whoever holds this chat (a main phone, an
/// e-mail, an extra phone): the password first, in this session.
pub fn guarded(ctx: &mut ChatCtx, then: Guarded) -> Result<Pressed, BotError> {
    let Some(session) = ctx.session else {
        return Ok(Pressed::Stale);
    };
    ctx.dialogue.stay(State::ConfirmPassword {
        cabinet: session.cabinet_id,
        session: session.id,
        then,
    });
    Ok(Pressed::Done(None))
}

/// The password before a guarded change: right leads to its prompt.
pub async fn on_confirm_password(
    deps: &Deps,
    ctx: &mut ChatCtx,
    cabinet: i64,
    session: i64,
    then: Guarded,
    input: &str,
) -> Note {
    in_cabinet_password(deps, ctx, cabinet, input, then.prompt(session)).await
}

/// Removes the e-mail (and with it the e-mail channel, unless it is the last one on).
pub async fn remove_email(deps: &Deps, ctx: &mut ChatCtx) -> Result<Pressed, BotError> {
    let Some(c) = cabinet(deps, ctx).await? else {
        return Ok(Pressed::Stale);
    };
    if c.notify_email && !c.notify_telegram && !c.notify_sms {
        return Ok(toast(deps, ctx, "channel-last-one"));
    }
    deps.storage.set_email(c.id, None, ctx.now).await?;
    Ok(note(deps, ctx, "email-removed"))
}

/// Removes an extra phone, found by its place in this cabinet's own list.
pub async fn remove_phone(deps: &Deps, ctx: &mut ChatCtx, index: u32) -> Result<Pressed, BotError> {
    let Some(cabinet) = ctx.cabinet_id() else {
        return Ok(Pressed::Stale);
    };
    let phones = deps.storage.extra_phones(cabinet).await?;
    let Some(phone) = phones.get(index as usize) else {
        return Ok(Pressed::Stale);
    };
    deps.storage.remove_extra_phone(cabinet, phone).await?;
    Ok(note(deps, ctx, "phone-removed"))
}

/// Ends one live session of this cabinet, never this chat's own.
pub async fn end_session(
    deps: &Deps,
    ctx: &mut ChatCtx,
    session: i64,
) -> Result<Pressed, BotError> {
    let Some(cabinet) = ctx.cabinet_id() else {
        return Ok(Pressed::Stale);
    };
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
    Ok(note(deps, ctx, "session-ended-one"))
}

/// Ends every other session of this cabinet.
pub async fn end_other_sessions(deps: &Deps, ctx: &mut ChatCtx) -> Result<Pressed, BotError> {
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
    Ok(Pressed::Done(Some(deps.loc.html(
        ctx.lang,
        "sessions-ended-others",
        &[("count", (ended as i64).into())],
    ))))
}

async fn cabinet(deps: &Deps, ctx: &ChatCtx) -> Result<Option<crate::storage::Cabinet>, BotError> {
    match ctx.cabinet_id() {
        Some(id) => Ok(deps.storage.cabinet(id).await?),
        None => Ok(None),
    }
}

fn text(deps: &Deps, ctx: &ChatCtx, id: &str) -> Option<crate::i18n::Html> {
    Some(deps.loc.html_text(ctx.lang, id))
}

/// Settings, «e-mail»: a new address.
pub async fn on_email(deps: &Deps, ctx: &mut ChatCtx, input: &str) -> Note {
    let Some(cabinet) = ctx.cabinet_id() else {
        return Ok(None);
    };
    match crate::domain::Email::parse(input) {
        Err(reason) => Ok(text(deps, ctx, reason.message_id())),
        Ok(email) => {
            deps.storage
                .set_email(cabinet, Some(email.as_str()), ctx.now)
                .await?;
            ctx.dialogue.stay(State::Settings);
            Ok(text(deps, ctx, "email-saved"))
        }
    }
}

/// Settings, «change main phone»: the new number; a code goes to it.
pub async fn on_new_phone(deps: &Deps, ctx: &mut ChatCtx, input: &str) -> Note {
    let Some(cabinet) = ctx.cabinet_id() else {
        return Ok(None);
    };
    let phone = match Phone::parse(input) {
        Ok(p) => p,
        Err(reason) => return Ok(text(deps, ctx, reason.message_id())),
    };
    let Some(record) = deps.storage.cabinet(cabinet).await? else {
        return Ok(None);
    };
    if record.phone == phone.as_str() {
        return Ok(text(deps, ctx, "phone-same"));
    }
    ask_code(
        deps,
        ctx,
        &record,
        OtpPurpose::PhoneChange,
        Some(phone),
        false,
    )
    .await
}

/// Settings, «add a phone»: an extra number (no code: nothing is sent to it).
pub async fn on_extra_phone(deps: &Deps, ctx: &mut ChatCtx, input: &str) -> Note {
    let Some(cabinet) = ctx.cabinet_id() else {
        return Ok(None);
    };
    match Phone::parse(input) {
        Err(reason) => Ok(text(deps, ctx, reason.message_id())),
        Ok(phone) => {
            deps.storage
                .add_extra_phone(cabinet, phone.as_str(), ctx.now)
                .await?;
            ctx.dialogue.stay(State::Settings);
            Ok(text(deps, ctx, "phone-added"))
        }
    }
}
