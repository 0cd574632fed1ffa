//! Passwords, confirmation codes, lockouts and rate limits. Only hashes are stored.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Result, Storage, in_transaction, on_pool};
use crate::domain::OtpPurpose;

/// The state after a wrong password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginFailure {
    /// Wrong passwords in a row since the last success or lock.
    pub failures: i64,
    /// Set when this failure locked the cabinet.
    pub locked_until: Option<DateTime<Utc>>,
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

    pub async fn set_password_hash(
        &self,
        cabinet_id: i64,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "UPDATE cabinets SET password_hash = $1, password_changed_at = $2, failed_logins = 0, \
             updated_at = $2 WHERE id = $3")
            .bind(hash).bind(now).bind(cabinet_id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Counts a wrong password. The `max_failures`-th in a row locks the cabinet for
    /// `lockout`, doubled for every earlier lock.
    pub async fn record_login_failure(
        &self,
        cabinet_id: i64,
        max_failures: u32,
        lockout: Duration,
        now: DateTime<Utc>,
    ) -> Result<LoginFailure> {
        let out = in_transaction!(self, tx => {
            let (failures, lockouts): (i64, i64) = sqlx::query_as(
                "UPDATE cabinets SET failed_logins = failed_logins + 1 WHERE id = $1 \
                 RETURNING failed_logins, lockouts")
                .bind(cabinet_id).fetch_one(&mut *tx).await?;
            if failures >= i64::from(max_failures) {
                let factor = 1i32 << lockouts.clamp(0, 16);
                let until = now + chrono_duration(lockout) * factor;
                sqlx::query(
                    "UPDATE cabinets SET failed_logins = 0, lockouts = lockouts + 1, locked_until = $1 WHERE id = $2")
                    .bind(until).bind(cabinet_id).execute(&mut *tx).await?;
                LoginFailure { failures, locked_until: Some(until) }
            } else {
                LoginFailure { failures, locked_until: None }
            }
        });
        Ok(out)
    }

    /// A right password: the count of wrong ones starts again. Earlier locks still count
    /// towards the doubling.
    pub async fn record_login_success(&self, cabinet_id: i64) -> Result<()> {
        on_pool!(self, pool => sqlx::query("UPDATE cabinets SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(cabinet_id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Stores a new code (its hash) and returns its id.
    pub async fn create_otp(
        &self,
        cabinet_id: i64,
        purpose: OtpPurpose,
        phone: &str,
        code_hash: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let id = in_transaction!(self, tx => {
            // Only the newest code of a purpose is valid.
            sqlx::query(
                "UPDATE otp_codes SET consumed_at = $1 WHERE cabinet_id = $2 AND purpose = $3 AND consumed_at IS NULL")
                .bind(now).bind(cabinet_id).bind(purpose).execute(&mut *tx).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO otp_codes (cabinet_id, purpose, phone, code_hash, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
                .bind(cabinet_id).bind(purpose).bind(phone).bind(code_hash).bind(now).bind(now + chrono_duration(ttl))
                .fetch_one(&mut *tx).await?;
            id
        });
        Ok(id)
    }

    /// The newest code of this purpose, used or not.
    pub async fn latest_otp(
        &self,
        cabinet_id: i64,
        purpose: OtpPurpose,
    ) -> Result<Option<OtpRecord>> {
        Ok(on_pool!(self, pool => sqlx::query_as(
            "SELECT id, cabinet_id, purpose, phone, code_hash, created_at, expires_at, attempts, consumed_at \
               FROM otp_codes WHERE cabinet_id = $1 AND purpose = $2 ORDER BY created_at DESC, id DESC LIMIT 1")
            .bind(cabinet_id).bind(purpose).fetch_optional(pool).await)?)
    }

    /// Counts a wrong entry of a code; returns the attempts made so far.
    pub async fn record_otp_attempt(&self, otp_id: i64) -> Result<i64> {
        Ok(on_pool!(self, pool => sqlx::query_scalar(
            "UPDATE otp_codes SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts")
            .bind(otp_id).fetch_one(pool).await)?)
    }

    /// Uses a code up. Returns false if it was used already (a code is good once).
    pub async fn consume_otp(&self, otp_id: i64, now: DateTime<Utc>) -> Result<bool> {
        let n = on_pool!(self, pool => sqlx::query(
            "UPDATE otp_codes SET consumed_at = $1 WHERE id = $2 AND consumed_at IS NULL")
            .bind(now).bind(otp_id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Codes sent to the cabinet since `since` (for the daily limit).
    pub async fn otps_sent_since(&self, cabinet_id: i64, since: DateTime<Utc>) -> Result<i64> {
        Ok(on_pool!(self, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM otp_codes WHERE cabinet_id = $1 AND created_at >= $2")
            .bind(cabinet_id).bind(since).fetch_one(pool).await)?)
    }

    /// Counts one hit in a fixed window; false when the bucket is already full (the hit is
    /// not counted then).
    pub async fn rate_limit_hit(
        &self,
        bucket: &str,
        limit: u32,
        window: Duration,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let allowed = in_transaction!(self, tx => {
            let row: Option<(DateTime<Utc>, i64)> = sqlx::query_as(
                "SELECT window_start, hits FROM rate_limits WHERE bucket = $1")
                .bind(bucket).fetch_optional(&mut *tx).await?;
            match row {
                Some((start, hits)) if now < start + chrono_duration(window) => {
                    if hits >= i64::from(limit) {
                        false
                    } else {
                        sqlx::query("UPDATE rate_limits SET hits = hits + 1 WHERE bucket = $1")
                            .bind(bucket).execute(&mut *tx).await?;
                        true
                    }
                }
                _ => {
                    sqlx::query(
                        "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) \
                         ON CONFLICT (bucket) DO UPDATE SET window_start = excluded.window_start, hits = 1")
                        .bind(bucket).bind(now).execute(&mut *tx).await?;
                    limit > 0
                }
            }
        });
        Ok(allowed)
    }
}
