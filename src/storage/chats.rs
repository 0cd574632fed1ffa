//! Telegram chats, their dialogue state and their login sessions. All of it lives in the
//! database, so a restart (or another replica) carries on where the chat was.

use chrono::{DateTime, Utc};

use super::direct::{direct_row, params};
use super::{Result, Storage, StorageError, in_transaction, on_pool};
use crate::domain::Language;

/// Why a session ended; stored for support and audits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    Logout,
    PasswordChanged,
    Idle,
    Blocked,
    CabinetDeleted,
    Replaced,
    /// `SESSION_MAX_DAYS` after it began.
    MaxAge,
    /// From another chat's Settings → active sessions.
    EndedElsewhere,
    /// Another chat made a new number the main phone.
    PhoneChanged,
}

impl SessionEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionEnd::Logout => "logout",
            SessionEnd::PasswordChanged => "password_changed",
            SessionEnd::Idle => "idle",
            SessionEnd::Blocked => "blocked",
            SessionEnd::CabinetDeleted => "cabinet_deleted",
            SessionEnd::Replaced => "replaced",
            SessionEnd::MaxAge => "max_age",
            SessionEnd::EndedElsewhere => "ended_elsewhere",
            SessionEnd::PhoneChanged => "phone_changed",
        }
    }
}

/// A chat as the bot sees it at the start of an update: one query.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ChatRecord {
    pub chat_id: i64,
    pub user_id: i64,
    pub language: Language,
    pub locality: Option<String>,
    /// JSON of the bot's dialogue state.
    pub dialogue: String,
    pub blocked_at: Option<DateTime<Utc>>,
    /// The Telegram name of the chat's user, as last seen.
    pub display_name: Option<String>,
    pub session_id: Option<i64>,
    pub cabinet_id: Option<i64>,
    pub session_started_at: Option<DateTime<Utc>>,
    pub session_last_seen_at: Option<DateTime<Utc>>,
}

impl ChatRecord {
    pub fn session(&self) -> Option<LiveSession> {
        Some(LiveSession {
            id: self.session_id?,
            cabinet_id: self.cabinet_id?,
            started_at: self.session_started_at?,
            last_seen_at: self.session_last_seen_at?,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveSession {
    pub id: i64,
    pub cabinet_id: i64,
    pub started_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// A live session as Settings → active sessions lists it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionView {
    pub id: i64,
    pub chat_id: i64,
    pub display_name: Option<String>,
    pub started_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

direct_row!(ChatRecord {
    chat_id,
    user_id,
    language,
    locality,
    dialogue,
    blocked_at,
    display_name,
    session_id,
    cabinet_id,
    session_started_at,
    session_last_seen_at,
});

impl Storage {
    /// The chat with its live session, if any.
    pub async fn chat(&self, chat_id: i64) -> Result<Option<ChatRecord>> {
        const SQL: &str = "SELECT c.chat_id, c.user_id, c.language, c.locality, c.dialogue, \
                c.blocked_at, c.display_name, s.id AS session_id, s.cabinet_id, \
                s.started_at AS session_started_at, s.last_seen_at AS session_last_seen_at \
           FROM chats c LEFT JOIN sessions s ON s.chat_id = c.chat_id AND s.ended_at IS NULL \
          WHERE c.chat_id = $1";
        if let Some(found) = self
            .direct()
            .and_then(|d| d.optional(SQL, params![chat_id]))
        {
            return Ok(found);
        }
        Ok(on_pool!(self, pool => sqlx::query_as(SQL).bind(chat_id).fetch_optional(pool).await)?)
    }

    /// Registers a chat on its first update; an existing chat is left as it is (only a
    /// block mark is cleared: the parent came back).
    pub async fn ensure_chat(
        &self,
        chat_id: i64,
        user_id: i64,
        language: Language,
        dialogue: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO chats (chat_id, user_id, language, dialogue, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) \
             ON CONFLICT (chat_id) DO UPDATE SET blocked_at = NULL \
             WHERE chats.blocked_at IS NOT NULL")
            .bind(chat_id).bind(user_id).bind(language).bind(dialogue).bind(now)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Replaces the dialogue `read` (as this update read it) with `dialogue`, on the
    /// chat-state pool (see `on_pool!`). Compare-and-set: when the stored dialogue is no
    /// longer `read`, another handler of the same chat wrote in between, and this write is
    /// refused with [`StorageError::Conflict`] rather than silently undoing that step.
    pub async fn save_dialogue(
        &self,
        chat_id: i64,
        read: &str,
        dialogue: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        const SQL: &str =
            "UPDATE chats SET dialogue = $1, updated_at = $2 WHERE chat_id = $3 AND dialogue = $4";
        let direct = self
            .direct()
            .and_then(|d| d.write(SQL, params![dialogue, now, chat_id, read]));
        let n = match direct {
            Some(n) => n,
            None => on_pool!(chat_state self, pool => sqlx::query(SQL)
                .bind(dialogue).bind(now).bind(chat_id).bind(read)
                .execute(pool).await.map(|r| r.rows_affected()))?,
        };
        if n == 0 {
            return Err(StorageError::Conflict(
                "the chat's dialogue changed since it was read",
            ));
        }
        Ok(())
    }

    /// Sets the chat's language, and the cabinet's (pushes follow it) when logged in.
    pub async fn set_chat_language(
        &self,
        chat_id: i64,
        language: Language,
        now: DateTime<Utc>,
    ) -> Result<()> {
        in_transaction!(self, tx => {
            sqlx::query("UPDATE chats SET language = $1, updated_at = $2 WHERE chat_id = $3")
                .bind(language).bind(now).bind(chat_id).execute(&mut *tx).await?;
            sqlx::query(
                "UPDATE cabinets SET language = $1, updated_at = $2 WHERE id IN \
                 (SELECT cabinet_id FROM sessions WHERE chat_id = $3 AND ended_at IS NULL)")
                .bind(language).bind(now).bind(chat_id).execute(&mut *tx).await?;
        });
        Ok(())
    }

    pub async fn set_chat_locality(
        &self,
        chat_id: i64,
        locality: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(self, pool => sqlx::query("UPDATE chats SET locality = $1, updated_at = $2 WHERE chat_id = $3")
            .bind(locality).bind(now).bind(chat_id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Logs the chat into a cabinet, ending whatever session the chat had.
    pub async fn start_session(
        &self,
        chat_id: i64,
        cabinet_id: i64,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let id = in_transaction!(self, tx => {
            sqlx::query(
                "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE chat_id = $3 AND ended_at IS NULL")
                .bind(now).bind(SessionEnd::Replaced.as_str()).bind(chat_id).execute(&mut *tx).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO sessions (chat_id, cabinet_id, started_at, last_seen_at) VALUES ($1, $2, $3, $3) RETURNING id")
                .bind(chat_id).bind(cabinet_id).bind(now).fetch_one(&mut *tx).await?;
            id
        });
        Ok(id)
    }

    pub async fn touch_session(&self, session_id: i64, now: DateTime<Utc>) -> Result<()> {
        on_pool!(chat_state self, pool => sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND ended_at IS NULL")
            .bind(now).bind(session_id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Ends the chat's live session; returns whether there was one.
    pub async fn end_chat_session(
        &self,
        chat_id: i64,
        reason: SessionEnd,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let n = on_pool!(self, pool => sqlx::query(
            "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE chat_id = $3 AND ended_at IS NULL")
            .bind(now).bind(reason.as_str()).bind(chat_id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Ends every live session of a cabinet but the one in `except_chat`; returns how many.
    pub async fn end_cabinet_sessions(
        &self,
        cabinet_id: i64,
        except_chat: Option<i64>,
        reason: SessionEnd,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let n = on_pool!(self, pool => sqlx::query(
            "UPDATE sessions SET ended_at = $1, end_reason = $2 \
              WHERE cabinet_id = $3 AND ended_at IS NULL AND chat_id <> $4")
            .bind(now).bind(reason.as_str()).bind(cabinet_id).bind(except_chat.unwrap_or(0))
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(n)
    }

    /// Ends sessions not used since `idle_since` and those begun before `started_before`;
    /// returns how many. The periodic job calls it, so a session ends on time whether or not
    /// its chat writes again (and gets no more pushes).
    pub async fn expire_sessions(
        &self,
        idle_since: DateTime<Utc>,
        started_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let n = on_pool!(self, pool => sqlx::query(
            "UPDATE sessions SET ended_at = $1, \
                end_reason = CASE WHEN started_at < $4 THEN $3 ELSE $2 END \
              WHERE ended_at IS NULL AND (last_seen_at < $5 OR started_at < $4)")
            .bind(now).bind(SessionEnd::Idle.as_str()).bind(SessionEnd::MaxAge.as_str())
            .bind(started_before).bind(idle_since)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(n)
    }

    /// Every live session of a cabinet, the longest-used first.
    pub async fn live_sessions(&self, cabinet_id: i64) -> Result<Vec<SessionView>> {
        Ok(on_pool!(self, pool => sqlx::query_as(
            "SELECT s.id, s.chat_id, c.display_name, s.started_at, s.last_seen_at \
               FROM sessions s JOIN chats c ON c.chat_id = s.chat_id \
              WHERE s.cabinet_id = $1 AND s.ended_at IS NULL ORDER BY s.started_at, s.id")
            .bind(cabinet_id).fetch_all(pool).await)?)
    }

    /// Ends one live session of `cabinet_id` that is not `except_chat`'s; false when there
    /// is no such session (a forged or stale id, another cabinet's, already ended).
    pub async fn end_session(
        &self,
        cabinet_id: i64,
        session_id: i64,
        except_chat: i64,
        reason: SessionEnd,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let n = on_pool!(self, pool => sqlx::query(
            "UPDATE sessions SET ended_at = $1, end_reason = $2 \
              WHERE id = $3 AND cabinet_id = $4 AND chat_id <> $5 AND ended_at IS NULL")
            .bind(now).bind(reason.as_str()).bind(session_id).bind(cabinet_id).bind(except_chat)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// The chat's Telegram name, for the active sessions of its cabinet.
    pub async fn set_chat_name(&self, chat_id: i64, name: &str) -> Result<()> {
        on_pool!(chat_state self, pool => sqlx::query("UPDATE chats SET display_name = $1 WHERE chat_id = $2")
            .bind(name).bind(chat_id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The parent blocked the bot: the chat's session ends and nothing more is sent there.
    pub async fn mark_chat_blocked(&self, chat_id: i64, now: DateTime<Utc>) -> Result<()> {
        in_transaction!(self, tx => {
            sqlx::query("UPDATE chats SET blocked_at = $1, updated_at = $1 WHERE chat_id = $2")
                .bind(now).bind(chat_id).execute(&mut *tx).await?;
            sqlx::query(
                "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE chat_id = $3 AND ended_at IS NULL")
                .bind(now).bind(SessionEnd::Blocked.as_str()).bind(chat_id).execute(&mut *tx).await?;
        });
        Ok(())
    }

    /// Chats logged into the cabinet now.
    pub async fn live_chats(&self, cabinet_id: i64) -> Result<Vec<i64>> {
        Ok(on_pool!(self, pool => sqlx::query_scalar(
            "SELECT chat_id FROM sessions WHERE cabinet_id = $1 AND ended_at IS NULL ORDER BY chat_id")
            .bind(cabinet_id).fetch_all(pool).await)?)
    }
}
