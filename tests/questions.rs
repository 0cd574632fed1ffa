//! Questions that need a parent's answer by a deadline (SPEC §1.11, §3): the portal puts a
//! question; it is pushed at once and shown first in the menu; the parent answers in the
//! chat — confirmed first when it gives something up, with a comment when it asks for one —
//! and the first answer wins; the answer reaches the portal's webhook, signed, retried until
//! taken, and can be read from `GET /api/v1/answers`. Each story runs on SQLite and on
//! PostgreSQL, through the simulator and over HTTP.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use common::{API_TOKEN, Portal, TestBot, demo_now, press, say, wait_until};
use futures::future::join_all;
use kabinet::domain::{Iin, Language, LocalityCode, OptionCode, PortalId};
use kabinet::storage::{AnswerGiven, AnswerOutcome, Storage};
use serde_json::{Value, json};

const AIGERIM: &str = "900315412348"; // Алматы; her son Әли (210610511117), kindergarten
const ALI: &str = "210610511117";
const ALIS_APPLICATION: &str = "ALM-2026-000137";
const SECRET: &str = "portal-webhook-secret-0123456789abcdef";

// ---- the portal's webhook, as a test receiver --------------------------------------------

/// A POST the portal got.
#[derive(Debug, Clone)]
struct Post {
    delivery: String,
    signature: String,
    body: String,
}

/// Answers in turn from `statuses` (then 204), and records every POST.
#[derive(Default)]
struct Receiver {
    statuses: Vec<u16>,
    posts: Vec<Post>,
}

#[derive(Clone, Default)]
struct PortalHook(Arc<Mutex<Receiver>>);

impl PortalHook {
    fn posts(&self) -> Vec<Post> {
        self.0.lock().unwrap().posts.clone()
    }

    fn answer_with(&self, statuses: &[u16]) {
        self.0.lock().unwrap().statuses = statuses.to_vec();
    }
}

/// Starts a receiver; returns it and its URL.
async fn portal_hook(statuses: &[u16]) -> (PortalHook, String) {
    let hook = PortalHook::default();
    hook.answer_with(statuses);
    let shared = hook.clone();
    let app = axum::Router::new().route(
        "/answers",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let shared = shared.clone();
            async move {
                let mut r = shared.0.lock().unwrap();
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                r.posts.push(Post {
                    delivery: header("x-kabinet-delivery"),
                    signature: header("x-kabinet-signature"),
                    body,
                });
                let status = if r.statuses.is_empty() {
                    204
                } else {
                    r.statuses.remove(0)
                };
                StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/answers", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (hook, url)
}

/// Bot stories with the API on and the portal's webhook pointing at a test receiver (which
/// first answers with the statuses given).
macro_rules! portal_stories {
    ($($name:ident $( = $statuses:expr )?),+ $(,)?) => {$(
        mod $name {
            async fn run(db: super::common::TestDb) {
                #[allow(unused_mut, unused_assignments)]
                let mut statuses: &[u16] = &[];
                $( statuses = $statuses; )?
                let (hook, url) = super::portal_hook(statuses).await;
                let vars = [
                    ("API_TOKEN", super::API_TOKEN),
                    ("PORTAL_WEBHOOK_URL", url.as_str()),
                    ("PORTAL_WEBHOOK_SECRET", super::SECRET),
                ];
                let mut bot = super::TestBot::start_with(db, &vars).await;
                super::common::within_time(super::$name(&mut bot, hook)).await;
                super::common::within_time(bot.stop()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run(super::common::TestDb::sqlite().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = super::common::TestDb::postgres().await else {
                    eprintln!("TEST_DATABASE_URL is not set: PostgreSQL story skipped");
                    return;
                };
                run(db).await;
            }
        }
    )+};
}

portal_stories! {
    a_place_offer_is_pushed_answered_in_the_chat_and_reaches_the_portal,
    a_destructive_answer_is_confirmed_first_and_its_comment_kept_within_500,
    an_attendance_sheet_shows_its_month_and_a_dispute_needs_a_comment,
    the_first_answer_wins_and_the_other_chat_sees_it,
    a_late_a_withdrawn_or_a_logged_out_press_records_nothing,
    every_bad_field_of_a_question_is_named_and_an_id_is_not_reused,
    every_kind_is_answered_in_the_chat_in_both_languages,
    the_webhook_is_retried_with_the_same_id_until_the_portal_takes_it = &[500, 503, 502],
    an_answer_waits_through_a_restart_for_a_portal_that_is_down = &[500; 1000],
}

/// A place offered for Әли's kindergarten application, due in `due`.
fn place_offer(due: chrono::Duration) -> Value {
    json!({
        "kind": "place_offer",
        "application": ALIS_APPLICATION,
        "text_kk": "Кезегіңіз келді: №12 «Балапан» балабақшасында орын бар. Растайсыз ба?",
        "text_ru": "Подошла очередь: в детском саду №12 «Балапан» есть место. Подтверждаете?",
        "deadline": (kabinet::clock::now() + due).to_rfc3339(),
        "if_unanswered_kk": "Орын келесі балаға беріледі.",
        "if_unanswered_ru": "Место перейдёт следующему ребёнку.",
        "options": [
            {"code": "confirm", "label_kk": "Растаймын", "label_ru": "Подтверждаю"},
            {"code": "decline", "label_kk": "Бас тартамын", "label_ru": "Отказываюсь",
             "destructive": true, "comment": "optional"}
        ]
    })
}

async fn put(portal: &Portal, id: &str, body: Value) -> (u16, Value) {
    portal.put(&format!("/api/v1/questions/{id}"), body).await
}

async fn get(portal: &Portal, id: &str) -> Value {
    let (status, _, body) = portal
        .raw(
            reqwest::Method::GET,
            &format!("/api/v1/questions/{id}"),
            None,
            Some(API_TOKEN),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn a_place_offer_is_pushed_answered_in_the_chat_and_reaches_the_portal(
    t: &mut TestBot,
    hook: PortalHook,
) {
    let portal = Portal::of(t);
    let (mut chat, menu) = t.logged_in(1401, Language::Ru, "almaty", AIGERIM).await;
    assert!(
        !menu.labels().iter().any(|l| l.starts_with('❗')),
        "nothing waits yet"
    );
    let (status, body) = put(&portal, "offer-1", place_offer(chrono::Duration::days(2))).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (body["state"].as_str(), body["result"].as_str()),
        (Some("open"), Some("created"))
    );
    // Pushed at once.
    let push = chat.next().await.unwrap();
    assert!(
        push.text.starts_with("❗ Ждёт вашего ответа · № ALM-2026-000137\nӘли · Предложено место в детском саду\nСрок: "),
        "{}",
        push.text
    );
    assert!(push.text.ends_with("Подтверждаете?"), "{}", push.text);
    assert_eq!(push.labels(), ["✍️ Ответить"]);
    // The menu shows it first.
    let menu = say(&mut chat, "/menu").await;
    assert_eq!(menu.labels()[0], "❗ Ждут ответа (1)");
    let card = press(&mut chat, "❗ Ждут ответа (1)").await;
    assert!(card.text.starts_with("❗ Предложено место в детском саду\nЗаявление № ALM-2026-000137 · Әли\n\nПодошла очередь"), "{}", card.text);
    assert!(card.text.contains("⏰ Срок: "), "{}", card.text);
    assert!(
        card.text.contains("(осталось 1 день 23 часа)"),
        "{}",
        card.text
    );
    assert!(
        card.text
            .contains("Если не ответить: Место перейдёт следующему ребёнку."),
        "{}",
        card.text
    );
    assert_eq!(
        card.labels(),
        [
            "Подтверждаю",
            "Отказываюсь",
            "📋 № ALM-2026-000137",
            "‹ Назад",
            "Меню"
        ]
    );
    assert_eq!(
        card.button("📋 № ALM-2026-000137")
            .unwrap()
            .copies
            .as_deref(),
        Some(ALIS_APPLICATION),
        "the number comes with a copy button"
    );
    let answered = press(&mut chat, "Подтверждаю").await;
    assert!(
        answered.text.starts_with("✅ Ваш ответ записан."),
        "{}",
        answered.text
    );
    assert!(
        answered.text.contains("✅ Ответ дан: Подтверждаю, "),
        "{}",
        answered.text
    );
    assert!(
        !answered.labels().contains(&"Подтверждаю"),
        "no options once answered"
    );
    // The portal gets it, signed.
    wait_until("the webhook's POST", Duration::from_secs(20), || async {
        !hook.posts().is_empty()
    })
    .await;
    let post = &hook.posts()[0];
    assert_eq!(post.delivery, "1");
    assert_eq!(
        post.signature,
        kabinet::channels::portal::signature(SECRET, post.body.as_bytes())
    );
    let sent: Value = serde_json::from_str(&post.body).unwrap();
    assert_eq!(sent["id"], 1);
    assert_eq!(sent["question"], "offer-1");
    assert_eq!(sent["kind"], "place_offer");
    assert_eq!(sent["option"], "confirm");
    assert_eq!(sent["comment"], Value::Null);
    assert_eq!(sent["application"], ALIS_APPLICATION);
    assert_eq!(
        sent["parent"],
        json!({"iin": AIGERIM, "locality": "almaty"})
    );
    wait_until("delivered_at", Duration::from_secs(20), || async {
        get(&portal, "offer-1").await["delivered_at"].is_string()
    })
    .await;
    let read = get(&portal, "offer-1").await;
    assert_eq!(read["state"], "answered");
    assert_eq!(read["answer"]["option"], "confirm");
    // The card says the portal has it; the menu no longer asks.
    let card = press(&mut chat, "✍️ Ответить").await;
    assert!(card.text.contains("· передан на портал ✓"), "{}", card.text);
    let menu = say(&mut chat, "/menu").await;
    assert!(
        !menu.labels().iter().any(|l| l.starts_with('❗')),
        "{:?}",
        menu.labels()
    );
    // Withdrawing an answered question changes nothing.
    let (status, body) = portal.delete("/api/v1/questions/offer-1").await;
    assert_eq!((status, body["state"].as_str()), (200, Some("answered")));
    // The same answer from the API, in order.
    let (status, _, page) = portal
        .raw(
            reqwest::Method::GET,
            "/api/v1/answers?after=0&limit=10",
            None,
            Some(API_TOKEN),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["answers"].as_array().unwrap().len(), 1);
    assert_eq!(page["answers"][0], sent, "the same body as the webhook's");
    assert_eq!(page["next"], 1);
}

async fn a_destructive_answer_is_confirmed_first_and_its_comment_kept_within_500(
    t: &mut TestBot,
    _hook: PortalHook,
) {
    let portal = Portal::of(t);
    let (mut chat, _) = t.logged_in(1402, Language::Kk, "almaty", AIGERIM).await;
    put(&portal, "offer-2", place_offer(chrono::Duration::days(1))).await;
    let push = chat.next().await.unwrap();
    assert!(
        push.text.starts_with(
            "❗ Жауап күтеді · № ALM-2026-000137\nӘли · Балабақшадан орын ұсынылды\nМерзімі: "
        ),
        "{}",
        push.text
    );
    let card = press(&mut chat, "✍️ Жауап беру").await;
    assert!(card.text.contains("Жауабыңызды таңдаңыз:"), "{}", card.text);
    let sure = press(&mut chat, "Бас тартамын").await;
    assert_eq!(
        sure.text,
        "Сенімдісіз бе?\n\nТаңдауыңыз: «Бас тартамын»\nОрыннан бас тартсаңыз, өтініш кезектен шығарылады, ал орын келесі балаға беріледі."
    );
    assert_eq!(sure.labels(), ["✔️ Иә, сенімдімін", "‹ Артқа", "Мәзір"]);
    // Back: nothing recorded.
    let again = press(&mut chat, "‹ Артқа").await;
    assert!(
        again.text.contains("Жауабыңызды таңдаңыз:"),
        "{}",
        again.text
    );
    assert_eq!(get(&portal, "offer-2").await["state"], "open");
    press(&mut chat, "Бас тартамын").await;
    let comment = press(&mut chat, "✔️ Иә, сенімдімін").await;
    assert!(
        comment.text.ends_with(
            "Қаласаңыз, пікір жазып жіберіңіз (500 таңбаға дейін) немесе пікірсіз жіберіңіз."
        ),
        "{}",
        comment.text
    );
    assert_eq!(comment.labels(), ["Пікірсіз жіберу", "‹ Артқа", "Мәзір"]);
    assert_eq!(get(&portal, "offer-2").await["state"], "open", "not yet");
    let long = say(&mut chat, &"ә".repeat(501)).await;
    assert!(
        long.text.starts_with(
            "Пікір тым ұзын: 501 таңба. 500 таңбадан аспауы керек — қысқартып, қайта жіберіңіз."
        ),
        "{}",
        long.text
    );
    let done = say(&mut chat, "Басқа қалаға көшеміз").await;
    assert!(
        done.text.starts_with("✅ Жауабыңыз жазылды."),
        "{}",
        done.text
    );
    assert!(
        done.text.contains("✅ Жауап берілді: Бас тартамын, "),
        "{}",
        done.text
    );
    assert!(
        done.text.contains("Пікір: Басқа қалаға көшеміз"),
        "{}",
        done.text
    );
    let read = get(&portal, "offer-2").await;
    assert_eq!(read["answer"]["option"], "decline");
    assert_eq!(read["answer"]["comment"], "Басқа қалаға көшеміз");
}

async fn an_attendance_sheet_shows_its_month_and_a_dispute_needs_a_comment(
    t: &mut TestBot,
    hook: PortalHook,
) {
    let portal = Portal::of(t);
    let (mut chat, _) = t.logged_in(1403, Language::Ru, "almaty", AIGERIM).await;
    let (status, body) = put(
        &portal,
        "sheet-oct",
        json!({
            "kind": "attendance_approval",
            "child": ALI,
            "month": "2026-10",
            "text_kk": "Қазан айының табелін растаңыз.",
            "text_ru": "Подтвердите табель за октябрь.",
            "deadline": (kabinet::clock::now() + chrono::Duration::days(1)).to_rfc3339(),
            "options": [
                {"code": "approve", "label_kk": "Растаймын", "label_ru": "Подтверждаю"},
                {"code": "dispute", "label_kk": "Қате бар", "label_ru": "Есть ошибка", "comment": "required"}
            ]
        }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    chat.next().await.unwrap();
    let card = press(&mut chat, "✍️ Ответить").await;
    assert!(
        card.text.starts_with("❗ Подтверждение табеля посещаемости\nСейітов Әли Ерболұлы · Октябрь 2026\n\nПодтвердите табель за октябрь."),
        "{}",
        card.text
    );
    assert!(
        card.text.contains("\n 1–2  ➖➖➖"),
        "the month's calendar: {}",
        card.text
    );
    assert!(
        card.text.contains("🟩 посещено · 🟥 пропущено"),
        "{}",
        card.text
    );
    let prompt = press(&mut chat, "Есть ошибка").await;
    assert!(
        prompt
            .text
            .ends_with("К этому ответу нужен комментарий. Напишите его (до 500 символов)."),
        "{}",
        prompt.text
    );
    assert_eq!(
        prompt.labels(),
        ["‹ Назад", "Меню"],
        "no way to skip a required comment"
    );
    // /cancel leaves the prompt for the card, nothing recorded.
    let cancelled = say(&mut chat, "/cancel").await;
    assert!(
        cancelled
            .text
            .starts_with("Действие отменено.\n\n❗ Подтверждение табеля"),
        "{}",
        cancelled.text
    );
    assert_eq!(get(&portal, "sheet-oct").await["state"], "open");
    press(&mut chat, "Есть ошибка").await;
    let done = say(&mut chat, "14 октября Әли был в саду").await;
    assert!(
        done.text.contains("Комментарий: 14 октября Әли был в саду"),
        "{}",
        done.text
    );
    wait_until("the webhook's POST", Duration::from_secs(20), || async {
        !hook.posts().is_empty()
    })
    .await;
    let sent: Value = serde_json::from_str(&hook.posts()[0].body).unwrap();
    assert_eq!(sent["child"], ALI);
    assert_eq!(sent["option"], "dispute");
    assert!(sent.get("application").is_none(), "{sent}");
}

async fn the_first_answer_wins_and_the_other_chat_sees_it(t: &mut TestBot, _hook: PortalHook) {
    let portal = Portal::of(t);
    let (mut phone, _) = t.logged_in(1404, Language::Ru, "almaty", AIGERIM).await;
    let (mut laptop, _) = t.logged_in(1405, Language::Ru, "almaty", AIGERIM).await;
    put(&portal, "offer-3", place_offer(chrono::Duration::days(1))).await;
    phone.next().await.unwrap();
    laptop.next().await.unwrap();
    press(&mut phone, "✍️ Ответить").await;
    press(&mut laptop, "✍️ Ответить").await;
    press(&mut phone, "Подтверждаю").await;
    // The laptop still shows the options; its press records nothing and shows the answer.
    let late = press(&mut laptop, "Отказываюсь").await;
    assert!(
        late.text
            .starts_with("На этот вопрос уже ответили — новый ответ не записан."),
        "{}",
        late.text
    );
    assert!(
        late.text.contains("✅ Ответ дан: Подтверждаю, "),
        "{}",
        late.text
    );
    assert!(
        !late.labels().contains(&"Отказываюсь"),
        "{:?}",
        late.labels()
    );
    let read = get(&portal, "offer-3").await;
    assert_eq!(read["answer"]["option"], "confirm");
}

async fn a_late_a_withdrawn_or_a_logged_out_press_records_nothing(
    t: &mut TestBot,
    _hook: PortalHook,
) {
    let portal = Portal::of(t);
    let (mut chat, _) = t.logged_in(1406, Language::Ru, "almaty", AIGERIM).await;
    // Past its deadline.
    put(
        &portal,
        "offer-soon",
        place_offer(chrono::Duration::seconds(3)),
    )
    .await;
    chat.next().await.unwrap();
    press(&mut chat, "✍️ Ответить").await;
    let deadline = kabinet::clock::now() + chrono::Duration::seconds(3);
    wait_until("the deadline passes", Duration::from_secs(30), || async {
        kabinet::clock::now() > deadline
    })
    .await;
    let late = press(&mut chat, "Подтверждаю").await;
    assert!(
        late.text
            .starts_with("Срок ответа истёк — ответ не записан."),
        "{}",
        late.text
    );
    assert!(late.text.ends_with("Срок ответа истёк."), "{}", late.text);
    assert_eq!(get(&portal, "offer-soon").await["state"], "expired");
    // Withdrawn while the card was open.
    put(
        &portal,
        "offer-gone",
        place_offer(chrono::Duration::days(1)),
    )
    .await;
    chat.next().await.unwrap();
    press(&mut chat, "✍️ Ответить").await;
    let (status, body) = portal.delete("/api/v1/questions/offer-gone").await;
    assert_eq!((status, body["state"].as_str()), (200, Some("withdrawn")));
    let withdrawn = press(&mut chat, "Подтверждаю").await;
    assert!(
        withdrawn
            .text
            .starts_with("Портал отозвал этот вопрос — ответ не записан."),
        "{}",
        withdrawn.text
    );
    assert!(
        withdrawn
            .text
            .ends_with("Портал отозвал этот вопрос — отвечать не нужно."),
        "{}",
        withdrawn.text
    );
    // From a chat that logged out since its card was shown.
    put(&portal, "offer-4", place_offer(chrono::Duration::days(1))).await;
    chat.next().await.unwrap();
    let card = press(&mut chat, "✍️ Ответить").await;
    say(&mut chat, "/logout").await;
    let data = card.button("Подтверждаю").unwrap().data.clone().unwrap();
    let pressed = chat.press_data(card.message_id, &data).unwrap();
    assert_eq!(
        chat.answer_of(&pressed).await,
        Some(Some("Эта кнопка устарела — вот текущий экран.".into()))
    );
    chat.skip_to_end();
    assert_eq!(get(&portal, "offer-4").await["state"], "open");
}

async fn every_bad_field_of_a_question_is_named_and_an_id_is_not_reused(
    t: &mut TestBot,
    _hook: PortalHook,
) {
    let portal = Portal::of(t);
    let (status, body) = put(
        &portal,
        "bad-1",
        json!({
            "kind": "lottery",
            "application": "ALM-NO-SUCH",
            "text_kk": "Сұрақ", "text_ru": "Вопрос",
            "deadline": "2020-01-01T10:00:00+05:00",
            "options": [{"code": "yes", "label_kk": "Иә", "label_ru": "Да"}]
        }),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let mut fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["application", "deadline", "kind", "options"],
        "{body}"
    );
    let mut no_target = place_offer(chrono::Duration::days(1));
    no_target.as_object_mut().unwrap().remove("application");
    let (status, body) = put(&portal, "bad-2", no_target).await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "application", "{body}");
    // The same id again: unchanged; other words under it: refused.
    let offer = place_offer(chrono::Duration::days(1));
    assert_eq!(put(&portal, "offer-5", offer.clone()).await.0, 201);
    let (status, body) = put(&portal, "offer-5", offer.clone()).await;
    assert_eq!((status, body["result"].as_str()), (200, Some("unchanged")));
    let mut other = offer;
    other["text_ru"] = json!("Другой вопрос");
    let (status, body) = put(&portal, "offer-5", other).await;
    assert_eq!(status, 409, "{body}");
    let (status, _, _) = portal
        .raw(
            reqwest::Method::GET,
            "/api/v1/questions/no-such",
            None,
            Some(API_TOKEN),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _, body) = portal
        .raw(
            reqwest::Method::GET,
            "/api/v1/answers?limit=0",
            None,
            Some(API_TOKEN),
        )
        .await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("limit"))
    );
}

async fn every_kind_is_answered_in_the_chat_in_both_languages(t: &mut TestBot, hook: PortalHook) {
    let portal = Portal::of(t);
    let (mut kk, _) = t.logged_in(1410, Language::Kk, "almaty", AIGERIM).await;
    let (mut ru, _) = t.logged_in(1411, Language::Ru, "almaty", AIGERIM).await;
    let kinds = [
        (
            "place_offer",
            "Балабақшадан орын ұсынылды",
            "Предложено место в детском саду",
        ),
        (
            "choose_institution",
            "Бос орны бар балабақшаны таңдау",
            "Выбор детского сада со свободным местом",
        ),
        (
            "referral_extension",
            "Жолдаманы ұзарту",
            "Продление направления",
        ),
        (
            "attendance_approval",
            "Қатысу табелін растау",
            "Подтверждение табеля посещаемости",
        ),
        (
            "privilege_visit",
            "Жеңілдікті растауға келу уақыты",
            "Запись на подтверждение льготы",
        ),
        ("other", "Порталдың сұрағы", "Вопрос портала"),
    ];
    for (i, (kind, title_kk, title_ru)) in kinds.into_iter().enumerate() {
        let mut body = json!({
            "kind": kind,
            "text_kk": "Жауабыңызды күтеміз.",
            "text_ru": "Ждём вашего ответа.",
            "deadline": (kabinet::clock::now() + chrono::Duration::days(3)).to_rfc3339(),
            "options": [
                {"code": "yes", "label_kk": "Иә", "label_ru": "Да"},
                {"code": "no", "label_kk": "Жоқ", "label_ru": "Нет"}
            ]
        });
        if kind == "attendance_approval" {
            body["child"] = json!(ALI);
            body["month"] = json!("2026-10");
        } else {
            body["application"] = json!(ALIS_APPLICATION);
        }
        let id = format!("kind-{kind}");
        assert_eq!(put(&portal, &id, body).await.0, 201);
        // Both chats of the cabinet are asked; one answers, by turns in each language.
        let (asked_kk, asked_ru) = (kk.next().await.unwrap(), ru.next().await.unwrap());
        assert!(asked_kk.text.contains(title_kk), "{}", asked_kk.text);
        assert!(asked_ru.text.contains(title_ru), "{}", asked_ru.text);
        let done = if i % 2 == 0 {
            press(&mut kk, "✍️ Жауап беру").await;
            press(&mut kk, "Иә").await
        } else {
            press(&mut ru, "✍️ Ответить").await;
            press(&mut ru, "Да").await
        };
        assert!(done.text.starts_with("✅ "), "{kind}: {}", done.text);
        assert_eq!(get(&portal, &id).await["answer"]["option"], "yes", "{kind}");
    }
    wait_until(
        "six answers at the portal",
        Duration::from_secs(30),
        || async { hook.posts().len() >= 6 },
    )
    .await;
}

async fn the_webhook_is_retried_with_the_same_id_until_the_portal_takes_it(
    t: &mut TestBot,
    hook: PortalHook,
) {
    let portal = Portal::of(t);
    let (mut chat, _) = t.logged_in(1407, Language::Ru, "almaty", AIGERIM).await;
    put(&portal, "offer-6", place_offer(chrono::Duration::days(1))).await;
    chat.next().await.unwrap();
    press(&mut chat, "✍️ Ответить").await;
    press(&mut chat, "Подтверждаю").await;
    wait_until(
        "the fourth POST, taken",
        Duration::from_secs(60),
        || async { hook.posts().len() >= 4 },
    )
    .await;
    let posts = hook.posts();
    assert!(
        posts
            .iter()
            .all(|p| p.delivery == posts[0].delivery && p.body == posts[0].body)
    );
    wait_until("delivered_at", Duration::from_secs(20), || async {
        get(&portal, "offer-6").await["delivered_at"].is_string()
    })
    .await;
    assert_eq!(hook.posts().len(), 4, "nothing more once taken");
}

async fn an_answer_waits_through_a_restart_for_a_portal_that_is_down(
    t: &mut TestBot,
    hook: PortalHook,
) {
    let portal = Portal::of(t);
    let (mut chat, _) = t.logged_in(1408, Language::Ru, "almaty", AIGERIM).await;
    put(&portal, "offer-7", place_offer(chrono::Duration::days(1))).await;
    chat.next().await.unwrap();
    press(&mut chat, "✍️ Ответить").await;
    press(&mut chat, "Подтверждаю").await;
    wait_until("a refused POST", Duration::from_secs(20), || async {
        !hook.posts().is_empty()
    })
    .await;
    t.restart().await;
    // The portal comes back.
    hook.answer_with(&[]);
    let portal = Portal::of(t);
    wait_until(
        "delivered after the restart",
        Duration::from_secs(60),
        || async { get(&portal, "offer-7").await["delivered_at"].is_string() },
    )
    .await;
    let posts = hook.posts();
    assert!(
        posts.iter().all(|p| p.delivery == "1"),
        "the same answer each time"
    );
}

// ---- the storage's own promises, on both backends ----------------------------------------

on_both_backends! {
    ten_chats_answering_at_once_record_one_answer,
    answers_are_read_in_the_order_they_were_given,
    reminders_go_at_their_times_and_never_for_an_answered_question,
    the_demo_asks_a_place_offer_and_an_attendance_sheet,
}

async fn aigerims_cabinet(s: &Storage) -> i64 {
    s.find_cabinet(
        &LocalityCode::parse("almaty").unwrap(),
        &Iin::parse(AIGERIM).unwrap(),
    )
    .await
    .unwrap()
    .unwrap()
    .id
}

/// A question put through the same parser as the API's.
fn post(
    id: &str,
    body: &Value,
    now: chrono::DateTime<chrono::Utc>,
) -> kabinet::domain::QuestionPost {
    kabinet::ingest::parse_question(id, body, "", Some(now)).unwrap()
}

/// Chats logged into Aigerim's cabinet: (chat, session).
async fn sessions(
    s: &Storage,
    chats: std::ops::Range<i64>,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<(i64, i64)> {
    let cabinet = aigerims_cabinet(s).await;
    let mut out = Vec::new();
    for chat in chats {
        s.ensure_chat(chat, chat, Language::Ru, "{}", now)
            .await
            .unwrap();
        out.push((chat, s.start_session(chat, cabinet, now).await.unwrap()));
    }
    out
}

async fn ten_chats_answering_at_once_record_one_answer(s: Storage) {
    kabinet::demo::load(&s, demo_now()).await.unwrap();
    let now = kabinet::clock::now();
    let cabinet = aigerims_cabinet(&s).await;
    let chats = sessions(&s, 1..11, now).await;
    s.put_question(
        &post("race", &place_offer(chrono::Duration::days(1)), now),
        &[],
        now,
    )
    .await
    .unwrap();
    let question = s
        .question_by_portal_id(&PortalId::parse("race").unwrap())
        .await
        .unwrap()
        .unwrap()
        .id;
    let codes = [
        OptionCode::parse("confirm").unwrap(),
        OptionCode::parse("decline").unwrap(),
    ];
    let outcomes = join_all(chats.iter().enumerate().map(|(i, (chat, session))| {
        let given = AnswerGiven {
            question,
            cabinet,
            chat: *chat,
            session: *session,
            option: &codes[i % 2],
            comment: None,
        };
        let s = s.clone();
        async move { s.answer_question(&given, true, now).await.unwrap() }
    }))
    .await;
    let recorded = outcomes
        .iter()
        .filter(|o| matches!(o, AnswerOutcome::Recorded { .. }))
        .count();
    let refused = outcomes
        .iter()
        .filter(|o| **o == AnswerOutcome::AlreadyAnswered)
        .count();
    assert_eq!((recorded, refused), (1, 9), "{outcomes:?}");
    assert_eq!(s.answers_after(0, 100).await.unwrap().len(), 1);
    let portal_deliveries = s
        .fetch_i64("SELECT COUNT(*) FROM deliveries WHERE channel = 'portal'")
        .await
        .unwrap();
    assert_eq!(portal_deliveries, 1, "one answer, one webhook delivery");
}

async fn answers_are_read_in_the_order_they_were_given(s: Storage) {
    kabinet::demo::load(&s, demo_now()).await.unwrap();
    let now = kabinet::clock::now();
    let cabinet = aigerims_cabinet(&s).await;
    let (chat, session) = sessions(&s, 20..21, now).await[0];
    let confirm = OptionCode::parse("confirm").unwrap();
    let mut ids = Vec::new();
    for name in ["q-a", "q-b", "q-c"] {
        s.put_question(
            &post(name, &place_offer(chrono::Duration::days(1)), now),
            &[],
            now,
        )
        .await
        .unwrap();
        ids.push(
            s.question_by_portal_id(&PortalId::parse(name).unwrap())
                .await
                .unwrap()
                .unwrap()
                .id,
        );
    }
    // Answered in another order than asked.
    for question in [ids[1], ids[0], ids[2]] {
        let given = AnswerGiven {
            question,
            cabinet,
            chat,
            session,
            option: &confirm,
            comment: None,
        };
        assert!(matches!(
            s.answer_question(&given, false, now).await.unwrap(),
            AnswerOutcome::Recorded { .. }
        ));
    }
    let first = s.answers_after(0, 2).await.unwrap();
    assert_eq!(
        first
            .iter()
            .map(|a| (a.id, a.question.as_str()))
            .collect::<Vec<_>>(),
        [(1, "q-b"), (2, "q-a")]
    );
    let rest = s.answers_after(2, 2).await.unwrap();
    assert_eq!(
        rest.iter()
            .map(|a| (a.id, a.question.as_str()))
            .collect::<Vec<_>>(),
        [(3, "q-c")]
    );
    assert!(s.answers_after(3, 2).await.unwrap().is_empty());
}

async fn reminders_go_at_their_times_and_never_for_an_answered_question(s: Storage) {
    kabinet::demo::load(&s, demo_now()).await.unwrap();
    let t0 = kabinet::clock::now();
    let cabinet = aigerims_cabinet(&s).await;
    let (chat, session) = sessions(&s, 30..31, t0).await[0];
    let leads = [
        chrono::Duration::hours(24),
        chrono::Duration::hours(4),
        chrono::Duration::hours(1),
    ];
    let deadline = t0 + chrono::Duration::days(2);
    let body = place_offer(chrono::Duration::days(2));
    let mut body = body;
    body["deadline"] = json!(deadline.to_rfc3339());
    s.put_question(&post("remind", &body, t0), &leads, t0)
        .await
        .unwrap();
    let reminders = || async {
        s.fetch_i64("SELECT COUNT(*) FROM events WHERE kind = 'question_reminder'")
            .await
            .unwrap()
    };
    let at = |before: chrono::Duration| deadline - before;
    let due = |now| s.record_due_question_reminders(&leads, now);
    assert_eq!(
        due(at(chrono::Duration::hours(25))).await.unwrap(),
        0,
        "not yet"
    );
    assert_eq!(
        s.next_question_reminder(&leads, at(chrono::Duration::hours(25)))
            .await
            .unwrap(),
        Some(at(chrono::Duration::hours(24))),
        "the scheduler knows when"
    );
    assert_eq!(
        due(at(chrono::Duration::hours(24))).await.unwrap(),
        1,
        "24 hours before"
    );
    assert_eq!(
        due(at(chrono::Duration::hours(23))).await.unwrap(),
        0,
        "once"
    );
    assert_eq!(
        due(at(chrono::Duration::hours(4))).await.unwrap(),
        1,
        "4 hours before"
    );
    assert_eq!(reminders().await, 1 + 1);
    // The last one sounds even in quiet hours.
    assert_eq!(
        s.fetch_i64("SELECT COUNT(*) FROM events WHERE kind = 'question_reminder' AND details LIKE '%\"loud\":true%'")
            .await
            .unwrap(),
        0
    );
    // Answered: no more.
    let question = s
        .question_by_portal_id(&PortalId::parse("remind").unwrap())
        .await
        .unwrap()
        .unwrap()
        .id;
    let confirm = OptionCode::parse("confirm").unwrap();
    let given = AnswerGiven {
        question,
        cabinet,
        chat,
        session,
        option: &confirm,
        comment: None,
    };
    s.answer_question(&given, false, at(chrono::Duration::hours(2)))
        .await
        .unwrap();
    assert_eq!(
        due(at(chrono::Duration::hours(1))).await.unwrap(),
        0,
        "answered"
    );
    // A question that comes 3 hours before its deadline skips the reminders already past,
    // and its last one is loud.
    let late = t0 + chrono::Duration::hours(3);
    let mut body = place_offer(chrono::Duration::hours(3));
    body["deadline"] = json!(late.to_rfc3339());
    s.put_question(&post("late", &body, t0), &leads, t0)
        .await
        .unwrap();
    assert_eq!(
        s.record_due_question_reminders(&leads, t0).await.unwrap(),
        0
    );
    let last = late - chrono::Duration::hours(1);
    assert_eq!(
        s.record_due_question_reminders(&leads, last).await.unwrap(),
        1
    );
    assert_eq!(
        s.fetch_i64("SELECT COUNT(*) FROM events WHERE kind = 'question_reminder' AND details LIKE '%\"loud\":true%'")
            .await
            .unwrap(),
        1
    );
    // Withdrawn or past its deadline: none.
    assert_eq!(
        s.record_due_question_reminders(&leads, late + chrono::Duration::minutes(1))
            .await
            .unwrap(),
        0
    );
}

async fn the_demo_asks_a_place_offer_and_an_attendance_sheet(s: Storage) {
    let now = kabinet::clock::now();
    kabinet::demo::load(&s, now).await.unwrap();
    let open = s
        .open_questions(aigerims_cabinet(&s).await, now)
        .await
        .unwrap();
    let kinds: Vec<&str> = open.iter().map(|q| q.kind.as_str()).collect();
    assert_eq!(kinds, ["place_offer", "attendance_approval"]);
    let to_deadline = open[0].content.deadline - now;
    assert!(
        to_deadline > chrono::Duration::days(1) && to_deadline <= chrono::Duration::days(3),
        "two days after the day the demo runs: {to_deadline}"
    );
}

// ---- a SIGKILL between the answer and its delivery ----------------------------------------

/// `kabinet run` as a process of its own, posting answers to `hook`.
fn spawn_kabinet(
    sim: &kabinet::sim::Simulator,
    db: &common::TestDb,
    dir: &std::path::Path,
    hook: &str,
) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_kabinet"))
        .arg("run")
        .current_dir(dir)
        .env("BOT_TOKEN", kabinet::sim::TOKEN)
        .env("TELEGRAM_API_URL", sim.api_url().as_str())
        .env("DATABASE_URL", &db.url)
        .env("CODE_SECRET", "code-secret-for-this-test-0123456789")
        .env("PORTAL_WEBHOOK_URL", hook)
        .env("PORTAL_WEBHOOK_SECRET", SECRET)
        .env("RUST_LOG", "warn")
        .env("ADMIN_LISTEN", "127.0.0.1:0")
        .env_remove("API_TOKEN")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("kabinet starts")
}

async fn an_answer_survives_a_sigkill_before_the_portal_takes_it(db: common::TestDb) {
    let s = db.storage.clone();
    kabinet::demo::load(&s, demo_now()).await.unwrap();
    let sim = kabinet::sim::Simulator::start(kabinet::sim::SimConfig::default())
        .await
        .unwrap();
    // The portal is down: every POST is refused.
    let (hook, url) = portal_hook(&[503; 10_000]).await;
    let now = kabinet::clock::now();
    let cabinet = aigerims_cabinet(&s).await;
    let (chat, session) = sessions(&s, 40..41, now).await[0];
    s.put_question(
        &post("killed", &place_offer(chrono::Duration::days(1)), now),
        &[],
        now,
    )
    .await
    .unwrap();
    let question = s
        .question_by_portal_id(&PortalId::parse("killed").unwrap())
        .await
        .unwrap()
        .unwrap()
        .id;
    let confirm = OptionCode::parse("confirm").unwrap();
    let given = AnswerGiven {
        question,
        cabinet,
        chat,
        session,
        option: &confirm,
        comment: None,
    };
    assert!(matches!(
        s.answer_question(&given, true, now).await.unwrap(),
        AnswerOutcome::Recorded { .. }
    ));
    let dir = tempfile::tempdir().unwrap();
    let mut first = spawn_kabinet(&sim, &db, dir.path(), &url);
    wait_until("a refused POST", Duration::from_secs(60), || async {
        !hook.posts().is_empty()
    })
    .await;
    // SIGKILL mid-retry; the portal comes back; a new process takes over.
    first.kill().unwrap();
    first.wait().unwrap();
    hook.answer_with(&[]);
    let mut second = spawn_kabinet(&sim, &db, dir.path(), &url);
    wait_until("delivered", Duration::from_secs(120), || async {
        s.question_by_portal_id(&PortalId::parse("killed").unwrap())
            .await
            .unwrap()
            .unwrap()
            .delivered_at
            .is_some()
    })
    .await;
    second.kill().unwrap();
    second.wait().unwrap();
    let posts = hook.posts();
    assert!(posts.len() >= 2, "refused, then taken: {}", posts.len());
    assert!(
        posts
            .iter()
            .all(|p| p.delivery == posts[0].delivery && p.body == posts[0].body),
        "the same answer, the same id, every time"
    );
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_survives_a_sigkill_before_the_portal_takes_it_sqlite() {
    common::within_time(an_answer_survives_a_sigkill_before_the_portal_takes_it(
        common::TestDb::sqlite().await,
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_survives_a_sigkill_before_the_portal_takes_it_postgres() {
    let Some(db) = common::TestDb::postgres().await else {
        eprintln!("TEST_DATABASE_URL is not set: PostgreSQL story skipped");
        return;
    };
    common::within_time(an_answer_survives_a_sigkill_before_the_portal_takes_it(db)).await;
}
