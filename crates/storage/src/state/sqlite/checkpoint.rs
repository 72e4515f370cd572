//! The checkpointer: copies the WAL back into the database file on a thread
//! of its own, so that the writer never waits for that copy's `fsync`.
//!
//! SQLite's automatic checkpoint runs on the connection whose commit pushed
//! the WAL past 1 000 pages, inside that commit: the writer would copy about
//! 4 MiB and then `fsync` the database file (some 10 ms on this project's
//! machines) while every commit queued behind it waits. At 5 000 commits/s
//! that happened a dozen times a second and set the commit latency's p90. So
//! the writer's connection turns automatic checkpoints off and nudges this
//! thread after each batch instead; the thread runs a `PASSIVE` checkpoint,
//! which never blocks the writer, at most every [`MIN_INTERVAL`].
//!
//! A passive checkpoint cannot rewind the WAL: SQLite starts it from the
//! beginning again only when a transaction begins with every frame copied
//! back, which under a steady stream of commits almost never happens, and a
//! WAL left to grow without bound slowed the whole server (a 20 s run at
//! 5 000 commits/s saturated the core). So once the WAL is past
//! [`RESTART_FRAMES`], the writer runs a `RESTART` checkpoint itself, between
//! two batches ([`Checkpointer::rewind_if_due`]); this thread first runs a
//! second passive checkpoint right after the first, so that the `RESTART`,
//! which holds every commit off while it copies and syncs, has only the last
//! few milliseconds' commits left. What such a `RESTART` costs grows with the WAL (its `fsync`
//! writes the scattered pages back to the disk): 20–35 ms at 4 096 pages, so
//! the threshold is small, and a rewind follows about every passive
//! checkpoint (4 000 commits/s, p99 of the delivery latency: 25 ms at 1 024
//! pages, 45 ms at 4 096, 102 ms at 16 384; 4.3 ms with no rewind at all, in
//! a run short enough for the unbounded WAL not to hurt yet). The writer
//! rather than this thread runs it, because the writer, finding the write lock
//! held by this thread, would sleep out SQLite's busy-handler steps (1, 2, 5,
//! 10 ms …) long after the lock was free again.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::Duration;

use rusqlite::Connection;

use super::SqliteFile;
use super::queries::{self, sql_error};
use crate::state::StateError;

/// Shortest time between two checkpoints: nudges meanwhile make one.
const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// WAL pages (4 KiB each, so 4 MiB) past which the writer rewinds the WAL.
pub(super) const RESTART_FRAMES: i64 = 1_024;

/// The writer's handle on the checkpointer thread; dropping it ends the thread.
#[derive(Debug)]
pub(super) struct Checkpointer {
    wake: SyncSender<()>,
    /// Frames in the WAL at the start of the last checkpoint round (0 once rewound).
    wal_frames: Arc<AtomicI64>,
    restart_frames: i64,
}

impl Checkpointer {
    /// Starts the thread; `None` if it cannot start (the writer then keeps
    /// SQLite's automatic checkpoints).
    pub(super) fn start(file: SqliteFile, restart_frames: i64) -> Option<Self> {
        let (wake, nudges) = sync_channel(1);
        let wal_frames = Arc::new(AtomicI64::new(0));
        let seen = Arc::clone(&wal_frames);
        let spawned = std::thread::Builder::new()
            .name("agentdeck-state-checkpoint".to_owned())
            .spawn(move || run(&file, &nudges, restart_frames, &seen));
        match spawned {
            Ok(_) => Some(Self { wake, wal_frames, restart_frames }),
            Err(error) => {
                tracing::error!(%error, "could not start the SQLite state checkpointer; the writer checkpoints itself");
                None
            }
        }
    }

    /// Asks for a checkpoint soon; never blocks (a pending nudge covers this one).
    pub(super) fn nudge(&self) {
        match self.wake.try_send(()) {
            Ok(()) | Err(TrySendError::Full(())) => {}
            Err(TrySendError::Disconnected(())) => tracing::warn!("the SQLite state checkpointer has stopped"),
        }
    }

    /// On the writer's connection, between batches: rewinds the WAL once it
    /// has grown past the threshold. Never waits for a reader: if one still
    /// reads the WAL, the rewind is tried again after the next batch.
    pub(super) fn rewind_if_due(&self, conn: &Connection) {
        if self.wal_frames.load(Ordering::Relaxed) < self.restart_frames {
            return;
        }
        let busy_timeout = match conn.pragma_query_value(None, "busy_timeout", |row| row.get::<_, i64>(0)) {
            Ok(millis) => Duration::from_millis(u64::try_from(millis).unwrap_or(0)),
            Err(error) => return tracing::warn!(%error, "cannot read the SQLite state writer's busy timeout"),
        };
        let rewound =
            conn.busy_timeout(Duration::ZERO).map_err(sql_error).and_then(|()| run_checkpoint(conn, "RESTART"));
        if let Err(error) = conn.busy_timeout(busy_timeout) {
            tracing::warn!(%error, "cannot restore the SQLite state writer's busy timeout");
        }
        match rewound {
            Ok((0, _, _)) => self.wal_frames.store(0, Ordering::Relaxed),
            Ok(_) => tracing::debug!("the SQLite state WAL is still being read; rewinding it after the next batch"),
            Err(error) => tracing::warn!(%error, "rewinding the SQLite state WAL failed"),
        }
    }
}

/// The thread's loop: one passive checkpoint per nudge, at most one per
/// [`MIN_INTERVAL`]. Past `restart_frames` it runs a second one at once,
/// which copies just what was committed during the first, and only then tells
/// the writer to rewind: the writer's `RESTART` is left with a few
/// milliseconds' worth of frames to copy and sync, not [`MIN_INTERVAL`]'s.
fn run(file: &SqliteFile, nudges: &Receiver<()>, restart_frames: i64, wal_frames: &AtomicI64) {
    let mut conn: Option<Connection> = None;
    while nudges.recv().is_ok() {
        let opened = match conn.take() {
            Some(open) => Ok(open),
            None => queries::open(file, false),
        };
        let checkpointed = opened.and_then(|open| {
            let (_, frames, _) = run_checkpoint(&open, "PASSIVE")?;
            if frames >= restart_frames {
                run_checkpoint(&open, "PASSIVE")?;
            }
            Ok((open, frames))
        });
        match checkpointed {
            Ok((open, frames)) => {
                wal_frames.store(frames, Ordering::Relaxed);
                conn = Some(open);
            }
            // The connection is dropped and opened again on the next nudge.
            Err(error) => {
                tracing::warn!(%error, "checkpointing the SQLite state WAL failed; retrying on the next commit")
            }
        }
        std::thread::sleep(MIN_INTERVAL);
    }
}

/// Runs `PRAGMA wal_checkpoint(mode)`: (busy, frames in the WAL, frames copied back).
pub(super) fn run_checkpoint(conn: &Connection, mode: &str) -> Result<(i64, i64, i64), StateError> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .map_err(sql_error)
}
