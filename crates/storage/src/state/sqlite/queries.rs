//! The SQL of every operation, run by the store's threads on their connections.
//!
//! Each statement is prepared once per connection and then taken from the
//! connection's statement cache. Commits run inside the writer's transaction
//! (see `worker`); the other operations open a transaction of their own.

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::SqliteFile;
use super::worker::WorkerError;
use crate::sql::{SQLITE_PRAGMAS, SQLITE_TRANSIENT};
use crate::state::{
    CommitOutcome, CommitRequest, HistoryEntry, RoomKey, StateError, StateOptions, StoredState, time_from_millis,
};

/// Room of the statement cache: more than the distinct statements of this
/// module, so that none is ever evicted and prepared again.
const CACHED_STATEMENTS: usize = 64;

/// A room as its key columns are stored.
#[derive(Debug, Clone)]
pub(super) struct Room {
    workspace: String,
    user: String,
}

impl Room {
    /// The stored key of a room.
    pub(super) fn of(room: &RoomKey) -> Self {
        Self { workspace: room.workspace_id.to_string(), user: room.user_id.clone() }
    }
}

/// A validated commit request, its JSON already encoded for storage.
#[derive(Debug)]
pub(super) struct Commit {
    room: Room,
    expected: Option<(String, u64)>,
    op_key: Option<String>,
    document: Vec<u8>,
    ops: String,
    written_paths: String,
    new_epoch: Option<String>,
}

impl Commit {
    /// Encodes a request (validated by the caller).
    pub(super) fn new(room: &RoomKey, request: CommitRequest) -> Result<Self, StateError> {
        let encode_error = |error: serde_json::Error| StateError::Backend(Box::new(error));
        Ok(Self {
            room: Room::of(room),
            ops: serde_json::to_string(&request.ops).map_err(encode_error)?,
            written_paths: serde_json::to_string(&request.written_paths).map_err(encode_error)?,
            expected: request.expected,
            op_key: request.op_key,
            document: request.document,
            new_epoch: request.new_epoch,
        })
    }
}

/// Sorts a SQLite failure into "retry later" (busy, locked, I/O, disk full,
/// cannot open: the codes the records store treats as transient), "stored
/// data cannot be read back", and anything else.
pub(super) fn sql_error(error: rusqlite::Error) -> StateError {
    match &error {
        rusqlite::Error::SqliteFailure(failure, _) if SQLITE_TRANSIENT.contains(&(failure.extended_code & 0xff)) => {
            StateError::Unavailable(Box::new(error))
        }
        rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::IntegralValueOutOfRange(..)
        | rusqlite::Error::Utf8Error(..) => StateError::Corrupt(format!("stored state: {error}")),
        _ => StateError::Backend(Box::new(error)),
    }
}

/// Reads back a stored version.
fn version_of(value: i64) -> Result<u64, StateError> {
    u64::try_from(value).map_err(|_| StateError::Corrupt(format!("negative version {value}")))
}

/// Converts a version for storage; versions beyond `i64` cannot occur in practice.
fn stored_version(value: u64) -> Result<i64, StateError> {
    i64::try_from(value).map_err(|_| StateError::Corrupt(format!("version {value} out of range")))
}

/// Opens a connection with the records store's pragmas (busy timeout first,
/// WAL, foreign keys, `synchronous = NORMAL`); `query_only` for the reader. The
/// file must exist: the records store created it and ran the migrations.
pub(super) fn open(file: &SqliteFile, query_only: bool) -> Result<Connection, StateError> {
    let (path, read_only) = match file {
        SqliteFile::Path { path, read_only } => (path, *read_only),
        SqliteFile::Unsupported(reason) => return Err(StateError::Backend(Box::new(WorkerError::Unsupported(reason)))),
    };
    let access = if read_only { OpenFlags::SQLITE_OPEN_READ_ONLY } else { OpenFlags::SQLITE_OPEN_READ_WRITE };
    // No mutex: only the thread that opened it ever uses the connection.
    let conn = Connection::open_with_flags(path, access | OpenFlags::SQLITE_OPEN_NO_MUTEX).map_err(sql_error)?;
    conn.execute_batch(SQLITE_PRAGMAS).map_err(sql_error)?;
    if query_only {
        conn.execute_batch("PRAGMA query_only = ON").map_err(sql_error)?;
    }
    conn.set_prepared_statement_cache_capacity(CACHED_STATEMENTS);
    Ok(conn)
}

/// Runs a statement without results (transaction control, writes); returns the changed rows.
pub(super) fn execute(conn: &Connection, sql: &str, values: impl rusqlite::Params) -> Result<usize, StateError> {
    conn.prepare_cached(sql).and_then(|mut statement| statement.execute(values)).map_err(sql_error)
}

/// Ends a failed transaction, if SQLite has not ended it already. Should the
/// rollback itself fail, the thread notices that the connection is still in a
/// transaction and replaces it.
pub(super) fn rollback(conn: &Connection) {
    if !conn.is_autocommit()
        && let Err(error) = conn.execute_batch("ROLLBACK")
    {
        tracing::warn!(%error, "rolling back a state transaction failed");
    }
}

/// Runs `body` in a transaction begun with `begin`, committed if it succeeds.
fn in_transaction<T>(
    conn: &Connection,
    begin: &str,
    body: impl FnOnce(&Connection) -> Result<T, StateError>,
) -> Result<T, StateError> {
    execute(conn, begin, [])?;
    let result = body(conn).and_then(|value| execute(conn, "COMMIT", []).map(|_| value));
    if result.is_err() {
        rollback(conn);
    }
    result
}

/// The room's stored `(epoch, version, expires_at)`, expired or not.
fn current_row(conn: &Connection, room: &Room) -> Result<Option<(String, i64, i64)>, StateError> {
    conn.prepare_cached(
        "SELECT epoch, version, expires_at FROM dashboard_states WHERE workspace_id = ?1 AND user_id = ?2",
    )
    .and_then(|mut statement| {
        statement
            .query_row(params![room.workspace, room.user], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .optional()
    })
    .map_err(sql_error)
}

/// Deletes the room's history and op keys (a new epoch, or an expired or deleted room).
fn clear_log(conn: &Connection, room: &Room) -> Result<(), StateError> {
    for sql in [
        "DELETE FROM dashboard_history WHERE workspace_id = ?1 AND user_id = ?2",
        "DELETE FROM dashboard_ops WHERE workspace_id = ?1 AND user_id = ?2",
    ] {
        execute(conn, sql, params![room.workspace, room.user])?;
    }
    Ok(())
}

/// Deletes the room's state row; tells whether there was one.
fn delete_state(conn: &Connection, room: &Room) -> Result<bool, StateError> {
    let deleted = execute(
        conn,
        "DELETE FROM dashboard_states WHERE workspace_id = ?1 AND user_id = ?2",
        params![room.workspace, room.user],
    )?;
    Ok(deleted > 0)
}

/// Commits between two trims of a room's history and op keys. Rows past
/// their window are invisible before they are trimmed (reads and the op key
/// lookup bound themselves by version), so trimming every commit would only
/// rewrite the oldest pages of both tables that much more often.
const TRIM_EVERY: i64 = 32;

/// Longest a room's stored expiry may lag behind its TTL, at most: the expiry
/// is written (with its index entry) only when it would fall short of
/// `now + ttl`, and then set that much further out, so a room written every
/// second does not rewrite an index page each time. A room thus lives at
/// least its TTL after its last write and at most this much longer.
const MAX_EXPIRY_SLACK_MILLIS: i64 = 60 * 60 * 1000;

/// How far beyond `now + ttl` an expiry is set when it is written: a 64th of
/// the TTL, at most [`MAX_EXPIRY_SLACK_MILLIS`].
fn expiry_slack(ttl_millis: i64) -> i64 {
    (ttl_millis / 64).min(MAX_EXPIRY_SLACK_MILLIS)
}

/// A live room as a commit finds it.
struct Current {
    epoch: String,
    version: u64,
    expires_at: i64,
}

/// One commit, inside the writer's transaction. It writes nothing unless it
/// returns `Committed` (an expired room it finds is removed either way: it
/// reads as absent already). After an `Err` the caller must roll back: the
/// commit may be half-written.
pub(super) fn commit(
    conn: &Connection,
    options: &StateOptions,
    commit: &Commit,
    now: i64,
) -> Result<CommitOutcome, StateError> {
    let room = &commit.room;
    let current = live_room(conn, room, now)?;
    // Idempotency first: a known op key answers with its first result, whatever
    // the room's version now, as long as it is within the window.
    if let (Some(op_key), Some(current)) = (&commit.op_key, &current)
        && let Some(duplicate) = committed_before(conn, options, room, op_key, current.version)?
    {
        return Ok(duplicate);
    }
    let matches = match (&commit.expected, &current) {
        (None, None) => true,
        (Some((expected_epoch, expected_version)), Some(current)) => {
            *expected_epoch == current.epoch && *expected_version == current.version
        }
        _ => false,
    };
    if !matches {
        return Ok(CommitOutcome::VersionMismatch { current: current.map(|c| (c.epoch, c.version)) });
    }
    let (epoch, version) = match (&commit.new_epoch, &current) {
        (Some(new_epoch), _) => {
            clear_log(conn, room)?;
            (new_epoch.clone(), 1)
        }
        (None, Some(current)) => (current.epoch.clone(), current.version + 1),
        (None, None) => return Err(StateError::Invalid("the first commit of a room must start an epoch")),
    };
    let stored = stored_version(version)?;
    write_state(conn, options, commit, current.as_ref(), &epoch, stored, now)?;
    write_log(conn, commit, &epoch, stored, now)?;
    if stored % TRIM_EVERY == 0 {
        trim_log(conn, options, room, stored)?;
    }
    Ok(CommitOutcome::Committed { epoch, version })
}

/// The room unless it is absent or expired. An expired room not purged yet
/// is removed here: it is gone for the caller, so its log must not leak into
/// the room that replaces it.
fn live_room(conn: &Connection, room: &Room, now: i64) -> Result<Option<Current>, StateError> {
    match current_row(conn, room)? {
        Some((epoch, version, expires_at)) if expires_at > now => {
            Ok(Some(Current { epoch, version: version_of(version)?, expires_at }))
        }
        Some(_) => {
            clear_log(conn, room)?;
            delete_state(conn, room)?;
            Ok(None)
        }
        None => Ok(None),
    }
}

/// The first result of `op_key` if it was committed within the op key window
/// below the room's `version`.
fn committed_before(
    conn: &Connection,
    options: &StateOptions,
    room: &Room,
    op_key: &str,
    version: u64,
) -> Result<Option<CommitOutcome>, StateError> {
    let oldest_kept = stored_version(version)?.saturating_sub(stored_version(options.effective_op_window())?);
    let seen: Option<(String, i64)> = conn
        .prepare_cached(
            "SELECT epoch, version FROM dashboard_ops \
             WHERE workspace_id = ?1 AND user_id = ?2 AND op_key = ?3 AND version > ?4",
        )
        .and_then(|mut statement| {
            statement
                .query_row(params![room.workspace, room.user, op_key, oldest_kept], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()
        })
        .map_err(sql_error)?;
    seen.map(|(epoch, version)| Ok(CommitOutcome::Duplicate { epoch, version: version_of(version)? })).transpose()
}

/// Writes the room's state row at `version` of `epoch`, and its expiry when
/// it is new or would fall short of the TTL.
fn write_state(
    conn: &Connection,
    options: &StateOptions,
    commit: &Commit,
    current: Option<&Current>,
    epoch: &str,
    version: i64,
    now: i64,
) -> Result<(), StateError> {
    let room = &commit.room;
    let ttl = options.ttl_millis();
    let due_expiry = now.saturating_add(ttl);
    let new_expiry = due_expiry.saturating_add(expiry_slack(ttl));
    let Some(current) = current else {
        execute(
            conn,
            "INSERT INTO dashboard_states (workspace_id, user_id, epoch, version, document, updated_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![room.workspace, room.user, epoch, version, commit.document, now, new_expiry],
        )?;
        return Ok(());
    };
    // The expiry is left out: it is indexed, and rewritten below only when due.
    execute(
        conn,
        "UPDATE dashboard_states SET epoch = ?3, version = ?4, document = ?5, updated_at = ?6 \
         WHERE workspace_id = ?1 AND user_id = ?2",
        params![room.workspace, room.user, epoch, version, commit.document, now],
    )?;
    if current.expires_at < due_expiry {
        execute(
            conn,
            "UPDATE dashboard_states SET expires_at = ?3 WHERE workspace_id = ?1 AND user_id = ?2",
            params![room.workspace, room.user, new_expiry],
        )?;
    }
    Ok(())
}

/// Appends the commit's history entry and remembers its op key.
fn write_log(conn: &Connection, commit: &Commit, epoch: &str, version: i64, now: i64) -> Result<(), StateError> {
    let room = &commit.room;
    execute(
        conn,
        "INSERT INTO dashboard_history (workspace_id, user_id, version, op_key, ops, written_paths, at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![room.workspace, room.user, version, commit.op_key, commit.ops, commit.written_paths, now],
    )?;
    if let Some(op_key) = &commit.op_key {
        execute(
            conn,
            "INSERT INTO dashboard_ops (workspace_id, user_id, op_key, epoch, version, at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (workspace_id, user_id, op_key) DO UPDATE SET epoch = excluded.epoch, \
             version = excluded.version, at = excluded.at",
            params![room.workspace, room.user, op_key, epoch, version, now],
        )?;
    }
    Ok(())
}

/// Drops what fell out of the last `history_len` versions and the op key window.
fn trim_log(conn: &Connection, options: &StateOptions, room: &Room, version: i64) -> Result<(), StateError> {
    let keep_history = version.saturating_sub(stored_version(options.effective_history_len())?);
    let keep_ops = version.saturating_sub(stored_version(options.effective_op_window())?);
    let trims = [
        ("DELETE FROM dashboard_history WHERE workspace_id = ?1 AND user_id = ?2 AND version <= ?3", keep_history),
        ("DELETE FROM dashboard_ops WHERE workspace_id = ?1 AND user_id = ?2 AND version <= ?3", keep_ops),
    ];
    for (sql, below) in trims {
        execute(conn, sql, params![room.workspace, room.user, below])?;
    }
    Ok(())
}

/// The room's state, unless it is absent or expired.
pub(super) fn load(conn: &Connection, room: &Room, now: i64) -> Result<Option<StoredState>, StateError> {
    let row: Option<(String, i64, Vec<u8>, i64)> = conn
        .prepare_cached(
            "SELECT epoch, version, document, updated_at FROM dashboard_states \
             WHERE workspace_id = ?1 AND user_id = ?2 AND expires_at > ?3",
        )
        .and_then(|mut statement| {
            statement
                .query_row(params![room.workspace, room.user, now], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                })
                .optional()
        })
        .map_err(sql_error)?;
    row.map(|(epoch, version, document, updated_at)| {
        Ok(StoredState { epoch, version: version_of(version)?, document, updated_at: time_from_millis(updated_at)? })
    })
    .transpose()
}

/// One history row as stored: version, op key, ops, written paths, time.
type HistoryRow = (i64, Option<String>, String, String, i64);

/// Decodes one history row.
fn history_entry((version, op_key, ops, paths, at): HistoryRow) -> Result<HistoryEntry, StateError> {
    Ok(HistoryEntry {
        version: version_of(version)?,
        op_key,
        ops: serde_json::from_str(&ops).map_err(|error| StateError::Corrupt(format!("history ops: {error}")))?,
        written_paths: serde_json::from_str(&paths)
            .map_err(|error| StateError::Corrupt(format!("history paths: {error}")))?,
        at: time_from_millis(at)?,
    })
}

/// The changes after `version` of `epoch`, all of them up to the current
/// version or `None`; read in one transaction, so version and entries agree.
pub(super) fn history_after(
    conn: &Connection,
    options: &StateOptions,
    room: &Room,
    epoch: &str,
    version: u64,
    now: i64,
) -> Result<Option<Vec<HistoryEntry>>, StateError> {
    in_transaction(conn, "BEGIN DEFERRED", |conn| {
        let Some((stored_epoch, current, expires_at)) = current_row(conn, room)? else {
            return Ok(None);
        };
        let current = version_of(current)?;
        if expires_at <= now
            || stored_epoch != epoch
            || version > current
            || current - version > options.effective_history_len()
        {
            return Ok(None);
        }
        let after = stored_version(version)?;
        let rows: Vec<HistoryRow> = conn
            .prepare_cached(
                "SELECT version, op_key, ops, written_paths, at FROM dashboard_history \
                 WHERE workspace_id = ?1 AND user_id = ?2 AND version > ?3 ORDER BY version",
            )
            .and_then(|mut statement| {
                statement
                    .query_map(params![room.workspace, room.user, after], |row| {
                        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
                    })?
                    .collect()
            })
            .map_err(sql_error)?;
        let entries = rows.into_iter().map(history_entry).collect::<Result<Vec<_>, _>>()?;
        // Never a partial recovery: every version up to the current one, or none.
        let complete = entries.len() as u64 == current - version
            && entries.iter().zip(version + 1..).all(|(entry, expected)| entry.version == expected);
        Ok(complete.then_some(entries))
    })
}

/// Removes the room with its log; tells whether it existed (and had not expired).
pub(super) fn delete(conn: &Connection, room: &Room, now: i64) -> Result<bool, StateError> {
    in_transaction(conn, "BEGIN IMMEDIATE", |conn| {
        let existed = current_row(conn, room)?.is_some_and(|(_, _, expires_at)| expires_at > now);
        clear_log(conn, room)?;
        delete_state(conn, room)?;
        Ok(existed)
    })
}

/// Removes every expired room with its log; returns how many rooms.
pub(super) fn purge_expired(conn: &Connection, now: i64) -> Result<u64, StateError> {
    in_transaction(conn, "BEGIN IMMEDIATE", |conn| {
        for sql in [
            "DELETE FROM dashboard_history WHERE EXISTS (SELECT 1 FROM dashboard_states s \
             WHERE s.workspace_id = dashboard_history.workspace_id AND s.user_id = dashboard_history.user_id \
             AND s.expires_at <= ?1)",
            "DELETE FROM dashboard_ops WHERE EXISTS (SELECT 1 FROM dashboard_states s \
             WHERE s.workspace_id = dashboard_ops.workspace_id AND s.user_id = dashboard_ops.user_id \
             AND s.expires_at <= ?1)",
        ] {
            execute(conn, sql, params![now])?;
        }
        let purged = execute(conn, "DELETE FROM dashboard_states WHERE expires_at <= ?1", params![now])?;
        Ok(u64::try_from(purged).unwrap_or(u64::MAX))
    })
}

/// Checks that the connection answers.
pub(super) fn ping(conn: &Connection) -> Result<(), StateError> {
    conn.prepare_cached("SELECT 1").and_then(|mut statement| statement.query_row([], |_| Ok(()))).map_err(sql_error)
}
