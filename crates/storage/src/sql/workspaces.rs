//! Workspaces: the tenants every other record belongs to.

use agentdeck_domain::records::Workspace;
use async_trait::async_trait;
use uuid::Uuid;

use super::rows::{self, workspace_columns};
use super::{SqlStore, db_error, text};
use crate::StoreError;
use crate::store::WorkspaceStore;

/// Creates a workspace.
pub(super) async fn insert(store: &SqlStore, workspace: &Workspace) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(workspace.id.to_string())
        .bind(workspace.name.as_str())
        .bind(rows::millis(workspace.created_at))
        .execute(&store.pool)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// Reads a workspace.
pub(super) async fn get(store: &SqlStore, id: Uuid) -> Result<Option<Workspace>, StoreError> {
    let row = sqlx::query(concat!("SELECT ", workspace_columns!(), " FROM workspaces WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(&store.pool)
        .await
        .map_err(db_error)?;
    row.as_ref().map(rows::workspace).transpose()
}

/// Counts all workspaces.
pub(super) async fn count(store: &SqlStore) -> Result<u64, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM workspaces").fetch_one(&store.pool).await.map_err(db_error)?;
    let count: i64 = rows::get(&row, "n")?;
    u64::try_from(count).map_err(|_| StoreError::Corrupt(format!("negative count {count}")))
}

#[async_trait]
impl WorkspaceStore for SqlStore {
    async fn insert_workspace(&self, workspace: &Workspace) -> Result<(), StoreError> {
        text::storable("/name", &workspace.name)?;
        insert(self, workspace).await
    }

    async fn get_workspace(&self, id: Uuid) -> Result<Option<Workspace>, StoreError> {
        get(self, id).await
    }

    async fn count_workspaces(&self) -> Result<u64, StoreError> {
        count(self).await
    }
}
