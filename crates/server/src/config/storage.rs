//! Where records and dashboard state live: `database_url`, `redis_url`, `[database]` and `[state]`.
//!
//! Embedded mode (no `database_url`, or a `sqlite:` one) keeps everything in one
//! SQLite file in `data_dir`. Cluster mode (PostgreSQL) keeps records there and the
//! dashboard state in Redis, so it needs `redis_url` as well.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ConfigError, SQLITE_FILE, Settings};

/// Database pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// Most connections held open.
    pub max_connections: u32,
    /// Time to wait for a free connection before answering 503, in seconds.
    pub acquire_timeout_secs: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self { max_connections: 10, acquire_timeout_secs: 5 }
    }
}

/// Dashboard state: size cap, storage and lifetime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StateSettings {
    /// Largest dashboard document (compact JSON), in bytes; larger writes get 413.
    pub max_document_bytes: usize,
    /// Documents larger than this many bytes are stored compressed.
    pub compression_threshold_bytes: usize,
    /// How many versions of history each dashboard keeps, for rebasing and sync.
    pub history_len: u64,
    /// Days a dashboard lives after its last write.
    pub ttl_days: u64,
}

impl Default for StateSettings {
    fn default() -> Self {
        Self { max_document_bytes: 1024 * 1024, compression_threshold_bytes: 8 * 1024, history_len: 256, ttl_days: 30 }
    }
}

impl StateSettings {
    /// How long a dashboard lives after its last write.
    pub fn ttl(&self) -> Duration {
        Duration::from_secs(self.ttl_days.saturating_mul(24 * 60 * 60))
    }
}

impl Settings {
    /// The database URL in effect: the configured one, or the SQLite file in the data dir.
    pub fn effective_database_url(&self) -> String {
        if self.database_url.is_empty() {
            agentdeck_storage::sqlite_url(&self.data_dir.join(SQLITE_FILE))
        } else {
            self.database_url.clone()
        }
    }

    /// Whether records live in the embedded SQLite file.
    pub fn is_embedded(&self) -> bool {
        self.database_url.is_empty() || self.database_url.starts_with("sqlite:")
    }

    /// Checks that cluster mode has what it needs besides the database: Redis for the dashboard state.
    pub fn check_cluster(&self) -> Result<(), ConfigError> {
        if !self.is_embedded() && self.redis_url.trim().is_empty() {
            return Err(ConfigError::RedisRequired);
        }
        Ok(())
    }
}
