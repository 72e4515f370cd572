//! What only SQLite (embedded mode) needs: pragmas, migrations, write locking.

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{Any, Executor, Transaction};

use super::ConnectOptions;

/// The SQLite migrations, embedded in the binary.
pub(super) static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// Pragmas every connection runs first. The busy timeout comes first so that the
/// switch to WAL waits for, rather than fails on, a concurrently opening
/// connection; WAL lets readers run beside the one writer; foreign keys are off
/// by default in SQLite and the schema relies on them; NORMAL sync is durable
/// enough under WAL (a power cut can lose the last commits, never corrupt).
const PRAGMAS: &str = "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";

/// Opens a pool on a SQLite file URL.
pub(super) async fn connect(url: &str, options: &ConnectOptions) -> Result<AnyPool, sqlx::Error> {
    AnyPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute(PRAGMAS).await?;
                Ok(())
            })
        })
        .connect(url)
        .await
}

/// Begins a write with `BEGIN IMMEDIATE`: the write lock is taken up front, so a
/// transaction never has to upgrade a read lock, which fails at once with
/// SQLITE_BUSY (busy timeout or not) when another writer got there first.
pub(crate) async fn begin_write(pool: &AnyPool) -> Result<Transaction<'static, Any>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// Begins a read: a deferred transaction in WAL mode reads one snapshot.
pub(crate) async fn begin_read(pool: &AnyPool) -> Result<Transaction<'static, Any>, sqlx::Error> {
    pool.begin_with("BEGIN DEFERRED").await
}
