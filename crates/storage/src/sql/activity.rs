//! The append-only activity log: written with every record change, in the same
//! transaction, and listed newest first.

use agentdeck_domain::page::{Cursor, Page, PageRequest};
use agentdeck_domain::records::{ActivityAction, ActivityEntry, ActivityFilter, ActivitySummary};
use async_trait::async_trait;
use sqlx::Row;

use super::rows::{self, activity_columns};
use super::statement::Statement;
use super::{SqlStore, WriteTx, db_error, text};
use crate::StoreError;
use crate::store::{ActivityStore, RecordsGeneration};
use uuid::Uuid;

/// Appends an entry; called inside the transaction of the change it records,
/// which advances the workspace's records generation when it commits.
pub(super) async fn append(tx: &mut WriteTx, entry: &ActivityEntry) -> Result<(), StoreError> {
    tx.records_changed(entry.workspace_id);
    let details = serde_json::to_string(&entry.details)
        .map_err(|error| StoreError::Corrupt(format!("activity details: {error}")))?;
    sqlx::query(concat!(
        "INSERT INTO activity (",
        activity_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    ))
    .bind(entry.id.to_string())
    .bind(entry.workspace_id.to_string())
    .bind(rows::opt_id(entry.project_id))
    .bind(entry.actor.as_str())
    .bind(entry.action.as_str())
    .bind(entry.target_kind.as_str())
    .bind(entry.target_id.to_string())
    .bind(entry.target_name.as_str())
    .bind(details)
    .bind(rows::millis(entry.at))
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Lists entries of the workspace, newest first.
pub(super) async fn list(
    store: &SqlStore,
    workspace_id: Uuid,
    filter: &ActivityFilter,
    page: PageRequest,
) -> Result<Page<ActivityEntry>, StoreError> {
    let mut statement = Statement::new(concat!("SELECT ", activity_columns!(), " FROM activity WHERE "));
    push_filter(&mut statement, workspace_id, filter);
    statement.page("at", page);
    let mut conn = store.pool.acquire().await.map_err(db_error)?;
    let entries = statement.fetch_all(&mut conn).await?.iter().map(rows::activity).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(entries, page.limit, |entry| Cursor { sort_key: rows::millis(entry.at), id: entry.id }))
}

/// Appends the conditions of `filter` in `workspace_id`.
fn push_filter(statement: &mut Statement, workspace_id: Uuid, filter: &ActivityFilter) {
    statement.push("workspace_id = ").bind(workspace_id.to_string());
    if let Some(project_id) = filter.project_id {
        statement.push(" AND project_id = ").bind(project_id.to_string());
    }
    if let Some(actor) = &filter.actor {
        statement.push(" AND actor = ").bind(actor.as_str());
    }
    if let Some(since) = filter.since {
        statement.push(" AND at >= ").bind(rows::millis_ceil(since));
    }
}

/// Counts the entries `filter` matches per action, and their distinct actors,
/// in one statement: a row per action, then one row (with no action) for the actors.
pub(super) async fn summarize(
    store: &SqlStore,
    workspace_id: Uuid,
    filter: &ActivityFilter,
) -> Result<ActivitySummary, StoreError> {
    let mut statement = Statement::new("SELECT action, COUNT(*) AS counted FROM activity WHERE ");
    push_filter(&mut statement, workspace_id, filter);
    statement.push(" GROUP BY action UNION ALL SELECT NULL, COUNT(DISTINCT actor) FROM activity WHERE ");
    push_filter(&mut statement, workspace_id, filter);
    let mut conn = store.pool.acquire().await.map_err(db_error)?;
    let mut summary = ActivitySummary::default();
    for row in statement.fetch_all(&mut conn).await? {
        let action: Option<String> = row.try_get(0).map_err(db_error)?;
        let counted: i64 = row.try_get(1).map_err(db_error)?;
        let counted = u64::try_from(counted).unwrap_or(0);
        match action {
            None => summary.actors = counted,
            Some(name) => {
                let action = ActivityAction::parse(&name)
                    .ok_or_else(|| StoreError::Corrupt(format!("column action: unknown value {name:?}")))?;
                summary.by_action.push((action, counted));
            }
        }
    }
    Ok(summary)
}

#[async_trait]
impl ActivityStore for SqlStore {
    async fn list_activity(
        &self,
        workspace_id: Uuid,
        filter: &ActivityFilter,
        page: PageRequest,
    ) -> Result<Page<ActivityEntry>, StoreError> {
        text::activity_filter(filter)?;
        list(self, workspace_id, filter, page).await
    }

    async fn summarize_activity(
        &self,
        workspace_id: Uuid,
        filter: &ActivityFilter,
    ) -> Result<ActivitySummary, StoreError> {
        text::activity_filter(filter)?;
        summarize(self, workspace_id, filter).await
    }

    async fn records_generation(&self, workspace_id: Uuid) -> Result<RecordsGeneration, StoreError> {
        if let Some(generations) = &self.local_generations {
            return Ok(generations.current(workspace_id));
        }
        let newest = list(self, workspace_id, &ActivityFilter::default(), PageRequest::first(1)).await?;
        Ok(RecordsGeneration::NewestEntry(newest.items.first().map(|entry| entry.id)))
    }

    async fn append_activity(&self, entry: &ActivityEntry) -> Result<(), StoreError> {
        text::activity(entry)?;
        let mut tx = self.begin_write().await?;
        append(&mut tx, entry).await?;
        tx.commit().await.map_err(db_error)
    }
}
