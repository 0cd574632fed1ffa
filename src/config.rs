//! Configuration: the environment (and `.env`) turned into typed settings once, at start-up.
//!
//! Every key is read, and every wrong one is reported, before anything starts: the admin
//! fixes the whole `.env` in one go instead of one key per restart.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use chrono_tz::Tz;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::domain::Language;

/// One configuration key, as `.env.example` and `kabinet check-config` describe it.
pub struct KeyDoc {
    pub key: &'static str,
    pub default: &'static str,
    pub meaning: &'static str,
    pub secret: bool,
}

macro_rules! keys {
    ($($key:literal, $default:literal, $secret:literal, $meaning:literal;)+) => {
        /// Every key Kabinet reads, in the order `.env.example` lists them.
        pub const KEYS: &[KeyDoc] = &[$(KeyDoc { key: $key, default: $default, meaning: $meaning, secret: $secret }),+];
    };
}

keys! {
    "BOT_TOKEN", "", true, "the bot's token from @BotFather; required by `kabinet run`";
    "TELEGRAM_API_URL", "https://api.telegram.org", false, "Bot API base URL: Telegram, a local Bot API server or a test fake";
    "DATABASE_URL", "sqlite://kabinet.db", false, "sqlite://FILE (created if missing) or postgres://USER:PASSWORD@HOST/DB";
    "DATABASE_MAX_CONNECTIONS", "10", false, "database connections in all (PostgreSQL: a quarter of them, from 4, keep the chats' screen state)";
    "DEFAULT_LANGUAGE", "kk", false, "kk or ru: the language of a chat whose Telegram language is neither";
    "TIMEZONE", "Asia/Almaty", false, "IANA time zone of the times parents see and of quiet hours";
    "API_LISTEN", "127.0.0.1:8080", false, "address of the integration API";
    "API_TOKEN", "", true, "bearer token the portal sends (at least 32 characters); the API is off when empty";
    "API_MAX_BODY_BYTES", "1048576", false, "largest request body the API accepts";
    "WEBHOOK_URL", "", false, "public https URL Telegram posts updates to; long polling when empty";
    "WEBHOOK_LISTEN", "0.0.0.0:8443", false, "address the webhook server listens on";
    "WEBHOOK_SECRET", "", true, "secret Telegram echoes in X-Telegram-Bot-Api-Secret-Token (1-256 of A-Z a-z 0-9 _ -)";
    "SMS_PROVIDER", "log", false, "log (prints the text, for development), http (generic gateway) or mobizon";
    "SMS_HTTP_URL", "", false, "http provider: the URL that receives POST {\"to\", \"text\"}";
    "SMS_HTTP_TOKEN", "", true, "http provider: bearer token for the gateway";
    "MOBIZON_API_URL", "https://api.mobizon.kz", false, "mobizon provider: API base URL";
    "MOBIZON_API_KEY", "", true, "mobizon provider: the API key";
    "SMTP_URL", "", true, "e-mail channel, e.g. smtps://user:password@mail.example.kz; off when empty";
    "SMTP_FROM", "", false, "sender address of e-mails, e.g. Kabinet <noreply@example.kz>";
    "OTP_TTL_SECS", "300", false, "lifetime of a confirmation code, seconds";
    "OTP_MAX_ATTEMPTS", "5", false, "wrong entries allowed per code";
    "OTP_RESEND_SECS", "60", false, "seconds before another code may be sent";
    "OTP_DAILY_LIMIT", "5", false, "codes per cabinet per day";
    "LOGIN_MAX_FAILURES", "5", false, "wrong passwords before the cabinet is locked";
    "LOCKOUT_MINUTES", "15", false, "first lock's length; each repeat doubles it";
    "IIN_LOOKUP_LIMIT", "10", false, "IIN look-ups a Telegram user may make per window";
    "IIN_LOOKUP_WINDOW_MINUTES", "10", false, "the window of IIN_LOOKUP_LIMIT, minutes";
    "SESSION_IDLE_DAYS", "30", false, "a chat's login ends after this many days unused";
    "SESSION_MAX_DAYS", "180", false, "a chat's login ends this many days after it began, used or not";
    "CODE_SECRET", "", true, "key that seals confirmation codes at rest (HMAC-SHA-256), 32 characters or more, kept apart from the database; required by `kabinet run`; `kabinet secret` prints a new one";
    "PRIVACY_POLICY_URL", "", false, "when set, a parent's first login asks consent to the processing of personal data, with this link";
    "SUPPORT_CONTACT", "", false, "the operator's phone or @username, shown in /help and where a parent cannot go on";
    "RETENTION_DAYS", "90", false, "sent or failed deliveries, used codes, ended sessions and old rate-limit rows are deleted after this many days";
    "ARGON2_MEMORY_KIB", "19456", false, "Argon2id memory per hash, KiB (with ARGON2_ITERATIONS at least one of OWASP's pairs: 47104/1, 19456/2, 12288/3, 9216/4, 7168/5)";
    "ARGON2_ITERATIONS", "2", false, "Argon2id passes (see ARGON2_MEMORY_KIB)";
    "ARGON2_PARALLELISM", "1", false, "Argon2id lanes";
    "ARGON2_MAX_CONCURRENT", "2", false, "password hashes computed at once; more wait their turn";
    "TELEGRAM_GLOBAL_RATE", "30", false, "Telegram's overall limit, messages per second (1-1000; above 30 needs paid broadcasts); Kabinet sends at 90 % of it";
    "TELEGRAM_CHAT_RATE", "1", false, "Telegram's limit per private chat, messages per second (1-30); Kabinet sends at 90 % of it";
    "ALLOW_CONTACT_VERIFICATION", "false", false, "true lets a parent confirm the phone with Telegram's contact button instead of an SMS code";
    "REFERRAL_REMINDER_HOURS", "24", false, "how long before a referral expires the parent is reminded";
    "LOG_FORMAT", "pretty", false, "pretty or json; RUST_LOG filters (e.g. info,kabinet=debug)";
}

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

fn mask_url_password(s: &str) -> String {
    match Url::parse(s) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("****"));
            url.to_string()
        }
        _ => s.to_owned(),
    }
}

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub url: Url,
    pub listen: SocketAddr,
    pub secret: Option<Secret>,
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
    pub daily_limit: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct LoginConfig {
    pub max_failures: u32,
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
    /// How long finished deliveries, used codes, ended sessions and old rate-limit rows
    /// are kept.
    pub retention: Duration,
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

/// Reads keys out of a map, collecting every problem instead of stopping at the first.
struct Reader<'a> {
    vars: &'a HashMap<String, String>,
    errors: Vec<ConfigError>,
}

impl<'a> Reader<'a> {
    /// The key's value, or `None` when unset or blank.
    fn raw(&self, key: &'static str) -> Option<&'a str> {
        self.vars
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    fn doc(key: &'static str) -> &'static KeyDoc {
        KEYS.iter()
            .find(|d| d.key == key)
            .expect("every key read is documented in KEYS")
    }

    fn fail(&mut self, key: &'static str, problem: String, accepted: &str) {
        self.errors.push(ConfigError {
            key,
            problem,
            accepted: accepted.to_owned(),
        });
    }

    /// Parses the key (or its documented default) with `parse`; on failure records the error
    /// and returns `None`.
    fn value<T>(
        &mut self,
        key: &'static str,
        accepted: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let doc = Self::doc(key);
        let (raw, given) = match self.raw(key) {
            Some(v) => (v, true),
            None => (doc.default, false),
        };
        match parse(raw) {
            Ok(v) => Some(v),
            Err(problem) => {
                let shown = if doc.secret || !given {
                    String::new()
                } else {
                    format!("{raw:?} ")
                };
                self.fail(key, format!("{shown}{problem}"), accepted);
                None
            }
        }
    }

    fn number<T: std::str::FromStr + PartialOrd + fmt::Display + Copy>(
        &mut self,
        key: &'static str,
        min: T,
        max: T,
    ) -> Option<T> {
        let accepted = format!("a whole number from {min} to {max}");
        self.value(key, &accepted, |s| match s.parse::<T>() {
            Ok(n) if n >= min && n <= max => Ok(n),
            Ok(_) => Err("is out of range".into()),
            Err(_) => Err("is not a whole number".into()),
        })
    }

    fn optional_secret(&self, key: &'static str) -> Option<Secret> {
        self.raw(key).map(Secret::new)
    }
}

fn parse_url(s: &str, schemes: &[&str]) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|e| format!("is not a URL ({e})"))?;
    if !schemes.contains(&url.scheme()) {
        return Err(format!("has scheme {:?}", url.scheme()));
    }
    Ok(url)
}

fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err("is not true or false".into()),
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

    /// Builds the configuration from a map of variables; the pure half of [`Config::load`].
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Config, ConfigErrors> {
        let mut r = Reader {
            vars,
            errors: Vec::new(),
        };

        let bot_token = r.raw("BOT_TOKEN").map(Secret::new);
        if let Some(token) = &bot_token
            && !looks_like_bot_token(token.expose())
        {
            r.fail(
                "BOT_TOKEN",
                "is not shaped like a bot token".into(),
                "123456789:AA… as @BotFather gives it",
            );
        }
        let telegram_api_url = r.value("TELEGRAM_API_URL", "an http or https URL", |s| {
            parse_url(s, &["http", "https"])
        });
        let database_url = r.value(
            "DATABASE_URL",
            "sqlite://FILE or postgres://USER:PASSWORD@HOST:PORT/DB",
            DatabaseUrl::parse,
        );
        let database_max_connections = r.number("DATABASE_MAX_CONNECTIONS", 1u32, 1000);
        let default_language = r.value("DEFAULT_LANGUAGE", "kk, ru", |s| {
            Language::parse(s).map_err(|_| "is not a language Kabinet speaks".to_owned())
        });
        let timezone = r.value("TIMEZONE", "an IANA time zone such as Asia/Almaty", |s| {
            s.parse::<Tz>()
                .map_err(|_| "is not a known time zone".to_owned())
        });
        let api_listen = r.value("API_LISTEN", "HOST:PORT, e.g. 127.0.0.1:8080", |s| {
            s.parse::<SocketAddr>()
                .map_err(|_| "is not an address".to_owned())
        });
        let api_token = r.optional_secret("API_TOKEN");
        if api_token
            .as_ref()
            .is_some_and(|t| t.expose().chars().count() < MIN_SECRET_CHARS)
        {
            r.fail(
                "API_TOKEN",
                "is too short".into(),
                "at least 32 characters, e.g. from `kabinet secret`",
            );
        }
        let api_max_body_bytes = r.number("API_MAX_BODY_BYTES", 1024usize, 1 << 30);

        let webhook_url = r.raw("WEBHOOK_URL").map(|_| ());
        let webhook = match webhook_url {
            None => None,
            Some(()) => {
                let url = r.value("WEBHOOK_URL", "an https URL", |s| parse_url(s, &["https"]));
                let listen = r.value("WEBHOOK_LISTEN", "HOST:PORT, e.g. 0.0.0.0:8443", |s| {
                    s.parse::<SocketAddr>()
                        .map_err(|_| "is not an address".to_owned())
                });
                let secret = r.optional_secret("WEBHOOK_SECRET");
                if let Some(s) = &secret {
                    let v = s.expose();
                    if v.len() > 256
                        || !v
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                    {
                        r.fail(
                            "WEBHOOK_SECRET",
                            "has characters Telegram refuses or is too long".into(),
                            "1-256 of A-Z a-z 0-9 _ -",
                        );
                    }
                }
                match (url, listen) {
                    (Some(url), Some(listen)) => Some(WebhookConfig {
                        url,
                        listen,
                        secret,
                    }),
                    _ => None,
                }
            }
        };

        let sms_kind = r.value("SMS_PROVIDER", "log, http, mobizon", |s| match s {
            "log" | "http" | "mobizon" => Ok(s.to_owned()),
            _ => Err("is not a known SMS provider".into()),
        });
        let sms = match sms_kind.as_deref() {
            Some("http") => {
                let url = if r.raw("SMS_HTTP_URL").is_some() {
                    r.value("SMS_HTTP_URL", "an http or https URL", |s| {
                        parse_url(s, &["http", "https"])
                    })
                } else {
                    r.fail(
                        "SMS_HTTP_URL",
                        "is missing (SMS_PROVIDER=http needs it)".into(),
                        "an http or https URL",
                    );
                    None
                };
                url.map(|url| SmsConfig::Http {
                    url,
                    token: r.optional_secret("SMS_HTTP_TOKEN"),
                })
            }
            Some("mobizon") => {
                let api_url = r.value("MOBIZON_API_URL", "an https URL", |s| {
                    parse_url(s, &["http", "https"])
                });
                let api_key = r.optional_secret("MOBIZON_API_KEY");
                if api_key.is_none() {
                    r.fail(
                        "MOBIZON_API_KEY",
                        "is missing (SMS_PROVIDER=mobizon needs it)".into(),
                        "the key from the Mobizon account",
                    );
                }
                api_url
                    .zip(api_key)
                    .map(|(api_url, api_key)| SmsConfig::Mobizon { api_url, api_key })
            }
            _ => Some(SmsConfig::Log),
        };

        let smtp = match r.optional_secret("SMTP_URL") {
            None => None,
            Some(url) => {
                if parse_url(url.expose(), &["smtp", "smtps"]).is_err() {
                    r.fail(
                        "SMTP_URL",
                        "is not an smtp:// or smtps:// URL".into(),
                        "smtp://HOST:PORT or smtps://USER:PASSWORD@HOST",
                    );
                }
                match r.raw("SMTP_FROM") {
                    Some(from) if from.contains('@') => Some(SmtpConfig {
                        url,
                        from: from.to_owned(),
                    }),
                    _ => {
                        r.fail(
                            "SMTP_FROM",
                            "is missing or not an address (SMTP_URL needs it)".into(),
                            "an address such as Kabinet <noreply@example.kz>",
                        );
                        None
                    }
                }
            }
        };

        let otp = (
            r.number("OTP_TTL_SECS", 30u64, 3600),
            r.number("OTP_MAX_ATTEMPTS", 1u32, 20),
            r.number("OTP_RESEND_SECS", 0u64, 3600),
            r.number("OTP_DAILY_LIMIT", 1u32, 100),
        );
        let login = (
            r.number("LOGIN_MAX_FAILURES", 1u32, 100),
            r.number("LOCKOUT_MINUTES", 1u64, 24 * 60),
            r.number("IIN_LOOKUP_LIMIT", 1u32, 10_000),
            r.number("IIN_LOOKUP_WINDOW_MINUTES", 1u64, 24 * 60),
            r.number("SESSION_IDLE_DAYS", 1u64, 365),
            r.number("SESSION_MAX_DAYS", 1u64, 3650),
        );
        let code_secret = r.optional_secret("CODE_SECRET");
        if code_secret
            .as_ref()
            .is_some_and(|t| t.expose().chars().count() < MIN_SECRET_CHARS)
        {
            r.fail(
                "CODE_SECRET",
                "is too short".into(),
                "at least 32 characters, e.g. from `kabinet secret`",
            );
        }
        let privacy_policy_url = r.raw("PRIVACY_POLICY_URL").is_some().then(|| {
            r.value("PRIVACY_POLICY_URL", "an https URL", |s| {
                parse_url(s, &["https"])
            })
        });
        let support_contact = r.raw("SUPPORT_CONTACT").map(str::to_owned);
        let retention_days = r.number("RETENTION_DAYS", 1u64, 3650);
        let argon2 = (
            r.number("ARGON2_MEMORY_KIB", 8u32, 4 * 1024 * 1024),
            r.number("ARGON2_ITERATIONS", 1u32, 100),
            r.number("ARGON2_PARALLELISM", 1u32, 64),
            r.number("ARGON2_MAX_CONCURRENT", 1usize, 256),
        );
        if let (Some(memory), Some(iterations)) = (argon2.0, argon2.1)
            && !meets_owasp_argon2(memory, iterations)
        {
            r.fail(
                "ARGON2_MEMORY_KIB",
                format!("{memory} KiB with {iterations} pass(es) is below OWASP's minimum"),
                "memory KiB / passes of at least 47104/1, 19456/2, 12288/3, 9216/4 or 7168/5",
            );
        }
        let global_rate = r.number("TELEGRAM_GLOBAL_RATE", 1u32, 1000);
        let chat_rate = r.number("TELEGRAM_CHAT_RATE", 1u32, 30);
        let allow_contact_verification =
            r.value("ALLOW_CONTACT_VERIFICATION", "true or false", parse_bool);
        let reminder_hours = r.number("REFERRAL_REMINDER_HOURS", 1u64, 24 * 30);
        let log_format = r.value("LOG_FORMAT", "pretty, json", |s| match s {
            "pretty" => Ok(LogFormat::Pretty),
            "json" => Ok(LogFormat::Json),
            _ => Err("is not a log format".into()),
        });

        if !r.errors.is_empty() {
            return Err(ConfigErrors(r.errors));
        }
        // Every `None` below was recorded as an error above, so none is reached.
        let (ttl, attempts, resend, daily) = otp;
        let (failures, lockout, lookups, window, idle, max_days) = login;
        let (memory, iterations, parallelism, concurrent) = argon2;
        Ok(Config {
            bot_token,
            telegram_api_url: telegram_api_url.unwrap_or_else(missing),
            database_url: database_url.unwrap_or_else(missing),
            database_max_connections: database_max_connections.unwrap_or_else(missing),
            default_language: default_language.unwrap_or_else(missing),
            timezone: timezone.unwrap_or_else(missing),
            api_listen: api_listen.unwrap_or_else(missing),
            api_token,
            api_max_body_bytes: api_max_body_bytes.unwrap_or_else(missing),
            webhook,
            sms: sms.unwrap_or_else(missing),
            smtp,
            otp: OtpConfig {
                ttl: Duration::from_secs(ttl.unwrap_or_else(missing)),
                max_attempts: attempts.unwrap_or_else(missing),
                resend_after: Duration::from_secs(resend.unwrap_or_else(missing)),
                daily_limit: daily.unwrap_or_else(missing),
            },
            login: LoginConfig {
                max_failures: failures.unwrap_or_else(missing),
                lockout: Duration::from_secs(60 * lockout.unwrap_or_else(missing)),
                iin_lookup_limit: lookups.unwrap_or_else(missing),
                iin_lookup_window: Duration::from_secs(60 * window.unwrap_or_else(missing)),
                session_idle: Duration::from_secs(86_400 * idle.unwrap_or_else(missing)),
                session_max: Duration::from_secs(86_400 * max_days.unwrap_or_else(missing)),
            },
            code_secret: match code_secret {
                Some(secret) => CodeSecret {
                    secret,
                    from_environment: true,
                },
                None => CodeSecret::for_this_process(),
            },
            privacy_policy_url: privacy_policy_url.flatten(),
            support_contact,
            retention: Duration::from_secs(86_400 * retention_days.unwrap_or_else(missing)),
            argon2: Argon2Config {
                memory_kib: memory.unwrap_or_else(missing),
                iterations: iterations.unwrap_or_else(missing),
                parallelism: parallelism.unwrap_or_else(missing),
                max_concurrent: concurrent.unwrap_or_else(missing),
            },
            telegram_rates: TelegramRates {
                global_per_sec: global_rate.unwrap_or_else(missing),
                chat_per_sec: chat_rate.unwrap_or_else(missing),
            },
            allow_contact_verification: allow_contact_verification.unwrap_or_else(missing),
            referral_reminder: Duration::from_secs(3600 * reminder_hours.unwrap_or_else(missing)),
            log_format: log_format.unwrap_or_else(missing),
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

    /// The effective configuration, one `KEY=value` line per key, secrets masked.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        let secret = |s: &Option<Secret>| {
            s.as_ref()
                .map(Secret::masked)
                .unwrap_or_else(|| "(not set)".into())
        };
        let (sms_url, sms_token, mobizon_url, mobizon_key) = match &self.sms {
            SmsConfig::Log => (None, None, None, None),
            SmsConfig::Http { url, token } => (Some(url.to_string()), token.clone(), None, None),
            SmsConfig::Mobizon { api_url, api_key } => {
                (None, None, Some(api_url.to_string()), Some(api_key.clone()))
            }
        };
        let unset = || "(not set)".to_owned();
        let rates = self.telegram_rates;
        vec![
            ("BOT_TOKEN", secret(&self.bot_token)),
            ("TELEGRAM_API_URL", self.telegram_api_url.to_string()),
            ("DATABASE_URL", self.database_url.masked()),
            (
                "DATABASE_MAX_CONNECTIONS",
                self.database_max_connections.to_string(),
            ),
            ("DEFAULT_LANGUAGE", self.default_language.to_string()),
            ("TIMEZONE", self.timezone.name().to_owned()),
            ("API_LISTEN", self.api_listen.to_string()),
            (
                "API_TOKEN",
                self.api_token
                    .as_ref()
                    .map(Secret::masked)
                    .unwrap_or_else(|| "(not set: the API is off)".into()),
            ),
            ("API_MAX_BODY_BYTES", self.api_max_body_bytes.to_string()),
            (
                "WEBHOOK_URL",
                self.webhook
                    .as_ref()
                    .map(|w| w.url.to_string())
                    .unwrap_or_else(|| "(not set: long polling)".into()),
            ),
            (
                "WEBHOOK_LISTEN",
                self.webhook
                    .as_ref()
                    .map(|w| w.listen.to_string())
                    .unwrap_or_else(unset),
            ),
            (
                "WEBHOOK_SECRET",
                secret(&self.webhook.as_ref().and_then(|w| w.secret.clone())),
            ),
            (
                "SMS_PROVIDER",
                match self.sms {
                    SmsConfig::Log => "log",
                    SmsConfig::Http { .. } => "http",
                    SmsConfig::Mobizon { .. } => "mobizon",
                }
                .into(),
            ),
            ("SMS_HTTP_URL", sms_url.unwrap_or_else(unset)),
            ("SMS_HTTP_TOKEN", secret(&sms_token)),
            ("MOBIZON_API_URL", mobizon_url.unwrap_or_else(unset)),
            ("MOBIZON_API_KEY", secret(&mobizon_key)),
            (
                "SMTP_URL",
                self.smtp
                    .as_ref()
                    .map(|s| mask_url_password(s.url.expose()))
                    .unwrap_or_else(|| "(not set: e-mail is off)".into()),
            ),
            (
                "SMTP_FROM",
                self.smtp
                    .as_ref()
                    .map(|s| s.from.clone())
                    .unwrap_or_else(unset),
            ),
            ("OTP_TTL_SECS", self.otp.ttl.as_secs().to_string()),
            ("OTP_MAX_ATTEMPTS", self.otp.max_attempts.to_string()),
            (
                "OTP_RESEND_SECS",
                self.otp.resend_after.as_secs().to_string(),
            ),
            ("OTP_DAILY_LIMIT", self.otp.daily_limit.to_string()),
            ("LOGIN_MAX_FAILURES", self.login.max_failures.to_string()),
            (
                "LOCKOUT_MINUTES",
                (self.login.lockout.as_secs() / 60).to_string(),
            ),
            ("IIN_LOOKUP_LIMIT", self.login.iin_lookup_limit.to_string()),
            (
                "IIN_LOOKUP_WINDOW_MINUTES",
                (self.login.iin_lookup_window.as_secs() / 60).to_string(),
            ),
            (
                "SESSION_IDLE_DAYS",
                (self.login.session_idle.as_secs() / 86_400).to_string(),
            ),
            (
                "SESSION_MAX_DAYS",
                (self.login.session_max.as_secs() / 86_400).to_string(),
            ),
            (
                "CODE_SECRET",
                if self.code_secret.from_environment {
                    self.code_secret.secret.masked()
                } else {
                    "(not set: a random key for this process; `kabinet run` needs one)".into()
                },
            ),
            (
                "PRIVACY_POLICY_URL",
                self.privacy_policy_url
                    .as_ref()
                    .map(Url::to_string)
                    .unwrap_or_else(|| "(not set: no consent is asked)".into()),
            ),
            (
                "SUPPORT_CONTACT",
                self.support_contact.clone().unwrap_or_else(unset),
            ),
            (
                "RETENTION_DAYS",
                (self.retention.as_secs() / 86_400).to_string(),
            ),
            ("ARGON2_MEMORY_KIB", self.argon2.memory_kib.to_string()),
            ("ARGON2_ITERATIONS", self.argon2.iterations.to_string()),
            ("ARGON2_PARALLELISM", self.argon2.parallelism.to_string()),
            (
                "ARGON2_MAX_CONCURRENT",
                self.argon2.max_concurrent.to_string(),
            ),
            ("TELEGRAM_GLOBAL_RATE", rates.global_per_sec.to_string()),
            ("TELEGRAM_CHAT_RATE", rates.chat_per_sec.to_string()),
            (
                "ALLOW_CONTACT_VERIFICATION",
                self.allow_contact_verification.to_string(),
            ),
            (
                "REFERRAL_REMINDER_HOURS",
                (self.referral_reminder.as_secs() / 3600).to_string(),
            ),
            (
                "LOG_FORMAT",
                match self.log_format {
                    LogFormat::Pretty => "pretty",
                    LogFormat::Json => "json",
                }
                .into(),
            ),
        ]
    }
}

/// Whether `url` points at this machine (a local Bot API server or a test fake).
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Stands for a value whose absence was already reported as an error.
fn missing<T>() -> T {
    unreachable!("every missing value was reported as an error")
}

/// `123456789:AAH…`: digits, a colon, then at least 30 of A-Z a-z 0-9 _ -.
fn looks_like_bot_token(s: &str) -> bool {
    match s.split_once(':') {
        Some((id, rest)) => {
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_digit())
                && rest.len() >= 30
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        }
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
        let documented: Vec<_> = KEYS.iter().map(|d| d.key).collect();
        assert_eq!(described, documented);
    }
}
