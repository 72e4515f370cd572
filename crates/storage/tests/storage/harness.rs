//! A fresh, migrated database per test, on either backend.

use std::sync::Arc;
use std::time::Duration;

use agentdeck_storage::testing::{self, TestDatabase};
use agentdeck_storage::{ConnectOptions, RoomKey, StateOptions, StateStore, Stores, connect};
use anyhow::Context;
use sqlx::AnyPool;
use uuid::Uuid;

/// A migrated store on a database of its own, removed when dropped.
pub struct TestDb {
    /// The stores under test.
    pub stores: Stores,
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
        let stores = connect(&url, &options).await.with_context(|| format!("connecting to {url}"))?;
        let first_migrations = stores.database.migrate().await.context("migrating the test database")?;
        Ok(Self { stores, first_migrations, url, _database: database })
    }

    /// A pool on the same database that bypasses the store, for raw SQL.
    pub async fn raw_pool(&self) -> anyhow::Result<AnyPool> {
        sqlx::any::install_default_drivers();
        Ok(AnyPool::connect(&self.url).await?)
    }
}

/// A state store backend for the state suite: its rooms are isolated per test
/// by random workspace ids (see [`StateDb::room`]).
pub struct StateDb {
    /// The records database whose file the SQLite state store uses (through its own connections).
    sqlite: Option<TestDb>,
}

impl StateDb {
    /// State in a new SQLite file.
    pub async fn sqlite() -> anyhow::Result<Self> {
        Ok(Self { sqlite: Some(TestDb::sqlite().await?) })
    }

    /// State on the test Redis; fails when it is unreachable.
    pub async fn redis() -> anyhow::Result<Self> {
        testing::redis_state_store(StateOptions::default()).await?.ping().await?;
        Ok(Self { sqlite: None })
    }

    /// Whether this is the Redis backend.
    pub fn is_redis(&self) -> bool {
        self.sqlite.is_none()
    }

    /// A store with default options.
    pub async fn store(&self) -> anyhow::Result<Arc<dyn StateStore>> {
        self.open(StateOptions::default()).await
    }

    /// A store with these options (on SQLite: in the records' file, through its own connections).
    pub async fn open(&self, options: StateOptions) -> anyhow::Result<Arc<dyn StateStore>> {
        match &self.sqlite {
            Some(db) => db.stores.database.embedded_state(options).context("SQLite has an embedded state store"),
            None => Ok(Arc::new(testing::redis_state_store(options).await?)),
        }
    }

    /// A room of its own: a random workspace, so tests sharing Redis never meet.
    pub fn room(&self) -> RoomKey {
        RoomKey::new(Uuid::new_v4(), "user-1")
    }

    /// The SQLite test database (`None` on Redis).
    pub fn sqlite_db(&self) -> Option<&TestDb> {
        self.sqlite.as_ref()
    }
}
