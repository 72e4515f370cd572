//! The store's two threads, the writer and the reader: each takes its queued
//! jobs in batches; the writer runs each run of consecutive commits as one
//! transaction (group commit, see the parent module), and owns the thread that
//! checkpoints the WAL (see `checkpoint`).

use std::sync::Arc;
use std::time::Duration;

use agentdeck_domain::errors::error_chain;
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::SqliteFile;
use super::checkpoint::Checkpointer;
use super::priority::{self, Priority};
use super::queries::{self, Commit, Room, execute, rollback};
use crate::state::{BoxError, CommitOutcome, HistoryEntry, StateError, StateOptions, StoredState};

/// Most jobs taken off the queue at once, and so most commits in one
/// transaction: enough to amortize a transaction over many commits, few enough
/// that the write lock is held for milliseconds, not longer.
const MAX_BATCH: usize = 256;

/// Where a thread sends a job's result.
pub(super) type Reply<T> = oneshot::Sender<Result<T, StateError>>;

/// One call of the store, for one of its threads.
#[derive(Debug)]
pub(super) enum Job {
    /// [`crate::StateStore::commit`].
    Commit { commit: Commit, reply: Reply<CommitOutcome> },
    /// [`crate::StateStore::load`].
    Load { room: Room, reply: Reply<Option<StoredState>> },
    /// [`crate::StateStore::history_after`].
    History { room: Room, epoch: String, version: u64, reply: Reply<Option<Vec<HistoryEntry>>> },
    /// [`crate::StateStore::delete`].
    Delete { room: Room, reply: Reply<bool> },
    /// [`crate::StateStore::purge_expired`].
    Purge { reply: Reply<u64> },
    /// [`crate::StateStore::ping`].
    Ping { reply: Reply<()> },
}

/// Failures of the store's threads themselves (SQLite's own errors are `rusqlite::Error`s).
#[derive(Debug, thiserror::Error)]
pub(super) enum WorkerError {
    /// The caller stopped waiting.
    #[error("the SQLite state store's {0} did not answer within {1:?}")]
    Timeout(Role, Duration),
    /// The thread is gone (it could not start, or it panicked).
    #[error("the SQLite state store's {0} has stopped")]
    Stopped(Role),
    /// The database is not a file the store can open a connection to.
    #[error("the SQLite state store cannot use this database: {0}")]
    Unsupported(&'static str),
    /// A failure of a whole batch, as told to each of its commits.
    #[error("{0}")]
    Batch(String),
}

/// The result of each commit of a batch; `None` for a commit skipped because
/// its caller stopped waiting.
type BatchResults = Vec<Option<Result<CommitOutcome, StateError>>>;

/// What a thread of the store does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// Commits, deletes, purges: every write of the store.
    Writer,
    /// Loads and history reads, on a connection that cannot write
    /// (`query_only`), beside the writer: in WAL mode readers never wait for
    /// a writer, so reads neither queue behind a batch nor wait out a record
    /// write holding the file's write lock.
    Reader,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Writer => "writer",
            Role::Reader => "reader",
        })
    }
}

/// The state of one of the store's threads.
pub(super) struct Worker {
    opener: Opener,
    options: StateOptions,
    /// Opened on the first job, and again after a failure left it unusable.
    conn: Option<Connection>,
    /// The writer's checkpointer thread (see `checkpoint`); `None` for the
    /// reader, or if it could not start.
    checkpointer: Option<Arc<Checkpointer>>,
}

impl Worker {
    /// The writer's state; it opens `file` when its first job comes, and starts
    /// a checkpointer that rewinds the WAL past `restart_frames` pages.
    pub(super) fn writer(file: SqliteFile, options: StateOptions, restart_frames: i64) -> Self {
        let checkpointer = Checkpointer::start(file.clone(), restart_frames).map(Arc::new);
        Self::writer_sharing(file, options, checkpointer)
    }

    /// The writer's state, nudging `checkpointer` (shared with the file's other writer).
    pub(super) fn writer_sharing(
        file: SqliteFile,
        options: StateOptions,
        checkpointer: Option<Arc<Checkpointer>>,
    ) -> Self {
        // With a checkpointer the writer's connection checkpoints by itself only far
        // past the rewind threshold; without one, at SQLite's default.
        let auto_checkpoint = checkpointer.as_ref().map(|checkpointer| checkpointer.auto_checkpoint_pages());
        let opener = Opener { file, role: Role::Writer, auto_checkpoint };
        Self { opener, options, conn: None, checkpointer }
    }

    /// The reader's state; it opens `file` when its first job comes.
    pub(super) fn reader(file: SqliteFile, options: StateOptions) -> Self {
        let opener = Opener { file, role: Role::Reader, auto_checkpoint: None };
        Self { opener, options, conn: None, checkpointer: None }
    }

    /// Which of the store's threads this is.
    pub(super) fn role(&self) -> Role {
        self.opener.role
    }

    /// Tells the checkpointer that the WAL grew, and rewinds the WAL when it is due.
    fn wrote(&self) {
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.nudge();
            if let Some(conn) = self.conn.as_ref().filter(|conn| conn.is_autocommit()) {
                checkpointer.rewind_if_due(conn);
            }
        }
    }

    /// The thread's loop; returns (ending the thread and closing the
    /// connection) once every sender is gone and the queue is empty.
    pub(super) fn run(mut self, mut queue: mpsc::Receiver<Job>) {
        if self.role() == Role::Writer {
            priority::lower_this_thread(Priority::Batch);
        }
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while let Some(job) = queue.blocking_recv() {
            batch.push(job);
            // Whatever queued up meanwhile joins this batch.
            while batch.len() < MAX_BATCH
                && let Ok(job) = queue.try_recv()
            {
                batch.push(job);
            }
            self.run_batch(batch.drain(..));
        }
    }

    /// Runs jobs in order; each maximal run of consecutive commits shares one transaction.
    pub(super) fn run_batch(&mut self, jobs: impl IntoIterator<Item = Job>) {
        let mut commits = Vec::new();
        for job in jobs {
            match job {
                Job::Commit { commit, reply } => commits.push((commit, reply)),
                other => {
                    self.commit_all(std::mem::take(&mut commits));
                    self.run_one(other);
                }
            }
        }
        self.commit_all(commits);
    }

    /// Group commit: one transaction for all `commits`, replies after it committed.
    fn commit_all(&mut self, commits: Vec<(Commit, Reply<CommitOutcome>)>) {
        // A caller that stopped waiting was told "unavailable": its commit is not started.
        let commits: Vec<_> = commits.into_iter().filter(|(_, reply)| !reply.is_closed()).collect();
        if commits.is_empty() {
            return;
        }
        let options = &self.options;
        let results = self.opener.connection(&mut self.conn).and_then(|conn| commit_batch(conn, options, &commits));
        self.wrote();
        match results {
            Ok(results) => {
                for ((_, reply), result) in commits.into_iter().zip(results) {
                    if let Some(result) = result {
                        // An error means the caller stopped waiting meanwhile; nothing to do.
                        let _ = reply.send(result);
                    }
                }
            }
            Err(error) => {
                for (_, reply) in commits {
                    let _ = reply.send(Err(replicate(&error)));
                }
            }
        }
    }

    /// Runs a job other than a commit, in a transaction of its own where it needs one.
    fn run_one(&mut self, job: Job) {
        let (slot, opener, options) = (&mut self.conn, &self.opener, &self.options);
        match job {
            // `run_batch` keeps every commit for `commit_all`; none reaches here.
            Job::Commit { commit, reply } => self.commit_all(vec![(commit, reply)]),
            Job::Load { room, reply } => {
                opener.answer(slot, reply, |conn| queries::load(conn, &room, options.clock.now_millis()))
            }
            Job::History { room, epoch, version, reply } => opener.answer(slot, reply, |conn| {
                queries::history_after(conn, options, &room, &epoch, version, options.clock.now_millis())
            }),
            Job::Delete { room, reply } => {
                opener.answer(slot, reply, |conn| queries::delete(conn, &room, options.clock.now_millis()));
                self.wrote();
            }
            Job::Purge { reply } => {
                opener.answer(slot, reply, |conn| queries::purge_expired(conn, options.clock.now_millis()));
                self.wrote();
            }
            Job::Ping { reply } => opener.answer(slot, reply, queries::ping),
        }
    }
}

/// How a thread opens its connection.
struct Opener {
    file: SqliteFile,
    role: Role,
    /// WAL pages past which a commit checkpoints itself, if not SQLite's default.
    auto_checkpoint: Option<i64>,
}

impl Opener {
    /// The thread's connection, opened if there is none, or replaced if a
    /// failed rollback left it inside a transaction.
    fn connection<'a>(&self, slot: &'a mut Option<Connection>) -> Result<&'a Connection, StateError> {
        let conn = match slot.take() {
            Some(conn) if conn.is_autocommit() => conn,
            // Closing a connection rolls back what it left open.
            _ => {
                let conn = queries::open(&self.file, self.role == Role::Reader)?;
                if let Some(pages) = self.auto_checkpoint {
                    conn.pragma_update(None, "wal_autocheckpoint", pages).map_err(queries::sql_error)?;
                }
                conn
            }
        };
        Ok(slot.insert(conn))
    }

    /// Runs `work` for a caller that is still waiting and sends it the result.
    fn answer<T>(
        &self,
        slot: &mut Option<Connection>,
        reply: Reply<T>,
        work: impl FnOnce(&Connection) -> Result<T, StateError>,
    ) {
        if reply.is_closed() {
            return;
        }
        let result = self.connection(slot).and_then(work);
        let _ = reply.send(result);
    }
}

/// How the commits of a batch are kept apart inside its transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isolation {
    /// None: a commit writes only when it commits (see [`queries::commit`]),
    /// so the batch needs nothing else as long as no commit fails.
    Shared,
    /// A savepoint per commit, so that a failing commit is rolled back alone.
    Savepoints,
}

/// Runs `commits` in one `BEGIN IMMEDIATE` transaction. First without
/// savepoints (they cost a journal of every page a commit touches); should a
/// commit fail, the transaction is rolled back and the batch runs again with a
/// savepoint per commit, which keeps the failing commit from taking the others
/// with it. `Err` when the transaction failed as a whole: then nothing of it
/// was written.
fn commit_batch(
    conn: &Connection,
    options: &StateOptions,
    commits: &[(Commit, Reply<CommitOutcome>)],
) -> Result<BatchResults, StateError> {
    match run_batch_transaction(conn, options, commits, Isolation::Shared)? {
        Some(results) => Ok(results),
        None => run_batch_transaction(conn, options, commits, Isolation::Savepoints)?.ok_or_else(|| {
            StateError::Backend(Box::new(WorkerError::Batch("a commit failed outside its savepoint".into())))
        }),
    }
}

/// One attempt of [`commit_batch`]; `Ok(None)` when a commit failed under
/// [`Isolation::Shared`] and the transaction was rolled back.
fn run_batch_transaction(
    conn: &Connection,
    options: &StateOptions,
    commits: &[(Commit, Reply<CommitOutcome>)],
    isolation: Isolation,
) -> Result<Option<BatchResults>, StateError> {
    execute(conn, "BEGIN IMMEDIATE", [])?;
    let mut results = Vec::with_capacity(commits.len());
    for (commit, reply) in commits {
        // Waiting for the write lock may have outlasted a caller's patience.
        if reply.is_closed() {
            results.push(None);
            continue;
        }
        let result = match isolation {
            Isolation::Shared => queries::commit(conn, options, commit, options.clock.now_millis()),
            Isolation::Savepoints => match in_savepoint(conn, options, commit) {
                Ok(result) => result,
                Err(error) => {
                    rollback(conn);
                    return Err(error);
                }
            },
        };
        if isolation == Isolation::Shared && result.is_err() {
            rollback(conn);
            return Ok(None);
        }
        results.push(Some(result));
    }
    if let Err(error) = execute(conn, "COMMIT", []) {
        // A failed COMMIT can leave the transaction open (e.g. a deferred constraint).
        rollback(conn);
        return Err(error);
    }
    Ok(Some(results))
}

/// One commit inside the batch's transaction: kept when it committed, rolled
/// back to its savepoint when it failed or wrote nothing. The outer `Err` is a
/// failure of the whole transaction.
fn in_savepoint(
    conn: &Connection,
    options: &StateOptions,
    commit: &Commit,
) -> Result<Result<CommitOutcome, StateError>, StateError> {
    execute(conn, "SAVEPOINT state_commit", [])?;
    let result = queries::commit(conn, options, commit, options.clock.now_millis());
    if conn.is_autocommit() {
        // Some errors (I/O, disk full, out of memory) make SQLite roll back the
        // whole transaction: the earlier commits of the batch are gone too.
        return Err(match result {
            Err(error) => error,
            Ok(_) => StateError::Backend(Box::new(WorkerError::Batch("the transaction ended unexpectedly".into()))),
        });
    }
    if !matches!(result, Ok(CommitOutcome::Committed { .. })) {
        execute(conn, "ROLLBACK TO state_commit", [])?;
    }
    execute(conn, "RELEASE state_commit", [])?;
    Ok(result)
}

/// A copy of a batch's failure for each of its commits: same kind, same message.
fn replicate(error: &StateError) -> StateError {
    let copy = |source: &BoxError| -> BoxError { Box::new(WorkerError::Batch(error_chain(source.as_ref()))) };
    match error {
        StateError::Unavailable(source) => StateError::Unavailable(copy(source)),
        StateError::Backend(source) => StateError::Backend(copy(source)),
        StateError::Corrupt(message) => StateError::Corrupt(message.clone()),
        StateError::Invalid(message) => StateError::Invalid(message),
    }
}
