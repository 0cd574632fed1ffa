//! The data model, told as stories, on SQLite and (when configured) PostgreSQL.

mod common;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use common::demo_now;
use kabinet::domain::{
    ApplicationKind, ApplicationStatus, AttendanceStatus, Channel, EventKind, Iin, Language,
    LocalityCode, OtpPurpose, PortalId, ReferralStatus,
};
use kabinet::storage::{
    CodeAllowance, CodeReservation, LockPolicy, PasswordAttempt, Requester, SessionEnd,
    StatusChange, StatusChangeOutcome, Storage, StorageError, WrongPassword,
};

const AIGERIM: &str = "900315412348";
const ERLAN: &str = "861120343215";
const AYALA: &str = "190902622229";
const DANA: &str = "200214633338";

fn code(s: &str) -> LocalityCode {
    LocalityCode::parse(s).unwrap()
}
fn iin(s: &str) -> Iin {
    Iin::parse(s).unwrap()
}

async fn demo(storage: &Storage) {
    let report = kabinet::demo::load(storage, demo_now())
        .await
        .expect("demo loads");
    assert!(report.failures.is_empty(), "{:?}", report.failures);
}

/// Aigerim's cabinet in Almaty, from the demo data.
async fn aigerims_cabinet(s: &Storage) -> kabinet::storage::Cabinet {
    s.find_cabinet(&code("almaty"), &iin(AIGERIM))
        .await
        .unwrap()
        .expect("the demo data has Aigerim's cabinet")
}

on_both_backends! {
    demo_data_loads_whole,
    cabinet_opens_with_the_first_application,
    lists_read_by_page,
    application_card_has_every_field,
    status_change_is_recorded_once,
    pushes_are_queued_for_every_channel_kept_on,
    referrals_and_their_events,
    files_clubs_and_attendance,
    another_parents_records_stay_hidden,
    sessions_start_and_end,
    confirmation_codes,
    codes_are_paced_per_number_and_capped_per_requester,
    a_chat_locks_itself_out_and_only_several_chats_lock_the_cabinet,
    a_lock_lasts_at_most_a_day,
    rate_limit_window,
    missing_references_are_named,
    forgetting_a_cabinet,
    importing_twice_changes_nothing,
    screens_read_alike_directly_and_through_the_pool,
}

async fn demo_data_loads_whole(s: Storage) {
    let report = kabinet::demo::load(&s, demo_now()).await.unwrap();
    assert_eq!(report.failures, vec![]);
    assert_eq!(s.count_localities().await.unwrap(), 3);
    assert_eq!(
        s.fetch_i64("SELECT COUNT(*) FROM cabinets").await.unwrap(),
        3
    );
    assert_eq!(
        s.fetch_i64("SELECT COUNT(*) FROM applications")
            .await
            .unwrap(),
        10
    );
    // Every application status and every referral status appears.
    for status in ApplicationStatus::ALL {
        let n = s
            .fetch_i64(&format!(
                "SELECT COUNT(*) FROM applications WHERE status = '{status}'"
            ))
            .await
            .unwrap();
        assert!(n >= 1, "no demo application is {status}");
    }
    for status in ReferralStatus::ALL {
        let n = s
            .fetch_i64(&format!(
                "SELECT COUNT(*) FROM referrals WHERE status = '{status}'"
            ))
            .await
            .unwrap();
        assert_eq!(n, 1, "demo referrals in status {status}");
    }
    let amp = s
        .fetch_i64(
            "SELECT COUNT(*) FROM institutions WHERE name_ru LIKE '%<%' AND name_ru LIKE '%&%'",
        )
        .await
        .unwrap();
    assert_eq!(amp, 1, "one institution name carries < > &");
}

async fn cabinet_opens_with_the_first_application(s: Storage) {
    demo(&s).await;
    let cabinet = aigerims_cabinet(&s).await;
    assert_eq!(cabinet.full_name, "Сейітова Айгерім Нұрланқызы");
    assert_eq!(cabinet.phone, "+77011234545");
    assert_eq!(cabinet.language, Language::Kk);
    assert!(cabinet.password_hash.is_none());
    assert!(cabinet.notify_telegram && !cabinet.notify_sms && !cabinet.notify_email);
    // The same IIN in another locality has no cabinet.
    assert!(
        s.find_cabinet(&code("astana"), &iin(AIGERIM))
            .await
            .unwrap()
            .is_none()
    );
    let apps = s.applications(cabinet.id, 0, 10).await.unwrap();
    assert_eq!((apps.total, apps.number), (3, 0));
    let apps = apps.items;
    assert_eq!(apps[0].number, "ALM-2026-007731", "newest submitted first");
    assert_eq!(s.children(cabinet.id).await.unwrap().len(), 2);
}

async fn lists_read_by_page(s: Storage) {
    demo(&s).await;
    let cabinet = aigerims_cabinet(&s).await;
    let ids = |page: &kabinet::storage::Page<kabinet::storage::ApplicationSummary>| {
        page.items.iter().map(|a| a.id).collect::<Vec<_>>()
    };
    let first = s.applications(cabinet.id, 0, 2).await.unwrap();
    assert_eq!((first.number, first.total, first.items.len()), (0, 3, 2));
    assert_eq!(first.pages(2), 2);
    let second = s.applications(cabinet.id, 1, 2).await.unwrap();
    assert_eq!((second.number, second.total, second.items.len()), (1, 3, 1));
    assert!(!ids(&first).contains(&ids(&second)[0]));
    // A page past the end (the list shrank since the button was drawn) reads the last one.
    let past = s.applications(cabinet.id, 9, 2).await.unwrap();
    assert_eq!(past, second);
    // The total counts the cabinet's own rows only.
    let events = s
        .fetch_i64(&format!(
            "SELECT COUNT(*) FROM events WHERE cabinet_id = {}",
            cabinet.id
        ))
        .await
        .unwrap();
    let feed = s.feed(cabinet.id, 0, 1).await.unwrap();
    assert_eq!((feed.total, feed.items.len()), (events, 1));
    assert!(events > 1, "the demo cabinet has a feed to page through");
    let referrals = s.referrals(cabinet.id, 5, 1).await.unwrap();
    assert_eq!((referrals.number, referrals.total), (1, 2));
    // Nothing to list: one empty page.
    let none = s.applications(-1, 3, 2).await.unwrap();
    assert_eq!((none.number, none.total, none.pages(2)), (0, 0, 1));
    assert!(none.items.is_empty());
}

async fn application_card_has_every_field(s: Storage) {
    demo(&s).await;
    let cabinet = aigerims_cabinet(&s).await;
    let apps = s.applications(cabinet.id, 0, 10).await.unwrap().items;
    let queued = apps.iter().find(|a| a.number == "ALM-2026-000137").unwrap();
    assert_eq!(queued.status, ApplicationStatus::Queued);
    assert_eq!(queued.queue_position, Some(37));
    let card = s
        .application_card(cabinet.id, queued.id)
        .await
        .unwrap()
        .unwrap();
    let a = &card.application;
    assert_eq!(a.child_name, "Сейітов Әли Ерболұлы");
    assert_eq!(
        a.child_birth_date,
        NaiveDate::from_ymd_opt(2021, 6, 10).unwrap()
    );
    assert_eq!(a.kind, ApplicationKind::Kindergarten);
    assert_eq!(a.desired_date, NaiveDate::from_ymd_opt(2027, 9, 1).unwrap());
    assert_eq!(
        a.submitted_at,
        Utc.with_ymd_and_hms(2026, 3, 10, 5, 15, 0).unwrap()
    );
    let institutions: Vec<_> = card.institutions.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        institutions,
        ["alm-ds-12", "alm-ds-45"],
        "in order of preference"
    );
    let history: Vec<_> = card
        .history
        .iter()
        .map(|h| (h.status, h.queue_position))
        .collect();
    assert_eq!(
        history,
        [
            (ApplicationStatus::Submitted, None),
            (ApplicationStatus::InReview, None),
            (ApplicationStatus::Queued, Some(52)),
            (ApplicationStatus::Queued, Some(37)),
        ]
    );
    assert_eq!(card.referral_id, None);
    let issued = apps.iter().find(|a| a.number == "ALM-2026-004512").unwrap();
    let card = s
        .application_card(cabinet.id, issued.id)
        .await
        .unwrap()
        .unwrap();
    assert!(card.referral_id.is_some());
}

async fn status_change_is_recorded_once(s: Storage) {
    demo(&s).await;
    let number = PortalId::parse("SHY-2026-000845").unwrap();
    let change = StatusChange {
        event_id: PortalId::parse("shy-845-2").unwrap(),
        status: ApplicationStatus::Queued,
        changed_at: demo_now(),
        comment: Some("Кезекке қойылды".into()),
        queue_position: Some(12),
    };
    let first = s
        .record_status_change(&number, &change, demo_now())
        .await
        .unwrap();
    let StatusChangeOutcome::Recorded { event_id } = first else {
        panic!("recorded: {first:?}")
    };
    let again = s
        .record_status_change(&number, &change, demo_now())
        .await
        .unwrap();
    assert_eq!(again, StatusChangeOutcome::Replayed);
    let cabinet = s
        .find_cabinet(&code("shymkent"), &iin("930708424680"))
        .await
        .unwrap()
        .unwrap();
    let feed = s.feed(cabinet.id, 0, 50).await.unwrap().items;
    assert_eq!(feed.iter().filter(|e| e.id == event_id).count(), 1);
    assert_eq!(feed[0].id, event_id, "newest first");
    assert_eq!(feed[0].kind, EventKind::ApplicationStatus);
    // An older change goes into the history but does not overwrite the newer status.
    let late = StatusChange {
        event_id: PortalId::parse("shy-845-late").unwrap(),
        status: ApplicationStatus::InReview,
        changed_at: demo_now() - Duration::hours(1),
        comment: None,
        queue_position: None,
    };
    s.record_status_change(&number, &late, demo_now())
        .await
        .unwrap();
    let apps = s.applications(cabinet.id, 0, 10).await.unwrap().items;
    let app = apps.iter().find(|a| a.number == "SHY-2026-000845").unwrap();
    assert_eq!(
        (app.status, app.queue_position),
        (ApplicationStatus::Queued, Some(12))
    );
    let unknown = s
        .record_status_change(&PortalId::parse("NOPE-1").unwrap(), &change, demo_now())
        .await;
    assert!(matches!(unknown, Err(StorageError::NotFound)));
}

async fn pushes_are_queued_for_every_channel_kept_on(s: Storage) {
    demo(&s).await;
    let cabinet = s
        .find_cabinet(&code("shymkent"), &iin("930708424680"))
        .await
        .unwrap()
        .unwrap();
    let now = demo_now();
    for chat in [1001, 1002] {
        s.ensure_chat(chat, chat, Language::Ru, "{}", now)
            .await
            .unwrap();
        s.start_session(chat, cabinet.id, now).await.unwrap();
    }
    s.ensure_chat(1003, 1003, Language::Ru, "{}", now)
        .await
        .unwrap();
    s.start_session(1003, cabinet.id, now).await.unwrap();
    s.mark_chat_blocked(1003, now).await.unwrap();
    s.execute_raw(&format!(
        "UPDATE cabinets SET notify_sms = TRUE, notify_email = TRUE WHERE id = {}",
        cabinet.id
    ))
    .await
    .unwrap();
    let change = StatusChange {
        event_id: PortalId::parse("push-1").unwrap(),
        status: ApplicationStatus::Queued,
        changed_at: now,
        comment: None,
        queue_position: Some(3),
    };
    let StatusChangeOutcome::Recorded { event_id } = s
        .record_status_change(&PortalId::parse("SHY-2026-000845").unwrap(), &change, now)
        .await
        .unwrap()
    else {
        panic!("recorded")
    };
    let deliveries = s.deliveries_of_event(event_id).await.unwrap();
    let mut seen: Vec<(Channel, Option<i64>, Option<String>)> = deliveries
        .iter()
        .map(|d| (d.channel, d.chat_id, d.address.clone()))
        .collect();
    seen.sort_by_key(|(c, chat, _)| (c.as_str(), *chat));
    assert_eq!(
        seen,
        vec![
            (
                Channel::Email,
                None,
                Some("gulnar.omarova@example.kz".into())
            ),
            (Channel::Sms, None, Some("+77059876543".into())),
            (Channel::Telegram, Some(1001), None),
            (Channel::Telegram, Some(1002), None),
        ],
        "every live chat but the blocked one, the phone and the e-mail"
    );
    assert!(
        deliveries
            .iter()
            .all(|d| d.state == "pending" && d.attempts == 0)
    );
}

async fn referrals_and_their_events(s: Storage) {
    demo(&s).await;
    let cabinet = aigerims_cabinet(&s).await;
    let referrals = s.referrals(cabinet.id, 0, 10).await.unwrap();
    assert_eq!(referrals.total, 2);
    let referrals = referrals.items;
    let active = &referrals[0];
    assert_eq!(active.number, "ALM-R-2026-0451");
    assert_eq!(active.status, ReferralStatus::Active);
    assert_eq!(active.application_number, "ALM-2026-004512");
    assert_eq!(active.institution_name(Language::Ru), "Школа-гимназия №154");
    assert_eq!(
        active.valid_until,
        Utc.with_ymd_and_hms(2026, 11, 26, 13, 0, 0).unwrap()
    );
    let feed = s.feed(cabinet.id, 0, 100).await.unwrap().items;
    assert!(
        feed.iter()
            .any(|e| e.kind == EventKind::ReferralIssued && e.referral_id == Some(active.id))
    );
    // The same PUT again records nothing; a new status records one event.
    let mut upsert = kabinet::ingest::parse_referral(
        "ALM-R-2026-0451",
        &kabinet::demo::document()["referrals"][0],
        "referrals[0]",
    )
    .unwrap();
    let again = s.upsert_referral(&upsert, demo_now()).await.unwrap();
    assert_eq!(again.event_id, None);
    upsert.status = ReferralStatus::Used;
    let used = s.upsert_referral(&upsert, demo_now()).await.unwrap();
    let event = s
        .event(cabinet.id, used.event_id.expect("an event"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.kind, EventKind::ReferralUsed);
}

async fn files_clubs_and_attendance(s: Storage) {
    demo(&s).await;
    let cabinet = aigerims_cabinet(&s).await;
    let file = s.child_file(cabinet.id, AYALA).await.unwrap().unwrap();
    let placement = file.placement.unwrap();
    assert_eq!(placement.group_name.get(Language::Kk), "1 «Ә» сынып");
    assert_eq!(
        placement.group_name.get(Language::Ru),
        "1 «Ә» класс",
        "a text the portal sent in both languages is kept in both"
    );
    let clubs: Vec<_> = file.clubs.iter().map(|c| c.name(Language::Kk)).collect();
    assert_eq!(clubs, ["Шахмат", "Домбыра"]);
    let from = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let october = s.attendance(cabinet.id, AYALA, from, to).await.unwrap();
    assert_eq!(october.len(), 22, "the weekdays of October 2026");
    assert!(october.iter().any(|d| d.status == AttendanceStatus::Absent));
    // A club the portal no longer lists is left; a new one is an event.
    let mut upsert = kabinet::ingest::parse_child_file(
        AYALA,
        &kabinet::demo::document()["files"][1],
        "files[1]",
    )
    .unwrap();
    upsert.clubs.remove(0);
    let written = s.upsert_child_file(&upsert, demo_now()).await.unwrap();
    assert!(written.new_clubs.is_empty() && written.events.is_empty());
    let file = s.child_file(cabinet.id, AYALA).await.unwrap().unwrap();
    assert_eq!(file.clubs.len(), 1);
}

async fn another_parents_records_stay_hidden(s: Storage) {
    demo(&s).await;
    let aigerim = aigerims_cabinet(&s).await;
    let erlan = s
        .find_cabinet(&code("astana"), &iin(ERLAN))
        .await
        .unwrap()
        .unwrap();
    let erlans_app = s.applications(erlan.id, 0, 1).await.unwrap().items[0].id;
    let erlans_referral = s.referrals(erlan.id, 0, 1).await.unwrap().items[0].id;
    let erlans_event = s.feed(erlan.id, 0, 1).await.unwrap().items[0].id;
    assert!(
        s.application_card(aigerim.id, erlans_app)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.referral(aigerim.id, erlans_referral)
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.child_file(aigerim.id, DANA).await.unwrap().is_none());
    assert!(s.event(aigerim.id, erlans_event).await.unwrap().is_none());
    let from = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
    assert!(
        s.attendance(aigerim.id, DANA, from, from + Duration::days(60))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.mark_read(aigerim.id, &[erlans_event], demo_now())
            .await
            .unwrap(),
        0
    );
}

async fn sessions_start_and_end(s: Storage) {
    demo(&s).await;
    let cabinet = aigerims_cabinet(&s).await;
    let now = demo_now();
    s.ensure_chat(10, 77, Language::Kk, r#"{"state":"start"}"#, now)
        .await
        .unwrap();
    let chat = s.chat(10).await.unwrap().unwrap();
    assert_eq!(
        (chat.user_id, chat.language, chat.session()),
        (77, Language::Kk, None)
    );
    assert_eq!(chat.dialogue, r#"{"state":"start"}"#);
    s.save_dialogue(10, r#"{"state":"start"}"#, r#"{"state":"menu"}"#, now)
        .await
        .unwrap();
    let session = s.start_session(10, cabinet.id, now).await.unwrap();
    s.set_chat_language(10, Language::Ru, now).await.unwrap();
    let chat = s.chat(10).await.unwrap().unwrap();
    assert_eq!(
        chat.session().map(|s| (s.id, s.cabinet_id)),
        Some((session, cabinet.id))
    );
    assert_eq!(chat.dialogue, r#"{"state":"menu"}"#);
    assert_eq!(chat.language, Language::Ru);
    assert_eq!(
        s.cabinet(cabinet.id).await.unwrap().unwrap().language,
        Language::Ru,
        "pushes follow the chat's language"
    );
    // A second chat; a password change elsewhere ends it but not this one.
    s.ensure_chat(11, 78, Language::Kk, "{}", now)
        .await
        .unwrap();
    s.start_session(11, cabinet.id, now).await.unwrap();
    assert_eq!(s.live_chats(cabinet.id).await.unwrap(), vec![10, 11]);
    assert_eq!(
        s.end_cabinet_sessions(cabinet.id, Some(10), SessionEnd::PasswordChanged, now)
            .await
            .unwrap(),
        1
    );
    assert_eq!(s.live_chats(cabinet.id).await.unwrap(), vec![10]);
    // Idle expiry (used after `idle_since`: kept; begun after `started_before`: kept).
    s.touch_session(session, now + Duration::days(1))
        .await
        .unwrap();
    let long_ago = now - Duration::days(365);
    assert_eq!(
        s.expire_sessions(now, long_ago, now + Duration::days(2))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.expire_sessions(now + Duration::days(2), long_ago, now + Duration::days(40))
            .await
            .unwrap(),
        1
    );
    assert!(s.chat(10).await.unwrap().unwrap().session().is_none());
    assert!(
        !s.end_chat_session(10, SessionEnd::Logout, now)
            .await
            .unwrap()
    );
    let reason = s
        .fetch_i64("SELECT COUNT(*) FROM sessions WHERE end_reason = 'idle'")
        .await
        .unwrap();
    assert_eq!(reason, 1);
}

async fn confirmation_codes(s: Storage) {
    demo(&s).await;
    let cabinet = aigerims_cabinet(&s).await;
    let now = demo_now();
    let ttl = std::time::Duration::from_secs(300);
    let code = |chat: i64, seal: &'static str, at| {
        let s = s.clone();
        async move {
            s.create_otp(
                cabinet.id,
                chat,
                None,
                OtpPurpose::Login,
                "+77011234545",
                seal,
                ttl,
                at,
            )
            .await
            .unwrap()
        }
    };
    let first = code(10, "seal-1", now).await;
    let second = code(10, "seal-2", now + Duration::seconds(61)).await;
    let strangers = code(11, "seal-3", now + Duration::seconds(62)).await;
    let latest = s
        .latest_otp(cabinet.id, 10, OtpPurpose::Login)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((latest.id, latest.code_hash.as_str()), (second, "seal-2"));
    assert_eq!(latest.expires_at, now + Duration::seconds(361));
    assert!(
        !s.consume_otp(first, now).await.unwrap(),
        "a newer code of the chat voids its older one"
    );
    let at = now + Duration::seconds(70);
    let attempt = s
        .reserve_code_attempt(cabinet.id, 10, OtpPurpose::Login, 2, at)
        .await
        .unwrap()
        .expect("the chat's live code");
    assert_eq!((attempt.id, attempt.attempts), (second, 1));
    assert_eq!(
        s.reserve_code_attempt(cabinet.id, 10, OtpPurpose::Login, 2, at)
            .await
            .unwrap()
            .map(|o| o.attempts),
        Some(2)
    );
    assert_eq!(
        s.reserve_code_attempt(cabinet.id, 10, OtpPurpose::Login, 2, at)
            .await
            .unwrap(),
        None,
        "out of attempts"
    );
    // Another chat's code is its own: the stranger's request left the parent's alone.
    assert!(s.consume_otp(second, at).await.unwrap());
    assert!(
        !s.consume_otp(second, at).await.unwrap(),
        "a code is good once"
    );
    let theirs = s
        .reserve_code_attempt(cabinet.id, 11, OtpPurpose::Login, 5, at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(theirs.id, strangers);
    assert_eq!(
        s.reserve_code_attempt(
            cabinet.id,
            11,
            OtpPurpose::Login,
            5,
            now + Duration::hours(1)
        )
        .await
        .unwrap(),
        None,
        "expired"
    );
}

const AIGERIMS_PHONE: &str = "+77011234545";

fn allowance() -> CodeAllowance {
    CodeAllowance {
        resend_after: std::time::Duration::from_secs(60),
        own_chats: 3,
        new_chat: 2,
        new_user: 3,
    }
}

fn who(chat: i64) -> Requester {
    Requester { chat, user: chat }
}

async fn codes_are_paced_per_number_and_capped_per_requester(s: Storage) {
    demo(&s).await;
    let cabinet = aigerims_cabinet(&s).await;
    let now = demo_now();
    // Chat 10 has held a session of the cabinet: it is one of the parent's own.
    s.ensure_chat(10, 10, Language::Kk, "{}", now)
        .await
        .unwrap();
    s.start_session(10, cabinet.id, now).await.unwrap();
    let reserve = |chat: i64, to: &'static str, at| {
        let s = s.clone();
        async move {
            s.reserve_code(cabinet.id, who(chat), to, allowance(), at)
                .await
                .unwrap()
        }
    };
    let at = |secs| now + Duration::seconds(secs);
    assert_eq!(
        reserve(10, AIGERIMS_PHONE, now).await,
        CodeReservation::Granted
    );
    assert_eq!(
        reserve(10, AIGERIMS_PHONE, at(30)).await,
        CodeReservation::WaitUntil(at(60)),
        "one code a minute to one number"
    );
    // The pause is the number's: a code to another number goes at once.
    assert_eq!(
        reserve(10, "+77019998877", at(30)).await,
        CodeReservation::Granted
    );
    assert_eq!(
        reserve(10, AIGERIMS_PHONE, at(60)).await,
        CodeReservation::Granted
    );
    assert_eq!(
        reserve(10, AIGERIMS_PHONE, at(120)).await,
        CodeReservation::DailyLimit,
        "the parent's own chats share OTP_DAILY_LIMIT"
    );
    // A refused request leaves no trace: the number's pause did not start again.
    assert_eq!(
        reserve(11, AIGERIMS_PHONE, at(120)).await,
        CodeReservation::Granted
    );
    // A stranger's chat has its own allowance for the cabinet, and no more.
    assert_eq!(
        reserve(11, AIGERIMS_PHONE, at(180)).await,
        CodeReservation::Granted
    );
    assert_eq!(
        reserve(11, AIGERIMS_PHONE, at(240)).await,
        CodeReservation::DailyLimit
    );
    // Its Telegram user has a small allowance across cabinets: one more, for Erlan's.
    let erlan = s
        .find_cabinet(
            &LocalityCode::parse("astana").unwrap(),
            &Iin::parse("861120343215").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    let erlans = |at| s.reserve_code(erlan.id, who(11), "+77771112233", allowance(), at);
    assert_eq!(erlans(at(300)).await.unwrap(), CodeReservation::Granted);
    assert_eq!(
        erlans(at(400)).await.unwrap(),
        CodeReservation::DailyLimit,
        "OTP_USER_DAILY_LIMIT across cabinets"
    );
    assert_eq!(
        reserve(10, AIGERIMS_PHONE, now + Duration::hours(24)).await,
        CodeReservation::Granted,
        "a new day"
    );
}

/// A password attempt of `chat` at Aigerim's cabinet.
async fn attempt(
    s: &Storage,
    cabinet: i64,
    chat: i64,
    at: chrono::DateTime<chrono::Utc>,
) -> PasswordAttempt {
    s.reserve_password_attempt(cabinet, chat, 5, at)
        .await
        .unwrap()
}

const POLICY: LockPolicy = LockPolicy {
    chat_failures: 5,
    cabinet_failures: 10,
    lockout: std::time::Duration::from_secs(15 * 60),
};

/// A wrong password of `chat`, reserved and recorded.
async fn wrong(
    s: &Storage,
    cabinet: i64,
    chat: i64,
    at: chrono::DateTime<chrono::Utc>,
) -> WrongPassword {
    let reserved = attempt(s, cabinet, chat, at).await;
    assert!(
        matches!(reserved, PasswordAttempt::Check { .. }),
        "{reserved:?}"
    );
    s.record_wrong_password(cabinet, chat, POLICY, at)
        .await
        .unwrap()
}

async fn a_chat_locks_itself_out_and_only_several_chats_lock_the_cabinet(s: Storage) {
    demo(&s).await;
    let cabinet = aigerims_cabinet(&s).await.id;
    let now = demo_now();
    s.set_password_hash(cabinet, "$argon2id$stub", now)
        .await
        .unwrap();
    for n in 1..=4 {
        let w = wrong(&s, cabinet, 10, now).await;
        assert_eq!((w.chat_left, w.chat_locked_until), (5 - n, None));
    }
    let fifth = wrong(&s, cabinet, 10, now).await;
    assert_eq!(fifth.chat_locked_until, Some(now + Duration::minutes(15)));
    assert_eq!(
        fifth.cabinet_locked_until, None,
        "one chat never locks the cabinet"
    );
    assert_eq!(
        attempt(&s, cabinet, 10, now + Duration::minutes(14)).await,
        PasswordAttempt::ChatLocked(now + Duration::minutes(15)),
        "nothing is checked from the locked chat"
    );
    assert!(
        matches!(
            attempt(&s, cabinet, 20, now + Duration::minutes(14)).await,
            PasswordAttempt::Check { failures: 1, .. }
        ),
        "another chat still may"
    );
    s.record_login_success(cabinet, 20).await.unwrap();
    // The same chat again after its lock: the lock doubles; still the cabinet is open.
    let later = now + Duration::minutes(15);
    for _ in 0..4 {
        wrong(&s, cabinet, 10, later).await;
    }
    let again = wrong(&s, cabinet, 10, later).await;
    assert_eq!(
        again.chat_locked_until,
        Some(later + Duration::minutes(30)),
        "doubled"
    );
    assert_eq!(again.cabinet_locked_until, None);
    // Wrong passwords from a second chat: ten in a day from two chats lock the cabinet.
    let from_two = wrong(&s, cabinet, 11, later).await;
    assert_eq!(
        from_two.cabinet_locked_until,
        Some(later + Duration::minutes(15))
    );
    assert_eq!(
        attempt(&s, cabinet, 12, later + Duration::minutes(1)).await,
        PasswordAttempt::CabinetLocked(later + Duration::minutes(15))
    );
    // A day without failures forgets them: the next lock is the first one's length again.
    let next_day = later + Duration::hours(25);
    for _ in 0..4 {
        wrong(&s, cabinet, 10, next_day).await;
    }
    assert_eq!(
        wrong(&s, cabinet, 10, next_day).await.chat_locked_until,
        Some(next_day + Duration::minutes(15)),
        "repeat locks decay after a day without failures"
    );
    // Proving the phone and setting a new password lifts every lock.
    s.set_password_hash(cabinet, "$argon2id$new", next_day)
        .await
        .unwrap();
    let c = s.cabinet(cabinet).await.unwrap().unwrap();
    assert_eq!((c.failed_logins, c.locked_until, c.lockouts), (0, None, 0));
    assert!(matches!(
        attempt(&s, cabinet, 10, next_day).await,
        PasswordAttempt::Check { failures: 1, .. }
    ));
}

async fn a_lock_lasts_at_most_a_day(s: Storage) {
    demo(&s).await;
    let cabinet = aigerims_cabinet(&s).await.id;
    let mut at = demo_now();
    s.set_password_hash(cabinet, "$argon2id$stub", at)
        .await
        .unwrap();
    let mut last = None;
    // Ten locks in a row, each tried again as soon as the one before ends.
    for _ in 0..10 {
        for _ in 0..5 {
            last = wrong(&s, cabinet, 10, at).await.chat_locked_until;
        }
        let until = last.expect("the fifth locks");
        assert!(until - at <= Duration::hours(24), "{}", until - at);
        at = until;
    }
    assert_eq!(last.map(|until| until - at), Some(Duration::zero()));
    assert_eq!(
        kabinet::storage::lock_length(POLICY.lockout, 9),
        Duration::hours(24)
    );
    assert_eq!(
        kabinet::storage::lock_length(POLICY.lockout, 2),
        Duration::hours(1)
    );
}

async fn rate_limit_window(s: Storage) {
    let now = demo_now();
    let window = std::time::Duration::from_secs(600);
    for _ in 0..3 {
        assert!(s.rate_limit_hit("iin:42", 3, window, now).await.unwrap());
    }
    assert!(
        !s.rate_limit_hit("iin:42", 3, window, now + Duration::seconds(599))
            .await
            .unwrap()
    );
    assert!(
        s.rate_limit_hit("iin:43", 3, window, now).await.unwrap(),
        "buckets are separate"
    );
    assert!(
        s.rate_limit_hit("iin:42", 3, window, now + Duration::seconds(600))
            .await
            .unwrap(),
        "a new window"
    );
}

async fn missing_references_are_named(s: Storage) {
    demo(&s).await;
    let doc = kabinet::demo::document();
    let mut app = doc["applications"][0].clone();
    app["institutions"] = serde_json::json!(["alm-ds-12", "no-such-school"]);
    let upsert = kabinet::ingest::parse_application("NEW-1", &app, "").unwrap();
    let err = s.upsert_application(&upsert, demo_now()).await.unwrap_err();
    assert!(
        matches!(err, StorageError::MissingReference { ref field } if field == "institutions[1]"),
        "{err:?}"
    );
    let mut inst = doc["institutions"][0].clone();
    inst["locality"] = "atyrau".into();
    let upsert = kabinet::ingest::parse_institution("x-1", &inst, "").unwrap();
    let err = s.upsert_institution(&upsert, demo_now()).await.unwrap_err();
    assert!(
        matches!(err, StorageError::MissingReference { ref field } if field == "locality"),
        "{err:?}"
    );
    // Nothing of the refused application was written.
    assert_eq!(
        s.fetch_i64("SELECT COUNT(*) FROM applications WHERE number = 'NEW-1'")
            .await
            .unwrap(),
        0
    );
}

async fn forgetting_a_cabinet(s: Storage) {
    demo(&s).await;
    let cabinet = s
        .find_cabinet(&code("astana"), &iin(ERLAN))
        .await
        .unwrap()
        .unwrap();
    s.ensure_chat(20, 20, Language::Kk, "{}", demo_now())
        .await
        .unwrap();
    s.start_session(20, cabinet.id, demo_now()).await.unwrap();
    assert!(
        s.delete_cabinet(&code("astana"), &iin(ERLAN))
            .await
            .unwrap()
    );
    assert!(
        s.find_cabinet(&code("astana"), &iin(ERLAN))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.chat(20).await.unwrap().unwrap().session().is_none(),
        "its sessions end"
    );
    for table in [
        "applications",
        "referrals",
        "events",
        "child_files",
        "attendance",
    ] {
        let n = s
            .fetch_i64(&format!(
                "SELECT COUNT(*) FROM {table} WHERE {} ",
                match table {
                    "applications" => "number LIKE 'AST-%'",
                    "referrals" => "number LIKE 'AST-%'",
                    "events" => "cabinet_id NOT IN (SELECT id FROM cabinets)",
                    _ => "child_iin IN ('200214633338', '220505544441')",
                }
            ))
            .await
            .unwrap();
        assert_eq!(n, 0, "{table} keeps nothing of the forgotten cabinet");
    }
    assert!(
        !s.delete_cabinet(&code("astana"), &iin(ERLAN))
            .await
            .unwrap()
    );
}

async fn importing_twice_changes_nothing(s: Storage) {
    demo(&s).await;
    let count = |t: &'static str| {
        let s = s.clone();
        async move {
            s.fetch_i64(&format!("SELECT COUNT(*) FROM {t}"))
                .await
                .unwrap()
        }
    };
    let before = (
        count("events").await,
        count("application_history").await,
        count("cabinets").await,
    );
    let report = kabinet::demo::load(&s, demo_now()).await.unwrap();
    assert_eq!(report.created, 0, "{report:?}");
    assert_eq!(
        report.unchanged,
        19 + 2,
        "every status change and question is a replay"
    );
    let after = (
        count("events").await,
        count("application_history").await,
        count("cabinets").await,
    );
    assert_eq!(before, after);
}

/// On SQLite the bot's screens are read on a connection of their own, on the calling thread
/// (PostgreSQL reads through the pool only): every such read answers what the pool answers,
/// for every cabinet's records and for records of other cabinets alike.
async fn screens_read_alike_directly_and_through_the_pool(s: Storage) {
    demo(&s).await;
    let pool = s.without_direct();
    assert_eq!(
        s.runs_directly(),
        s.backend() == kabinet::storage::Backend::Sqlite
    );
    assert!(!pool.runs_directly());
    let now = demo_now();
    let ids = |sql: &'static str| {
        let s = s.clone();
        async move {
            let n = s
                .fetch_i64(&format!("SELECT COUNT(*) FROM ({sql}) x"))
                .await
                .unwrap();
            let mut ids = Vec::new();
            for i in 0..n {
                let id = s
                    .fetch_i64(&format!(
                        "SELECT id FROM ({sql}) x ORDER BY id LIMIT 1 OFFSET {i}"
                    ))
                    .await
                    .unwrap();
                ids.push(id);
            }
            ids
        }
    };
    let cabinets = ids("SELECT id FROM cabinets").await;
    let applications = ids("SELECT id FROM applications").await;
    let referrals = ids("SELECT id FROM referrals").await;
    let events = ids("SELECT id FROM events").await;
    assert!(cabinets.len() == 3 && !applications.is_empty() && !referrals.is_empty());
    // A chat with a session and one without.
    s.ensure_chat(31, 31, Language::Ru, "{}", now)
        .await
        .unwrap();
    s.ensure_chat(32, 32, Language::Kk, "{}", now)
        .await
        .unwrap();
    s.start_session(31, cabinets[0], now).await.unwrap();
    for chat in [31, 32, 33] {
        assert_eq!(s.chat(chat).await.unwrap(), pool.chat(chat).await.unwrap());
    }
    assert!(s.chat(31).await.unwrap().unwrap().session().is_some());
    assert_eq!(
        s.locality("almaty").await.unwrap(),
        pool.locality("almaty").await.unwrap()
    );
    for &cabinet in &cabinets {
        let summary = |c: Option<kabinet::storage::Cabinet>| {
            c.map(|c| {
                (
                    c.id,
                    c.locality,
                    c.iin,
                    c.full_name,
                    c.phone,
                    c.email,
                    c.language,
                )
            })
        };
        let (direct, pooled) = (
            s.cabinet(cabinet).await.unwrap(),
            pool.cabinet(cabinet).await.unwrap(),
        );
        let flags = |c: &Option<kabinet::storage::Cabinet>| {
            c.as_ref().map(|c| {
                (
                    c.password_hash.clone(),
                    c.notify_telegram,
                    c.notify_sms,
                    c.notify_email,
                    c.failed_logins,
                    c.lockouts,
                    c.locked_until,
                    c.created_at,
                    c.consented_at,
                )
            })
        };
        assert_eq!(flags(&direct), flags(&pooled));
        assert_eq!(summary(direct), summary(pooled));
        assert_eq!(
            s.unread_count(cabinet).await.unwrap(),
            pool.unread_count(cabinet).await.unwrap()
        );
        // Pages of 2, past the end too (the last page is read then).
        for page in [0, 1, 2, 9] {
            assert_eq!(
                s.applications(cabinet, page, 2).await.unwrap(),
                pool.applications(cabinet, page, 2).await.unwrap()
            );
            assert_eq!(
                s.referrals(cabinet, page, 2).await.unwrap(),
                pool.referrals(cabinet, page, 2).await.unwrap()
            );
            assert_eq!(
                s.feed(cabinet, page, 2).await.unwrap(),
                pool.feed(cabinet, page, 2).await.unwrap()
            );
        }
        for &id in &applications {
            assert_eq!(
                s.application_card(cabinet, id).await.unwrap(),
                pool.application_card(cabinet, id).await.unwrap()
            );
        }
        for &id in &referrals {
            assert_eq!(
                s.referral(cabinet, id).await.unwrap(),
                pool.referral(cabinet, id).await.unwrap()
            );
        }
        for &id in &events {
            assert_eq!(
                s.event(cabinet, id).await.unwrap(),
                pool.event(cabinet, id).await.unwrap()
            );
        }
        let children = s.children(cabinet).await.unwrap();
        assert_eq!(children, pool.children(cabinet).await.unwrap());
        for iin in children.iter().map(|c| c.iin.as_str()).chain([AIGERIM]) {
            assert_eq!(
                s.child_file(cabinet, iin).await.unwrap(),
                pool.child_file(cabinet, iin).await.unwrap()
            );
            for month in 1..=12 {
                let from = NaiveDate::from_ymd_opt(2026, month, 1).unwrap();
                let to = from + Duration::days(31);
                let today = now.date_naive();
                assert_eq!(
                    s.attendance(cabinet, iin, from, to).await.unwrap(),
                    pool.attendance(cabinet, iin, from, to).await.unwrap()
                );
                assert_eq!(
                    s.attendance_around(cabinet, iin, from, to, today)
                        .await
                        .unwrap(),
                    pool.attendance_around(cabinet, iin, from, to, today)
                        .await
                        .unwrap()
                );
            }
        }
    }
    // The dialogue's compare-and-set and events shown as read, written on either.
    for (storage, chat) in [(&s, 31), (&pool, 32)] {
        storage
            .save_dialogue(chat, "{}", r#"{"a":1}"#, now)
            .await
            .unwrap();
        let stale = storage.save_dialogue(chat, "{}", r#"{"a":2}"#, now).await;
        assert!(matches!(stale, Err(StorageError::Conflict(_))), "{stale:?}");
        assert_eq!(
            pool.chat(chat).await.unwrap().unwrap().dialogue,
            r#"{"a":1}"#
        );
    }
    let unread = |cabinet| {
        let pool = pool.clone();
        async move {
            let feed = pool.feed(cabinet, 0, 100).await.unwrap();
            feed.items
                .iter()
                .filter(|e| e.read_at.is_none())
                .map(|e| e.id)
                .collect::<Vec<_>>()
        }
    };
    let (first, second) = (unread(cabinets[0]).await, unread(cabinets[1]).await);
    assert!(!first.is_empty() && !second.is_empty());
    // Another cabinet's ids are not marked.
    let marked = s
        .mark_read(cabinets[0], &[first.clone(), second.clone()].concat(), now)
        .await;
    assert_eq!(marked.unwrap(), first.len() as u64);
    assert_eq!(
        pool.mark_read(cabinets[1], &second, now).await.unwrap(),
        second.len() as u64
    );
    assert!(unread(cabinets[0]).await.is_empty() && unread(cabinets[1]).await.is_empty());
    // Every statement above was run by the direct connection itself.
    assert_eq!(s.direct_statements_passed(), 0);
}
