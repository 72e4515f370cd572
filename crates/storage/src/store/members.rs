//! Members of a workspace (see the contract in [`crate::store`]).

use agentdeck_domain::page::{Page, PageRequest};
use agentdeck_domain::records::{ActivityEntry, Member};
use async_trait::async_trait;
use uuid::Uuid;

use crate::StoreError;

/// Members, each write with its activity entry.
#[async_trait]
pub trait MemberStore: Send + Sync + 'static {
    /// Adds a member; `userId` is unique in the workspace.
    async fn insert_member(&self, member: &Member, activity: &ActivityEntry) -> Result<(), StoreError>;

    /// Reads a member of the workspace.
    async fn get_member(&self, workspace_id: Uuid, id: Uuid) -> Result<Option<Member>, StoreError>;

    /// Finds the member with this token subject.
    async fn find_member_by_user(&self, workspace_id: Uuid, user_id: &str) -> Result<Option<Member>, StoreError>;

    /// Lists members of the workspace.
    async fn list_members(&self, workspace_id: Uuid, page: PageRequest) -> Result<Page<Member>, StoreError>;

    /// Replaces a member (optimistic on `revision`).
    async fn update_member(&self, member: &Member, activity: &ActivityEntry) -> Result<(), StoreError>;

    /// Removes a member; their tasks become unassigned.
    async fn delete_member(&self, workspace_id: Uuid, id: Uuid, activity: &ActivityEntry) -> Result<(), StoreError>;
}
