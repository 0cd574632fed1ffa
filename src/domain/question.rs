//! Questions that need a parent's answer by a deadline (SPEC §1.11): a place offered, a
//! kindergarten to choose, a referral's extension, last month's attendance sheet, a visit to
//! confirm a privilege. The portal asks; the parent answers in the chat; the answer goes
//! back to the portal.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::kinds::UnknownName;
use super::{Iin, Language, PortalId};

super::kinds::vocabulary!(
    /// What a question is about; each kind has its title and, for a destructive answer, the
    /// consequence a parent reads before confirming it.
    QuestionKind, "question kind", "question-kind" {
        PlaceOffer = "place_offer",
        ChooseInstitution = "choose_institution",
        ReferralExtension = "referral_extension",
        AttendanceApproval = "attendance_approval",
        PrivilegeVisit = "privilege_visit",
        Other = "other",
    }
);

super::kinds::vocabulary!(
    /// Whether an option asks for a comment.
    CommentRule, "comment rule", "comment-rule" {
        None = "none",
        Optional = "optional",
        Required = "required",
    }
);

/// How many options a question has, at least and at most.
pub const MIN_OPTIONS: usize = 2;
pub const MAX_OPTIONS: usize = 6;
/// The longest comment a parent may add to an answer, in characters.
pub const COMMENT_MAX_CHARS: usize = 500;

/// An option's code: what the portal gets back. Lower-case latin letters, digits, `_` and
/// `-`, 1 to 32 of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OptionCode(String);

impl OptionCode {
    pub const MAX_LEN: usize = 32;

    pub fn parse(s: &str) -> Result<OptionCode, String> {
        let ok = (1..=Self::MAX_LEN).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if ok {
            Ok(OptionCode(s.to_owned()))
        } else {
            Err(format!(
                "must be 1 to {} of a-z, 0-9, _ and -",
                Self::MAX_LEN
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OptionCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        OptionCode::parse(&s)
    }
}

impl From<OptionCode> for String {
    fn from(code: OptionCode) -> String {
        code.0
    }
}

impl std::fmt::Display for OptionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One answer a parent may give.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionOption {
    pub code: OptionCode,
    pub label_kk: String,
    pub label_ru: String,
    /// It gives something up (declining a place): the parent confirms it first.
    #[serde(default)]
    pub destructive: bool,
    #[serde(default = "no_comment")]
    pub comment: CommentRule,
}

fn no_comment() -> CommentRule {
    CommentRule::None
}

impl QuestionOption {
    pub fn label(&self, lang: Language) -> &str {
        match lang {
            Language::Kk => &self.label_kk,
            Language::Ru => &self.label_ru,
        }
    }
}

/// What a question concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuestionTarget {
    /// An application, by its number: put to the cabinet it belongs to.
    Application(PortalId),
    /// A child, by IIN (with the month of an attendance sheet): put to every cabinet that
    /// shows the child; the first answer from any of them wins.
    Child { iin: Iin, month: Option<NaiveDate> },
}

/// The words of a question, in both languages, and what it offers. Stored as JSON with the
/// question: a repeated PUT is compared with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionContent {
    pub kind: QuestionKind,
    pub text_kk: String,
    pub text_ru: String,
    pub deadline: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_unanswered_kk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_unanswered_ru: Option<String>,
    pub options: Vec<QuestionOption>,
}

impl QuestionContent {
    pub fn text(&self, lang: Language) -> &str {
        match lang {
            Language::Kk => &self.text_kk,
            Language::Ru => &self.text_ru,
        }
    }

    /// What happens without an answer, in `lang` (or the other language when only it came).
    pub fn if_unanswered(&self, lang: Language) -> Option<&str> {
        let (own, other) = match lang {
            Language::Kk => (&self.if_unanswered_kk, &self.if_unanswered_ru),
            Language::Ru => (&self.if_unanswered_ru, &self.if_unanswered_kk),
        };
        own.as_deref().or(other.as_deref())
    }

    /// The option with this code.
    pub fn option(&self, code: &OptionCode) -> Option<&QuestionOption> {
        self.options.iter().find(|o| &o.code == code)
    }
}

/// A question as the portal puts it.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionPost {
    pub id: PortalId,
    pub target: QuestionTarget,
    pub content: QuestionContent,
}

/// Where a question stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionState {
    Open,
    Answered,
    Withdrawn,
    /// Its deadline passed with no answer.
    Expired,
}

impl QuestionState {
    /// The state of a question with these marks at `now`: an answer stands for good; a
    /// withdrawal before any answer next; then the deadline.
    pub fn at(
        answered: bool,
        withdrawn: bool,
        deadline: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> QuestionState {
        if answered {
            QuestionState::Answered
        } else if withdrawn {
            QuestionState::Withdrawn
        } else if deadline <= now {
            QuestionState::Expired
        } else {
            QuestionState::Open
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            QuestionState::Open => "open",
            QuestionState::Answered => "answered",
            QuestionState::Withdrawn => "withdrawn",
            QuestionState::Expired => "expired",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_codes_are_what_the_api_says() {
        assert!(OptionCode::parse("confirm").is_ok());
        assert!(OptionCode::parse("decline-2").is_ok());
        for bad in ["", "Confirm", "да", "a b", &"x".repeat(33)] {
            assert!(OptionCode::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_answer_stands_after_the_deadline_and_a_withdrawal() {
        let deadline = Utc::now();
        let before = deadline - chrono::Duration::hours(1);
        let after = deadline + chrono::Duration::hours(1);
        assert_eq!(
            QuestionState::at(false, false, deadline, before),
            QuestionState::Open
        );
        assert_eq!(
            QuestionState::at(false, false, deadline, after),
            QuestionState::Expired
        );
        assert_eq!(
            QuestionState::at(false, true, deadline, before),
            QuestionState::Withdrawn
        );
        assert_eq!(
            QuestionState::at(true, true, deadline, after),
            QuestionState::Answered
        );
    }
}
