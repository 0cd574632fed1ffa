//! Callback data: one small typed enum with one encode/decode pair. Everything a button
//! carries fits Telegram's 64 bytes, and nothing else is trusted: a press that does not
//! decode, or does not fit the chat's current screen, is answered as stale.

use crate::domain::{Language, LocalityCode};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    Language(Language),
    LocalityPage(u32),
    Locality(LocalityCode),
    ChangeLocality,
    Cabinet,
    /// Back from the IIN prompt to the locality's screen.
    BackToLocality,
    /// A button that only shows something (a page number).
    Noop,
    ReenterIin,
    CodeContinue,
    ResendCode,
    ForgotPassword,
    Cancel,
    Logout,
}

impl Callback {
    pub fn encode(&self) -> String {
        let data = match self {
            Callback::Language(l) => format!("lang:{}", l.code()),
            Callback::LocalityPage(p) => format!("locp:{p}"),
            Callback::Locality(code) => format!("loc:{code}"),
            Callback::ChangeLocality => "chloc".into(),
            Callback::Cabinet => "cab".into(),
            Callback::BackToLocality => "backloc".into(),
            Callback::Noop => "noop".into(),
            Callback::ReenterIin => "reiin".into(),
            Callback::CodeContinue => "codeok".into(),
            Callback::ResendCode => "resend".into(),
            Callback::ForgotPassword => "forgot".into(),
            Callback::Cancel => "cancel".into(),
            Callback::Logout => "logout".into(),
        };
        debug_assert!(
            data.len() <= 64,
            "callback data over Telegram's 64 bytes: {data}"
        );
        data
    }

    /// `None` for anything Kabinet did not write.
    pub fn decode(data: &str) -> Option<Callback> {
        let (head, arg) = data.split_once(':').unwrap_or((data, ""));
        Some(match (head, arg) {
            ("lang", l) => Callback::Language(Language::parse(l).ok()?),
            ("locp", p) => Callback::LocalityPage(p.parse().ok()?),
            ("loc", code) => Callback::Locality(LocalityCode::parse(code).ok()?),
            ("chloc", "") => Callback::ChangeLocality,
            ("cab", "") => Callback::Cabinet,
            ("backloc", "") => Callback::BackToLocality,
            ("noop", "") => Callback::Noop,
            ("reiin", "") => Callback::ReenterIin,
            ("codeok", "") => Callback::CodeContinue,
            ("resend", "") => Callback::ResendCode,
            ("forgot", "") => Callback::ForgotPassword,
            ("cancel", "") => Callback::Cancel,
            ("logout", "") => Callback::Logout,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_forgeries() {
        let all = [
            Callback::Language(Language::Ru),
            Callback::LocalityPage(3),
            Callback::Locality(LocalityCode::parse(&"a".repeat(32)).unwrap()),
            Callback::ChangeLocality,
            Callback::Cabinet,
            Callback::BackToLocality,
            Callback::Noop,
            Callback::ReenterIin,
            Callback::CodeContinue,
            Callback::ResendCode,
            Callback::ForgotPassword,
            Callback::Cancel,
            Callback::Logout,
        ];
        for cb in all {
            let data = cb.encode();
            assert!((1..=64).contains(&data.len()));
            assert_eq!(Callback::decode(&data), Some(cb));
        }
        for forged in [
            "",
            "lang:en",
            "locp:-1",
            "loc:Алматы",
            "cab:1",
            "app:1;drop table",
            "x".repeat(64).as_str(),
        ] {
            assert_eq!(Callback::decode(forged), None, "{forged}");
        }
    }
}
