//! Domain types. Each is parsed once at the edge (Telegram text, HTTP JSON, the environment);
//! holding one means it is valid.

mod email;
mod ids;
mod iin;
pub(crate) mod kinds;
mod language;
mod password;
mod phone;
mod portal_text;
mod question;

pub use email::{Email, EmailError};
pub use ids::{IdError, LocalityCode, PortalId};
pub use iin::{Iin, IinError, Sex, control_digit};
pub use kinds::{
    ApplicationKind, ApplicationStatus, AttendanceStatus, Channel, EventKind, InstitutionKind,
    OtpPurpose, Privilege, ReferralStatus, UnknownName,
};
pub use language::{Language, LanguageError};
pub use password::{
    MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, Password, PasswordError, common_password_count,
};
pub use phone::{Phone, PhoneError};
pub use portal_text::PortalText;
pub use question::{
    COMMENT_MAX_CHARS, CommentRule, MAX_OPTIONS, MIN_OPTIONS, OptionCode, QuestionContent,
    QuestionKind, QuestionOption, QuestionPost, QuestionState, QuestionTarget,
};
