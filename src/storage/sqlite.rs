//! What is SQLite's own: connection settings, migrations, write transactions.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use super::Result;

pub(super) async fn connect(url: &str, max_connections: u32) -> Result<SqlitePool> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        // WAL: readers never wait for the writer, and the writer never waits for readers.
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL is durable across application crashes in WAL mode; it skips one fsync per
        // commit that only a power loss would need.
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        // A writer waits for the one before it rather than failing at once.
        .busy_timeout(Duration::from_secs(10))
        .pragma("temp_store", "memory");
    let pool = SqlitePoolOptions::new()
        .max_connections(max_connections)
        // A file in this process does not go away between queries: checking a connection
        // before each use cost a round trip to its thread, about a tenth of the bot's CPU.
        .test_before_acquire(false)
        .connect_with(options)
        .await?;
    Ok(pool)
}

pub(super) async fn migrate(pool: &SqlitePool) -> Result<()> {
    sqlx::migrate!("migrations/sqlite").run(pool).await?;
    Ok(())
}

/// A write transaction that holds SQLite's write lock from its first statement.
pub(super) async fn begin_write(pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}
