//! `kabinet run` as one value: the bot, the integration API, the push sender and the
//! referral reminder, started together on one database and stopped together.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::admin::{self, AdminState, RunningAdmin};
use crate::api::{self, ApiState, RunningApi};
use crate::bot::{self, BotError, RunningBot, Telegram};
use crate::channels::email::Mailer;
use crate::channels::portal::PortalWebhook;
use crate::channels::sms::SmsSender;
use crate::config::Config;
use crate::i18n::Localizer;
use crate::maintenance::{self, RunningMaintenance};
use crate::metrics::Metrics;
use crate::notify::Wake;
use crate::notify::reminders::{self, RunningReminders};
use crate::notify::sender::{self, RunningSender, SenderDeps};
use crate::storage::Storage;

/// How Kabinet reaches the world beyond Telegram; the configured providers in production,
/// captures in tests and in the demo.
pub struct Outlets {
    pub sms: SmsSender,
    pub mail: Option<Mailer>,
}

impl Outlets {
    pub fn from_config(config: &Config) -> Result<Outlets, StartError> {
        let mail = match &config.smtp {
            Some(smtp) => {
                Some(Mailer::from_config(smtp).map_err(|e| StartError::Mail(e.to_string()))?)
            }
            None => None,
        };
        Ok(Outlets {
            sms: SmsSender::from_config(&config.sms),
            mail,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the bot could not start: {0}")]
    Bot(#[from] BotError),
    #[error("the integration API could not listen on the API_LISTEN address: {0}")]
    Api(#[from] std::io::Error),
    #[error("/healthz and /metrics could not listen on the ADMIN_LISTEN address: {0}")]
    Admin(std::io::Error),
    #[error("the e-mail channel is not usable: {0}")]
    Mail(String),
}

/// Kabinet, running.
pub struct Kabinet {
    bot: RunningBot,
    api: Option<RunningApi>,
    admin: RunningAdmin,
    sender: RunningSender,
    reminders: RunningReminders,
    maintenance: RunningMaintenance,
    housekeeping: tokio::task::JoinHandle<()>,
    pub metrics: Arc<Metrics>,
    /// Wakes the sender (tests queue deliveries behind the API's back).
    pub wake: Wake,
}

impl Kabinet {
    /// Where the integration API listens; `None` when it is off (no `API_TOKEN`).
    pub fn api_addr(&self) -> Option<SocketAddr> {
        self.api.as_ref().map(|a| a.addr)
    }

    /// Where `/healthz` and `/metrics` are served (`ADMIN_LISTEN`).
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin.addr
    }

    /// Webhook mode: where the webhook server listens (`WEBHOOK_LISTEN`).
    pub fn webhook_addr(&self) -> Option<SocketAddr> {
        self.bot.webhook_addr
    }

    /// Stops taking requests and updates, lets the ones in hand finish, then stops the
    /// sender (deliveries it had claimed but not sent are queued again at the next start).
    pub async fn stop(self) {
        if let Some(api) = self.api {
            api.stop().await;
        }
        self.bot.stop().await;
        self.reminders.stop().await;
        self.sender.stop().await;
        self.maintenance.stop().await;
        self.admin.stop().await;
        self.housekeeping.abort();
    }
}

/// How often freed memory is handed back to the system.
const RETURN_MEMORY_EVERY: Duration = Duration::from_secs(10);

/// Hands freed memory back every [`RETURN_MEMORY_EVERY`], so that the process shrinks back
/// after a burst of updates instead of keeping its peak.
fn start_housekeeping() -> tokio::task::JoinHandle<()> {
    tokio::spawn(async {
        let mut every = tokio::time::interval(RETURN_MEMORY_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            crate::return_freed_memory();
        }
    })
}

/// Starts everything. `poll_timeout` is how long one getUpdates waits
/// ([`bot::POLL_TIMEOUT`] against Telegram; short in tests so a stop is quick).
pub async fn start(
    config: Arc<Config>,
    storage: Storage,
    token: &str,
    poll_timeout: Duration,
    outlets: Outlets,
) -> Result<Kabinet, StartError> {
    let loc = Arc::new(Localizer::embedded().map_err(BotError::from)?);
    let metrics = Arc::new(Metrics::default());
    // First, so that a deployment can be watched from the moment it starts.
    let admin = admin::start(
        config.admin_listen,
        AdminState {
            storage: storage.clone(),
            metrics: metrics.clone(),
        },
    )
    .await
    .map_err(StartError::Admin)?;
    let telegram = Telegram::new(&config, token);
    // The sender's bell: the API and the bot ring it when they queue deliveries.
    let wake = Wake::default();
    let launched = bot::launch(
        config.clone(),
        storage.clone(),
        telegram.clone(),
        poll_timeout,
        bot::Shared {
            sms: outlets.sms.clone(),
            metrics: metrics.clone(),
            loc: loc.clone(),
            outbox: wake.clone(),
        },
    )
    .await;
    let (running_bot, bot_username) = match launched {
        Ok(launched) => launched,
        Err(e) => {
            admin.stop().await;
            return Err(e.into());
        }
    };

    let sender = sender::start(
        SenderDeps {
            storage: storage.clone(),
            telegram: telegram.api,
            pacer: telegram.pacer,
            loc,
            config: config.clone(),
            sms: outlets.sms,
            mail: outlets.mail,
            portal: config
                .portal_webhook
                .as_ref()
                .map(PortalWebhook::from_config),
            metrics: metrics.clone(),
            bot_username,
        },
        wake.clone(),
    );
    let poke_reminders = Wake::default();
    let reminders = reminders::start(
        storage.clone(),
        config.referral_reminder,
        config.answer_reminder_leads(),
        poke_reminders.clone(),
        wake.clone(),
    );
    let maintenance = maintenance::start(storage.clone(), &config);
    let api = if config.api_token.is_some() {
        let state = ApiState::new(
            storage,
            config,
            metrics.clone(),
            wake.clone(),
            poke_reminders,
        );
        match api::start(state).await {
            Ok(api) => Some(api),
            Err(e) => {
                running_bot.stop().await;
                reminders.stop().await;
                sender.stop().await;
                maintenance.stop().await;
                admin.stop().await;
                return Err(e.into());
            }
        }
    } else {
        tracing::info!("the integration API is off: API_TOKEN is not set");
        None
    };
    Ok(Kabinet {
        bot: running_bot,
        api,
        admin,
        sender,
        reminders,
        maintenance,
        housekeeping: start_housekeeping(),
        metrics,
        wake,
    })
}
