//! Fresh databases for tests (feature `testing`): a SQLite file in a temporary
//! folder, or a new database on the PostgreSQL server of the test machine, each
//! removed when dropped; and a state store on the test machine's Redis. The
//! storage suite and the server's tests both use it.

use anyhow::{Context, bail};
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};
use tempfile::TempDir;
use uuid::Uuid;

use crate::{RedisStateStore, StateOptions, sqlite_url};

/// Server the postgres tests create their databases on, unless
/// `AGENTDECK_TEST_POSTGRES_URL` names another.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Redis server the state store tests use, unless `AGENTDECK_TEST_REDIS_URL`
/// names another.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// The Redis URL for tests.
pub fn redis_url() -> String {
    std::env::var("AGENTDECK_TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS_URL.to_owned())
}

/// A Redis state store on the test server; fails (never skips) when it is
/// unreachable. Tests share the server and stay apart by using rooms of a
/// random workspace id.
pub async fn redis_state_store(options: StateOptions) -> anyhow::Result<RedisStateStore> {
    let url = redis_url();
    RedisStateStore::connect(&url, options).await.with_context(|| {
        format!(
            "Redis is not reachable at {url}; the redis state tests need it \
             (start redis-server, or point AGENTDECK_TEST_REDIS_URL at one)"
        )
    })
}

/// An empty database of its own, removed when dropped.
pub struct TestDatabase {
    /// URL to connect to it.
    pub url: String,
    _sqlite_dir: Option<TempDir>,
    _postgres: Option<PostgresDatabase>,
}

impl TestDatabase {
    /// A new SQLite file in a temporary folder.
    pub fn sqlite() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let url = sqlite_url(&dir.path().join("agentdeck.sqlite"));
        Ok(Self { url, _sqlite_dir: Some(dir), _postgres: None })
    }

    /// A new PostgreSQL database; fails (never skips) when the server is unreachable.
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
        let url = database_url(&admin_url, &name)?;
        Ok(Self { url, _sqlite_dir: None, _postgres: Some(PostgresDatabase { admin_url, name }) })
    }
}

/// The URL of database `name` on the server of `admin_url`.
pub fn database_url(admin_url: &str, name: &str) -> anyhow::Result<String> {
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
        // Drop may run inside a test's runtime, which cannot be blocked on; a thread
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_replaces_only_the_database() -> anyhow::Result<()> {
        assert_eq!(database_url("postgres://u:p@h:5432/postgres", "t")?, "postgres://u:p@h:5432/t");
        assert_eq!(database_url("postgresql://h?sslmode=disable", "t")?, "postgresql://h/t?sslmode=disable");
        Ok(())
    }
}
