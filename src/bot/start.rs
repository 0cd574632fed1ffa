//! Before the cabinet: choosing the language and the locality, and the way in.

use super::pressed::Pressed;
use super::state::{AfterLanguage, State};
use super::{BotError, ChatCtx, Deps};
use crate::domain::{Language, LocalityCode};

/// The language chosen: the chat speaks it from now on, and goes where the choice leads.
pub async fn choose_language(
    deps: &Deps,
    ctx: &mut ChatCtx,
    lang: Language,
    then: AfterLanguage,
) -> Result<Pressed, BotError> {
    deps.storage
        .set_chat_language(ctx.chat_id, lang, ctx.now)
        .await?;
    ctx.lang = lang;
    let next = match then {
        AfterLanguage::Locality {
            preselected: Some(code),
        } => {
            deps.storage
                .set_chat_locality(ctx.chat_id, Some(&code), ctx.now)
                .await?;
            ctx.locality = Some(code);
            State::LocalityChosen
        }
        AfterLanguage::Locality { preselected: None } => State::ChoosingLocality { page: 0 },
        AfterLanguage::Return { state } => *state,
    };
    ctx.dialogue.stay(next);
    Ok(Pressed::Done(None))
}

/// A locality from the list (it must still be one the portal registered).
pub async fn choose_locality(
    deps: &Deps,
    ctx: &mut ChatCtx,
    code: LocalityCode,
) -> Result<Pressed, BotError> {
    if deps.storage.locality(code.as_str()).await?.is_none() {
        return Ok(Pressed::Stale);
    }
    deps.storage
        .set_chat_locality(ctx.chat_id, Some(code.as_str()), ctx.now)
        .await?;
    ctx.locality = Some(code.as_str().to_owned());
    ctx.dialogue.stay(State::LocalityChosen);
    Ok(Pressed::Done(None))
}

/// «Жеке кабинет»: the menu when logged in, the IIN prompt otherwise.
pub fn enter_cabinet(ctx: &mut ChatCtx) -> Result<Pressed, BotError> {
    if ctx.session.is_some() {
        ctx.dialogue.reset(State::LoggedIn);
    } else {
        ctx.dialogue.stay(State::EnteringIin);
    }
    Ok(Pressed::Done(None))
}
