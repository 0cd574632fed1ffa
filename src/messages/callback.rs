//! Callback data: one small typed enum with one encode/decode pair. Everything a button
//! carries fits Telegram's 64 bytes, and nothing else is trusted: a press that does not
//! decode, or does not fit the chat's current screen, is answered as stale.

use crate::domain::{Channel, Language, LocalityCode, MAX_OPTIONS};

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
    /// The parent agrees (`true`) or not to the processing of personal data.
    Consent(bool),
    CodeContinue,
    ResendCode,
    ForgotPassword,
    Cancel,
    Logout,
    /// The main menu.
    Menu,
    /// «Артқа»: the screen before.
    Back,
    Section(Section),
    /// A page of the current list.
    Page(u32),
    OpenApplication(i64),
    OpenReferral(i64),
    OpenEvent(i64),
    /// A child's file, by the child's place in the cabinet's list.
    OpenFile(u32),
    /// A child's attendance in a month (`yyyymm`).
    Attendance {
        child: u32,
        year: i32,
        month: u32,
    },
    ToggleChannel(Channel),
    ChangeLanguage,
    ChangePassword,
    SetEmail,
    RemoveEmail,
    ChangePhone,
    AddPhone,
    /// An extra phone, by its place in the list.
    RemovePhone(u32),
    /// Settings: the active sessions.
    Sessions,
    /// End one session of this cabinet (by its id; re-checked to be this cabinet's).
    EndSession(i64),
    /// End every session of this cabinet but this chat's.
    EndOtherSessions,
    /// The questions waiting for an answer (the main menu's first row).
    Questions,
    /// A question's card (by its id; re-checked to be this cabinet's).
    OpenQuestion(i64),
    /// An option of a question, by its place among the options.
    AnswerOption {
        question: i64,
        option: u8,
    },
    /// «Yes, I am sure» after a destructive option.
    ConfirmOption {
        question: i64,
        option: u8,
    },
    /// Send the option without the comment it allows.
    NoComment {
        question: i64,
        option: u8,
    },
}

/// The five sections of the cabinet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Feed,
    Applications,
    Referrals,
    Files,
    Settings,
}

impl Section {
    const ALL: [(Section, &'static str); 5] = [
        (Section::Feed, "feed"),
        (Section::Applications, "apps"),
        (Section::Referrals, "refs"),
        (Section::Files, "files"),
        (Section::Settings, "set"),
    ];

    fn code(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(s, _)| *s == self)
            .map(|(_, c)| *c)
            .expect("listed")
    }

    fn parse(code: &str) -> Option<Section> {
        Self::ALL.iter().find(|(_, c)| *c == code).map(|(s, _)| *s)
    }
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
            Callback::Consent(true) => "agree".into(),
            Callback::Consent(false) => "disagree".into(),
            Callback::CodeContinue => "codeok".into(),
            Callback::ResendCode => "resend".into(),
            Callback::ForgotPassword => "forgot".into(),
            Callback::Cancel => "cancel".into(),
            Callback::Logout => "logout".into(),
            Callback::Menu => "menu".into(),
            Callback::Back => "back".into(),
            Callback::Section(s) => format!("sec:{}", s.code()),
            Callback::Page(p) => format!("pg:{p}"),
            Callback::OpenApplication(id) => format!("app:{id}"),
            Callback::OpenReferral(id) => format!("ref:{id}"),
            Callback::OpenEvent(id) => format!("ev:{id}"),
            Callback::OpenFile(child) => format!("kid:{child}"),
            Callback::Attendance { child, year, month } => {
                format!("att:{child}:{year:04}{month:02}")
            }
            Callback::ToggleChannel(c) => format!("ch:{}", c.as_str()),
            Callback::ChangeLanguage => "setlang".into(),
            Callback::ChangePassword => "setpwd".into(),
            Callback::SetEmail => "setmail".into(),
            Callback::RemoveEmail => "rmmail".into(),
            Callback::ChangePhone => "setph".into(),
            Callback::AddPhone => "addph".into(),
            Callback::RemovePhone(i) => format!("rmph:{i}"),
            Callback::Sessions => "sess".into(),
            Callback::EndSession(id) => format!("endss:{id}"),
            Callback::EndOtherSessions => "endall".into(),
            Callback::Questions => "qs".into(),
            Callback::OpenQuestion(id) => format!("q:{id}"),
            Callback::AnswerOption { question, option } => format!("qa:{question}:{option}"),
            Callback::ConfirmOption { question, option } => format!("qy:{question}:{option}"),
            Callback::NoComment { question, option } => format!("qn:{question}:{option}"),
        };
        debug_assert!(
            data.len() <= 64,
            "callback data over Telegram's 64 bytes: {data}"
        );
        data
    }

    /// `None` for anything Kabinet did not write. Total: any string, of any bytes, gives
    /// an answer (a property test feeds it arbitrary strings).
    pub fn decode(data: &str) -> Option<Callback> {
        let (head, arg) = data.split_once(':').unwrap_or((data, ""));
        Some(match (head, arg) {
            ("lang", l) => Callback::Language(Language::parse(l).ok()?),
            ("locp", p) => Callback::LocalityPage(number(p)?),
            ("loc", code) => Callback::Locality(LocalityCode::parse(code).ok()?),
            ("chloc", "") => Callback::ChangeLocality,
            ("cab", "") => Callback::Cabinet,
            ("backloc", "") => Callback::BackToLocality,
            ("noop", "") => Callback::Noop,
            ("reiin", "") => Callback::ReenterIin,
            ("agree", "") => Callback::Consent(true),
            ("disagree", "") => Callback::Consent(false),
            ("codeok", "") => Callback::CodeContinue,
            ("resend", "") => Callback::ResendCode,
            ("forgot", "") => Callback::ForgotPassword,
            ("cancel", "") => Callback::Cancel,
            ("logout", "") => Callback::Logout,
            ("menu", "") => Callback::Menu,
            ("back", "") => Callback::Back,
            ("sec", s) => Callback::Section(Section::parse(s)?),
            ("pg", p) => Callback::Page(number(p)?),
            ("app", id) => Callback::OpenApplication(number(id).filter(|i| *i > 0)?),
            ("ref", id) => Callback::OpenReferral(number(id).filter(|i| *i > 0)?),
            ("ev", id) => Callback::OpenEvent(number(id).filter(|i| *i > 0)?),
            ("kid", c) => Callback::OpenFile(number(c)?),
            ("att", rest) => {
                let (child, ym) = rest.split_once(':')?;
                // Six ASCII digits before any slicing: a multi-byte character must never
                // meet a byte index.
                if ym.len() != 6 || !ym.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let (year, month) = (number(&ym[..4])?, number(&ym[4..])?);
                if !(1..=12).contains(&month) {
                    return None;
                }
                Callback::Attendance {
                    child: number(child)?,
                    year,
                    month,
                }
            }
            ("ch", c) => Callback::ToggleChannel(Channel::parse(c).ok()?),
            ("setlang", "") => Callback::ChangeLanguage,
            ("setpwd", "") => Callback::ChangePassword,
            ("setmail", "") => Callback::SetEmail,
            ("rmmail", "") => Callback::RemoveEmail,
            ("setph", "") => Callback::ChangePhone,
            ("addph", "") => Callback::AddPhone,
            ("rmph", i) => Callback::RemovePhone(number(i)?),
            ("sess", "") => Callback::Sessions,
            ("endss", id) => Callback::EndSession(number(id).filter(|i| *i > 0)?),
            ("endall", "") => Callback::EndOtherSessions,
            ("qs", "") => Callback::Questions,
            ("q", id) => Callback::OpenQuestion(number(id).filter(|i| *i > 0)?),
            ("qa" | "qy" | "qn", rest) => {
                let (question, option) = rest.split_once(':')?;
                let question = number(question).filter(|i: &i64| *i > 0)?;
                let option = number(option).filter(|o: &u8| usize::from(*o) < MAX_OPTIONS)?;
                match head {
                    "qa" => Callback::AnswerOption { question, option },
                    "qy" => Callback::ConfirmOption { question, option },
                    _ => Callback::NoComment { question, option },
                }
            }
            _ => return None,
        })
    }
}

/// A number as Kabinet writes one: ASCII digits only (no sign, no spaces, no full-width
/// digits), and within the type.
fn number<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
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
            Callback::Consent(true),
            Callback::Consent(false),
            Callback::CodeContinue,
            Callback::ResendCode,
            Callback::ForgotPassword,
            Callback::Cancel,
            Callback::Logout,
            Callback::Menu,
            Callback::Back,
            Callback::Section(Section::Files),
            Callback::Page(12),
            Callback::OpenApplication(i64::MAX),
            Callback::OpenReferral(7),
            Callback::OpenEvent(9),
            Callback::OpenFile(2),
            Callback::Attendance {
                child: 1,
                year: 2026,
                month: 11,
            },
            Callback::ToggleChannel(Channel::Sms),
            Callback::ChangeLanguage,
            Callback::ChangePassword,
            Callback::SetEmail,
            Callback::RemoveEmail,
            Callback::ChangePhone,
            Callback::AddPhone,
            Callback::RemovePhone(3),
            Callback::Sessions,
            Callback::EndSession(41),
            Callback::EndOtherSessions,
            Callback::Questions,
            Callback::OpenQuestion(i64::MAX),
            Callback::AnswerOption {
                question: i64::MAX,
                option: 5,
            },
            Callback::ConfirmOption {
                question: 3,
                option: 0,
            },
            Callback::NoComment {
                question: 3,
                option: 1,
            },
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
            "att:0:123ж5",
            "att:0:２０２６11",
            "att:0:2026１",
            "pg:+1",
            "pg: 1",
            "pg:１",
            "app:-7",
            "app:99999999999999999999",
            "qa:1:6",
            "qa:1",
            "qa:0:1",
            "qy:1:-1",
            "q:",
            "x".repeat(64).as_str(),
        ] {
            assert_eq!(Callback::decode(forged), None, "{forged}");
        }
    }
}
