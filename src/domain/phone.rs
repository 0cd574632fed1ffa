//! Kazakhstan mobile phone numbers.

use std::fmt;

/// A Kazakhstan mobile number in E.164 form, `+77011234567`. Only [`Phone::parse`] makes one.
/// `Display` and `Debug` print the masked form `+7 *** *** 45 67`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("the phone number is empty")]
    Empty,
    #[error("a phone number holds digits, spaces, dashes, brackets and a leading +")]
    BadCharacters,
    #[error("a Kazakhstan mobile number has 10 digits after +7 or 8")]
    WrongLength,
    #[error("not a Kazakhstan number: it must start with +7 or 8")]
    NotKazakhstan,
    #[error("not a mobile number: Kazakhstan mobile numbers start with 70, 74, 75, 76 or 77")]
    NotMobile,
}

impl PhoneError {
    pub fn message_id(self) -> &'static str {
        match self {
            PhoneError::Empty => "phone-error-empty",
            PhoneError::BadCharacters => "phone-error-characters",
            PhoneError::WrongLength => "phone-error-length",
            PhoneError::NotKazakhstan => "phone-error-country",
            PhoneError::NotMobile => "phone-error-not-mobile",
        }
    }
}

impl Phone {
    /// Accepts the ways people write a Kazakhstan mobile number: `+7 701 123 45 67`,
    /// `8 (701) 123-45-67`, `87011234567`, `77011234567`, `7011234567`.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        let (plus, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let mut digits = String::with_capacity(12);
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '(' | ')' | '.' | '\u{a0}' => {}
                _ => return Err(PhoneError::BadCharacters),
            }
        }
        let national = match (plus, digits.len()) {
            (true, 11) if digits.starts_with('7') => &digits[1..],
            (true, 11..) | (true, 1..=10) if !digits.starts_with('7') => {
                return Err(PhoneError::NotKazakhstan);
            }
            (true, _) => return Err(PhoneError::WrongLength),
            (false, 11) if digits.starts_with('8') || digits.starts_with('7') => &digits[1..],
            (false, 11) => return Err(PhoneError::NotKazakhstan),
            (false, 10) => &digits[..],
            (false, _) => return Err(PhoneError::WrongLength),
        };
        let bytes = national.as_bytes();
        if bytes[0] != b'7' {
            return Err(PhoneError::NotMobile);
        }
        if !matches!(bytes[1], b'0' | b'4' | b'5' | b'6' | b'7') {
            return Err(PhoneError::NotMobile);
        }
        Ok(Phone(format!("+7{national}")))
    }

    /// E.164: `+77011234567`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Digits only, `77011234567`, as SMS gateways such as Mobizon want them.
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }

    /// `+7 *** *** 45 67`: what the parent is shown and what logs may carry — the last four
    /// digits, no more.
    pub fn masked(&self) -> String {
        format!("+7 *** *** {} {}", &self.0[8..10], &self.0[10..])
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_spellings_normalise() {
        for input in [
            "+7 701 123 45 67",
            "8 701 123-45-67",
            "87011234567",
            "7011234567",
            "77011234567",
            "+77011234567",
            "8 (701) 123-45-67",
        ] {
            assert_eq!(
                Phone::parse(input).unwrap().as_str(),
                "+77011234567",
                "{input}"
            );
        }
    }

    #[test]
    fn rejections_have_reasons() {
        assert_eq!(Phone::parse(""), Err(PhoneError::Empty));
        assert_eq!(Phone::parse("+7 701 abc"), Err(PhoneError::BadCharacters));
        assert_eq!(Phone::parse("8701123456"), Err(PhoneError::NotMobile));
        assert_eq!(Phone::parse("870112345"), Err(PhoneError::WrongLength));
        assert_eq!(
            Phone::parse("+998901234567"),
            Err(PhoneError::NotKazakhstan)
        );
        assert_eq!(Phone::parse("+7 727 123 45 67"), Err(PhoneError::NotMobile));
        assert_eq!(Phone::parse("+7 495 123 45 67"), Err(PhoneError::NotMobile));
    }

    #[test]
    fn masked_forms() {
        let p = Phone::parse("+77011234545").unwrap();
        assert_eq!(p.masked(), "+7 *** *** 45 45");
        assert_eq!(p.digits(), "77011234545");
        assert!(!format!("{p:?}").contains("701"));
    }
}
