//! A fresh, migrated database per test, on either backend.

use std::sync::Arc;
use std::time::Duration;

use agentdeck_storage::testing::TestDatabase;
use agentdeck_storage::{ConnectOptions, RecordStore, connect};
use anyhow::Context;
use sqlx::AnyPool;

/// A migrated store on a database of its own, removed when dropped.
pub struct TestDb {
    /// The store under test.
    pub store: Arc<dyn RecordStore>,
    /// How many migrations the first `migrate` applied.
    pub first_migrations: usize,
    /// URL of the database, for raw access that bypasses the store.
    pub url: String,
    // Dropped after the store: the folder or database the store lives in.
    _database: TestDatabase,
}

impl TestDb {
    /// A store on a new SQLite file.
    pub async fn sqlite() -> anyhow::Result<Self> {
        Self::open(TestDatabase::sqlite()?).await
    }

    /// A store on a new PostgreSQL database; fails when the server is unreachable.
    pub async fn postgres() -> anyhow::Result<Self> {
        Self::open(TestDatabase::postgres().await?).await
    }

    async fn open(database: TestDatabase) -> anyhow::Result<Self> {
        // Generous timeout: parallel tests share two cores.
        let options = ConnectOptions { max_connections: 5, acquire_timeout: Duration::from_secs(30) };
        let url = database.url.clone();
        let store = connect(&url, &options).await.with_context(|| format!("connecting to {url}"))?;
        let first_migrations = store.migrate().await.context("migrating the test database")?;
        Ok(Self { store, first_migrations, url, _database: database })
    }

    /// A pool on the same database that bypasses the store, for raw SQL.
    pub async fn raw_pool(&self) -> anyhow::Result<AnyPool> {
        sqlx::any::install_default_drivers();
        Ok(AnyPool::connect(&self.url).await?)
    }
}
