//! The hot paths of one update: reading an IIN, decoding a button, rendering texts, and the
//! storage queries behind a screen. `cargo bench --bench hot_paths`; figures in
//! BENCHMARKS.md.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kabinet::domain::{EventKind, Iin, Language, LocalityCode};
use kabinet::i18n::Localizer;
use kabinet::messages::Callback;
use kabinet::messages::event_line;
use kabinet::storage::{Event, Storage};

fn iin(c: &mut Criterion) {
    c.bench_function("iin/parse valid", |b| {
        b.iter(|| Iin::parse(black_box("900315412348")))
    });
    c.bench_function("iin/parse wrong control digit", |b| {
        b.iter(|| Iin::parse(black_box("900315412349")))
    });
}

fn callbacks(c: &mut Criterion) {
    let attendance = Callback::Attendance {
        child: 1,
        year: 2026,
        month: 11,
    };
    let encoded = attendance.encode();
    c.bench_function("callback/encode", |b| {
        b.iter(|| black_box(&attendance).encode())
    });
    c.bench_function("callback/decode", |b| {
        b.iter(|| Callback::decode(black_box(&encoded)))
    });
    c.bench_function("callback/decode forged", |b| {
        b.iter(|| Callback::decode(black_box("app:99999999999999999999999")))
    });
}

fn texts(c: &mut Criterion) {
    let loc = Localizer::embedded().expect("texts load");
    let event = Event {
        id: 1,
        cabinet_id: 1,
        kind: EventKind::ApplicationStatus,
        application_id: Some(1),
        referral_id: None,
        child_iin: Some("210610511117".into()),
        details: r#"{"status":"queued","queue_position":12,"comment":"Кезекке қойылды"}"#.into(),
        occurred_at: kabinet::clock::now(),
        read_at: None,
        application_number: Some("ALM-2026-000137".into()),
        referral_number: None,
        child_name: Some("Сейітов Әли Ерболұлы".into()),
        announcement_kk: None,
        announcement_ru: None,
        question_id: None,
    };
    c.bench_function("texts/plain message", |b| {
        b.iter(|| loc.text(black_box(Language::Kk), "section-feed"))
    });
    c.bench_function("texts/feed line (status with queue)", |b| {
        b.iter(|| {
            event_line(
                &loc,
                black_box(Language::Ru),
                chrono_tz::Asia::Almaty,
                &event,
            )
        })
    });
}

fn storage(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let (storage, cabinet) = runtime.block_on(async {
        let storage = Storage::connect_str(&url, 5).await.expect("database");
        storage.migrate().await.expect("migrations");
        kabinet::demo::load(&storage, kabinet::clock::now())
            .await
            .expect("demo data");
        let cabinet = storage
            .find_cabinet(
                &LocalityCode::parse("almaty").unwrap(),
                &Iin::parse("900315412348").unwrap(),
            )
            .await
            .unwrap()
            .unwrap();
        (storage, cabinet.id)
    });
    c.bench_function("storage/main menu (unread count)", |b| {
        b.to_async(&runtime)
            .iter(|| async { storage.unread_count(cabinet).await.unwrap() })
    });
    c.bench_function("storage/feed page (5 events and the count)", |b| {
        b.to_async(&runtime)
            .iter(|| async { storage.feed(cabinet, 0, 5).await.unwrap() })
    });
    c.bench_function("storage/applications page", |b| {
        b.to_async(&runtime)
            .iter(|| async { storage.applications(cabinet, 0, 5).await.unwrap() })
    });
}

criterion_group!(benches, iin, callbacks, texts, storage);
criterion_main!(benches);
