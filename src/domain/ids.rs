//! Identifiers the portal owns: locality codes and the numbers and ids of its records.

use std::fmt;

/// Why a portal identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {0} characters")]
    TooLong(usize),
    #[error("may hold only {0}")]
    BadCharacters(&'static str),
}

/// A locality code: 1–32 of `a-z 0-9 _ -`, lower-cased. It travels in deep links
/// (`/start loc_<code>`), so it keeps to the characters Telegram allows there.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalityCode(String);

impl LocalityCode {
    pub const MAX_LEN: usize = 32;

    pub fn parse(s: &str) -> Result<Self, IdError> {
        let s = s.trim().to_ascii_lowercase();
        if s.is_empty() {
            return Err(IdError::Empty);
        }
        if s.len() > Self::MAX_LEN {
            return Err(IdError::TooLong(Self::MAX_LEN));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        {
            return Err(IdError::BadCharacters("latin letters, digits, _ and -"));
        }
        Ok(LocalityCode(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LocalityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A number or id of the portal's (application number, referral number, institution id,
/// club id): 1–64 of letters, digits, `-`, `_`, `.`, so it is safe in a URL path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortalId(String);

impl PortalId {
    pub const MAX_LEN: usize = 64;

    pub fn parse(s: &str) -> Result<Self, IdError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(IdError::Empty);
        }
        if s.chars().count() > Self::MAX_LEN {
            return Err(IdError::TooLong(Self::MAX_LEN));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(IdError::BadCharacters("latin letters, digits, -, _ and ."));
        }
        Ok(PortalId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PortalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_ids() {
        assert_eq!(LocalityCode::parse(" Almaty ").unwrap().as_str(), "almaty");
        assert!(LocalityCode::parse("алматы").is_err());
        assert!(LocalityCode::parse(&"a".repeat(33)).is_err());
        assert_eq!(
            PortalId::parse("ALM-2026-000123").unwrap().as_str(),
            "ALM-2026-000123"
        );
        assert!(PortalId::parse("a/b").is_err());
        assert!(PortalId::parse("").is_err());
    }
}
