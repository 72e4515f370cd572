//! The one SQL implementation of the records stores ([`crate::store`]), for
//! SQLite and PostgreSQL alike: [`SqlStore`] implements every store trait, each
//! in the module of its aggregate.
//!
//! Both backends run through sqlx's `Any` driver with runtime-checked queries, and
//! every operation has exactly one query text (filtered lists: one set of fixed
//! fragments), written in the SQL both databases understand (`$1, $2…`
//! parameters, `BIGINT` milliseconds, `TEXT` ids and enums). So the backends cannot drift apart: a fix or a new filter lands in both
//! at once, and the shared test suite proves they agree. What genuinely differs
//! lives in two small modules and nowhere else:
//!
//! - [`sqlite`]: connection pragmas (WAL, foreign keys, busy timeout), the
//!   migrations folder, and `BEGIN IMMEDIATE` for writes, which also serializes
//!   every writer (and so makes the cycle check race-free).
//! - [`postgres`]: the migrations folder, the snapshot isolation of reads, and the
//!   per-workspace advisory lock taken before blocked-by links are checked.
//! - [`group_commit`]: on a SQLite file, A2A task inserts and updates (one or two per
//!   `SendMessage`) run on a writer thread of their own, concurrent ones in one
//!   shared transaction; the statements are the same texts the sqlx path binds.
//!
//! Values cross the `Any` boundary only as `TEXT`, `BIGINT`, `DOUBLE` and flags
//! read back through a `CASE` (see [`rows`]), the types the driver maps the same
//! way on both databases.

mod accounts;
mod activity;
mod agent_tasks;
mod api_tokens;
mod auth_log;
mod errors;
mod generations;
mod group_commit;
mod idempotency_keys;
mod identities;
mod invitations;
mod members;
mod postgres;
mod projects;
mod rows;
mod sessions;
mod sqlite;
mod statement;
mod tasks;
mod text;
mod usage;
mod workspaces;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::{Migrate, Migrator};
use sqlx::{Any, Transaction};
use sqlx::{AnyConnection, AnyPool};
use uuid::Uuid;

use self::generations::LocalGenerations;
use self::group_commit::GroupWriter;
use crate::StoreError;
use crate::state::{Checkpointer, RESTART_FRAMES, SqliteFile, SqliteStateStore, StateOptions, StateStore};
use crate::store::{Backend, Database, Stores};
pub(crate) use errors::{SQLITE_TRANSIENT, db_error};
pub(crate) use sqlite::PRAGMAS as SQLITE_PRAGMAS;

/// Name of the table where sqlx records applied migrations.
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

/// How a store connects to its database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Most connections the pool opens.
    pub max_connections: u32,
    /// How long a query waits for a free connection before failing as unavailable.
    pub acquire_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self { max_connections: 10, acquire_timeout: Duration::from_secs(5) }
    }
}

/// Opens a store on `url` (`sqlite:…`, `postgres://…` or `postgresql://…`).
///
/// Every store of the returned [`Stores`] shares one pool. Does not migrate:
/// call [`Database::migrate`] before use. For SQLite the file
/// is created if missing (with `mode=rwc`, as [`sqlite_url`] adds), but its folder
/// must exist.
pub async fn connect(url: &str, options: &ConnectOptions) -> Result<Stores, StoreError> {
    sqlx::any::install_default_drivers();
    let backend = Backend::of_url(url).ok_or_else(|| StoreError::UnsupportedUrl(redact(url)))?;
    let (pool, sqlite_file, checkpointer) = match backend {
        Backend::Sqlite => {
            let file = sqlite::database_file(url).map_err(db_error)?;
            // A file this process writes gets one checkpointer, which its writers share.
            let checkpointer = match &file {
                SqliteFile::Path { read_only: false, .. } => {
                    Checkpointer::start(file.clone(), RESTART_FRAMES).map(Arc::new)
                }
                _ => None,
            };
            let auto_checkpoint = checkpointer.as_ref().map(|checkpointer| checkpointer.auto_checkpoint_pages());
            let pool = sqlite::connect(url, options, auto_checkpoint).await.map_err(db_error)?;
            (pool, Some(file), checkpointer)
        }
        Backend::Postgres => (postgres::connect(url, options).await.map_err(db_error)?, None, None),
    };
    tracing::debug!(backend = backend.as_str(), max_connections = options.max_connections, "connected records store");
    let write_gate = Arc::new(tokio::sync::Mutex::new(()));
    // Files the group writer can open get one; other SQLite databases (in
    // memory, read-only) keep every write on the pool.
    let group_writer = match &sqlite_file {
        Some(SqliteFile::Path { path, read_only: false }) => {
            Some(GroupWriter::start(path.clone(), write_gate.clone(), checkpointer.clone()))
        }
        _ => None,
    };
    let local_generations = match &sqlite_file {
        Some(SqliteFile::Path { path, read_only: false }) => Some(LocalGenerations::of_file(path)),
        // In memory or a temporary file: nobody else can reach it.
        Some(SqliteFile::Unsupported(_)) => Some(Arc::new(LocalGenerations::new())),
        Some(SqliteFile::Path { read_only: true, .. }) | None => None,
    };
    let store = SqlStore { pool, backend, sqlite_file, write_gate, group_writer, checkpointer, local_generations };
    Ok(Stores::all_on(Arc::new(store)))
}

/// Builds the SQLite URL of a database file, creating the file on first connect.
pub fn sqlite_url(path: &Path) -> String {
    // The driver percent-decodes the path and splits off `?`, so escape what
    // would otherwise be read as a query, fragment or escape sequence.
    let mut escaped = String::new();
    for character in path.to_string_lossy().chars() {
        match character {
            '%' => escaped.push_str("%25"),
            '?' => escaped.push_str("%3F"),
            '#' => escaped.push_str("%23"),
            ' ' => escaped.push_str("%20"),
            other => escaped.push(other),
        }
    }
    // `sqlite://rel/x` would make `rel` a (lowercased) host, so only absolute
    // paths get the `//` form.
    if escaped.starts_with('/') { format!("sqlite://{escaped}?mode=rwc") } else { format!("sqlite:{escaped}?mode=rwc") }
}

/// Drops anything after the scheme that could hold a password before the URL is
/// put into an error message.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) if parsed.has_authority() => format!("{}://…", parsed.scheme()),
        Ok(parsed) => format!("{}:…", parsed.scheme()),
        Err(_) => url.chars().take(16).collect(),
    }
}

/// A write transaction, holding (on SQLite) this process's write gate until it ends.
///
/// SQLite admits one writer at a time; a writer that finds the lock taken
/// waits in SQLite's busy handler, which polls with sleeps of up to 100 ms
/// and lets no one queue. Taking an async FIFO gate before `BEGIN IMMEDIATE`
/// makes writers of this process wait their turn without polling, so the
/// lock is free when each begins.
pub(crate) struct WriteTx {
    tx: Transaction<'static, Any>,
    _gate: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// The store's generations kept in memory, if it keeps them (see [`generations`]).
    generations: Option<Arc<LocalGenerations>>,
    /// The workspaces whose records this transaction changed.
    changed: Vec<Uuid>,
}

impl WriteTx {
    /// Notes that this transaction changes the workspace's records: its
    /// generation advances once the transaction commits.
    pub(crate) fn records_changed(&mut self, workspace_id: Uuid) {
        if !self.changed.contains(&workspace_id) {
            self.changed.push(workspace_id);
        }
    }

    /// Commits (and opens the gate), then advances the generation of the records it changed.
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await?;
        // After the commit, never before: see `generations` for why the order matters.
        if let Some(generations) = &self.generations {
            for &workspace_id in &self.changed {
                generations.advance(workspace_id);
            }
        }
        Ok(())
    }
}

impl std::ops::Deref for WriteTx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

/// A records store on a pool of `Any` connections.
pub(crate) struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    /// Writers of this process take turns here before SQLite's lock (see [`WriteTx`]).
    write_gate: Arc<tokio::sync::Mutex<()>>,
    /// The SQLite database, which the embedded state store opens a connection
    /// of its own to; `None` on PostgreSQL.
    sqlite_file: Option<SqliteFile>,
    /// The group commit of task writes on a SQLite file (see [`group_commit`]); `None` otherwise.
    group_writer: Option<GroupWriter>,
    /// Checkpoints the SQLite file's WAL off the writers' paths (see
    /// `state::sqlite::checkpoint`), for the group writer and the state store's writer.
    checkpointer: Option<Arc<Checkpointer>>,
    /// Records generations in memory, where this process is the file's only writer
    /// (see [`generations`]); `None` where others write too (PostgreSQL, read-only files).
    local_generations: Option<Arc<LocalGenerations>>,
}

impl SqlStore {
    /// Starts a transaction for a write; see the backend modules for why each
    /// begins the way it does.
    async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        match self.backend {
            Backend::Sqlite => {
                let gate = self.write_gate.clone().lock_owned().await;
                let tx = sqlite::begin_write(&self.pool).await.map_err(db_error)?;
                Ok(WriteTx { tx, _gate: Some(gate), generations: self.local_generations.clone(), changed: Vec::new() })
            }
            Backend::Postgres => {
                let tx = postgres::begin_write(&self.pool).await.map_err(db_error)?;
                Ok(WriteTx { tx, _gate: None, generations: self.local_generations.clone(), changed: Vec::new() })
            }
        }
    }

    /// Starts a read-only transaction that sees one snapshot, for reads that take
    /// more than one query (a task and its links).
    async fn begin_read(&self) -> Result<Transaction<'static, Any>, StoreError> {
        match self.backend {
            Backend::Sqlite => sqlite::begin_read(&self.pool).await,
            Backend::Postgres => postgres::begin_read(&self.pool).await,
        }
        .map_err(db_error)
    }

    /// Makes concurrent writers of the workspace's blocked-by links take turns, so
    /// that two writes cannot each pass the cycle check and together close a cycle.
    async fn lock_links(&self, conn: &mut AnyConnection, workspace_id: Uuid) -> Result<(), StoreError> {
        match self.backend {
            // BEGIN IMMEDIATE already made this the only writer of the database.
            Backend::Sqlite => Ok(()),
            Backend::Postgres => postgres::lock_links(conn, workspace_id).await.map_err(db_error),
        }
    }

    /// The migrations of this backend, embedded in the binary.
    fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite => &sqlite::MIGRATOR,
            Backend::Postgres => &postgres::MIGRATOR,
        }
    }

    /// Counts the migrations recorded as applied.
    async fn applied_migrations(&self, conn: &mut AnyConnection) -> Result<usize, StoreError> {
        conn.ensure_migrations_table(MIGRATIONS_TABLE).await?;
        Ok(conn.list_applied_migrations(MIGRATIONS_TABLE).await?.len())
    }
}

#[async_trait]
impl Database for SqlStore {
    fn backend(&self) -> Backend {
        self.backend
    }

    async fn migrate(&self) -> Result<usize, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        let before = self.applied_migrations(&mut conn).await?;
        self.migrator().run_direct(None, &mut *conn, false).await?;
        let applied = self.applied_migrations(&mut conn).await?.saturating_sub(before);
        tracing::info!(backend = self.backend.as_str(), migrations = applied, "applied migrations");
        Ok(applied)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(db_error)?;
        Ok(())
    }

    fn embedded_state(&self, options: StateOptions) -> Option<Arc<dyn StateStore>> {
        // Cluster mode (PostgreSQL, no SQLite file) keeps dashboard state in Redis (RedisStateStore).
        let file = self.sqlite_file.clone()?;
        match &self.checkpointer {
            Some(checkpointer) => Some(Arc::new(SqliteStateStore::open_sharing(file, options, checkpointer.clone()))),
            None => Some(Arc::new(SqliteStateStore::open(file, options))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_follows_the_scheme() {
        assert_eq!(Backend::of_url("sqlite:data.sqlite"), Some(Backend::Sqlite));
        assert_eq!(Backend::of_url("sqlite:///tmp/a.sqlite?mode=rwc"), Some(Backend::Sqlite));
        assert_eq!(Backend::of_url("sqlite::memory:"), Some(Backend::Sqlite));
        assert_eq!(Backend::of_url(&sqlite_url(Path::new("rel/a b?#%.sqlite"))), Some(Backend::Sqlite));
        assert_eq!(Backend::of_url("postgres://u@h/db"), Some(Backend::Postgres));
        assert_eq!(Backend::of_url("PostgreSQL://u@h/db"), Some(Backend::Postgres), "schemes ignore case");
        assert_eq!(Backend::of_url("mysql://u@h/db"), None);
        assert_eq!(Backend::of_url("data.sqlite"), None);
    }

    #[test]
    fn sqlite_url_escapes_what_the_driver_would_misread() {
        assert_eq!(sqlite_url(Path::new("/data/agentdeck.sqlite")), "sqlite:///data/agentdeck.sqlite?mode=rwc");
        assert_eq!(sqlite_url(Path::new("rel/a b?#%.sqlite")), "sqlite:rel/a%20b%3F%23%25.sqlite?mode=rwc");
    }

    #[test]
    fn redacted_url_hides_credentials() {
        assert_eq!(redact("mysql://root:secret@host/db"), "mysql://…");
        assert_eq!(redact("mysql:root:secret@host"), "mysql:…");
        assert_eq!(redact("not a URL, hunter2 is the password"), "not a URL, hunte");
    }
}
