//! Members of a workspace: unique by `userId`, unassigned from tasks on removal.

use agentdeck_domain::page::{Cursor, Page, PageRequest};
use agentdeck_domain::records::{ActivityEntry, Member};
use async_trait::async_trait;
use sqlx::AnyConnection;
use uuid::Uuid;

use super::errors::db_error_unique;
use super::rows::{self, member_columns};
use super::statement::{Statement, Table, delete_cascading, update_failed};
use super::{SqlStore, activity, db_error, text};
use crate::StoreError;
use crate::store::MemberStore;

/// JSON Pointer of the one field that must be unique in the workspace.
const USER_ID_PATH: &str = "/userId";

/// Adds a member and its activity entry.
pub(super) async fn insert(store: &SqlStore, member: &Member, entry: &ActivityEntry) -> Result<(), StoreError> {
    let mut tx = store.begin_write().await?;
    insert_row(&mut tx, member).await?;
    activity::append(&mut tx, entry).await?;
    tx.commit().await.map_err(db_error)
}

/// Inserts the member row inside the caller's transaction, after checking its
/// `userId` is free in the workspace.
pub(super) async fn insert_row(conn: &mut AnyConnection, member: &Member) -> Result<(), StoreError> {
    ensure_user_id_free(conn, member).await?;
    sqlx::query(concat!(
        "INSERT INTO members (",
        member_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    ))
    .bind(member.id.to_string())
    .bind(member.workspace_id.to_string())
    .bind(member.user_id.as_str())
    .bind(member.display_name.as_str())
    .bind(member.email.as_deref())
    .bind(member.role.as_str())
    .bind(member.weekly_capacity_hours)
    .bind(rows::millis(member.created_at))
    .bind(rows::millis(member.updated_at))
    .bind(member.revision)
    .execute(conn)
    .await
    // A concurrent insert of the same user can still win the race past the check.
    .map_err(|error| db_error_unique(error, USER_ID_PATH))?;
    Ok(())
}

/// Reads a member of the workspace.
pub(super) async fn get(store: &SqlStore, workspace_id: Uuid, id: Uuid) -> Result<Option<Member>, StoreError> {
    let row = sqlx::query(concat!("SELECT ", member_columns!(), " FROM members WHERE workspace_id = $1 AND id = $2"))
        .bind(workspace_id.to_string())
        .bind(id.to_string())
        .fetch_optional(&store.pool)
        .await
        .map_err(db_error)?;
    row.as_ref().map(rows::member).transpose()
}

/// Finds the member of the workspace with this token subject.
pub(super) async fn find_by_user(
    store: &SqlStore,
    workspace_id: Uuid,
    user_id: &str,
) -> Result<Option<Member>, StoreError> {
    let row =
        sqlx::query(concat!("SELECT ", member_columns!(), " FROM members WHERE workspace_id = $1 AND user_id = $2"))
            .bind(workspace_id.to_string())
            .bind(user_id)
            .fetch_optional(&store.pool)
            .await
            .map_err(db_error)?;
    row.as_ref().map(rows::member).transpose()
}

/// Lists members of the workspace, newest first.
pub(super) async fn list(store: &SqlStore, workspace_id: Uuid, page: PageRequest) -> Result<Page<Member>, StoreError> {
    let mut statement = Statement::new(concat!("SELECT ", member_columns!(), " FROM members WHERE workspace_id = "));
    statement.bind(workspace_id.to_string()).page("created_at", page);
    let mut conn = store.pool.acquire().await.map_err(db_error)?;
    let members = statement.fetch_all(&mut conn).await?.iter().map(rows::member).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(members, page.limit, |member| Cursor {
        sort_key: rows::millis(member.created_at),
        id: member.id,
    }))
}

/// Replaces a member if its stored revision is the one before `member.revision`.
pub(super) async fn update(store: &SqlStore, member: &Member, entry: &ActivityEntry) -> Result<(), StoreError> {
    let mut tx = store.begin_write().await?;
    // No pre-check: the id does not change, so the only unique key this can
    // violate is the user id, and a missing or stale member must win over it.
    let changed = sqlx::query(
        "UPDATE members SET user_id = $1, display_name = $2, email = $3, role = $4, \
         weekly_capacity_hours = $5, updated_at = $6, revision = $7 \
         WHERE workspace_id = $8 AND id = $9 AND revision = $10",
    )
    .bind(member.user_id.as_str())
    .bind(member.display_name.as_str())
    .bind(member.email.as_deref())
    .bind(member.role.as_str())
    .bind(member.weekly_capacity_hours)
    .bind(rows::millis(member.updated_at))
    .bind(member.revision)
    .bind(member.workspace_id.to_string())
    .bind(member.id.to_string())
    .bind(member.revision.saturating_sub(1))
    .execute(&mut *tx)
    .await
    .map_err(|error| db_error_unique(error, USER_ID_PATH))?
    .rows_affected();
    if changed == 0 {
        return Err(update_failed(&mut tx, Table::Members, member.workspace_id, member.id).await);
    }
    activity::append(&mut tx, entry).await?;
    tx.commit().await.map_err(db_error)
}

/// Removes a member; the tasks assigned to them become unassigned.
///
/// Unassigning changes those tasks, so their revision goes up and `updated_at`
/// becomes the time of the entry.
pub(super) async fn delete(
    store: &SqlStore,
    workspace_id: Uuid,
    id: Uuid,
    entry: &ActivityEntry,
) -> Result<(), StoreError> {
    // The foreign key sets NULL too; doing it here bumps the tasks' revisions.
    let statements = [
        "UPDATE tasks SET assignee_id = NULL, revision = revision + 1, updated_at = $3 \
         WHERE workspace_id = $1 AND assignee_id = $2",
        "DELETE FROM members WHERE workspace_id = $1 AND id = $2",
    ];
    delete_cascading(store, Table::Members, workspace_id, id, &statements, entry).await
}

/// Fails with [`StoreError::Duplicate`] when another member of the workspace has
/// the same `userId`.
async fn ensure_user_id_free(conn: &mut AnyConnection, member: &Member) -> Result<(), StoreError> {
    let taken = sqlx::query("SELECT 1 AS taken FROM members WHERE workspace_id = $1 AND user_id = $2 AND id <> $3")
        .bind(member.workspace_id.to_string())
        .bind(member.user_id.as_str())
        .bind(member.id.to_string())
        .fetch_optional(conn)
        .await
        .map_err(db_error)?;
    match taken {
        Some(_) => Err(StoreError::Duplicate { path: USER_ID_PATH.to_owned() }),
        None => Ok(()),
    }
}

#[async_trait]
impl MemberStore for SqlStore {
    async fn insert_member(&self, member: &Member, activity: &ActivityEntry) -> Result<(), StoreError> {
        text::member(member)?;
        text::activity(activity)?;
        insert(self, member, activity).await
    }

    async fn get_member(&self, workspace_id: Uuid, id: Uuid) -> Result<Option<Member>, StoreError> {
        get(self, workspace_id, id).await
    }

    async fn find_member_by_user(&self, workspace_id: Uuid, user_id: &str) -> Result<Option<Member>, StoreError> {
        text::storable("/userId", user_id)?;
        find_by_user(self, workspace_id, user_id).await
    }

    async fn list_members(&self, workspace_id: Uuid, page: PageRequest) -> Result<Page<Member>, StoreError> {
        list(self, workspace_id, page).await
    }

    async fn update_member(&self, member: &Member, activity: &ActivityEntry) -> Result<(), StoreError> {
        text::member(member)?;
        text::activity(activity)?;
        update(self, member, activity).await
    }

    async fn delete_member(&self, workspace_id: Uuid, id: Uuid, activity: &ActivityEntry) -> Result<(), StoreError> {
        text::activity(activity)?;
        delete(self, workspace_id, id, activity).await
    }
}
