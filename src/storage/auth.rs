//! Passwords, confirmation codes, lockouts and rate limits. Only hashes are stored.
//!
//! Every limit is one atomic statement that *reserves* the attempt before the secret is
//! checked — `UPDATE … SET n = n + 1 WHERE … AND n < max RETURNING …` — so N guesses at
//! once from N chats or N replicas count as N: none of them can read a count that another
//! has not written yet.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Result, Storage, StorageError, in_transaction, on_pool};
use crate::domain::OtpPurpose;

/// A password attempt, reserved before the password is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordAttempt {
    /// The cabinet is locked until then: nothing is checked.
    Locked(DateTime<Utc>),
    /// Check the password against `hash` (`None`: the cabinet has none yet). The attempt is
    /// already counted as a wrong one — `failures` in a row with it — and if it was the
    /// last one allowed, the cabinet is locked from now until `locks_until`; a right
    /// password clears both ([`Storage::record_login_success`]).
    Check {
        hash: Option<String>,
        failures: i64,
        locks_until: Option<DateTime<Utc>>,
    },
}

/// Whether a code may be sent now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeReservation {
    /// Reserved: make and send the code.
    Granted,
    /// `OTP_DAILY_LIMIT` codes went out in the last day.
    DailyLimit,
    /// The last code went out less than `OTP_RESEND_SECS` ago; the next may go then.
    WaitUntil(DateTime<Utc>),
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OtpRecord {
    pub id: i64,
    pub cabinet_id: i64,
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

    /// Makes a confirmed number the main phone (it leaves the extra phones if it was one).
    pub async fn set_main_phone(
        &self,
        cabinet_id: i64,
        phone: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        in_transaction!(self, tx => {
            sqlx::query("UPDATE cabinets SET phone = $1, updated_at = $2 WHERE id = $3")
                .bind(phone).bind(now).bind(cabinet_id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM cabinet_extra_phones WHERE cabinet_id = $1 AND phone = $2")
                .bind(cabinet_id).bind(phone).execute(&mut *tx).await?;
        });
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

    /// Sets a new password. It comes after the phone was proved (a code by SMS, or the
    /// old password), so it also lifts any lock and forgets earlier ones: a stranger's wrong
    /// guesses cannot keep the parent out once the parent has reset the password.
    pub async fn set_password_hash(
        &self,
        cabinet_id: i64,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "UPDATE cabinets SET password_hash = $1, password_changed_at = $2, failed_logins = 0, \
             locked_until = NULL, lockouts = 0, updated_at = $2 WHERE id = $3")
            .bind(hash).bind(now).bind(cabinet_id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Records the parent's consent to the processing of personal data (the first time
    /// only: its time is kept).
    pub async fn record_consent(&self, cabinet_id: i64, now: DateTime<Utc>) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "UPDATE cabinets SET consented_at = COALESCE(consented_at, $1) WHERE id = $2")
            .bind(now).bind(cabinet_id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Reserves a password attempt on an unlocked cabinet, counting it as wrong until the
    /// password proves right. The `max_failures`-th in a row locks the cabinet for
    /// `lockout`, doubled for every earlier lock since the last successful login.
    ///
    /// One transaction: its first statement counts the attempt only if the cabinet is not
    /// locked and holds the row (PostgreSQL) or the database's write lock (SQLite) until
    /// the lock, if due, is written — N attempts at once count as N and lock once.
    pub async fn reserve_password_attempt(
        &self,
        cabinet_id: i64,
        max_failures: u32,
        lockout: Duration,
        now: DateTime<Utc>,
    ) -> Result<PasswordAttempt> {
        let attempt = in_transaction!(self, tx => {
            let counted: Option<(Option<String>, i64, i64)> = sqlx::query_as(
                "UPDATE cabinets SET failed_logins = failed_logins + 1 \
                  WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2) \
                 RETURNING password_hash, failed_logins, lockouts")
                .bind(cabinet_id).bind(now).fetch_optional(&mut *tx).await?;
            match counted {
                None => {
                    let until: Option<Option<DateTime<Utc>>> = sqlx::query_scalar(
                        "SELECT locked_until FROM cabinets WHERE id = $1")
                        .bind(cabinet_id).fetch_optional(&mut *tx).await?;
                    match until {
                        Some(Some(until)) => PasswordAttempt::Locked(until),
                        _ => return Err(StorageError::NotFound),
                    }
                }
                Some((hash, failures, lockouts)) => {
                    let locks_until = if failures >= i64::from(max_failures) {
                        let factor = 1i32 << lockouts.clamp(0, 16);
                        let until = now + chrono_duration(lockout) * factor;
                        sqlx::query(
                            "UPDATE cabinets SET failed_logins = 0, lockouts = lockouts + 1, \
                             locked_until = $1 WHERE id = $2")
                            .bind(until).bind(cabinet_id).execute(&mut *tx).await?;
                        Some(until)
                    } else {
                        None
                    };
                    PasswordAttempt::Check { hash, failures, locks_until }
                }
            }
        });
        Ok(attempt)
    }

    /// A right password: the attempt reserved for it was not a wrong one after all. The
    /// count starts again, a lock that attempt set is lifted, and earlier locks no longer
    /// double the next one.
    pub async fn record_login_success(&self, cabinet_id: i64) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "UPDATE cabinets SET failed_logins = 0, locked_until = NULL, lockouts = 0 WHERE id = $1")
            .bind(cabinet_id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Reserves the sending of a code to a cabinet: at most one per `resend_after` and
    /// `daily_limit` a day, whatever chat asks. One statement on the cabinet's row.
    pub async fn reserve_code(
        &self,
        cabinet_id: i64,
        resend_after: Duration,
        daily_limit: u32,
        now: DateTime<Utc>,
    ) -> Result<CodeReservation> {
        let day_before = now - chrono::Duration::hours(24);
        let resend_before = now - chrono_duration(resend_after);
        let reserved: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(
            "UPDATE cabinets SET \
                codes_today = CASE WHEN code_day_start IS NULL OR code_day_start <= $2 \
                                   THEN 1 ELSE codes_today + 1 END, \
                code_day_start = CASE WHEN code_day_start IS NULL OR code_day_start <= $2 \
                                      THEN $1 ELSE code_day_start END, \
                last_code_at = $1 \
              WHERE id = $3 \
                AND (last_code_at IS NULL OR last_code_at <= $4) \
                AND (code_day_start IS NULL OR code_day_start <= $2 OR codes_today < $5) \
             RETURNING id")
            .bind(now).bind(day_before).bind(cabinet_id).bind(resend_before).bind(i64::from(daily_limit))
            .fetch_optional(pool).await)?;
        if reserved.is_some() {
            return Ok(CodeReservation::Granted);
        }
        let (last, day_start, today): (Option<DateTime<Utc>>, Option<DateTime<Utc>>, i64) = on_pool!(self, pool => sqlx::query_as(
                "SELECT last_code_at, code_day_start, codes_today FROM cabinets WHERE id = $1")
                .bind(cabinet_id).fetch_one(pool).await)?;
        let within_day = day_start.is_some_and(|start| start > day_before);
        if within_day && today >= i64::from(daily_limit) {
            return Ok(CodeReservation::DailyLimit);
        }
        Ok(CodeReservation::WaitUntil(
            last.map_or(now, |last| last + chrono_duration(resend_after)),
        ))
    }

    /// Stores a new code (its seal) for the chat that asked, and returns its id. The chat's
    /// earlier codes of the purpose stop counting; other chats' codes are left alone (a
    /// stranger asking for a code cannot cancel the parent's).
    #[allow(clippy::too_many_arguments)]
    pub async fn create_otp(
        &self,
        cabinet_id: i64,
        chat_id: i64,
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
                "INSERT INTO otp_codes (cabinet_id, chat_id, purpose, phone, code_hash, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
                .bind(cabinet_id).bind(chat_id).bind(purpose).bind(phone).bind(code_seal).bind(now)
                .bind(now + chrono_duration(ttl))
                .fetch_one(&mut *tx).await?;
            id
        });
        Ok(id)
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
    /// (to be checked) only if it is unused, unexpired, and had fewer than `max_attempts`
    /// attempts; the attempt is counted in the same statement.
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
        let counted: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(
            "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) \
             ON CONFLICT (bucket) DO UPDATE SET \
                window_start = CASE WHEN rate_limits.window_start <= $3 THEN excluded.window_start \
                                    ELSE rate_limits.window_start END, \
                hits = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.hits + 1 END \
              WHERE rate_limits.window_start <= $3 OR rate_limits.hits < $4 \
             RETURNING hits")
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

const OTP_COLUMNS: &str =
    "id, cabinet_id, purpose, phone, code_hash, created_at, expires_at, attempts, consumed_at";
