//! Tasks of a workspace with their blocked-by links (see the contract in [`crate::store`]).

use agentdeck_domain::page::{Page, PageRequest};
use agentdeck_domain::records::{ActivityEntry, Task, TaskFilter};
use async_trait::async_trait;
use uuid::Uuid;

use crate::StoreError;

/// Tasks, each write with its activity entry; references and cycles are checked in the write.
#[async_trait]
pub trait TaskStore: Send + Sync + 'static {
    /// Creates a task; checks its project, assignee and blockers exist in the
    /// workspace and that its blocked-by links form no cycle.
    async fn insert_task(&self, task: &Task, activity: &ActivityEntry) -> Result<(), StoreError>;

    /// Reads a task of the workspace, with its blocked-by links.
    async fn get_task(&self, workspace_id: Uuid, id: Uuid) -> Result<Option<Task>, StoreError>;

    /// Lists tasks of the workspace.
    async fn list_tasks(
        &self,
        workspace_id: Uuid,
        filter: &TaskFilter,
        page: PageRequest,
    ) -> Result<Page<Task>, StoreError>;

    /// Replaces a task (optimistic on `revision`), with the same checks as insert.
    async fn update_task(&self, task: &Task, activity: &ActivityEntry) -> Result<(), StoreError>;

    /// Deletes a task and every link to or from it.
    async fn delete_task(&self, workspace_id: Uuid, id: Uuid, activity: &ActivityEntry) -> Result<(), StoreError>;
}
