//! Tasks and their blocked-by links: reference checks, the cycle check, and
//! reading the links back in the order they were given.

use async_trait::async_trait;
use std::collections::{HashMap, HashSet};

use agentdeck_domain::dependencies::find_cycle;
use agentdeck_domain::page::{Cursor, Page, PageRequest};
use agentdeck_domain::records::{ActivityEntry, Task, TaskFilter};
use sqlx::AnyConnection;
use uuid::Uuid;

use super::rows::{self, task_columns};
use super::statement::{Statement, Table, delete_cascading, exists};
use super::{SqlStore, activity, db_error, text};
use crate::StoreError;
use crate::store::TaskStore;

/// Creates a task, its links and its activity entry.
pub(super) async fn insert(store: &SqlStore, task: &Task, entry: &ActivityEntry) -> Result<(), StoreError> {
    let mut tx = store.begin_write().await?;
    check_references(store, &mut tx, task).await?;
    sqlx::query(concat!(
        "INSERT INTO tasks (",
        task_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    ))
    .bind(task.id.to_string())
    .bind(task.workspace_id.to_string())
    .bind(task.project_id.to_string())
    .bind(task.title.as_str())
    .bind(task.description.as_str())
    .bind(task.status.as_str())
    .bind(task.priority.as_str())
    .bind(rows::opt_id(task.assignee_id))
    .bind(task.estimate_hours)
    .bind(rows::opt_millis(task.due_date))
    .bind(rows::opt_millis(task.completed_at))
    .bind(rows::millis(task.created_at))
    .bind(rows::millis(task.updated_at))
    .bind(task.revision)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    insert_links(&mut tx, task).await?;
    activity::append(&mut tx, entry).await?;
    tx.commit().await.map_err(db_error)
}

/// Reads a task of the workspace with its links, from one snapshot.
pub(super) async fn get(store: &SqlStore, workspace_id: Uuid, id: Uuid) -> Result<Option<Task>, StoreError> {
    let mut tx = store.begin_read().await?;
    let row = sqlx::query(concat!("SELECT ", task_columns!(), " FROM tasks WHERE workspace_id = $1 AND id = $2"))
        .bind(workspace_id.to_string())
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let mut task = rows::task(&row)?;
    let mut links = load_links(&mut tx, workspace_id, &[task.id]).await?;
    task.blocked_by = links.remove(&task.id).unwrap_or_default();
    tx.commit().await.map_err(db_error)?;
    Ok(Some(task))
}

/// Lists tasks of the workspace, newest first, with their links.
pub(super) async fn list(
    store: &SqlStore,
    workspace_id: Uuid,
    filter: &TaskFilter,
    page: PageRequest,
) -> Result<Page<Task>, StoreError> {
    let mut statement = Statement::new(concat!("SELECT ", task_columns!(), " FROM tasks WHERE workspace_id = "));
    statement.bind(workspace_id.to_string());
    if let Some(project_id) = filter.project_id {
        statement.push(" AND project_id = ").bind(project_id.to_string());
    }
    if let Some(status) = filter.status {
        statement.push(" AND status = ").bind(status.as_str());
    }
    if let Some(assignee_id) = filter.assignee_id {
        statement.push(" AND assignee_id = ").bind(assignee_id.to_string());
    }
    // Both bounds are strict; rounding each the right way keeps them strict for
    // times with sub-millisecond digits.
    if let Some(before) = filter.due_before {
        statement.push(" AND due_date < ").bind(rows::millis_ceil(before));
    }
    if let Some(after) = filter.due_after {
        statement.push(" AND due_date > ").bind(rows::millis(after));
    }
    statement.page("created_at", page);

    let mut tx = store.begin_read().await?;
    let tasks = statement.fetch_all(&mut tx).await?.iter().map(rows::task).collect::<Result<Vec<_>, _>>()?;
    let mut page =
        Page::from_rows(tasks, page.limit, |task| Cursor { sort_key: rows::millis(task.created_at), id: task.id });
    let ids: Vec<Uuid> = page.items.iter().map(|task| task.id).collect();
    let mut links = load_links(&mut tx, workspace_id, &ids).await?;
    tx.commit().await.map_err(db_error)?;
    for task in &mut page.items {
        task.blocked_by = links.remove(&task.id).unwrap_or_default();
    }
    Ok(page)
}

/// Replaces a task (and its links) if its stored revision is the one before
/// `task.revision`, with the same checks as [`insert`].
pub(super) async fn update(store: &SqlStore, task: &Task, entry: &ActivityEntry) -> Result<(), StoreError> {
    let previous = task.revision.saturating_sub(1);
    let mut tx = store.begin_write().await?;
    // Revision first: a stale or missing task is reported as such, whatever else
    // is wrong with the new version.
    let stored = sqlx::query("SELECT revision FROM tasks WHERE workspace_id = $1 AND id = $2")
        .bind(task.workspace_id.to_string())
        .bind(task.id.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
    match stored.as_ref().map(|row| rows::get::<i64>(row, "revision")).transpose()? {
        None => return Err(StoreError::NotFound),
        Some(revision) if revision != previous => return Err(StoreError::Conflict),
        Some(_) => {}
    }
    check_references(store, &mut tx, task).await?;
    let changed = sqlx::query(
        "UPDATE tasks SET project_id = $1, title = $2, description = $3, status = $4, priority = $5, \
         assignee_id = $6, estimate_hours = $7, due_date = $8, completed_at = $9, updated_at = $10, \
         revision = $11 WHERE workspace_id = $12 AND id = $13 AND revision = $14",
    )
    .bind(task.project_id.to_string())
    .bind(task.title.as_str())
    .bind(task.description.as_str())
    .bind(task.status.as_str())
    .bind(task.priority.as_str())
    .bind(rows::opt_id(task.assignee_id))
    .bind(task.estimate_hours)
    .bind(rows::opt_millis(task.due_date))
    .bind(rows::opt_millis(task.completed_at))
    .bind(rows::millis(task.updated_at))
    .bind(task.revision)
    .bind(task.workspace_id.to_string())
    .bind(task.id.to_string())
    .bind(previous)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?
    .rows_affected();
    if changed == 0 {
        // Changed by another writer since the check above (PostgreSQL only; a
        // SQLite writer holds the database).
        return Err(StoreError::Conflict);
    }
    sqlx::query("DELETE FROM task_blockers WHERE workspace_id = $1 AND task_id = $2")
        .bind(task.workspace_id.to_string())
        .bind(task.id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    insert_links(&mut tx, task).await?;
    activity::append(&mut tx, entry).await?;
    tx.commit().await.map_err(db_error)
}

/// Deletes a task and every link to or from it.
///
/// Tasks that were blocked by it lose that link, which changes them: their
/// revision goes up and `updated_at` becomes the time of the entry.
pub(super) async fn delete(
    store: &SqlStore,
    workspace_id: Uuid,
    id: Uuid,
    entry: &ActivityEntry,
) -> Result<(), StoreError> {
    let statements = [
        "UPDATE tasks SET revision = revision + 1, updated_at = $3 WHERE workspace_id = $1 AND id IN (\
           SELECT task_id FROM task_blockers WHERE workspace_id = $1 AND blocked_by_id = $2)",
        "DELETE FROM task_blockers WHERE workspace_id = $1 AND (task_id = $2 OR blocked_by_id = $2)",
        "DELETE FROM tasks WHERE workspace_id = $1 AND id = $2",
    ];
    delete_cascading(store, Table::Tasks, workspace_id, id, &statements, entry).await
}

/// Checks that the task's project, assignee and blockers exist in its workspace
/// and that its links close no cycle.
async fn check_references(store: &SqlStore, conn: &mut AnyConnection, task: &Task) -> Result<(), StoreError> {
    let workspace_id = task.workspace_id;
    if !exists(conn, Table::Projects, workspace_id, task.project_id).await? {
        return Err(unknown("/projectId", task.project_id));
    }
    if let Some(assignee_id) = task.assignee_id
        && !exists(conn, Table::Members, workspace_id, assignee_id).await?
    {
        return Err(unknown("/assigneeId", assignee_id));
    }
    if task.blocked_by.is_empty() {
        // Dropping links cannot close a cycle; no need to wait for the lock.
        return Ok(());
    }
    store.lock_links(conn, workspace_id).await?;

    let mut statement = Statement::new("SELECT id FROM tasks WHERE workspace_id = ");
    statement.bind(workspace_id.to_string()).push(" AND id IN ").bind_list(task.blocked_by.iter().map(Uuid::to_string));
    let found =
        statement.fetch_all(conn).await?.iter().map(|row| rows::uuid(row, "id")).collect::<Result<HashSet<_>, _>>()?;
    if let Some((index, &missing)) = task.blocked_by.iter().enumerate().find(|(_, id)| !found.contains(id)) {
        return Err(unknown(&format!("/blockedBy/{index}"), missing));
    }

    let graph = load_graph(conn, workspace_id).await?;
    match find_cycle(task.id, &task.blocked_by, &graph) {
        Some(cycle) => Err(StoreError::DependencyCycle { cycle }),
        None => Ok(()),
    }
}

fn unknown(path: &str, id: Uuid) -> StoreError {
    StoreError::UnknownReference { path: path.to_owned(), id }
}

/// Every blocked-by link of the workspace, as `task → its blockers`.
async fn load_graph(conn: &mut AnyConnection, workspace_id: Uuid) -> Result<HashMap<Uuid, Vec<Uuid>>, StoreError> {
    let rows = sqlx::query("SELECT task_id, blocked_by_id FROM task_blockers WHERE workspace_id = $1")
        .bind(workspace_id.to_string())
        .fetch_all(conn)
        .await
        .map_err(db_error)?;
    let mut graph: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for row in &rows {
        graph.entry(rows::uuid(row, "task_id")?).or_default().push(rows::uuid(row, "blocked_by_id")?);
    }
    Ok(graph)
}

/// The links of the given tasks, each list in the order it was written.
async fn load_links(
    conn: &mut AnyConnection,
    workspace_id: Uuid,
    task_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Uuid>>, StoreError> {
    let mut links: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    if task_ids.is_empty() {
        return Ok(links);
    }
    let mut statement = Statement::new("SELECT task_id, blocked_by_id FROM task_blockers WHERE workspace_id = ");
    statement
        .bind(workspace_id.to_string())
        .push(" AND task_id IN ")
        .bind_list(task_ids.iter().map(Uuid::to_string))
        .push(" ORDER BY task_id, position");
    for row in &statement.fetch_all(conn).await? {
        links.entry(rows::uuid(row, "task_id")?).or_default().push(rows::uuid(row, "blocked_by_id")?);
    }
    Ok(links)
}

/// Writes the task's links, numbering them to keep their order.
async fn insert_links(conn: &mut AnyConnection, task: &Task) -> Result<(), StoreError> {
    if task.blocked_by.is_empty() {
        return Ok(());
    }
    let (workspace, id) = (task.workspace_id.to_string(), task.id.to_string());
    let mut statement =
        Statement::new("INSERT INTO task_blockers (workspace_id, task_id, blocked_by_id, position) VALUES ");
    for (position, blocker) in (0_i64..).zip(&task.blocked_by) {
        if position > 0 {
            statement.push(", ");
        }
        statement
            .push("(")
            .bind(workspace.as_str())
            .push(", ")
            .bind(id.as_str())
            .push(", ")
            .bind(blocker.to_string())
            .push(", ")
            .bind(position)
            .push(")");
    }
    statement.execute(conn).await?;
    Ok(())
}

#[async_trait]
impl TaskStore for SqlStore {
    async fn insert_task(&self, task: &Task, activity: &ActivityEntry) -> Result<(), StoreError> {
        text::task(task)?;
        text::activity(activity)?;
        insert(self, task, activity).await
    }

    async fn get_task(&self, workspace_id: Uuid, id: Uuid) -> Result<Option<Task>, StoreError> {
        get(self, workspace_id, id).await
    }

    async fn list_tasks(
        &self,
        workspace_id: Uuid,
        filter: &TaskFilter,
        page: PageRequest,
    ) -> Result<Page<Task>, StoreError> {
        list(self, workspace_id, filter, page).await
    }

    async fn update_task(&self, task: &Task, activity: &ActivityEntry) -> Result<(), StoreError> {
        text::task(task)?;
        text::activity(activity)?;
        update(self, task, activity).await
    }

    async fn delete_task(&self, workspace_id: Uuid, id: Uuid, activity: &ActivityEntry) -> Result<(), StoreError> {
        text::activity(activity)?;
        delete(self, workspace_id, id, activity).await
    }
}
