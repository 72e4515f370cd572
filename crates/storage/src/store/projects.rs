//! Projects of a workspace (see the contract in [`crate::store`]).

use agentdeck_domain::page::{Page, PageRequest};
use agentdeck_domain::records::{ActivityEntry, Project, ProjectFilter};
use async_trait::async_trait;
use uuid::Uuid;

use crate::StoreError;

/// Projects, each write with its activity entry.
#[async_trait]
pub trait ProjectStore: Send + Sync + 'static {
    /// Creates a project.
    async fn insert_project(&self, project: &Project, activity: &ActivityEntry) -> Result<(), StoreError>;

    /// Reads a project of the workspace.
    async fn get_project(&self, workspace_id: Uuid, id: Uuid) -> Result<Option<Project>, StoreError>;

    /// Lists projects of the workspace.
    async fn list_projects(
        &self,
        workspace_id: Uuid,
        filter: &ProjectFilter,
        page: PageRequest,
    ) -> Result<Page<Project>, StoreError>;

    /// Replaces a project (optimistic on `revision`).
    async fn update_project(&self, project: &Project, activity: &ActivityEntry) -> Result<(), StoreError>;

    /// Deletes a project with its tasks (and their links).
    async fn delete_project(&self, workspace_id: Uuid, id: Uuid, activity: &ActivityEntry) -> Result<(), StoreError>;
}
