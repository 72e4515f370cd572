//! `[rate_limit]`: requests per minute per route class.

use serde::{Deserialize, Serialize};

/// `[rate_limit]`: limits per route class, keyed by workspace, else client address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Whether limits apply at all.
    pub enabled: bool,
    /// A2A calls per minute.
    pub a2a_per_minute: u32,
    /// Agent card and index reads per minute.
    pub discovery_per_minute: u32,
    /// `/health` and `/ready` per minute.
    pub health_per_minute: u32,
    /// Prefix of the Redis keys (cluster mode).
    pub redis_prefix: String,
    /// Longest wait for Redis per decision, in milliseconds, before the request goes through unlimited.
    pub redis_timeout_ms: u64,
    /// How long Redis is skipped after a failed decision, in milliseconds (requests go through unlimited).
    pub redis_cooldown_ms: u64,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            a2a_per_minute: 100,
            discovery_per_minute: 30,
            health_per_minute: 300,
            redis_prefix: "agentdeck:rl".into(),
            redis_timeout_ms: 100,
            redis_cooldown_ms: 5_000,
        }
    }
}
