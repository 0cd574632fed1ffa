//! Read-then-writes that hold when several replicas write at once (SPEC §8): each story runs
//! the competing writes at the same moment, many pairs at a time, on SQLite and on
//! PostgreSQL — where, unlike SQLite, two writers really do interleave.

mod common;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use common::demo_now;
use futures::future::join_all;
use kabinet::domain::{Iin, Language, PortalId, ReferralStatus, Sex};
use kabinet::ingest;
use kabinet::storage::{
    ApplicationUpsert, Backend, CLAIM_LEASE, ReferralUpsert, StatusChange, StatusChangeOutcome,
    Storage, StorageError, Written,
};
use serde_json::json;

on_both_backends! {
    the_newer_of_two_status_changes_at_once_wins,
    two_first_applications_of_one_parent_at_once_open_one_cabinet,
    one_application_put_twice_at_once_is_written_once,
    a_referral_change_sent_twice_at_once_is_one_event,
    a_late_retry_never_reactivates_a_used_referral,
    two_saves_of_one_dialogue_at_once_keep_one,
    a_claim_past_its_lease_returns_to_the_queue,
    a_queued_push_wakes_the_sender_of_another_replica,
}

/// How many competing pairs each story runs at once.
const PAIRS: usize = 24;

/// Parent `i`'s IIN, and the IIN and birth date of their child number `child`.
fn family(i: usize, child: usize) -> (Iin, Iin, NaiveDate) {
    let parent_birth = NaiveDate::from_ymd_opt(1985, 1, 1).unwrap() + chrono::Days::new(i as u64);
    let child_birth =
        NaiveDate::from_ymd_opt(2021, 1, 1).unwrap() + chrono::Days::new((i * 2 + child) as u64);
    (
        common::valid_iin(parent_birth, Sex::Female),
        common::valid_iin(child_birth, Sex::Male),
        child_birth,
    )
}

/// Application `number` of parent `i` for their child `child`, in Almaty (demo data).
fn application(number: &str, i: usize, child: usize) -> ApplicationUpsert {
    let (parent, kid, birth) = family(i, child);
    common::kindergarten_application(number, &parent, &kid, birth)
}

fn referral(number: &str, application: &str, status: &str, valid_until: &str) -> ReferralUpsert {
    let body = json!({
        "application": application,
        "institution": "alm-ds-12",
        "group": "Ересектер тобы",
        "issued_at": "2026-11-24T09:00:00+05:00",
        "valid_until": valid_until,
        "status": status,
    });
    ingest::parse_referral(number, &body, "").expect("a valid referral")
}

async fn with_demo(s: &Storage) {
    kabinet::demo::load(s, demo_now())
        .await
        .expect("demo loads");
}

/// Writes one application per pair, numbered `{prefix}-{i}`.
async fn applications(s: &Storage, prefix: &str) -> Vec<String> {
    let mut numbers = Vec::new();
    for i in 0..PAIRS {
        let number = format!("{prefix}-{i}");
        s.upsert_application(&application(&number, i, 0), demo_now())
            .await
            .unwrap();
        numbers.push(number);
    }
    numbers
}

async fn the_newer_of_two_status_changes_at_once_wins(s: Storage) {
    with_demo(&s).await;
    let numbers = applications(&s, "CONC-ST").await;
    let at = demo_now();
    let change = |id: String, status: &str, changed_at: DateTime<Utc>| StatusChange {
        event_id: PortalId::parse(&id).unwrap(),
        status: kabinet::domain::ApplicationStatus::parse(status).unwrap(),
        changed_at,
        comment: None,
        queue_position: None,
    };
    // For each application the newer change («queued») and the older one («in review») at
    // once; whichever commits last, the newer must stand.
    let writes = numbers.iter().enumerate().flat_map(|(i, number)| {
        let number = PortalId::parse(number).unwrap();
        let newer = change(format!("e-{i}-new"), "queued", at);
        let older = change(format!("e-{i}-old"), "in_review", at - Duration::minutes(5));
        let s = s.clone();
        let s2 = s.clone();
        let n2 = number.clone();
        [
            tokio::spawn(async move { s.record_status_change(&number, &newer, at).await }),
            tokio::spawn(async move { s2.record_status_change(&n2, &older, at).await }),
        ]
    });
    for written in join_all(writes).await {
        written
            .expect("no panic")
            .expect("both changes are recorded");
    }
    let wrong = s
        .fetch_i64(
            "SELECT COUNT(*) FROM applications WHERE number LIKE 'CONC-ST-%' AND status <> 'queued'",
        )
        .await
        .unwrap();
    assert_eq!(wrong, 0, "an older change overwrote a newer one");
    let history = s
        .fetch_i64(
            "SELECT COUNT(*) FROM application_history h JOIN applications a ON a.id = h.application_id \
              WHERE a.number LIKE 'CONC-ST-%' AND h.event_id IS NOT NULL",
        )
        .await
        .unwrap();
    assert_eq!(history, 2 * PAIRS as i64, "both changes are in the history");
}

async fn two_first_applications_of_one_parent_at_once_open_one_cabinet(s: Storage) {
    with_demo(&s).await;
    let cabinets_before = s.fetch_i64("SELECT COUNT(*) FROM cabinets").await.unwrap();
    // Each parent's first two applications (one per child) arrive together.
    let writes = (0..PAIRS).flat_map(|i| {
        [0, 1].map(|child| {
            let s = s.clone();
            let a = application(&format!("CONC-FIRST-{i}-{child}"), i, child);
            tokio::spawn(async move { s.upsert_application(&a, demo_now()).await })
        })
    });
    let written: Vec<_> = join_all(writes)
        .await
        .into_iter()
        .map(|w| {
            w.expect("no panic")
                .expect("both first applications are taken")
        })
        .collect();
    for pair in written.chunks(2) {
        assert_eq!(
            pair[0].cabinet_id, pair[1].cabinet_id,
            "one parent, one cabinet"
        );
        assert_eq!(
            pair.iter().filter(|w| w.cabinet_created).count(),
            1,
            "exactly one of the two says it opened the cabinet"
        );
        assert!(pair.iter().all(|w| w.written == Written::Created));
    }
    let cabinets = s.fetch_i64("SELECT COUNT(*) FROM cabinets").await.unwrap();
    assert_eq!(cabinets - cabinets_before, PAIRS as i64);
    let children = s
        .fetch_i64(
            "SELECT COUNT(*) FROM cabinet_children cc JOIN applications a \
               ON a.cabinet_id = cc.cabinet_id AND a.child_iin = cc.child_iin \
              WHERE a.number LIKE 'CONC-FIRST-%'",
        )
        .await
        .unwrap();
    assert_eq!(
        children,
        2 * PAIRS as i64,
        "each cabinet shows both children"
    );
}

async fn one_application_put_twice_at_once_is_written_once(s: Storage) {
    with_demo(&s).await;
    let writes = (0..PAIRS).flat_map(|i| {
        [0, 1].map(|_| {
            let s = s.clone();
            let a = application(&format!("CONC-TWICE-{i}"), i, 0);
            tokio::spawn(async move { s.upsert_application(&a, demo_now()).await })
        })
    });
    let written: Vec<_> = join_all(writes)
        .await
        .into_iter()
        .map(|w| w.expect("no panic").expect("a retried PUT is taken"))
        .collect();
    for pair in written.chunks(2) {
        assert_eq!(pair[0].application_id, pair[1].application_id);
        let created = pair
            .iter()
            .filter(|w| w.written == Written::Created)
            .count();
        assert_eq!(created, 1, "one PUT created it, the other updated it");
    }
    let history = s
        .fetch_i64(
            "SELECT COUNT(*) FROM application_history h JOIN applications a ON a.id = h.application_id \
              WHERE a.number LIKE 'CONC-TWICE-%'",
        )
        .await
        .unwrap();
    assert_eq!(
        history, PAIRS as i64,
        "one first history row per application"
    );
}

async fn a_referral_change_sent_twice_at_once_is_one_event(s: Storage) {
    with_demo(&s).await;
    let numbers = applications(&s, "CONC-RA").await;
    let until = "2026-12-01T18:00:00+05:00";
    // The portal issues each referral twice at once (a retry racing the first try) …
    let issue = numbers.iter().enumerate().flat_map(|(i, number)| {
        [0, 1].map(|k| {
            let s = s.clone();
            let r = referral(&format!("CONC-R-{i}"), number, "active", until);
            let now = demo_now() + Duration::microseconds(k);
            tokio::spawn(async move { s.upsert_referral(&r, now).await })
        })
    });
    for w in join_all(issue).await {
        w.expect("no panic").expect("both tries are taken");
    }
    // … then marks it used twice at once, each try at its own moment.
    let used = numbers.iter().enumerate().flat_map(|(i, number)| {
        [0, 1].map(|k| {
            let s = s.clone();
            let r = referral(&format!("CONC-R-{i}"), number, "used", until);
            let now = demo_now() + Duration::seconds(10) + Duration::microseconds(k);
            tokio::spawn(async move { s.upsert_referral(&r, now).await })
        })
    });
    let used: Vec<_> = join_all(used)
        .await
        .into_iter()
        .map(|w| w.expect("no panic").expect("both tries are taken"))
        .collect();
    for pair in used.chunks(2) {
        assert_eq!(
            pair.iter().filter(|w| w.event_id.is_some()).count(),
            1,
            "one event for one change"
        );
    }
    let count = |kind: &'static str| {
        let s = s.clone();
        async move {
            s.fetch_i64(&format!(
                "SELECT COUNT(*) FROM events e JOIN referrals r ON r.id = e.referral_id \
                  WHERE r.number LIKE 'CONC-R-%' AND e.kind = '{kind}'"
            ))
            .await
            .unwrap()
        }
    };
    assert_eq!(count("referral_issued").await, PAIRS as i64);
    assert_eq!(count("referral_used").await, PAIRS as i64);
}

async fn a_late_retry_never_reactivates_a_used_referral(s: Storage) {
    with_demo(&s).await;
    let numbers = applications(&s, "CONC-LATE").await;
    let number = &numbers[0];
    let until = "2026-12-01T18:00:00+05:00";
    let put = |status: &str, until: &str, seconds: i64| {
        let s = s.clone();
        let r = referral("CONC-LATE-R", number, status, until);
        async move {
            s.upsert_referral(&r, demo_now() + Duration::seconds(seconds))
                .await
                .unwrap()
        }
    };
    assert!(put("active", until, 0).await.event_id.is_some());
    assert!(put("used", until, 10).await.event_id.is_some());
    // The first PUT's retry, arriving after «used»: nothing changes, nobody is told.
    let late = put("active", until, 20).await;
    assert_eq!((late.written, late.event_id), (Written::Updated, None));
    let status = s
        .fetch_i64(
            "SELECT COUNT(*) FROM referrals WHERE number = 'CONC-LATE-R' AND status = 'used'",
        )
        .await
        .unwrap();
    assert_eq!(status, 1, "the referral stays used");
    // Issued again with a new validity, it is active again, and the parent is told.
    let reissued = put("active", "2026-12-10T18:00:00+05:00", 30).await;
    assert!(reissued.event_id.is_some());
    let issued = s
        .fetch_i64(
            "SELECT COUNT(*) FROM events e JOIN referrals r ON r.id = e.referral_id \
              WHERE r.number = 'CONC-LATE-R' AND e.kind = 'referral_issued'",
        )
        .await
        .unwrap();
    assert_eq!(issued, 2);
    assert_eq!(ReferralStatus::parse("used").unwrap(), ReferralStatus::Used);
}

async fn two_saves_of_one_dialogue_at_once_keep_one(s: Storage) {
    let now = demo_now();
    let read = r#"{"state":"start"}"#;
    for chat in 0..PAIRS as i64 {
        s.ensure_chat(chat, chat, Language::Kk, read, now)
            .await
            .unwrap();
    }
    // Two handlers of one chat read the same dialogue and each saves its own next step.
    let saves = (0..PAIRS as i64).flat_map(|chat| {
        ["a", "b"].map(|step| {
            let s = s.clone();
            let next = format!(r#"{{"state":"{step}"}}"#);
            tokio::spawn(async move {
                let saved = s.save_dialogue(chat, read, &next, now).await;
                (next, saved)
            })
        })
    });
    let saves: Vec<_> = join_all(saves)
        .await
        .into_iter()
        .map(|w| w.expect("no panic"))
        .collect();
    for (chat, pair) in saves.chunks(2).enumerate() {
        let kept: Vec<&String> = pair
            .iter()
            .filter(|(_, saved)| saved.is_ok())
            .map(|(next, _)| next)
            .collect();
        assert_eq!(kept.len(), 1, "exactly one save wins: {pair:?}");
        assert!(
            pair.iter()
                .any(|(_, saved)| matches!(saved, Err(StorageError::Conflict(_)))),
            "the other is told it lost"
        );
        let stored = s.chat(chat as i64).await.unwrap().unwrap().dialogue;
        assert_eq!(&stored, kept[0], "the stored step is the winner's");
    }
}

/// A status change of a demo application seen by `chat`, logged into its parent's cabinet:
/// one Telegram delivery queued.
async fn queue_one_push(s: &Storage, chat: i64, event: &str) {
    let now = demo_now();
    let cabinet = s
        .find_cabinet(
            &kabinet::domain::LocalityCode::parse("shymkent").unwrap(),
            &Iin::parse("930708424680").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    s.ensure_chat(chat, chat, Language::Ru, "{}", now)
        .await
        .unwrap();
    if s.chat(chat).await.unwrap().unwrap().session().is_none() {
        s.start_session(chat, cabinet.id, now).await.unwrap();
    }
    let change = StatusChange {
        event_id: PortalId::parse(event).unwrap(),
        status: kabinet::domain::ApplicationStatus::Queued,
        changed_at: now,
        comment: None,
        queue_position: Some(3),
    };
    let outcome = s
        .record_status_change(&PortalId::parse("SHY-2026-000845").unwrap(), &change, now)
        .await
        .unwrap();
    assert!(matches!(outcome, StatusChangeOutcome::Recorded { .. }));
}

async fn a_claim_past_its_lease_returns_to_the_queue(s: Storage) {
    with_demo(&s).await;
    let now = demo_now();
    queue_one_push(&s, 5001, "lease-1").await;
    // A sender claimed it and then lost its database: the row stays `sending`.
    let claimed = s.claim_deliveries(now, 10, false).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let sending = "SELECT COUNT(*) FROM deliveries WHERE state = 'sending'";
    // Within the lease, nobody takes it back.
    let early = now + CLAIM_LEASE - Duration::seconds(1);
    assert_eq!(
        s.requeue_expired_claims(early, CLAIM_LEASE).await.unwrap(),
        0
    );
    assert_eq!(s.fetch_i64(sending).await.unwrap(), 1);
    // Past it, any replica's sweep puts it back, due at once, and it can be claimed again.
    let late = now + CLAIM_LEASE + Duration::seconds(1);
    assert_eq!(
        s.requeue_expired_claims(late, CLAIM_LEASE).await.unwrap(),
        1
    );
    assert_eq!(s.fetch_i64(sending).await.unwrap(), 0);
    let again = s.claim_deliveries(late, 10, false).await.unwrap();
    assert_eq!(
        again.iter().map(|d| d.id).collect::<Vec<_>>(),
        [claimed[0].id]
    );
    assert_eq!(again[0].attempts, 2, "the lost try counts");
}

async fn a_queued_push_wakes_the_sender_of_another_replica(s: Storage) {
    with_demo(&s).await;
    let Some(mut listener) = s.listen_outbox().await.unwrap() else {
        assert_eq!(s.backend(), Backend::Sqlite, "only SQLite has no listener");
        return;
    };
    // Another replica: its own connections to the same database.
    queue_one_push(&s, 5002, "notify-1").await;
    tokio::time::timeout(std::time::Duration::from_secs(5), listener.next())
        .await
        .expect("woken within a moment, not at the next sweep")
        .unwrap();
    // A write that queues nothing wakes nobody.
    s.ensure_chat(5003, 5003, Language::Kk, "{}", demo_now())
        .await
        .unwrap();
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(300), listener.next())
            .await
            .is_err()
    );
}
