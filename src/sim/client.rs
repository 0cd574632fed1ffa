//! Driving the simulator as a person does: send text, commands, stickers, contacts; press
//! buttons by their label; wait for what the bot says; read the chat.

use std::time::Duration;

use serde_json::{Value, json};

use super::Simulator;
use super::state::{ChangeKind, State, StoredMessage};

/// An inline button as the user sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub text: String,
    /// `callback_data`, or `None` for URL and copy buttons.
    pub data: Option<String>,
    /// What a copy button puts on the clipboard (`copy_text`).
    pub copies: Option<String>,
}

/// A bot message as it stands now (after its edits).
#[derive(Debug, Clone, PartialEq)]
pub struct MessageView {
    pub message_id: i64,
    pub from_bot: bool,
    /// The visible text (HTML already parsed).
    pub text: String,
    /// Inline keyboard rows.
    pub buttons: Vec<Vec<Button>>,
    /// Labels of a reply keyboard, if the message set one (e.g. «share my phone»).
    pub reply_keyboard: Vec<String>,
    pub deleted: bool,
    pub edits: u32,
    /// Sent with `disable_notification`.
    pub silent: bool,
}

impl MessageView {
    fn from_stored(m: &StoredMessage) -> Self {
        let rows = |key: &str| -> Vec<Vec<Value>> {
            m.reply_markup
                .as_ref()
                .and_then(|k| k.get(key))
                .and_then(Value::as_array)
                .map(|rows| rows.iter().filter_map(|r| r.as_array().cloned()).collect())
                .unwrap_or_default()
        };
        let buttons = rows("inline_keyboard")
            .into_iter()
            .map(|row| {
                row.iter()
                    .map(|b| Button {
                        text: b
                            .get("text")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        data: b
                            .get("callback_data")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                        copies: b
                            .get("copy_text")
                            .and_then(|c| c.get("text"))
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                    })
                    .collect()
            })
            .collect();
        let reply_keyboard = rows("keyboard")
            .into_iter()
            .flatten()
            .map(|b| match b {
                Value::String(s) => s,
                other => other
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            })
            .collect();
        MessageView {
            message_id: m.id,
            from_bot: m.from_bot,
            text: m.text.clone(),
            buttons,
            reply_keyboard,
            deleted: m.deleted,
            edits: m.edits,
            silent: m.silent,
        }
    }

    /// Every button label, row by row, left to right.
    pub fn labels(&self) -> Vec<&str> {
        self.buttons
            .iter()
            .flatten()
            .map(|b| b.text.as_str())
            .collect()
    }

    pub fn button(&self, label: &str) -> Option<&Button> {
        self.buttons.iter().flatten().find(|b| b.text == label)
    }
}

/// One chat of the simulator, seen from the user's side.
#[derive(Clone)]
pub struct ChatHandle {
    sim: Simulator,
    chat_id: i64,
    /// How many of the chat's bot-side changes the user has looked at.
    cursor: usize,
}

/// How long [`ChatHandle::next`] waits for the bot before giving up.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

impl ChatHandle {
    pub(super) fn new(sim: Simulator, chat_id: i64) -> Self {
        ChatHandle {
            sim,
            chat_id,
            cursor: 0,
        }
    }

    pub fn chat_id(&self) -> i64 {
        self.chat_id
    }

    fn user_message(&self, fill: impl FnOnce(&mut Value)) -> i64 {
        let id = self.sim.shared().lock().user_message(self.chat_id, fill);
        self.sim.updates_arrived();
        id
    }

    /// Sends text (a command is text starting with `/`). Returns the message id.
    pub fn send_text(&self, text: &str) -> i64 {
        let entities = if text.starts_with('/') {
            let len = text
                .split_whitespace()
                .next()
                .map_or(0, |c| c.encode_utf16().count());
            json!([{"type": "bot_command", "offset": 0, "length": len}])
        } else {
            json!([])
        };
        self.user_message(|m| {
            m["text"] = json!(text);
            if entities.as_array().is_some_and(|e| !e.is_empty()) {
                m["entities"] = entities;
            }
        })
    }

    pub fn send_sticker(&self) -> i64 {
        self.user_message(|m| {
            m["sticker"] = json!({"file_id": "CAACAgIAAxkBAAE", "file_unique_id": "AgADsticker", "type": "regular",
                                  "width": 512, "height": 512, "is_animated": false, "is_video": false, "emoji": "👍"});
        })
    }

    pub fn send_photo(&self) -> i64 {
        self.user_message(|m| {
            m["photo"] = json!([{"file_id": "AgACAgIAAxkBAAE", "file_unique_id": "AQADphoto", "width": 90, "height": 90}]);
        })
    }

    pub fn send_voice(&self) -> i64 {
        self.user_message(|m| {
            m["voice"] =
                json!({"file_id": "AwACAgIAAxkBAAE", "file_unique_id": "AgADvoice", "duration": 3});
        })
    }

    /// Shares a contact; `user_id` is whose contact it is (the sender's own, or someone's).
    pub fn send_contact(&self, phone: &str, user_id: Option<i64>) -> i64 {
        self.user_message(|m| {
            let mut contact = json!({"phone_number": phone, "first_name": "Contact"});
            if let Some(id) = user_id {
                contact["user_id"] = json!(id);
            }
            m["contact"] = contact;
        })
    }

    /// Forwards a text message from someone else into the chat.
    pub fn send_forwarded(&self, text: &str) -> i64 {
        self.user_message(|m| {
            m["text"] = json!(text);
            m["forward_origin"] = json!({"type": "hidden_user", "sender_user_name": "Someone", "date": 1_700_000_000});
        })
    }

    /// Presses the button labelled `label` on the newest bot message that has one.
    pub fn press(&self, label: &str) -> Result<String, String> {
        let (message_id, data) = {
            let state = self.sim.shared().lock();
            let chat = state.chats.get(&self.chat_id).ok_or("no such chat")?;
            chat.messages
                .values()
                .rev()
                .filter(|m| m.from_bot && !m.deleted)
                .find_map(|m| {
                    let view = MessageView::from_stored(m);
                    view.button(label)
                        .and_then(|b| b.data.clone())
                        .map(|d| (m.id, d))
                })
                .ok_or_else(|| {
                    let labels: Vec<String> = chat
                        .messages
                        .values()
                        .rev()
                        .find(|m| m.from_bot && !m.deleted)
                        .map(|m| {
                            MessageView::from_stored(m)
                                .labels()
                                .into_iter()
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default();
                    format!("no button {label:?}; the screen has {labels:?}")
                })?
        };
        self.press_data(message_id, &data)
    }

    /// Presses a button with arbitrary data on a message: how a forged or replayed button
    /// arrives.
    pub fn press_data(&self, message_id: i64, data: &str) -> Result<String, String> {
        let id = self
            .sim
            .shared()
            .lock()
            .press(self.chat_id, message_id, data)?;
        self.sim.updates_arrived();
        Ok(id)
    }

    /// The user blocks the bot.
    pub fn block_bot(&self) {
        self.sim.shared().lock().block(self.chat_id);
        self.sim.updates_arrived();
    }

    /// Waits for the bot's next change in this chat (a message sent or edited) and returns
    /// the message as it stands. Deletions are skipped (see [`ChatHandle::transcript`]).
    pub async fn next(&mut self) -> Result<MessageView, String> {
        self.next_within(REPLY_TIMEOUT).await
    }

    pub async fn next_within(&mut self, timeout: Duration) -> Result<MessageView, String> {
        let deadline = tokio::time::Instant::now() + timeout;
        let changed = {
            let state = self.sim.shared().lock();
            let chat = state.chats.get(&self.chat_id).ok_or("no such chat")?;
            chat.changed.clone()
        };
        loop {
            // Registered before looking, so a change between the look and the wait is not
            // missed.
            let notified = changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let state = self.sim.shared().lock();
                let chat = state.chats.get(&self.chat_id).ok_or("no such chat")?;
                while let Some(change) = chat.changes.get(self.cursor) {
                    self.cursor += 1;
                    if change.kind != ChangeKind::Deleted {
                        let m = &chat.messages[&change.message_id];
                        return Ok(MessageView::from_stored(m));
                    }
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(format!(
                    "the bot said nothing in chat {} within {timeout:?}",
                    self.chat_id
                ));
            }
        }
    }

    /// Waits until the bot has been quiet for `quiet`, then returns the changes seen.
    pub async fn settle(&mut self, quiet: Duration) -> Vec<MessageView> {
        let mut seen = Vec::new();
        while let Ok(m) = self.next_within(quiet).await {
            seen.push(m);
        }
        seen
    }

    /// The newest bot message still in the chat.
    pub fn screen(&self) -> Option<MessageView> {
        let state = self.sim.shared().lock();
        let chat = state.chats.get(&self.chat_id)?;
        chat.messages
            .values()
            .rev()
            .find(|m| m.from_bot && !m.deleted)
            .map(MessageView::from_stored)
    }

    /// Every message of the chat, oldest first, as it stands now (deleted ones marked).
    pub fn transcript(&self) -> Vec<MessageView> {
        let state = self.sim.shared().lock();
        state
            .chats
            .get(&self.chat_id)
            .map(|c| c.messages.values().map(MessageView::from_stored).collect())
            .unwrap_or_default()
    }

    /// The answer given to a callback query: `None` if unanswered, `Some(text)` if answered.
    pub fn callback_answer(&self, callback_id: &str) -> Option<Option<String>> {
        self.sim
            .shared()
            .lock()
            .callbacks
            .get(callback_id)
            .and_then(|c| c.answered.clone())
    }

    /// Waits (up to [`REPLY_TIMEOUT`]) until the bot answers a callback query, and returns the
    /// answer's text; `None` if it never did.
    pub async fn answer_of(&self, callback_id: &str) -> Option<Option<String>> {
        let deadline = tokio::time::Instant::now() + REPLY_TIMEOUT;
        loop {
            if let Some(answer) = self.callback_answer(callback_id) {
                return Some(answer);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Marks everything so far as seen.
    pub fn skip_to_end(&mut self) {
        let state = self.sim.shared().lock();
        self.cursor = state
            .chats
            .get(&self.chat_id)
            .map_or(0, |c| c.changes.len());
    }

    #[doc(hidden)]
    pub fn message_json(&self, message_id: i64) -> Option<Value> {
        let state = self.sim.shared().lock();
        let chat = state.chats.get(&self.chat_id)?;
        chat.messages
            .get(&message_id)
            .map(|m| State::message_json(chat, m))
    }
}
