//! The closed vocabularies of SPEC §3: statuses and kinds. Each is stored and sent as its
//! snake_case name, and shown to parents through the localisation id `<prefix>-<name>`.

use serde::{Deserialize, Serialize};

/// An unknown name for one of the vocabularies, with what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a known {what}; accepted: {accepted}")]
pub struct UnknownName {
    pub what: &'static str,
    pub value: String,
    pub accepted: String,
}

/// Stores a type as its text name in any sqlx database whose driver stores `str`.
macro_rules! stored_as_text {
    ($name:ty) => {
        impl<DB: sqlx::Database> sqlx::Type<DB> for $name
        where
            str: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $name
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(
                value: <DB as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <&'r str as sqlx::Decode<'r, DB>>::decode(value)?;
                Ok(text.parse::<$name>()?)
            }
        }

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $name
        where
            &'q str: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                let text: &'q str = self.as_str();
                <&'q str as sqlx::Encode<'q, DB>>::encode_by_ref(&text, buf)
            }
        }

        impl $crate::storage::Column for $name {
            fn column(
                value: rusqlite::types::ValueRef<'_>,
            ) -> Result<Self, $crate::storage::DecodeError> {
                Ok(value.as_str()?.parse::<$name>()?)
            }
        }
    };
}
pub(crate) use stored_as_text;

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $what:literal, $prefix:literal { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name stored in the database and used in the API.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The localisation id of the label parents see.
            pub fn message_id(self) -> &'static str {
                match self { $($name::$variant => concat!($prefix, "-", $text)),+ }
            }

            pub fn parse(s: &str) -> Result<Self, UnknownName> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(UnknownName {
                        what: $what,
                        value: other.to_owned(),
                        accepted: [$($text),+].join(", "),
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> { $name::parse(s) }
        }

        $crate::domain::kinds::stored_as_text!($name);
    };
}
pub(crate) use vocabulary;

vocabulary!(
    /// Where an application stands (SPEC §3).
    ApplicationStatus, "application status", "application-status" {
        Submitted = "submitted",
        InReview = "in_review",
        Queued = "queued",
        WaitingList = "waiting_list",
        ReferralIssued = "referral_issued",
        Inactive = "inactive",
        Enrolled = "enrolled",
        Rejected = "rejected",
        Cancelled = "cancelled",
    }
);

vocabulary!(
    ApplicationKind, "application kind", "application-kind" {
        Kindergarten = "kindergarten",
        FirstGrade = "first_grade",
        Transfer = "transfer",
        Club = "club",
    }
);

vocabulary!(
    InstitutionKind, "institution kind", "institution-kind" {
        Kindergarten = "kindergarten",
        School = "school",
        ClubCenter = "club_center",
    }
);

vocabulary!(
    ReferralStatus, "referral status", "referral-status" {
        Active = "active",
        Used = "used",
        Expired = "expired",
        Revoked = "revoked",
    }
);

vocabulary!(
    AttendanceStatus, "attendance status", "attendance-status" {
        Present = "present",
        Absent = "absent",
        Excused = "excused",
    }
);

vocabulary!(
    /// Privilege categories of the admission rules.
    Privilege, "privilege category", "privilege" {
        Extraordinary = "extraordinary",
        Priority = "priority",
    }
);

vocabulary!(
    /// What an event in the feed is about (SPEC §2).
    EventKind, "event kind", "event-kind" {
        ApplicationStatus = "application_status",
        ReferralIssued = "referral_issued",
        ReferralUsed = "referral_used",
        ReferralExpired = "referral_expired",
        ReferralRevoked = "referral_revoked",
        ReferralExpiresSoon = "referral_expires_soon",
        ClubEnrolled = "club_enrolled",
        Announcement = "announcement",
        // A question by a deadline (SPEC §1.11); its deadline drawing near; an answer (the
        // feed's record, on which the portal's webhook delivery hangs).
        Question = "question",
        QuestionReminder = "question_reminder",
        QuestionAnswered = "question_answered",
    }
);

vocabulary!(
    /// Where a delivery goes: a channel a parent can keep on or off, or — for an answer to
    /// a question — the portal's webhook.
    Channel, "channel", "channel" {
        Telegram = "telegram",
        Sms = "sms",
        Email = "email",
        Portal = "portal",
    }
);

vocabulary!(
    /// What a confirmation code confirms.
    OtpPurpose, "code purpose", "otp-purpose" {
        Login = "login",
        Reset = "reset",
        PhoneChange = "phone_change",
    }
);

impl ApplicationStatus {
    /// Statuses after which nothing more is expected of the parent or the portal.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ApplicationStatus::Enrolled
                | ApplicationStatus::Rejected
                | ApplicationStatus::Cancelled
        )
    }
}

impl EventKind {
    /// Where the event's deliveries stand in the outbox: lower goes first. A question that
    /// decides a child's place (0) goes ahead of every other push (1); the department's
    /// announcements (2) go after the parents' own.
    pub fn delivery_priority(self) -> i64 {
        match self {
            EventKind::Question | EventKind::QuestionReminder => 0,
            EventKind::Announcement => 2,
            _ => 1,
        }
    }

    /// Events about a question: their button opens the question's card.
    pub fn is_question(self) -> bool {
        matches!(
            self,
            EventKind::Question | EventKind::QuestionReminder | EventKind::QuestionAnswered
        )
    }
}

impl ReferralStatus {
    /// The event a referral's arrival in this status produces.
    pub fn event_kind(self) -> EventKind {
        match self {
            ReferralStatus::Active => EventKind::ReferralIssued,
            ReferralStatus::Used => EventKind::ReferralUsed,
            ReferralStatus::Expired => EventKind::ReferralExpired,
            ReferralStatus::Revoked => EventKind::ReferralRevoked,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_say_what_is_accepted() {
        for s in ApplicationStatus::ALL {
            assert_eq!(ApplicationStatus::parse(s.as_str()), Ok(*s));
        }
        let err = ReferralStatus::parse("lost").unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"lost\" is not a known referral status; accepted: active, used, expired, revoked"
        );
        assert_eq!(
            ApplicationStatus::WaitingList.message_id(),
            "application-status-waiting_list"
        );
    }
}
