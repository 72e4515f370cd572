//! The workspaces: the tenants every other record belongs to.

use agentdeck_domain::records::Workspace;
use async_trait::async_trait;
use uuid::Uuid;

use crate::StoreError;

/// Workspaces (not scoped: a workspace is the scope).
#[async_trait]
pub trait WorkspaceStore: Send + Sync + 'static {
    /// Creates a workspace.
    async fn insert_workspace(&self, workspace: &Workspace) -> Result<(), StoreError>;

    /// Reads a workspace.
    async fn get_workspace(&self, id: Uuid) -> Result<Option<Workspace>, StoreError>;

    /// Counts all workspaces (used to tell a first start).
    async fn count_workspaces(&self) -> Result<u64, StoreError>;
}
