//! What only SQLite (embedded mode) needs: pragmas, migrations, write locking,
//! and where the database file is (for the state store's own connection).

use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyPool, ConnectOptions as _, Executor, Transaction};

use super::ConnectOptions;
use crate::state::SqliteFile;

/// The SQLite migrations, embedded in the binary.
pub(super) static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// Pragmas every connection runs first. The busy timeout comes first so that the
/// switch to WAL waits for, rather than fails on, a concurrently opening
/// connection; WAL lets readers run beside the one writer; foreign keys are off
/// by default in SQLite and the schema relies on them; NORMAL sync is durable
/// enough under WAL (a power cut can lose the last commits, never corrupt).
/// The state store's rusqlite connection runs the same.
pub(crate) const PRAGMAS: &str = "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";

/// Opens a pool on a SQLite file URL; with `auto_checkpoint`, its connections
/// checkpoint the WAL by themselves only past that many pages (a checkpointer
/// thread does it, see `state::sqlite::checkpoint`).
pub(super) async fn connect(
    url: &str,
    options: &ConnectOptions,
    auto_checkpoint: Option<i64>,
) -> Result<AnyPool, sqlx::Error> {
    AnyPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout)
        // A connection to a local file cannot go stale the way a network one can; the ping sqlx
        // sends before handing one out is a round trip to the connection's thread on every query.
        .test_before_acquire(false)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                conn.execute(PRAGMAS).await?;
                if let Some(pages) = auto_checkpoint {
                    let pragma = format!("PRAGMA wal_autocheckpoint = {pages}");
                    conn.execute(sqlx::AssertSqlSafe(pragma)).await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await
}

/// Begins a write with `BEGIN IMMEDIATE`: the write lock is taken up front, so a
/// transaction never has to upgrade a read lock, which fails at once with
/// SQLITE_BUSY (busy timeout or not) when another writer got there first.
pub(super) async fn begin_write(pool: &AnyPool) -> Result<Transaction<'static, Any>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// Begins a read: a deferred transaction in WAL mode reads one snapshot.
pub(super) async fn begin_read(pool: &AnyPool) -> Result<Transaction<'static, Any>, sqlx::Error> {
    pool.begin_with("BEGIN DEFERRED").await
}

/// The database file of a SQLite URL, read the way the pool reads it (the `Any`
/// driver parses the URL, then the SQLite driver parses its text again), so
/// that the state store's connection opens the very file the records use.
///
/// In-memory and temporary databases cannot be shared with a connection of
/// the state store's own: every connection of the `Any` pool parses
/// `sqlite::memory:` anew and gets a database of its own (so such a URL does
/// not even give the records pool one database), a temporary (empty) name is
/// private to its connection, and named in-memory databases (`mode=memory`)
/// only share through shared-cache mode, whose table locks fail at once
/// instead of waiting out a busy timeout. They are reported as unsupported,
/// which every state call then answers; the records store is left as it was.
pub(super) fn database_file(url: &str) -> Result<SqliteFile, sqlx::Error> {
    let url = AnyConnectOptions::from_str(url)?.database_url;
    let options = SqliteConnectOptions::from_url(&url)?;
    let mode = url.query_pairs().find(|(key, _)| key == "mode").map(|(_, value)| value.into_owned());
    let filename = options.get_filename();
    // `sqlite::memory:` becomes a name of sqlx's own, unique per connection.
    let sqlx_memory = filename.to_str().is_some_and(|name| name.starts_with("file:sqlx-in-memory-"));
    if mode.as_deref() == Some("memory") || sqlx_memory {
        return Ok(SqliteFile::Unsupported("an in-memory database; the embedded state store needs a database file"));
    }
    if filename.as_os_str().is_empty() {
        return Ok(SqliteFile::Unsupported("a temporary database; the embedded state store needs a database file"));
    }
    // Absolute, so that a later change of the working directory cannot move it.
    let path = std::path::absolute(filename)?;
    Ok(SqliteFile::Path { path, read_only: mode.as_deref() == Some("ro") })
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::sql::sqlite_url;

    #[test]
    fn database_file_is_the_pool_file() -> Result<(), sqlx::Error> {
        let file = |path: &str, read_only| SqliteFile::Path { path: PathBuf::from(path), read_only };
        let url = sqlite_url(Path::new("/data/a b?#%.sqlite"));
        assert_eq!(database_file(&url)?, file("/data/a b?#%.sqlite", false));
        assert_eq!(database_file("sqlite:///data/x.sqlite?mode=ro")?, file("/data/x.sqlite", true));
        let relative = database_file("sqlite:rel/x.sqlite")?;
        assert_eq!(
            relative,
            SqliteFile::Path { path: std::env::current_dir()?.join("rel/x.sqlite"), read_only: false }
        );
        for memory in ["sqlite::memory:", "sqlite:named?mode=memory", "sqlite://?mode=memory&cache=shared"] {
            assert!(matches!(database_file(memory)?, SqliteFile::Unsupported(_)), "{memory}");
        }
        Ok(())
    }
}
