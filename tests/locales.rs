//! The texts: both languages have every message with the same variables, every vocabulary
//! word and every input error has its text, dates read right.

use chrono::{NaiveDate, TimeZone, Utc};
use fluent_bundle::FluentValue;
use kabinet::domain::*;
use kabinet::i18n::{Localizer, embedded_sources, month_title};

fn loc() -> Localizer {
    Localizer::embedded().expect("every .ftl file parses")
}

#[test]
fn every_message_exists_in_both_languages_with_the_same_variables() {
    let loc = loc();
    let kk = loc.message_ids(Language::Kk);
    let ru = loc.message_ids(Language::Ru);
    let only_kk: Vec<_> = kk.difference(&ru).collect();
    let only_ru: Vec<_> = ru.difference(&kk).collect();
    assert!(
        only_kk.is_empty() && only_ru.is_empty(),
        "only in kk: {only_kk:?}; only in ru: {only_ru:?}"
    );
    for id in &kk {
        assert_eq!(
            loc.variables(Language::Kk, id),
            loc.variables(Language::Ru, id),
            "variables of {id}"
        );
    }
    assert!(kk.len() > 100, "{} messages", kk.len());
}

#[test]
fn a_broken_file_is_reported_with_its_name() {
    let mut sources: Vec<(Language, String, &str)> = embedded_sources();
    sources.push((
        Language::Ru,
        "broken.ftl".into(),
        "good = fine\nbad = { $unclosed\n",
    ));
    let err = Localizer::from_sources(&sources)
        .err()
        .expect("a parse error");
    assert!(
        err.to_string().starts_with("locales/ru/broken.ftl:"),
        "{err}"
    );
}

#[test]
fn no_isolation_marks_and_no_missing_ids() {
    let loc = loc();
    let text = loc.format(
        Language::Ru,
        "iin-error-length",
        &[("count", FluentValue::from(10))],
    );
    assert_eq!(text, "В ИИН 12 цифр, а вы ввели 10 цифр.");
    assert!(!text.contains('\u{2068}') && !text.contains('\u{2069}'));
    assert_eq!(loc.text(Language::Kk, "no-such-message"), "no-such-message");
}

#[test]
fn every_vocabulary_word_and_error_has_its_text() {
    let loc = loc();
    let mut ids: Vec<&str> = Vec::new();
    ids.extend(ApplicationStatus::ALL.iter().map(|v| v.message_id()));
    ids.extend(ApplicationKind::ALL.iter().map(|v| v.message_id()));
    ids.extend(InstitutionKind::ALL.iter().map(|v| v.message_id()));
    ids.extend(ReferralStatus::ALL.iter().map(|v| v.message_id()));
    ids.extend(AttendanceStatus::ALL.iter().map(|v| v.message_id()));
    ids.extend(Privilege::ALL.iter().map(|v| v.message_id()));
    ids.extend(EventKind::ALL.iter().map(|v| v.message_id()));
    ids.extend(Channel::ALL.iter().map(|v| v.message_id()));
    ids.extend(OtpPurpose::ALL.iter().map(|v| v.message_id()));
    ids.extend(
        [
            IinError::Empty,
            IinError::NotDigits,
            IinError::WrongLength(3),
            IinError::BadBirthDate,
            IinError::BirthDateInFuture,
            IinError::BadCenturyDigit,
            IinError::BadControlDigit,
        ]
        .map(IinError::message_id),
    );
    ids.extend(
        [
            PhoneError::Empty,
            PhoneError::BadCharacters,
            PhoneError::WrongLength,
            PhoneError::NotKazakhstan,
            PhoneError::NotMobile,
        ]
        .map(PhoneError::message_id),
    );
    ids.extend(
        [
            EmailError::Empty,
            EmailError::Malformed,
            EmailError::TooLong,
        ]
        .map(EmailError::message_id),
    );
    ids.extend(
        [
            PasswordError::TooShort,
            PasswordError::TooLong,
            PasswordError::IsIin,
            PasswordError::IsPhone,
            PasswordError::Common,
        ]
        .map(PasswordError::message_id),
    );
    for id in ids {
        for lang in Language::ALL {
            assert!(loc.has(lang, id), "{lang} has no text for {id}");
        }
    }
}

#[test]
fn section_names_are_the_memos() {
    let loc = loc();
    let names = |lang| {
        [
            "feed",
            "applications",
            "referrals",
            "files",
            "settings",
            "cabinet",
        ]
        .map(|s| loc.text(lang, &format!("section-{s}")))
    };
    assert_eq!(
        names(Language::Kk),
        [
            "Оқиғалар таспасы",
            "Менің өтініштерім",
            "Менің жолдамаларым",
            "Жеке іс-құжаттарым",
            "Баптаулар",
            "Жеке кабинет"
        ]
    );
    assert_eq!(
        names(Language::Ru),
        [
            "Лента событий",
            "Мои заявления",
            "Мои направления",
            "Личные дела",
            "Настройки",
            "Личный кабинет"
        ]
    );
}

#[test]
fn russian_plurals_take_one_few_many() {
    let loc = loc();
    let days = |n: i64| {
        loc.format(
            Language::Ru,
            "days-left",
            &[("count", FluentValue::from(n))],
        )
    };
    assert_eq!(days(1), "остался 1 день");
    assert_eq!(days(2), "осталось 2 дня");
    assert_eq!(days(5), "осталось 5 дней");
    assert_eq!(days(11), "осталось 11 дней");
    assert_eq!(days(21), "остался 21 день");
    assert_eq!(days(24), "осталось 24 дня");
    let kk = loc.format(
        Language::Kk,
        "applications-count",
        &[("count", FluentValue::from(3))],
    );
    assert_eq!(kk, "3 өтініш");
}

#[test]
fn dates_are_local_with_month_names() {
    let loc = loc();
    let tz = chrono_tz::Asia::Almaty;
    // 20:05 UTC is 01:05 the next day in Almaty (UTC+5).
    let at = Utc.with_ymd_and_hms(2026, 11, 24, 20, 5, 0).unwrap();
    assert_eq!(
        loc.date_time(Language::Kk, at, tz),
        "2026 жылғы 25 қараша, 01:05"
    );
    assert_eq!(
        loc.date_time(Language::Ru, at, tz),
        "25 ноября 2026 г., 01:05"
    );
    let d = NaiveDate::from_ymd_opt(2027, 3, 8).unwrap();
    assert_eq!(loc.date(Language::Ru, d), "8 марта 2027 г.");
    assert_eq!(loc.day_month(Language::Kk, d), "8 наурыз");
    assert_eq!(month_title(&loc, Language::Ru, 2026, 10), "Октябрь 2026");
    assert_eq!(month_title(&loc, Language::Kk, 2026, 10), "Қазан 2026");
}
