//! Parent passwords, by NIST SP 800-63B: length, not the IIN or phone, not a common
//! password; no composition rules.

use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

use secrecy::{ExposeSecret, SecretString};

use super::{Iin, Phone};

pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// The bundled list of common passwords: Django's list of 20,000 (by Royce Williams), cut
/// to those long enough to pass the length rule, plus ones common in Kazakhstan.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../assets/common-passwords.txt")
        .lines()
        .chain(include_str!("../../assets/common-passwords-local.txt").lines())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
});

/// How many passwords the blocklist holds.
pub fn common_password_count() -> usize {
    COMMON_PASSWORDS.len()
}

/// A password that passed the rules. It never prints: `Debug` shows `Password(***)`.
#[derive(Clone)]
pub struct Password(SecretString);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("a password has at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("a password has at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
    #[error("the password must not be the IIN")]
    IsIin,
    #[error("the password must not be the phone number")]
    IsPhone,
    #[error("the password is on the list of common passwords")]
    Common,
}

impl PasswordError {
    pub fn message_id(self) -> &'static str {
        match self {
            PasswordError::TooShort => "password-error-too-short",
            PasswordError::TooLong => "password-error-too-long",
            PasswordError::IsIin => "password-error-iin",
            PasswordError::IsPhone => "password-error-phone",
            PasswordError::Common => "password-error-common",
        }
    }
}

impl Password {
    /// Checks a new password against the rules for the cabinet with this IIN and phone.
    pub fn parse(raw: &str, iin: &Iin, phone: &Phone) -> Result<Self, PasswordError> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(PasswordError::TooLong);
        }
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        let only_digits_and_separators = raw
            .chars()
            .all(|c| c.is_ascii_digit() || " -+()".contains(c));
        if only_digits_and_separators && digits == iin.as_str() {
            return Err(PasswordError::IsIin);
        }
        if only_digits_and_separators && Phone::parse(raw).is_ok_and(|p| p == *phone) {
            return Err(PasswordError::IsPhone);
        }
        if COMMON_PASSWORDS.contains(raw.to_lowercase().as_str()) {
            return Err(PasswordError::Common);
        }
        Ok(Password(SecretString::from(raw.to_owned())))
    }

    /// The password itself, for hashing only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iin() -> Iin {
        Iin::parse("061211600012").unwrap()
    }
    fn phone() -> Phone {
        Phone::parse("+77011234567").unwrap()
    }

    #[test]
    fn the_rules() {
        let check = |p: &str| Password::parse(p, &iin(), &phone()).map(|_| ());
        assert_eq!(check("short"), Err(PasswordError::TooShort));
        assert_eq!(check(&"x".repeat(129)), Err(PasswordError::TooLong));
        assert_eq!(check("061211600012"), Err(PasswordError::IsIin));
        assert_eq!(check("8 701 123 45 67"), Err(PasswordError::IsPhone));
        assert_eq!(check("+77011234567"), Err(PasswordError::IsPhone));
        assert_eq!(check("password1"), Err(PasswordError::Common));
        assert_eq!(check("Qwerty123"), Err(PasswordError::Common));
        assert_eq!(check("йцукенгшщз"), Err(PasswordError::Common));
        assert_eq!(check("қызғалдақ гүлі"), Ok(()));
        assert_eq!(check(&"ж".repeat(128)), Ok(()));
    }

    #[test]
    fn blocklist_is_large_enough() {
        assert!(
            common_password_count() >= 3_000,
            "{}",
            common_password_count()
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let p = Password::parse("a quiet lake", &iin(), &phone()).unwrap();
        assert_eq!(format!("{p:?}"), "Password(***)");
    }
}
