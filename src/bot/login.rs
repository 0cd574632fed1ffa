//! Logging in (SPEC §1.2): the IIN, the confirmation code by SMS (or the shared contact), the
//! new password twice, the returning parent's password, lockouts, «forgot password».
//!
//! Each step takes the chat's context, moves its dialogue on and returns the note the parent
//! reads above the next screen. Secrets never reach the dialogue or the logs: the password's
//! first entry is kept only as its hash, codes only as hashes in the database.

use super::state::State;
use super::{BotError, ChatCtx, Deps};
use crate::auth::{CodeOwner, new_code, parse_code};
use crate::domain::{Iin, LocalityCode, OtpPurpose, Password, Phone};
use crate::i18n::{Arg, Html};
use crate::storage::{Cabinet, CodeReservation, PasswordAttempt, SessionEnd};

/// What the parent reads above the next screen, if anything.
pub type Note = Result<Option<Html>, BotError>;

fn text(deps: &Deps, ctx: &ChatCtx, id: &str) -> Option<Html> {
    Some(deps.loc.html_text(ctx.lang, id))
}

fn text_with(deps: &Deps, ctx: &ChatCtx, id: &str, args: &[(&str, Arg<'_>)]) -> Option<Html> {
    Some(deps.loc.html(ctx.lang, id, args))
}

/// No new code was sent (the resend pause, the daily limit). A chat that holds a live code
/// of its own stays at the code prompt; any other chat — a new one, where another chat asked
/// for the code — must not read «the code was sent», and goes back to where it came from.
async fn leave_code_prompt_without_code(
    deps: &Deps,
    ctx: &mut ChatCtx,
    cabinet: &Cabinet,
    purpose: OtpPurpose,
) -> Result<(), BotError> {
    let live = deps
        .storage
        .latest_otp(cabinet.id, ctx.chat_id, purpose)
        .await?
        .is_some_and(|l| l.consumed_at.is_none() && l.expires_at > ctx.now);
    if !live {
        ctx.dialogue.state = match purpose {
            OtpPurpose::Login => State::LocalityChosen,
            OtpPurpose::Reset if ctx.session.is_none() => State::EnteringPassword {
                cabinet: cabinet.id,
            },
            _ => State::Settings,
        };
    }
    Ok(())
}

/// The IIN typed at the prompt.
pub async fn on_iin(deps: &Deps, ctx: &mut ChatCtx, user_id: i64, input: &str) -> Note {
    let iin = match Iin::parse(input) {
        Ok(iin) => iin,
        Err(reason) => {
            let count = input.chars().filter(char::is_ascii_digit).count() as i64;
            let reason = deps
                .loc
                .format(ctx.lang, reason.message_id(), &[("count", count.into())]);
            return Ok(text_with(
                deps,
                ctx,
                "iin-invalid",
                &[("reason", (&reason).into())],
            ));
        }
    };
    let limits = deps.config.login;
    let allowed = deps
        .storage
        .rate_limit_hit(
            &format!("iin:{user_id}"),
            limits.iin_lookup_limit,
            limits.iin_lookup_window,
            ctx.now,
        )
        .await?;
    if !allowed {
        let minutes = (limits.iin_lookup_window.as_secs() / 60) as i64;
        return Ok(text_with(
            deps,
            ctx,
            "iin-lookups-limited",
            &[("minutes", minutes.into())],
        ));
    }
    let Some(locality) = ctx
        .locality
        .as_deref()
        .and_then(|c| LocalityCode::parse(c).ok())
    else {
        ctx.dialogue.state = State::ChoosingLocality { page: 0 };
        return Ok(None);
    };
    tracing::info!(iin = %iin.masked(), locality = %locality, "IIN look-up");
    match deps.storage.find_cabinet(&locality, &iin).await? {
        None => {
            ctx.dialogue.state = State::NoCabinet;
            Ok(None)
        }
        Some(cabinet) if cabinet.password_hash.is_some() => {
            ctx.dialogue.state = State::EnteringPassword {
                cabinet: cabinet.id,
            };
            Ok(locked_note(deps, ctx, &cabinet))
        }
        Some(cabinet) => begin_first_login(deps, ctx, &cabinet).await,
    }
}

/// A cabinet without a password: consent first when `PRIVACY_POLICY_URL` asks for it, then
/// a code by SMS.
async fn begin_first_login(deps: &Deps, ctx: &mut ChatCtx, cabinet: &Cabinet) -> Note {
    if deps.config.privacy_policy_url.is_some() && cabinet.consented_at.is_none() {
        ctx.dialogue.state = State::Consent {
            cabinet: cabinet.id,
        };
        return Ok(None);
    }
    send_code(deps, ctx, cabinet, OtpPurpose::Login).await
}

/// The parent's answer to the consent question.
pub async fn on_consent(deps: &Deps, ctx: &mut ChatCtx, cabinet: i64, agreed: bool) -> Note {
    if !agreed {
        ctx.dialogue.state = State::LocalityChosen;
        return Ok(text(deps, ctx, "consent-declined"));
    }
    deps.storage.record_consent(cabinet, ctx.now).await?;
    tracing::info!(
        cabinet,
        "consent to the processing of personal data recorded"
    );
    let Some(record) = deps.storage.cabinet(cabinet).await? else {
        ctx.dialogue.state = State::LocalityChosen;
        return Ok(None);
    };
    send_code(deps, ctx, &record, OtpPurpose::Login).await
}

fn locked_note(deps: &Deps, ctx: &ChatCtx, cabinet: &Cabinet) -> Option<Html> {
    let until = cabinet.locked_until.filter(|u| *u > ctx.now)?;
    Some(locked_text(deps, ctx, until))
}

/// Sends a new code for `purpose` to the cabinet's phone, keeping the resend pause and the
/// daily limit. Moves the dialogue to the code prompt.
pub async fn send_code(
    deps: &Deps,
    ctx: &mut ChatCtx,
    cabinet: &Cabinet,
    purpose: OtpPurpose,
) -> Note {
    send_code_to(deps, ctx, cabinet, purpose, None).await
}

/// Like [`send_code`], to `to` instead of the phone on file (a new main phone is confirmed
/// on itself). The code belongs to this chat: no other chat can enter it.
pub async fn send_code_to(
    deps: &Deps,
    ctx: &mut ChatCtx,
    cabinet: &Cabinet,
    purpose: OtpPurpose,
    to: Option<Phone>,
) -> Note {
    let otp = deps.config.otp;
    ctx.dialogue.state = State::EnteringCode {
        cabinet: cabinet.id,
        purpose,
    };
    let reservation = deps
        .storage
        .reserve_code(cabinet.id, otp.resend_after, otp.daily_limit, ctx.now)
        .await?;
    match reservation {
        CodeReservation::Granted => {}
        CodeReservation::DailyLimit => {
            leave_code_prompt_without_code(deps, ctx, cabinet, purpose).await?;
            return Ok(with_support(deps, ctx, "code-daily-limit"));
        }
        CodeReservation::WaitUntil(ready_at) => {
            leave_code_prompt_without_code(deps, ctx, cabinet, purpose).await?;
            let seconds = (ready_at - ctx.now).num_seconds().max(1);
            return Ok(text_with(
                deps,
                ctx,
                "code-resend-wait",
                &[("seconds", seconds.into())],
            ));
        }
    }
    let Some(phone) = to.or_else(|| Phone::parse(&cabinet.phone).ok()) else {
        return Err(crate::storage::StorageError::Corrupt(
            "a cabinet's phone does not parse".into(),
        )
        .into());
    };
    let code = new_code();
    let owner = CodeOwner {
        cabinet: cabinet.id,
        chat: ctx.chat_id,
        purpose,
    };
    deps.storage
        .create_otp(
            cabinet.id,
            ctx.chat_id,
            purpose,
            phone.as_str(),
            &deps.seal.seal(owner, &code),
            otp.ttl,
            ctx.now,
        )
        .await?;
    let sms = crate::messages::sms::code(&deps.loc, ctx.lang, &code);
    if deps.sms.send(&phone, &sms).await.is_err() {
        return Ok(text(deps, ctx, "sms-failed"));
    }
    tracing::info!(cabinet = cabinet.id, purpose = %purpose, to = %phone.masked(), "confirmation code sent");
    ctx.code_sent = true;
    Ok(None)
}

/// A code typed at the code prompt. The attempt is counted before the code is checked.
pub async fn on_code(
    deps: &Deps,
    ctx: &mut ChatCtx,
    cabinet: i64,
    purpose: OtpPurpose,
    input: &str,
) -> Note {
    let max = deps.config.otp.max_attempts;
    let Some(code) = parse_code(input) else {
        return Ok(text(deps, ctx, "code-format"));
    };
    let reserved = deps
        .storage
        .reserve_code_attempt(cabinet, ctx.chat_id, purpose, max, ctx.now)
        .await?;
    let Some(otp) = reserved else {
        // Used, expired, or out of attempts: say which.
        let latest = deps
            .storage
            .latest_otp(cabinet, ctx.chat_id, purpose)
            .await?;
        let spent = latest.is_some_and(|l| {
            l.consumed_at.is_none() && l.expires_at > ctx.now && l.attempts >= i64::from(max)
        });
        return Ok(text(
            deps,
            ctx,
            if spent {
                "code-too-many"
            } else {
                "code-expired"
            },
        ));
    };
    let owner = CodeOwner {
        cabinet,
        chat: ctx.chat_id,
        purpose,
    };
    if deps.seal.opens(owner, &code, &otp.code_hash) {
        if !deps.storage.consume_otp(otp.id, ctx.now).await? {
            return Ok(text(deps, ctx, "code-expired"));
        }
        if purpose == OtpPurpose::PhoneChange {
            // The code reached the new number: it becomes the main phone.
            deps.storage
                .set_main_phone(cabinet, &otp.phone, ctx.now)
                .await?;
            ctx.dialogue.state = State::Settings;
            return Ok(text(deps, ctx, "phone-changed"));
        }
        ctx.dialogue.state = State::NewPassword { cabinet, purpose };
        return Ok(None);
    }
    let left = (i64::from(max) - otp.attempts).max(0);
    if left == 0 {
        return Ok(text(deps, ctx, "code-too-many"));
    }
    Ok(text_with(deps, ctx, "code-wrong", &[("left", left.into())]))
}

/// The phone shared with Telegram's contact button, instead of the code.
pub async fn on_contact(
    deps: &Deps,
    ctx: &mut ChatCtx,
    cabinet: i64,
    purpose: OtpPurpose,
    sender_id: i64,
    contact_user: Option<i64>,
    phone: &str,
) -> Note {
    if contact_user != Some(sender_id) {
        return Ok(text(deps, ctx, "contact-not-own"));
    }
    let Some(record) = deps.storage.cabinet(cabinet).await? else {
        ctx.dialogue.state = State::LocalityChosen;
        return Ok(None);
    };
    match Phone::parse(phone) {
        Ok(shared) if shared.as_str() == record.phone => {
            ctx.dialogue.state = State::NewPassword { cabinet, purpose };
            Ok(None)
        }
        _ => Ok(text(deps, ctx, "contact-mismatch")),
    }
}

/// The new password, first entry.
pub async fn on_new_password(
    deps: &Deps,
    ctx: &mut ChatCtx,
    cabinet: i64,
    purpose: OtpPurpose,
    input: &str,
) -> Note {
    let Some(record) = deps.storage.cabinet(cabinet).await? else {
        ctx.dialogue.state = State::LocalityChosen;
        return Ok(None);
    };
    let (Ok(iin), Ok(phone)) = (Iin::parse(&record.iin), Phone::parse(&record.phone)) else {
        return Err(crate::storage::StorageError::Corrupt(
            "a cabinet's IIN or phone does not parse".into(),
        )
        .into());
    };
    match Password::parse(input, &iin, &phone) {
        Err(reason) => Ok(text_with(
            deps,
            ctx,
            reason.message_id(),
            &[
                ("min", (crate::domain::MIN_PASSWORD_CHARS as i64).into()),
                ("max", (crate::domain::MAX_PASSWORD_CHARS as i64).into()),
            ],
        )),
        Ok(password) => {
            let pending = deps.hasher.hash_password(&password).await?;
            ctx.dialogue.state = State::RepeatPassword {
                cabinet,
                purpose,
                pending,
            };
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
    pending: &str,
    input: &str,
) -> Note {
    if !deps.hasher.verify_password(input, pending).await? {
        ctx.dialogue.state = State::NewPassword { cabinet, purpose };
        return Ok(text(deps, ctx, "password-mismatch"));
    }
    deps.storage
        .set_password_hash(cabinet, pending, ctx.now)
        .await?;
    // A new password ends every other chat's session of this cabinet.
    let ended = deps
        .storage
        .end_cabinet_sessions(
            cabinet,
            Some(ctx.chat_id),
            SessionEnd::PasswordChanged,
            ctx.now,
        )
        .await?;
    tracing::info!(cabinet, purpose = %purpose, other_sessions_ended = ended, "password set");
    // The phone (or the old password) was proved: this account's wrong guesses are forgiven.
    deps.storage
        .rate_limit_clear(&user_password_bucket(ctx))
        .await?;
    log_in(deps, ctx, cabinet).await?;
    Ok(text(deps, ctx, "password-set"))
}

/// How a password attempt went.
enum PasswordCheck {
    /// Right: the cabinet's record, as it was.
    Right,
    /// The cabinet has no password yet (a first login that did not finish).
    NoPassword(Cabinet),
    /// Wrong, locked, or refused: what to tell the parent, and whether the cabinet is
    /// locked now.
    Refused { note: Html, locked: bool },
    /// The cabinet is gone.
    Gone,
}

/// The wrong passwords a Telegram user may try across all cabinets in one
/// `LOCKOUT_MINUTES`: as many as lock one cabinet, so one account cannot lock many.
fn user_password_bucket(ctx: &ChatCtx) -> String {
    format!("password:{}", ctx.chat_id)
}

/// Checks a password for `cabinet`, counting the attempt before the check, per cabinet
/// (the lock) and per Telegram user.
async fn check_password(
    deps: &Deps,
    ctx: &mut ChatCtx,
    cabinet: i64,
    input: &str,
) -> Result<PasswordCheck, BotError> {
    let login = deps.config.login;
    let Some(record) = deps.storage.cabinet(cabinet).await? else {
        return Ok(PasswordCheck::Gone);
    };
    if record.password_hash.is_none() {
        return Ok(PasswordCheck::NoPassword(record));
    }
    // A locked cabinet says so (and how to lift it) before anything is counted; the
    // reservation below checks the lock again, atomically.
    if let Some(note) = locked_note(deps, ctx, &record) {
        return Ok(PasswordCheck::Refused { note, locked: true });
    }
    let bucket = user_password_bucket(ctx);
    if !deps
        .storage
        .rate_limit_hit(&bucket, login.max_failures, login.lockout, ctx.now)
        .await?
    {
        let minutes = (login.lockout.as_secs() / 60) as i64;
        let note = deps.loc.html(
            ctx.lang,
            "password-attempts-limited",
            &[("minutes", minutes.into())],
        );
        return Ok(PasswordCheck::Refused {
            note,
            locked: false,
        });
    }
    let attempt = deps
        .storage
        .reserve_password_attempt(cabinet, login.max_failures, login.lockout, ctx.now)
        .await?;
    let (stored, failures, locks_until) = match attempt {
        PasswordAttempt::Locked(until) => {
            return Ok(PasswordCheck::Refused {
                note: locked_text(deps, ctx, until),
                locked: true,
            });
        }
        PasswordAttempt::Check {
            hash: None,
            locks_until: None,
            ..
        } => return Ok(PasswordCheck::NoPassword(record)),
        PasswordAttempt::Check {
            hash,
            failures,
            locks_until,
        } => (hash.unwrap_or_default(), failures, locks_until),
    };
    if deps.hasher.verify_password(input, &stored).await? {
        deps.storage.record_login_success(cabinet).await?;
        deps.storage.rate_limit_refund(&bucket).await?;
        return Ok(PasswordCheck::Right);
    }
    Ok(wrong_password(deps, ctx, &record, failures, locks_until).await)
}

/// A wrong password: the tries left, or — when it locked the cabinet — until when, with the
/// parent told by SMS.
async fn wrong_password(
    deps: &Deps,
    ctx: &ChatCtx,
    cabinet: &Cabinet,
    failures: i64,
    locks_until: Option<chrono::DateTime<chrono::Utc>>,
) -> PasswordCheck {
    deps.metrics.login(false);
    tracing::info!(
        cabinet = cabinet.id,
        failures,
        locked = locks_until.is_some(),
        "wrong password"
    );
    let note = match locks_until {
        Some(until) => {
            tell_parent_of_lock(deps, cabinet, until).await;
            locked_text(deps, ctx, until)
        }
        None => {
            let left = (i64::from(deps.config.login.max_failures) - failures).max(1);
            deps.loc
                .html(ctx.lang, "password-wrong", &[("left", left.into())])
        }
    };
    PasswordCheck::Refused {
        note,
        locked: locks_until.is_some(),
    }
}

/// Each lock is told to the parent by SMS, so a parent whose cabinet a stranger locked
/// learns it, and how to lift it («Forgot password?»).
async fn tell_parent_of_lock(deps: &Deps, cabinet: &Cabinet, until: chrono::DateTime<chrono::Utc>) {
    let Ok(phone) = Phone::parse(&cabinet.phone) else {
        return;
    };
    let text =
        crate::messages::sms::locked(&deps.loc, cabinet.language, until, deps.config.timezone);
    if let Err(e) = deps.sms.send(&phone, &text).await {
        tracing::warn!(
            cabinet = cabinet.id,
            "the SMS about a lock did not go out: {e}"
        );
    }
}

fn locked_text(deps: &Deps, ctx: &ChatCtx, until: chrono::DateTime<chrono::Utc>) -> Html {
    let until = deps.loc.date_time(ctx.lang, until, deps.config.timezone);
    let mut note = deps
        .loc
        .html(ctx.lang, "locked", &[("until", (&until).into())]);
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

/// A returning parent's password.
pub async fn on_password(deps: &Deps, ctx: &mut ChatCtx, cabinet: i64, input: &str) -> Note {
    match check_password(deps, ctx, cabinet, input).await? {
        PasswordCheck::Right => {
            log_in(deps, ctx, cabinet).await?;
            tracing::info!(cabinet, "logged in");
            Ok(None)
        }
        PasswordCheck::NoPassword(record) => begin_first_login(deps, ctx, &record).await,
        PasswordCheck::Refused { note, .. } => Ok(Some(note)),
        PasswordCheck::Gone => {
            ctx.dialogue.state = State::LocalityChosen;
            Ok(None)
        }
    }
}

async fn log_in(deps: &Deps, ctx: &mut ChatCtx, cabinet: i64) -> Result<(), BotError> {
    deps.metrics.login(true);
    let session = deps
        .storage
        .start_session(ctx.chat_id, cabinet, ctx.now)
        .await?;
    // Pushes follow the language of the chat the parent uses.
    deps.storage
        .set_chat_language(ctx.chat_id, ctx.lang, ctx.now)
        .await?;
    ctx.session = Some(crate::storage::LiveSession {
        id: session,
        cabinet_id: cabinet,
        started_at: ctx.now,
        last_seen_at: ctx.now,
    });
    ctx.dialogue.reset(State::LoggedIn);
    Ok(())
}

/// «Forgot password?»: a code by SMS, then a new password.
pub async fn forgot_password(deps: &Deps, ctx: &mut ChatCtx, cabinet: i64) -> Note {
    let Some(record) = deps.storage.cabinet(cabinet).await? else {
        ctx.dialogue.state = State::LocalityChosen;
        return Ok(None);
    };
    send_code(deps, ctx, &record, OtpPurpose::Reset).await
}

/// «Resend code».
pub async fn resend_code(
    deps: &Deps,
    ctx: &mut ChatCtx,
    cabinet: i64,
    purpose: OtpPurpose,
) -> Note {
    let Some(record) = deps.storage.cabinet(cabinet).await? else {
        ctx.dialogue.state = State::LocalityChosen;
        return Ok(None);
    };
    let to = match deps
        .storage
        .latest_otp(cabinet, ctx.chat_id, purpose)
        .await?
    {
        Some(last) if purpose == OtpPurpose::PhoneChange => Phone::parse(&last.phone).ok(),
        _ => None,
    };
    if let Some(note) = send_code_to(deps, ctx, &record, purpose, to).await? {
        return Ok(Some(note));
    }
    // Each new code says which it is, so a second resend reads differently from the first.
    let since = ctx.now - chrono::Duration::hours(24);
    let sent = deps
        .storage
        .codes_sent_to_chat(cabinet, ctx.chat_id, purpose, since)
        .await?;
    let nth = crate::i18n::ordinal(ctx.lang, sent);
    Ok(text_with(
        deps,
        ctx,
        "code-resent",
        &[("nth", (&nth).into())],
    ))
}

/// «Cancel» and `/cancel` in a prompt: back to Settings when logged in, to the locality
/// otherwise.
pub fn cancel(deps: &Deps, ctx: &mut ChatCtx) -> Option<Html> {
    let next = if ctx.session.is_some() {
        State::Settings
    } else {
        State::LocalityChosen
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

/// Settings, «change password»: the current password first.
pub async fn on_old_password(deps: &Deps, ctx: &mut ChatCtx, cabinet: i64, input: &str) -> Note {
    match check_password(deps, ctx, cabinet, input).await? {
        PasswordCheck::Right | PasswordCheck::NoPassword(_) => {
            ctx.dialogue.state = State::NewPassword {
                cabinet,
                purpose: OtpPurpose::Reset,
            };
            Ok(None)
        }
        PasswordCheck::Refused { note, locked } => {
            if locked {
                // Locked: the session ends too, as on any other screen that needs the
                // password.
                deps.storage
                    .end_cabinet_sessions(cabinet, None, SessionEnd::Logout, ctx.now)
                    .await?;
                ctx.session = None;
                ctx.dialogue.state = State::LocalityChosen;
            }
            Ok(Some(note))
        }
        PasswordCheck::Gone => {
            ctx.dialogue.state = State::LocalityChosen;
            Ok(None)
        }
    }
}
