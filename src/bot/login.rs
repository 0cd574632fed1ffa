//! Logging in (SPEC §1.2) as the chat shows it: the IIN, the confirmation code by SMS (or
//! the shared contact), the new password twice, the returning parent's password, locks,
//! «forgot password». What is allowed and what an answer does is decided by the login
//! service ([`crate::login`]); each step here turns its outcome into the next state and the
//! note the parent reads above the next screen.
//!
//! Secrets never reach the dialogue or the logs: the password's first entry is kept only as
//! its hash, codes only as seals in the database.

use super::state::State;
use super::{BotError, ChatCtx, Deps};
use crate::domain::{LocalityCode, OtpPurpose, Phone};
use crate::i18n::{Arg, Html};
use crate::login::{
    CodeCheck, CodeRequest, ContactCheck, Lock, Lookup, NewPassword, PasswordCheck, PasswordSet,
    Proof,
};
use crate::storage::{Cabinet, SessionEnd};

/// What the parent reads above the next screen, if anything.
pub type Note = Result<Option<Html>, BotError>;

fn text(deps: &Deps, ctx: &ChatCtx, id: &str) -> Option<Html> {
    Some(deps.loc.html_text(ctx.lang, id))
}

fn text_with(deps: &Deps, ctx: &ChatCtx, id: &str, args: &[(&str, Arg<'_>)]) -> Option<Html> {
    Some(deps.loc.html(ctx.lang, id, args))
}

fn minutes(d: std::time::Duration) -> Arg<'static> {
    ((d.as_secs() / 60) as i64).into()
}

/// The IIN typed at the prompt.
pub async fn on_iin(deps: &Deps, ctx: &mut ChatCtx, input: &str) -> Note {
    let Some(locality) = ctx
        .locality
        .as_deref()
        .and_then(|c| LocalityCode::parse(c).ok())
    else {
        ctx.dialogue.stay(State::ChoosingLocality { page: 0 });
        return Ok(None);
    };
    match deps.login.look_up(ctx.actor(), &locality, input).await? {
        Lookup::NotAnIin(reason) => {
            let count = input.chars().filter(char::is_ascii_digit).count() as i64;
            let reason = deps
                .loc
                .format(ctx.lang, reason.message_id(), &[("count", count.into())]);
            Ok(text_with(
                deps,
                ctx,
                "iin-invalid",
                &[("reason", (&reason).into())],
            ))
        }
        Lookup::TooManyLookups { window } => Ok(text_with(
            deps,
            ctx,
            "iin-lookups-limited",
            &[("minutes", minutes(window))],
        )),
        Lookup::NoCabinet => {
            ctx.dialogue.stay(State::NoCabinet);
            Ok(None)
        }
        Lookup::Returning { cabinet, lock } => {
            ctx.dialogue.stay(State::EnteringPassword { cabinet });
            Ok(lock.map(|lock| locked_text(deps, ctx, lock)))
        }
        Lookup::FirstLogin {
            cabinet,
            ask_consent: true,
        } => {
            ctx.dialogue.stay(State::Consent {
                cabinet: cabinet.id,
            });
            Ok(None)
        }
        Lookup::FirstLogin { cabinet, .. } => {
            ask_code(deps, ctx, &cabinet, OtpPurpose::Login, None, false).await
        }
    }
}

/// The parent's answer to the consent question. Nothing is recorded yet: consent counts
/// once the phone is proved, never on a press anyone holding the IIN could make.
pub async fn on_consent(deps: &Deps, ctx: &mut ChatCtx, cabinet: i64, agreed: bool) -> Note {
    if !agreed {
        ctx.dialogue.stay(State::LocalityChosen);
        return Ok(text(deps, ctx, "consent-declined"));
    }
    let Some(record) = deps.login.cabinet(cabinet).await? else {
        ctx.dialogue.stay(State::LocalityChosen);
        return Ok(None);
    };
    ask_code(deps, ctx, &record, OtpPurpose::Login, None, true).await
}

/// Asks the login service for a code for `purpose` (to `to`, a new main phone, or the phone
/// on file) and moves to the code prompt.
pub async fn ask_code(
    deps: &Deps,
    ctx: &mut ChatCtx,
    cabinet: &Cabinet,
    purpose: OtpPurpose,
    to: Option<Phone>,
    consented: bool,
) -> Note {
    let session = match purpose {
        OtpPurpose::PhoneChange => ctx.session.map(|s| s.id),
        OtpPurpose::Login | OtpPurpose::Reset => None,
    };
    ctx.dialogue.stay(State::EnteringCode {
        cabinet: cabinet.id,
        purpose,
        consented,
        session,
    });
    match deps
        .login
        .send_code(ctx.actor(), cabinet, purpose, to)
        .await?
    {
        CodeRequest::Sent { .. } => {
            ctx.offer_contact = contact_allowed(deps, purpose);
            Ok(None)
        }
        CodeRequest::SmsFailed => Ok(text(deps, ctx, "sms-failed")),
        CodeRequest::DailyLimit => {
            no_new_code(deps, ctx, cabinet.id, purpose).await?;
            Ok(with_support(deps, ctx, "code-daily-limit"))
        }
        CodeRequest::Wait { until } => {
            no_new_code(deps, ctx, cabinet.id, purpose).await?;
            let seconds = (until - ctx.now).num_seconds().max(1);
            Ok(text_with(
                deps,
                ctx,
                "code-resend-wait",
                &[("seconds", seconds.into())],
            ))
        }
    }
}

/// Whether a parent may prove the phone with Telegram's contact button for `purpose` (not a
/// new main phone: that number is not the one Telegram knows).
fn contact_allowed(deps: &Deps, purpose: OtpPurpose) -> bool {
    deps.config.allow_contact_verification && purpose != OtpPurpose::PhoneChange
}

/// No new code was sent. A chat that holds a live code of its own stays at the code prompt;
/// so does one that may share its contact instead — whatever the SMS limits say. Any other
/// chat must not read «the code was sent», and goes back to where it came from.
async fn no_new_code(
    deps: &Deps,
    ctx: &mut ChatCtx,
    cabinet: i64,
    purpose: OtpPurpose,
) -> Result<(), BotError> {
    if deps
        .login
        .has_live_code(ctx.actor(), cabinet, purpose)
        .await?
    {
        return Ok(());
    }
    if contact_allowed(deps, purpose) {
        ctx.offer_contact = true;
        return Ok(());
    }
    ctx.dialogue.stay(match purpose {
        OtpPurpose::Login => State::LocalityChosen,
        OtpPurpose::Reset if ctx.session.is_none() => State::EnteringPassword { cabinet },
        _ => State::Settings,
    });
    Ok(())
}

/// A code typed at the code prompt.
pub async fn on_code(
    deps: &Deps,
    ctx: &mut ChatCtx,
    cabinet: i64,
    purpose: OtpPurpose,
    consented: bool,
    input: &str,
) -> Note {
    let checked = deps
        .login
        .check_code(ctx.actor(), cabinet, purpose, input, consented)
        .await?;
    Ok(match checked {
        CodeCheck::NotACode => text(deps, ctx, "code-format"),
        CodeCheck::Proved(proof) => {
            ctx.dialogue.stay(State::NewPassword {
                cabinet,
                purpose,
                proof,
            });
            None
        }
        CodeCheck::PhoneChanged => {
            ctx.dialogue.stay(State::Settings);
            text(deps, ctx, "phone-changed")
        }
        CodeCheck::Wrong { left } => text_with(deps, ctx, "code-wrong", &[("left", left.into())]),
        CodeCheck::TooMany => text(deps, ctx, "code-too-many"),
        CodeCheck::Expired => text(deps, ctx, "code-expired"),
        CodeCheck::StepEnded => {
            ctx.dialogue.reset(State::LocalityChosen);
            text(deps, ctx, "session-ended")
        }
    })
}

/// The phone shared with Telegram's contact button, instead of the code.
pub async fn on_contact(
    deps: &Deps,
    ctx: &mut ChatCtx,
    cabinet: i64,
    purpose: OtpPurpose,
    consented: bool,
    contact_user: Option<i64>,
    phone: &str,
) -> Note {
    let checked = deps
        .login
        .check_contact(
            ctx.actor(),
            cabinet,
            purpose,
            contact_user,
            phone,
            consented,
        )
        .await?;
    Ok(match checked {
        ContactCheck::NotOwn => text(deps, ctx, "contact-not-own"),
        ContactCheck::Mismatch => text(deps, ctx, "contact-mismatch"),
        ContactCheck::Proved(proof) => {
            ctx.dialogue.stay(State::NewPassword {
                cabinet,
                purpose,
                proof,
            });
            None
        }
        ContactCheck::Gone => {
            ctx.dialogue.stay(State::LocalityChosen);
            None
        }
    })
}

/// The new password, first entry.
pub async fn on_new_password(
    deps: &Deps,
    ctx: &mut ChatCtx,
    cabinet: i64,
    purpose: OtpPurpose,
    proof: Proof,
    input: &str,
) -> Note {
    match deps.login.new_password(cabinet, input).await? {
        NewPassword::Refused(reason) => Ok(text_with(
            deps,
            ctx,
            reason.message_id(),
            &[
                ("min", (crate::domain::MIN_PASSWORD_CHARS as i64).into()),
                ("max", (crate::domain::MAX_PASSWORD_CHARS as i64).into()),
            ],
        )),
        NewPassword::Hashed(pending) => {
            ctx.dialogue.stay(State::RepeatPassword {
                cabinet,
                purpose,
                proof,
                pending,
            });
            Ok(None)
        }
        NewPassword::Gone => {
            ctx.dialogue.stay(State::LocalityChosen);
            Ok(None)
        }
    }
}

/// The new password, second entry: on a match the password is set and the parent is in.
pub async fn on_repeat_password(
    deps: &Deps,
    ctx: &mut ChatCtx,
    cabinet: i64,
    purpose: OtpPurpose,
    proof: Proof,
    pending: &str,
    input: &str,
) -> Note {
    let set = deps
        .login
        .set_password(ctx.actor(), cabinet, proof, pending, input)
        .await?;
    match set {
        PasswordSet::Mismatch => {
            ctx.dialogue.stay(State::NewPassword {
                cabinet,
                purpose,
                proof,
            });
            Ok(text(deps, ctx, "password-mismatch"))
        }
        PasswordSet::Set(session) => {
            ctx.session = Some(session);
            ctx.dialogue.reset(State::LoggedIn);
            Ok(text(deps, ctx, "password-set"))
        }
        PasswordSet::ProofLapsed => {
            ctx.dialogue.reset(if ctx.session.is_some() {
                State::Settings
            } else {
                State::LocalityChosen
            });
            Ok(text(deps, ctx, "password-proof-lapsed"))
        }
    }
}

/// A lock, with until when and how to lift it.
fn locked_text(deps: &Deps, ctx: &ChatCtx, lock: Lock) -> Html {
    let (id, until) = match lock {
        Lock::Cabinet(until) => ("locked", until),
        Lock::Chat(until) => ("locked-chat", until),
    };
    let until = deps.loc.date_time(ctx.lang, until, deps.config.timezone);
    let mut note = deps.loc.html(ctx.lang, id, &[("until", (&until).into())]);
    if let Some(support) = support_line(deps, ctx) {
        note.push_markup("\n").push(&support);
    }
    note
}

/// «Questions: …» with `SUPPORT_CONTACT`, where a parent cannot go on alone.
pub fn support_line(deps: &Deps, ctx: &ChatCtx) -> Option<Html> {
    let contact = deps.config.support_contact.as_deref()?;
    Some(
        deps.loc
            .html(ctx.lang, "support-contact", &[("contact", contact.into())]),
    )
}

/// The text `id`, with the support line under it when `SUPPORT_CONTACT` is set.
fn with_support(deps: &Deps, ctx: &ChatCtx, id: &str) -> Option<Html> {
    let mut text = deps.loc.html_text(ctx.lang, id);
    if let Some(support) = support_line(deps, ctx) {
        text.push_markup("\n").push(&support);
    }
    Some(text)
}

/// What a refused password says: tries left, a lock, or the account's limit.
fn refused(deps: &Deps, ctx: &ChatCtx, check: &PasswordCheck) -> Option<Html> {
    match check {
        PasswordCheck::Wrong { left } => {
            text_with(deps, ctx, "password-wrong", &[("left", (*left).into())])
        }
        PasswordCheck::Locked(lock) => Some(locked_text(deps, ctx, *lock)),
        PasswordCheck::UserLimited { window } => text_with(
            deps,
            ctx,
            "password-attempts-limited",
            &[("minutes", minutes(*window))],
        ),
        _ => None,
    }
}

/// A returning parent's password.
pub async fn on_password(deps: &Deps, ctx: &mut ChatCtx, cabinet: i64, input: &str) -> Note {
    match deps
        .login
        .check_password(ctx.actor(), cabinet, input)
        .await?
    {
        PasswordCheck::Right => {
            log_in(deps, ctx, cabinet).await?;
            tracing::info!(cabinet, "logged in");
            Ok(None)
        }
        PasswordCheck::NoPassword(record) => {
            let consent = deps.config.privacy_policy_url.is_some() && record.consented_at.is_none();
            if consent {
                ctx.dialogue.stay(State::Consent { cabinet });
                return Ok(None);
            }
            ask_code(deps, ctx, &record, OtpPurpose::Login, None, false).await
        }
        PasswordCheck::Gone => {
            ctx.dialogue.stay(State::LocalityChosen);
            Ok(None)
        }
        refusal => Ok(refused(deps, ctx, &refusal)),
    }
}

async fn log_in(deps: &Deps, ctx: &mut ChatCtx, cabinet: i64) -> Result<(), BotError> {
    ctx.session = Some(deps.login.log_in(ctx.actor(), cabinet).await?);
    ctx.dialogue.reset(State::LoggedIn);
    Ok(())
}

/// «Forgot password?»: a code by SMS, then a new password.
pub async fn forgot_password(deps: &Deps, ctx: &mut ChatCtx, cabinet: i64) -> Note {
    let Some(record) = deps.login.cabinet(cabinet).await? else {
        ctx.dialogue.stay(State::LocalityChosen);
        return Ok(None);
    };
    ask_code(deps, ctx, &record, OtpPurpose::Reset, None, false).await
}

/// «Resend code».
pub async fn resend_code(
    deps: &Deps,
    ctx: &mut ChatCtx,
    cabinet: i64,
    purpose: OtpPurpose,
    consented: bool,
) -> Note {
    let Some(record) = deps.login.cabinet(cabinet).await? else {
        ctx.dialogue.stay(State::LocalityChosen);
        return Ok(None);
    };
    let to = match purpose {
        OtpPurpose::PhoneChange => {
            deps.login
                .code_destination(ctx.actor(), cabinet, purpose)
                .await?
        }
        OtpPurpose::Login | OtpPurpose::Reset => None,
    };
    if let Some(note) = ask_code(deps, ctx, &record, purpose, to, consented).await? {
        return Ok(Some(note));
    }
    // Each new code says which it is, so a second resend reads differently from the first.
    let sent = deps
        .login
        .codes_today(ctx.actor(), cabinet, purpose)
        .await?;
    let nth = crate::i18n::ordinal(ctx.lang, sent);
    Ok(text_with(
        deps,
        ctx,
        "code-resent",
        &[("nth", (&nth).into())],
    ))
}

/// «Cancel» and `/cancel` in a prompt: an answer's comment back to its question; otherwise
/// back to Settings when logged in, to the locality when not.
pub fn cancel(deps: &Deps, ctx: &mut ChatCtx) -> Option<Html> {
    let next = match ctx.dialogue.state() {
        State::AnswerComment { id, .. } => State::Question { id: *id },
        _ if ctx.session.is_some() => State::Settings,
        _ => State::LocalityChosen,
    };
    ctx.dialogue.stay(next);
    text(deps, ctx, "cancelled")
}

/// `/logout` and the «Шығу» button.
pub async fn log_out(deps: &Deps, ctx: &mut ChatCtx) -> Note {
    if ctx.session.is_none() {
        return Ok(text(deps, ctx, "logout-not-logged-in"));
    }
    deps.storage
        .end_chat_session(ctx.chat_id, SessionEnd::Logout, ctx.now)
        .await?;
    ctx.session = None;
    ctx.dialogue.reset(State::LocalityChosen);
    Ok(text(deps, ctx, "logged-out"))
}

/// A password asked for inside the cabinet (the old one before a new one, or before a
/// guarded change): right moves on to `then`; wrong counts like any wrong password, and a
/// lock ends this chat's session — never the parent's other chats'.
pub async fn in_cabinet_password(
    deps: &Deps,
    ctx: &mut ChatCtx,
    cabinet: i64,
    input: &str,
    then: State,
) -> Note {
    match deps
        .login
        .check_password(ctx.actor(), cabinet, input)
        .await?
    {
        PasswordCheck::Right | PasswordCheck::NoPassword(_) => {
            ctx.dialogue.stay(then);
            Ok(None)
        }
        PasswordCheck::Gone => {
            ctx.dialogue.reset(State::LocalityChosen);
            Ok(None)
        }
        refusal @ PasswordCheck::Locked(_) => {
            deps.storage
                .end_chat_session(ctx.chat_id, SessionEnd::Logout, ctx.now)
                .await?;
            ctx.session = None;
            ctx.dialogue.reset(State::LocalityChosen);
            Ok(refused(deps, ctx, &refusal))
        }
        refusal => Ok(refused(deps, ctx, &refusal)),
    }
}

/// Settings, «change password»: the current password first.
pub async fn on_old_password(
    deps: &Deps,
    ctx: &mut ChatCtx,
    cabinet: i64,
    session: i64,
    input: &str,
) -> Note {
    let then = State::NewPassword {
        cabinet,
        purpose: OtpPurpose::Reset,
        proof: Proof::OldPassword { session },
    };
    in_cabinet_password(deps, ctx, cabinet, input, then).await
}
