//! E-mail addresses for the optional e-mail channel.

use std::fmt;

/// A syntactically plausible e-mail address, trimmed, with the domain lower-cased.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("the address is empty")]
    Empty,
    #[error("an address looks like name@example.kz")]
    Malformed,
    #[error("an address is at most 254 characters")]
    TooLong,
}

impl EmailError {
    pub fn message_id(self) -> &'static str {
        match self {
            EmailError::Empty => "email-error-empty",
            EmailError::Malformed => "email-error-malformed",
            EmailError::TooLong => "email-error-too-long",
        }
    }
}

impl Email {
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.chars().count() > 254 {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = s.rsplit_once('@').ok_or(EmailError::Malformed)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
            && labels.last().is_some_and(|tld| tld.chars().count() >= 2);
        if !local_ok || !domain_ok {
            return Err(EmailError::Malformed);
        }
        Ok(Email(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `a***@mail.kz`, for logs and screens where the full address is not needed.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').expect("validated");
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises() {
        assert_eq!(
            Email::parse(" Aigerim.N@Mail.KZ ").unwrap().as_str(),
            "Aigerim.N@mail.kz"
        );
        assert_eq!(Email::parse("a@b.kz").unwrap().masked(), "a***@b.kz");
    }

    #[test]
    fn rejects() {
        for bad in [
            "a",
            "a@",
            "@b.kz",
            "a@b",
            "a b@c.kz",
            "a@b..kz",
            "a@-b.kz",
            "a..b@c.kz",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError::Malformed), "{bad}");
        }
        assert_eq!(Email::parse(""), Err(EmailError::Empty));
    }
}
