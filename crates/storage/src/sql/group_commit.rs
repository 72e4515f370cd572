//! Group commit for the SQLite writes that come in floods (A2A task writes:
//! one or two per `SendMessage`): concurrent writes share one transaction, run by a
//! thread of the store's own on a rusqlite connection to the records' file.
//!
//! # Why
//!
//! A records write through sqlx runs each statement on its connection's
//! worker thread (two cross-thread wake-ups per statement) and is a
//! transaction of its own, waiting its turn at the write gate ([`super::WriteTx`]):
//! at 16 sends in flight, one core spent most of its time switching threads
//! and writing the same pages (the tasks' index, the event log) to the WAL
//! once per write. This is the dashboard state store's design
//! (`crate::state::SqliteStateStore`) for any write that is a closure over a
//! connection: a call is one hop to the thread and one back, the statements
//! run as plain function calls on cached prepared statements, and the writes
//! that queued up meanwhile commit together.
//!
//! The WAL is checkpointed by the file's checkpointer thread, not inside
//! this thread's commits (SQLite's automatic checkpoint would copy and
//! `fsync` 4 MiB in the commit that crossed 1 000 pages, holding every queued
//! write for ~10 ms: at 7 000 sends/s that set the p99 of `SendMessage`).
//!
//! # The contract, unchanged
//!
//! - Writes run in queue order, each seeing what the earlier ones of its batch
//!   wrote, exactly as if they had committed one after the other (so a task's
//!   optimistic `last_seq` check and a duplicate key behave as before).
//! - A failing write does not fail the others: the first attempt runs the
//!   batch without savepoints (they cost a statement journal per write); if a
//!   write fails (it may have written half), the transaction is rolled back
//!   and the batch runs again with a `SAVEPOINT` per write, so the failing one
//!   is rolled back alone. A write must therefore be repeatable: a `Fn`.
//! - Each caller is answered only after `COMMIT` succeeded. If the transaction
//!   fails as a whole (the `BEGIN`, the `COMMIT`, an error after which SQLite
//!   rolled everything back), nothing of the batch was written and every
//!   write of it gets the error.
//! - The batch holds the records store's write gate, so sqlx writers of this
//!   process and this thread take turns in FIFO order instead of polling in
//!   SQLite's busy handler.
//!
//! Callers wait at most [`CALL_TIMEOUT`], then get [`StoreError::Unavailable`];
//! a write whose caller stopped waiting before it started is skipped. The
//! thread ends when the store (the last sender) is dropped, after answering
//! what is queued.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, timeout_at};

use super::{SQLITE_PRAGMAS, SQLITE_TRANSIENT};
use crate::StoreError;
use crate::state::{Checkpointer, Priority, lower_this_thread};

/// Longest a caller waits: twice the busy timeout, since a batch may wait that
/// long for the file's write lock (held by another process) before its turn.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Writes that may wait for the thread; callers beyond that wait (within their
/// timeout) to enqueue, which slows producers down instead of growing memory.
const QUEUE_LEN: usize = 1024;

/// Most writes in one transaction: enough to amortize it, few enough that the
/// write lock is held for milliseconds.
const MAX_BATCH: usize = 256;

/// Room of the statement cache: more than the distinct statements of all writes.
const CACHED_STATEMENTS: usize = 64;

/// One write: statements on the thread's connection, inside the batch's
/// transaction. Run again if another write of its batch failed, so it must
/// not consume what it captured.
pub(crate) type Write = Box<dyn Fn(&Connection) -> Result<(), StoreError> + Send>;

/// Failures of the writer thread itself (SQLite's own are `rusqlite::Error`s).
#[derive(Debug, thiserror::Error)]
enum WriterError {
    /// The caller stopped waiting.
    #[error("the SQLite group writer did not answer within {0:?}")]
    Timeout(Duration),
    /// The thread is gone (it could not start, or it panicked).
    #[error("the SQLite group writer has stopped")]
    Stopped,
    /// A failure of a whole batch, as told to each of its writes.
    #[error("{0}")]
    Batch(String),
}

/// A queued write and where its result goes.
struct Job {
    write: Write,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

/// The queue of the writer thread.
pub(crate) struct GroupWriter {
    jobs: mpsc::Sender<Job>,
}

impl GroupWriter {
    /// Starts the thread; it opens `path` at its first write and takes `gate`
    /// (the records store's write gate) around each transaction.
    /// With `checkpointer`, the file's WAL is checkpointed off this thread's
    /// path (see `state::sqlite::checkpoint`), which it nudges after each batch.
    pub(crate) fn start(
        path: PathBuf,
        gate: Arc<tokio::sync::Mutex<()>>,
        checkpointer: Option<Arc<Checkpointer>>,
    ) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE_LEN);
        let thread = Thread { path, gate, conn: None, checkpointer };
        let spawned =
            std::thread::Builder::new().name("agentdeck-records-writer".into()).spawn(move || thread.run(queue));
        if let Err(error) = spawned {
            // The queue's receiver is gone with the closure: every write reports the thread as stopped.
            tracing::error!(%error, "could not start the SQLite group writer; its writes will fail");
        }
        Self { jobs }
    }

    /// Runs `write` in the next batch and returns its result once the batch committed.
    pub(crate) async fn write(
        &self,
        write: impl Fn(&Connection) -> Result<(), StoreError> + Send + 'static,
    ) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        let deadline = Instant::now() + CALL_TIMEOUT;
        let job = Job { write: Box::new(write), reply };
        match timeout_at(deadline, self.jobs.send(job)).await {
            Err(_) => return Err(unavailable(WriterError::Timeout(CALL_TIMEOUT))),
            Ok(Err(_)) => return Err(unavailable(WriterError::Stopped)),
            Ok(Ok(())) => {}
        }
        // Dropping `answer` on a timeout tells the thread not to start the write.
        match timeout_at(deadline, answer).await {
            Err(_) => Err(unavailable(WriterError::Timeout(CALL_TIMEOUT))),
            // The thread only drops a reply unanswered when it dies (a bug).
            Ok(Err(_)) => Err(unavailable(WriterError::Stopped)),
            Ok(Ok(result)) => result,
        }
    }
}

/// The writer thread's state.
struct Thread {
    path: PathBuf,
    gate: Arc<tokio::sync::Mutex<()>>,
    /// Opened at the first write, and again after a failure left it inside a transaction.
    conn: Option<Connection>,
    /// The file's checkpointer, shared with the state store's writer.
    checkpointer: Option<Arc<Checkpointer>>,
}

/// The result of each write of a batch; `None` for one skipped because its caller stopped waiting.
type BatchResults = Vec<Option<Result<(), StoreError>>>;

/// How the writes of a batch are kept apart inside its transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isolation {
    /// None: fine as long as no write fails.
    Shared,
    /// A savepoint per write, so that a failing write is rolled back alone.
    Savepoints,
}

impl Thread {
    /// Takes a write, then whatever else queued meanwhile, and commits them
    /// together; returns once every sender is gone and the queue is empty.
    fn run(mut self, mut queue: mpsc::Receiver<Job>) {
        // Not preferred on wakeup: on a busy core the event loop queues more
        // writes before this thread runs, so batches grow (see `state::sqlite::priority`).
        lower_this_thread(Priority::Batch);
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while let Some(job) = queue.blocking_recv() {
            batch.push(job);
            while batch.len() < MAX_BATCH
                && let Ok(job) = queue.try_recv()
            {
                batch.push(job);
            }
            self.commit(std::mem::take(&mut batch));
            self.wrote();
        }
    }

    /// After a batch: tells the checkpointer the WAL grew, and rewinds the WAL
    /// when it is due, in this process's turn at the write gate.
    fn wrote(&self) {
        let Some(checkpointer) = &self.checkpointer else { return };
        checkpointer.nudge();
        if let Some(conn) = self.conn.as_ref().filter(|conn| conn.is_autocommit()) {
            let _turn = self.gate.blocking_lock();
            checkpointer.rewind_if_due(conn);
        }
    }

    /// One transaction for `jobs`, each answered after it committed.
    fn commit(&mut self, jobs: Vec<Job>) {
        // A caller that stopped waiting was told "unavailable": its write is not started.
        let jobs: Vec<Job> = jobs.into_iter().filter(|job| !job.reply.is_closed()).collect();
        if jobs.is_empty() {
            return;
        }
        let results = {
            // Called on a thread of its own, never inside the async runtime.
            let gate = self.gate.clone();
            let _turn = gate.blocking_lock();
            match self.connection() {
                Ok(conn) => write_batch(conn, &jobs),
                Err(error) => Err(error),
            }
        };
        match results {
            Ok(results) => {
                for (job, result) in jobs.into_iter().zip(results) {
                    if let Some(result) = result {
                        // An error means the caller stopped waiting meanwhile; nothing to do.
                        let _ = job.reply.send(result);
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, writes = jobs.len(), "a SQLite group commit failed as a whole");
                for job in jobs {
                    let _ = job.reply.send(Err(replicate(&error)));
                }
            }
        }
    }

    /// The thread's connection, opened if there is none, or replaced if a
    /// failed rollback left it inside a transaction (closing rolls it back).
    fn connection(&mut self) -> Result<&Connection, StoreError> {
        let conn = match self.conn.take() {
            Some(conn) if conn.is_autocommit() => conn,
            _ => open(&self.path, self.checkpointer.as_deref())?,
        };
        Ok(self.conn.insert(conn))
    }
}

/// Opens a read-write connection with the records store's pragmas.
fn open(path: &PathBuf, checkpointer: Option<&Checkpointer>) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    // No mutex: only the thread that opened it ever uses the connection.
    let conn = Connection::open_with_flags(path, flags).map_err(sqlite_error)?;
    conn.execute_batch(SQLITE_PRAGMAS).map_err(sqlite_error)?;
    if let Some(checkpointer) = checkpointer {
        conn.pragma_update(None, "wal_autocheckpoint", checkpointer.auto_checkpoint_pages()).map_err(sqlite_error)?;
    }
    conn.set_prepared_statement_cache_capacity(CACHED_STATEMENTS);
    Ok(conn)
}

/// Runs `jobs` in one `BEGIN IMMEDIATE` transaction, first shared, then (if
/// a write failed) again with a savepoint per write. `Err` when the
/// transaction failed as a whole: then nothing of it was written.
fn write_batch(conn: &Connection, jobs: &[Job]) -> Result<BatchResults, StoreError> {
    match attempt(conn, jobs, Isolation::Shared)? {
        Some(results) => Ok(results),
        None => attempt(conn, jobs, Isolation::Savepoints)?
            .ok_or_else(|| unavailable(WriterError::Batch("a write failed outside its savepoint".into()))),
    }
}

/// One attempt of [`write_batch`]; `Ok(None)` when a write failed under
/// [`Isolation::Shared`] and the transaction was rolled back.
fn attempt(conn: &Connection, jobs: &[Job], isolation: Isolation) -> Result<Option<BatchResults>, StoreError> {
    execute(conn, "BEGIN IMMEDIATE")?;
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        // Waiting for the write lock may have outlasted a caller's patience.
        if job.reply.is_closed() {
            results.push(None);
            continue;
        }
        let result = match isolation {
            Isolation::Shared => (job.write)(conn),
            Isolation::Savepoints => match in_savepoint(conn, &job.write) {
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
    if let Err(error) = execute(conn, "COMMIT") {
        // A failed COMMIT can leave the transaction open.
        rollback(conn);
        return Err(error);
    }
    Ok(Some(results))
}

/// One write inside the batch's transaction, rolled back to its savepoint if
/// it failed. The outer `Err` is a failure of the whole transaction.
fn in_savepoint(conn: &Connection, write: &Write) -> Result<Result<(), StoreError>, StoreError> {
    execute(conn, "SAVEPOINT group_write")?;
    let result = write(conn);
    if conn.is_autocommit() {
        // Some errors (I/O, disk full, out of memory) make SQLite roll back the
        // whole transaction: the earlier writes of the batch are gone too.
        return Err(match result {
            Err(error) => error,
            Ok(()) => unavailable(WriterError::Batch("the transaction ended unexpectedly".into())),
        });
    }
    if result.is_err() {
        execute(conn, "ROLLBACK TO group_write")?;
    }
    execute(conn, "RELEASE group_write")?;
    Ok(result)
}

/// Runs a statement without parameters through the statement cache.
fn execute(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql).and_then(|mut statement| statement.execute([])).map(|_| ()).map_err(sqlite_error)
}

/// Ends a failed transaction, if SQLite has not ended it already. Should the
/// rollback fail, the next batch finds the connection still in a transaction
/// and replaces it.
fn rollback(conn: &Connection) {
    if !conn.is_autocommit()
        && let Err(error) = conn.execute_batch("ROLLBACK")
    {
        tracing::warn!(%error, "rolling back a SQLite group commit failed");
    }
}

/// A writer failure as a transient store error.
fn unavailable(error: WriterError) -> StoreError {
    StoreError::Unavailable(sqlx::Error::AnyDriverError(Box::new(error)))
}

/// A copy of a batch's failure for each of its writes: same kind, same message.
fn replicate(error: &StoreError) -> StoreError {
    let message = || agentdeck_domain::errors::error_chain(error);
    match error {
        StoreError::Unavailable(_) => unavailable(WriterError::Batch(message())),
        StoreError::Conflict => StoreError::Conflict,
        StoreError::NotFound => StoreError::NotFound,
        StoreError::Duplicate { path } => StoreError::Duplicate { path: path.clone() },
        StoreError::Corrupt(text) => StoreError::Corrupt(text.clone()),
        _ => StoreError::Database(sqlx::Error::AnyDriverError(Box::new(WriterError::Batch(message())))),
    }
}

/// Sorts a SQLite failure the way [`super::db_error`] sorts sqlx's: a foreign
/// key violation is a [`StoreError::Conflict`] (a record the write refers to
/// vanished), the transient codes are [`StoreError::Unavailable`], anything
/// else is [`StoreError::Database`].
pub(crate) fn sqlite_error(error: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(failure, _) = &error {
        if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY {
            return StoreError::Conflict;
        }
        if SQLITE_TRANSIENT.contains(&(failure.extended_code & 0xff)) {
            return StoreError::Unavailable(sqlx::Error::AnyDriverError(Box::new(error)));
        }
    }
    StoreError::Database(sqlx::Error::AnyDriverError(Box::new(error)))
}

/// Like [`sqlite_error`], but a unique (or primary key) violation is a
/// [`StoreError::Duplicate`] at `path`, as [`super::errors::db_error_unique`] says.
pub(crate) fn sqlite_error_unique(error: rusqlite::Error, path: &str) -> StoreError {
    match &error {
        rusqlite::Error::SqliteFailure(failure, _)
            if matches!(
                failure.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ) =>
        {
            StoreError::Duplicate { path: path.to_owned() }
        }
        _ => sqlite_error(error),
    }
}

#[cfg(test)]
mod tests {
    use anyhow::Context;

    use super::*;

    type Answers = Vec<oneshot::Receiver<Result<(), StoreError>>>;

    /// A database with one table, and its connection.
    fn database() -> anyhow::Result<(tempfile::TempDir, PathBuf, Connection)> {
        let folder = tempfile::tempdir()?;
        let path = folder.path().join("records.sqlite");
        let conn = Connection::open(&path)?;
        conn.execute_batch("CREATE TABLE items (name TEXT NOT NULL PRIMARY KEY)")?;
        drop(conn);
        let conn = open(&path, None)?;
        Ok((folder, path, conn))
    }

    fn job(write: impl Fn(&Connection) -> Result<(), StoreError> + Send + 'static, answers: &mut Answers) -> Job {
        let (reply, answer) = oneshot::channel();
        answers.push(answer);
        Job { write: Box::new(write), reply }
    }

    fn insert(name: &'static str) -> impl Fn(&Connection) -> Result<(), StoreError> + Send + 'static {
        move |conn| {
            conn.execute("INSERT INTO items (name) VALUES (?1)", [name])
                .map(|_| ())
                .map_err(|error| sqlite_error_unique(error, "/name"))
        }
    }

    fn names(conn: &Connection) -> anyhow::Result<Vec<String>> {
        let mut statement = conn.prepare("SELECT name FROM items ORDER BY name")?;
        let names = statement.query_map([], |row| row.get(0))?.collect::<Result<Vec<String>, _>>()?;
        Ok(names)
    }

    #[test]
    fn a_failing_write_is_rolled_back_alone_and_the_others_commit() -> anyhow::Result<()> {
        let (_folder, _path, conn) = database()?;
        let mut answers = Vec::new();
        // Writes half, then fails: only its savepoint may undo it.
        let half_then_fail = |conn: &Connection| {
            conn.execute("INSERT INTO items (name) VALUES ('half')", []).map_err(sqlite_error)?;
            Err(StoreError::Conflict)
        };
        let jobs = vec![
            job(insert("a"), &mut answers),
            job(half_then_fail, &mut answers),
            job(insert("a"), &mut answers),
            job(insert("b"), &mut answers),
        ];
        let results = write_batch(&conn, &jobs)?;
        let kinds: Vec<String> = results
            .iter()
            .map(|result| match result {
                Some(Ok(())) => "ok".to_owned(),
                Some(Err(error)) => error.to_string(),
                None => "skipped".to_owned(),
            })
            .collect();
        assert_eq!(kinds, ["ok", "record was changed concurrently", "/name is already taken", "ok"]);
        assert_eq!(names(&conn)?, ["a", "b"]);
        assert!(conn.is_autocommit(), "the transaction ended");
        Ok(())
    }

    #[test]
    fn writes_of_a_batch_see_the_earlier_ones_and_skip_callers_that_left() -> anyhow::Result<()> {
        let (_folder, _path, conn) = database()?;
        let mut answers = Vec::new();
        let sees_a = |conn: &Connection| {
            let count: i64 = conn
                .query_row("SELECT COUNT(*) FROM items WHERE name = 'a'", [], |row| row.get(0))
                .map_err(sqlite_error)?;
            if count == 1 { Ok(()) } else { Err(StoreError::NotFound) }
        };
        let jobs = vec![job(insert("a"), &mut answers), job(insert("gone"), &mut answers), job(sees_a, &mut answers)];
        drop(answers.remove(1));
        let results = write_batch(&conn, &jobs)?;
        assert!(matches!(results.as_slice(), [Some(Ok(())), None, Some(Ok(()))]), "{results:?}");
        assert_eq!(names(&conn)?, ["a"]);
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn with_the_files_checkpointer_the_wal_is_rewound_between_batches() -> anyhow::Result<()> {
        let (_folder, path, conn) = database()?;
        let file = crate::state::SqliteFile::Path { path: path.clone(), read_only: false };
        // A rewind is due from 16 frames on; each write below adds one or two.
        let checkpointer = Checkpointer::start(file, 16).map(Arc::new).context("the checkpointer starts")?;
        let writer = GroupWriter::start(path, Arc::new(tokio::sync::Mutex::new(())), Some(checkpointer));
        let writes = 200;
        for i in 0..writes {
            let name = format!("{i}-{}", "x".repeat(3000));
            writer
                .write(move |conn| {
                    conn.execute("INSERT INTO items (name) VALUES (?1)", [name.as_str()])
                        .map(|_| ())
                        .map_err(sqlite_error)
                })
                .await?;
            // Spread over more than the checkpointer's interval, as a steady stream of writes is.
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        assert_eq!(names(&conn)?.len(), writes);
        let (_, frames, _): (i64, i64, i64) =
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
        assert!(frames < 150, "the WAL holds {frames} frames of {writes} writes: it was never rewound");
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_wait_for_the_gate_and_are_answered_after_commit() -> anyhow::Result<()> {
        let (_folder, path, conn) = database()?;
        let gate = Arc::new(tokio::sync::Mutex::new(()));
        let writer = Arc::new(GroupWriter::start(path, gate.clone(), None));
        // While another writer of the process holds the gate, nothing is written.
        let held = gate.clone().lock_owned().await;
        let names_to_write: Vec<&'static str> = vec!["w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7"];
        let writes: Vec<_> = names_to_write
            .iter()
            .map(|name| {
                let writer = writer.clone();
                tokio::spawn(insert_via(writer, name))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(names(&conn)?.is_empty());
        assert!(writes.iter().all(|write| !write.is_finished()), "no write is answered before it committed");
        drop(held);
        for write in writes {
            write.await??;
        }
        assert_eq!(names(&conn)?, names_to_write);
        Ok(())
    }

    async fn insert_via(writer: Arc<GroupWriter>, name: &'static str) -> Result<(), StoreError> {
        writer.write(insert(name)).await
    }
}
