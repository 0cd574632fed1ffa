//! The `kabinet` command: run the bot, migrate, import, check the configuration, demo.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kabinet::config::{Config, LogFormat};
use kabinet::storage::Storage;

#[derive(Parser)]
#[command(
    name = "kabinet",
    version,
    about = "The parents' personal cabinet, as a Telegram bot"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bot, the integration API and the push sender.
    Run,
    /// Apply database migrations and exit.
    Migrate,
    /// Load localities, institutions, applications, referrals, files and attendance from a
    /// JSON document (the shape of the integration API, in arrays).
    Import {
        /// The JSON document.
        file: PathBuf,
    },
    /// Print the effective configuration (secrets masked), or what is wrong with it.
    CheckConfig {
        /// Print `.env.example` instead: every key with its default and meaning.
        #[arg(long)]
        env_example: bool,
    },
    /// Print a new random secret for CODE_SECRET or API_TOKEN (64 hexadecimal digits).
    Secret,
    /// Copy the SQLite database, consistently, while Kabinet runs (PostgreSQL: use pg_dump).
    Backup {
        /// The copy to write; it must not exist yet.
        file: PathBuf,
    },
    /// The whole bot with demo data in this terminal: no token, no network.
    Demo {
        /// The language of the demo parent's Telegram (kk or ru).
        #[arg(long, default_value = "kk", value_parser = ["kk", "ru"])]
        lang: String,
    },
}

/// Exit status for a configuration that cannot be used.
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load() {
        Ok(c) => c,
        Err(errors) => {
            eprintln!(
                "kabinet: the configuration has {} problem(s):",
                errors.0.len()
            );
            eprintln!("{errors}");
            eprintln!("(see .env.example for every key, its default and meaning)");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    // The demo's terminal is the chat: only warnings go there unless RUST_LOG says more.
    let quiet = matches!(cli.command, Command::Demo { .. });
    init_logging(config.log_format, if quiet { "warn" } else { "info" });
    let runtime = match runtime_for(config.database_url.backend()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kabinet: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::CheckConfig { env_example: true } => {
                print!("{}", kabinet::config::env_example());
                Ok(ExitCode::SUCCESS)
            }
            Command::CheckConfig { env_example: false } => check_config(&config),
            Command::Secret => {
                println!("{}", kabinet::config::new_secret());
                Ok(ExitCode::SUCCESS)
            }
            Command::Migrate => migrate(&config).await,
            Command::Backup { file } => backup(&config, &file).await,
            Command::Import { file } => import(&config, &file).await,
            Command::Run => run(&config).await,
            Command::Demo { lang } => demo(&config, &lang).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kabinet: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat, default_filter: &str) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    // Colour codes only for a person at a terminal: not into files, pipes or journald.
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn demo(config: &Config, lang: &str) -> anyhow::Result<ExitCode> {
    let lang = kabinet::domain::Language::parse(lang)?;
    kabinet::demo_chat::run(config, lang).await?;
    Ok(ExitCode::SUCCESS)
}

/// The bot against Telegram (or `TELEGRAM_API_URL`), until Ctrl-C or SIGTERM.
async fn run(config: &Config) -> anyhow::Result<ExitCode> {
    for unknown in Config::unknown_env_file_keys() {
        tracing::warn!("{unknown}");
    }
    let refusals = config.refusals_for_run();
    let Some(token) = config.bot_token.clone().filter(|_| refusals.is_empty()) else {
        eprintln!(
            "kabinet: the configuration has {} problem(s):",
            refusals.len()
        );
        for refusal in &refusals {
            eprintln!("{refusal}");
        }
        return Ok(ExitCode::from(EXIT_CONFIG));
    };
    let storage = connect(config).await?;
    let outlets = kabinet::app::Outlets::from_config(config)?;
    let kabinet = kabinet::app::start(
        std::sync::Arc::new(config.clone()),
        storage.clone(),
        token.expose(),
        kabinet::bot::POLL_TIMEOUT,
        outlets,
    )
    .await?;
    tracing::info!("Kabinet is running; Ctrl-C or SIGTERM stops it");
    kabinet::bot::stop_signal().await;
    tracing::info!("stopping: finishing the updates, requests and sends in hand");
    kabinet.stop().await;
    storage.close().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Every value as Kabinet will use it; exit status 2 when `kabinet run` would refuse it.
fn check_config(config: &Config) -> anyhow::Result<ExitCode> {
    let refusals = config.refusals_for_run();
    if refusals.is_empty() {
        println!("The configuration is valid. Effective values (secrets masked):");
    } else {
        println!("The configuration is read. Effective values (secrets masked):");
    }
    for (key, value) in config.describe() {
        println!("{key}={value}");
    }
    for unknown in Config::unknown_env_file_keys() {
        println!("warning: {unknown}");
    }
    if refusals.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    println!("`kabinet run` would refuse to start:");
    for refusal in refusals {
        println!("{refusal}");
    }
    Ok(ExitCode::from(EXIT_CONFIG))
}

async fn connect(config: &Config) -> anyhow::Result<Storage> {
    let storage = Storage::connect(&config.database_url, config.database_max_connections)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot open the database {}: {e}",
                config.database_url.masked()
            )
        })?;
    storage.migrate().await?;
    Ok(storage)
}

async fn migrate(config: &Config) -> anyhow::Result<ExitCode> {
    let storage = connect(config).await?;
    let applied = storage.applied_migrations().await?;
    println!(
        "The database {} is up to date ({applied} migration(s) applied).",
        config.database_url.masked()
    );
    storage.close().await;
    Ok(ExitCode::SUCCESS)
}

/// A consistent copy of a running SQLite database (`VACUUM INTO`); PostgreSQL has its own
/// tools, and is refused with a pointer to them.
async fn backup(config: &Config, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    if config.database_url.backend() == kabinet::config::Backend::Postgres {
        eprintln!(
            "kabinet: backup copies a SQLite database; for PostgreSQL use its own tools, e.g.\n  \
             pg_dump --format=custom --file=kabinet.dump \"$DATABASE_URL\"\n\
             (restore with pg_restore; see the README, «Backups»)"
        );
        return Ok(ExitCode::from(EXIT_CONFIG));
    }
    if file.exists() {
        eprintln!(
            "kabinet: {} exists already; backup writes a new file",
            file.display()
        );
        return Ok(ExitCode::from(EXIT_CONFIG));
    }
    let storage = connect(config).await?;
    storage
        .backup_into(file)
        .await
        .map_err(|e| anyhow::anyhow!("the backup failed: {}", e.log_safe()))?;
    storage.close().await;
    println!(
        "The database {} is copied to {}.",
        config.database_url.masked(),
        file.display()
    );
    Ok(ExitCode::SUCCESS)
}

async fn import(config: &Config, file: &PathBuf) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let doc: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{} is not valid JSON: {e}", file.display()))?;
    let storage = connect(config).await?;
    let total = kabinet::ingest::count_records(&doc);
    let mut bar = Progress::new(total);
    let report = kabinet::ingest::import_document(&storage, &doc, kabinet::clock::now(), |done| {
        bar.show(done)
    })
    .await?;
    storage.close().await;
    for (path, reason) in &report.failures {
        eprintln!("{path}: {reason}");
    }
    println!(
        "{} record(s): {} created, {} updated, {} unchanged, {} refused.",
        total,
        report.created,
        report.updated,
        report.unchanged,
        total.saturating_sub(report.written())
    );
    Ok(if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The progress of a large import on standard error: a bar redrawn in place on a terminal,
/// a line every tenth in a log. Small files (under 1,000 records) print nothing.
struct Progress {
    total: usize,
    terminal: bool,
    shown: usize,
}

impl Progress {
    const LARGE: usize = 1000;
    const WIDTH: usize = 30;

    fn new(total: usize) -> Progress {
        Progress {
            total,
            terminal: std::io::stderr().is_terminal(),
            shown: 0,
        }
    }

    fn show(&mut self, done: usize) {
        if self.total < Self::LARGE {
            return;
        }
        let percent = done * 100 / self.total;
        // A terminal is redrawn every percent, a log gets a line every ten.
        let step = if self.terminal { 1 } else { 10 };
        if percent < self.shown + step && done != self.total {
            return;
        }
        self.shown = percent;
        let filled = done * Self::WIDTH / self.total;
        let line = format!(
            "[{}{}] {percent:>3}% {done}/{} records",
            "#".repeat(filled),
            "-".repeat(Self::WIDTH - filled),
            self.total
        );
        if self.terminal {
            eprint!("\r{line}");
            if done == self.total {
                eprintln!();
            }
        } else {
            eprintln!("{line}");
        }
    }
}

/// The async runtime for a backend. With SQLite the database works on threads of its own
/// (one per connection), and what is left per update — parsing it, choosing the screen,
/// its calls to Telegram — is light: one runtime thread does it with fewer hand-offs
/// between threads than two, for 11–23 % less CPU per update (BENCHMARKS.md, part 11). The
/// PostgreSQL driver does its protocol work on the runtime's own threads: there one thread
/// per core keeps the throughput.
fn runtime_for(backend: kabinet::config::Backend) -> std::io::Result<tokio::runtime::Runtime> {
    match backend {
        kabinet::config::Backend::Sqlite => tokio::runtime::Builder::new_current_thread(),
        kabinet::config::Backend::Postgres => tokio::runtime::Builder::new_multi_thread(),
    }
    .enable_all()
    .build()
}
