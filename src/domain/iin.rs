//! The individual identification number (ЖСН / ИИН), SPEC §6.

use std::fmt;

use chrono::{Datelike, NaiveDate, Utc};

/// A valid IIN of an individual: 12 digits whose birth date, century/sex digit and control
/// digit all check out. The only way to get one is [`Iin::parse`].
///
/// `Display` and `Debug` both print the masked form (`********0123`), so an `Iin` can go into
/// a log line without leaking; the full number is reachable only through [`Iin::as_str`].
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Iin(String);

/// Why a string is not a valid IIN. Each reason has its own message for the parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IinError {
    #[error("the IIN is empty")]
    Empty,
    #[error("an IIN is made of digits only")]
    NotDigits,
    #[error("an IIN has 12 digits, this one has {0}")]
    WrongLength(usize),
    #[error("the first six digits are not a date of birth (YYMMDD)")]
    BadBirthDate,
    #[error("the birth date lies in the future")]
    BirthDateInFuture,
    #[error("the seventh digit must be 1 to 6 (century and sex)")]
    BadCenturyDigit,
    #[error("the control digit does not match; a digit may be mistyped")]
    BadControlDigit,
}

impl IinError {
    /// The localisation id of the parent-facing message for this reason.
    pub fn message_id(self) -> &'static str {
        match self {
            IinError::Empty => "iin-error-empty",
            IinError::NotDigits => "iin-error-not-digits",
            IinError::WrongLength(_) => "iin-error-length",
            IinError::BadBirthDate => "iin-error-birth-date",
            IinError::BirthDateInFuture => "iin-error-birth-date-future",
            IinError::BadCenturyDigit => "iin-error-century",
            IinError::BadControlDigit => "iin-error-control",
        }
    }
}

/// Sex encoded by the seventh digit (odd = male).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    /// The sex an IIN's seventh digit records (odd = male), from a stored IIN; `None` when
    /// the text is not one.
    pub fn of_iin(iin: &str) -> Option<Sex> {
        match iin.as_bytes().get(6)? {
            b'1' | b'3' | b'5' => Some(Sex::Male),
            b'2' | b'4' | b'6' => Some(Sex::Female),
            _ => None,
        }
    }
}

const FIRST_WEIGHTS: [u32; 11] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const SECOND_WEIGHTS: [u32; 11] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];

/// The control digit of the first eleven digits, or `None` when both passes give 10
/// (no valid IIN has such a prefix).
pub fn control_digit(first_eleven: &[u8; 11]) -> Option<u8> {
    let pass = |weights: &[u32; 11]| -> u32 {
        first_eleven
            .iter()
            .zip(weights)
            .map(|(&d, &w)| u32::from(d) * w)
            .sum::<u32>()
            % 11
    };
    let first = pass(&FIRST_WEIGHTS);
    if first != 10 {
        return Some(first as u8);
    }
    let second = pass(&SECOND_WEIGHTS);
    (second != 10).then_some(second as u8)
}

impl Iin {
    /// Parses an IIN as a person types it: spaces and dashes are ignored.
    pub fn parse(input: &str) -> Result<Self, IinError> {
        Self::parse_on(input, Utc::now().date_naive())
    }

    /// Like [`Iin::parse`], judging "in the future" against `today`.
    pub fn parse_on(input: &str, today: NaiveDate) -> Result<Self, IinError> {
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if compact.is_empty() {
            return Err(IinError::Empty);
        }
        if !compact.chars().all(|c| c.is_ascii_digit()) {
            return Err(IinError::NotDigits);
        }
        if compact.len() != 12 {
            return Err(IinError::WrongLength(compact.chars().count()));
        }
        let digits: Vec<u8> = compact.bytes().map(|b| b - b'0').collect();
        let century = match digits[6] {
            1 | 2 => 1800,
            3 | 4 => 1900,
            5 | 6 => 2000,
            _ => return Err(IinError::BadCenturyDigit),
        };
        let year = century + i32::from(digits[0] * 10 + digits[1]);
        let month = u32::from(digits[2] * 10 + digits[3]);
        let day = u32::from(digits[4] * 10 + digits[5]);
        let birth = NaiveDate::from_ymd_opt(year, month, day).ok_or(IinError::BadBirthDate)?;
        if birth > today {
            return Err(IinError::BirthDateInFuture);
        }
        let first_eleven: [u8; 11] = digits[..11].try_into().expect("12 digits checked above");
        if control_digit(&first_eleven) != Some(digits[11]) {
            return Err(IinError::BadControlDigit);
        }
        Ok(Iin(compact))
    }

    /// The full twelve digits, for storage and for comparing with what the portal sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The masked form for logs and screens, the last four digits alone: `********0123`. More
    /// (the birth year and month) would leave a few thousand candidates to try.
    pub fn masked(&self) -> String {
        format!("********{}", &self.0[8..])
    }

    pub fn birth_date(&self) -> NaiveDate {
        let d: Vec<u32> = self.0.bytes().map(|b| u32::from(b - b'0')).collect();
        let century = match d[6] {
            1 | 2 => 1800,
            3 | 4 => 1900,
            _ => 2000,
        };
        NaiveDate::from_ymd_opt(
            century + (d[0] * 10 + d[1]) as i32,
            d[2] * 10 + d[3],
            d[4] * 10 + d[5],
        )
        .expect("validated at parse")
    }

    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[6] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// Builds a valid IIN for a birth date, sex and serial number; `None` when that serial
    /// has no valid control digit. Used by demo data and tests.
    pub fn generate(birth: NaiveDate, sex: Sex, serial: u16) -> Option<Iin> {
        let century_digit = match (birth.year() / 100, sex) {
            (18, Sex::Male) => 1,
            (18, Sex::Female) => 2,
            (19, Sex::Male) => 3,
            (19, Sex::Female) => 4,
            (20, Sex::Male) => 5,
            (20, Sex::Female) => 6,
            _ => return None,
        };
        let prefix = format!(
            "{:02}{:02}{:02}{}{:04}",
            birth.year() % 100,
            birth.month(),
            birth.day(),
            century_digit,
            serial % 10_000
        );
        let digits: [u8; 11] = prefix
            .bytes()
            .map(|b| b - b'0')
            .collect::<Vec<_>>()
            .try_into()
            .ok()?;
        let control = control_digit(&digits)?;
        Some(Iin(format!("{prefix}{control}")))
    }
}

impl fmt::Display for Iin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for Iin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Iin({})", self.masked())
    }
}

impl std::str::FromStr for Iin {
    type Err = IinError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Iin::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    #[test]
    fn spec_vector_needs_the_second_pass() {
        let digits: [u8; 11] = [0, 6, 1, 2, 1, 1, 6, 0, 0, 0, 1];
        let first: u32 = digits
            .iter()
            .zip(FIRST_WEIGHTS)
            .map(|(&d, w)| u32::from(d) * w)
            .sum::<u32>()
            % 11;
        assert_eq!(first, 10);
        assert_eq!(control_digit(&digits), Some(2));
        let iin = Iin::parse_on("061211600012", today()).unwrap();
        assert_eq!(
            iin.birth_date(),
            NaiveDate::from_ymd_opt(2006, 12, 11).unwrap()
        );
        assert_eq!(iin.sex(), Sex::Female);
    }

    #[test]
    fn spaces_and_dashes_are_ignored() {
        let iin = Iin::parse_on("0612 1160-0012", today()).unwrap();
        assert_eq!(iin.as_str(), "061211600012");
    }

    #[test]
    fn each_rejection_has_its_reason() {
        let t = today();
        assert_eq!(Iin::parse_on("  ", t), Err(IinError::Empty));
        assert_eq!(Iin::parse_on("06121160001a", t), Err(IinError::NotDigits));
        assert_eq!(
            Iin::parse_on("0612116000", t),
            Err(IinError::WrongLength(10))
        );
        assert_eq!(
            Iin::parse_on("061311600012", t),
            Err(IinError::BadBirthDate)
        );
        assert_eq!(
            Iin::parse_on("061211700012", t),
            Err(IinError::BadCenturyDigit)
        );
        assert_eq!(
            Iin::parse_on("061211600013", t),
            Err(IinError::BadControlDigit)
        );
        let future = Iin::generate(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(), Sex::Male, 1)
            .unwrap()
            .as_str()
            .to_owned();
        assert_eq!(Iin::parse_on(&future, t), Err(IinError::BirthDateInFuture));
    }

    #[test]
    fn display_and_debug_are_masked() {
        let iin = Iin::parse_on("061211600012", today()).unwrap();
        assert_eq!(iin.to_string(), "********0012");
        assert!(!format!("{iin:?}").contains("0612"));
    }
}
