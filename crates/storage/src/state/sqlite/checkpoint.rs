//! The checkpointer: copies the WAL back into the database file on a thread
//! of its own, so that the writer never waits for that copy's `fsync`.
//!
//! SQLite's automatic checkpoint runs on the connection whose commit pushed
//! the WAL past 1 000 pages, inside that commit: the writer would copy about
//! 4 MiB and then `fsync` the database file (some 10 ms on this project's
//! machines) while every commit queued behind it waits. At 5 000 commits/s
//! that happened a dozen times a second and set the commit latency's p90. So
//! the writer's connection checkpoints by itself only far past the rewind
//! threshold ([`WAL_LIMIT_FACTOR`]; a bound for when this thread cannot keep
//! up, since it runs in the idle scheduling class, see `priority`) and nudges
//! this thread after each batch instead; the thread runs a `PASSIVE`
//! checkpoint, which never blocks the writer, at most every [`MIN_INTERVAL`].
//! An idle-class thread gets no time while the core stays busy, and the
//! writers' automatic checkpoints, being passive, cannot rewind the WAL under
//! a steady stream of commits (it grew to 426 MB in a 10 s saturating run):
//! a nudge left unserved for [`STARVED_AFTER`] moves the thread to the batch
//! class until it has served it ([`Starvation`]).
//!
//! A passive checkpoint cannot rewind the WAL: SQLite starts it from the
//! beginning again only when a transaction begins with every frame copied
//! back, which under a steady stream of commits almost never happens, and a
//! WAL left to grow without bound slowed the whole server (a 20 s run at
//! 5 000 commits/s saturated the core). So once the WAL is past
//! [`RESTART_FRAMES`], the writer runs a `RESTART` checkpoint itself, between
//! two batches ([`Checkpointer::rewind_if_due`]). A `RESTART` holds every
//! commit off while it copies the frames not yet copied and `fsync`s both
//! files, and an `fsync` costs what the pages written since the last one
//! cost (on this project's machines 0.5 ms for 16 scattered pages, 6 ms for
//! 256, 16 ms for 1 024). So this thread first catches up ([`catch_up`]):
//! it runs passive checkpoints one after the other, each copying what was
//! committed during the one before, `fsync`s the pages they copied itself,
//! and only then tells the writer to rewind, which leaves its `RESTART` a
//! millisecond's commits to copy and sync (rewinds took 1–2 ms, at most 6,
//! where a single pass had left 1 500 frames and 20–35 ms). The writer
//! rather than this thread runs it, because the writer, finding the write
//! lock held by this thread, would sleep out SQLite's busy-handler steps (1,
//! 2, 5, 10 ms …) long after the lock was free again.
//!
//! With the rewind that cheap, the threshold is set by how often the
//! database file is synced: every rewind `fsync`s each page copied since the
//! last, so a larger WAL syncs a page written many times once (32 MiB: a
//! rewind about every 0.7 s at 5 000 commits/s).
//!
//! The file has two writers: the state store's thread and the records
//! store's group writer (`crate::sql::group_commit`, the A2A task writes). A
//! WAL is the file's, not a connection's, so they share one checkpointer
//! (`crate::sql::connect` starts it): both open their connections with
//! [`Checkpointer::auto_checkpoint_pages`], nudge it after each batch and
//! rewind between their batches; a rewind that finds the other writer
//! holding the write lock is tried again after the next batch. The records'
//! pool connections, which commit the remaining writes, checkpoint by
//! themselves only as late too.

use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::SqliteFile;
use super::priority::{self, Priority};
use super::queries::{self, sql_error};
use crate::state::StateError;

/// Shortest time between two checkpoints: nudges meanwhile make one.
const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// WAL pages (4 KiB each, so 32 MiB) past which the writer rewinds the WAL.
pub(crate) const RESTART_FRAMES: i64 = 8_192;

/// How many times [`RESTART_FRAMES`] the WAL may grow to before the writer's
/// own commit checkpoints it, should this thread not get the core.
pub(super) const WAL_LIMIT_FACTOR: i64 = 4;

/// Frames left to copy below which the writer is told to rewind.
const RESTART_BACKLOG: i64 = 64;

/// Passive checkpoints in a row at most, should commits outpace the copying;
/// the writer then rewinds with the larger backlog rather than let the WAL grow.
const MAX_PASSES: usize = 8;

/// The writers' handle on the checkpointer thread; dropping it ends the thread.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    wake: SyncSender<()>,
    /// Frames in the WAL at the start of the last checkpoint round (0 once rewound).
    wal_frames: Arc<AtomicI64>,
    restart_frames: i64,
    /// Whether the thread gets the core (see [`Starvation`]).
    starved: Arc<Starvation>,
}

/// How long a nudge may wait unserved before the idle-class thread is moved
/// to the batch class: a busy core gives an idle-class thread no time at all.
const STARVED_AFTER: Duration = Duration::from_millis(500);

/// Watches for the checkpointer being starved of the core.
#[derive(Debug, Default)]
struct Starvation {
    /// The thread's id, once it runs.
    thread: AtomicI32,
    /// Milliseconds after `epoch` of the oldest nudge not served yet (0: none; stored +1).
    pending_since: AtomicU64,
    /// The thread was moved to the batch class and has not caught up yet.
    escalated: AtomicBool,
    /// The origin of `pending_since`.
    epoch: std::sync::OnceLock<Instant>,
}

impl Starvation {
    fn now(&self) -> u64 {
        let epoch = *self.epoch.get_or_init(Instant::now);
        u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX).saturating_add(1)
    }

    /// A nudge was sent: remembered if none is pending; the thread is given
    /// the batch class if the pending one waited past [`STARVED_AFTER`].
    fn nudged(&self) {
        let now = self.now();
        let since = match self.pending_since.compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return,
            Err(since) => since,
        };
        let waited = Duration::from_millis(now.saturating_sub(since));
        let thread = self.thread.load(Ordering::Relaxed);
        if waited > STARVED_AFTER && thread != 0 && !self.escalated.swap(true, Ordering::Relaxed) {
            tracing::debug!(
                waited_ms = waited.as_millis(),
                "the SQLite checkpointer is starved; giving it the batch class"
            );
            priority::set_thread_class(thread, Priority::Batch);
        }
    }

    /// The thread served the nudges: back to the idle class if it was moved.
    fn served(&self) {
        self.pending_since.store(0, Ordering::Relaxed);
        if self.escalated.swap(false, Ordering::Relaxed) {
            priority::lower_this_thread(Priority::Idle);
        }
    }
}

impl Checkpointer {
    /// Starts the thread; `None` if it cannot start (the writer then keeps
    /// SQLite's automatic checkpoints).
    pub(crate) fn start(file: SqliteFile, restart_frames: i64) -> Option<Self> {
        let (wake, nudges) = sync_channel(1);
        let wal_frames = Arc::new(AtomicI64::new(0));
        let seen = Arc::clone(&wal_frames);
        let starved = Arc::new(Starvation::default());
        let watched = Arc::clone(&starved);
        let spawned = std::thread::Builder::new()
            .name("agentdeck-wal-checkpoint".to_owned())
            .spawn(move || run(&file, &nudges, restart_frames, &seen, &watched));
        match spawned {
            Ok(_) => Some(Self { wake, wal_frames, restart_frames, starved }),
            Err(error) => {
                tracing::error!(%error, "could not start the SQLite state checkpointer; the writer checkpoints itself");
                None
            }
        }
    }

    /// The `wal_autocheckpoint` of connections that write to the file: far
    /// past the rewind threshold, a bound for when this thread cannot keep up.
    pub(crate) fn auto_checkpoint_pages(&self) -> i64 {
        self.restart_frames.saturating_mul(WAL_LIMIT_FACTOR)
    }

    /// Asks for a checkpoint soon; never blocks (a pending nudge covers this one).
    pub(crate) fn nudge(&self) {
        match self.wake.try_send(()) {
            Ok(()) | Err(TrySendError::Full(())) => self.starved.nudged(),
            Err(TrySendError::Disconnected(())) => tracing::warn!("the SQLite state checkpointer has stopped"),
        }
    }

    /// On the writer's connection, between batches: rewinds the WAL once it
    /// has grown past the threshold. Never waits for a reader: if one still
    /// reads the WAL, the rewind is tried again after the next batch.
    pub(crate) fn rewind_if_due(&self, conn: &Connection) {
        if self.wal_frames.load(Ordering::Relaxed) < self.restart_frames {
            return;
        }
        let busy_timeout = match conn.pragma_query_value(None, "busy_timeout", |row| row.get::<_, i64>(0)) {
            Ok(millis) => Duration::from_millis(u64::try_from(millis).unwrap_or(0)),
            Err(error) => return tracing::warn!(%error, "cannot read the SQLite state writer's busy timeout"),
        };
        let started = Instant::now();
        let rewound =
            conn.busy_timeout(Duration::ZERO).map_err(sql_error).and_then(|()| run_checkpoint(conn, "RESTART"));
        if let Err(error) = conn.busy_timeout(busy_timeout) {
            tracing::warn!(%error, "cannot restore the SQLite state writer's busy timeout");
        }
        match rewound {
            Ok((0, frames, _)) => {
                self.wal_frames.store(0, Ordering::Relaxed);
                tracing::debug!(frames, micros = started.elapsed().as_micros(), "SQLite state WAL rewound");
            }
            Ok(_) => tracing::debug!("the SQLite state WAL is still being read; rewinding it after the next batch"),
            Err(error) => tracing::warn!(%error, "rewinding the SQLite state WAL failed"),
        }
    }
}

/// The thread's loop: one passive checkpoint per nudge, at most one per
/// [`MIN_INTERVAL`]. Past `restart_frames` it goes on until the writer's
/// rewind has little left to copy and sync (see [`catch_up`]), and only then
/// tells the writer to rewind.
fn run(file: &SqliteFile, nudges: &Receiver<()>, restart_frames: i64, wal_frames: &AtomicI64, starved: &Starvation) {
    priority::lower_this_thread(Priority::Idle);
    starved.thread.store(priority::this_thread_id(), Ordering::Relaxed);
    let mut open: Option<(Connection, File)> = None;
    while nudges.recv().is_ok() {
        let opened = match open.take() {
            Some(both) => Ok(both),
            None => open_both(file),
        };
        let checkpointed = opened.and_then(|(conn, database)| {
            let frames = catch_up(&conn, &database, restart_frames)?;
            Ok((conn, database, frames))
        });
        match checkpointed {
            Ok((conn, database, frames)) => {
                wal_frames.store(frames, Ordering::Relaxed);
                open = Some((conn, database));
                starved.served();
            }
            // Both are dropped and opened again on the next nudge.
            Err(error) => {
                tracing::warn!(%error, "checkpointing the SQLite state WAL failed; retrying on the next commit")
            }
        }
        std::thread::sleep(MIN_INTERVAL);
    }
}

/// The thread's connection, and the database file itself for `fdatasync`.
fn open_both(file: &SqliteFile) -> Result<(Connection, File), StateError> {
    let conn = queries::open(file, false)?;
    let SqliteFile::Path { path, read_only } = file else {
        return Err(StateError::Backend(Box::new(std::io::Error::other("the state database has no file"))));
    };
    // Some systems sync only a file opened for writing.
    let database = std::fs::OpenOptions::new()
        .read(true)
        .write(!read_only)
        .open(path)
        .map_err(|error| StateError::Unavailable(Box::new(error)))?;
    Ok((conn, database))
}

/// Runs passive checkpoints: one while the WAL is under `restart_frames`;
/// beyond it, until the rewind would find fewer than [`RESTART_BACKLOG`]
/// frames to copy and as few copied pages not yet on the disk (at most
/// [`MAX_PASSES`]). Returns the frames in the WAL at the first pass.
///
/// A passive checkpoint `fsync`s the database file only when it copied the
/// whole WAL, which under a steady stream of commits it never does, so the
/// pages copied since the last rewind would all be left for the `RESTART`'s
/// `fsync` (5–30 ms for a few thousand); this thread `fsync`s them itself,
/// holding no lock, once the copying has caught up.
fn catch_up(conn: &Connection, database: &File, restart_frames: i64) -> Result<i64, StateError> {
    let (_, frames, mut copied) = run_checkpoint(conn, "PASSIVE")?;
    if frames < restart_frames {
        return Ok(frames);
    }
    let mut backlog = frames - copied;
    // Copied since the last rewind, and so far not `fsync`ed.
    let mut unsynced = copied;
    let mut passes = 1;
    while passes < MAX_PASSES && (backlog >= RESTART_BACKLOG || unsynced >= RESTART_BACKLOG) {
        if backlog < RESTART_BACKLOG {
            database.sync_data().map_err(|error| StateError::Unavailable(Box::new(error)))?;
            unsynced = 0;
        }
        let (_, now_frames, now_copied) = run_checkpoint(conn, "PASSIVE")?;
        unsynced += (now_copied - copied).max(0);
        backlog = now_frames - now_copied;
        copied = now_copied;
        passes += 1;
    }
    tracing::debug!(frames, passes, backlog, unsynced, "SQLite state WAL caught up for a rewind");
    Ok(frames)
}

/// Runs `PRAGMA wal_checkpoint(mode)`: (busy, frames in the WAL, frames copied back).
pub(super) fn run_checkpoint(conn: &Connection, mode: &str) -> Result<(i64, i64, i64), StateError> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .map_err(sql_error)
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::sync_channel;

    use super::*;

    /// A WAL database whose writer never checkpoints by itself, and its file.
    fn writer(dir: &tempfile::TempDir) -> anyhow::Result<(Connection, SqliteFile)> {
        let path = dir.path().join("wal.sqlite");
        let conn = Connection::open(&path)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; \
             CREATE TABLE rows (id INTEGER PRIMARY KEY, body BLOB NOT NULL);",
        )?;
        Ok((conn, SqliteFile::Path { path, read_only: false }))
    }

    /// `count` commits of one row each, spread over the table's pages.
    fn commit_rows(conn: &Connection, from: i64, count: i64) -> anyhow::Result<()> {
        for id in from..from + count {
            conn.execute("INSERT INTO rows (id, body) VALUES (?1, zeroblob(3000))", [id * 7919 % 100_003])?;
        }
        Ok(())
    }

    /// Frames now in the WAL and frames copied back, as a passive checkpoint finds them.
    fn wal_state(conn: &Connection) -> anyhow::Result<(i64, i64)> {
        let (_, frames, copied) = run_checkpoint(conn, "PASSIVE")?;
        Ok((frames, copied))
    }

    #[test]
    fn catching_up_copies_every_frame_and_reports_the_wal_size() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let (writer, file) = writer(&dir)?;
        commit_rows(&writer, 0, 40)?;
        let (conn, database) = open_both(&file)?;
        let frames = catch_up(&conn, &database, 16)?;
        assert!(frames >= 40, "{frames} frames for 40 commits");
        // Nothing is left for the writer's rewind to copy.
        let (now_frames, copied) = wal_state(&conn)?;
        assert_eq!((now_frames, copied), (frames, frames));
        Ok(())
    }

    #[test]
    fn the_writer_rewinds_only_once_told_the_wal_is_past_the_threshold() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let (writer, file) = writer(&dir)?;
        let (conn, database) = open_both(&file)?;
        commit_rows(&writer, 0, 40)?;
        catch_up(&conn, &database, 16)?;
        // Commits after the copy, so that SQLite cannot restart the WAL by itself.
        commit_rows(&writer, 40, 10)?;
        let (before, _) = wal_state(&conn)?;
        commit_rows(&writer, 50, 10)?;
        let checkpointer = Checkpointer {
            wake: sync_channel(1).0,
            wal_frames: Arc::new(AtomicI64::new(15)),
            restart_frames: 16,
            starved: Arc::default(),
        };

        // Below the threshold: no rewind, the next commit appends to the WAL.
        checkpointer.rewind_if_due(&writer);
        commit_rows(&writer, 60, 1)?;
        let (grown, _) = wal_state(&conn)?;
        assert!(grown > before, "the WAL went from {before} to {grown} frames below the threshold");

        checkpointer.wal_frames.store(grown, Ordering::Relaxed);
        checkpointer.rewind_if_due(&writer);
        assert_eq!(checkpointer.wal_frames.load(Ordering::Relaxed), 0);
        // The next commit starts the WAL from its beginning again.
        commit_rows(&writer, 61, 1)?;
        let (after, _) = wal_state(&conn)?;
        assert!(after < before, "{after} frames after a rewind, {before} before");
        Ok(())
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_nudge_left_unserved_too_long_gives_the_thread_the_batch_class_until_it_served() -> anyhow::Result<()> {
        let starved = Arc::new(Starvation::default());
        let (told, hear) = std::sync::mpsc::channel::<()>();
        let (report, reports) = std::sync::mpsc::channel::<i32>();
        let watched = Arc::clone(&starved);
        let thread = std::thread::spawn(move || {
            priority::lower_this_thread(Priority::Idle);
            watched.thread.store(priority::this_thread_id(), Ordering::Relaxed);
            // SAFETY: pid 0 is the calling thread.
            let policy = || unsafe { libc::sched_getscheduler(0) };
            let _ = report.send(policy());
            let _ = hear.recv();
            let _ = report.send(policy());
            watched.served();
            let _ = report.send(policy());
        });
        assert_eq!(reports.recv()?, libc::SCHED_IDLE);
        // A nudge pending for a second: the next one moves the thread up.
        let _ = starved.epoch.set(Instant::now().checked_sub(Duration::from_secs(1)).unwrap_or_else(Instant::now));
        starved.pending_since.store(1, Ordering::Relaxed);
        starved.nudged();
        told.send(())?;
        assert_eq!(reports.recv()?, libc::SCHED_BATCH, "starved: batch class");
        assert_eq!(reports.recv()?, libc::SCHED_IDLE, "served: back to idle");
        assert_eq!(starved.pending_since.load(Ordering::Relaxed), 0);
        thread.join().map_err(|_| anyhow::anyhow!("the thread panicked"))?;
        // A nudge that has not waited long leaves the class alone.
        starved.nudged();
        assert!(!starved.escalated.load(Ordering::Relaxed));
        Ok(())
    }
}
