//! The activity log of a workspace: append-only, newest first.
//!
//! Record writes append their entries themselves (in their own transaction);
//! this store reads the log and appends the entries that go with no record.

use agentdeck_domain::page::{Page, PageRequest};
use agentdeck_domain::records::{ActivityEntry, ActivityFilter, ActivitySummary};
use async_trait::async_trait;
use uuid::Uuid;

use crate::StoreError;

/// Reads the activity log and appends entries of their own.
#[async_trait]
pub trait ActivityStore: Send + Sync + 'static {
    /// Lists activity entries of the workspace.
    async fn list_activity(
        &self,
        workspace_id: Uuid,
        filter: &ActivityFilter,
        page: PageRequest,
    ) -> Result<Page<ActivityEntry>, StoreError>;

    /// Counts the entries `filter` matches, per action, and their distinct actors.
    async fn summarize_activity(
        &self,
        workspace_id: Uuid,
        filter: &ActivityFilter,
    ) -> Result<ActivitySummary, StoreError>;

    /// Appends an activity entry that goes with no record write (e.g. a quota threshold).
    async fn append_activity(&self, entry: &ActivityEntry) -> Result<(), StoreError>;
}
