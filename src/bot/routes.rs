//! Every button of the bot on one screen: (the button, the chat's state) → what it does.
//! A button that does not fit the state is stale (an old screen, a forgery, a double press).
//! Each transition is a short function in the module of its part of the bot.

pub use super::pressed::Pressed;
use super::state::{Guarded, State};
use super::{BotError, ChatCtx, Deps, cabinet, login, questions, settings, start};
use crate::i18n::Html;
use crate::messages::Callback;

fn done() -> Result<Pressed, BotError> {
    Ok(Pressed::Done(None))
}

fn noted(note: Option<Html>) -> Result<Pressed, BotError> {
    Ok(Pressed::Done(note))
}

/// Another page of the same list: in place, the way back unchanged.
fn stay(ctx: &mut ChatCtx, state: State) -> Result<Pressed, BotError> {
    ctx.dialogue.stay(state);
    done()
}

/// On, remembering the way back.
fn go(ctx: &mut ChatCtx, state: State) -> Result<Pressed, BotError> {
    ctx.dialogue.go(state);
    done()
}

/// What a press does. A table reads best a row a line, so it is left as written.
#[rustfmt::skip]
pub async fn press(deps: &Deps, ctx: &mut ChatCtx, callback: Callback) -> Result<Pressed, BotError> {
    use Callback as C;
    use State as S;
    let state = ctx.dialogue.state().clone();
    let inside = state.in_cabinet();
    match (callback, state) {
        (C::Noop, _) => Ok(Pressed::Toast(String::new())),
        // Start: language, locality, the way in.
        (C::Language(l), S::ChoosingLanguage { then }) => start::choose_language(deps, ctx, l, then).await,
        (C::LocalityPage(page), S::ChoosingLocality { .. }) => stay(ctx, S::ChoosingLocality { page }),
        (C::Locality(code), S::ChoosingLocality { .. }) => start::choose_locality(deps, ctx, code).await,
        (C::ChangeLocality, S::LocalityChosen | S::EnteringIin | S::NoCabinet) => stay(ctx, S::ChoosingLocality { page: 0 }),
        (C::Cabinet, S::LocalityChosen) => start::enter_cabinet(ctx),
        (C::BackToLocality, S::EnteringIin) => stay(ctx, S::LocalityChosen),
        // Login.
        (C::ReenterIin, S::NoCabinet) => stay(ctx, S::EnteringIin),
        (C::Consent(agreed), S::Consent { cabinet }) => noted(login::on_consent(deps, ctx, cabinet, agreed).await?),
        (C::CodeContinue, S::EnteringCode { .. }) => Ok(Pressed::Toast(deps.loc.text(ctx.lang, "code-continue"))),
        (C::ResendCode, S::EnteringCode { cabinet, purpose, consented, .. }) => noted(login::resend_code(deps, ctx, cabinet, purpose, consented).await?),
        (C::ForgotPassword, S::EnteringPassword { cabinet }) => noted(login::forgot_password(deps, ctx, cabinet).await?),
        (C::Cancel, s) if s.cancellable() => noted(login::cancel(deps, ctx)),
        // The cabinet.
        (C::Menu, _) if inside => cabinet::menu(ctx),
        (C::Back, _) if inside => cabinet::back(ctx),
        (C::Logout, _) if inside => noted(login::log_out(deps, ctx).await?),
        (C::Section(section), _) if inside => cabinet::section(ctx, section),
        (C::Page(page), S::Feed { .. }) => stay(ctx, S::Feed { page }),
        (C::Page(page), S::Applications { .. }) => stay(ctx, S::Applications { page }),
        (C::Page(page), S::Referrals { .. }) => stay(ctx, S::Referrals { page }),
        (C::OpenApplication(id), _) if inside => cabinet::open_application(ctx, id),
        (C::OpenReferral(id), _) if inside => cabinet::open_referral(ctx, id),
        (C::OpenEvent(id), _) if inside => cabinet::open_event(deps, ctx, id).await,
        (C::OpenFile(child), S::Files) => go(ctx, S::File { child }),
        (C::Attendance { child, year, month }, S::File { .. }) => go(ctx, S::Attendance { child, year, month }),
        (C::Attendance { child, year, month }, S::Attendance { .. }) => stay(ctx, S::Attendance { child, year, month }),
        // Settings.
        (C::ToggleChannel(channel), S::Settings) => settings::toggle_channel(deps, ctx, channel).await,
        (C::ChangeLanguage, S::Settings) => settings::change_language(ctx),
        (C::ChangePassword, S::Settings) => settings::change_password(ctx),
        (C::SetEmail, S::Settings) => settings::guarded(ctx, Guarded::Email),
        (C::RemoveEmail, S::Settings) => settings::remove_email(deps, ctx).await,
        (C::ChangePhone, S::Settings) => settings::guarded(ctx, Guarded::MainPhone),
        (C::AddPhone, S::Settings) => settings::guarded(ctx, Guarded::ExtraPhone),
        (C::RemovePhone(index), S::Settings) => settings::remove_phone(deps, ctx, index).await,
        (C::Sessions, S::Settings) => go(ctx, S::Sessions),
        (C::EndSession(session), S::Sessions) => settings::end_session(deps, ctx, session).await,
        (C::EndOtherSessions, S::Sessions) => settings::end_other_sessions(deps, ctx).await,
        // Questions that wait for an answer.
        (C::Questions, _) if inside => questions::open_list(deps, ctx).await,
        (C::OpenQuestion(id), _) if inside => questions::open(ctx, id),
        (C::AnswerOption { question, option }, S::Question { id }) if question == id => questions::choose(deps, ctx, id, option).await,
        (C::ConfirmOption { question, option }, S::ConfirmAnswer { id, option: o }) if (question, option) == (id, o) => questions::confirmed(deps, ctx, id, o).await,
        (C::NoComment { question, option }, S::AnswerComment { id, option: o }) if (question, option) == (id, o) => questions::without_comment(deps, ctx, id, o).await,
        _ => Ok(Pressed::Stale),
    }
}

/// What a parent typed (or shared) while a screen waited.
pub struct Typed<'a> {
    /// The text, unless the message was something else (or forwarded).
    pub text: Option<&'a str>,
    /// Forwarded from elsewhere: never taken as input, even when it is text.
    pub forwarded: bool,
    pub contact: Option<&'a teloxide::types::Contact>,
}

/// What typing does, by the screen it answers: the input the screen asks for, a polite
/// word for anything else.
#[rustfmt::skip]
pub async fn typed(deps: &Deps, ctx: &mut ChatCtx, input: Typed<'_>) -> Result<Option<Html>, BotError> {
    use State as S;
    let text = |id: &str| Some(deps.loc.html_text(ctx.lang, id));
    Ok(match (ctx.dialogue.state().clone(), input.text) {
        (S::EnteringIin, Some(t)) => login::on_iin(deps, ctx, t).await?,
        (S::EnteringCode { cabinet, purpose, consented, .. }, Some(t)) => login::on_code(deps, ctx, cabinet, purpose, consented, t).await?,
        (S::EnteringCode { cabinet, purpose, consented, .. }, None) if input.contact.is_some() && deps.config.allow_contact_verification => {
            let contact = input.contact.expect("checked");
            let owner = contact.user_id.map(|u| u.0 as i64);
            login::on_contact(deps, ctx, cabinet, purpose, consented, owner, &contact.phone_number).await?
        }
        (S::NewPassword { cabinet, purpose, proof }, Some(t)) => login::on_new_password(deps, ctx, cabinet, purpose, proof, t).await?,
        (S::RepeatPassword { cabinet, purpose, proof, pending }, Some(t)) => login::on_repeat_password(deps, ctx, cabinet, purpose, proof, &pending, t).await?,
        (S::EnteringPassword { cabinet }, Some(t)) => login::on_password(deps, ctx, cabinet, t).await?,
        (S::OldPassword { cabinet, session }, Some(t)) => login::on_old_password(deps, ctx, cabinet, session, t).await?,
        (S::ConfirmPassword { cabinet, session, then }, Some(t)) => settings::on_confirm_password(deps, ctx, cabinet, session, then, t).await?,
        (S::EnteringEmail { .. }, Some(t)) => settings::on_email(deps, ctx, t).await?,
        (S::EnteringNewPhone { .. }, Some(t)) => settings::on_new_phone(deps, ctx, t).await?,
        (S::EnteringExtraPhone { .. }, Some(t)) => settings::on_extra_phone(deps, ctx, t).await?,
        (S::AnswerComment { id, option }, Some(t)) => questions::on_comment(deps, ctx, id, option, t).await?,
        (S::EnteringIin, None) if input.forwarded => text("forwarded-iin"),
        (state, None) if state.expects_text() && input.forwarded => text("forwarded-not-accepted"),
        (state, None) if state.expects_text() => text("text-expected"),
        _ => text("unexpected"),
    })
}
