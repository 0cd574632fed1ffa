//! The login policy (SPEC §1.2, §5): who may try what, how often, and what a right or wrong
//! answer does. The bot asks and shows; every decision — a code reserved and sent, a
//! password checked, a lock set and told by SMS, a proof that lets a password be set — is
//! made here and returned as an outcome value.
//!
//! The rules an attacker meets:
//! - **Strangers pay for their own attempts.** Codes come out of per-requester allowances
//!   (`CodeAllowance`): the parent's own chats share one a stranger cannot touch. Wrong
//!   passwords lock the chat that made them; the cabinet locks only when they come from
//!   several chats, for at most a day, and repeat locks decay.
//! - **A borrowed phone is not a stolen cabinet.** A password can be set only with a
//!   [`Proof`]: a code that proved the cabinet's phone in this chat within
//!   [`PROOF_VALID_FOR`], or the old password given in a session that still lives. A new main
//!   phone needs a code sent to it in a session that still lives, and is told to the old one.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::{AuthError, CodeOwner, CodeSeal, Hasher, new_code, parse_code};
use crate::channels::sms::SmsSender;
use crate::config::Config;
use crate::domain::{
    Iin, IinError, Language, LocalityCode, OtpPurpose, Password, PasswordError, Phone,
};
use crate::i18n::Localizer;
use crate::metrics::Metrics;
use crate::storage::{
    Cabinet, CodeAllowance, CodeReservation, LiveSession, LockPolicy, PasswordAttempt, Requester,
    SessionEnd, Storage, StorageError,
};

/// How long the password prompt after a proof stays open.
pub const PROOF_VALID_FOR: Duration = Duration::from_secs(10 * 60);

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("storage: {}", .0.log_safe())]
    Storage(#[from] StorageError),
    #[error("passwords: {0}")]
    Auth(#[from] AuthError),
}

pub type Result<T, E = LoginError> = std::result::Result<T, E>;

/// Who acts: the chat, the Telegram user writing in it, the chat's language and its live
/// session.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub chat: i64,
    pub user: i64,
    pub lang: Language,
    pub session: Option<LiveSession>,
    pub now: DateTime<Utc>,
}

impl Actor {
    fn requester(&self) -> Requester {
        Requester {
            chat: self.chat,
            user: self.user,
        }
    }
}

/// What entitles a chat to set a cabinet's password. Kept in the chat's dialogue: it names
/// rows the database checks again when the password is set, so a stale or forged one sets
/// nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Proof {
    /// A code (or Telegram's contact button) proved the cabinet's main phone in this chat;
    /// `otp` is that code's row.
    Phone { otp: i64 },
    /// The old password was given in this session (Settings → change password).
    OldPassword { session: i64 },
}

/// A lock that keeps this chat out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// The whole cabinet: wrong passwords came from several chats.
    Cabinet(DateTime<Utc>),
    /// This chat only: its own wrong passwords.
    Chat(DateTime<Utc>),
}

/// The IIN step.
#[derive(Debug)]
pub enum Lookup {
    NotAnIin(IinError),
    /// This Telegram user looked up too many IINs lately.
    TooManyLookups {
        window: Duration,
    },
    NoCabinet,
    /// A cabinet with a password; `lock` when this chat may not try it now.
    Returning {
        cabinet: i64,
        lock: Option<Lock>,
    },
    /// A cabinet without one yet: consent first (when asked for), then a code.
    FirstLogin {
        cabinet: Cabinet,
        ask_consent: bool,
    },
}

/// A code asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRequest {
    Sent {
        to: Phone,
    },
    /// A code went to this number a moment ago; the next may go then.
    Wait {
        until: DateTime<Utc>,
    },
    /// This requester's codes for the day are used up.
    DailyLimit,
    /// The SMS gateway refused it.
    SmsFailed,
}

/// A code typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    NotACode,
    /// The phone is proved: a password may be set with this proof.
    Proved(Proof),
    /// The code confirmed a new main phone; the old one was told, other sessions ended.
    PhoneChanged,
    Wrong {
        left: i64,
    },
    /// The code had all its attempts.
    TooMany,
    /// Used, expired, or never sent to this chat.
    Expired,
    /// The session that asked for the code has ended: the step is void.
    StepEnded,
}

/// A phone shared with Telegram's contact button, instead of the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactCheck {
    /// Someone else's contact.
    NotOwn,
    /// Not the cabinet's main phone.
    Mismatch,
    Proved(Proof),
    Gone,
}

/// A password typed at a password prompt.
#[derive(Debug)]
pub enum PasswordCheck {
    Right,
    /// The cabinet has no password yet (a first login that did not finish).
    NoPassword(Cabinet),
    Wrong {
        left: i64,
    },
    Locked(Lock),
    /// This Telegram user made too many wrong passwords lately, across cabinets.
    UserLimited {
        window: Duration,
    },
    Gone,
}

/// A new password, first entry.
#[derive(Debug)]
pub enum NewPassword {
    Refused(PasswordError),
    /// Its Argon2 hash, to be compared with the second entry.
    Hashed(String),
    Gone,
}

/// A new password, second entry.
#[derive(Debug)]
pub enum PasswordSet {
    Mismatch,
    /// Set; the chat is logged in with this session.
    Set(LiveSession),
    /// The proof no longer holds (expired, or another cabinet now): nothing was set.
    ProofLapsed,
}

/// The login policy over storage, password hashing, code sealing and the SMS gateway.
#[derive(Clone)]
pub struct LoginService {
    storage: Storage,
    hasher: Hasher,
    seal: CodeSeal,
    sms: SmsSender,
    loc: Arc<Localizer>,
    config: Arc<Config>,
    metrics: Arc<Metrics>,
}

impl LoginService {
    pub fn new(
        storage: Storage,
        config: Arc<Config>,
        sms: SmsSender,
        loc: Arc<Localizer>,
        metrics: Arc<Metrics>,
    ) -> Result<LoginService> {
        Ok(LoginService {
            hasher: Hasher::new(config.argon2)?,
            seal: CodeSeal::new(config.code_secret.secret.expose()),
            storage,
            sms,
            loc,
            config,
            metrics,
        })
    }

    fn lock_policy(&self) -> LockPolicy {
        LockPolicy {
            chat_failures: self.config.login.max_failures,
            cabinet_failures: self.config.login.cabinet_max_failures,
            lockout: self.config.login.lockout,
        }
    }

    fn allowance(&self) -> CodeAllowance {
        let otp = self.config.otp;
        CodeAllowance {
            resend_after: otp.resend_after,
            own_chats: otp.daily_limit,
            new_chat: otp.new_chat_limit,
            new_user: otp.user_daily_limit,
        }
    }

    /// The IIN typed at the prompt, in `locality`. Look-ups are limited per Telegram user,
    /// counted before the cabinet is looked up.
    pub async fn look_up(
        &self,
        actor: Actor,
        locality: &LocalityCode,
        input: &str,
    ) -> Result<Lookup> {
        let iin = match Iin::parse(input) {
            Ok(iin) => iin,
            Err(reason) => return Ok(Lookup::NotAnIin(reason)),
        };
        let limits = self.config.login;
        let allowed = self
            .storage
            .rate_limit_hit(
                &format!("iin:{}", actor.user),
                limits.iin_lookup_limit,
                limits.iin_lookup_window,
                actor.now,
            )
            .await?;
        if !allowed {
            return Ok(Lookup::TooManyLookups {
                window: limits.iin_lookup_window,
            });
        }
        tracing::info!(iin = %iin.masked(), locality = %locality, "IIN look-up");
        Ok(match self.storage.find_cabinet(locality, &iin).await? {
            None => Lookup::NoCabinet,
            Some(cabinet) if cabinet.password_hash.is_some() => Lookup::Returning {
                lock: self.lock_for(actor, &cabinet).await?,
                cabinet: cabinet.id,
            },
            Some(cabinet) => Lookup::FirstLogin {
                ask_consent: self.config.privacy_policy_url.is_some()
                    && cabinet.consented_at.is_none(),
                cabinet,
            },
        })
    }

    /// The lock that keeps this chat out of the cabinet now, if any.
    pub async fn lock_for(&self, actor: Actor, cabinet: &Cabinet) -> Result<Option<Lock>> {
        if let Some(until) = cabinet.locked_until.filter(|u| *u > actor.now) {
            return Ok(Some(Lock::Cabinet(until)));
        }
        let chat_lock = self
            .storage
            .chat_lock(cabinet.id, actor.chat, actor.now)
            .await?;
        Ok(chat_lock.map(Lock::Chat))
    }

    pub async fn cabinet(&self, id: i64) -> Result<Option<Cabinet>> {
        Ok(self.storage.cabinet(id).await?)
    }

    /// Sends a new code for `purpose` to the cabinet's phone — or, for a new main phone, to
    /// `to` — within the requester's allowances. A code asked for inside the cabinet belongs
    /// to the actor's session.
    pub async fn send_code(
        &self,
        actor: Actor,
        cabinet: &Cabinet,
        purpose: OtpPurpose,
        to: Option<Phone>,
    ) -> Result<CodeRequest> {
        let Some(phone) = to.or_else(|| Phone::parse(&cabinet.phone).ok()) else {
            return Err(StorageError::Corrupt("a cabinet's phone does not parse".into()).into());
        };
        let reservation = self
            .storage
            .reserve_code(
                cabinet.id,
                actor.requester(),
                phone.as_str(),
                self.allowance(),
                actor.now,
            )
            .await?;
        match reservation {
            CodeReservation::Granted => {}
            CodeReservation::DailyLimit => return Ok(CodeRequest::DailyLimit),
            CodeReservation::WaitUntil(until) => return Ok(CodeRequest::Wait { until }),
        }
        let code = new_code();
        let owner = CodeOwner {
            cabinet: cabinet.id,
            chat: actor.chat,
            purpose,
        };
        let session = match purpose {
            OtpPurpose::PhoneChange => actor.session.map(|s| s.id),
            OtpPurpose::Login | OtpPurpose::Reset => None,
        };
        self.storage
            .create_otp(
                cabinet.id,
                actor.chat,
                session,
                purpose,
                phone.as_str(),
                &self.seal.seal(owner, &code),
                self.config.otp.ttl,
                actor.now,
            )
            .await?;
        // In the language of the chat that asked: its reader is waiting for it.
        let text = crate::messages::sms::code(&self.loc, actor.lang, &code);
        if self.sms.send(&phone, &text).await.is_err() {
            return Ok(CodeRequest::SmsFailed);
        }
        tracing::info!(cabinet = cabinet.id, purpose = %purpose, to = %phone.masked(), "confirmation code sent");
        Ok(CodeRequest::Sent { to: phone })
    }

    /// Whether this chat holds a live code of `purpose` for the cabinet.
    pub async fn has_live_code(
        &self,
        actor: Actor,
        cabinet: i64,
        purpose: OtpPurpose,
    ) -> Result<bool> {
        Ok(self
            .storage
            .latest_otp(cabinet, actor.chat, purpose)
            .await?
            .is_some_and(|l| l.consumed_at.is_none() && l.expires_at > actor.now))
    }

    /// Where this chat's newest code of `purpose` went, if it asked for one.
    pub async fn code_destination(
        &self,
        actor: Actor,
        cabinet: i64,
        purpose: OtpPurpose,
    ) -> Result<Option<Phone>> {
        let latest = self
            .storage
            .latest_otp(cabinet, actor.chat, purpose)
            .await?;
        Ok(latest.and_then(|l| Phone::parse(&l.phone).ok()))
    }

    /// How many codes of `purpose` this chat got for the cabinet in the last day.
    pub async fn codes_today(
        &self,
        actor: Actor,
        cabinet: i64,
        purpose: OtpPurpose,
    ) -> Result<i64> {
        let since = actor.now - chrono::Duration::hours(24);
        Ok(self
            .storage
            .codes_sent_to_chat(cabinet, actor.chat, purpose, since)
            .await?)
    }

    /// A code typed at the code prompt. The attempt is counted before the code is checked.
    /// `consented`: the parent agreed to the processing of personal data before the code
    /// was sent; it is recorded now that the phone is proved.
    pub async fn check_code(
        &self,
        actor: Actor,
        cabinet: i64,
        purpose: OtpPurpose,
        input: &str,
        consented: bool,
    ) -> Result<CodeCheck> {
        let max = self.config.otp.max_attempts;
        let Some(code) = parse_code(input) else {
            return Ok(CodeCheck::NotACode);
        };
        let reserved = self
            .storage
            .reserve_code_attempt(cabinet, actor.chat, purpose, max, actor.now)
            .await?;
        let Some(otp) = reserved else {
            let latest = self
                .storage
                .latest_otp(cabinet, actor.chat, purpose)
                .await?;
            let spent = latest.is_some_and(|l| {
                l.consumed_at.is_none() && l.expires_at > actor.now && l.attempts >= i64::from(max)
            });
            return Ok(if spent {
                CodeCheck::TooMany
            } else {
                CodeCheck::Expired
            });
        };
        let owner = CodeOwner {
            cabinet,
            chat: actor.chat,
            purpose,
        };
        if !self.seal.opens(owner, &code, &otp.code_hash) {
            let left = (i64::from(max) - otp.attempts).max(0);
            return Ok(if left == 0 {
                CodeCheck::TooMany
            } else {
                CodeCheck::Wrong { left }
            });
        }
        if !self.storage.consume_otp(otp.id, actor.now).await? {
            return Ok(CodeCheck::Expired);
        }
        if purpose == OtpPurpose::PhoneChange {
            return self.change_main_phone(actor, cabinet, otp.id).await;
        }
        if consented {
            self.record_consent(cabinet, actor.now).await?;
        }
        Ok(CodeCheck::Proved(Proof::Phone { otp: otp.id }))
    }

    async fn record_consent(&self, cabinet: i64, now: DateTime<Utc>) -> Result<()> {
        self.storage.record_consent(cabinet, now).await?;
        tracing::info!(
            cabinet,
            "consent to the processing of personal data recorded"
        );
        Ok(())
    }

    /// The code reached the new number: it becomes the main phone, in the session that
    /// asked; the old number is told and every other session ends.
    async fn change_main_phone(&self, actor: Actor, cabinet: i64, otp: i64) -> Result<CodeCheck> {
        let Some(session) = actor.session.filter(|s| s.cabinet_id == cabinet) else {
            return Ok(CodeCheck::StepEnded);
        };
        let Some(old) = self
            .storage
            .change_main_phone(cabinet, actor.chat, session.id, otp, actor.now)
            .await?
        else {
            return Ok(CodeCheck::StepEnded);
        };
        let Some(record) = self.storage.cabinet(cabinet).await? else {
            return Ok(CodeCheck::StepEnded);
        };
        tracing::info!(cabinet, "the main phone was changed; other sessions ended");
        if let (Ok(old), Ok(new)) = (Phone::parse(&old), Phone::parse(&record.phone)) {
            let text = crate::messages::sms::phone_changed(
                &self.loc,
                record.language,
                &new,
                self.config.support_contact.as_deref(),
            );
            if let Err(e) = self.sms.send(&old, &text).await {
                tracing::warn!(
                    cabinet,
                    "the SMS about a new main phone did not go out: {e}"
                );
            }
        }
        Ok(CodeCheck::PhoneChanged)
    }

    /// Telegram's contact button at the code prompt: it proves the phone only when it is the
    /// sender's own contact and the cabinet's main phone. No SMS allowance applies: a parent
    /// whose codes a stranger used up can always reset this way.
    pub async fn check_contact(
        &self,
        actor: Actor,
        cabinet: i64,
        purpose: OtpPurpose,
        contact_user: Option<i64>,
        phone: &str,
        consented: bool,
    ) -> Result<ContactCheck> {
        if contact_user != Some(actor.user) || purpose == OtpPurpose::PhoneChange {
            return Ok(ContactCheck::NotOwn);
        }
        let Some(record) = self.storage.cabinet(cabinet).await? else {
            return Ok(ContactCheck::Gone);
        };
        match Phone::parse(phone) {
            Ok(shared) if shared.as_str() == record.phone => {
                let otp = self
                    .storage
                    .record_phone_proof(cabinet, actor.chat, purpose, shared.as_str(), actor.now)
                    .await?;
                if consented {
                    self.record_consent(cabinet, actor.now).await?;
                }
                Ok(ContactCheck::Proved(Proof::Phone { otp }))
            }
            _ => Ok(ContactCheck::Mismatch),
        }
    }

    /// The wrong passwords a Telegram user may make across all cabinets in one
    /// `LOCKOUT_MINUTES`: as many as lock one chat, so one account cannot lock many.
    fn user_bucket(actor: Actor) -> String {
        format!("password:{}", actor.user)
    }

    /// A password typed for `cabinet`: counted per Telegram user and per chat before it is
    /// checked; a wrong one may lock the chat or, from several chats, the cabinet (each lock
    /// told to the parent by SMS).
    pub async fn check_password(
        &self,
        actor: Actor,
        cabinet: i64,
        input: &str,
    ) -> Result<PasswordCheck> {
        let login = self.config.login;
        let Some(record) = self.storage.cabinet(cabinet).await? else {
            return Ok(PasswordCheck::Gone);
        };
        if record.password_hash.is_none() {
            return Ok(PasswordCheck::NoPassword(record));
        }
        // A lock says so (and how to lift it) before anything is counted; the reservation
        // below checks the locks again, atomically.
        if let Some(lock) = self.lock_for(actor, &record).await? {
            return Ok(PasswordCheck::Locked(lock));
        }
        let bucket = Self::user_bucket(actor);
        if !self
            .storage
            .rate_limit_hit(&bucket, login.max_failures, login.lockout, actor.now)
            .await?
        {
            return Ok(PasswordCheck::UserLimited {
                window: login.lockout,
            });
        }
        let attempt = self
            .storage
            .reserve_password_attempt(cabinet, actor.chat, login.max_failures, actor.now)
            .await;
        let stored = match attempt {
            Err(StorageError::NotFound) => return Ok(PasswordCheck::Gone),
            Err(other) => return Err(other.into()),
            Ok(PasswordAttempt::CabinetLocked(until)) => {
                return Ok(PasswordCheck::Locked(Lock::Cabinet(until)));
            }
            Ok(PasswordAttempt::ChatLocked(until)) => {
                return Ok(PasswordCheck::Locked(Lock::Chat(until)));
            }
            Ok(PasswordAttempt::Check { hash: None, .. }) => {
                self.storage
                    .record_login_success(cabinet, actor.chat)
                    .await?;
                return Ok(PasswordCheck::NoPassword(record));
            }
            Ok(PasswordAttempt::Check {
                hash: Some(hash), ..
            }) => hash,
        };
        if self.hasher.verify_password(input, &stored).await? {
            self.storage
                .record_login_success(cabinet, actor.chat)
                .await?;
            self.storage.rate_limit_refund(&bucket).await?;
            return Ok(PasswordCheck::Right);
        }
        self.metrics.login(false);
        let wrong = self
            .storage
            .record_wrong_password(cabinet, actor.chat, self.lock_policy(), actor.now)
            .await?;
        tracing::info!(
            cabinet,
            chat_left = wrong.chat_left,
            chat_locked = wrong.chat_locked_until.is_some(),
            cabinet_locked = wrong.locked_cabinet,
            "wrong password"
        );
        if let Some(until) = wrong.cabinet_locked_until {
            if wrong.locked_cabinet {
                self.tell_of_lock(&record, Lock::Cabinet(until)).await;
            }
            return Ok(PasswordCheck::Locked(Lock::Cabinet(until)));
        }
        if let Some(until) = wrong.chat_locked_until {
            self.tell_of_lock(&record, Lock::Chat(until)).await;
            return Ok(PasswordCheck::Locked(Lock::Chat(until)));
        }
        Ok(PasswordCheck::Wrong {
            left: wrong.chat_left.max(1),
        })
    }

    /// Each lock is told to the parent by SMS, so a parent whose cabinet a stranger tried
    /// learns it, and how to get in anyway («Forgot password?»).
    async fn tell_of_lock(&self, cabinet: &Cabinet, lock: Lock) {
        let Ok(phone) = Phone::parse(&cabinet.phone) else {
            return;
        };
        let tz = self.config.timezone;
        let text = match lock {
            Lock::Cabinet(until) => {
                crate::messages::sms::locked(&self.loc, cabinet.language, until, tz)
            }
            Lock::Chat(until) => {
                crate::messages::sms::chat_locked(&self.loc, cabinet.language, until, tz)
            }
        };
        if let Err(e) = self.sms.send(&phone, &text).await {
            tracing::warn!(
                cabinet = cabinet.id,
                "the SMS about a lock did not go out: {e}"
            );
        }
    }

    /// A new password's first entry, checked against the rules and hashed.
    pub async fn new_password(&self, cabinet: i64, input: &str) -> Result<NewPassword> {
        let Some(record) = self.storage.cabinet(cabinet).await? else {
            return Ok(NewPassword::Gone);
        };
        let (Ok(iin), Ok(phone)) = (Iin::parse(&record.iin), Phone::parse(&record.phone)) else {
            return Err(
                StorageError::Corrupt("a cabinet's IIN or phone does not parse".into()).into(),
            );
        };
        Ok(match Password::parse(input, &iin, &phone) {
            Err(reason) => NewPassword::Refused(reason),
            Ok(password) => NewPassword::Hashed(self.hasher.hash_password(&password).await?),
        })
    }

    /// The second entry: on a match the password is set with `proof` — which the database
    /// checks again — every other session of the cabinet ends, and this chat is logged in.
    pub async fn set_password(
        &self,
        actor: Actor,
        cabinet: i64,
        proof: Proof,
        pending: &str,
        input: &str,
    ) -> Result<PasswordSet> {
        if !self.hasher.verify_password(input, pending).await? {
            return Ok(PasswordSet::Mismatch);
        }
        let s = &self.storage;
        let set = match proof {
            Proof::Phone { otp } => {
                s.set_password_after_code(
                    cabinet,
                    actor.chat,
                    otp,
                    PROOF_VALID_FOR,
                    pending,
                    actor.now,
                )
                .await?
            }
            Proof::OldPassword { session } => {
                s.set_password_in_session(cabinet, actor.chat, session, pending, actor.now)
                    .await?
            }
        };
        if !set {
            tracing::info!(
                cabinet,
                "a password prompt whose proof had lapsed set nothing"
            );
            return Ok(PasswordSet::ProofLapsed);
        }
        let ended = s
            .end_cabinet_sessions(
                cabinet,
                Some(actor.chat),
                SessionEnd::PasswordChanged,
                actor.now,
            )
            .await?;
        tracing::info!(cabinet, other_sessions_ended = ended, "password set");
        // The phone (or the old password) was proved: this account's wrong guesses are forgiven.
        s.rate_limit_clear(&Self::user_bucket(actor)).await?;
        Ok(PasswordSet::Set(self.log_in(actor, cabinet).await?))
    }

    /// Starts this chat's session of the cabinet; pushes then follow the chat's language.
    pub async fn log_in(&self, actor: Actor, cabinet: i64) -> Result<LiveSession> {
        self.metrics.login(true);
        let id = self
            .storage
            .start_session(actor.chat, cabinet, actor.now)
            .await?;
        self.storage
            .set_chat_language(actor.chat, actor.lang, actor.now)
            .await?;
        Ok(LiveSession {
            id,
            cabinet_id: cabinet,
            started_at: actor.now,
            last_seen_at: actor.now,
        })
    }
}
