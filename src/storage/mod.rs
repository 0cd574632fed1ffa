//! Storage: the one interface the bot, the API and the sender use, over SQLite (the embedded
//! default: one city on one machine) or PostgreSQL (several replicas, a whole country).
//!
//! The SQL is written once: it keeps to what both engines understand (`$1` parameters,
//! `ON CONFLICT … DO UPDATE`, `RETURNING`, partial indexes), and [`on_pool!`] /
//! [`in_transaction!`] compile each query for both drivers. What truly differs — connecting,
//! migrations, how a write transaction begins — lives in `sqlite.rs` and `postgres.rs`. On
//! SQLite what a button press reads and its dialogue's write run first on a connection of
//! their own, on the calling thread (`direct.rs`); the pool answers what that one cannot.
//! Every time is bound from Rust (never `now()` in SQL), so tests can move the clock.

mod announcements;
mod auth;
mod chats;
pub(crate) mod direct;
pub(crate) mod events;
mod models;
mod outbox;
mod portal;
mod postgres;
mod questions;
mod reads;
mod retention;
mod sqlite;
mod turns;

use sqlx::{PgPool, SqlitePool};

pub use crate::config::Backend;
use crate::config::DatabaseUrl;
pub use announcements::{AnnouncementPost, AnnouncementProgress, Audience, Posted};
pub use auth::{
    CodeAllowance, CodeReservation, LockPolicy, MAX_LOCK, OtpRecord, PasswordAttempt, Requester,
    WrongPassword, lock_length,
};
pub use chats::{ChatRecord, LiveSession, SessionEnd, SessionView};
pub(crate) use direct::{Column, DecodeError};
pub use events::NewEvent;
pub use events::OUTBOX_CHANNEL;
pub use models::*;
pub use outbox::{
    CLAIM_LEASE, ClaimedDelivery, OUTBOX_COUNT_CAP, OutboxListener, OutboxStats, SendOutcome,
    SenderLease,
};
pub use portal::{
    ApplicationUpsert, ApplicationWritten, AttendanceRecord, ChildData, ChildFileUpsert,
    ClubUpsert, FileWritten, InstitutionUpsert, LocalityUpsert, ParentData, ReferralUpsert,
    ReferralWritten, StatusChange, StatusChangeOutcome, Written,
};
pub use questions::{
    AnswerGiven, AnswerOutcome, AnswerParent, GivenAnswer, PortalAnswer, QuestionPut,
    QuestionRecord,
};
pub use reads::Reference;
pub use retention::Pruned;
pub use turns::ChatTurn;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("not found")]
    NotFound,
    /// A record names another that does not exist (`field` says which).
    #[error("{field} names a record that does not exist")]
    MissingReference { field: String },
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A compare-and-set write found the row changed by someone else since it was read.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// What this backend does not do (it has its own tools for it).
    #[error("{0}")]
    Unsupported(&'static str),
    /// A stored value that no longer parses; a bug or a hand-edited database.
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StorageError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StorageError::NotFound,
            other => StorageError::Database(other),
        }
    }
}

impl StorageError {
    /// A description for logs: a database's own message can quote the value that broke a
    /// constraint (an IIN, a phone), so only its SQLSTATE is kept.
    pub fn log_safe(&self) -> String {
        match self {
            StorageError::Database(sqlx::Error::Database(db)) => format!(
                "database error (SQLSTATE {})",
                db.code().as_deref().unwrap_or("unknown")
            ),
            other => other.to_string(),
        }
    }
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Turn connections when no webhook setting says how many (Telegram's default
/// `max_connections`).
const DEFAULT_TURN_CONNECTIONS: u32 = 40;

/// A handle on the database; cheap to clone (it is a pool).
#[derive(Clone, Debug)]
pub struct Storage {
    pub(crate) pool: Pool,
    /// Where the chats' screen state is written (see [`on_pool!`]'s `chat_state`): on
    /// PostgreSQL, connections that commit without waiting for the disk; otherwise `pool`.
    pub(crate) chat_state: Pool,
    /// PostgreSQL: connections that hold chats' turns while their updates are handled
    /// (webhook mode; see `turns.rs`). Opened only when first used.
    pub(crate) turns: Option<sqlx::PgPool>,
    /// SQLite: the connection a press's statements run on, on the thread that asks (see
    /// `direct.rs`).
    pub(crate) direct: Option<std::sync::Arc<direct::Direct>>,
}

/// Runs `$body` with `$pool` bound to the backend's own pool type.
///
/// `on_pool!(chat_state self, …)` runs it on the chat-state pool instead: only for writes
/// that say which screen a chat is on (its dialogue, the session's last-seen time, events
/// shown as read). On PostgreSQL these commit without waiting for the disk, so a crash of
/// the database server can lose the last fraction of a second of them — a chat then shows
/// the screen before its last press, and the next press puts it right. Anything a parent or
/// the portal was told about goes through the ordinary pool.
macro_rules! on_pool {
    (chat_state $storage:expr, $pool:ident => $body:expr) => {
        match &$storage.chat_state {
            $crate::storage::Pool::Sqlite($pool) => $body,
            $crate::storage::Pool::Postgres($pool) => $body,
        }
    };
    ($storage:expr, $pool:ident => $body:expr) => {
        match &$storage.pool {
            $crate::storage::Pool::Sqlite($pool) => $body,
            $crate::storage::Pool::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` in a write transaction with `$tx` bound to the backend's connection, and
/// commits. A `?` inside leaves early and rolls back. SQLite begins `IMMEDIATE`: a
/// read-then-write transaction takes the write lock up front instead of failing with
/// SQLITE_BUSY when another writer got there between its read and its write.
macro_rules! in_transaction {
    ($storage:expr, $tx:ident => $body:expr) => {
        match &$storage.pool {
            $crate::storage::Pool::Sqlite(pool) => {
                let mut transaction = $crate::storage::sqlite::begin_write(pool).await?;
                let out = {
                    let $tx: &mut sqlx::SqliteConnection = &mut transaction;
                    $body
                };
                transaction.commit().await?;
                out
            }
            $crate::storage::Pool::Postgres(pool) => {
                let mut transaction = pool.begin().await?;
                let out = {
                    let $tx: &mut sqlx::PgConnection = &mut transaction;
                    $body
                };
                transaction.commit().await?;
                out
            }
        }
    };
}

/// Like [`in_transaction!`] for a body that decides: it gives `Ok(value)` to commit or
/// `Err(refusal)` to roll back what it wrote (a limit that several statements hold together:
/// one refusing undoes the others). The outcome is the body's own `Result`.
macro_rules! in_transaction_if_ok {
    ($storage:expr, $tx:ident => $body:expr) => {
        match &$storage.pool {
            $crate::storage::Pool::Sqlite(pool) => {
                let mut transaction = $crate::storage::sqlite::begin_write(pool).await?;
                let out = {
                    let $tx: &mut sqlx::SqliteConnection = &mut transaction;
                    $body
                };
                match out {
                    Ok(_) => transaction.commit().await?,
                    Err(_) => transaction.rollback().await?,
                }
                out
            }
            $crate::storage::Pool::Postgres(pool) => {
                let mut transaction = pool.begin().await?;
                let out = {
                    let $tx: &mut sqlx::PgConnection = &mut transaction;
                    $body
                };
                match out {
                    Ok(_) => transaction.commit().await?,
                    Err(_) => transaction.rollback().await?,
                }
                out
            }
        }
    };
}

pub(crate) use {in_transaction, in_transaction_if_ok, on_pool};

impl Storage {
    /// Opens the database that `url` names (a SQLite file is created if missing). Does not
    /// migrate: call [`Storage::migrate`].
    pub async fn connect(url: &DatabaseUrl, max_connections: u32) -> Result<Storage> {
        Self::connect_str(url.expose(), max_connections).await
    }

    pub async fn connect_str(url: &str, max_connections: u32) -> Result<Storage> {
        if url.starts_with("sqlite:") {
            // One file, one writer at a time: a second pool would only queue for the lock.
            // WAL with `synchronous = NORMAL` does not wait for the disk on commit anyway.
            let pool = Pool::Sqlite(sqlite::connect(url, max_connections).await?);
            let options = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(url)?;
            let direct = direct::Direct::open(&options).map(std::sync::Arc::new);
            return Ok(Storage {
                chat_state: pool.clone(),
                pool,
                turns: None,
                direct,
            });
        }
        let (ordinary, chat_state) = postgres::split_connections(max_connections);
        let pool = postgres::connect(url, ordinary).await?;
        let chat_state = match chat_state {
            0 => pool.clone(),
            n => postgres::connect_chat_state(url, n).await?,
        };
        let turns = postgres::turns_pool(&pool, DEFAULT_TURN_CONNECTIONS);
        Ok(Storage {
            pool: Pool::Postgres(pool),
            chat_state: Pool::Postgres(chat_state),
            turns: Some(turns),
            direct: None,
        })
    }

    /// Applies the migrations of this backend that have not been applied yet.
    pub async fn migrate(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlite::migrate(pool).await,
            Pool::Postgres(pool) => postgres::migrate(pool).await,
        }
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The connection for statements on the calling thread (SQLite only; see `direct.rs`).
    pub(crate) fn direct(&self) -> Option<&direct::Direct> {
        self.direct.as_deref()
    }

    /// Whether a press's statements run on the calling thread (SQLite in a file).
    pub fn runs_directly(&self) -> bool {
        self.direct.is_some()
    }

    /// How many statements the direct connection left to the pool (0 on PostgreSQL); for
    /// tests.
    pub fn direct_statements_passed(&self) -> u64 {
        self.direct().map_or(0, direct::Direct::passed)
    }

    /// The same database without the direct connection: every statement through the pool
    /// (tests compare the two).
    pub fn without_direct(&self) -> Storage {
        let mut storage = self.clone();
        storage.direct = None;
        storage
    }

    /// What a `SELECT` adds to lock the rows it reads until the transaction ends. SQLite
    /// has no row locks and needs none: a write transaction holds the whole database.
    pub(crate) fn for_update(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "",
            Pool::Postgres(_) => " FOR UPDATE",
        }
    }

    /// The same database, with at most `n` connections holding chats' turns (webhook mode:
    /// `WEBHOOK_MAX_CONNECTIONS`).
    pub fn with_turn_connections(&self, n: u32) -> Storage {
        let mut storage = self.clone();
        if let Pool::Postgres(pool) = &self.pool {
            storage.turns = Some(postgres::turns_pool(pool, n));
        }
        storage
    }

    /// Whether the database answers (for `/healthz`).
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// Writes a consistent copy of the SQLite database to `file` while it is in use
    /// (`VACUUM INTO`: one read transaction, no writer waits long). PostgreSQL is backed up
    /// with its own tools (`pg_dump`).
    pub async fn backup_into(&self, file: &std::path::Path) -> Result<()> {
        let Pool::Sqlite(pool) = &self.pool else {
            return Err(StorageError::Unsupported(
                "backup copies a SQLite database; use pg_dump for PostgreSQL",
            ));
        };
        sqlx::query("VACUUM INTO $1")
            .bind(file.to_string_lossy().into_owned())
            .execute(pool)
            .await?;
        Ok(())
    }

    /// How many migrations have been applied (for `kabinet migrate`).
    pub async fn applied_migrations(&self) -> Result<i64> {
        let n: i64 = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE"
        ).fetch_one(pool).await)?;
        Ok(n)
    }

    /// Runs one SQL statement without parameters: maintenance, and tests that look at rows.
    pub async fn execute_raw(&self, sql: &str) -> Result<u64> {
        Ok(on_pool!(self, pool => sqlx::query(sql).execute(pool).await.map(|r| r.rows_affected()))?)
    }

    /// The single whole number a SQL query returns: maintenance, and tests that count rows.
    pub async fn fetch_i64(&self, sql: &str) -> Result<i64> {
        Ok(on_pool!(self, pool => sqlx::query_scalar(sql).fetch_one(pool).await)?)
    }

    pub async fn close(&self) {
        if let Some(turns) = &self.turns {
            turns.close().await;
        }
        on_pool!(chat_state self, pool => pool.close().await);
        on_pool!(self, pool => pool.close().await)
    }
}

/// Maps a foreign-key violation to [`StorageError::MissingReference`] naming `field`.
pub(crate) fn reference(field: &str) -> impl FnOnce(sqlx::Error) -> StorageError + '_ {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StorageError::MissingReference {
                field: field.to_owned(),
            }
        }
        _ => StorageError::from(e),
    }
}
