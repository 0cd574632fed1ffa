//! Who and where: the chat, its language, its dialogue and its login, read once per update.

use chrono::{DateTime, Utc};
use teloxide::types::{MessageId, User};

use super::state::{Dialogue, State};
use super::{BotError, Deps};
use crate::domain::Language;
use crate::storage::{LiveSession, SessionEnd};

/// The chat an update belongs to, as stored.
#[derive(Debug, Clone)]
pub struct ChatCtx {
    pub chat_id: i64,
    /// The Telegram user writing in the chat (in a private chat, the chat's own id).
    pub user_id: i64,
    pub lang: Language,
    pub locality: Option<String>,
    pub dialogue: Dialogue,
    pub session: Option<LiveSession>,
    pub now: DateTime<Utc>,
    /// Something to tell the parent before anything else (their session ended …).
    pub notice: Option<&'static str>,
    /// The chat was at a prompt for a secret (a code, a password) when the update came, even
    /// if that prompt turned out void: what was typed there still leaves the chat.
    pub arrived_at_secret: bool,
    /// Offer Telegram's «share my phone» button after this update's screen (a code prompt,
    /// when contact verification is allowed).
    pub offer_contact: bool,
    /// The dialogue as stored, so an update that leaves it as it was writes nothing.
    stored_dialogue: String,
}

impl ChatCtx {
    /// Reads the chat, registering it on its first update (its language from Telegram's
    /// `language_code`).
    pub async fn load(deps: &Deps, chat_id: i64, user: Option<&User>) -> Result<ChatCtx, BotError> {
        let now = crate::clock::now();
        let record = match deps.storage.chat(chat_id).await? {
            Some(r) => r,
            None => {
                let lang = Language::from_telegram(
                    user.and_then(|u| u.language_code.as_deref()),
                    deps.config.default_language,
                );
                let user_id = user.map_or(chat_id, |u| u.id.0 as i64);
                deps.storage
                    .ensure_chat(chat_id, user_id, lang, &Dialogue::default().to_json(), now)
                    .await?;
                deps.storage
                    .chat(chat_id)
                    .await?
                    .ok_or(crate::storage::StorageError::NotFound)?
            }
        };
        // The Telegram name, for Settings → active sessions of the cabinet: written only
        // when it changed.
        if let Some(name) = user.map(display_name)
            && record.display_name.as_deref() != Some(name.as_str())
        {
            deps.storage.set_chat_name(chat_id, &name).await?;
        }
        let dialogue = Dialogue::from_json(&record.dialogue);
        let mut ctx = ChatCtx {
            chat_id,
            arrived_at_secret: dialogue.state().expects_secret(),
            user_id: user.map_or(record.user_id, |u| u.id.0 as i64),
            lang: record.language,
            locality: record.locality.clone(),
            dialogue,
            session: record.session(),
            now,
            notice: None,
            offer_contact: false,
            stored_dialogue: record.dialogue,
        };
        ctx.check_session(deps).await?;
        Ok(ctx)
    }

    /// Ends a session idle for longer than `SESSION_IDLE_DAYS`, keeps a live one fresh, and
    /// leaves the cabinet's screens of a chat whose session ended elsewhere (logout, password
    /// change in another chat, the portal deleting the cabinet).
    async fn check_session(&mut self, deps: &Deps) -> Result<(), BotError> {
        let days =
            |d: std::time::Duration| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
        let idle = days(deps.config.login.session_idle);
        let max = days(deps.config.login.session_max);
        if let Some(session) = self.session {
            // The periodic job ends these too; a chat that writes first is not let in.
            let ended = if session.started_at + max < self.now {
                Some(SessionEnd::MaxAge)
            } else if session.last_seen_at + idle < self.now {
                Some(SessionEnd::Idle)
            } else {
                None
            };
            if let Some(reason) = ended {
                deps.storage
                    .end_chat_session(self.chat_id, reason, self.now)
                    .await?;
                self.session = None;
            } else if self.now - session.last_seen_at > chrono::Duration::minutes(1) {
                // One write a minute at most: enough for a 30-day idle limit.
                deps.storage.touch_session(session.id, self.now).await?;
            }
        }
        // A step begun in a session that is no longer this chat's live one is void, and so
        // is every cabinet screen without a session: back to the start, saying why.
        let state = self.dialogue.state();
        let live = self.session.map(|s| s.id);
        let stale_step = state.session().is_some_and(|began| Some(began) != live);
        if stale_step || (live.is_none() && state.in_cabinet()) {
            self.dialogue.reset(if live.is_some() {
                State::LoggedIn
            } else {
                State::LocalityChosen
            });
            self.notice = Some("session-ended");
        }
        Ok(())
    }

    /// This chat as the login policy sees it.
    pub fn actor(&self) -> crate::login::Actor {
        crate::login::Actor {
            chat: self.chat_id,
            user: self.user_id,
            lang: self.lang,
            session: self.session,
            now: self.now,
        }
    }

    /// The cabinet this chat is logged into.
    pub fn cabinet_id(&self) -> Option<i64> {
        self.session.map(|s| s.cabinet_id)
    }

    /// Stores the dialogue as it now stands; nothing is written when it did not change (a
    /// page counter pressed, a toast, a press on a stale button).
    pub async fn save(&mut self, deps: &Deps) -> Result<(), BotError> {
        let dialogue = self.dialogue.to_json();
        if dialogue != self.stored_dialogue {
            deps.storage
                .save_dialogue(self.chat_id, &self.stored_dialogue, &dialogue, self.now)
                .await?;
            self.stored_dialogue = dialogue;
        }
        Ok(())
    }

    pub fn is_screen(&self, message: MessageId) -> bool {
        self.dialogue.screen == Some(message.0)
    }
}

/// «Айгерім Сейітова», as Telegram names the user (at most 64 characters kept).
fn display_name(user: &User) -> String {
    let full = match &user.last_name {
        Some(last) => format!("{} {last}", user.first_name),
        None => user.first_name.clone(),
    };
    full.chars().take(64).collect()
}
