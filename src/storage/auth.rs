//! Passwords, confirmation codes, lockouts and rate limits. Only hashes are stored.
//!
//! Every limit is one atomic statement that *reserves* the attempt before the secret is
//! checked — `UPDATE … SET n = n + 1 WHERE … AND n < max RETURNING …` — so N guesses at
//! once from N chats or N replicas count as N: none of them can read a count that another
//! has not written yet.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Result, Storage, StorageError, in_transaction, in_transaction_if_ok, on_pool};
use crate::domain::OtpPurpose;

/// A password attempt, reserved before the password is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordAttempt {
    /// The cabinet is locked until then (wrong passwords from several chats): nothing is
    /// checked.
    CabinetLocked(DateTime<Utc>),
    /// This chat is locked out of the cabinet until then (its own wrong passwords).
    ChatLocked(DateTime<Utc>),
    /// Check the password against `hash` (`None`: the cabinet has none yet). The attempt is
    /// already counted against this chat — `failures` in a row with it — until it proves
    /// right ([`Storage::record_login_success`]) or wrong ([`Storage::record_wrong_password`]).
    Check { hash: Option<String>, failures: i64 },
}

/// What a wrong password did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrongPassword {
    /// Wrong passwords this chat may still make before it is locked out.
    pub chat_left: i64,
    /// This wrong password locked the chat out of the cabinet until then.
    pub chat_locked_until: Option<DateTime<Utc>>,
    /// The cabinet is locked until then — by this wrong password (`locked_cabinet`), or by
    /// another chat's a moment before.
    pub cabinet_locked_until: Option<DateTime<Utc>>,
    /// This wrong password is the one that locked the cabinet (the wrong ones came from
    /// several chats): the parent is told once.
    pub locked_cabinet: bool,
}

/// How many wrong passwords lock what, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct LockPolicy {
    /// Wrong passwords from one chat before that chat is locked out of the cabinet.
    pub chat_failures: u32,
    /// Wrong passwords in a day, from two chats or more, before the cabinet is locked.
    pub cabinet_failures: u32,
    /// The first lock's length; each repeat doubles it, up to [`MAX_LOCK`].
    pub lockout: Duration,
}

/// The longest a lock lasts, however often it repeats.
pub const MAX_LOCK: chrono::Duration = chrono::Duration::hours(24);

/// How long a lock set after `earlier` locks in a row lasts: doubling, at most [`MAX_LOCK`].
pub fn lock_length(first: Duration, earlier: i64) -> chrono::Duration {
    let factor = 1i32 << earlier.clamp(0, 16);
    (chrono_duration(first) * factor).min(MAX_LOCK)
}

/// A day without a wrong password forgets the earlier ones, and the locks they caused.
fn day_before(now: DateTime<Utc>) -> DateTime<Utc> {
    now - chrono::Duration::hours(24)
}

/// Whether a code may be sent now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeReservation {
    /// Reserved: make and send the code.
    Granted,
    /// The requester's allowance of codes for the day is used up.
    DailyLimit,
    /// A code went to this number less than `OTP_RESEND_SECS` ago; the next may go then.
    WaitUntil(DateTime<Utc>),
}

/// Who asks for a code: the chat, and the Telegram user writing in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requester {
    pub chat: i64,
    pub user: i64,
}

/// How many codes who may ask for, per day.
#[derive(Debug, Clone, Copy)]
pub struct CodeAllowance {
    /// The pause between two codes to one number.
    pub resend_after: Duration,
    /// Codes a day for the chats that have held a session of the cabinet (the parent's own).
    pub own_chats: u32,
    /// Codes a day one chat that never held a session of the cabinet may ask for it.
    pub new_chat: u32,
    /// Codes a day one Telegram user may ask for cabinets it never held a session of, all
    /// cabinets together.
    pub new_user: u32,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OtpRecord {
    pub id: i64,
    pub cabinet_id: i64,
    /// The session that asked for it, for a step inside the cabinet.
    pub session_id: Option<i64>,
    pub purpose: OtpPurpose,
    /// Where the code went (the phone on file, or a new main phone being confirmed).
    pub phone: String,
    pub code_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub attempts: i64,
    pub consumed_at: Option<DateTime<Utc>>,
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

impl Storage {
    /// Turns the notification channels on or off.
    pub async fn set_channels(
        &self,
        cabinet_id: i64,
        telegram: bool,
        sms: bool,
        email: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "UPDATE cabinets SET notify_telegram = $1, notify_sms = $2, notify_email = $3, updated_at = $4 WHERE id = $5")
            .bind(telegram).bind(sms).bind(email).bind(now).bind(cabinet_id)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Sets or removes the e-mail address; removing it turns the e-mail channel off.
    pub async fn set_email(
        &self,
        cabinet_id: i64,
        email: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "UPDATE cabinets SET email = $1, notify_email = CASE WHEN $1 IS NULL THEN FALSE ELSE notify_email END, \
             updated_at = $2 WHERE id = $3")
            .bind(email).bind(now).bind(cabinet_id)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The cabinet's extra phones, in the order they were added.
    pub async fn extra_phones(&self, cabinet_id: i64) -> Result<Vec<String>> {
        Ok(on_pool!(self, pool => sqlx::query_scalar(
            "SELECT phone FROM cabinet_extra_phones WHERE cabinet_id = $1 ORDER BY added_at, phone")
            .bind(cabinet_id).fetch_all(pool).await)?)
    }

    pub async fn add_extra_phone(
        &self,
        cabinet_id: i64,
        phone: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO cabinet_extra_phones (cabinet_id, phone, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(cabinet_id).bind(phone).bind(now).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn remove_extra_phone(&self, cabinet_id: i64, phone: &str) -> Result<bool> {
        let n = on_pool!(self, pool => sqlx::query(
            "DELETE FROM cabinet_extra_phones WHERE cabinet_id = $1 AND phone = $2")
            .bind(cabinet_id).bind(phone).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Gives a cabinet this password outright, lifting every lock: for tools and tests.
    /// The bot sets a password only with a proof ([`Storage::set_password_after_code`],
    /// [`Storage::set_password_in_session`]).
    pub async fn set_password_hash(
        &self,
        cabinet_id: i64,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        in_transaction!(self, tx => {
            sqlx::query("DELETE FROM login_failures WHERE cabinet_id = $1")
                .bind(cabinet_id).execute(&mut *tx).await?;
            sqlx::query(SET_PASSWORD)
                .bind(hash).bind(now).bind(cabinet_id).execute(&mut *tx).await?;
        });
        Ok(())
    }

    /// Sets a new password after a code (or a shared contact, recorded as a used code)
    /// proved the phone: only within `valid_for` of the code's use, only from the chat that
    /// used it, and only for the cabinet whose main phone it proved. The cabinet's locks —
    /// its own and every chat's — are lifted: a stranger's wrong guesses cannot keep out the
    /// parent who proves the phone. False when the proof no longer holds.
    pub async fn set_password_after_code(
        &self,
        cabinet_id: i64,
        chat_id: i64,
        otp_id: i64,
        valid_for: Duration,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let used_after = now - chrono_duration(valid_for);
        let set = in_transaction_if_ok!(self, tx => {
            sqlx::query("DELETE FROM login_failures WHERE cabinet_id = $1")
                .bind(cabinet_id).execute(&mut *tx).await?;
            let n = sqlx::query(&format!(
                "{SET_PASSWORD} AND EXISTS (SELECT 1 FROM otp_codes o WHERE o.id = $4 \
                   AND o.cabinet_id = cabinets.id AND o.chat_id = $5 AND o.phone = cabinets.phone \
                   AND o.purpose IN ('login', 'reset') AND o.consumed_at > $6)"))
                .bind(hash).bind(now).bind(cabinet_id).bind(otp_id).bind(chat_id).bind(used_after)
                .execute(&mut *tx).await?.rows_affected();
            if n == 1 { Ok(()) } else { Err(()) }
        });
        Ok(set.is_ok())
    }

    /// Changes the password from inside the cabinet, after the old one was given: only while
    /// `session` — the session in which it was given — is this chat's and live.
    pub async fn set_password_in_session(
        &self,
        cabinet_id: i64,
        chat_id: i64,
        session_id: i64,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let set = in_transaction_if_ok!(self, tx => {
            sqlx::query("DELETE FROM login_failures WHERE cabinet_id = $1")
                .bind(cabinet_id).execute(&mut *tx).await?;
            let n = sqlx::query(&format!(
                "{SET_PASSWORD} AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = $4 \
                   AND s.cabinet_id = cabinets.id AND s.chat_id = $5 AND s.ended_at IS NULL)"))
                .bind(hash).bind(now).bind(cabinet_id).bind(session_id).bind(chat_id)
                .execute(&mut *tx).await?.rows_affected();
            if n == 1 { Ok(()) } else { Err(()) }
        });
        Ok(set.is_ok())
    }

    /// Makes the number a code proved the cabinet's main phone: only while `session` — the
    /// session that asked for the code — is live in this chat, and only with that code, used.
    /// Every other session of the cabinet ends. Returns the old main phone (to be told), or
    /// `None` when the step no longer holds.
    pub async fn change_main_phone(
        &self,
        cabinet_id: i64,
        chat_id: i64,
        session_id: i64,
        otp_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<String>> {
        let changed = in_transaction_if_ok!(self, tx => {
            let found: Option<(String, String)> = sqlx::query_as(
                "SELECT c.phone, o.phone FROM cabinets c \
                   JOIN otp_codes o ON o.cabinet_id = c.id AND o.id = $2 AND o.chat_id = $3 \
                    AND o.session_id = $4 AND o.purpose = 'phone_change' AND o.consumed_at IS NOT NULL \
                   JOIN sessions s ON s.id = o.session_id AND s.chat_id = $3 AND s.cabinet_id = c.id \
                    AND s.ended_at IS NULL \
                  WHERE c.id = $1")
                .bind(cabinet_id).bind(otp_id).bind(chat_id).bind(session_id)
                .fetch_optional(&mut *tx).await?;
            match found {
                None => Err(()),
                Some((old, new)) => {
                    sqlx::query("UPDATE cabinets SET phone = $1, updated_at = $2 WHERE id = $3")
                        .bind(&new).bind(now).bind(cabinet_id).execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM cabinet_extra_phones WHERE cabinet_id = $1 AND phone = $2")
                        .bind(cabinet_id).bind(&new).execute(&mut *tx).await?;
                    sqlx::query(
                        "UPDATE sessions SET ended_at = $1, end_reason = $2 \
                          WHERE cabinet_id = $3 AND ended_at IS NULL AND chat_id <> $4")
                        .bind(now).bind(super::SessionEnd::PhoneChanged.as_str())
                        .bind(cabinet_id).bind(chat_id).execute(&mut *tx).await?;
                    Ok(old)
                }
            }
        });
        Ok(changed.ok())
    }

    /// Records the parent's consent to the processing of personal data (the first time
    /// only: its time is kept). The bot calls it only once the phone is proved.
    pub async fn record_consent(&self, cabinet_id: i64, now: DateTime<Utc>) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "UPDATE cabinets SET consented_at = COALESCE(consented_at, $1) WHERE id = $2")
            .bind(now).bind(cabinet_id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Whether `chat_id` has ever held a session of the cabinet (and so is one of the
    /// parent's own chats, not a stranger's).
    pub async fn is_own_chat(&self, cabinet_id: i64, chat_id: i64) -> Result<bool> {
        let found: Option<i32> = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT 1 FROM sessions WHERE cabinet_id = $1 AND chat_id = $2 LIMIT 1")
            .bind(cabinet_id).bind(chat_id).fetch_optional(pool).await)?;
        Ok(found.is_some())
    }

    /// Reserves a password attempt of `chat_id` at an unlocked cabinet, counting it against
    /// the chat until it proves right. A chat with `max_failures` in a row (or one locked
    /// out) gets nothing checked. Other chats' attempts are not counted here: a family whose
    /// chats send the right password at once is never locked by the reservations, and a
    /// stranger's guesses use up only the stranger's own chat.
    ///
    /// The chat's count is one conditional upsert, so N attempts at once from one chat count
    /// as N; a day without wrong passwords forgets the chat's earlier ones and its locks.
    pub async fn reserve_password_attempt(
        &self,
        cabinet_id: i64,
        chat_id: i64,
        max_failures: u32,
        now: DateTime<Utc>,
    ) -> Result<PasswordAttempt> {
        let attempt = in_transaction!(self, tx => {
            let cabinet: Option<(Option<String>, Option<DateTime<Utc>>)> = sqlx::query_as(
                "SELECT password_hash, locked_until FROM cabinets WHERE id = $1")
                .bind(cabinet_id).fetch_optional(&mut *tx).await?;
            match cabinet {
                None => return Err(StorageError::NotFound),
                Some((_, Some(until))) if until > now => PasswordAttempt::CabinetLocked(until),
                Some((hash, _)) => {
                    let counted: Option<i64> = sqlx::query_scalar(
                        "INSERT INTO login_failures (cabinet_id, chat_id, failures, last_failure_at) \
                         VALUES ($1, $2, 1, $3) \
                         ON CONFLICT (cabinet_id, chat_id) DO UPDATE SET \
                            failures = CASE WHEN login_failures.last_failure_at <= $4 THEN 1 \
                                            ELSE login_failures.failures + 1 END, \
                            lockouts = CASE WHEN login_failures.last_failure_at <= $4 THEN 0 \
                                            ELSE login_failures.lockouts END \
                          WHERE (login_failures.locked_until IS NULL OR login_failures.locked_until <= $3) \
                            AND (login_failures.failures < $5 OR login_failures.last_failure_at <= $4) \
                         RETURNING failures")
                        .bind(cabinet_id).bind(chat_id).bind(now).bind(day_before(now))
                        .bind(i64::from(max_failures))
                        .fetch_optional(&mut *tx).await?;
                    match counted {
                        Some(failures) => PasswordAttempt::Check { hash, failures },
                        None => {
                            let until: Option<DateTime<Utc>> = sqlx::query_scalar(
                                "SELECT locked_until FROM login_failures WHERE cabinet_id = $1 AND chat_id = $2")
                                .bind(cabinet_id).bind(chat_id).fetch_one(&mut *tx).await?;
                            // Attempts in flight fill the chat's count: it waits as if locked,
                            // until the one in hand is answered.
                            PasswordAttempt::ChatLocked(until.filter(|u| *u > now).unwrap_or(now))
                        }
                    }
                }
            }
        });
        Ok(attempt)
    }

    /// Until when `chat_id` is locked out of the cabinet by its own wrong passwords, if it
    /// is now.
    pub async fn chat_lock(
        &self,
        cabinet_id: i64,
        chat_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        let until: Option<Option<DateTime<Utc>>> = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT locked_until FROM login_failures WHERE cabinet_id = $1 AND chat_id = $2")
            .bind(cabinet_id).bind(chat_id).fetch_optional(pool).await)?;
        Ok(until.flatten().filter(|until| *until > now))
    }

    /// The reserved attempt was right: this chat's count and locks are forgotten, and the
    /// cabinet's earlier locks no longer double the next one (a successful login makes them
    /// decay). Other chats' wrong passwords still count, and a lock they set meanwhile stays.
    pub async fn record_login_success(&self, cabinet_id: i64, chat_id: i64) -> Result<()> {
        in_transaction!(self, tx => {
            sqlx::query("DELETE FROM login_failures WHERE cabinet_id = $1 AND chat_id = $2")
                .bind(cabinet_id).bind(chat_id).execute(&mut *tx).await?;
            sqlx::query("UPDATE cabinets SET lockouts = 0 WHERE id = $1")
                .bind(cabinet_id).execute(&mut *tx).await?;
        });
        Ok(())
    }

    /// The reserved attempt was wrong. The chat's `chat_failures`-th in a row locks the chat
    /// out of the cabinet; the cabinet's `cabinet_failures`-th in a day locks the cabinet —
    /// but only when they came from two chats or more, so one chat never locks the parent
    /// out. Each lock doubles the one before (at most a day); a day without failures forgets
    /// them. One transaction that holds the chat's row and then the cabinet's: N wrong
    /// passwords at once count as N and lock once.
    pub async fn record_wrong_password(
        &self,
        cabinet_id: i64,
        chat_id: i64,
        policy: LockPolicy,
        now: DateTime<Utc>,
    ) -> Result<WrongPassword> {
        let day_before = day_before(now);
        let wrong = in_transaction!(self, tx => {
            let (failures, lockouts): (i64, i64) = sqlx::query_as(
                "UPDATE login_failures SET last_failure_at = $3 \
                  WHERE cabinet_id = $1 AND chat_id = $2 RETURNING failures, lockouts")
                .bind(cabinet_id).bind(chat_id).bind(now).fetch_one(&mut *tx).await?;
            let max = i64::from(policy.chat_failures);
            let chat_locked_until = if failures >= max {
                let until = now + lock_length(policy.lockout, lockouts);
                sqlx::query(
                    "UPDATE login_failures SET failures = 0, lockouts = lockouts + 1, locked_until = $3 \
                      WHERE cabinet_id = $1 AND chat_id = $2")
                    .bind(cabinet_id).bind(chat_id).bind(until).execute(&mut *tx).await?;
                Some(until)
            } else {
                None
            };
            let (count, lockouts, locked_until): (i64, i64, Option<DateTime<Utc>>) = sqlx::query_as(
                "UPDATE cabinets SET \
                    failed_logins = CASE WHEN last_failure_at IS NULL OR last_failure_at <= $3 \
                                         THEN 1 ELSE failed_logins + 1 END, \
                    lockouts = CASE WHEN last_failure_at IS NULL OR last_failure_at <= $3 \
                                    THEN 0 ELSE lockouts END, \
                    last_failure_at = $2 \
                  WHERE id = $1 RETURNING failed_logins, lockouts, locked_until")
                .bind(cabinet_id).bind(now).bind(day_before).fetch_one(&mut *tx).await?;
            let chats: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM login_failures WHERE cabinet_id = $1 AND last_failure_at > $2")
                .bind(cabinet_id).bind(day_before).fetch_one(&mut *tx).await?;
            let in_effect = locked_until.filter(|until| *until > now);
            let locks = in_effect.is_none() && count >= i64::from(policy.cabinet_failures) && chats >= 2;
            let cabinet_locked_until = if locks {
                let until = now + lock_length(policy.lockout, lockouts);
                sqlx::query(
                    "UPDATE cabinets SET failed_logins = 0, lockouts = lockouts + 1, locked_until = $2 \
                      WHERE id = $1")
                    .bind(cabinet_id).bind(until).execute(&mut *tx).await?;
                Some(until)
            } else {
                in_effect
            };
            WrongPassword {
                chat_left: if chat_locked_until.is_some() { 0 } else { (max - failures).max(0) },
                chat_locked_until,
                cabinet_locked_until,
                locked_cabinet: locks,
            }
        });
        Ok(wrong)
    }

    /// Reserves the sending of a code to `destination` for `cabinet_id`, asked by
    /// `requester`, within every allowance at once — or none:
    ///
    /// - one code per `resend_after` to one number, whoever asks;
    /// - the parent's own chats (those that have held a session of the cabinet) share
    ///   `own_chats` a day, which no stranger can touch;
    /// - any other chat gets `new_chat` a day for the cabinet, and its Telegram user
    ///   `new_user` a day across all cabinets — so a stranger pays for their own requests,
    ///   and a parent who never logged in still has the allowance of their own chat.
    ///
    /// One transaction of conditional writes; one refusing rolls the others back.
    pub async fn reserve_code(
        &self,
        cabinet_id: i64,
        requester: Requester,
        destination: &str,
        allowance: CodeAllowance,
        now: DateTime<Utc>,
    ) -> Result<CodeReservation> {
        let day_before = day_before(now);
        let resend_before = now - chrono_duration(allowance.resend_after);
        let reserved = in_transaction_if_ok!(self, tx => 'reserve: {
            let own: Option<i32> = sqlx::query_scalar(
                "SELECT 1 FROM sessions WHERE cabinet_id = $1 AND chat_id = $2 LIMIT 1")
                .bind(cabinet_id).bind(requester.chat).fetch_optional(&mut *tx).await?;
            if own.is_some() {
                let counted: Option<i64> = sqlx::query_scalar(
                    "UPDATE cabinets SET \
                        codes_today = CASE WHEN code_day_start IS NULL OR code_day_start <= $2 \
                                           THEN 1 ELSE codes_today + 1 END, \
                        code_day_start = CASE WHEN code_day_start IS NULL OR code_day_start <= $2 \
                                              THEN $1 ELSE code_day_start END \
                      WHERE id = $3 AND (code_day_start IS NULL OR code_day_start <= $2 OR codes_today < $4) \
                     RETURNING id")
                    .bind(now).bind(day_before).bind(cabinet_id).bind(i64::from(allowance.own_chats))
                    .fetch_optional(&mut *tx).await?;
                if counted.is_none() {
                    break 'reserve Err(CodeReservation::DailyLimit);
                }
            } else {
                for (bucket, limit) in [
                    (format!("codes-user:{}", requester.user), allowance.new_user),
                    (format!("codes-chat:{cabinet_id}:{}", requester.chat), allowance.new_chat),
                ] {
                    let counted: Option<i64> = sqlx::query_scalar(BUCKET_HIT)
                        .bind(bucket).bind(now).bind(day_before).bind(i64::from(limit))
                        .fetch_optional(&mut *tx).await?;
                    if counted.is_none() {
                        break 'reserve Err(CodeReservation::DailyLimit);
                    }
                }
            }
            if !allowance.resend_after.is_zero() {
                let pause = format!("code-pause:{destination}");
                let counted: Option<i64> = sqlx::query_scalar(BUCKET_HIT)
                    .bind(&pause).bind(now).bind(resend_before).bind(1i64)
                    .fetch_optional(&mut *tx).await?;
                if counted.is_none() {
                    let last: DateTime<Utc> = sqlx::query_scalar(
                        "SELECT window_start FROM rate_limits WHERE bucket = $1")
                        .bind(&pause).fetch_one(&mut *tx).await?;
                    break 'reserve Err(CodeReservation::WaitUntil(
                        last + chrono_duration(allowance.resend_after),
                    ));
                }
            }
            Ok(())
        });
        Ok(match reserved {
            Ok(()) => CodeReservation::Granted,
            Err(refused) => refused,
        })
    }

    /// Stores a new code (its seal) for the chat that asked, and returns its id. The chat's
    /// earlier codes of the purpose stop counting; other chats' codes are left alone (a
    /// stranger asking for a code cannot cancel the parent's). A code asked for inside the
    /// cabinet names its `session`: it works only while that session lives.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_otp(
        &self,
        cabinet_id: i64,
        chat_id: i64,
        session_id: Option<i64>,
        purpose: OtpPurpose,
        phone: &str,
        code_seal: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let id = in_transaction!(self, tx => {
            sqlx::query(
                "UPDATE otp_codes SET consumed_at = $1 WHERE cabinet_id = $2 AND chat_id = $3 \
                 AND purpose = $4 AND consumed_at IS NULL")
                .bind(now).bind(cabinet_id).bind(chat_id).bind(purpose).execute(&mut *tx).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO otp_codes (cabinet_id, chat_id, session_id, purpose, phone, code_hash, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
                .bind(cabinet_id).bind(chat_id).bind(session_id).bind(purpose).bind(phone)
                .bind(code_seal).bind(now).bind(now + chrono_duration(ttl))
                .fetch_one(&mut *tx).await?;
            id
        });
        Ok(id)
    }

    /// Records that the chat proved `phone` another way (Telegram's contact button) as a
    /// code already used, so the password prompt after it holds the same proof as after an
    /// SMS code. Its seal is empty: it can never be entered.
    pub async fn record_phone_proof(
        &self,
        cabinet_id: i64,
        chat_id: i64,
        purpose: OtpPurpose,
        phone: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(on_pool!(self, pool => sqlx::query_scalar(
            "INSERT INTO otp_codes (cabinet_id, chat_id, purpose, phone, code_hash, created_at, expires_at, consumed_at) \
             VALUES ($1, $2, $3, $4, '', $5, $5, $5) RETURNING id")
            .bind(cabinet_id).bind(chat_id).bind(purpose).bind(phone).bind(now)
            .fetch_one(pool).await)?)
    }

    /// The chat's newest code of this purpose for the cabinet, used or not.
    pub async fn latest_otp(
        &self,
        cabinet_id: i64,
        chat_id: i64,
        purpose: OtpPurpose,
    ) -> Result<Option<OtpRecord>> {
        Ok(on_pool!(self, pool => sqlx::query_as(&format!(
            "SELECT {OTP_COLUMNS} FROM otp_codes WHERE cabinet_id = $1 AND chat_id = $2 AND purpose = $3 \
             ORDER BY created_at DESC, id DESC LIMIT 1"))
            .bind(cabinet_id).bind(chat_id).bind(purpose).fetch_optional(pool).await)?)
    }

    /// How many codes of this purpose went to this chat for the cabinet since `since`.
    pub async fn codes_sent_to_chat(
        &self,
        cabinet_id: i64,
        chat_id: i64,
        purpose: OtpPurpose,
        since: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(on_pool!(self, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM otp_codes WHERE cabinet_id = $1 AND chat_id = $2 \
             AND purpose = $3 AND created_at >= $4")
            .bind(cabinet_id).bind(chat_id).bind(purpose).bind(since).fetch_one(pool).await)?)
    }

    /// Reserves one attempt at the chat's live code of this purpose: the code is returned
    /// (to be checked) only if it is unused, unexpired, had fewer than `max_attempts`
    /// attempts, and — when a session asked for it — that session still lives; the attempt
    /// is counted in the same statement.
    pub async fn reserve_code_attempt(
        &self,
        cabinet_id: i64,
        chat_id: i64,
        purpose: OtpPurpose,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<OtpRecord>> {
        Ok(on_pool!(self, pool => sqlx::query_as(&format!(
            "UPDATE otp_codes SET attempts = attempts + 1 \
              WHERE id = (SELECT id FROM otp_codes WHERE cabinet_id = $1 AND chat_id = $2 \
                          AND purpose = $3 ORDER BY created_at DESC, id DESC LIMIT 1) \
                AND consumed_at IS NULL AND expires_at > $4 AND attempts < $5 \
                AND (session_id IS NULL OR EXISTS (SELECT 1 FROM sessions s \
                     WHERE s.id = otp_codes.session_id AND s.ended_at IS NULL)) \
             RETURNING {OTP_COLUMNS}"))
            .bind(cabinet_id).bind(chat_id).bind(purpose).bind(now).bind(i64::from(max_attempts))
            .fetch_optional(pool).await)?)
    }

    /// Uses a code up. Returns false if it was used already (a code is good once).
    pub async fn consume_otp(&self, otp_id: i64, now: DateTime<Utc>) -> Result<bool> {
        let n = on_pool!(self, pool => sqlx::query(
            "UPDATE otp_codes SET consumed_at = $1 WHERE id = $2 AND consumed_at IS NULL")
            .bind(now).bind(otp_id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Counts one hit in a fixed window; false when the bucket is already full (the hit is
    /// not counted then). One statement: hits at once each see the others' counts.
    pub async fn rate_limit_hit(
        &self,
        bucket: &str,
        limit: u32,
        window: Duration,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        if limit == 0 {
            return Ok(false);
        }
        let window_before = now - chrono_duration(window);
        let counted: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(BUCKET_HIT)
            .bind(bucket).bind(now).bind(window_before).bind(i64::from(limit))
            .fetch_optional(pool).await)?;
        Ok(counted.is_some())
    }

    /// Empties a bucket.
    pub async fn rate_limit_clear(&self, bucket: &str) -> Result<()> {
        on_pool!(self, pool => sqlx::query("DELETE FROM rate_limits WHERE bucket = $1")
            .bind(bucket).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Gives a hit back (an attempt that turned out right).
    pub async fn rate_limit_refund(&self, bucket: &str) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "UPDATE rate_limits SET hits = hits - 1 WHERE bucket = $1 AND hits > 0")
            .bind(bucket).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// Counts one hit in a fixed window (`$1` bucket, `$2` now, `$3` the window's start before
/// which it is over, `$4` the limit); no row when the bucket is full.
const BUCKET_HIT: &str = "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) \
     ON CONFLICT (bucket) DO UPDATE SET \
        window_start = CASE WHEN rate_limits.window_start <= $3 THEN excluded.window_start \
                            ELSE rate_limits.window_start END, \
        hits = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.hits + 1 END \
      WHERE rate_limits.window_start <= $3 OR rate_limits.hits < $4 \
     RETURNING hits";

/// A new password, lifting the cabinet's lock and forgetting earlier ones (`$1` hash, `$2`
/// now, `$3` cabinet); the callers add the proof to its `WHERE`.
const SET_PASSWORD: &str = "UPDATE cabinets SET password_hash = $1, password_changed_at = $2, \
     failed_logins = 0, locked_until = NULL, lockouts = 0, last_failure_at = NULL, updated_at = $2 \
     WHERE id = $3";

const OTP_COLUMNS: &str = "id, cabinet_id, session_id, purpose, phone, code_hash, created_at, expires_at, attempts, consumed_at";
