//! Token usage per workspace and UTC day.

use async_trait::async_trait;

use crate::StoreError;
use crate::usage::UsageDay;

/// Token counts per workspace and day.
#[async_trait]
pub trait UsageStore: Send + Sync + 'static {
    /// Adds token counts to a workspace's day (`YYYY-MM-DD`, UTC) and returns the day's totals.
    async fn add_token_usage(
        &self,
        workspace: &str,
        day: &str,
        tokens_in: i64,
        tokens_out: i64,
    ) -> Result<UsageDay, StoreError>;

    /// A workspace's days from `from` to `to` (inclusive) with counts, oldest first.
    async fn token_usage(&self, workspace: &str, from: &str, to: &str) -> Result<Vec<UsageDay>, StoreError>;
}
