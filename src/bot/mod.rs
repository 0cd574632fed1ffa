//! The Telegram bot. `schema.rs` routes updates to `handlers.rs`; a button goes through the
//! table in `routes.rs` to a transition (`start`, `login`, `cabinet`, `settings`); the
//! state's screen is read in `screens.rs` and drawn by a view (`views/`); `show.rs` puts it
//! in the chat. The dialogue (`state.rs`) lives in the database.

mod cabinet;
mod context;
mod handlers;
mod lanes;
mod login;
mod polling;
mod pressed;
mod questions;
mod reply;
mod routes;
mod schema;
mod screens;
mod settings;
mod show;
mod start;
pub mod state;
mod views;
mod webhook;

use std::sync::Arc;
use std::time::Duration;

use teloxide::adaptors::DefaultParseMode;
use teloxide::prelude::*;
use teloxide::types::{BotCommand, BotCommandScope, Me, ParseMode};
use tokio::sync::watch;

pub use context::ChatCtx;
pub use schema::schema;
pub use webhook::SECRET_HEADER;

use crate::channels::sms::SmsSender;
use crate::config::Config;
use crate::domain::Language;
use crate::i18n::Localizer;
use crate::login::LoginService;
use crate::metrics::Metrics;
use crate::storage::{Storage, StorageError};
use crate::telegram::{BotApi, Pacer};

/// The bot as Kabinet answers parents with it: HTML texts. Telegram's limits are kept by
/// the [`Pacer`] every `sendMessage` waits for (see [`Deps::pacer`]).
pub type KBot = DefaultParseMode<Bot>;

/// How long one long poll waits for updates when Telegram has none.
pub const POLL_TIMEOUT: Duration = Duration::from_secs(30);

/// What every handler may need; built once, shared by every update.
#[derive(Clone)]
pub struct Deps {
    pub storage: Storage,
    pub loc: Arc<Localizer>,
    pub config: Arc<Config>,
    /// The bot's username, for texts that point to it.
    pub bot_username: Arc<str>,
    /// The login policy: codes, passwords, locks, proofs.
    pub login: LoginService,
    pub metrics: Arc<Metrics>,
    /// Every message the bot sends waits its turn here (shared with the push sender).
    pub pacer: Pacer,
    /// Wakes the push sender when the bot queues a delivery (an answer for the portal).
    pub outbox: crate::notify::Wake,
}

#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error("storage: {}", .0.log_safe())]
    Storage(#[from] StorageError),
    #[error("telegram: {0}")]
    Telegram(#[from] teloxide::RequestError),
    #[error("texts: {0}")]
    Texts(#[from] crate::i18n::I18nError),
    #[error("passwords: {0}")]
    Auth(#[from] crate::auth::AuthError),
    #[error("login: {0}")]
    Login(#[from] crate::login::LoginError),
    #[error("the webhook server could not listen on the WEBHOOK_LISTEN address: {0}")]
    Listen(std::io::Error),
    #[error("Telegram refused the webhook: {0}")]
    SetWebhook(String),
}

pub type HandlerResult = Result<(), BotError>;

/// Idle connections to the Bot API kept for reuse; a busy bot needs a few dozen at once.
const IDLE_CONNECTIONS: usize = 64;

/// How Kabinet reaches Telegram: teloxide's bot for the answers, Kabinet's own client for
/// the long poll and the pushes, and the pacer every `sendMessage` waits for.
#[derive(Clone)]
pub struct Telegram {
    pub bot: KBot,
    pub api: BotApi,
    pub pacer: Pacer,
}

impl Telegram {
    /// For the configured Bot API URL, rates and this token.
    pub fn new(config: &Config, token: &str) -> Telegram {
        // teloxide's client settings, with fewer idle connections kept: after a burst of
        // thousands of requests at once, a thousand idle connections would otherwise stay
        // open (and hold their buffers) for 90 seconds.
        let client = teloxide::net::default_reqwest_settings()
            .pool_max_idle_per_host(IDLE_CONNECTIONS)
            .build()
            .expect("the HTTP client builds with rustls");
        let bot = Bot::with_client(token, client)
            .set_api_url(config.telegram_api_url.clone())
            .parse_mode(ParseMode::Html);
        Telegram {
            bot,
            api: BotApi::new(&config.telegram_api_url, token),
            pacer: Pacer::new(
                config.telegram_rates.global_per_sec,
                config.telegram_rates.chat_per_sec,
            ),
        }
    }
}

fn commands(loc: &Localizer, lang: Language) -> Vec<BotCommand> {
    ["start", "menu", "language", "logout", "cancel", "help"]
        .into_iter()
        .map(|c| BotCommand::new(c, loc.text(lang, &format!("command-{c}"))))
        .collect()
}

/// The command menu of one chat, in the language it chose.
pub async fn set_chat_commands(
    bot: &KBot,
    loc: &Localizer,
    chat: ChatId,
    lang: Language,
) -> Result<(), teloxide::RequestError> {
    bot.set_my_commands(commands(loc, lang))
        .scope(BotCommandScope::Chat {
            chat_id: chat.into(),
        })
        .await?;
    Ok(())
}

/// Registers the command menu in both languages (and the default language for everyone
/// else), so each parent sees it in their own language.
pub async fn register_commands(
    bot: &KBot,
    loc: &Localizer,
    default: Language,
) -> Result<(), teloxide::RequestError> {
    for lang in Language::ALL {
        bot.set_my_commands(commands(loc, lang))
            .scope(BotCommandScope::Default)
            .language_code(lang.code())
            .await?;
    }
    bot.set_my_commands(commands(loc, default))
        .scope(BotCommandScope::Default)
        .await?;
    Ok(())
}

/// How long a stop waits for the updates in hand.
pub const STOP_GRACE: Duration = Duration::from_secs(15);

/// A running bot: its task, and the switch that stops it.
pub struct RunningBot {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    /// Webhook mode: where the webhook server listens.
    pub webhook_addr: Option<std::net::SocketAddr>,
}

impl RunningBot {
    /// Stops taking updates, lets the ones in hand finish, and waits for the task — at most
    /// [`STOP_GRACE`]; past that the task is aborted so the process can still exit.
    pub async fn stop(self) {
        let RunningBot { stop, mut task, .. } = self;
        let _ = stop.send(true);
        if tokio::time::timeout(STOP_GRACE, &mut task).await.is_err() {
            tracing::warn!("the bot did not stop within {STOP_GRACE:?}; aborting it");
            task.abort();
            let _ = task.await;
        }
    }
}

/// The lanes updates are handled in; `turns` in webhook mode (see [`lanes::Lanes::with_turns`]).
fn lanes(bot: KBot, deps: Deps, me: Me, turns: Option<u32>) -> Arc<lanes::Lanes> {
    let overflow: lanes::Overflow = {
        let (bot, deps) = (bot.clone(), deps.clone());
        Arc::new(move |chat, update, first| {
            tokio::spawn(handlers::on_flood(
                bot.clone(),
                deps.clone(),
                chat,
                update,
                first,
            ));
        })
    };
    let storage = deps.storage.clone();
    let metrics = deps.metrics.clone();
    let deps = dptree::deps![bot, deps, me];
    let lanes = match turns {
        Some(n) => {
            let storage = storage.with_turn_connections(n);
            lanes::Lanes::with_turns(schema(), deps, overflow, storage)
        }
        None => lanes::Lanes::new(schema(), deps, overflow),
    };
    lanes.timed(metrics)
}

/// Starts the bot with long polling; `poll_timeout` is how long one getUpdates waits
/// ([`POLL_TIMEOUT`] against Telegram; short in tests so a stop is quick).
pub async fn start_polling(
    telegram: Telegram,
    deps: Deps,
    me: Me,
    poll_timeout: Duration,
) -> Result<RunningBot, teloxide::RequestError> {
    let Telegram { bot, api, .. } = telegram;
    // Long polling and a webhook exclude each other.
    bot.delete_webhook().await?;
    let metrics = deps.metrics.clone();
    let lanes = lanes(bot, deps, me, None);
    let (stop, stopping) = watch::channel(false);
    let task = tokio::spawn(polling::poll(api, lanes, stopping, poll_timeout, metrics));
    Ok(RunningBot {
        stop,
        task,
        webhook_addr: None,
    })
}

/// Starts the bot in webhook mode: listens on `WEBHOOK_LISTEN`, then tells Telegram where
/// to post. A stop never deletes the webhook: the other replicas still serve it.
pub async fn start_webhook(
    telegram: Telegram,
    deps: Deps,
    me: Me,
    hook: &crate::config::WebhookConfig,
) -> Result<RunningBot, BotError> {
    let Telegram { bot, api, .. } = telegram;
    let listening = webhook::bind(hook.listen).await.map_err(BotError::Listen)?;
    let webhook_addr = listening.addr;
    let lanes = lanes(bot, deps, me, Some(u32::from(hook.max_connections)));
    let (stop, stopping) = watch::channel(false);
    let task = tokio::spawn(webhook::serve(
        listening,
        hook.url.path().to_owned(),
        hook.secret.expose().to_owned(),
        lanes,
        stopping,
    ));
    if let Err(error) = api
        .set_webhook(
            &hook.url,
            hook.secret.expose(),
            hook.max_connections,
            polling::ALLOWED_UPDATES,
        )
        .await
    {
        let _ = stop.send(true);
        let _ = task.await;
        return Err(BotError::SetWebhook(error.to_string()));
    }
    tracing::info!(listen = %webhook_addr, "Telegram posts updates to the webhook");
    Ok(RunningBot {
        stop,
        task,
        webhook_addr: Some(webhook_addr),
    })
}

/// What the bot shares with the rest of `kabinet run`.
pub struct Shared {
    /// Codes and lock notices go out by it.
    pub sms: SmsSender,
    pub metrics: Arc<Metrics>,
    pub loc: Arc<Localizer>,
    /// Wakes the push sender when the bot queues a delivery.
    pub outbox: crate::notify::Wake,
}

/// Starts the whole bot on `telegram` (the push sender shares its pacer, so both keep one
/// rate limit): the command menus, then the updates. Returns the running bot and its
/// username.
pub async fn launch(
    config: Arc<Config>,
    storage: Storage,
    telegram: Telegram,
    poll_timeout: Duration,
    shared: Shared,
) -> Result<(RunningBot, Arc<str>), BotError> {
    let Shared {
        sms,
        metrics,
        loc,
        outbox,
    } = shared;
    let me = telegram.bot.get_me().await?;
    register_commands(&telegram.bot, &loc, config.default_language).await?;
    let bot_username: Arc<str> = me.username().into();
    let login = LoginService::new(
        storage.clone(),
        config.clone(),
        sms,
        loc.clone(),
        metrics.clone(),
    )?;
    let deps = Deps {
        storage,
        loc,
        config,
        bot_username: bot_username.clone(),
        login,
        metrics,
        pacer: telegram.pacer.clone(),
        outbox,
    };
    let running = match deps.config.webhook.clone() {
        Some(hook) => start_webhook(telegram, deps, me, &hook).await?,
        None => start_polling(telegram, deps, me, poll_timeout).await?,
    };
    Ok((running, bot_username))
}

/// Resolves when the process is asked to stop: Ctrl-C or SIGTERM (what `docker stop` and
/// systemd send).
pub async fn stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("the SIGTERM handler installs");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
