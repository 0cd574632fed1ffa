//! The dialogue: where each chat stands, kept in the database as JSON so a restart (or
//! another replica) carries on. It never holds a password or a code.

use serde::{Deserialize, Serialize};

/// What the chat's current screen is.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "s", rename_all = "snake_case")]
pub enum State {
    /// Never started.
    #[default]
    New,
    /// The greeting with the language choice. `then` is where the choice leads.
    ChoosingLanguage { then: AfterLanguage },
    /// The list of localities, at a page.
    ChoosingLocality { page: u32 },
    /// A locality is chosen: its name and the «Жеке кабинет» button.
    LocalityChosen,
    /// The IIN prompt.
    EnteringIin,
}

/// Where the language choice leads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "to", rename_all = "snake_case")]
pub enum AfterLanguage {
    /// On to the localities (a deep link may have chosen one already).
    Locality { preselected: Option<String> },
    /// Back to the screen the parent left with /language.
    Return { state: Box<State> },
}

/// The stored dialogue: the state, and which message is the current screen (buttons on any
/// other message are stale).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Dialogue {
    pub state: State,
    #[serde(default)]
    pub screen: Option<i32>,
}

impl Dialogue {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a dialogue always serialises")
    }

    /// The stored dialogue; an unreadable one (an older version's) starts over.
    pub fn from_json(json: &str) -> Dialogue {
        serde_json::from_str(json).unwrap_or_default()
    }
}
