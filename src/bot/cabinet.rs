//! Moving through the cabinet (SPEC §1.3): sections, cards, pages, «Артқа» and «Мәзір».
//! Opening goes forward and is remembered; a page replaces the screen; Back returns to
//! where the parent came from, with its page. What a button names is checked against the
//! chat's own cabinet when its screen is drawn (`screens.rs`).

use super::pressed::Pressed;
use super::state::State;
use super::{BotError, ChatCtx, Deps};
use crate::domain::EventKind;
use crate::messages::Section;

/// «Мәзір»: the menu, the way back forgotten.
pub fn menu(ctx: &mut ChatCtx) -> Result<Pressed, BotError> {
    ctx.dialogue.reset(State::LoggedIn);
    Ok(Pressed::Done(None))
}

/// «Артқа»: where the parent came from.
pub fn back(ctx: &mut ChatCtx) -> Result<Pressed, BotError> {
    ctx.dialogue.go_back();
    Ok(Pressed::Done(None))
}

/// Opens a section from the menu.
pub fn section(ctx: &mut ChatCtx, section: Section) -> Result<Pressed, BotError> {
    ctx.dialogue.go(match section {
        Section::Feed => State::Feed { page: 0 },
        Section::Applications => State::Applications { page: 0 },
        Section::Referrals => State::Referrals { page: 0 },
        Section::Files => State::Files,
        Section::Settings => State::Settings,
    });
    Ok(Pressed::Done(None))
}

/// The list's page a card was opened from (for «Артқа» when the way is not remembered).
fn list_page(state: &State) -> u32 {
    match state {
        State::Applications { page } | State::Referrals { page } => *page,
        _ => 0,
    }
}

pub fn open_application(ctx: &mut ChatCtx, id: i64) -> Result<Pressed, BotError> {
    let page = list_page(ctx.dialogue.state());
    ctx.dialogue.go(State::Application { id, page });
    Ok(Pressed::Done(None))
}

pub fn open_referral(ctx: &mut ChatCtx, id: i64) -> Result<Pressed, BotError> {
    let page = list_page(ctx.dialogue.state());
    ctx.dialogue.go(State::Referral { id, page });
    Ok(Pressed::Done(None))
}

/// An event's card, from the feed or from a push: only an event of this cabinet opens, and
/// opening it marks it read.
pub async fn open_event(deps: &Deps, ctx: &mut ChatCtx, id: i64) -> Result<Pressed, BotError> {
    let Some(cabinet) = ctx.cabinet_id() else {
        return Ok(Pressed::Stale);
    };
    let Some(event) = deps.storage.event(cabinet, id).await? else {
        return Ok(Pressed::Stale);
    };
    deps.storage.mark_read(cabinet, &[id], ctx.now).await?;
    // A question's event opens the question's card (its options, or how it was answered).
    if let (true, Some(question)) = (event.kind.is_question(), event.question_id) {
        ctx.dialogue.go(State::Question { id: question });
        return Ok(Pressed::Done(None));
    }
    let card = match (event.referral_id, event.application_id, event.child_iin) {
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
        // An announcement has no card of its own: it stands in the feed.
        _ if event.kind == EventKind::Announcement => State::Feed { page: 0 },
        _ => return Ok(Pressed::Stale),
    };
    ctx.dialogue.go(card);
    Ok(Pressed::Done(None))
}
