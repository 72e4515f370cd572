//! A2A tasks, their event logs and push configs (idempotency keys, written
//! with them, are in [`super::idempotency_keys`]).
//!
//! Updates are optimistic on the task's `last_seq`: the writer says which
//! event it last saw, so two nodes writing one task cannot interleave their
//! events. The event log keeps the newest `keep_events` entries per task.
//!
//! Inserts and updates, one or two per `SendMessage`, go through the group writer on
//! SQLite: concurrent ones share a transaction (see [`writes`] and
//! [`crate::sql::group_commit`]); everything else runs on the sqlx pool.

mod writes;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use self::writes::{InsertTask, UpdateTask};
use super::{SqlStore, db_error, idempotency_keys, rows};
use crate::StoreError;
use crate::agent_tasks::{
    AgentTaskCursor, AgentTaskEvent, AgentTaskFilter, AgentTaskPage, AgentTaskScope, StoredAgentTask,
    StoredIdempotencyKey, StoredPushConfig,
};
use crate::sql::statement::Statement;
use crate::store::AgentTaskStore;

macro_rules! agent_task_columns {
    () => {
        "id, context_id, state, status_at, created_at, last_seq, body"
    };
}

fn task_row(row: &AnyRow) -> Result<StoredAgentTask, StoreError> {
    let corrupt = |error: sqlx::Error| StoreError::Corrupt(format!("a2a_tasks: {error}"));
    let body: String = row.try_get("body").map_err(corrupt)?;
    Ok(StoredAgentTask {
        id: row.try_get("id").map_err(corrupt)?,
        context_id: row.try_get("context_id").map_err(corrupt)?,
        state: row.try_get("state").map_err(corrupt)?,
        status_at: time(row, "status_at")?,
        created_at: time(row, "created_at")?,
        last_seq: row.try_get("last_seq").map_err(corrupt)?,
        body: serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(format!("a2a_tasks.body: {e}")))?,
    })
}

fn time(row: &AnyRow, column: &str) -> Result<DateTime<Utc>, StoreError> {
    let millis: i64 = row.try_get(column).map_err(|e| StoreError::Corrupt(format!("a2a_tasks.{column}: {e}")))?;
    DateTime::from_timestamp_millis(millis).ok_or_else(|| StoreError::Corrupt(format!("a2a_tasks.{column}: {millis}")))
}

fn json_text(value: &serde_json::Value) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(format!("unserializable JSON: {e}")))
}

/// Creates a task with its first events, recording the idempotency key that made it.
pub(super) async fn insert(
    store: &SqlStore,
    scope: &AgentTaskScope,
    task: &StoredAgentTask,
    idempotency_key: Option<&StoredIdempotencyKey>,
    events: &[AgentTaskEvent],
    keep_events: u32,
) -> Result<(), StoreError> {
    let write = InsertTask::encode(scope, task, idempotency_key, events, keep_events)?;
    if let Some(writer) = &store.group_writer {
        return writer.write(move |conn| write.run_sqlite(conn)).await;
    }
    let mut tx = store.begin_write().await?;
    write.run_sqlx(&mut tx).await?;
    tx.commit().await.map_err(db_error)
}

/// Writes a task's new state and events, if its last event is still `expected_seq`.
pub(super) async fn update(
    store: &SqlStore,
    scope: &AgentTaskScope,
    task: &StoredAgentTask,
    expected_seq: i64,
    idempotency_key: Option<&StoredIdempotencyKey>,
    events: &[AgentTaskEvent],
    keep_events: u32,
) -> Result<(), StoreError> {
    let write = UpdateTask::encode(scope, task, expected_seq, idempotency_key, events, keep_events)?;
    if let Some(writer) = &store.group_writer {
        return writer.write(move |conn| write.run_sqlite(conn)).await;
    }
    let mut tx = store.begin_write().await?;
    write.run_sqlx(&mut tx).await?;
    tx.commit().await.map_err(db_error)
}

async fn scoped_exists(conn: &mut AnyConnection, scope: &AgentTaskScope, id: &str) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT 1 FROM a2a_tasks WHERE id = $1 AND tenant = $2 AND owner = $3 AND agent = $4")
        .bind(id)
        .bind(scope.tenant.as_str())
        .bind(scope.owner.as_str())
        .bind(scope.agent.as_str())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?;
    Ok(row.is_some())
}

/// Reads a task of the scope.
pub(super) async fn get(
    store: &SqlStore,
    scope: &AgentTaskScope,
    id: &str,
) -> Result<Option<StoredAgentTask>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        agent_task_columns!(),
        " FROM a2a_tasks WHERE id = $1 AND tenant = $2 AND owner = $3 AND agent = $4"
    ))
    .bind(id)
    .bind(scope.tenant.as_str())
    .bind(scope.owner.as_str())
    .bind(scope.agent.as_str())
    .fetch_optional(&store.pool)
    .await
    .map_err(db_error)?;
    row.as_ref().map(task_row).transpose()
}

fn push_filter(statement: &mut Statement, scope: &AgentTaskScope, filter: &AgentTaskFilter) {
    statement.bind(scope.tenant.as_str()).push(" AND owner = ").bind(scope.owner.as_str());
    statement.push(" AND agent = ").bind(scope.agent.as_str());
    if let Some(context_id) = &filter.context_id {
        statement.push(" AND context_id = ").bind(context_id.as_str());
    }
    if let Some(state) = &filter.state {
        statement.push(" AND state = ").bind(state.as_str());
    }
    if let Some(after) = filter.status_after {
        statement.push(" AND status_at >= ").bind(rows::millis(after));
    }
}

/// Lists a scope's tasks, newest status first.
pub(super) async fn list(
    store: &SqlStore,
    scope: &AgentTaskScope,
    filter: &AgentTaskFilter,
    after: Option<&AgentTaskCursor>,
    limit: u32,
) -> Result<AgentTaskPage, StoreError> {
    let mut tx = store.begin_read().await?;
    let mut count = Statement::new("SELECT COUNT(*) AS total FROM a2a_tasks WHERE tenant = ");
    push_filter(&mut count, scope, filter);
    let counted = count.fetch_all(&mut tx).await?;
    let total: i64 = match counted.first() {
        Some(row) => row.try_get("total").map_err(|e| StoreError::Corrupt(format!("a2a_tasks count: {e}")))?,
        None => 0,
    };
    let mut page = Statement::new(concat!("SELECT ", agent_task_columns!(), " FROM a2a_tasks WHERE tenant = "));
    push_filter(&mut page, scope, filter);
    if let Some(cursor) = after {
        page.push(" AND (status_at < ").bind(cursor.status_at_millis);
        page.push(" OR (status_at = ").bind(cursor.status_at_millis).push(" AND id < ").bind(cursor.id.as_str());
        page.push("))");
    }
    page.push(" ORDER BY status_at DESC, id DESC LIMIT ").bind(i64::from(limit));
    let tasks = page.fetch_all(&mut tx).await?.iter().map(task_row).collect::<Result<Vec<_>, _>>()?;
    tx.commit().await.map_err(db_error)?;
    Ok(AgentTaskPage { tasks, total: u64::try_from(total).unwrap_or(0) })
}

/// Tasks of every scope in one of `states` (for the restart sweep).
pub(super) async fn in_states(
    store: &SqlStore,
    states: &[&str],
) -> Result<Vec<(AgentTaskScope, StoredAgentTask)>, StoreError> {
    if states.is_empty() {
        return Ok(Vec::new());
    }
    let mut statement = Statement::new(concat!(
        "SELECT tenant, owner, agent, ",
        agent_task_columns!(),
        " FROM a2a_tasks WHERE state IN "
    ));
    statement.bind_list(states.iter().map(|state| (*state).to_owned()));
    let mut conn = store.pool.acquire().await.map_err(db_error)?;
    let rows = statement.fetch_all(&mut conn).await?;
    rows.iter()
        .map(|row| {
            let corrupt = |e: sqlx::Error| StoreError::Corrupt(format!("a2a_tasks: {e}"));
            let scope = AgentTaskScope {
                tenant: row.try_get("tenant").map_err(corrupt)?,
                owner: row.try_get("owner").map_err(corrupt)?,
                agent: row.try_get("agent").map_err(corrupt)?,
            };
            Ok((scope, task_row(row)?))
        })
        .collect()
}

/// The events of a scope's task after `after_seq`, oldest first (what the log still holds).
pub(super) async fn events_after(
    store: &SqlStore,
    scope: &AgentTaskScope,
    id: &str,
    after_seq: i64,
) -> Result<Vec<AgentTaskEvent>, StoreError> {
    let rows = sqlx::query(
        "SELECT e.seq AS seq, e.body AS body FROM a2a_task_events e JOIN a2a_tasks t ON t.id = e.task_id \
         WHERE t.id = $1 AND t.tenant = $2 AND t.owner = $3 AND t.agent = $4 AND e.seq > $5 ORDER BY e.seq",
    )
    .bind(id)
    .bind(scope.tenant.as_str())
    .bind(scope.owner.as_str())
    .bind(scope.agent.as_str())
    .bind(after_seq)
    .fetch_all(&store.pool)
    .await
    .map_err(db_error)?;
    rows.iter()
        .map(|row| {
            let corrupt = |e: String| StoreError::Corrupt(format!("a2a_task_events: {e}"));
            let body: String = row.try_get("body").map_err(|e| corrupt(e.to_string()))?;
            Ok(AgentTaskEvent {
                seq: row.try_get("seq").map_err(|e| corrupt(e.to_string()))?,
                body: serde_json::from_str(&body).map_err(|e| corrupt(e.to_string()))?,
            })
        })
        .collect()
}

/// Creates or replaces a push config of a scope's task.
pub(super) async fn put_push_config(
    store: &SqlStore,
    scope: &AgentTaskScope,
    config: &StoredPushConfig,
    created_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut tx = store.begin_write().await?;
    if !scoped_exists(&mut tx, scope, &config.task_id).await? {
        return Err(StoreError::NotFound);
    }
    sqlx::query("DELETE FROM a2a_push_configs WHERE task_id = $1 AND id = $2")
        .bind(config.task_id.as_str())
        .bind(config.id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    sqlx::query("INSERT INTO a2a_push_configs (task_id, id, created_at, body) VALUES ($1, $2, $3, $4)")
        .bind(config.task_id.as_str())
        .bind(config.id.as_str())
        .bind(rows::millis(created_at))
        .bind(json_text(&config.body)?)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)
}

/// The push configs of a scope's task, oldest first; `id` picks one.
pub(super) async fn push_configs(
    store: &SqlStore,
    scope: &AgentTaskScope,
    task_id: &str,
    id: Option<&str>,
) -> Result<Vec<StoredPushConfig>, StoreError> {
    let mut statement = Statement::new(
        "SELECT p.id AS id, p.task_id AS task_id, p.body AS body FROM a2a_push_configs p \
         JOIN a2a_tasks t ON t.id = p.task_id WHERE t.tenant = ",
    );
    statement.bind(scope.tenant.as_str()).push(" AND t.owner = ").bind(scope.owner.as_str());
    statement.push(" AND t.agent = ").bind(scope.agent.as_str()).push(" AND p.task_id = ").bind(task_id);
    if let Some(id) = id {
        statement.push(" AND p.id = ").bind(id);
    }
    statement.push(" ORDER BY p.created_at, p.id");
    let mut conn = store.pool.acquire().await.map_err(db_error)?;
    let rows = statement.fetch_all(&mut conn).await?;
    rows.iter()
        .map(|row| {
            let corrupt = |e: String| StoreError::Corrupt(format!("a2a_push_configs: {e}"));
            let body: String = row.try_get("body").map_err(|e| corrupt(e.to_string()))?;
            Ok(StoredPushConfig {
                id: row.try_get("id").map_err(|e| corrupt(e.to_string()))?,
                task_id: row.try_get("task_id").map_err(|e| corrupt(e.to_string()))?,
                body: serde_json::from_str(&body).map_err(|e| corrupt(e.to_string()))?,
            })
        })
        .collect()
}

/// Removes a push config; `false` when there was none.
pub(super) async fn delete_push_config(
    store: &SqlStore,
    scope: &AgentTaskScope,
    task_id: &str,
    id: &str,
) -> Result<bool, StoreError> {
    let mut tx = store.begin_write().await?;
    if !scoped_exists(&mut tx, scope, task_id).await? {
        return Ok(false);
    }
    let deleted = sqlx::query("DELETE FROM a2a_push_configs WHERE task_id = $1 AND id = $2")
        .bind(task_id)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(deleted.rows_affected() > 0)
}

#[async_trait]
impl AgentTaskStore for SqlStore {
    async fn insert_agent_task(
        &self,
        scope: &AgentTaskScope,
        task: &StoredAgentTask,
        idempotency_key: Option<&StoredIdempotencyKey>,
        events: &[AgentTaskEvent],
        keep_events: u32,
    ) -> Result<(), StoreError> {
        insert(self, scope, task, idempotency_key, events, keep_events).await
    }

    async fn update_agent_task(
        &self,
        scope: &AgentTaskScope,
        task: &StoredAgentTask,
        expected_seq: i64,
        idempotency_key: Option<&StoredIdempotencyKey>,
        events: &[AgentTaskEvent],
        keep_events: u32,
    ) -> Result<(), StoreError> {
        update(self, scope, task, expected_seq, idempotency_key, events, keep_events).await
    }

    async fn get_agent_task(&self, scope: &AgentTaskScope, id: &str) -> Result<Option<StoredAgentTask>, StoreError> {
        get(self, scope, id).await
    }

    async fn put_idempotency_key(&self, key: &StoredIdempotencyKey) -> Result<(), StoreError> {
        idempotency_keys::put(self, key).await
    }

    async fn idempotency_key(
        &self,
        scope: &AgentTaskScope,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredIdempotencyKey>, StoreError> {
        idempotency_keys::find(self, scope, key, now).await
    }

    async fn purge_expired_idempotency_keys(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        idempotency_keys::purge_expired(self, now).await
    }

    async fn list_agent_tasks(
        &self,
        scope: &AgentTaskScope,
        filter: &AgentTaskFilter,
        after: Option<&AgentTaskCursor>,
        limit: u32,
    ) -> Result<AgentTaskPage, StoreError> {
        list(self, scope, filter, after, limit).await
    }

    async fn agent_tasks_in_states(
        &self,
        states: &[&str],
    ) -> Result<Vec<(AgentTaskScope, StoredAgentTask)>, StoreError> {
        in_states(self, states).await
    }

    async fn agent_task_events(
        &self,
        scope: &AgentTaskScope,
        id: &str,
        after_seq: i64,
    ) -> Result<Vec<AgentTaskEvent>, StoreError> {
        events_after(self, scope, id, after_seq).await
    }

    async fn put_push_config(
        &self,
        scope: &AgentTaskScope,
        config: &StoredPushConfig,
        created_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        put_push_config(self, scope, config, created_at).await
    }

    async fn push_configs(
        &self,
        scope: &AgentTaskScope,
        task_id: &str,
        id: Option<&str>,
    ) -> Result<Vec<StoredPushConfig>, StoreError> {
        push_configs(self, scope, task_id, id).await
    }

    async fn delete_push_config(&self, scope: &AgentTaskScope, task_id: &str, id: &str) -> Result<bool, StoreError> {
        delete_push_config(self, scope, task_id, id).await
    }
}
