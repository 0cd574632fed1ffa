//! The dialogue: where each chat stands, kept in the database as JSON so a restart (or
//! another replica) carries on. It never holds a password or a code.

use serde::{Deserialize, Serialize};

use crate::domain::OtpPurpose;
use crate::login::Proof;

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
    /// `consented`: the parent agreed to the processing of personal data first; it is
    /// recorded once the phone is proved. `session`: a code for a new main phone belongs to
    /// the session that asked for it.
    EnteringCode {
        cabinet: i64,
        purpose: OtpPurpose,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        consented: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session: Option<i64>,
    },
    /// The phone (or the old password) was proved: the new password, first time.
    NewPassword {
        cabinet: i64,
        purpose: OtpPurpose,
        proof: Proof,
    },
    /// The new password again. `pending` is the Argon2 hash of the first entry, never the
    /// password itself.
    RepeatPassword {
        cabinet: i64,
        purpose: OtpPurpose,
        proof: Proof,
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
        session: i64,
    },
    /// Settings: the password, before a change that could hand the cabinet to someone else
    /// (a main phone, an e-mail, an extra phone).
    ConfirmPassword {
        cabinet: i64,
        session: i64,
        then: Guarded,
    },
    /// Settings: a new e-mail address.
    EnteringEmail {
        session: i64,
    },
    /// Settings: a new main phone (confirmed by a code sent to it).
    EnteringNewPhone {
        session: i64,
    },
    /// Settings: an extra phone.
    EnteringExtraPhone {
        session: i64,
    },
    /// Settings: every chat logged into this cabinet, each of which can be ended.
    Sessions,
    /// The questions waiting for an answer.
    Questions,
    /// A question's card, with its options.
    Question {
        id: i64,
    },
    /// «Are you sure?» before a destructive option is recorded.
    ConfirmAnswer {
        id: i64,
        option: u8,
    },
    /// The comment an option asks for (typed text; optional or required).
    AnswerComment {
        id: i64,
        option: u8,
    },
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
                | State::ConfirmPassword { .. }
        )
    }

    /// The session a step inside the cabinet belongs to: when that session is no longer the
    /// chat's live one, the step is void (a prompt begun before a logout, or before another
    /// chat ended this one, acts on nothing).
    pub fn session(&self) -> Option<i64> {
        match self {
            State::OldPassword { session, .. }
            | State::ConfirmPassword { session, .. }
            | State::EnteringEmail { session }
            | State::EnteringNewPhone { session }
            | State::EnteringExtraPhone { session } => Some(*session),
            State::EnteringCode { session, .. } => *session,
            State::NewPassword { proof, .. } | State::RepeatPassword { proof, .. } => match proof {
                Proof::OldPassword { session } => Some(*session),
                Proof::Phone { .. } => None,
            },
            _ => None,
        }
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
                | State::ConfirmPassword { .. }
                | State::EnteringEmail { .. }
                | State::EnteringNewPhone { .. }
                | State::EnteringExtraPhone { .. }
                | State::Sessions
                | State::Questions
                | State::Question { .. }
                | State::ConfirmAnswer { .. }
                | State::AnswerComment { .. }
        )
    }

    /// The screen «Артқа» leads to when the way here is not remembered (a chat from before
    /// the navigation stack, or one that came in by a push).
    pub fn parent(&self) -> State {
        match self {
            State::Application { page, .. } => State::Applications { page: *page },
            State::Referral { page, .. } => State::Referrals { page: *page },
            State::File { .. } => State::Files,
            State::Attendance { child, .. } => State::File { child: *child },
            State::Sessions => State::Settings,
            State::ConfirmAnswer { id, .. } | State::AnswerComment { id, .. } => {
                State::Question { id: *id }
            }
            _ => State::LoggedIn,
        }
    }

    /// Prompts `/cancel` leaves: the login's, Settings' (back to Settings) and an answer's
    /// comment (back to the question).
    pub fn cancellable(&self) -> bool {
        self.in_login() || self.in_settings_prompt() || matches!(self, State::AnswerComment { .. })
    }

    /// Settings prompts; `/cancel` goes back to Settings.
    pub fn in_settings_prompt(&self) -> bool {
        matches!(
            self,
            State::OldPassword { .. }
                | State::ConfirmPassword { .. }
                | State::EnteringEmail { .. }
                | State::EnteringNewPhone { .. }
                | State::EnteringExtraPhone { .. }
        )
    }

    /// States that belong to a login in progress or done; `/cancel` leaves them.
    /// Prompts that wait for typed text (an IIN, a code, a password, an address, a phone).
    pub fn expects_text(&self) -> bool {
        self.expects_secret()
            || matches!(
                self,
                State::EnteringIin
                    | State::EnteringEmail { .. }
                    | State::EnteringNewPhone { .. }
                    | State::EnteringExtraPhone { .. }
                    | State::AnswerComment { .. }
            )
    }

    pub fn in_login(&self) -> bool {
        self.expects_secret()
            || matches!(
                self,
                State::EnteringIin | State::NoCabinet | State::Consent { .. }
            )
    }
}

/// What the password guards in Settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Guarded {
    MainPhone,
    Email,
    ExtraPhone,
}

impl Guarded {
    /// The prompt the password leads to, in `session`.
    pub fn prompt(self, session: i64) -> State {
        match self {
            Guarded::MainPhone => State::EnteringNewPhone { session },
            Guarded::Email => State::EnteringEmail { session },
            Guarded::ExtraPhone => State::EnteringExtraPhone { session },
        }
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

/// Screens remembered for «Артқа»: deeper than any path through the cabinet.
pub const BACK_DEPTH: usize = 8;

/// The stored dialogue: the state, which message is the current screen (buttons on any
/// other message are stale) and what it shows, and the way back. The state changes only
/// through the transitions below (`go`, `stay`, `go_back`, `reset`), so none skips the way
/// back or the session check that `ChatCtx` runs on the state it finds.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Dialogue {
    state: State,
    #[serde(default)]
    pub screen: Option<i32>,
    /// The fingerprint of what the screen message shows (`Screen::fingerprint`): an edit
    /// to the same would be refused by Telegram, so it is not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown: Option<u64>,
    /// The screens the parent came through, the latest last: «Артқа» returns to it, with
    /// its page; «Мәзір» forgets them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub back: Vec<State>,
}

impl Dialogue {
    /// Where the chat stands.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// On to `next`, remembering where the parent was.
    pub fn go(&mut self, next: State) {
        let here = std::mem::replace(&mut self.state, next);
        if here != self.state {
            self.back.push(here);
            if self.back.len() > BACK_DEPTH {
                self.back.remove(0);
            }
        }
    }

    /// To `next` in place (another page of the same list): the way back stays.
    pub fn stay(&mut self, next: State) {
        self.state = next;
    }

    /// Back to the screen the parent came from.
    pub fn go_back(&mut self) {
        self.state = self.back.pop().unwrap_or_else(|| self.state.parent());
    }

    /// To `state`, forgetting the way (the menu, a new start, a logout).
    pub fn reset(&mut self, state: State) {
        self.state = state;
        self.back.clear();
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a dialogue always serialises")
    }

    /// The stored dialogue; an unreadable one (an older version's) starts over.
    pub fn from_json(json: &str) -> Dialogue {
        serde_json::from_str(json).unwrap_or_default()
    }
}
