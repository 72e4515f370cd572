//! Projects, and the cascade of their deletion to their tasks.

use agentdeck_domain::page::{Cursor, Page, PageRequest};
use agentdeck_domain::records::{ActivityEntry, Project, ProjectFilter};
use async_trait::async_trait;
use uuid::Uuid;

use super::rows::{self, project_columns};
use super::statement::{Statement, Table, delete_cascading, update_failed};
use super::{SqlStore, activity, db_error, text};
use crate::StoreError;
use crate::store::ProjectStore;

/// Creates a project and its activity entry.
pub(super) async fn insert(store: &SqlStore, project: &Project, entry: &ActivityEntry) -> Result<(), StoreError> {
    let mut tx = store.begin_write().await?;
    sqlx::query(
        "INSERT INTO projects (id, workspace_id, name, description, start_date, due_date, archived, \
         created_at, updated_at, revision) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(project.id.to_string())
    .bind(project.workspace_id.to_string())
    .bind(project.name.as_str())
    .bind(project.description.as_str())
    .bind(rows::opt_millis(project.start_date))
    .bind(rows::opt_millis(project.due_date))
    .bind(project.archived)
    .bind(rows::millis(project.created_at))
    .bind(rows::millis(project.updated_at))
    .bind(project.revision)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    activity::append(&mut tx, entry).await?;
    tx.commit().await.map_err(db_error)
}

/// Reads a project of the workspace.
pub(super) async fn get(store: &SqlStore, workspace_id: Uuid, id: Uuid) -> Result<Option<Project>, StoreError> {
    let row = sqlx::query(concat!("SELECT ", project_columns!(), " FROM projects WHERE workspace_id = $1 AND id = $2"))
        .bind(workspace_id.to_string())
        .bind(id.to_string())
        .fetch_optional(&store.pool)
        .await
        .map_err(db_error)?;
    row.as_ref().map(rows::project).transpose()
}

/// Lists projects of the workspace, newest first.
pub(super) async fn list(
    store: &SqlStore,
    workspace_id: Uuid,
    filter: &ProjectFilter,
    page: PageRequest,
) -> Result<Page<Project>, StoreError> {
    let mut statement = Statement::new(concat!("SELECT ", project_columns!(), " FROM projects WHERE workspace_id = "));
    statement.bind(workspace_id.to_string());
    if let Some(archived) = filter.archived {
        statement.push(" AND archived = ").bind(archived);
    }
    statement.page("created_at", page);
    let mut conn = store.pool.acquire().await.map_err(db_error)?;
    let projects = statement.fetch_all(&mut conn).await?.iter().map(rows::project).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(projects, page.limit, |project| Cursor {
        sort_key: rows::millis(project.created_at),
        id: project.id,
    }))
}

/// Replaces a project if its stored revision is the one before `project.revision`.
pub(super) async fn update(store: &SqlStore, project: &Project, entry: &ActivityEntry) -> Result<(), StoreError> {
    let mut tx = store.begin_write().await?;
    let changed = sqlx::query(
        "UPDATE projects SET name = $1, description = $2, start_date = $3, due_date = $4, archived = $5, \
         updated_at = $6, revision = $7 WHERE workspace_id = $8 AND id = $9 AND revision = $10",
    )
    .bind(project.name.as_str())
    .bind(project.description.as_str())
    .bind(rows::opt_millis(project.start_date))
    .bind(rows::opt_millis(project.due_date))
    .bind(project.archived)
    .bind(rows::millis(project.updated_at))
    .bind(project.revision)
    .bind(project.workspace_id.to_string())
    .bind(project.id.to_string())
    .bind(project.revision.saturating_sub(1))
    .execute(&mut *tx)
    .await
    .map_err(db_error)?
    .rows_affected();
    if changed == 0 {
        return Err(update_failed(&mut tx, Table::Projects, project.workspace_id, project.id).await);
    }
    activity::append(&mut tx, entry).await?;
    tx.commit().await.map_err(db_error)
}

/// Deletes a project, its tasks and every link to or from them.
///
/// Tasks of other projects that were blocked by a deleted task lose that link,
/// which changes them: their revision goes up and `updated_at` becomes the time of
/// the entry, so a client holding them sees that they moved on.
pub(super) async fn delete(
    store: &SqlStore,
    workspace_id: Uuid,
    id: Uuid,
    entry: &ActivityEntry,
) -> Result<(), StoreError> {
    // The foreign keys cascade too; doing it here keeps the result independent
    // of the connection's foreign-key setting and lets the dependents be bumped.
    let statements = [
        "UPDATE tasks SET revision = revision + 1, updated_at = $3 \
         WHERE workspace_id = $1 AND project_id <> $2 AND id IN (\
           SELECT l.task_id FROM task_blockers l JOIN tasks b ON b.id = l.blocked_by_id \
           WHERE l.workspace_id = $1 AND b.project_id = $2)",
        "DELETE FROM task_blockers WHERE workspace_id = $1 AND (\
           task_id IN (SELECT id FROM tasks WHERE workspace_id = $1 AND project_id = $2) \
           OR blocked_by_id IN (SELECT id FROM tasks WHERE workspace_id = $1 AND project_id = $2))",
        "DELETE FROM tasks WHERE workspace_id = $1 AND project_id = $2",
        "DELETE FROM projects WHERE workspace_id = $1 AND id = $2",
    ];
    delete_cascading(store, Table::Projects, workspace_id, id, &statements, entry).await
}

#[async_trait]
impl ProjectStore for SqlStore {
    async fn insert_project(&self, project: &Project, activity: &ActivityEntry) -> Result<(), StoreError> {
        text::project(project)?;
        text::activity(activity)?;
        insert(self, project, activity).await
    }

    async fn get_project(&self, workspace_id: Uuid, id: Uuid) -> Result<Option<Project>, StoreError> {
        get(self, workspace_id, id).await
    }

    async fn list_projects(
        &self,
        workspace_id: Uuid,
        filter: &ProjectFilter,
        page: PageRequest,
    ) -> Result<Page<Project>, StoreError> {
        list(self, workspace_id, filter, page).await
    }

    async fn update_project(&self, project: &Project, activity: &ActivityEntry) -> Result<(), StoreError> {
        text::project(project)?;
        text::activity(activity)?;
        update(self, project, activity).await
    }

    async fn delete_project(&self, workspace_id: Uuid, id: Uuid, activity: &ActivityEntry) -> Result<(), StoreError> {
        text::activity(activity)?;
        delete(self, workspace_id, id, activity).await
    }
}
