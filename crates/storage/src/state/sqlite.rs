//! The embedded-mode state store: three tables in the records' SQLite file,
//! written by one thread of the store's own with group commit, read by another.
//!
//! # Why rusqlite on a thread of its own
//!
//! sqlx-sqlite runs every statement on a worker thread of its connection, so
//! each statement costs two cross-thread wake-ups, and a commit is about ten
//! statements (begin, two reads, three writes, two trims, commit): profiles
//! showed more than half of the time in futex calls and thread switches, and
//! concurrent commits on different pool connections queued on SQLite's one
//! write lock through busy-timeout sleeps. So this store opens rusqlite
//! connections of its own to the same database file (same WAL, same tables,
//! created by the records store's sqlx migrations), each owned by one OS
//! thread: the writer runs every write, the reader (a `query_only` connection)
//! runs loads and history reads. A call is one hop to a thread and one back;
//! the statements run as plain function calls on prepared, cached statements;
//! state writes never wait on each other's locks, only (as before, under the
//! busy timeout) on a record write holding the file's write lock; and reads
//! never wait for writes (WAL readers see the last committed state), which
//! also keeps them from splitting the writer's batches.
//!
//! # Group commit
//!
//! Calls become jobs on a bounded queue, each with a one-shot reply. The writer
//! takes one job, then whatever else is already queued (up to 256 jobs), and
//! runs them in queue order. Each maximal run of consecutive commits shares one
//! `BEGIN IMMEDIATE` … `COMMIT` transaction:
//!
//! - A commit sees what the earlier commits of its batch wrote, exactly as if
//!   they had committed one after the other: versions stay contiguous, and an
//!   op key retried within the same batch is a [`CommitOutcome::Duplicate`].
//! - A commit that writes nothing (duplicate, version mismatch) leaves the
//!   batch alone: it checks before it writes. A commit that fails may be
//!   half-written, so then the transaction is rolled back and the batch runs
//!   again with a `SAVEPOINT` per commit: the failing commit is rolled back to
//!   its savepoint, the other commits of the batch go on. (Savepoints on every
//!   batch would journal each page a commit touches, for the rare failure.)
//! - Replies are sent only after the `COMMIT` succeeded, so no caller ever sees
//!   a version that could still be lost. If the transaction fails as a whole
//!   (the `BEGIN`, the `COMMIT`, or an error after which SQLite rolled it
//!   back), nothing of the batch was written and every commit of it gets the
//!   error.
//!
//! # Pages per commit
//!
//! The tables are clustered (`WITHOUT ROWID`, migration 0003) and the op keys
//! have no index besides their key, so a commit writes one page of each table:
//! three pages, where the rowid tables with their key and version indexes took
//! about a dozen. History and op keys past their window are trimmed every 32
//! versions (reads and the op key lookup never look past the window), and a
//! room's expiry (an indexed column) is written only when it would fall short
//! of the TTL, then set a 64th of the TTL (at most an hour) further out.
//!
//! # Checkpoints
//!
//! A thread of its own copies the WAL back into the file after commits, so no
//! commit waits for that copy's `fsync`; the writer only rewinds the WAL once
//! that thread has caught up, and checkpoints by itself only if the WAL grows
//! far past the rewind threshold (see `checkpoint`).
//!
//! Deletes and purges run between those transactions, each in one of its own.
//! Reads never see a commit before its `COMMIT`: they run on the reader's own
//! connection, and a commit is answered only after it committed, so a read
//! that starts after a commit returned sees it.
//!
//! Every caller waits at most `CALL_TIMEOUT` (10 s) and then gets
//! [`StateError::Unavailable`]. The threads skip the jobs of callers that
//! stopped waiting (timed out or cancelled) as long as they have not started
//! them, so a commit whose caller was told "unavailable" is usually not
//! applied; one that times out while its batch is already being written may
//! still be (as with any backend that stops answering mid-call), which op keys
//! make safe to retry.
//!
//! Expired rooms read as absent at once; [`StateStore::purge_expired`] removes
//! their rows later. Durability is the records store's: WAL with
//! `synchronous = NORMAL`, so a power cut can lose the last commits, never
//! corrupt the file.

pub(crate) mod checkpoint;
pub(crate) mod priority;
mod queries;
#[cfg(test)]
mod tests;
mod worker;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, timeout_at};

use self::checkpoint::Checkpointer;
use self::queries::{Commit, Room};
use self::worker::{Job, Reply, Role, Worker, WorkerError};
use super::{CommitOutcome, CommitRequest, HistoryEntry, RoomKey, StateError, StateOptions, StateStore, StoredState};

/// Longest a call waits for its thread: twice the busy timeout of the
/// connections (5 s, as the records store's), because a call may queue behind a
/// batch that waits that long for the file's write lock before its own turn.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Jobs that may wait for a thread; callers beyond that wait (within their
/// timeout) to enqueue, which slows producers down instead of growing memory.
const QUEUE_LEN: usize = 1024;

/// Where the state store's connections open the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SqliteFile {
    /// A database file (an absolute path), read-only when the URL said `mode=ro`.
    Path {
        /// The file.
        path: PathBuf,
        /// Open without write access.
        read_only: bool,
    },
    /// A database a connection of its own cannot share (in memory, or a
    /// temporary file); the reason is reported by every call.
    Unsupported(&'static str),
}

/// Dashboard state in the embedded SQLite database.
///
/// Two threads of the store's own, each with a rusqlite connection to the
/// records' file, run every call: the writer the writes, the reader the loads
/// and history reads; a third copies the WAL back into the file (checkpoints).
/// Consecutive commits that queue up while the writer works share one
/// transaction (group commit) and are answered only once that transaction
/// committed. Calls wait at most 10 s,
/// then fail as [`StateError::Unavailable`].
///
/// The threads end when the store is dropped: each answers the jobs already
/// queued, then closes its connection.
pub struct SqliteStateStore {
    writes: Thread,
    reads: Thread,
    call_timeout: Duration,
}

/// The queue of one of the store's threads.
struct Thread {
    role: Role,
    jobs: mpsc::Sender<Job>,
}

impl Thread {
    /// Starts a thread running `worker`; if it cannot start, its queue is closed and
    /// every call reports the thread as stopped.
    fn start(worker: Worker) -> Self {
        let role = worker.role();
        let (jobs, queue) = mpsc::channel(QUEUE_LEN);
        let spawned =
            std::thread::Builder::new().name(format!("agentdeck-state-{role}")).spawn(move || worker.run(queue));
        if let Err(error) = spawned {
            tracing::error!(%error, %role, "could not start a SQLite state store thread; its calls will fail");
        }
        Self { role, jobs }
    }
}

impl SqliteStateStore {
    /// A state store on the database the records store uses (migrations must have
    /// run). Never blocks: the threads open their connections by themselves.
    pub(crate) fn open(file: SqliteFile, options: StateOptions) -> Self {
        Self::with_timeout(file, options, CALL_TIMEOUT)
    }

    /// [`SqliteStateStore::open`], its writer sharing the file's `checkpointer`
    /// with the records store's group writer.
    pub(crate) fn open_sharing(file: SqliteFile, options: StateOptions, checkpointer: Arc<Checkpointer>) -> Self {
        if let SqliteFile::Unsupported(reason) = &file {
            tracing::error!(reason, "the SQLite state store cannot open this database; every state call will fail");
        }
        Self {
            writes: Thread::start(Worker::writer_sharing(file.clone(), options.clone(), Some(checkpointer))),
            reads: Thread::start(Worker::reader(file, options)),
            call_timeout: CALL_TIMEOUT,
        }
    }

    /// [`SqliteStateStore::open`] with another call timeout (tests).
    fn with_timeout(file: SqliteFile, options: StateOptions, call_timeout: Duration) -> Self {
        Self::with_settings(file, options, call_timeout, checkpoint::RESTART_FRAMES)
    }

    /// [`SqliteStateStore::open`] with another call timeout and WAL rewind threshold (tests).
    fn with_settings(file: SqliteFile, options: StateOptions, call_timeout: Duration, restart_frames: i64) -> Self {
        if let SqliteFile::Unsupported(reason) = &file {
            tracing::error!(reason, "the SQLite state store cannot open this database; every state call will fail");
        }
        Self {
            writes: Thread::start(Worker::writer(file.clone(), options.clone(), restart_frames)),
            reads: Thread::start(Worker::reader(file, options)),
            call_timeout,
        }
    }

    /// Sends a job to a thread and waits for its answer, both within the call timeout.
    async fn call<T>(&self, thread: &Thread, job: impl FnOnce(Reply<T>) -> Job) -> Result<T, StateError> {
        let (reply, answer) = oneshot::channel();
        let deadline = Instant::now() + self.call_timeout;
        let timed_out = || StateError::Unavailable(Box::new(WorkerError::Timeout(thread.role, self.call_timeout)));
        let stopped = || StateError::Backend(Box::new(WorkerError::Stopped(thread.role)));
        match timeout_at(deadline, thread.jobs.send(job(reply))).await {
            Err(_) => return Err(timed_out()),
            Ok(Err(_)) => return Err(stopped()),
            Ok(Ok(())) => {}
        }
        // Dropping `answer` on a timeout tells the thread not to start the job.
        match timeout_at(deadline, answer).await {
            Err(_) => Err(timed_out()),
            // A thread only drops a reply unanswered when it dies (a bug).
            Ok(Err(_)) => Err(stopped()),
            Ok(Ok(result)) => result,
        }
    }
}

#[async_trait]
impl StateStore for SqliteStateStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn load(&self, room: &RoomKey) -> Result<Option<StoredState>, StateError> {
        let room = Room::of(room);
        self.call(&self.reads, |reply| Job::Load { room, reply }).await
    }

    async fn commit(&self, room: &RoomKey, request: CommitRequest) -> Result<CommitOutcome, StateError> {
        request.validate()?;
        // Encoded here, on the caller's thread, to keep the one writer thread for SQL.
        let commit = Commit::new(room, request)?;
        self.call(&self.writes, |reply| Job::Commit { commit, reply }).await
    }

    async fn history_after(
        &self,
        room: &RoomKey,
        epoch: &str,
        version: u64,
    ) -> Result<Option<Vec<HistoryEntry>>, StateError> {
        let (room, epoch) = (Room::of(room), epoch.to_owned());
        self.call(&self.reads, |reply| Job::History { room, epoch, version, reply }).await
    }

    async fn delete(&self, room: &RoomKey) -> Result<bool, StateError> {
        let room = Room::of(room);
        self.call(&self.writes, |reply| Job::Delete { room, reply }).await
    }

    async fn purge_expired(&self) -> Result<u64, StateError> {
        self.call(&self.writes, |reply| Job::Purge { reply }).await
    }

    async fn ping(&self) -> Result<(), StateError> {
        // Both threads, each with its connection, must answer.
        self.call(&self.writes, |reply| Job::Ping { reply }).await?;
        self.call(&self.reads, |reply| Job::Ping { reply }).await
    }
}
