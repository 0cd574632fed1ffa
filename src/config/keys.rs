//! Every configuration key, declared once: its name, default, meaning, the `.env.example`
//! section it stands in, and how its value is read. Parsing (`Config::from_vars`),
//! `kabinet check-config` and `.env.example` (`kabinet check-config --env-example`, checked
//! by a test) all come from this table.

use std::net::SocketAddr;

use chrono_tz::Tz;
use url::Url;

use super::{DatabaseUrl, Secret, mask_url_password};
use crate::domain::Language;

/// One configuration key.
pub struct Key {
    pub name: &'static str,
    /// The value when the key is unset; empty: the key is optional and off when unset.
    pub default: &'static str,
    pub meaning: &'static str,
    /// The heading of `.env.example` it stands under.
    pub section: &'static str,
    pub kind: Kind,
    /// What an unset optional key means, as `check-config` says it («the API is off»).
    pub when_unset: Option<&'static str>,
}

impl Key {
    /// Whether `check-config` masks the value.
    pub fn is_secret(&self) -> bool {
        matches!(
            self.kind,
            Kind::Secret { .. } | Kind::SecretUrl(_) | Kind::BotToken | Kind::WebhookSecret
        )
    }
}

/// How a key's value is read.
pub enum Kind {
    Text,
    /// Masked when shown; at least `min_chars` long.
    Secret {
        min_chars: usize,
    },
    /// A URL holding a password (SMTP): shown with the password masked.
    SecretUrl(&'static [&'static str]),
    BotToken,
    Url(&'static [&'static str]),
    Number {
        min: u64,
        max: u64,
    },
    Bool,
    Choice(&'static [&'static str]),
    Language,
    TimeZone,
    Address,
    Database,
    /// What Telegram echoes in `X-Telegram-Bot-Api-Secret-Token`.
    WebhookSecret,
    /// Hours before a moment, comma-separated, decimals allowed (`24,4,0.5`).
    Hours,
}

/// A key's value, read.
#[derive(Debug, Clone)]
pub enum Value {
    Text(String),
    Secret(Secret),
    Url(Url),
    Number(u64),
    Bool(bool),
    Language(Language),
    TimeZone(Tz),
    Address(SocketAddr),
    Database(DatabaseUrl),
    /// Lead times, longest first.
    Durations(Vec<std::time::Duration>),
}

impl Value {
    /// The value as `check-config` shows it: secrets masked.
    pub fn shown(&self, kind: &Kind) -> String {
        match (self, kind) {
            (Value::Secret(s), Kind::SecretUrl(_)) => mask_url_password(s.expose()),
            (Value::Secret(s), _) => s.masked(),
            (Value::Text(t), _) => t.clone(),
            (Value::Url(u), _) => u.to_string(),
            (Value::Number(n), _) => n.to_string(),
            (Value::Bool(b), _) => b.to_string(),
            (Value::Language(l), _) => l.code().to_owned(),
            (Value::TimeZone(tz), _) => tz.name().to_owned(),
            (Value::Address(a), _) => a.to_string(),
            (Value::Database(d), _) => d.masked(),
            (Value::Durations(leads), _) => leads
                .iter()
                .map(|d| format_hours(*d))
                .collect::<Vec<_>>()
                .join(","),
        }
    }
}

impl Kind {
    /// What is accepted, as the error message says it.
    pub fn accepted(&self) -> String {
        match self {
            Kind::Text => "any text".into(),
            Kind::Secret { min_chars: 0 } => "any text".into(),
            Kind::Secret { min_chars } => {
                format!("at least {min_chars} characters, e.g. from `kabinet secret`")
            }
            Kind::SecretUrl(schemes) | Kind::Url(schemes) => {
                format!("a URL ({})", schemes.join(" or "))
            }
            Kind::BotToken => "123456789:AA… as @BotFather gives it".into(),
            Kind::Number { min, max } => format!("a whole number from {min} to {max}"),
            Kind::Bool => "true or false".into(),
            Kind::Choice(choices) => choices.join(", "),
            Kind::Language => "kk, ru".into(),
            Kind::TimeZone => "an IANA time zone such as Asia/Almaty".into(),
            Kind::Address => "HOST:PORT, e.g. 127.0.0.1:8080".into(),
            Kind::Database => "sqlite://FILE or postgres://USER:PASSWORD@HOST:PORT/DB".into(),
            Kind::WebhookSecret => {
                format!("{WEBHOOK_SECRET_MIN}-256 of A-Z a-z 0-9 _ -, e.g. from `kabinet secret`")
            }
            Kind::Hours => {
                "hours, comma-separated, e.g. 24,4,1 or 0.5 (each above 0, at most 720)".into()
            }
        }
    }

    /// Reads a value; the error says what is wrong (never the value, which may be secret).
    pub fn parse(&self, raw: &str) -> Result<Value, String> {
        match self {
            Kind::Text => Ok(Value::Text(raw.to_owned())),
            Kind::Secret { min_chars } => {
                if raw.chars().count() < *min_chars {
                    return Err("is too short".into());
                }
                Ok(Value::Secret(Secret::new(raw)))
            }
            Kind::SecretUrl(schemes) => {
                parse_url(raw, schemes)
                    .map_err(|_| format!("is not a {} URL", schemes.join(" or ")))?;
                Ok(Value::Secret(Secret::new(raw)))
            }
            Kind::BotToken if looks_like_bot_token(raw) => Ok(Value::Secret(Secret::new(raw))),
            Kind::BotToken => Err("is not shaped like a bot token".into()),
            Kind::Url(schemes) => parse_url(raw, schemes).map(Value::Url),
            Kind::Number { min, max } => match raw.parse::<u64>() {
                Ok(n) if (*min..=*max).contains(&n) => Ok(Value::Number(n)),
                Ok(_) => Err("is out of range".into()),
                Err(_) => Err("is not a whole number".into()),
            },
            Kind::Bool => match raw.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(Value::Bool(true)),
                "false" | "0" | "no" | "off" => Ok(Value::Bool(false)),
                _ => Err("is not true or false".into()),
            },
            Kind::Choice(choices) if choices.contains(&raw) => Ok(Value::Text(raw.to_owned())),
            Kind::Choice(_) => Err("is not one of the choices".into()),
            Kind::Language => Language::parse(raw)
                .map(Value::Language)
                .map_err(|_| "is not a language Kabinet speaks".into()),
            Kind::TimeZone => raw
                .parse::<Tz>()
                .map(Value::TimeZone)
                .map_err(|_| "is not a known time zone".into()),
            Kind::Address => raw
                .parse::<SocketAddr>()
                .map(Value::Address)
                .map_err(|_| "is not an address".into()),
            Kind::Database => DatabaseUrl::parse(raw).map(Value::Database),
            Kind::Hours => parse_hours(raw),
            Kind::WebhookSecret => {
                if raw.len() < WEBHOOK_SECRET_MIN {
                    return Err("is too short".into());
                }
                let ok = raw.len() <= 256
                    && raw
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if ok {
                    Ok(Value::Secret(Secret::new(raw)))
                } else {
                    Err("has characters Telegram refuses or is too long".into())
                }
            }
        }
    }
}

/// `24,4,0.5` as lead times, longest first; each above 0 and at most 30 days.
fn parse_hours(raw: &str) -> Result<Value, String> {
    let mut leads = Vec::new();
    for part in raw.split(',') {
        let hours: f64 = part
            .trim()
            .parse()
            .map_err(|_| format!("has {:?}, which is not a number of hours", part.trim()))?;
        if !(hours > 0.0 && hours <= 720.0) {
            return Err(format!("has {hours}, out of range"));
        }
        leads.push(std::time::Duration::from_secs_f64(hours * 3600.0));
    }
    leads.sort_unstable_by(|a, b| b.cmp(a));
    leads.dedup();
    Ok(Value::Durations(leads))
}

/// A lead time as hours, the way it is written in the configuration (`24`, `0.5`).
fn format_hours(d: std::time::Duration) -> String {
    let hours = d.as_secs_f64() / 3600.0;
    let text = format!("{hours:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

pub(super) fn parse_url(s: &str, schemes: &[&str]) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|e| format!("is not a URL ({e})"))?;
    if !schemes.contains(&url.scheme()) {
        return Err(format!("has scheme {:?}", url.scheme()));
    }
    Ok(url)
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

/// The shortest webhook secret taken: anyone who finds the webhook's address could post
/// updates as Telegram, so the secret must be one no one guesses.
pub const WEBHOOK_SECRET_MIN: usize = 32;

const HTTP: &[&str] = &["http", "https"];
const HTTPS: &[&str] = &["https"];

macro_rules! keys {
    ($($section:literal: [$($name:literal = $default:literal, $kind:expr, $unset:expr, $meaning:literal;)+])+) => {
        /// Every key Kabinet reads, in the order `.env.example` lists them.
        pub const KEYS: &[Key] = &[$($(Key {
            name: $name,
            default: $default,
            meaning: $meaning,
            section: $section,
            kind: $kind,
            when_unset: $unset,
        }),+),+];
    };
}

const fn n(min: u64, max: u64) -> Kind {
    Kind::Number { min, max }
}

keys! {
    "Telegram": [
        "BOT_TOKEN" = "", Kind::BotToken, None, "the bot's token from @BotFather; required by `kabinet run`";
        "TELEGRAM_API_URL" = "https://api.telegram.org", Kind::Url(HTTP), None, "Bot API base URL: Telegram, a local Bot API server or a test fake";
        "WEBHOOK_URL" = "", Kind::Url(HTTPS), Some("long polling"), "public https URL Telegram posts updates to; long polling when empty";
        "WEBHOOK_LISTEN" = "127.0.0.1:8443", Kind::Address, None, "address the webhook server listens on, behind the reverse proxy that terminates TLS";
        "WEBHOOK_SECRET" = "", Kind::WebhookSecret, None, "secret Telegram echoes in X-Telegram-Bot-Api-Secret-Token (32-256 of A-Z a-z 0-9 _ -, e.g. from `kabinet secret`); required with WEBHOOK_URL";
        "WEBHOOK_MAX_CONNECTIONS" = "40", n(1, 100), None, "updates Telegram posts at once to the whole deployment (1-100); on PostgreSQL each one in hand holds a connection";
        "TELEGRAM_GLOBAL_RATE" = "30", n(1, 1000), None, "Telegram's overall limit, messages per second (1-1000; above 30 needs paid broadcasts); Kabinet sends at 90 % of it";
        "TELEGRAM_CHAT_RATE" = "1", n(1, 30), None, "Telegram's limit per private chat, messages per second (1-30); Kabinet sends at 90 % of it";
    ]
    "Database": [
        "DATABASE_URL" = "sqlite://kabinet.db", Kind::Database, None, "sqlite://FILE (created if missing) or postgres://USER:PASSWORD@HOST/DB";
        "DATABASE_MAX_CONNECTIONS" = "10", n(1, 1000), None, "database connections in all (PostgreSQL: a quarter of them, from 4, keep the chats' screen state)";
    ]
    "Parents' screens": [
        "DEFAULT_LANGUAGE" = "kk", Kind::Language, None, "kk or ru: the language of a chat whose Telegram language is neither";
        "TIMEZONE" = "Asia/Almaty", Kind::TimeZone, None, "IANA time zone of the times parents see and of quiet hours";
        "SUPPORT_CONTACT" = "", Kind::Text, None, "the operator's phone or @username, shown in /help and where a parent cannot go on";
        "PRIVACY_POLICY_URL" = "", Kind::Url(HTTPS), Some("no consent is asked"), "when set, a parent's first login asks consent to the processing of personal data, with this link";
        "ANSWER_REMINDER_HOURS" = "24,4,1", Kind::Hours, None, "hours before a question's deadline that its reminders go (decimals allowed: 0.5 is 30 minutes); the last sounds even in quiet hours";
    ]
    "Integration API (the portal)": [
        "API_LISTEN" = "127.0.0.1:8080", Kind::Address, None, "address of the integration API";
        "API_TOKEN" = "", Kind::Secret { min_chars: 32 }, Some("the API is off"), "bearer token the portal sends (at least 32 characters); the API is off when empty";
        "API_MAX_BODY_BYTES" = "1048576", n(1024, 1 << 30), None, "largest request body the API accepts";
        "PORTAL_WEBHOOK_URL" = "", Kind::Url(HTTP), Some("answers are read from GET /api/v1/answers only"), "where each answer to a question is POSTed: https://…, or http:// to a loopback or private address";
        "PORTAL_WEBHOOK_SECRET" = "", Kind::Secret { min_chars: 32 }, None, "key of the answers' X-Kabinet-Signature (HMAC-SHA-256), 32 characters or more; required with PORTAL_WEBHOOK_URL";
    ]
    "SMS": [
        "SMS_PROVIDER" = "log", Kind::Choice(&["log", "http", "mobizon"]), None, "log (prints the text, for development), http (generic gateway) or mobizon";
        "SMS_HTTP_URL" = "", Kind::Url(HTTP), None, "http provider: the URL that receives POST {\"to\", \"text\"}";
        "SMS_HTTP_TOKEN" = "", Kind::Secret { min_chars: 0 }, None, "http provider: bearer token for the gateway";
        "MOBIZON_API_URL" = "https://api.mobizon.kz", Kind::Url(HTTP), None, "mobizon provider: API base URL";
        "MOBIZON_API_KEY" = "", Kind::Secret { min_chars: 0 }, None, "mobizon provider: the API key";
    ]
    "E-mail": [
        "SMTP_URL" = "", Kind::SecretUrl(&["smtp", "smtps"]), Some("e-mail is off"), "e-mail channel, e.g. smtps://user:password@mail.example.kz; off when empty";
        "SMTP_FROM" = "", Kind::Text, None, "sender address of e-mails, e.g. Kabinet <noreply@example.kz>";
    ]
    "Login and security": [
        "CODE_SECRET" = "", Kind::Secret { min_chars: 32 }, Some("a random key for this process; `kabinet run` needs one"), "key that seals confirmation codes at rest (HMAC-SHA-256), 32 characters or more, kept apart from the database; required by `kabinet run`; `kabinet secret` prints a new one";
        "OTP_TTL_SECS" = "300", n(30, 3600), None, "lifetime of a confirmation code, seconds";
        "OTP_MAX_ATTEMPTS" = "5", n(1, 20), None, "wrong entries allowed per code";
        "OTP_RESEND_SECS" = "60", n(0, 3600), None, "seconds before another code may go to the same number";
        "OTP_DAILY_LIMIT" = "5", n(1, 100), None, "codes a day for the parent's own chats (those that have held a session of the cabinet), together; strangers cannot use them up";
        "OTP_NEW_CHAT_LIMIT" = "3", n(1, 100), None, "codes a day one chat that never held a session of a cabinet may ask for it (a parent's first login, or a stranger)";
        "OTP_USER_DAILY_LIMIT" = "5", n(1, 100), None, "codes a day one Telegram user may ask for cabinets it never held a session of, all together";
        "LOGIN_MAX_FAILURES" = "5", n(1, 100), None, "wrong passwords in a row from one chat before that chat is locked out of the cabinet (and per Telegram user across cabinets)";
        "LOGIN_CABINET_MAX_FAILURES" = "10", n(2, 1000), None, "wrong passwords in a day, from two chats or more, before the cabinet itself is locked";
        "LOCKOUT_MINUTES" = "15", n(1, 24 * 60), None, "first lock's length; each repeat doubles it, up to 24 hours; a day without wrong passwords forgets earlier locks";
        "IIN_LOOKUP_LIMIT" = "10", n(1, 10_000), None, "IIN look-ups a Telegram user may make per window";
        "IIN_LOOKUP_WINDOW_MINUTES" = "10", n(1, 24 * 60), None, "the window of IIN_LOOKUP_LIMIT, minutes";
        "SESSION_IDLE_DAYS" = "30", n(1, 365), None, "a chat's login ends after this many days unused";
        "SESSION_MAX_DAYS" = "180", n(1, 3650), None, "a chat's login ends this many days after it began, used or not";
        "ALLOW_CONTACT_VERIFICATION" = "false", Kind::Bool, None, "true lets a parent confirm the phone with Telegram's contact button instead of an SMS code";
        "ARGON2_MEMORY_KIB" = "19456", n(8, 4 * 1024 * 1024), None, "Argon2id memory per hash, KiB (with ARGON2_ITERATIONS at least one of OWASP's pairs: 47104/1, 19456/2, 12288/3, 9216/4, 7168/5)";
        "ARGON2_ITERATIONS" = "2", n(1, 100), None, "Argon2id passes (see ARGON2_MEMORY_KIB)";
        "ARGON2_PARALLELISM" = "1", n(1, 64), None, "Argon2id lanes";
        "ARGON2_MAX_CONCURRENT" = "2", n(1, 256), None, "password hashes computed at once; more wait their turn";
    ]
    "Pushes and history": [
        "REFERRAL_REMINDER_HOURS" = "24", n(1, 24 * 30), None, "how long before a referral expires the parent is reminded";
        "RETENTION_DAYS" = "90", n(1, 3650), None, "sent or failed deliveries, used codes, ended sessions and old rate-limit rows are deleted after this many days";
    ]
    "Monitoring": [
        "ADMIN_LISTEN" = "127.0.0.1:9090", Kind::Address, None, "address of /healthz and /metrics, served whether or not the API is on; no token, so keep it on a private network";
    ]
    "Logs": [
        "LOG_FORMAT" = "pretty", Kind::Choice(&["pretty", "json"]), None, "pretty or json; RUST_LOG filters (e.g. info,kabinet=debug)";
    ]
}

/// `.env.example`, as this table says it.
pub fn env_example() -> String {
    let mut out = String::from(
        "# Kabinet configuration. Copy to .env and adjust; real environment variables win over\n\
         # this file. Every key is optional except BOT_TOKEN and CODE_SECRET for `kabinet run`;\n\
         # the value shown is the default. `kabinet check-config` prints what Kabinet will use,\n\
         # secrets masked. This file is generated: `kabinet check-config --env-example`.\n",
    );
    let mut section = "";
    for key in KEYS {
        if key.section != section {
            section = key.section;
            out.push_str(&format!("\n## {section}\n"));
        }
        out.push_str(&format!(
            "# {}\n{}={}\n",
            key.meaning, key.name, key.default
        ));
    }
    out
}

/// Keys of other programs that a `.env` may well hold beside Kabinet's.
const OTHERS: &[&str] = &["RUST_LOG", "RUST_BACKTRACE", "NO_COLOR", "TZ"];

/// A key in `.env` that Kabinet does not read, with the known key it most likely meant.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownKey {
    pub name: String,
    pub nearest: Option<&'static str>,
}

impl std::fmt::Display for UnknownKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} in .env is not a key Kabinet knows", self.name)?;
        match self.nearest {
            Some(nearest) => write!(f, "; did you mean {nearest}?"),
            None => write!(f, "; it is ignored (see .env.example)"),
        }
    }
}

/// The keys of a `.env` file's text that Kabinet does not know (a misspelt `BOT_TOKN`
/// would otherwise pass silently, and the bot start with no token).
pub fn unknown_keys<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<UnknownKey> {
    names
        .into_iter()
        .filter(|name| !KEYS.iter().any(|k| k.name == *name) && !OTHERS.contains(name))
        .map(|name| UnknownKey {
            name: name.to_owned(),
            nearest: nearest_key(name),
        })
        .collect()
}

/// The known key closest to `name` by edit distance, if it is close enough to be a slip
/// (a third of the name's length at most).
fn nearest_key(name: &str) -> Option<&'static str> {
    let upper = name.to_ascii_uppercase();
    KEYS.iter()
        .map(|k| (edit_distance(&upper, k.name), k.name))
        .filter(|(d, k)| *d <= (k.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance between two ASCII-ish strings.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod unknown_key_tests {
    use super::*;

    #[test]
    fn a_misspelt_key_is_named_with_the_one_meant() {
        let found = unknown_keys(["BOT_TOKN", "API_TOKEN", "RUST_LOG", "database_url", "FOO"]);
        assert_eq!(
            found,
            vec![
                UnknownKey {
                    name: "BOT_TOKN".into(),
                    nearest: Some("BOT_TOKEN")
                },
                UnknownKey {
                    name: "database_url".into(),
                    nearest: Some("DATABASE_URL")
                },
                UnknownKey {
                    name: "FOO".into(),
                    nearest: None
                },
            ]
        );
        assert_eq!(
            found[0].to_string(),
            "BOT_TOKN in .env is not a key Kabinet knows; did you mean BOT_TOKEN?"
        );
        assert_eq!(nearest_key("WEBHOOK_SECERT"), Some("WEBHOOK_SECRET"));
    }
}
