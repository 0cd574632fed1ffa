//! Every decoder of what a parent, Telegram or the portal sends is total (SPEC §5): over
//! arbitrary strings and bytes it answers, never panics; and what it accepts is what
//! Kabinet would write.

use kabinet::auth::parse_code;
use kabinet::domain::{Email, Iin, Language, LocalityCode, Password, Phone, PortalId};
use kabinet::ingest::{parse_date, parse_time};
use kabinet::messages::Callback;
use proptest::prelude::*;

/// Strings that reach deep into the callback decoder: its own prefixes, then anything,
/// digits of every script included.
fn callback_like() -> impl Strategy<Value = String> {
    let prefixes = prop::sample::select(vec![
        "",
        "lang:",
        "locp:",
        "loc:",
        "sec:",
        "pg:",
        "app:",
        "ref:",
        "ev:",
        "kid:",
        "att:",
        "att:0:",
        "att:12:2026",
        "ch:",
        "rmph:",
    ]);
    let tails = prop::collection::vec(
        prop::sample::select(vec![
            "0", "1", "9", "12", "2026", "11", ":", "-", "+", " ", "ж", "１", "٣", "߀", "🇰🇿",
            "\u{0}", "x", "é",
        ]),
        0..8,
    );
    (prefixes, tails, ".{0,6}").prop_map(|(p, t, any)| format!("{p}{}{any}", t.concat()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn callback_data_decodes_or_is_refused(data in callback_like()) {
        if let Some(callback) = Callback::decode(&data) {
            let again = callback.encode();
            prop_assert!((1..=64).contains(&again.len()));
            prop_assert_eq!(Callback::decode(&again), Some(callback));
        }
    }

    #[test]
    fn callback_data_of_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        let data = String::from_utf8_lossy(&bytes);
        let _ = Callback::decode(&data);
    }

    #[test]
    fn an_iin_of_anything(input in ".{0,30}") {
        if let Ok(iin) = Iin::parse(&input) {
            prop_assert_eq!(iin.as_str().len(), 12);
            prop_assert!(iin.as_str().bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn a_phone_of_anything(input in ".{0,30}") {
        if let Ok(phone) = Phone::parse(&input) {
            prop_assert!(phone.as_str().starts_with("+7"));
            prop_assert_eq!(phone.as_str().len(), 12);
            prop_assert_eq!(Phone::parse(phone.as_str()).map(|p| p.as_str().to_owned()), Ok(phone.as_str().to_owned()));
        }
    }

    #[test]
    fn an_email_of_anything(input in ".{0,80}") {
        if let Ok(email) = Email::parse(&input) {
            prop_assert!(email.as_str().contains('@'));
        }
    }

    #[test]
    fn a_code_of_anything(input in ".{0,20}") {
        if let Some(code) = parse_code(&input) {
            prop_assert_eq!(code.len(), 6);
            prop_assert!(code.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn a_password_of_anything(input in ".{0,140}") {
        let iin = Iin::parse("061211600012").unwrap();
        let phone = Phone::parse("+77011234567").unwrap();
        if Password::parse(&input, &iin, &phone).is_ok() {
            let chars = input.chars().count();
            prop_assert!((8..=128).contains(&chars));
        }
    }

    #[test]
    fn dates_and_times_of_anything(input in ".{0,40}") {
        let _ = parse_date(&input);
        let _ = parse_time(&input);
    }

    #[test]
    fn names_and_ids_of_anything(input in ".{0,80}") {
        let _ = LocalityCode::parse(&input);
        let _ = PortalId::parse(&input);
        let _ = Language::parse(&input);
    }
}

#[test]
fn full_width_and_other_digits_are_not_digits() {
    for forged in [
        "att:0:２０２６１１",
        "pg:１",
        "app:٣",
        "kid:߀",
        "att:0:123ж5",
    ] {
        assert_eq!(Callback::decode(forged), None, "{forged}");
    }
    assert_eq!(parse_code("１２３４５６"), None);
    assert!(Iin::parse("０６１２１１６０００１２").is_err());
}
