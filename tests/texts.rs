//! Texts rendered with realistic values and compared whole, as a native speaker reads
//! them: dates in every month, days left, a girl and a boy, durations, input errors, and
//! every SMS template at its longest.

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};
use fluent_bundle::FluentValue;
use kabinet::domain::{ApplicationStatus, EventKind, Iin, Language, QuestionKind, Sex};
use kabinet::i18n::Localizer;
use kabinet::messages::{SMS_MAX_CHARS, sms, status_text};
use kabinet::storage::Event;

fn loc() -> Localizer {
    Localizer::embedded().expect("texts load")
}

#[test]
fn dates_in_every_month_take_the_official_forms() {
    let loc = loc();
    let kk = [
        ("қаңтар", "қаңтардан"),
        ("ақпан", "ақпаннан"),
        ("наурыз", "наурыздан"),
        ("сәуір", "сәуірден"),
        ("мамыр", "мамырдан"),
        ("маусым", "маусымнан"),
        ("шілде", "шілдеден"),
        ("тамыз", "тамыздан"),
        ("қыркүйек", "қыркүйектен"),
        ("қазан", "қазаннан"),
        ("қараша", "қарашадан"),
        ("желтоқсан", "желтоқсаннан"),
    ];
    let ru = [
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ];
    for month in 1..=12u32 {
        let date = NaiveDate::from_ymd_opt(2026, month, 1).unwrap();
        let (name, from) = kk[month as usize - 1];
        assert_eq!(loc.date(Language::Kk, date), format!("2026 жылғы 1 {name}"));
        assert_eq!(
            loc.date_from(Language::Kk, date, None),
            format!("2026 жылғы 1 {from}"),
            "the ablative, for «… бастап»"
        );
        assert_eq!(
            loc.date_from(Language::Kk, date, Some(2026)),
            format!("1 {from}"),
            "this year's date needs no year"
        );
        let genitive = ru[month as usize - 1];
        assert_eq!(
            loc.date(Language::Ru, date),
            format!("1 {genitive} 2026 г.")
        );
        assert_eq!(
            loc.date_from(Language::Ru, date, Some(2026)),
            format!("1 {genitive}")
        );
    }
    let at = Utc.with_ymd_and_hms(2026, 9, 1, 4, 30, 0).unwrap();
    let tz = chrono_tz::Asia::Almaty;
    assert_eq!(
        loc.date_time(Language::Kk, at, tz),
        "2026 жылғы 1 қыркүйек, 09:30"
    );
    assert_eq!(
        loc.date_time(Language::Ru, at, tz),
        "1 сентября 2026 г., 09:30"
    );
}

#[test]
fn days_left_from_zero_up() {
    let loc = loc();
    let days = |lang, n: i64| loc.format(lang, "days-left", &[("count", FluentValue::from(n))]);
    let kk: Vec<String> = [0, 1, 2, 5, 21].map(|n| days(Language::Kk, n)).to_vec();
    assert_eq!(
        kk,
        [
            "бүгін бітеді",
            "1 күн қалды",
            "2 күн қалды",
            "5 күн қалды",
            "21 күн қалды"
        ]
    );
    let ru: Vec<String> = [0, 1, 2, 5, 21].map(|n| days(Language::Ru, n)).to_vec();
    assert_eq!(
        ru,
        [
            "истекает сегодня",
            "остался 1 день",
            "осталось 2 дня",
            "осталось 5 дней",
            "остался 21 день"
        ]
    );
}

#[test]
fn a_status_about_the_child_agrees_with_a_girl_and_a_boy() {
    let loc = loc();
    let born = NaiveDate::from_ymd_opt(2019, 9, 2).unwrap();
    let girl = (1..100)
        .find_map(|serial| Iin::generate(born, Sex::Female, serial))
        .unwrap();
    let boy = (1..100)
        .find_map(|serial| Iin::generate(born, Sex::Male, serial))
        .unwrap();
    let enrolled = |lang, iin: &Iin| {
        status_text(
            &loc,
            lang,
            ApplicationStatus::Enrolled,
            None,
            Sex::of_iin(iin.as_str()),
        )
    };
    assert_eq!(enrolled(Language::Ru, &girl), "Зачислена");
    assert_eq!(enrolled(Language::Ru, &boy), "Зачислен");
    assert_eq!(enrolled(Language::Kk, &girl), "Қабылданды");
    assert_eq!(enrolled(Language::Kk, &boy), "Қабылданды");
    // The other statuses speak of the application, the same for both.
    for status in ApplicationStatus::ALL
        .iter()
        .filter(|s| **s != ApplicationStatus::Enrolled)
    {
        for lang in Language::ALL {
            assert_eq!(
                status_text(&loc, lang, *status, Some(7), Some(Sex::Female)),
                status_text(&loc, lang, *status, Some(7), Some(Sex::Male)),
            );
        }
    }
    assert_eq!(
        status_text(
            &loc,
            Language::Kk,
            ApplicationStatus::Queued,
            Some(57),
            None
        ),
        "Кезекте (57-орын)"
    );
    assert_eq!(
        status_text(
            &loc,
            Language::Ru,
            ApplicationStatus::Queued,
            Some(57),
            None
        ),
        "В очереди (57-е место)"
    );
}

#[test]
fn how_long_a_code_lives() {
    let loc = loc();
    let span = |secs: u64| std::time::Duration::from_secs(secs);
    let ru: Vec<String> = [30, 60, 120, 300, 1260]
        .map(|s| loc.duration(Language::Ru, span(s)))
        .to_vec();
    assert_eq!(
        ru,
        ["30 секунд", "1 минуту", "2 минуты", "5 минут", "21 минуту"]
    );
    let kk: Vec<String> = [30, 60, 300]
        .map(|s| loc.duration(Language::Kk, span(s)))
        .to_vec();
    assert_eq!(kk, ["30 секунд", "1 минут", "5 минут"]);
    assert_eq!(
        loc.format(Language::Ru, "code-continue", &[] as &[(&str, FluentValue)]),
        "Отправьте 6-значный код из SMS в этот чат."
    );
}

#[test]
fn input_errors_read_as_sentences() {
    let loc = loc();
    let with =
        |lang, id: &str, name: &str, n: i64| loc.format(lang, id, &[(name, FluentValue::from(n))]);
    assert_eq!(
        with(Language::Ru, "password-error-too-short", "min", 8),
        "Пароль должен быть не короче 8 символов."
    );
    assert_eq!(
        with(Language::Ru, "password-error-too-long", "max", 128),
        "Пароль должен быть не длиннее 128 символов."
    );
    assert_eq!(
        with(Language::Kk, "password-error-too-short", "min", 8),
        "Құпиясөз кемінде 8 таңбадан тұруы керек."
    );
    assert_eq!(
        loc.text(Language::Ru, "email-error-too-long"),
        "Адрес должен быть не длиннее 254 символов."
    );
    assert_eq!(
        loc.text(Language::Kk, "phone-error-country"),
        "Бұл Қазақстан нөмірі емес: қазақстандық нөмірлер +7 немесе 8-ден басталады."
    );
    assert_eq!(
        loc.text(Language::Ru, "phone-error-country"),
        "Это не казахстанский номер: казахстанские номера начинаются с +7 или 8."
    );
    assert_eq!(
        loc.text(Language::Kk, "iin-error-birth-date-future"),
        "ЖСН-дегі туған күн әлі келген жоқ."
    );
    assert_eq!(
        loc.text(Language::Kk, "button-reenter-iin"),
        "ЖСН-ді қайта енгізу"
    );
    assert_eq!(
        loc.text(Language::Kk, "cancel-nothing"),
        "Тоқтататын әрекет жоқ."
    );
    assert_eq!(loc.text(Language::Kk, "cancelled"), "Әрекет тоқтатылды.");
    assert_eq!(
        loc.format(
            Language::Kk,
            "history-earlier",
            &[("count", FluentValue::from(3))]
        ),
        "бұдан бұрын тағы 3 жазба"
    );
    assert_eq!(
        loc.text(Language::Ru, "secret-deleted"),
        "🔒 Ваше сообщение удалено из чата в целях безопасности."
    );
}

/// An event as the outbox reads it.
fn event(kind: EventKind, details: serde_json::Value, number: &str, child: (&str, &str)) -> Event {
    let is_referral = matches!(
        kind,
        EventKind::ReferralIssued
            | EventKind::ReferralUsed
            | EventKind::ReferralExpired
            | EventKind::ReferralRevoked
            | EventKind::ReferralExpiresSoon
    );
    Event {
        id: 1,
        cabinet_id: 1,
        kind,
        application_id: Some(1),
        referral_id: is_referral.then_some(1),
        child_iin: Some(child.0.to_owned()),
        details: details.to_string(),
        occurred_at: Utc::now(),
        read_at: None,
        application_number: (!is_referral && kind != EventKind::ClubEnrolled)
            .then(|| number.to_owned()),
        referral_number: is_referral.then(|| number.to_owned()),
        child_name: Some(child.1.to_owned()),
        announcement_kk: None,
        announcement_ru: None,
        question_id: kind.is_question().then_some(1),
    }
}

const GIRL: (&str, &str) = ("190902622229", "Сейітова Аяла Ерболқызы");
const BOY: (&str, &str) = ("210610511117", "Сейітов Әли Ерболұлы");
/// The longest realistic values: a 40-character number, and a long double given name.
const LONG_NUMBER: &str = "ALM-2026-KINDERGARTEN-0000000000000012345";
const LONG_NAME: (&str, &str) = (
    "190902622229",
    "Абдрахманова Анастасия-Мариямгүлбаршын Нұрсұлтанқызы",
);

#[test]
fn push_sms_name_the_service_and_the_child() {
    let loc = loc();
    let queued = event(
        EventKind::ApplicationStatus,
        serde_json::json!({"status": "queued", "queue_position": 57}),
        "ALM-2026-000137",
        BOY,
    );
    assert_eq!(
        sms::push(&loc, Language::Kk, chrono_tz::Asia::Almaty, &queued),
        "Жеке кабинет: Әли, Кезекте (57-орын) · № ALM-2026-000137"
    );
    assert_eq!(
        sms::push(&loc, Language::Ru, chrono_tz::Asia::Almaty, &queued),
        "Личный кабинет: Әли, В очереди (57-е место) · № ALM-2026-000137"
    );
    let enrolled = event(
        EventKind::ApplicationStatus,
        serde_json::json!({"status": "enrolled"}),
        "ALM-2026-007731",
        GIRL,
    );
    assert_eq!(
        sms::push(&loc, Language::Ru, chrono_tz::Asia::Almaty, &enrolled),
        "Личный кабинет: Аяла, Зачислена · № ALM-2026-007731"
    );
    let club = event(
        EventKind::ClubEnrolled,
        serde_json::json!({"club": "club-chess-alm", "name_kk": "Шахмат", "name_ru": "Шахматы"}),
        "",
        GIRL,
    );
    assert_eq!(
        sms::push(&loc, Language::Kk, chrono_tz::Asia::Almaty, &club),
        "Жеке кабинет: Аяла, Үйірмеге жазылды · Шахмат"
    );
    assert_eq!(
        sms::push(&loc, Language::Ru, chrono_tz::Asia::Almaty, &club),
        "Личный кабинет: Аяла, Запись в кружок · Шахматы"
    );
}

#[test]
fn every_push_sms_fits_one_segment_at_its_longest_and_keeps_its_news() {
    let loc = loc();
    let news = |event: &Event, lang| match event.kind {
        EventKind::ApplicationStatus => {
            let details: serde_json::Value = serde_json::from_str(&event.details).unwrap();
            let status = ApplicationStatus::parse(details["status"].as_str().unwrap()).unwrap();
            status_text(&loc, lang, status, Some(12345), Some(Sex::Female))
        }
        kind => loc.text(lang, kind.message_id()),
    };
    let mut cases = Vec::new();
    for status in ApplicationStatus::ALL {
        let details = serde_json::json!({"status": status.as_str(), "queue_position": 12345});
        cases.push(event(
            EventKind::ApplicationStatus,
            details,
            LONG_NUMBER,
            LONG_NAME,
        ));
    }
    // (A question's SMS has its own form: the next test.)
    for kind in EventKind::ALL
        .iter()
        .filter(|k| **k != EventKind::ApplicationStatus && !k.is_question())
    {
        let details = serde_json::json!({"valid_until": "2026-11-26T13:00:00Z",
            "name_kk": "Робототехника және бағдарламалау негіздері",
            "name_ru": "Робототехника и основы программирования"});
        cases.push(event(*kind, details, LONG_NUMBER, LONG_NAME));
    }
    for event in &cases {
        for lang in Language::ALL {
            let text = sms::push(&loc, lang, chrono_tz::Asia::Almaty, event);
            let service = match lang {
                Language::Kk => "Жеке кабинет: ",
                Language::Ru => "Личный кабинет: ",
            };
            assert!(
                text.chars().count() <= SMS_MAX_CHARS,
                "{} chars: {text}",
                text.chars().count()
            );
            assert!(text.starts_with(service), "{text}");
            assert!(
                text.contains(&news(event, lang)),
                "the news is whole: {text}"
            );
            assert!(text.contains("Анаст"), "the name, cut if it must: {text}");
        }
    }
    // A short name is never cut.
    let short = event(
        EventKind::ReferralExpiresSoon,
        serde_json::json!({}),
        LONG_NUMBER,
        GIRL,
    );
    assert_eq!(
        sms::push(&loc, Language::Kk, chrono_tz::Asia::Almaty, &short),
        "Жеке кабинет: Аяла, Жолдаманың мерзімі жақында бітеді"
    );
}

#[test]
fn a_questions_sms_says_what_by_when_and_where_in_one_segment() {
    let loc = loc();
    let details = |kind: QuestionKind| {
        serde_json::json!({"question": "q-1", "kind": kind, "deadline": "2026-12-07T13:00:00Z",
            "text_kk": "Сұрақ", "text_ru": "Вопрос"})
    };
    let offer = event(
        EventKind::Question,
        details(QuestionKind::PlaceOffer),
        "ALM-2026-000137",
        BOY,
    );
    let tz = chrono_tz::Asia::Almaty;
    assert_eq!(
        sms::push(&loc, Language::Kk, tz, &offer),
        "Жеке кабинет. Әли: орын ұсынылды. Мерзімі 07.12 18:00: бот/портал"
    );
    assert_eq!(
        sms::push(&loc, Language::Ru, tz, &offer),
        "Личный кабинет. Әли: место в саду. Ответ до 07.12 18:00: бот/портал"
    );
    // Every kind, the reminders too, with the longest name: one segment, the news whole.
    for kind in QuestionKind::ALL {
        for event_kind in [EventKind::Question, EventKind::QuestionReminder] {
            let e = event(event_kind, details(*kind), LONG_NUMBER, LONG_NAME);
            for lang in Language::ALL {
                let text = sms::push(&loc, lang, tz, &e);
                let topic = loc.text(lang, &format!("question-topic-{}", kind.as_str()));
                assert!(text.chars().count() <= SMS_MAX_CHARS, "{text}");
                assert!(
                    text.contains(&topic) && text.contains("07.12 18:00"),
                    "{text}"
                );
                assert!(text.contains("Ана"), "the name, cut if it must: {text}");
            }
        }
    }
}

#[test]
fn the_code_and_lock_sms_fit_one_segment() {
    let loc = loc();
    assert_eq!(
        sms::code(&loc, Language::Kk, "482913"),
        "Жеке кабинет: растау коды 482913. Оны ешкімге айтпаңыз."
    );
    assert_eq!(
        sms::code(&loc, Language::Ru, "482913"),
        "Личный кабинет: код подтверждения 482913. Никому его не сообщайте."
    );
    let tz = chrono_tz::Asia::Almaty;
    let until = Utc.with_ymd_and_hms(2026, 12, 31, 18, 59, 0).unwrap();
    assert_eq!(
        sms::locked(&loc, Language::Kk, until, tz),
        "Жеке кабинет бұғатталды: қате құпиясөз. Қайта кіру: 31.12 23:59"
    );
    assert_eq!(
        sms::locked(&loc, Language::Ru, until, tz),
        "Личный кабинет заблокирован: неверный пароль. Вход снова: 31.12 23:59"
    );
    for lang in Language::ALL {
        for text in [
            sms::code(&loc, lang, "482913"),
            sms::locked(&loc, lang, until, tz),
        ] {
            assert!(text.chars().count() <= SMS_MAX_CHARS, "{text}");
        }
    }
}

#[test]
fn the_demo_reads_the_same_on_every_day_of_the_week() {
    let reference = kabinet::demo::document();
    let monday = NaiveDate::from_ymd_opt(2027, 2, 1).unwrap();
    for offset in 0..7 {
        let today = monday + Duration::days(offset);
        let doc = kabinet::demo::document_for(today);
        let date_of = |v: &serde_json::Value| {
            chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
                .unwrap()
                .date_naive()
        };
        // The active referral: issued yesterday, due tomorrow.
        let active = doc["referrals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["status"] == "active")
            .unwrap();
        assert_eq!(
            date_of(&active["issued_at"]),
            today - Duration::days(1),
            "{today}"
        );
        assert_eq!(
            date_of(&active["valid_until"]),
            today + Duration::days(1),
            "{today}"
        );
        // The queue moved five days ago.
        let moved = doc["status_changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["application"] == "ALM-2026-000137" && c["queue_position"] == 37)
            .unwrap();
        assert_eq!(date_of(&moved["changed_at"]), today - Duration::days(5));
        // Attendance runs to the last school day before today, on school days only, as many
        // days as the document has.
        let mut last_school_day = today - Duration::days(1);
        while last_school_day.weekday().number_from_monday() > 5 {
            last_school_day -= Duration::days(1);
        }
        for (child, original) in doc["attendance"]
            .as_array()
            .unwrap()
            .iter()
            .zip(reference["attendance"].as_array().unwrap())
        {
            let days: Vec<NaiveDate> = child["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    NaiveDate::parse_from_str(r["date"].as_str().unwrap(), "%Y-%m-%d").unwrap()
                })
                .collect();
            assert_eq!(days.len(), original["records"].as_array().unwrap().len());
            assert_eq!(days.last(), Some(&last_school_day), "{today}");
            assert!(
                days.iter().all(|d| d.weekday().number_from_monday() <= 5),
                "{today}: {days:?}"
            );
            assert!(days.windows(2).all(|w| w[0] < w[1]), "in order, once each");
        }
        // School-year dates stay on 1 September.
        let desired = doc["applications"][0]["desired_date"].as_str().unwrap();
        assert!(desired.ends_with("-09-01"), "{desired}");
    }
}
