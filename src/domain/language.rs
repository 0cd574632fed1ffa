//! The two languages of Kabinet.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Kk,
    Ru,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a language Kabinet speaks; accepted: kk, ru")]
pub struct LanguageError(pub String);

impl Language {
    pub const ALL: [Language; 2] = [Language::Kk, Language::Ru];

    pub fn parse(s: &str) -> Result<Self, LanguageError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "kk" => Ok(Language::Kk),
            "ru" => Ok(Language::Ru),
            other => Err(LanguageError(other.to_owned())),
        }
    }

    /// The first language of a chat, from the Telegram user's `language_code`
    /// (`kk`, `kk-KZ`, `ru`, `ru-RU` …); anything else falls back to `default`.
    pub fn from_telegram(language_code: Option<&str>, default: Language) -> Language {
        let primary = language_code
            .and_then(|code| code.split(['-', '_']).next())
            .map(str::to_ascii_lowercase);
        match primary.as_deref() {
            Some("kk") => Language::Kk,
            Some("ru") => Language::Ru,
            _ => default,
        }
    }

    /// The code, as stored and as in Telegram: `kk`, `ru`.
    pub fn as_str(self) -> &'static str {
        self.code()
    }

    pub fn code(self) -> &'static str {
        match self {
            Language::Kk => "kk",
            Language::Ru => "ru",
        }
    }

    pub fn other(self) -> Language {
        match self {
            Language::Kk => Language::Ru,
            Language::Ru => Language::Kk,
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for Language {
    type Err = LanguageError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Language::parse(s)
    }
}

crate::domain::kinds::stored_as_text!(Language);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_telegram_language_code() {
        assert_eq!(
            Language::from_telegram(Some("kk"), Language::Ru),
            Language::Kk
        );
        assert_eq!(
            Language::from_telegram(Some("ru-RU"), Language::Kk),
            Language::Ru
        );
        assert_eq!(
            Language::from_telegram(Some("en"), Language::Kk),
            Language::Kk
        );
        assert_eq!(Language::from_telegram(None, Language::Ru), Language::Ru);
        assert!(Language::parse("en").is_err());
    }
}
