//! The Telegram bot: the handler tree, the dialogue, the screens.

mod cabinet;
pub mod callback;
mod context;
mod handlers;
mod lanes;
mod login;
mod schema;
mod screens;
pub mod state;
pub mod texts;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use teloxide::adaptors::throttle::Limits;
use teloxide::adaptors::{DefaultParseMode, Throttle};
use teloxide::prelude::*;
use teloxide::types::{AllowedUpdate, BotCommand, BotCommandScope, Me, ParseMode};
use teloxide::update_listeners::{Polling, UpdateListener};
use tokio::sync::watch;

pub use context::ChatCtx;
pub use schema::schema;

use crate::auth::Hasher;
use crate::config::Config;
use crate::domain::Language;
use crate::i18n::Localizer;
use crate::metrics::Metrics;
use crate::notify::sms::SmsSender;
use crate::storage::{Storage, StorageError};

/// The bot as Kabinet talks to Telegram: HTML texts, Telegram's limits kept by the sender.
pub type KBot = DefaultParseMode<Throttle<Bot>>;

/// What every handler may need; built once, shared by every update.
#[derive(Clone)]
pub struct Deps {
    pub storage: Storage,
    pub loc: Arc<Localizer>,
    pub config: Arc<Config>,
    /// The bot's username, for texts that point to it.
    pub bot_username: Arc<str>,
    pub hasher: Hasher,
    pub sms: SmsSender,
    pub metrics: Arc<Metrics>,
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
}

pub type HandlerResult = Result<(), BotError>;

/// Idle connections to the Bot API kept for reuse; a busy bot needs a few dozen at once.
const IDLE_CONNECTIONS: usize = 64;

/// Builds the bot for the configured Bot API URL and token, with the configured rate limits.
pub fn build_bot(config: &Config, token: &str) -> KBot {
    // teloxide's client settings, with fewer idle connections kept: after a burst of
    // thousands of requests at once, a thousand idle connections would otherwise stay open
    // (and hold their buffers) for 90 seconds.
    let client = teloxide::net::default_reqwest_settings()
        .pool_max_idle_per_host(IDLE_CONNECTIONS)
        .build()
        .expect("the HTTP client builds with rustls");
    let bot = Bot::with_client(token, client).set_api_url(config.telegram_api_url.clone());
    let limits = Limits {
        messages_per_sec_chat: config.telegram_rates.chat_per_sec,
        messages_per_min_chat: 20,
        messages_per_min_channel_or_supergroup: 20,
        messages_per_sec_overall: config.telegram_rates.global_per_sec,
    };
    Throttle::new_spawn(bot, limits).parse_mode(ParseMode::Html)
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
}

impl RunningBot {
    /// Stops taking updates, lets the ones in hand finish, and waits for the task — at most
    /// [`STOP_GRACE`]; past that the task is aborted so the process can still exit.
    pub async fn stop(self) {
        let RunningBot { stop, mut task } = self;
        let _ = stop.send(true);
        if tokio::time::timeout(STOP_GRACE, &mut task).await.is_err() {
            tracing::warn!("the bot did not stop within {STOP_GRACE:?}; aborting it");
            task.abort();
            let _ = task.await;
        }
    }
}

/// Starts the bot with long polling. `poll_timeout` is how long one getUpdates waits
/// (30 s against Telegram; short in tests so a stop is quick).
pub async fn start_polling(
    bot: KBot,
    deps: Deps,
    me: Me,
    poll_timeout: Duration,
) -> Result<RunningBot, teloxide::RequestError> {
    let listener = Polling::builder(bot.clone())
        .timeout(poll_timeout)
        .allowed_updates(vec![
            AllowedUpdate::Message,
            AllowedUpdate::CallbackQuery,
            AllowedUpdate::MyChatMember,
        ])
        .delete_webhook()
        .await
        .build();
    let lanes = lanes::Lanes::new(schema(), dptree::deps![bot, deps, me]);
    let (stop, stopping) = watch::channel(false);
    let task = tokio::spawn(listen(listener, lanes, stopping));
    Ok(RunningBot { stop, task })
}

/// Takes updates from the listener into the lanes until asked to stop; then lets the
/// listener confirm what it took (so Telegram does not send it again) and waits for the
/// updates in hand.
async fn listen<L>(mut listener: L, lanes: Arc<lanes::Lanes>, mut stopping: watch::Receiver<bool>)
where
    L: UpdateListener,
    L::Err: std::fmt::Debug,
{
    let mut stop_token = Some(listener.stop_token());
    let stream = listener.as_stream();
    tokio::pin!(stream);
    loop {
        tokio::select! {
            update = stream.next() => match update {
                Some(Ok(update)) => lanes.submit(update),
                Some(Err(error)) => tracing::warn!(?error, "getting updates failed"),
                None => break,
            },
            changed = stopping.changed(), if stop_token.is_some() => {
                if changed.is_err() || *stopping.borrow() {
                    if let Some(token) = stop_token.take() {
                        token.stop();
                    }
                }
            }
        }
    }
    lanes.drained().await;
}

/// Starts the whole bot on `bot` (see [`build_bot`]; the push sender shares it, so both
/// keep one rate limit): the command menus, then the dispatcher. Returns the running bot and
/// its username.
pub async fn launch(
    config: Arc<Config>,
    storage: Storage,
    bot: KBot,
    poll_timeout: Duration,
    sms: SmsSender,
    metrics: Arc<Metrics>,
    loc: Arc<Localizer>,
) -> Result<(RunningBot, Arc<str>), BotError> {
    let hasher = Hasher::new(config.argon2)?;
    let me = bot.get_me().await?;
    register_commands(&bot, &loc, config.default_language).await?;
    let bot_username: Arc<str> = me.username().into();
    let deps = Deps {
        storage,
        loc,
        config,
        bot_username: bot_username.clone(),
        hasher,
        sms,
        metrics,
    };
    Ok((
        start_polling(bot, deps, me, poll_timeout).await?,
        bot_username,
    ))
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
