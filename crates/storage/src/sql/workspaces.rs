//! Workspaces: the tenants every other record belongs to.

use std::collections::HashMap;

use agentdeck_domain::page::{Cursor, Page, PageRequest};
use agentdeck_domain::records::{Account, ActivityEntry, Member, Workspace};
use async_trait::async_trait;
use sqlx::AnyConnection;
use uuid::Uuid;

use super::rows::{self, workspace_columns};
use super::statement::Statement;
use super::{SqlStore, accounts, activity, db_error, members, text};
use crate::StoreError;
use crate::store::WorkspaceStore;

/// Inserts the workspace row inside the caller's transaction (or on a pooled connection).
async fn insert_row(conn: &mut AnyConnection, workspace: &Workspace) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO workspaces (id, name, disabled, created_at) VALUES ($1, $2, $3, $4)")
        .bind(workspace.id.to_string())
        .bind(workspace.name.as_str())
        .bind(workspace.disabled)
        .bind(rows::millis(workspace.created_at))
        .execute(conn)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// Creates a workspace.
pub(super) async fn insert(store: &SqlStore, workspace: &Workspace) -> Result<(), StoreError> {
    let mut conn = store.pool.acquire().await.map_err(db_error)?;
    insert_row(&mut conn, workspace).await
}

/// Creates a workspace, the owner's account if new, and the owner's member
/// record with its activity entry, in one transaction.
async fn insert_with_owner(
    store: &SqlStore,
    workspace: &Workspace,
    new_account: Option<&Account>,
    owner: &Member,
    entry: &ActivityEntry,
) -> Result<(), StoreError> {
    let mut tx = store.begin_write().await?;
    if let Some(account) = new_account {
        accounts::insert_row(&mut tx, account).await?;
    }
    insert_row(&mut tx, workspace).await?;
    members::insert_row(&mut tx, owner).await?;
    activity::append(&mut tx, entry).await?;
    tx.commit().await.map_err(db_error)
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

/// Lists workspaces, newest first.
async fn list(store: &SqlStore, page: PageRequest) -> Result<Page<Workspace>, StoreError> {
    // `1 = 1` so that the page's condition can start with `AND`.
    let mut statement = Statement::new(concat!("SELECT ", workspace_columns!(), " FROM workspaces WHERE 1 = 1"));
    statement.page("created_at", page);
    let mut conn = store.pool.acquire().await.map_err(db_error)?;
    let workspaces =
        statement.fetch_all(&mut conn).await?.iter().map(rows::workspace).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(workspaces, page.limit, |workspace| Cursor {
        sort_key: rows::millis(workspace.created_at),
        id: workspace.id,
    }))
}

/// Counts the members of each of the workspaces, in one grouped query.
async fn count_members(store: &SqlStore, workspace_ids: &[Uuid]) -> Result<HashMap<Uuid, u64>, StoreError> {
    if workspace_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut statement = Statement::new("SELECT workspace_id, COUNT(*) AS n FROM members WHERE workspace_id IN ");
    statement.bind_list(workspace_ids.iter().map(Uuid::to_string)).push(" GROUP BY workspace_id");
    let mut conn = store.pool.acquire().await.map_err(db_error)?;
    let mut counts = HashMap::new();
    for row in statement.fetch_all(&mut conn).await? {
        let count: i64 = rows::get(&row, "n")?;
        let count = u64::try_from(count).map_err(|_| StoreError::Corrupt(format!("negative count {count}")))?;
        counts.insert(rows::uuid(&row, "workspace_id")?, count);
    }
    Ok(counts)
}

/// Runs an update of one workspace by id (`$1`) with the new value as `$2`.
async fn set<'q, T>(store: &SqlStore, sql: &'static str, id: Uuid, value: T) -> Result<(), StoreError>
where
    T: sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + 'q + Send,
{
    let mut tx = store.begin_write().await?;
    let changed =
        sqlx::query(sql).bind(id.to_string()).bind(value).execute(&mut *tx).await.map_err(db_error)?.rows_affected();
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    tx.commit().await.map_err(db_error)
}

#[async_trait]
impl WorkspaceStore for SqlStore {
    async fn insert_workspace(&self, workspace: &Workspace) -> Result<(), StoreError> {
        text::storable("/name", &workspace.name)?;
        insert(self, workspace).await
    }

    async fn insert_workspace_with_owner(
        &self,
        workspace: &Workspace,
        new_account: Option<&Account>,
        owner: &Member,
        activity: &ActivityEntry,
    ) -> Result<(), StoreError> {
        text::storable("/name", &workspace.name)?;
        if let Some(account) = new_account {
            accounts::storable(account)?;
        }
        text::member(owner)?;
        text::activity(activity)?;
        insert_with_owner(self, workspace, new_account, owner, activity).await
    }

    async fn get_workspace(&self, id: Uuid) -> Result<Option<Workspace>, StoreError> {
        get(self, id).await
    }

    async fn count_workspaces(&self) -> Result<u64, StoreError> {
        count(self).await
    }

    async fn list_workspaces(&self, page: PageRequest) -> Result<Page<Workspace>, StoreError> {
        list(self, page).await
    }

    async fn count_members(&self, workspace_ids: &[Uuid]) -> Result<HashMap<Uuid, u64>, StoreError> {
        count_members(self, workspace_ids).await
    }

    async fn rename_workspace(&self, id: Uuid, name: &str) -> Result<(), StoreError> {
        text::storable("/name", name)?;
        set(self, "UPDATE workspaces SET name = $2 WHERE id = $1", id, name.to_owned()).await
    }

    async fn set_workspace_disabled(&self, id: Uuid, disabled: bool) -> Result<(), StoreError> {
        set(self, "UPDATE workspaces SET disabled = $2 WHERE id = $1", id, disabled).await
    }
}
