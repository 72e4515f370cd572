//! A fresh, migrated database per test, on either backend.

use std::sync::Arc;
use std::time::Duration;

use agentdeck_storage::{ConnectOptions, RecordStore, connect, sqlite_url};
use anyhow::{Context, bail};
use sqlx::{AnyPool, AssertSqlSafe, Connection, Executor, PgConnection};
use tempfile::TempDir;
use uuid::Uuid;

/// Server the postgres tests create their databases on, unless the env says otherwise.
const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A migrated store on a database of its own, removed when dropped.
pub struct TestDb {
    /// The store under test.
    pub store: Arc<dyn RecordStore>,
    /// How many migrations the first `migrate` applied.
    pub first_migrations: usize,
    /// URL of the database, for raw access that bypasses the store.
    pub url: String,
    // Dropped after the store: the folder or database the store lives in.
    _sqlite_dir: Option<TempDir>,
    _postgres_db: Option<PostgresDatabase>,
}

impl TestDb {
    /// A store on a new SQLite file.
    pub async fn sqlite() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let url = sqlite_url(&dir.path().join("agentdeck.sqlite"));
        Self::open(url, Some(dir), None).await
    }

    /// A store on a new PostgreSQL database; fails when the server is unreachable.
    pub async fn postgres() -> anyhow::Result<Self> {
        let admin_url =
            std::env::var("AGENTDECK_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        let name = format!("agentdeck_test_{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url).await.with_context(|| {
            format!(
                "PostgreSQL is not reachable at {admin_url}; the postgres tests need it \
                 (start it, or point AGENTDECK_TEST_POSTGRES_URL at a server with trust auth)"
            )
        })?;
        admin
            .execute(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .await
            .with_context(|| format!("creating test database {name}"))?;
        admin.close().await?;
        let guard = PostgresDatabase { admin_url: admin_url.clone(), name: name.clone() };
        let url = database_url(&admin_url, &name)?;
        Self::open(url, None, Some(guard)).await
    }

    async fn open(url: String, dir: Option<TempDir>, db: Option<PostgresDatabase>) -> anyhow::Result<Self> {
        // Generous timeout: parallel tests share two cores.
        let options = ConnectOptions { max_connections: 5, acquire_timeout: Duration::from_secs(30) };
        let store = connect(&url, &options).await.with_context(|| format!("connecting to {url}"))?;
        let first_migrations = store.migrate().await.context("migrating the test database")?;
        Ok(Self { store, first_migrations, url, _sqlite_dir: dir, _postgres_db: db })
    }

    /// A pool on the same database that bypasses the store, for raw SQL.
    pub async fn raw_pool(&self) -> anyhow::Result<AnyPool> {
        sqlx::any::install_default_drivers();
        Ok(AnyPool::connect(&self.url).await?)
    }
}

/// The URL of database `name` on the server of `admin_url`.
fn database_url(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (admin_url, None),
    };
    let Some((scheme, rest)) = base.split_once("://") else {
        bail!("AGENTDECK_TEST_POSTGRES_URL is not a URL: {admin_url}");
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    let mut url = format!("{scheme}://{authority}/{name}");
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    Ok(url)
}

/// Drops its database (closing any connection left to it) when dropped.
struct PostgresDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on; a thread
        // with a runtime of its own can.
        let dropped = std::thread::spawn(move || -> anyhow::Result<()> {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await?;
                admin.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))).await?;
                admin.close().await?;
                anyhow::Ok(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!("could not drop test database {}: {error:#}", self.name),
            Err(_) => eprintln!("dropping test database {} panicked", self.name),
        }
    }
}

#[test]
fn database_url_replaces_only_the_database() -> anyhow::Result<()> {
    assert_eq!(database_url("postgres://u:p@h:5432/postgres", "t")?, "postgres://u:p@h:5432/t");
    assert_eq!(database_url("postgresql://h?sslmode=disable", "t")?, "postgresql://h/t?sslmode=disable");
    Ok(())
}
