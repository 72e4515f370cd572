//! The idempotency keys of A2A sends: the first outcome of a send per
//! (scope, key), kept until it expires.
//!
//! A key is recorded in the same transaction as what the send wrote (the new
//! task, or the follow-up's event), so a concurrent duplicate hits the
//! primary key and writes nothing: it is told [`StoreError::Duplicate`] and
//! answers with the winner's outcome. An expired key reads as absent; the
//! write that reuses it deletes it first, and [`purge_expired`] clears the rest.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use rusqlite::params;

use super::errors::db_error_unique;
use super::group_commit::{sqlite_error, sqlite_error_unique};
use super::{SqlStore, db_error, rows};
use crate::StoreError;
use crate::agent_tasks::{AgentTaskScope, IdempotentOutcome, StoredIdempotencyKey};

/// Path reported when the key was already recorded in the scope.
const KEY_PATH: &str = "/idempotencyKey";

/// Removes an expired record of the key, so the insert after it may reuse the key.
const DELETE_EXPIRED_KEY: &str = "DELETE FROM a2a_idempotency_keys \
    WHERE tenant = $1 AND owner = $2 AND agent = $3 AND idempotency_key = $4 AND expires_at <= $5";

const INSERT_KEY: &str = "INSERT INTO a2a_idempotency_keys \
    (tenant, owner, agent, idempotency_key, params_digest, task_id, first_seq, reply, created_at, expires_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// A key's record as both backends bind it, encoded on the caller's thread
/// (the SQLite group writer runs it on its own connection).
pub(super) struct KeyRow {
    tenant: String,
    owner: String,
    agent: String,
    key: String,
    params_digest: String,
    task_id: Option<String>,
    first_seq: Option<i64>,
    reply: Option<String>,
    created_at: i64,
    expires_at: i64,
}

impl KeyRow {
    /// Encodes the record of `key`.
    pub(super) fn encode(key: &StoredIdempotencyKey) -> Result<Self, StoreError> {
        let (task_id, first_seq, reply) = match &key.outcome {
            IdempotentOutcome::Task { task_id, first_seq } => (Some(task_id.clone()), Some(*first_seq), None),
            IdempotentOutcome::Reply(message) => (None, None, Some(json_text(message)?)),
        };
        Ok(Self {
            tenant: key.scope.tenant.clone(),
            owner: key.scope.owner.clone(),
            agent: key.scope.agent.clone(),
            key: key.key.clone(),
            params_digest: key.params_digest.clone(),
            task_id,
            first_seq,
            reply,
            created_at: rows::millis(key.created_at),
            expires_at: rows::millis(key.expires_at),
        })
    }

    /// Records the key in a transaction of the caller's (an expired record of it is replaced).
    pub(super) async fn record_sqlx(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        sqlx::query(DELETE_EXPIRED_KEY)
            .bind(self.tenant.as_str())
            .bind(self.owner.as_str())
            .bind(self.agent.as_str())
            .bind(self.key.as_str())
            .bind(self.created_at)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        sqlx::query(INSERT_KEY)
            .bind(self.tenant.as_str())
            .bind(self.owner.as_str())
            .bind(self.agent.as_str())
            .bind(self.key.as_str())
            .bind(self.params_digest.as_str())
            .bind(self.task_id.as_deref())
            .bind(self.first_seq)
            .bind(self.reply.as_deref())
            .bind(self.created_at)
            .bind(self.expires_at)
            .execute(&mut *conn)
            .await
            .map_err(|error| db_error_unique(error, KEY_PATH))?;
        Ok(())
    }

    /// Records the key on the SQLite group writer's connection, inside its transaction.
    pub(super) fn record_sqlite(&self, conn: &rusqlite::Connection) -> Result<(), StoreError> {
        let mut delete = conn.prepare_cached(DELETE_EXPIRED_KEY).map_err(sqlite_error)?;
        delete
            .execute(params![self.tenant, self.owner, self.agent, self.key, self.created_at])
            .map_err(sqlite_error)?;
        let mut insert = conn.prepare_cached(INSERT_KEY).map_err(sqlite_error)?;
        insert
            .execute(params![
                self.tenant,
                self.owner,
                self.agent,
                self.key,
                self.params_digest,
                self.task_id,
                self.first_seq,
                self.reply,
                self.created_at,
                self.expires_at
            ])
            .map_err(|error| sqlite_error_unique(error, KEY_PATH))?;
        Ok(())
    }
}

/// Records a key and its outcome in a transaction of the caller's.
pub(super) async fn record(conn: &mut AnyConnection, key: &StoredIdempotencyKey) -> Result<(), StoreError> {
    KeyRow::encode(key)?.record_sqlx(conn).await
}

/// Records a key on its own (a direct reply, which writes nothing else).
pub(super) async fn put(store: &SqlStore, key: &StoredIdempotencyKey) -> Result<(), StoreError> {
    let mut tx = store.begin_write().await?;
    record(&mut tx, key).await?;
    tx.commit().await.map_err(db_error)
}

/// The scope's record of `key`, unless it expired by `now`.
pub(super) async fn find(
    store: &SqlStore,
    scope: &AgentTaskScope,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Option<StoredIdempotencyKey>, StoreError> {
    let row = sqlx::query(
        "SELECT params_digest, task_id, first_seq, reply, created_at, expires_at FROM a2a_idempotency_keys \
         WHERE tenant = $1 AND owner = $2 AND agent = $3 AND idempotency_key = $4 AND expires_at > $5",
    )
    .bind(scope.tenant.as_str())
    .bind(scope.owner.as_str())
    .bind(scope.agent.as_str())
    .bind(key)
    .bind(rows::millis(now))
    .fetch_optional(&store.pool)
    .await
    .map_err(db_error)?;
    row.map(|row| key_row(&row, scope, key)).transpose()
}

/// Deletes every key expired by `now`; how many.
pub(super) async fn purge_expired(store: &SqlStore, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let mut tx = store.begin_write().await?;
    let deleted = sqlx::query("DELETE FROM a2a_idempotency_keys WHERE expires_at <= $1")
        .bind(rows::millis(now))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(deleted.rows_affected())
}

fn key_row(row: &AnyRow, scope: &AgentTaskScope, key: &str) -> Result<StoredIdempotencyKey, StoreError> {
    let corrupt = |error: String| StoreError::Corrupt(format!("a2a_idempotency_keys: {error}"));
    let task_id: Option<String> = row.try_get("task_id").map_err(|e| corrupt(e.to_string()))?;
    let first_seq: Option<i64> = row.try_get("first_seq").map_err(|e| corrupt(e.to_string()))?;
    let reply: Option<String> = row.try_get("reply").map_err(|e| corrupt(e.to_string()))?;
    let outcome = match (task_id, reply) {
        (Some(task_id), _) => IdempotentOutcome::Task { task_id, first_seq: first_seq.unwrap_or(1) },
        (None, Some(reply)) => {
            IdempotentOutcome::Reply(serde_json::from_str(&reply).map_err(|e| corrupt(e.to_string()))?)
        }
        (None, None) => return Err(corrupt("a key with neither a task nor a reply".into())),
    };
    Ok(StoredIdempotencyKey {
        scope: scope.clone(),
        key: key.to_owned(),
        params_digest: row.try_get("params_digest").map_err(|e| corrupt(e.to_string()))?,
        outcome,
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
    })
}

fn time(row: &AnyRow, column: &str) -> Result<DateTime<Utc>, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt(format!("a2a_idempotency_keys.{column}: {detail}"));
    let millis: i64 = row.try_get(column).map_err(|e| corrupt(e.to_string()))?;
    DateTime::from_timestamp_millis(millis).ok_or_else(|| corrupt(millis.to_string()))
}

fn json_text(value: &serde_json::Value) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(format!("unserializable JSON: {e}")))
}
