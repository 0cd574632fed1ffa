//! Shared test helpers: a fresh database per test, on SQLite always and on PostgreSQL when
//! `TEST_DATABASE_URL` is set.

#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use kabinet::storage::Storage;

/// A migrated, empty database of its own. SQLite lives in a temporary folder removed on
/// drop; PostgreSQL gets a schema of its own, dropped on drop when possible.
pub struct TestDb {
    pub storage: Storage,
    /// The `DATABASE_URL` that opens this database (for a `kabinet` process of its own).
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_schema: Option<(String, String)>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}", dir.path().join("kabinet.db").display());
        let storage = Storage::connect_str(&url, 5).await.expect("SQLite opens");
        storage.migrate().await.expect("SQLite migrates");
        TestDb {
            storage,
            url,
            _dir: Some(dir),
            pg_schema: None,
        }
    }

    /// `None` when `TEST_DATABASE_URL` is not set — unless `KABINET_REQUIRE_POSTGRES` is
    /// set (CI sets it): then a missing PostgreSQL fails the test instead of skipping it.
    pub async fn postgres() -> Option<TestDb> {
        let base = std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty());
        let required = std::env::var_os("KABINET_REQUIRE_POSTGRES").is_some_and(|v| !v.is_empty());
        assert!(
            base.is_some() || !required,
            "KABINET_REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not: the PostgreSQL half of the tests would be skipped"
        );
        let base = base?;
        let schema = format!("t_{}", uuid_like());
        let admin = Storage::connect_str(&base, 1)
            .await
            .expect("PostgreSQL at TEST_DATABASE_URL answers");
        admin
            .execute_raw(&format!("CREATE SCHEMA {schema}"))
            .await
            .expect("schema created");
        admin.close().await;
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options[search_path]={schema}");
        let storage = Storage::connect_str(&url, 5)
            .await
            .expect("PostgreSQL opens");
        storage.migrate().await.expect("PostgreSQL migrates");
        Some(TestDb {
            storage,
            url,
            _dir: None,
            pg_schema: Some((base, schema)),
        })
    }

    /// Drops a PostgreSQL schema; SQLite's folder goes with the value.
    pub async fn cleanup(self) {
        self.storage.close().await;
        if let Some((base, schema)) = &self.pg_schema {
            if let Ok(admin) = Storage::connect_str(base, 1).await {
                let _ = admin
                    .execute_raw(&format!("DROP SCHEMA {schema} CASCADE"))
                    .await;
                admin.close().await;
            }
        }
    }
}

fn uuid_like() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..16)
        .map(|_| format!("{:x}", rng.random_range(0..16u8)))
        .collect()
}

/// A valid IIN for this birth date and sex (the first serial that has a control digit).
pub fn valid_iin(birth: chrono::NaiveDate, sex: kabinet::domain::Sex) -> kabinet::domain::Iin {
    (1..11)
        .find_map(|serial| kabinet::domain::Iin::generate(birth, sex, serial))
        .expect("one of ten serials has a control digit")
}

/// A kindergarten application `number` in Almaty (demo data) of `parent` for `child`, born
/// `birth`, as the portal would PUT it.
pub fn kindergarten_application(
    number: &str,
    parent: &kabinet::domain::Iin,
    child: &kabinet::domain::Iin,
    birth: chrono::NaiveDate,
) -> kabinet::storage::ApplicationUpsert {
    let body = serde_json::json!({
        "locality": "almaty",
        "parent": {"iin": parent.as_str(), "full_name": "Ата-ана", "phone": "+77011234545"},
        "child": {"iin": child.as_str(), "full_name": "Бала", "birth_date": birth.to_string()},
        "kind": "kindergarten",
        "institutions": ["alm-ds-12"],
        "desired_date": "2027-09-01",
        "language": "kk",
        "submitted_at": "2026-03-10T10:15:00+05:00",
        "status": "submitted",
    });
    kabinet::ingest::parse_application(number, &body, "").expect("a valid application")
}

/// The demo document's own day, 12:00 in Almaty: loading the demo at this time moves nothing.
pub fn demo_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 7, 0, 0).unwrap()
}

/// Runs each story (an async fn taking a `Storage`) twice, as `<story>::sqlite` and
/// `<story>::postgres`; the latter passes, saying so, when no PostgreSQL is configured.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let db = $crate::common::TestDb::sqlite().await;
                super::$name(db.storage.clone()).await;
                db.cleanup().await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(db) = $crate::common::TestDb::postgres().await else {
                    eprintln!("TEST_DATABASE_URL is not set: PostgreSQL story skipped");
                    return;
                };
                super::$name(db.storage.clone()).await;
                db.cleanup().await;
            }
        }
    )+};
}

/// The real bot against the simulator, on a database with the demo data.
pub struct TestBot {
    pub sim: kabinet::sim::Simulator,
    pub db: TestDb,
    pub config: std::sync::Arc<kabinet::config::Config>,
    /// Every SMS the bot sent, as the `log` provider prints it.
    pub sms: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    bot: Option<kabinet::app::Kabinet>,
    poll_timeout: std::time::Duration,
}

/// How a [`TestBot`] runs, beyond its configuration keys.
#[derive(Clone)]
pub struct Setup {
    /// The simulator's behaviour (its overall limit, whether it enforces limits).
    pub sim: kabinet::sim::SimConfig,
    /// How long one getUpdates waits: short, so a stop is quick.
    pub poll_timeout: std::time::Duration,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            sim: kabinet::sim::SimConfig::default(),
            poll_timeout: std::time::Duration::from_millis(500),
        }
    }
}

impl TestBot {
    pub async fn start(db: TestDb) -> TestBot {
        Self::start_with(db, &[]).await
    }

    /// Starts with extra configuration keys.
    pub async fn start_with(db: TestDb, vars: &[(&str, &str)]) -> TestBot {
        Self::start_setup(db, vars, Setup::default()).await
    }

    /// Starts with extra configuration keys and its own simulator and poll settings.
    pub async fn start_setup(db: TestDb, vars: &[(&str, &str)], setup: Setup) -> TestBot {
        // At the demo's own date, so its dates stay where the tests expect them.
        kabinet::demo::load(&db.storage, demo_now())
            .await
            .expect("demo data loads");
        let sim = kabinet::sim::Simulator::start(setup.sim)
            .await
            .expect("simulator starts");
        let mut map: std::collections::HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.insert("TELEGRAM_API_URL".into(), sim.api_url().to_string());
        // A free port: tests run side by side.
        map.entry("API_LISTEN".into())
            .or_insert_with(|| "127.0.0.1:0".into());
        map.entry("ADMIN_LISTEN".into())
            .or_insert_with(|| "127.0.0.1:0".into());
        // The demo's active referral must not fall due for a reminder while other tests
        // read the feed (their clock is real, the demo's dates are fixed).
        map.entry("REFERRAL_REMINDER_HOURS".into())
            .or_insert_with(|| "1".into());
        let config = std::sync::Arc::new(
            kabinet::config::Config::from_vars(&map).expect("test configuration"),
        );
        let mut test = TestBot {
            sim,
            db,
            config,
            sms: Default::default(),
            bot: None,
            poll_timeout: setup.poll_timeout,
        };
        test.launch().await;
        test
    }

    async fn launch(&mut self) {
        let sms = self.sms.clone();
        let outlets =
            kabinet::app::Outlets {
                // The `log` provider is captured; a configured gateway is used as configured.
                sms: match self.config.sms {
                    kabinet::config::SmsConfig::Log => kabinet::channels::sms::SmsSender::Log(
                        std::sync::Arc::new(move |line: &str| {
                            sms.lock().unwrap().push(line.to_owned());
                        }),
                    ),
                    ref other => kabinet::channels::sms::SmsSender::from_config(other),
                },
                mail: self.config.smtp.as_ref().map(|smtp| {
                    kabinet::channels::email::Mailer::from_config(smtp).expect("mailer")
                }),
            };
        let kabinet = kabinet::app::start(
            self.config.clone(),
            self.db.storage.clone(),
            kabinet::sim::TOKEN,
            self.poll_timeout,
            outlets,
        )
        .await
        .expect("Kabinet starts");
        // Webhook mode: the simulator's "load balancer" passes Telegram's POSTs to this
        // process (the webhook URL itself is a public https address no test can serve).
        if let Some(addr) = kabinet.webhook_addr() {
            self.sim.route_webhook(vec![addr]);
        }
        self.bot = Some(kabinet);
    }

    /// Webhook mode: where the bot's webhook server listens.
    pub fn webhook_addr(&self) -> std::net::SocketAddr {
        self.bot
            .as_ref()
            .and_then(|k| k.webhook_addr())
            .expect("webhook mode (set WEBHOOK_URL)")
    }

    /// Restarts the bot with these configuration keys (on top of the defaults).
    pub async fn reconfigure(&mut self, vars: &[(&str, &str)]) {
        let mut map: std::collections::HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.insert("TELEGRAM_API_URL".into(), self.sim.api_url().to_string());
        map.entry("API_LISTEN".into())
            .or_insert_with(|| "127.0.0.1:0".into());
        map.entry("ADMIN_LISTEN".into())
            .or_insert_with(|| "127.0.0.1:0".into());
        self.config = std::sync::Arc::new(
            kabinet::config::Config::from_vars(&map).expect("test configuration"),
        );
        self.restart().await;
    }

    /// Stops Kabinet (bot, API, sender) and leaves it stopped until [`TestBot::restart`].
    pub async fn stop_services(&mut self) {
        if let Some(kabinet) = self.bot.take() {
            kabinet.stop().await;
        }
    }

    /// Stops the bot and starts a new one on the same database and simulator.
    pub async fn restart(&mut self) {
        if let Some(bot) = self.bot.take() {
            bot.stop().await;
        }
        self.launch().await;
    }

    /// The code in the newest SMS.
    pub fn last_code(&self) -> String {
        let sms = self.sms.lock().unwrap();
        let last = sms.last().expect("an SMS was sent");
        last.split(|c: char| !c.is_ascii_digit())
            .rfind(|w| w.len() == 6)
            .expect("a code in the SMS")
            .to_owned()
    }

    /// The base URL of the integration API (`API_TOKEN` must be configured).
    pub fn api_url(&self) -> String {
        let addr = self
            .bot
            .as_ref()
            .and_then(|k| k.api_addr())
            .expect("the API runs (set API_TOKEN)");
        format!("http://{addr}")
    }

    /// Where `/healthz` and `/metrics` are served.
    pub fn admin_url(&self) -> String {
        let addr = self.bot.as_ref().expect("running").admin_addr();
        format!("http://{addr}")
    }

    /// The running Kabinet's counters.
    pub fn metrics(&self) -> std::sync::Arc<kabinet::metrics::Metrics> {
        self.bot.as_ref().expect("running").metrics.clone()
    }

    /// A chat logged into a demo parent's cabinet, the session written directly and nothing
    /// said in the chat (for tests of pushes to many chats).
    pub async fn logged_in_quietly(
        &self,
        chat_id: i64,
        lang: kabinet::domain::Language,
        locality: &str,
        iin: &str,
    ) -> kabinet::sim::ChatHandle {
        log_in_directly(self.storage(), &self.sim, chat_id, lang, locality, iin).await
    }

    /// A chat logged into a demo parent's cabinet (the session made directly: login has its
    /// own tests), at the main menu.
    pub async fn logged_in(
        &self,
        chat_id: i64,
        lang: kabinet::domain::Language,
        locality: &str,
        iin: &str,
    ) -> (kabinet::sim::ChatHandle, kabinet::sim::MessageView) {
        let mut chat = self.logged_in_quietly(chat_id, lang, locality, iin).await;
        chat.send_text("/menu");
        let menu = chat.next().await.unwrap();
        (chat, menu)
    }

    pub fn storage(&self) -> &Storage {
        &self.db.storage
    }

    /// The id of a demo parent's cabinet.
    pub async fn cabinet_id(&self, locality: &str, iin: &str) -> i64 {
        self.storage()
            .find_cabinet(
                &kabinet::domain::LocalityCode::parse(locality).unwrap(),
                &kabinet::domain::Iin::parse(iin).unwrap(),
            )
            .await
            .unwrap()
            .expect("a demo cabinet")
            .id
    }

    /// Gives a demo parent `password`, as if they had set it before; returns the cabinet.
    pub async fn give_password(&self, locality: &str, iin: &str, password: &str) -> i64 {
        let cabinet = self.cabinet_id(locality, iin).await;
        let record = self.storage().cabinet(cabinet).await.unwrap().unwrap();
        let hasher = kabinet::auth::Hasher::new(self.config.argon2).unwrap();
        let parsed = kabinet::domain::Password::parse(
            password,
            &kabinet::domain::Iin::parse(iin).unwrap(),
            &kabinet::domain::Phone::parse(&record.phone).unwrap(),
        )
        .unwrap();
        let hash = hasher.hash_password(&parsed).await.unwrap();
        self.storage()
            .set_password_hash(cabinet, &hash, kabinet::clock::now())
            .await
            .unwrap();
        cabinet
    }

    /// A chat at a screen before the cabinet, its dialogue written directly as `state` (the
    /// JSON of a `State`): how a story starts mid-way without walking the whole login.
    pub async fn chat_at(
        &self,
        chat: i64,
        lang: kabinet::domain::Language,
        locality: &str,
        state: &str,
    ) -> kabinet::sim::ChatHandle {
        let s = self.storage();
        let now = kabinet::clock::now();
        s.ensure_chat(chat, chat, lang, &format!(r#"{{"state":{state}}}"#), now)
            .await
            .unwrap();
        s.set_chat_locality(chat, Some(locality), now)
            .await
            .unwrap();
        self.sim.private_chat(chat, "Parent", Some(lang.code()))
    }

    /// The SMS sent to `masked_phone` (as the `log` provider masks it), texts only.
    pub fn sms_to(&self, masked_phone: &str) -> Vec<String> {
        let prefix = format!("📱 SMS → {masked_phone}: ");
        self.sms
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
            .collect()
    }

    /// Stops the bot; checks what every story must keep: no rate limit broken, every button
    /// press answered, no request refused by Telegram (no «message is not modified»).
    pub async fn stop(mut self) {
        if let Some(bot) = self.bot.take() {
            bot.stop().await;
        }
        assert_eq!(
            self.sim.violations(),
            vec![],
            "the bot broke Telegram's rate limits"
        );
        assert_eq!(
            self.sim.unanswered_callbacks(),
            0,
            "a button press was left unanswered"
        );
        let refused: Vec<(String, String)> = self
            .sim
            .requests()
            .into_iter()
            .filter(|r| r.status == 400)
            .map(|r| (r.method, r.description.unwrap_or_default()))
            .collect();
        assert_eq!(refused, vec![], "Telegram refused requests with 400");
        self.db.cleanup().await;
    }
}

/// Presses the button labelled `label` and returns what the bot shows next.
pub async fn press(chat: &mut kabinet::sim::ChatHandle, label: &str) -> kabinet::sim::MessageView {
    chat.press(label).unwrap();
    chat.next().await.unwrap()
}

/// Sends `text` and returns what the bot shows next.
pub async fn say(chat: &mut kabinet::sim::ChatHandle, text: &str) -> kabinet::sim::MessageView {
    chat.send_text(text);
    chat.next().await.unwrap()
}

/// Logs a simulator chat into a demo parent's cabinet by writing the session directly
/// (login has its own tests); nothing is said in the chat.
pub async fn log_in_directly(
    storage: &Storage,
    sim: &kabinet::sim::Simulator,
    chat_id: i64,
    lang: kabinet::domain::Language,
    locality: &str,
    iin: &str,
) -> kabinet::sim::ChatHandle {
    let now = kabinet::clock::now();
    let cabinet = storage
        .find_cabinet(
            &kabinet::domain::LocalityCode::parse(locality).unwrap(),
            &kabinet::domain::Iin::parse(iin).unwrap(),
        )
        .await
        .unwrap()
        .expect("a demo cabinet");
    storage
        .ensure_chat(
            chat_id,
            chat_id,
            lang,
            r#"{"state":{"s":"logged_in"}}"#,
            now,
        )
        .await
        .unwrap();
    storage
        .set_chat_locality(chat_id, Some(locality), now)
        .await
        .unwrap();
    storage
        .start_session(chat_id, cabinet.id, now)
        .await
        .unwrap();
    sim.private_chat(chat_id, "Parent", Some(lang.code()))
}

/// Waits until `check` holds, asking again every few milliseconds; fails after `deadline`,
/// naming what it waited for. Tests wait for a condition, never for a fixed time.
pub async fn wait_until<F, Fut>(what: &str, deadline: std::time::Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = tokio::time::Instant::now() + deadline;
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "{what}: not within {deadline:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Waits until `sql` (a count) gives `expected`; fails after `deadline`, with the last count.
pub async fn wait_for_count(
    storage: &Storage,
    sql: &str,
    expected: i64,
    deadline: std::time::Duration,
) {
    let until = tokio::time::Instant::now() + deadline;
    loop {
        let got = storage.fetch_i64(sql).await.expect("the count query runs");
        if got == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "{sql}: {got}, not {expected}, after {deadline:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Fails a story that hangs, instead of hanging the whole run.
pub async fn within_time<T>(story: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(std::time::Duration::from_secs(240), story)
        .await
        .expect("the story finished within 4 minutes")
}

/// Runs each bot story (an async fn taking `&mut TestBot`) on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! bot_stories {
    ($($name:ident),+ $(,)?) => {
        $crate::bot_stories!(with &[]; $($name),+);
    };
    (with $vars:expr; $($name:ident),+ $(,)?) => {
        $crate::bot_stories!(with $vars, setup $crate::common::Setup::default(); $($name),+);
    };
    (with $vars:expr, setup $setup:expr; $($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::common::TestDb::sqlite().await;
                let mut bot = $crate::common::TestBot::start_setup(db, $vars, $setup).await;
                $crate::common::within_time(super::$name(&mut bot)).await;
                $crate::common::within_time(bot.stop()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = $crate::common::TestDb::postgres().await else {
                    eprintln!("TEST_DATABASE_URL is not set: PostgreSQL story skipped");
                    return;
                };
                let mut bot = $crate::common::TestBot::start_setup(db, $vars, $setup).await;
                $crate::common::within_time(super::$name(&mut bot)).await;
                $crate::common::within_time(bot.stop()).await;
            }
        }
    )+};
}

/// Everything the process logs, at every level, for tests that check what logs never hold.
pub fn captured_logs() -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    use std::sync::{Arc, Mutex, OnceLock};
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer: Arc<Mutex<Vec<u8>>> = Arc::default();
        let writer = buffer.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter("trace,hyper=info,hyper_util=info,reqwest=info,sqlx=info,h2=info")
            .with_writer(move || CaptureWriter(writer.clone()))
            .try_init();
        buffer
    })
    .clone()
}

struct CaptureWriter(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A time as a SQL literal of the storage's backend, for tests that move rows in time.
pub fn sql_time(storage: &Storage, at: DateTime<Utc>) -> String {
    match storage.backend() {
        kabinet::storage::Backend::Sqlite => format!("'{}'", at.to_rfc3339()),
        kabinet::storage::Backend::Postgres => format!("'{}'::timestamptz", at.to_rfc3339()),
    }
}

/// The API token the tests configure.
pub const API_TOKEN: &str = "portal-test-token-0123456789-abcdef";

/// The portal, as a client of the integration API.
pub struct Portal {
    pub base: String,
    client: reqwest::Client,
}

impl Portal {
    pub fn of(t: &TestBot) -> Portal {
        Portal {
            base: t.api_url(),
            client: reqwest::Client::new(),
        }
    }

    /// Sends `body` (raw bytes) with `token`; returns the status, content type and body.
    pub async fn raw(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
        token: Option<&str>,
    ) -> (u16, String, serde_json::Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.expect("the API answers");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        (status, content_type, json)
    }

    /// Sends `body` with this content type (none when `None`) and this `Authorization`
    /// value (a bare token is sent as `Bearer <token>`).
    pub async fn raw_typed(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
        content_type: Option<&str>,
        authorization: &str,
    ) -> (u16, String, serde_json::Value) {
        let authorization = if authorization.contains(' ') {
            authorization.to_owned()
        } else {
            format!("Bearer {authorization}")
        };
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("authorization", authorization)
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.expect("the API answers");
        let status = response.status().as_u16();
        let answer_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        (status, answer_type, json)
    }

    pub async fn put(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let (status, _, json) = self
            .raw(
                reqwest::Method::PUT,
                path,
                Some(body.to_string().into_bytes()),
                Some(API_TOKEN),
            )
            .await;
        (status, json)
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let (status, _, json) = self
            .raw(
                reqwest::Method::POST,
                path,
                Some(body.to_string().into_bytes()),
                Some(API_TOKEN),
            )
            .await;
        (status, json)
    }

    pub async fn delete(&self, path: &str) -> (u16, serde_json::Value) {
        let (status, _, json) = self
            .raw(reqwest::Method::DELETE, path, None, Some(API_TOKEN))
            .await;
        (status, json)
    }

    /// Posts a status change for an application.
    pub async fn status(
        &self,
        number: &str,
        event_id: &str,
        status: &str,
        queue_position: Option<i64>,
    ) -> (u16, serde_json::Value) {
        let mut body = serde_json::json!({
            "event_id": event_id,
            "status": status,
            "changed_at": kabinet::clock::now().to_rfc3339(),
        });
        if let Some(q) = queue_position {
            body["queue_position"] = q.into();
        }
        self.post(&format!("/api/v1/applications/{number}/status"), body)
            .await
    }
}

/// Checks `text` with `promtool check metrics` (Prometheus' own linter). CI installs
/// Prometheus; a developer's machine without it skips the check.
pub fn promtool_accepts_metrics(text: &str) {
    use std::io::Write;
    let child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        assert!(
            std::env::var_os("KABINET_REQUIRE_POSTGRES").is_none(),
            "promtool is missing on a CI machine"
        );
        eprintln!("promtool is not installed: the metrics text is not checked");
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool check metrics: {said}");
    assert_eq!(said.trim(), "", "promtool has remarks on the metrics");
}
