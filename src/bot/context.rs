//! Who and where: the chat, its language, its dialogue and its login, read once per update.

use chrono::{DateTime, Utc};
use teloxide::types::{MessageId, User};

use super::state::Dialogue;
use super::{BotError, Deps};
use crate::domain::Language;
use crate::storage::LiveSession;

/// The chat an update belongs to, as stored.
#[derive(Debug, Clone)]
pub struct ChatCtx {
    pub chat_id: i64,
    pub lang: Language,
    pub locality: Option<String>,
    pub dialogue: Dialogue,
    pub session: Option<LiveSession>,
    pub now: DateTime<Utc>,
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
        Ok(ChatCtx {
            chat_id,
            lang: record.language,
            locality: record.locality.clone(),
            dialogue: Dialogue::from_json(&record.dialogue),
            session: record.session(),
            now,
        })
    }

    /// Stores the dialogue as it now stands.
    pub async fn save(&self, deps: &Deps) -> Result<(), BotError> {
        deps.storage
            .save_dialogue(self.chat_id, &self.dialogue.to_json(), self.now)
            .await?;
        Ok(())
    }

    pub fn is_screen(&self, message: MessageId) -> bool {
        self.dialogue.screen == Some(message.0)
    }
}
