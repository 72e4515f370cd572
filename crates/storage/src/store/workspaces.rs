//! The workspaces: the tenants every other record belongs to.

use agentdeck_domain::page::{Page, PageRequest};
use agentdeck_domain::records::{Account, ActivityEntry, Member, Workspace};
use std::collections::HashMap;

use async_trait::async_trait;
use uuid::Uuid;

use crate::StoreError;

/// Workspaces (not scoped: a workspace is the scope).
#[async_trait]
pub trait WorkspaceStore: Send + Sync + 'static {
    /// Creates a workspace.
    async fn insert_workspace(&self, workspace: &Workspace) -> Result<(), StoreError>;

    /// Creates a workspace with its first member (the owner), and the owner's
    /// account when `new_account` is given, in one transaction: all of it is
    /// stored or none. The member's `userId` is the account id; `activity`
    /// records the member's addition. A taken email is [`StoreError::Duplicate`]
    /// at `/email`.
    async fn insert_workspace_with_owner(
        &self,
        workspace: &Workspace,
        new_account: Option<&Account>,
        owner: &Member,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError>;

    /// Reads a workspace.
    async fn get_workspace(&self, id: Uuid) -> Result<Option<Workspace>, StoreError>;

    /// Counts all workspaces (used to tell a first start).
    async fn count_workspaces(&self) -> Result<u64, StoreError>;

    /// Lists workspaces, newest first, disabled ones included.
    async fn list_workspaces(&self, page: PageRequest) -> Result<Page<Workspace>, StoreError>;

    /// Counts the members of each workspace named (absent from the map: none, or no
    /// such workspace); one query, for listings.
    async fn count_members(&self, workspace_ids: &[Uuid]) -> Result<HashMap<Uuid, u64>, StoreError>;

    /// Renames a workspace ([`StoreError::NotFound`] when it does not exist).
    async fn rename_workspace(&self, id: Uuid, name: &str) -> Result<(), StoreError>;

    /// Disables or re-enables a workspace ([`StoreError::NotFound`] when it does not exist).
    async fn set_workspace_disabled(&self, id: Uuid, disabled: bool) -> Result<(), StoreError>;
}
