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
//! A passive checkpoint leaves the WAL where it is when commits keep coming
//! (SQLite rewinds it only once every frame is copied back), so when it has
//! grown past [`RESTART_FRAMES`] the thread runs a `RESTART` checkpoint: it
//! waits for the writer's current transaction, holds the next one off while it
//! copies the few frames the passive one left, and makes the next commit
//! write the WAL from its start again.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::Duration;

use rusqlite::Connection;

use super::SqliteFile;
use super::queries::{self, sql_error};
use crate::state::StateError;

/// Shortest time between two checkpoints: nudges meanwhile make one.
const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// WAL pages (4 KiB each) past which a checkpoint also rewinds the WAL.
pub(super) const RESTART_FRAMES: i64 = 4096;

/// The writer's handle on the checkpointer thread; dropping it ends the thread.
#[derive(Debug)]
pub(super) struct Checkpointer {
    wake: SyncSender<()>,
}

impl Checkpointer {
    /// Starts the thread; `None` if it cannot start (the writer then keeps
    /// SQLite's automatic checkpoints).
    pub(super) fn start(file: SqliteFile, restart_frames: i64) -> Option<Self> {
        let (wake, nudges) = sync_channel(1);
        let spawned = std::thread::Builder::new()
            .name("agentdeck-state-checkpoint".to_owned())
            .spawn(move || run(&file, &nudges, restart_frames));
        match spawned {
            Ok(_) => Some(Self { wake }),
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
}

/// The thread's loop: one checkpoint per nudge, at most one per [`MIN_INTERVAL`].
fn run(file: &SqliteFile, nudges: &Receiver<()>, restart_frames: i64) {
    let mut conn: Option<Connection> = None;
    while nudges.recv().is_ok() {
        let opened = match conn.take() {
            Some(open) => Ok(open),
            None => queries::open(file, false),
        };
        match opened.and_then(|open| checkpoint(&open, restart_frames).map(|()| open)) {
            Ok(open) => conn = Some(open),
            // The connection is dropped and opened again on the next nudge.
            Err(error) => {
                tracing::warn!(%error, "checkpointing the SQLite state WAL failed; retrying on the next commit")
            }
        }
        std::thread::sleep(MIN_INTERVAL);
    }
}

/// A passive checkpoint, then a restarting one if the WAL is past `restart_frames`.
fn checkpoint(conn: &Connection, restart_frames: i64) -> Result<(), StateError> {
    let (_, wal_frames, _) = run_checkpoint(conn, "PASSIVE")?;
    if wal_frames >= restart_frames {
        let (busy, _, _) = run_checkpoint(conn, "RESTART")?;
        if busy != 0 {
            tracing::debug!(wal_frames, "the SQLite state WAL could not be rewound yet (a reader or writer held it)");
        }
    }
    Ok(())
}

/// Runs `PRAGMA wal_checkpoint(mode)`: (busy, frames in the WAL, frames copied back).
pub(super) fn run_checkpoint(conn: &Connection, mode: &str) -> Result<(i64, i64, i64), StateError> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .map_err(sql_error)
}
