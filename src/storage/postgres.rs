//! What is PostgreSQL's own: connection settings and migrations.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use super::Result;

pub(super) async fn connect(url: &str, max_connections: u32) -> Result<PgPool> {
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await?;
    Ok(pool)
}

/// Splits `DATABASE_MAX_CONNECTIONS` between the ordinary pool and the chat-state pool (a
/// quarter: one write per update at most, against several reads). Below four connections
/// there is no second pool (0): the chat state shares the ordinary one.
pub(super) fn split_connections(max_connections: u32) -> (u32, u32) {
    if max_connections < 4 {
        return (max_connections, 0);
    }
    let chat_state = max_connections / 4;
    (max_connections - chat_state, chat_state)
}

/// Connections for the chats' screen state, committing without waiting for the disk
/// (`synchronous_commit = off`; see `on_pool!`'s `chat_state`). Waiting for the WAL to reach
/// the disk was most of a button press's time on PostgreSQL. The setting is made after
/// connecting rather than as a startup option, which connection poolers refuse.
pub(super) async fn connect_chat_state(url: &str, max_connections: u32) -> Result<PgPool> {
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(|connection, _| {
            Box::pin(async move {
                sqlx::query("SET synchronous_commit = off")
                    .execute(connection)
                    .await
                    .map(|_| ())
            })
        })
        .connect(url)
        .await?;
    Ok(pool)
}

/// Connections that hold chats' turns in webhook mode, one per update in hand: at most
/// `max` (`WEBHOOK_MAX_CONNECTIONS`: Telegram keeps no more updates in flight to the whole
/// deployment). Opened when first used, closed after a few idle seconds, none in polling
/// mode.
pub(super) fn turns_pool(pool: &PgPool, max: u32) -> PgPool {
    PgPoolOptions::new()
        .max_connections(max.max(1))
        .min_connections(0)
        .idle_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .connect_lazy_with((*pool.connect_options()).clone())
}

pub(super) async fn migrate(pool: &PgPool) -> Result<()> {
    sqlx::migrate!("migrations/postgres").run(pool).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quarter_of_the_connections_keep_chat_state_from_four() {
        assert_eq!(split_connections(1), (1, 0));
        assert_eq!(split_connections(3), (3, 0));
        assert_eq!(split_connections(4), (3, 1));
        assert_eq!(split_connections(10), (8, 2));
        assert_eq!(split_connections(20), (15, 5));
    }

    /// Runs on the PostgreSQL of `TEST_DATABASE_URL`, when it is set.
    #[tokio::test]
    async fn only_chat_state_connections_commit_without_waiting_for_the_disk() {
        let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
            return;
        };
        let setting = |pool: PgPool| async move {
            let value: String = sqlx::query_scalar("SHOW synchronous_commit")
                .fetch_one(&pool)
                .await
                .unwrap();
            pool.close().await;
            value
        };
        assert_eq!(setting(connect(&url, 1).await.unwrap()).await, "on");
        assert_eq!(
            setting(connect_chat_state(&url, 1).await.unwrap()).await,
            "off"
        );
    }
}
