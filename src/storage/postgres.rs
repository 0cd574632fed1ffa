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

pub(super) async fn migrate(pool: &PgPool) -> Result<()> {
    sqlx::migrate!("migrations/postgres").run(pool).await?;
    Ok(())
}
