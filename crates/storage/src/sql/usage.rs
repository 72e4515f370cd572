//! Token usage per workspace and day: added to by upsert, read by range.

use async_trait::async_trait;
use sqlx::Row;

use super::{SqlStore, db_error};
use crate::StoreError;
use crate::store::UsageStore;
use crate::usage::UsageDay;

/// Adds to a day's counts (creating the day) and returns its totals.
pub(super) async fn add(
    store: &SqlStore,
    workspace: &str,
    day: &str,
    tokens_in: i64,
    tokens_out: i64,
) -> Result<UsageDay, StoreError> {
    let mut tx = store.begin_write().await?;
    sqlx::query(
        "INSERT INTO token_usage (workspace_id, day, tokens_in, tokens_out) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (workspace_id, day) DO UPDATE SET tokens_in = token_usage.tokens_in + excluded.tokens_in, \
         tokens_out = token_usage.tokens_out + excluded.tokens_out",
    )
    .bind(workspace)
    .bind(day)
    .bind(tokens_in)
    .bind(tokens_out)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let row = sqlx::query("SELECT day, tokens_in, tokens_out FROM token_usage WHERE workspace_id = $1 AND day = $2")
        .bind(workspace)
        .bind(day)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
    let totals = usage_row(&row)?;
    tx.commit().await.map_err(db_error)?;
    Ok(totals)
}

fn usage_row(row: &sqlx::any::AnyRow) -> Result<UsageDay, StoreError> {
    let corrupt = |e: sqlx::Error| StoreError::Corrupt(format!("token_usage: {e}"));
    Ok(UsageDay {
        day: row.try_get("day").map_err(corrupt)?,
        tokens_in: row.try_get("tokens_in").map_err(corrupt)?,
        tokens_out: row.try_get("tokens_out").map_err(corrupt)?,
    })
}

/// The days from `from` to `to` (inclusive) that have counts, oldest first.
pub(super) async fn range(
    store: &SqlStore,
    workspace: &str,
    from: &str,
    to: &str,
) -> Result<Vec<UsageDay>, StoreError> {
    let rows = sqlx::query(
        "SELECT day, tokens_in, tokens_out FROM token_usage WHERE workspace_id = $1 AND day >= $2 AND day <= $3 ORDER BY day",
    )
    .bind(workspace)
    .bind(from)
    .bind(to)
    .fetch_all(&store.pool)
    .await
    .map_err(db_error)?;
    rows.iter().map(usage_row).collect()
}

#[async_trait]
impl UsageStore for SqlStore {
    async fn add_token_usage(
        &self,
        workspace: &str,
        day: &str,
        tokens_in: i64,
        tokens_out: i64,
    ) -> Result<UsageDay, StoreError> {
        add(self, workspace, day, tokens_in, tokens_out).await
    }

    async fn token_usage(&self, workspace: &str, from: &str, to: &str) -> Result<Vec<UsageDay>, StoreError> {
        range(self, workspace, from, to).await
    }
}
