//! The dialogue: where each chat stands, kept in the database as JSON so a restart (or
//! another replica) carries on. It never holds a password or a code.

use serde::{Deserialize, Serialize};

use crate::domain::OtpPurpose;

/// What the chat's current screen is.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "s", rename_all = "snake_case")]
pub enum State {
    /// Never started.
    #[default]
    New,
    /// The greeting with the language choice. `then` is where the choice leads.
    ChoosingLanguage {
        then: AfterLanguage,
    },
    /// The list of localities, at a page.
    ChoosingLocality {
        page: u32,
    },
    /// A locality is chosen: its name and the «Жеке кабинет» button.
    LocalityChosen,
    /// The IIN prompt.
    EnteringIin,
    /// No cabinet for that IIN in the locality (the memo's explanation).
    NoCabinet,
    /// A first login asks consent to the processing of personal data (`PRIVACY_POLICY_URL`)
    /// before a code is sent.
    Consent {
        cabinet: i64,
    },
    /// A code was sent by SMS; waiting for it (or the phone shared as a contact).
    EnteringCode {
        cabinet: i64,
        purpose: OtpPurpose,
    },
    /// The code was right: the new password, first time.
    NewPassword {
        cabinet: i64,
        purpose: OtpPurpose,
    },
    /// The new password again. `pending` is the Argon2 hash of the first entry, never the
    /// password itself.
    RepeatPassword {
        cabinet: i64,
        purpose: OtpPurpose,
        pending: String,
    },
    /// A returning parent's password.
    EnteringPassword {
        cabinet: i64,
    },
    /// In the cabinet: the main menu.
    LoggedIn,
    Feed {
        page: u32,
    },
    Applications {
        page: u32,
    },
    Application {
        id: i64,
        page: u32,
    },
    Referrals {
        page: u32,
    },
    Referral {
        id: i64,
        page: u32,
    },
    Files,
    /// A child's personal file; `child` is the child's place in the cabinet's list.
    File {
        child: u32,
    },
    Attendance {
        child: u32,
        year: i32,
        month: u32,
    },
    Settings,
    /// Settings: the current password, before a new one.
    OldPassword {
        cabinet: i64,
    },
    /// Settings: a new e-mail address.
    EnteringEmail,
    /// Settings: a new main phone (confirmed by a code sent to it).
    EnteringNewPhone,
    /// Settings: an extra phone.
    EnteringExtraPhone,
    /// Settings: every chat logged into this cabinet, each of which can be ended.
    Sessions,
}

impl State {
    /// States whose text input is a secret: the message is deleted as soon as it is read.
    pub fn expects_secret(&self) -> bool {
        matches!(
            self,
            State::EnteringCode { .. }
                | State::NewPassword { .. }
                | State::RepeatPassword { .. }
                | State::EnteringPassword { .. }
                | State::OldPassword { .. }
        )
    }

    /// Screens that show the cabinet: they need a live session.
    pub fn in_cabinet(&self) -> bool {
        matches!(
            self,
            State::LoggedIn
                | State::Feed { .. }
                | State::Applications { .. }
                | State::Application { .. }
                | State::Referrals { .. }
                | State::Referral { .. }
                | State::Files
                | State::File { .. }
                | State::Attendance { .. }
                | State::Settings
                | State::OldPassword { .. }
                | State::EnteringEmail
                | State::EnteringNewPhone
                | State::EnteringExtraPhone
                | State::Sessions
        )
    }

    /// The screen «Артқа» leads to.
    pub fn back(&self) -> State {
        match self {
            State::Application { page, .. } => State::Applications { page: *page },
            State::Referral { page, .. } => State::Referrals { page: *page },
            State::File { .. } => State::Files,
            State::Attendance { child, .. } => State::File { child: *child },
            State::Sessions => State::Settings,
            _ => State::LoggedIn,
        }
    }

    /// Settings prompts; `/cancel` goes back to Settings.
    pub fn in_settings_prompt(&self) -> bool {
        matches!(
            self,
            State::OldPassword { .. }
                | State::EnteringEmail
                | State::EnteringNewPhone
                | State::EnteringExtraPhone
        )
    }

    /// States that belong to a login in progress or done; `/cancel` leaves them.
    pub fn in_login(&self) -> bool {
        self.expects_secret()
            || matches!(
                self,
                State::EnteringIin | State::NoCabinet | State::Consent { .. }
            )
    }
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
