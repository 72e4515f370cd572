//! What only PostgreSQL (cluster mode) needs: migrations, snapshot reads and the
//! lock that keeps the cycle check of blocked-by links sound.

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{Any, Transaction};
use sqlx::{AnyConnection, AnyPool};
use uuid::Uuid;

use super::ConnectOptions;

/// The PostgreSQL migrations, embedded in the binary.
pub(super) static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// Distinguishes the store's advisory locks from any other user of the database;
/// mixed into every key.
const LOCK_NAMESPACE: i64 = 0x6167_6e74_6465_636b; // "agntdeck"

/// Opens a pool on a PostgreSQL URL.
pub(super) async fn connect(url: &str, options: &ConnectOptions) -> Result<AnyPool, sqlx::Error> {
    AnyPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout)
        .connect(url)
        .await
}

/// Begins a write at the default READ COMMITTED level: the optimistic revision
/// check and the link lock make stronger isolation unnecessary.
pub(super) async fn begin_write(pool: &AnyPool) -> Result<Transaction<'static, Any>, sqlx::Error> {
    pool.begin().await
}

/// Begins a read that sees one snapshot across its queries (a task and its links).
pub(super) async fn begin_read(pool: &AnyPool) -> Result<Transaction<'static, Any>, sqlx::Error> {
    pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await
}

/// Takes the workspace's link lock until the transaction ends.
///
/// Under READ COMMITTED two transactions could each check their new links against
/// the graph without the other's, pass, and together close a cycle. Writers of
/// links take this lock before reading the graph, so the second one waits and
/// then sees the first one's links.
pub(super) async fn lock_links(conn: &mut AnyConnection, workspace_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(lock_key(workspace_id)).execute(conn).await?;
    Ok(())
}

/// Folds a workspace id into a 64-bit lock key. Two workspaces may share a key;
/// that only makes them wait for each other, never breaks the check.
fn lock_key(workspace_id: Uuid) -> i64 {
    let (high, low) = workspace_id.as_u64_pair();
    (high ^ low) as i64 ^ LOCK_NAMESPACE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_differ_between_workspaces() {
        assert_ne!(lock_key(Uuid::now_v7()), lock_key(Uuid::now_v7()));
    }
}
