//! The dashboard state store: one versioned document per room, with its recent
//! history, behind one interface.
//!
//! A room is one (workspace, user) pair. Its state is an opaque document (the
//! encoded bytes the domain codec produces) identified by `(epoch, version)`:
//! the version is assigned here, +1 per commit, starting at 1 in every epoch,
//! and a commit that starts a new epoch resets it to 1 and forgets the history.
//! Clients never assign versions, so every node and every tab sees one total
//! order of changes per room.
//!
//! [`StateStore`] has two backends:
//!
//! - [`SqliteStateStore`] (embedded mode): tables in the same SQLite file as
//!   the records, written by one thread of the store's own through a rusqlite
//!   connection and read by another; commits that queue up meanwhile share one
//!   `BEGIN IMMEDIATE` transaction (group commit), each in a savepoint of its
//!   own.
//! - [`RedisStateStore`] (cluster mode): a few keys per room sharing one hash
//!   tag, each commit one Lua script, so that the check and the write cannot be
//!   interleaved with another node's commit.
//!
//! # What a commit guarantees
//!
//! 1. **Idempotency first.** A commit whose `op_key` was already committed (and
//!    is still within the idempotency window) applies nothing and returns
//!    [`CommitOutcome::Duplicate`] with the version it got the first time, even
//!    if the room moved on since: a retried write is applied once.
//! 2. **Optimistic check.** `expected` must be the stored `(epoch, version)`, or
//!    `None` when the room does not exist; otherwise nothing is written and
//!    [`CommitOutcome::VersionMismatch`] carries the current version, so the
//!    caller can re-read and rebase (using [`StateStore::history_after`]) or
//!    report a conflict.
//! 3. **All or nothing.** Document, history entry, op key and expiry are written
//!    together or not at all, on any failure.
//!
//! History is kept for the last `history_len` versions, so that a reconnecting
//! client can be sent exactly the deltas it missed, never a partial recovery:
//! [`StateStore::history_after`] answers `None` unless it can return all of them.
//! Rooms expire `ttl` after their last write, as [`StateOptions::clock`] tells
//! the time (tests move a [`StateClock::manual`] clock instead of sleeping).

mod clock;
mod feed;
mod redis;
mod sqlite;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

pub use self::clock::StateClock;
pub use self::feed::{ChangeFeed, RedisChangeFeed, RoomSignal, RoomWatch};
pub use self::redis::RedisStateStore;
pub(crate) use self::sqlite::SqliteFile;
pub use self::sqlite::SqliteStateStore;
pub(crate) use self::sqlite::checkpoint::{Checkpointer, RESTART_FRAMES};
pub(crate) use self::sqlite::priority::{Priority, lower_this_thread};

/// Boxed error source of [`StateError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One room: the dashboard of one user in one workspace.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoomKey {
    /// The workspace.
    pub workspace_id: Uuid,
    /// The user (token subject).
    pub user_id: String,
}

impl RoomKey {
    /// Builds a room key.
    pub fn new(workspace_id: Uuid, user_id: impl Into<String>) -> Self {
        Self { workspace_id, user_id: user_id.into() }
    }
}

/// The current state of a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredState {
    /// The epoch the version counts in.
    pub epoch: String,
    /// The version, 1 for the first commit of the epoch.
    pub version: u64,
    /// The encoded document (opaque to the store).
    pub document: Vec<u8>,
    /// When the last commit happened (millisecond precision).
    pub updated_at: DateTime<Utc>,
}

/// One committed change, as kept in the room's history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    /// The version this change produced.
    pub version: u64,
    /// The idempotency key of the write, if it had one.
    pub op_key: Option<String>,
    /// The JSON Patch that was applied.
    pub ops: Value,
    /// JSON Pointers the change wrote, for the path-disjoint rebase check.
    pub written_paths: Vec<String>,
    /// When it was committed (millisecond precision).
    pub at: DateTime<Utc>,
}

/// A change to commit to a room.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitRequest {
    /// The `(epoch, version)` the change was made against; `None` when the room
    /// must not exist yet (the first write).
    pub expected: Option<(String, u64)>,
    /// Idempotency key, e.g. `"<client>:<op>"`.
    pub op_key: Option<String>,
    /// The whole new document, encoded.
    pub document: Vec<u8>,
    /// The JSON Patch that turns the previous document into this one.
    pub ops: Value,
    /// JSON Pointers the patch writes.
    pub written_paths: Vec<String>,
    /// Starts a new epoch (first write, migration, whole-document PUT); required
    /// when `expected` is `None`.
    pub new_epoch: Option<String>,
}

impl CommitRequest {
    /// Refuses requests no backend could commit consistently.
    fn validate(&self) -> Result<(), StateError> {
        if let Some(epoch) = &self.new_epoch
            && epoch.is_empty()
        {
            return Err(StateError::Invalid("new_epoch is empty"));
        }
        if self.expected.is_none() && self.new_epoch.is_none() {
            return Err(StateError::Invalid("the first commit of a room must start an epoch"));
        }
        if self.op_key.as_deref() == Some("") {
            return Err(StateError::Invalid("op_key is empty"));
        }
        Ok(())
    }
}

/// What became of a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitOutcome {
    /// Applied; the room is now at this version.
    Committed {
        /// The room's epoch.
        epoch: String,
        /// The new version.
        version: u64,
    },
    /// The op key was committed before; nothing was applied. Carries the
    /// version that first commit produced.
    Duplicate {
        /// The epoch of the first commit.
        epoch: String,
        /// The version of the first commit.
        version: u64,
    },
    /// `expected` was not the stored version; nothing was applied.
    VersionMismatch {
        /// The stored `(epoch, version)`, `None` when the room does not exist.
        current: Option<(String, u64)>,
    },
}

/// Why a state store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The backend cannot be reached or did not answer in time; retry later.
    #[error("state store unavailable")]
    Unavailable(#[source] BoxError),
    /// Stored data could not be read back (a bug or a corrupted value).
    #[error("stored state is invalid: {0}")]
    Corrupt(String),
    /// The request breaks the store's contract (a bug of the caller).
    #[error("invalid state request: {0}")]
    Invalid(&'static str),
    /// Any other backend failure.
    #[error("state store error")]
    Backend(#[source] BoxError),
}

/// Limits and lifetimes of a state store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateOptions {
    /// How many versions of history a room keeps.
    pub history_len: u64,
    /// For how many versions op keys are remembered; never less than
    /// `history_len` (see [`StateOptions::effective_op_window`]).
    pub op_key_window: u64,
    /// How long a room lives after its last write.
    pub ttl: Duration,
    /// Longest wait for one call to a remote backend (Redis).
    pub timeout: Duration,
    /// Where the store reads the time (tests move a manual clock past a TTL).
    pub clock: StateClock,
}

impl Default for StateOptions {
    fn default() -> Self {
        Self {
            history_len: 256,
            op_key_window: 1024,
            ttl: Duration::from_secs(30 * 24 * 60 * 60),
            timeout: Duration::from_secs(2),
            clock: StateClock::system(),
        }
    }
}

impl StateOptions {
    /// The op key window actually applied: a retry must be recognized for at
    /// least as long as its change could still be replayed from history.
    pub fn effective_op_window(&self) -> u64 {
        self.op_key_window.max(self.history_len)
    }

    /// The history length actually applied: at least one entry.
    fn effective_history_len(&self) -> u64 {
        self.history_len.max(1)
    }

    /// The TTL in milliseconds, at least 1.
    fn ttl_millis(&self) -> i64 {
        i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX).max(1)
    }
}

/// The dashboard state of every room.
///
/// See the [module documentation](self) for what a commit guarantees.
#[async_trait]
pub trait StateStore: Send + Sync + 'static {
    /// Short name of the backend, for logs and `/ready`.
    fn backend(&self) -> &'static str;

    /// Reads the room's state; `None` when it does not exist or has expired.
    async fn load(&self, room: &RoomKey) -> Result<Option<StoredState>, StateError>;

    /// Commits a change (see the module documentation for the checks).
    async fn commit(&self, room: &RoomKey, request: CommitRequest) -> Result<CommitOutcome, StateError>;

    /// The changes after `version`, oldest first, if `epoch` is the room's and
    /// the history still holds every one of them up to the current version;
    /// `None` otherwise (the caller sends a snapshot instead).
    async fn history_after(
        &self,
        room: &RoomKey,
        epoch: &str,
        version: u64,
    ) -> Result<Option<Vec<HistoryEntry>>, StateError>;

    /// Removes the room with its history; tells whether it existed.
    async fn delete(&self, room: &RoomKey) -> Result<bool, StateError>;

    /// Removes expired rooms where the backend does not do it by itself;
    /// returns how many were removed.
    async fn purge_expired(&self) -> Result<u64, StateError>;

    /// Checks that the backend answers.
    async fn ping(&self) -> Result<(), StateError>;
}

/// A fresh random epoch (the domain's definition, re-exported for callers of the store).
pub use agentdeck_domain::dashboard::version::new_epoch;

/// Reads back a stored millisecond time.
fn time_from_millis(millis: i64) -> Result<DateTime<Utc>, StateError> {
    DateTime::from_timestamp_millis(millis).ok_or_else(|| StateError::Corrupt(format!("time out of range: {millis}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_without_an_epoch_for_a_new_room_are_invalid() {
        let request = CommitRequest {
            expected: None,
            op_key: None,
            document: vec![],
            ops: Value::Null,
            written_paths: vec![],
            new_epoch: None,
        };
        assert!(matches!(request.validate(), Err(StateError::Invalid(_))));
        let request = CommitRequest { new_epoch: Some("e".into()), ..request };
        assert!(request.validate().is_ok());
    }

    #[test]
    fn op_window_covers_the_history() {
        let options = StateOptions { history_len: 500, op_key_window: 10, ..StateOptions::default() };
        assert_eq!(options.effective_op_window(), 500);
    }
}
