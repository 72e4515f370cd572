//! The two writes of a task's life, inserts and updates, encoded once and run
//! either through sqlx (PostgreSQL, or a SQLite database the group writer
//! cannot open) or as a closure on the SQLite group writer's connection
//! ([`crate::sql::group_commit`]). Both runners bind the same statement texts
//! in the same order (SQLite reads `$1` as a parameter too), so the backends
//! cannot drift apart.
//!
//! Everything a write binds is encoded on the caller's thread (the task's
//! JSON above all), so the one writer thread only runs SQL.

use rusqlite::params;
use sqlx::AnyConnection;

use crate::StoreError;
use crate::agent_tasks::{AgentTaskEvent, AgentTaskScope, StoredAgentTask, StoredIdempotencyKey};
use crate::sql::errors::db_error;
use crate::sql::group_commit::sqlite_error;
use crate::sql::idempotency_keys::KeyRow;
use crate::sql::rows;

const INSERT_TASK: &str = "INSERT INTO a2a_tasks \
    (tenant, owner, agent, id, context_id, state, status_at, created_at, last_seq, body) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

const UPDATE_TASK: &str = "UPDATE a2a_tasks SET state = $1, status_at = $2, last_seq = $3, body = $4, context_id = $5 \
    WHERE id = $6 AND tenant = $7 AND owner = $8 AND agent = $9 AND last_seq = $10";

const SCOPED_EXISTS: &str = "SELECT 1 FROM a2a_tasks WHERE id = $1 AND tenant = $2 AND owner = $3 AND agent = $4";

const INSERT_EVENT: &str = "INSERT INTO a2a_task_events (task_id, seq, body) VALUES ($1, $2, $3)";

const TRIM_EVENTS: &str = "DELETE FROM a2a_task_events WHERE task_id = $1 AND seq <= $2";

fn json_text(value: &serde_json::Value) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(format!("unserializable JSON: {e}")))
}

/// A task's row as both backends bind it.
struct TaskRow {
    tenant: String,
    owner: String,
    agent: String,
    id: String,
    context_id: String,
    state: String,
    status_at: i64,
    created_at: i64,
    last_seq: i64,
    body: String,
}

impl TaskRow {
    fn encode(scope: &AgentTaskScope, task: &StoredAgentTask) -> Result<Self, StoreError> {
        Ok(Self {
            tenant: scope.tenant.clone(),
            owner: scope.owner.clone(),
            agent: scope.agent.clone(),
            id: task.id.clone(),
            context_id: task.context_id.clone(),
            state: task.state.clone(),
            status_at: rows::millis(task.status_at),
            created_at: rows::millis(task.created_at),
            last_seq: task.last_seq,
            body: json_text(&task.body)?,
        })
    }
}

/// Events to append to a task's log, and how far to trim it after.
struct EventRows {
    events: Vec<(i64, String)>,
    /// Events up to this seq fall out of the log; `None` while the log is short
    /// enough that nothing can (sequence numbers start at 1).
    trim_through: Option<i64>,
}

impl EventRows {
    fn encode(events: &[AgentTaskEvent], keep_events: u32) -> Result<Self, StoreError> {
        let rows =
            events.iter().map(|event| Ok((event.seq, json_text(&event.body)?))).collect::<Result<_, StoreError>>()?;
        let trim_through =
            events.iter().map(|event| event.seq).max().map(|newest| newest - i64::from(keep_events)).filter(|t| *t > 0);
        Ok(Self { events: rows, trim_through })
    }

    async fn append_sqlx(&self, conn: &mut AnyConnection, task_id: &str) -> Result<(), StoreError> {
        for (seq, body) in &self.events {
            sqlx::query(INSERT_EVENT).bind(task_id).bind(seq).bind(body).execute(&mut *conn).await.map_err(db_error)?;
        }
        if let Some(through) = self.trim_through {
            sqlx::query(TRIM_EVENTS).bind(task_id).bind(through).execute(&mut *conn).await.map_err(db_error)?;
        }
        Ok(())
    }

    fn append_sqlite(&self, conn: &rusqlite::Connection, task_id: &str) -> Result<(), StoreError> {
        let mut insert = conn.prepare_cached(INSERT_EVENT).map_err(sqlite_error)?;
        for (seq, body) in &self.events {
            insert.execute(params![task_id, seq, body]).map_err(sqlite_error)?;
        }
        if let Some(through) = self.trim_through {
            let mut trim = conn.prepare_cached(TRIM_EVENTS).map_err(sqlite_error)?;
            trim.execute(params![task_id, through]).map_err(sqlite_error)?;
        }
        Ok(())
    }
}

/// A new task with its first events and the idempotency key that made it, if any.
pub(super) struct InsertTask {
    row: TaskRow,
    idempotency_key: Option<KeyRow>,
    events: EventRows,
}

impl InsertTask {
    /// Encodes the write.
    pub(super) fn encode(
        scope: &AgentTaskScope,
        task: &StoredAgentTask,
        idempotency_key: Option<&StoredIdempotencyKey>,
        events: &[AgentTaskEvent],
        keep_events: u32,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            row: TaskRow::encode(scope, task)?,
            idempotency_key: idempotency_key.map(KeyRow::encode).transpose()?,
            events: EventRows::encode(events, keep_events)?,
        })
    }

    /// Runs the write in a transaction of the caller's.
    pub(super) async fn run_sqlx(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        let row = &self.row;
        sqlx::query(INSERT_TASK)
            .bind(row.tenant.as_str())
            .bind(row.owner.as_str())
            .bind(row.agent.as_str())
            .bind(row.id.as_str())
            .bind(row.context_id.as_str())
            .bind(row.state.as_str())
            .bind(row.status_at)
            .bind(row.created_at)
            .bind(row.last_seq)
            .bind(row.body.as_str())
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        if let Some(key) = &self.idempotency_key {
            key.record_sqlx(conn).await?;
        }
        self.events.append_sqlx(conn, &row.id).await
    }

    /// Runs the write on the group writer's connection.
    pub(super) fn run_sqlite(&self, conn: &rusqlite::Connection) -> Result<(), StoreError> {
        let row = &self.row;
        let mut insert = conn.prepare_cached(INSERT_TASK).map_err(sqlite_error)?;
        insert
            .execute(params![
                row.tenant,
                row.owner,
                row.agent,
                row.id,
                row.context_id,
                row.state,
                row.status_at,
                row.created_at,
                row.last_seq,
                row.body
            ])
            .map_err(sqlite_error)?;
        if let Some(key) = &self.idempotency_key {
            key.record_sqlite(conn)?;
        }
        self.events.append_sqlite(conn, &row.id)
    }
}

/// A task's new state and events, written only if its last event is still `expected_seq`.
pub(super) struct UpdateTask {
    row: TaskRow,
    expected_seq: i64,
    idempotency_key: Option<KeyRow>,
    events: EventRows,
}

impl UpdateTask {
    /// Encodes the write.
    pub(super) fn encode(
        scope: &AgentTaskScope,
        task: &StoredAgentTask,
        expected_seq: i64,
        idempotency_key: Option<&StoredIdempotencyKey>,
        events: &[AgentTaskEvent],
        keep_events: u32,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            row: TaskRow::encode(scope, task)?,
            expected_seq,
            idempotency_key: idempotency_key.map(KeyRow::encode).transpose()?,
            events: EventRows::encode(events, keep_events)?,
        })
    }

    /// Runs the write in a transaction of the caller's.
    pub(super) async fn run_sqlx(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        let row = &self.row;
        let updated = sqlx::query(UPDATE_TASK)
            .bind(row.state.as_str())
            .bind(row.status_at)
            .bind(row.last_seq)
            .bind(row.body.as_str())
            .bind(row.context_id.as_str())
            .bind(row.id.as_str())
            .bind(row.tenant.as_str())
            .bind(row.owner.as_str())
            .bind(row.agent.as_str())
            .bind(self.expected_seq)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        if updated.rows_affected() == 0 {
            let exists = sqlx::query(SCOPED_EXISTS)
                .bind(row.id.as_str())
                .bind(row.tenant.as_str())
                .bind(row.owner.as_str())
                .bind(row.agent.as_str())
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_error)?
                .is_some();
            return Err(if exists { StoreError::Conflict } else { StoreError::NotFound });
        }
        if let Some(key) = &self.idempotency_key {
            key.record_sqlx(conn).await?;
        }
        self.events.append_sqlx(conn, &row.id).await
    }

    /// Runs the write on the group writer's connection.
    pub(super) fn run_sqlite(&self, conn: &rusqlite::Connection) -> Result<(), StoreError> {
        let row = &self.row;
        let mut update = conn.prepare_cached(UPDATE_TASK).map_err(sqlite_error)?;
        let updated = update
            .execute(params![
                row.state,
                row.status_at,
                row.last_seq,
                row.body,
                row.context_id,
                row.id,
                row.tenant,
                row.owner,
                row.agent,
                self.expected_seq
            ])
            .map_err(sqlite_error)?;
        if updated == 0 {
            let mut exists = conn.prepare_cached(SCOPED_EXISTS).map_err(sqlite_error)?;
            let exists = exists.exists(params![row.id, row.tenant, row.owner, row.agent]).map_err(sqlite_error)?;
            return Err(if exists { StoreError::Conflict } else { StoreError::NotFound });
        }
        if let Some(key) = &self.idempotency_key {
            key.record_sqlite(conn)?;
        }
        self.events.append_sqlite(conn, &row.id)
    }
}
