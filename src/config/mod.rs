//! Configuration: the environment (and `.env`) turned into typed settings once, at start-up.
//!
//! Every key is declared once, in [`keys::KEYS`]; each is read by its kind, and every wrong
//! one is reported, before anything starts: the admin fixes the whole `.env` in one go
//! instead of one key per restart. Then the keys that belong together are checked together
//! (a provider and its keys, Argon2's memory and passes) and the typed settings built.

mod keys;

use keys::Value;
pub use keys::{KEYS, Key, Kind, UnknownKey, env_example, unknown_keys};

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use chrono_tz::Tz;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::domain::Language;

/// A configuration value that must not be printed.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(s: &str) -> Self {
        Secret(SecretString::from(s.to_owned()))
    }
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
    /// The first four characters and a mark, enough to tell two tokens apart.
    pub fn masked(&self) -> String {
        let s = self.expose();
        if s.chars().count() <= 8 {
            "****".into()
        } else {
            format!("{}****", s.chars().take(4).collect::<String>())
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

/// Where the data lives. The URL may hold a password, so it is kept as a secret.
#[derive(Clone, Debug)]
pub struct DatabaseUrl(Secret);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl DatabaseUrl {
    pub fn parse(s: &str) -> Result<Self, String> {
        let backend = backend_of(s)?;
        if backend == Backend::Postgres {
            Url::parse(s).map_err(|e| format!("not a valid URL ({e})"))?;
        } else if s
            .trim_start_matches("sqlite:")
            .trim_start_matches("//")
            .is_empty()
        {
            return Err("names no database file".into());
        }
        Ok(DatabaseUrl(Secret::new(s)))
    }
    pub fn backend(&self) -> Backend {
        backend_of(self.0.expose()).expect("checked at parse")
    }
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
    /// The URL with any password replaced by `****`.
    pub fn masked(&self) -> String {
        mask_url_password(self.expose())
    }
}

fn backend_of(s: &str) -> Result<Backend, String> {
    if s.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if s.starts_with("postgres://") || s.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        Err("unsupported database".into())
    }
}

pub(crate) fn mask_url_password(s: &str) -> String {
    match Url::parse(s) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("****"));
            url.to_string()
        }
        _ => s.to_owned(),
    }
}

/// Where answers to questions are POSTed (SPEC §3), and the key their signature is made with.
#[derive(Debug, Clone)]
pub struct PortalWebhookConfig {
    pub url: Url,
    pub secret: Secret,
}

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub url: Url,
    pub listen: SocketAddr,
    pub secret: Secret,
    /// Updates Telegram posts at once (`setWebhook`'s `max_connections`).
    pub max_connections: u8,
}

#[derive(Debug, Clone)]
pub enum SmsConfig {
    /// Print the text to the log: development and `kabinet demo`.
    Log,
    Http {
        url: Url,
        token: Option<Secret>,
    },
    Mobizon {
        api_url: Url,
        api_key: Secret,
    },
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub url: Secret,
    pub from: String,
}

#[derive(Debug, Clone, Copy)]
pub struct OtpConfig {
    pub ttl: Duration,
    pub max_attempts: u32,
    pub resend_after: Duration,
    /// `OTP_DAILY_LIMIT`: the parent's own chats, together.
    pub daily_limit: u32,
    /// `OTP_NEW_CHAT_LIMIT`: one chat that never held a session of the cabinet.
    pub new_chat_limit: u32,
    /// `OTP_USER_DAILY_LIMIT`: one Telegram user, across cabinets it never held a session of.
    pub user_daily_limit: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct LoginConfig {
    /// Wrong passwords in a row from one chat before it is locked out.
    pub max_failures: u32,
    /// Wrong passwords in a day, from two chats or more, before the cabinet is locked.
    pub cabinet_max_failures: u32,
    pub lockout: Duration,
    pub iin_lookup_limit: u32,
    pub iin_lookup_window: Duration,
    pub session_idle: Duration,
    pub session_max: Duration,
}

#[derive(Debug, Clone, Copy)]
pub struct Argon2Config {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub max_concurrent: usize,
}

#[derive(Debug, Clone, Copy)]
pub struct TelegramRates {
    pub global_per_sec: u32,
    pub chat_per_sec: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// The whole, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub bot_token: Option<Secret>,
    pub telegram_api_url: Url,
    pub database_url: DatabaseUrl,
    pub database_max_connections: u32,
    pub default_language: Language,
    pub timezone: Tz,
    pub api_listen: SocketAddr,
    /// `/healthz` and `/metrics`, always served.
    pub admin_listen: SocketAddr,
    pub api_token: Option<Secret>,
    pub api_max_body_bytes: usize,
    pub webhook: Option<WebhookConfig>,
    pub sms: SmsConfig,
    pub smtp: Option<SmtpConfig>,
    pub otp: OtpConfig,
    pub login: LoginConfig,
    pub argon2: Argon2Config,
    pub telegram_rates: TelegramRates,
    pub allow_contact_verification: bool,
    pub referral_reminder: Duration,
    pub log_format: LogFormat,
    pub code_secret: CodeSecret,
    pub privacy_policy_url: Option<Url>,
    pub support_contact: Option<String>,
    /// Where answers to questions go; `None`: the portal reads them from the API only.
    pub portal_webhook: Option<PortalWebhookConfig>,
    /// How long before a question's deadline each reminder goes, longest first.
    pub answer_reminders: Vec<Duration>,
    /// How long finished deliveries, used codes, ended sessions and old rate-limit rows
    /// are kept.
    pub retention: Duration,
    /// Every key with its effective value, secrets masked, in `KEYS` order.
    described: Vec<(&'static str, String)>,
}

/// The key confirmation codes are sealed with (`CODE_SECRET`).
#[derive(Debug, Clone)]
pub struct CodeSecret {
    pub secret: Secret,
    /// False when `CODE_SECRET` is not set and a random key was made for this process
    /// (the demo, tests); `kabinet run` refuses that, since codes would not survive a
    /// restart and replicas would not share them.
    pub from_environment: bool,
}

impl CodeSecret {
    fn for_this_process() -> CodeSecret {
        CodeSecret {
            secret: Secret::new(&new_secret()),
            from_environment: false,
        }
    }
}

/// A fresh random secret: 64 hexadecimal digits (256 bits) from the operating system.
pub fn new_secret() -> String {
    use rand::TryRngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .expect("the operating system's random source works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Tokens and keys shorter than this are refused.
pub const MIN_SECRET_CHARS: usize = 32;

/// Whether Argon2id with this memory (KiB) and passes is at least one of OWASP's
/// recommended pairs (Password Storage Cheat Sheet).
pub fn meets_owasp_argon2(memory_kib: u32, iterations: u32) -> bool {
    const OWASP: [(u32, u32); 5] = [
        (47_104, 1),
        (19_456, 2),
        (12_288, 3),
        (9_216, 4),
        (7_168, 5),
    ];
    OWASP
        .iter()
        .any(|&(m, t)| memory_kib >= m && iterations >= t)
}

/// One wrong key: which, what is wrong, what is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub key: &'static str,
    pub problem: String,
    pub accepted: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}; accepted: {}",
            self.key, self.problem, self.accepted
        )
    }
}

/// Every wrong key found, one per line when printed.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// The keys as read: each by its kind, every problem collected.
struct Values {
    read: HashMap<&'static str, Value>,
    errors: Vec<ConfigError>,
}

impl Values {
    /// Reads every key of [`KEYS`] (or its default) from `vars`.
    fn read(vars: &HashMap<String, String>) -> Values {
        let mut values = Values {
            read: HashMap::new(),
            errors: Vec::new(),
        };
        for key in KEYS {
            let given = vars
                .get(key.name)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty());
            let Some(raw) = given.or(Some(key.default).filter(|d| !d.is_empty())) else {
                continue;
            };
            match key.kind.parse(raw) {
                Ok(value) => {
                    values.read.insert(key.name, value);
                }
                Err(problem) => {
                    // A secret's value is never repeated back.
                    let problem = if key.is_secret() {
                        problem
                    } else {
                        format!("{raw:?} {problem}")
                    };
                    values.fail(key.name, problem, &key.kind.accepted());
                }
            }
        }
        values
    }

    fn fail(&mut self, key: &'static str, problem: String, accepted: &str) {
        self.errors.push(ConfigError {
            key,
            problem,
            accepted: accepted.to_owned(),
        });
    }

    /// Whether `key`'s value was refused already (so it is not reported twice).
    fn failed(&self, key: &str) -> bool {
        self.errors.iter().any(|e| e.key == key)
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.read.get(key)
    }

    fn secret(&self, key: &str) -> Option<Secret> {
        match self.get(key)? {
            Value::Secret(s) => Some(s.clone()),
            _ => None,
        }
    }

    fn text(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::Text(t) => Some(t.clone()),
            _ => None,
        }
    }

    fn url(&self, key: &str) -> Option<Url> {
        match self.get(key)? {
            Value::Url(u) => Some(u.clone()),
            _ => None,
        }
    }

    fn number(&self, key: &str) -> u64 {
        match self.get(key) {
            Some(Value::Number(n)) => *n,
            _ => 0,
        }
    }

    fn address(&self, key: &str) -> SocketAddr {
        match self.get(key) {
            Some(Value::Address(a)) => *a,
            _ => SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }

    fn seconds(&self, key: &str, unit: u64) -> Duration {
        Duration::from_secs(self.number(key).saturating_mul(unit))
    }

    /// Every key with what `check-config` shows for it.
    fn described(&self) -> Vec<(&'static str, String)> {
        KEYS.iter()
            .map(|key| {
                let shown = match (self.get(key.name), key.when_unset) {
                    (Some(value), _) => value.shown(&key.kind),
                    (None, Some(meaning)) => format!("(not set: {meaning})"),
                    (None, None) => "(not set)".to_owned(),
                };
                (key.name, shown)
            })
            .collect()
    }
}

impl Config {
    /// Loads `.env` from the working directory (real environment variables win), then reads
    /// the environment.
    pub fn load() -> Result<Config, ConfigErrors> {
        // A missing .env is normal; a malformed one is reported as its own error.
        if let Err(e) = dotenvy::dotenv()
            && !e.not_found()
        {
            return Err(ConfigErrors(vec![ConfigError {
                key: ".env",
                problem: format!("cannot be read ({e})"),
                accepted: "KEY=value lines".into(),
            }]));
        }
        Self::from_vars(&std::env::vars().collect())
    }

    /// The keys of `.env` in the working directory that Kabinet does not know (none when
    /// there is no `.env`). `check-config` and `run` warn of each.
    pub fn unknown_env_file_keys() -> Vec<UnknownKey> {
        let Ok(entries) = dotenvy::from_path_iter(".env") else {
            return Vec::new();
        };
        let names: Vec<String> = entries.filter_map(|e| e.ok().map(|(k, _)| k)).collect();
        unknown_keys(names.iter().map(String::as_str))
    }

    /// Builds the configuration from a map of variables; the pure half of [`Config::load`].
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Config, ConfigErrors> {
        let mut v = Values::read(vars);
        let sms = sms_config(&mut v);
        let webhook = webhook_config(&mut v);
        let portal_webhook = portal_webhook_config(&mut v);
        let smtp = smtp_config(&mut v);
        let (memory, iterations) = (
            v.number("ARGON2_MEMORY_KIB") as u32,
            v.number("ARGON2_ITERATIONS") as u32,
        );
        if v.get("ARGON2_MEMORY_KIB").is_some()
            && v.get("ARGON2_ITERATIONS").is_some()
            && !meets_owasp_argon2(memory, iterations)
        {
            v.fail(
                "ARGON2_MEMORY_KIB",
                format!("{memory} KiB with {iterations} pass(es) is below OWASP's minimum"),
                "memory KiB / passes of at least 47104/1, 19456/2, 12288/3, 9216/4 or 7168/5",
            );
        }
        if !v.errors.is_empty() {
            return Err(ConfigErrors(v.errors));
        }
        let database_url = match v.get("DATABASE_URL") {
            Some(Value::Database(d)) => d.clone(),
            _ => unreachable!("DATABASE_URL has a default and was read"),
        };
        let default_language = match v.get("DEFAULT_LANGUAGE") {
            Some(Value::Language(l)) => *l,
            _ => Language::Kk,
        };
        let timezone = match v.get("TIMEZONE") {
            Some(Value::TimeZone(tz)) => *tz,
            _ => chrono_tz::Asia::Almaty,
        };
        Ok(Config {
            bot_token: v.secret("BOT_TOKEN"),
            telegram_api_url: v.url("TELEGRAM_API_URL").expect("it has a default"),
            database_url,
            database_max_connections: v.number("DATABASE_MAX_CONNECTIONS") as u32,
            default_language,
            timezone,
            api_listen: v.address("API_LISTEN"),
            admin_listen: v.address("ADMIN_LISTEN"),
            api_token: v.secret("API_TOKEN"),
            api_max_body_bytes: v.number("API_MAX_BODY_BYTES") as usize,
            webhook,
            sms: sms.unwrap_or(SmsConfig::Log),
            smtp,
            otp: OtpConfig {
                ttl: v.seconds("OTP_TTL_SECS", 1),
                max_attempts: v.number("OTP_MAX_ATTEMPTS") as u32,
                resend_after: v.seconds("OTP_RESEND_SECS", 1),
                daily_limit: v.number("OTP_DAILY_LIMIT") as u32,
                new_chat_limit: v.number("OTP_NEW_CHAT_LIMIT") as u32,
                user_daily_limit: v.number("OTP_USER_DAILY_LIMIT") as u32,
            },
            login: LoginConfig {
                max_failures: v.number("LOGIN_MAX_FAILURES") as u32,
                cabinet_max_failures: v.number("LOGIN_CABINET_MAX_FAILURES") as u32,
                lockout: v.seconds("LOCKOUT_MINUTES", 60),
                iin_lookup_limit: v.number("IIN_LOOKUP_LIMIT") as u32,
                iin_lookup_window: v.seconds("IIN_LOOKUP_WINDOW_MINUTES", 60),
                session_idle: v.seconds("SESSION_IDLE_DAYS", 86_400),
                session_max: v.seconds("SESSION_MAX_DAYS", 86_400),
            },
            argon2: Argon2Config {
                memory_kib: memory,
                iterations,
                parallelism: v.number("ARGON2_PARALLELISM") as u32,
                max_concurrent: v.number("ARGON2_MAX_CONCURRENT") as usize,
            },
            telegram_rates: TelegramRates {
                global_per_sec: v.number("TELEGRAM_GLOBAL_RATE") as u32,
                chat_per_sec: v.number("TELEGRAM_CHAT_RATE") as u32,
            },
            allow_contact_verification: matches!(
                v.get("ALLOW_CONTACT_VERIFICATION"),
                Some(Value::Bool(true))
            ),
            referral_reminder: v.seconds("REFERRAL_REMINDER_HOURS", 3600),
            log_format: match v.text("LOG_FORMAT").as_deref() {
                Some("json") => LogFormat::Json,
                _ => LogFormat::Pretty,
            },
            code_secret: match v.secret("CODE_SECRET") {
                Some(secret) => CodeSecret {
                    secret,
                    from_environment: true,
                },
                None => CodeSecret::for_this_process(),
            },
            privacy_policy_url: v.url("PRIVACY_POLICY_URL"),
            portal_webhook,
            answer_reminders: match v.get("ANSWER_REMINDER_HOURS") {
                Some(Value::Durations(leads)) => leads.clone(),
                _ => Vec::new(),
            },
            support_contact: v.text("SUPPORT_CONTACT"),
            retention: v.seconds("RETENTION_DAYS", 86_400),
            described: v.described(),
        })
    }

    /// What stops `kabinet run` with this configuration, though each key is valid alone:
    /// no bot token; no `CODE_SECRET` (codes would die with the process and differ between
    /// replicas); the `log` SMS provider against a Telegram that is not on this machine
    /// (every login code would reach only the log).
    pub fn refusals_for_run(&self) -> Vec<ConfigError> {
        let mut refusals = Vec::new();
        if self.bot_token.is_none() {
            refusals.push(ConfigError {
                key: "BOT_TOKEN",
                problem: "is missing (kabinet run needs it)".into(),
                accepted: "the token from @BotFather".into(),
            });
        }
        if !self.code_secret.from_environment {
            refusals.push(ConfigError {
                key: "CODE_SECRET",
                problem: "is missing (kabinet run needs it)".into(),
                accepted: "32 characters or more, e.g. from `kabinet secret`".into(),
            });
        }
        if matches!(self.sms, SmsConfig::Log) && !is_loopback(&self.telegram_api_url) {
            refusals.push(ConfigError {
                key: "SMS_PROVIDER",
                problem: "is log, so login codes would reach only the log, not the parents".into(),
                accepted: "http or mobizon (log only with a TELEGRAM_API_URL on this machine)"
                    .into(),
            });
        }
        refusals
    }

    /// The reminder lead times as the storage counts them, longest first.
    pub fn answer_reminder_leads(&self) -> Vec<chrono::Duration> {
        self.answer_reminders
            .iter()
            .map(|d| chrono::Duration::from_std(*d).unwrap_or(chrono::Duration::MAX))
            .collect()
    }

    /// The effective configuration, one `KEY=value` line per key, secrets masked.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        self.described.clone()
    }
}

/// The SMS provider with the keys it needs.
/// Webhook mode when `WEBHOOK_URL` is set; its secret is then required (SPEC §8): without
/// it anyone who finds the address could post updates as Telegram.
fn webhook_config(v: &mut Values) -> Option<WebhookConfig> {
    let url = v.url("WEBHOOK_URL")?;
    // Telegram posts to no other port.
    if !matches!(url.port_or_known_default(), Some(443 | 80 | 88 | 8443)) {
        v.fail(
            "WEBHOOK_URL",
            format!("{url:?} is on a port Telegram does not post to"),
            "an https URL on port 443, 80, 88 or 8443",
        );
        return None;
    }
    let Some(secret) = v.secret("WEBHOOK_SECRET") else {
        if v.failed("WEBHOOK_SECRET") {
            return None;
        }
        v.fail(
            "WEBHOOK_SECRET",
            "is missing (WEBHOOK_URL needs it)".into(),
            "32-256 of A-Z a-z 0-9 _ -, e.g. from `kabinet secret`",
        );
        return None;
    };
    Some(WebhookConfig {
        url,
        listen: v.address("WEBHOOK_LISTEN"),
        secret,
        max_connections: v.number("WEBHOOK_MAX_CONNECTIONS") as u8,
    })
}

fn sms_config(v: &mut Values) -> Option<SmsConfig> {
    match v.text("SMS_PROVIDER").as_deref() {
        Some("http") => match v.url("SMS_HTTP_URL") {
            Some(url) => Some(SmsConfig::Http {
                url,
                token: v.secret("SMS_HTTP_TOKEN"),
            }),
            None => {
                v.fail(
                    "SMS_HTTP_URL",
                    "is missing (SMS_PROVIDER=http needs it)".into(),
                    "an http or https URL",
                );
                None
            }
        },
        Some("mobizon") => match (v.url("MOBIZON_API_URL"), v.secret("MOBIZON_API_KEY")) {
            (Some(api_url), Some(api_key)) => Some(SmsConfig::Mobizon { api_url, api_key }),
            (_, None) => {
                v.fail(
                    "MOBIZON_API_KEY",
                    "is missing (SMS_PROVIDER=mobizon needs it)".into(),
                    "the key from the Mobizon account",
                );
                None
            }
            (None, Some(_)) => None,
        },
        _ => Some(SmsConfig::Log),
    }
}

/// The e-mail channel, when `SMTP_URL` is set (it needs `SMTP_FROM`).
fn smtp_config(v: &mut Values) -> Option<SmtpConfig> {
    let url = v.secret("SMTP_URL")?;
    match v.text("SMTP_FROM") {
        Some(from) if from.contains('@') => Some(SmtpConfig { url, from }),
        _ => {
            v.fail(
                "SMTP_FROM",
                "is missing or not an address (SMTP_URL needs it)".into(),
                "an address such as Kabinet <noreply@example.kz>",
            );
            None
        }
    }
}

/// Whether `url` points at this machine (a local Bot API server or a test fake).
/// `PORTAL_WEBHOOK_URL` with its secret. Answers carry parents' IINs: they travel over TLS,
/// or in plain HTTP only to the machine itself or a private network's address.
fn portal_webhook_config(v: &mut Values) -> Option<PortalWebhookConfig> {
    let url = v.url("PORTAL_WEBHOOK_URL")?;
    if url.scheme() == "http" && !is_private(&url) {
        v.fail(
            "PORTAL_WEBHOOK_URL",
            format!("{url} is plain http to an address that is not private"),
            "https://…, or http:// to localhost, a loopback or a private IP address",
        );
        return None;
    }
    let Some(secret) = v.secret("PORTAL_WEBHOOK_SECRET") else {
        if !v.failed("PORTAL_WEBHOOK_SECRET") {
            v.fail(
                "PORTAL_WEBHOOK_SECRET",
                "is missing (PORTAL_WEBHOOK_URL needs it)".into(),
                "at least 32 characters, e.g. from `kabinet secret`",
            );
        }
        return None;
    };
    Some(PortalWebhookConfig { url, secret })
}

/// The URL's host is this machine or an address of a private network.
fn is_private(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback() || ip.is_private() || ip.is_link_local(),
        Some(url::Host::Ipv6(ip)) => {
            ip.is_loopback() || ip.is_unique_local() || ip.is_unicast_link_local()
        }
        Some(url::Host::Domain(_)) | None => is_loopback(url),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_valid() {
        let c = Config::from_vars(&HashMap::new()).unwrap();
        assert_eq!(c.default_language, Language::Kk);
        assert_eq!(c.timezone, chrono_tz::Asia::Almaty);
        assert_eq!(c.database_url.backend(), Backend::Sqlite);
        assert_eq!(c.telegram_rates.global_per_sec, 30);
        assert_eq!(c.otp.ttl, Duration::from_secs(300));
        assert!(c.api_token.is_none() && c.webhook.is_none() && c.smtp.is_none());
        assert!(matches!(c.sms, SmsConfig::Log));
    }

    #[test]
    fn every_wrong_key_is_one_line() {
        let err = Config::from_vars(&vars(&[
            ("DEFAULT_LANGUAGE", "en"),
            ("TELEGRAM_GLOBAL_RATE", "abc"),
            ("DATABASE_URL", "mysql://x"),
            ("TIMEZONE", "Mars/Base"),
        ]))
        .unwrap_err();
        let text = err.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("DEFAULT_LANGUAGE: \"en\"")
                    && l.ends_with("accepted: kk, ru"))
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("TELEGRAM_GLOBAL_RATE: \"abc\" is not a whole number"))
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("DATABASE_URL: \"mysql://x\" unsupported database"))
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("TIMEZONE: \"Mars/Base\" is not a known time zone"))
        );
    }

    #[test]
    fn webhook_mode_needs_its_secret_and_a_port_telegram_posts_to() {
        let err = Config::from_vars(&vars(&[("WEBHOOK_URL", "https://kabinet.example.kz/tg")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("WEBHOOK_SECRET: is missing (WEBHOOK_URL needs it)"),
            "{err}"
        );
        // A secret anyone could guess lets anyone post updates as Telegram.
        let err = Config::from_vars(&vars(&[
            ("WEBHOOK_URL", "https://kabinet.example.kz/tg"),
            ("WEBHOOK_SECRET", "s3cret"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("WEBHOOK_SECRET: is too short; accepted: 32-256 of A-Z a-z 0-9 _ -"),
            "{err}"
        );
        let secret = "0123456789abcdef0123456789abcdef";
        let err = Config::from_vars(&vars(&[
            ("WEBHOOK_URL", "https://kabinet.example.kz:9443/tg"),
            ("WEBHOOK_SECRET", secret),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("a port Telegram does not post to"), "{err}");
        let c = Config::from_vars(&vars(&[
            ("WEBHOOK_URL", "https://kabinet.example.kz:8443/tg"),
            ("WEBHOOK_SECRET", secret),
        ]))
        .unwrap();
        let hook = c.webhook.expect("webhook mode");
        assert_eq!((hook.secret.expose(), hook.max_connections), (secret, 40));
        // Behind the proxy: the webhook server listens on loopback unless told otherwise.
        assert_eq!(hook.listen.to_string(), "127.0.0.1:8443");
    }

    #[test]
    fn providers_need_their_keys() {
        let err = Config::from_vars(&vars(&[
            ("SMS_PROVIDER", "http"),
            ("SMTP_URL", "smtp://mail"),
        ]))
        .unwrap_err();
        let keys: Vec<_> = err.0.iter().map(|e| e.key).collect();
        assert_eq!(keys, ["SMS_HTTP_URL", "SMTP_FROM"]);
        let err = Config::from_vars(&vars(&[("SMS_PROVIDER", "mobizon")])).unwrap_err();
        assert_eq!(err.0[0].key, "MOBIZON_API_KEY");
    }

    #[test]
    fn secrets_never_print() {
        let token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
        let c = Config::from_vars(&vars(&[
            ("BOT_TOKEN", token),
            ("API_TOKEN", "portal-token-0123456789abcdef-0123"),
            ("CODE_SECRET", "code-secret-fedcba9876543210-xyz"),
            (
                "DATABASE_URL",
                "postgres://kabinet:s3cret@db.example.kz/kabinet",
            ),
        ]))
        .unwrap();
        let shown = format!("{:?} {:?}", c, c.describe());
        assert!(!shown.contains("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"));
        assert!(!shown.contains("0123456789abcdef"));
        assert!(!shown.contains("fedcba9876543210"));
        // A key made for the process when CODE_SECRET is unset never prints either.
        let generated = Config::from_vars(&vars(&[])).unwrap();
        let key = generated.code_secret.secret.expose().to_owned();
        let shown = format!("{:?} {:?}", generated, generated.describe());
        assert!(!shown.contains(&key));
        assert!(!shown.contains("s3cret"));
        assert!(
            c.describe()
                .iter()
                .any(|(k, v)| *k == "DATABASE_URL" && v.contains("kabinet:****@"))
        );
        let short =
            Config::from_vars(&vars(&[("API_TOKEN", "short"), ("BOT_TOKEN", "nope")])).unwrap_err();
        assert!(!short.to_string().contains("short\""));
        assert_eq!(short.0.len(), 2);
    }

    #[test]
    fn every_key_is_described_once() {
        let c = Config::from_vars(&HashMap::new()).unwrap();
        let described: Vec<_> = c.describe().into_iter().map(|(k, _)| k).collect();
        let documented: Vec<_> = KEYS.iter().map(|d| d.name).collect();
        assert_eq!(described, documented);
    }
}
