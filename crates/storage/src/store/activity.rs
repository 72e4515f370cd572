//! The activity log of a workspace: append-only, newest first.
//!
//! Record writes append their entries themselves (in their own transaction);
//! this store reads the log and appends the entries that go with no record.

use agentdeck_domain::page::{Page, PageRequest};
use agentdeck_domain::records::{ActivityEntry, ActivityFilter, ActivitySummary};
use async_trait::async_trait;
use uuid::Uuid;

use crate::StoreError;

/// Names the state of a workspace's records: two equal generations read in turn
/// mean no record of the workspace changed in between, so what was read under
/// the first may be used under the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordsGeneration {
    /// The id of the newest activity entry (`None`: no entry yet): every record
    /// write appends one in its own transaction.
    NewestEntry(Option<Uuid>),
    /// A counter this process advances after each record write it commits, on a
    /// database only this process writes (the embedded SQLite file).
    Local(u64),
}

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

    /// The workspace's records generation now (see [`RecordsGeneration`]): a
    /// counter in memory where this process is the only writer, else the newest
    /// entry's id, read with one query.
    async fn records_generation(&self, workspace_id: Uuid) -> Result<RecordsGeneration, StoreError>;

    /// Appends an activity entry that goes with no record write (e.g. a quota threshold).
    async fn append_activity(&self, entry: &ActivityEntry) -> Result<(), StoreError>;
}
