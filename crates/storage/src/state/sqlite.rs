//! The embedded-mode state store: three tables in the records' SQLite file.
//!
//! It shares the records store's pool (and so its pragmas: WAL, busy timeout).
//! Every commit is one `BEGIN IMMEDIATE` transaction: the write lock is taken
//! before the version is read, so the check and the write cannot interleave with
//! another commit, and a failure anywhere rolls back everything of the commit.
//! Expired rooms read as absent at once; [`StateStore::purge_expired`] removes
//! their rows later.

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, AnyPool, Row, Transaction};

use super::{
    CommitOutcome, CommitRequest, HistoryEntry, RoomKey, StateError, StateOptions, StateStore, StoredState, now_millis,
    time_from_millis,
};
use crate::sql::{is_transient, sqlite_begin_read, sqlite_begin_write};

/// Dashboard state in the embedded SQLite database.
pub struct SqliteStateStore {
    pool: AnyPool,
    options: StateOptions,
}

impl SqliteStateStore {
    /// A state store on the records store's pool (migrations must have run).
    pub(crate) fn new(pool: AnyPool, options: StateOptions) -> Self {
        Self { pool, options }
    }
}

/// Sorts a database failure into "retry later" and anything else.
fn sql_error(error: sqlx::Error) -> StateError {
    if is_transient(&error) { StateError::Unavailable(Box::new(error)) } else { StateError::Backend(Box::new(error)) }
}

/// Reads back a stored version.
fn version_of(value: i64) -> Result<u64, StateError> {
    u64::try_from(value).map_err(|_| StateError::Corrupt(format!("negative version {value}")))
}

/// Converts a version for storage; versions beyond `i64` cannot occur in practice.
fn stored_version(value: u64) -> Result<i64, StateError> {
    i64::try_from(value).map_err(|_| StateError::Corrupt(format!("version {value} out of range")))
}

/// The room's stored `(epoch, version, expires_at)`, expired or not.
async fn current_row(conn: &mut AnyConnection, room: &RoomKey) -> Result<Option<(String, i64, i64)>, StateError> {
    sqlx::query_as("SELECT epoch, version, expires_at FROM dashboard_states WHERE workspace_id = $1 AND user_id = $2")
        .bind(room.workspace_id.to_string())
        .bind(room.user_id.as_str())
        .fetch_optional(conn)
        .await
        .map_err(sql_error)
}

/// Deletes the room's history and op keys (a new epoch, or an expired room).
async fn clear_log(conn: &mut AnyConnection, room: &RoomKey) -> Result<(), StateError> {
    for sql in [
        "DELETE FROM dashboard_history WHERE workspace_id = $1 AND user_id = $2",
        "DELETE FROM dashboard_ops WHERE workspace_id = $1 AND user_id = $2",
    ] {
        sqlx::query(sql)
            .bind(room.workspace_id.to_string())
            .bind(room.user_id.as_str())
            .execute(&mut *conn)
            .await
            .map_err(sql_error)?;
    }
    Ok(())
}

/// Decodes one history row.
fn history_entry(row: &AnyRow) -> Result<HistoryEntry, StateError> {
    let corrupt = |error: sqlx::Error| StateError::Corrupt(format!("history row: {error}"));
    let version: i64 = row.try_get("version").map_err(corrupt)?;
    let op_key: Option<String> = row.try_get("op_key").map_err(corrupt)?;
    let ops: String = row.try_get("ops").map_err(corrupt)?;
    let paths: String = row.try_get("written_paths").map_err(corrupt)?;
    let at: i64 = row.try_get("at").map_err(corrupt)?;
    Ok(HistoryEntry {
        version: version_of(version)?,
        op_key,
        ops: serde_json::from_str(&ops).map_err(|error| StateError::Corrupt(format!("history ops: {error}")))?,
        written_paths: serde_json::from_str(&paths)
            .map_err(|error| StateError::Corrupt(format!("history paths: {error}")))?,
        at: time_from_millis(at)?,
    })
}

impl SqliteStateStore {
    /// The commit itself, inside the caller's write transaction.
    async fn commit_in(
        &self,
        tx: &mut Transaction<'static, Any>,
        room: &RoomKey,
        request: &CommitRequest,
        now: i64,
    ) -> Result<CommitOutcome, StateError> {
        let workspace = room.workspace_id.to_string();
        let user = room.user_id.as_str();
        let current = match current_row(tx, room).await? {
            Some((epoch, version, expires_at)) if expires_at > now => Some((epoch, version_of(version)?)),
            Some(_) => {
                // Expired but not purged yet: it is gone for the caller, so its
                // log must not leak into the room that replaces it.
                clear_log(tx, room).await?;
                sqlx::query("DELETE FROM dashboard_states WHERE workspace_id = $1 AND user_id = $2")
                    .bind(&workspace)
                    .bind(user)
                    .execute(&mut **tx)
                    .await
                    .map_err(sql_error)?;
                None
            }
            None => None,
        };

        if let (Some(op_key), Some(_)) = (&request.op_key, &current) {
            let seen: Option<(String, i64)> = sqlx::query_as(
                "SELECT epoch, version FROM dashboard_ops WHERE workspace_id = $1 AND user_id = $2 AND op_key = $3",
            )
            .bind(&workspace)
            .bind(user)
            .bind(op_key.as_str())
            .fetch_optional(&mut **tx)
            .await
            .map_err(sql_error)?;
            if let Some((epoch, version)) = seen {
                return Ok(CommitOutcome::Duplicate { epoch, version: version_of(version)? });
            }
        }

        let matches = match (&request.expected, &current) {
            (None, None) => true,
            (Some(expected), Some(current)) => expected == current,
            _ => false,
        };
        if !matches {
            return Ok(CommitOutcome::VersionMismatch { current });
        }

        let (epoch, version) = match (&request.new_epoch, current) {
            (Some(new_epoch), _) => {
                clear_log(tx, room).await?;
                (new_epoch.clone(), 1)
            }
            (None, Some((epoch, version))) => (epoch, version + 1),
            (None, None) => return Err(StateError::Invalid("the first commit of a room must start an epoch")),
        };
        let stored = stored_version(version)?;
        let expires_at = now.saturating_add(self.options.ttl_millis());
        let ops = serde_json::to_string(&request.ops).map_err(|error| StateError::Backend(Box::new(error)))?;
        let paths =
            serde_json::to_string(&request.written_paths).map_err(|error| StateError::Backend(Box::new(error)))?;

        sqlx::query(
            "INSERT INTO dashboard_states (workspace_id, user_id, epoch, version, document, updated_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (workspace_id, user_id) DO UPDATE SET epoch = excluded.epoch, version = excluded.version, \
             document = excluded.document, updated_at = excluded.updated_at, expires_at = excluded.expires_at",
        )
        .bind(&workspace)
        .bind(user)
        .bind(epoch.as_str())
        .bind(stored)
        .bind(request.document.as_slice())
        .bind(now)
        .bind(expires_at)
        .execute(&mut **tx)
        .await
        .map_err(sql_error)?;

        sqlx::query(
            "INSERT INTO dashboard_history (workspace_id, user_id, version, op_key, ops, written_paths, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&workspace)
        .bind(user)
        .bind(stored)
        .bind(request.op_key.as_deref())
        .bind(ops)
        .bind(paths)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(sql_error)?;

        if let Some(op_key) = &request.op_key {
            sqlx::query(
                "INSERT INTO dashboard_ops (workspace_id, user_id, op_key, epoch, version, at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (workspace_id, user_id, op_key) DO UPDATE SET epoch = excluded.epoch, \
                 version = excluded.version, at = excluded.at",
            )
            .bind(&workspace)
            .bind(user)
            .bind(op_key.as_str())
            .bind(epoch.as_str())
            .bind(stored)
            .bind(now)
            .execute(&mut **tx)
            .await
            .map_err(sql_error)?;
        }

        // Keep the last `history_len` versions and the op keys of the window.
        let keep_history = stored.saturating_sub(stored_version(self.options.effective_history_len())?);
        let keep_ops = stored.saturating_sub(stored_version(self.options.effective_op_window())?);
        let trims = [
            ("DELETE FROM dashboard_history WHERE workspace_id = $1 AND user_id = $2 AND version <= $3", keep_history),
            ("DELETE FROM dashboard_ops WHERE workspace_id = $1 AND user_id = $2 AND version <= $3", keep_ops),
        ];
        for (sql, below) in trims {
            sqlx::query(sql).bind(&workspace).bind(user).bind(below).execute(&mut **tx).await.map_err(sql_error)?;
        }
        Ok(CommitOutcome::Committed { epoch, version })
    }
}

#[async_trait]
impl StateStore for SqliteStateStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn load(&self, room: &RoomKey) -> Result<Option<StoredState>, StateError> {
        let row: Option<(String, i64, Vec<u8>, i64)> = sqlx::query_as(
            "SELECT epoch, version, document, updated_at FROM dashboard_states \
             WHERE workspace_id = $1 AND user_id = $2 AND expires_at > $3",
        )
        .bind(room.workspace_id.to_string())
        .bind(room.user_id.as_str())
        .bind(now_millis())
        .fetch_optional(&self.pool)
        .await
        .map_err(sql_error)?;
        row.map(|(epoch, version, document, updated_at)| {
            Ok(StoredState {
                epoch,
                version: version_of(version)?,
                document,
                updated_at: time_from_millis(updated_at)?,
            })
        })
        .transpose()
    }

    async fn commit(&self, room: &RoomKey, request: CommitRequest) -> Result<CommitOutcome, StateError> {
        request.validate()?;
        let mut tx = sqlite_begin_write(&self.pool).await.map_err(sql_error)?;
        // Outcomes that write nothing roll back (by dropping the transaction).
        let outcome = self.commit_in(&mut tx, room, &request, now_millis()).await?;
        if matches!(outcome, CommitOutcome::Committed { .. }) {
            tx.commit().await.map_err(sql_error)?;
        }
        Ok(outcome)
    }

    async fn history_after(
        &self,
        room: &RoomKey,
        epoch: &str,
        version: u64,
    ) -> Result<Option<Vec<HistoryEntry>>, StateError> {
        // One snapshot for the version and the entries, so they agree.
        let mut tx = sqlite_begin_read(&self.pool).await.map_err(sql_error)?;
        let Some((stored_epoch, current, expires_at)) = current_row(&mut tx, room).await? else {
            return Ok(None);
        };
        let current = version_of(current)?;
        if expires_at <= now_millis()
            || stored_epoch != epoch
            || version > current
            || current - version > self.options.effective_history_len()
        {
            return Ok(None);
        }
        let rows = sqlx::query(
            "SELECT version, op_key, ops, written_paths, at FROM dashboard_history \
             WHERE workspace_id = $1 AND user_id = $2 AND version > $3 ORDER BY version",
        )
        .bind(room.workspace_id.to_string())
        .bind(room.user_id.as_str())
        .bind(stored_version(version)?)
        .fetch_all(&mut *tx)
        .await
        .map_err(sql_error)?;
        let entries = rows.iter().map(history_entry).collect::<Result<Vec<_>, _>>()?;
        // Never a partial recovery: every version up to the current one, or none.
        let complete = entries.len() as u64 == current - version
            && entries.iter().zip(version + 1..).all(|(entry, expected)| entry.version == expected);
        Ok(complete.then_some(entries))
    }

    async fn delete(&self, room: &RoomKey) -> Result<bool, StateError> {
        let mut tx = sqlite_begin_write(&self.pool).await.map_err(sql_error)?;
        let existed = current_row(&mut tx, room).await?.is_some_and(|(_, _, expires_at)| expires_at > now_millis());
        clear_log(&mut tx, room).await?;
        sqlx::query("DELETE FROM dashboard_states WHERE workspace_id = $1 AND user_id = $2")
            .bind(room.workspace_id.to_string())
            .bind(room.user_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(sql_error)?;
        tx.commit().await.map_err(sql_error)?;
        Ok(existed)
    }

    async fn purge_expired(&self) -> Result<u64, StateError> {
        let now = now_millis();
        let mut tx = sqlite_begin_write(&self.pool).await.map_err(sql_error)?;
        for table in ["dashboard_history", "dashboard_ops"] {
            let sql = format!(
                "DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM dashboard_states s \
                 WHERE s.workspace_id = {table}.workspace_id AND s.user_id = {table}.user_id AND s.expires_at <= $1)"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now).execute(&mut *tx).await.map_err(sql_error)?;
        }
        let purged = sqlx::query("DELETE FROM dashboard_states WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(sql_error)?
            .rows_affected();
        tx.commit().await.map_err(sql_error)?;
        Ok(purged)
    }

    async fn ping(&self) -> Result<(), StateError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(sql_error)?;
        Ok(())
    }
}
