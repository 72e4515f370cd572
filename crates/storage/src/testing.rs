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

/// The URL of database `name` on the server of `admin_url` (its path replaced, the rest kept).
pub fn database_url(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let mut url =
        url::Url::parse(admin_url).with_context(|| format!("AGENTDECK_TEST_POSTGRES_URL is not a URL: {admin_url}"))?;
    if url.cannot_be_a_base() {
        bail!("AGENTDECK_TEST_POSTGRES_URL names no server: {admin_url}");
    }
    url.set_path(&format!("/{name}"));
    Ok(url.into())
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

/// A `redis-server` process the test owns (on a free loopback port, with an
/// append-only file fsynced on every write), so a test can stop it and start it
/// again on the same port and data — an outage without touching the shared server.
pub struct OwnedRedis {
    port: u16,
    dir: TempDir,
    process: Option<std::process::Child>,
}

impl OwnedRedis {
    /// Starts a fresh server; fails when `redis-server` is not installed.
    pub fn start() -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut redis = Self { port, dir: tempfile::tempdir()?, process: None };
        redis.restart()?;
        Ok(redis)
    }

    /// The port it listens on (loopback).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (as a crash would) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _already_exited = process.kill();
            let _ = process.wait();
        }
    }

    /// Starts the server again on the same port and data, and waits until it answers.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop();
        let process = std::process::Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string(), "--save", ""])
            .args(["--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .context("starting redis-server (install it: apt-get install redis-server)")?;
        self.process = Some(process);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if answers_ping(self.port) {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        bail!("redis-server on port {} did not answer within 10 s", self.port)
    }
}

impl Drop for OwnedRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether a Redis server on the port answers `PING` (plain RESP over TCP).
fn answers_ping(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(500)));
    let mut reply = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok() && stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_replaces_only_the_database() -> anyhow::Result<()> {
        assert_eq!(database_url("postgres://u:p@h:5432/postgres", "t")?, "postgres://u:p@h:5432/t");
        assert_eq!(database_url("postgresql://h?sslmode=disable", "t")?, "postgresql://h/t?sslmode=disable");
        assert_eq!(database_url("postgres://h/a/b?x=1#f", "t")?, "postgres://h/t?x=1#f");
        assert!(database_url("h:5432/postgres", "t").is_err(), "no scheme, no server");
        assert!(database_url("not a url", "t").is_err());
        Ok(())
    }
}
