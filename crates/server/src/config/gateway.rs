//! `[gateway]`: how the Dashboard Agent calls the specialists.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `[gateway]`: how the Dashboard Agent calls the specialists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewaySettings {
    /// Deadline of each specialist call, in milliseconds.
    pub agent_deadline_ms: u64,
    /// Deadlines of particular agents (`navi = 2000`), overriding `agent_deadline_ms`.
    pub agent_deadlines_ms: BTreeMap<String, u64>,
    /// How long an agent's answer is reused, in milliseconds (0: never).
    pub cache_ttl_ms: u64,
    /// Reuse times of particular agents (`pulse = 2000`), overriding `cache_ttl_ms`.
    pub cache_ttls_ms: BTreeMap<String, u64>,
    /// Where the gateway reaches the specialists over HTTP(S) (`{agents_url}/{name}`);
    /// empty: the agents hosted by this server, called in process (no HTTP hop).
    pub agents_url: String,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            agent_deadline_ms: 5_000,
            agent_deadlines_ms: BTreeMap::new(),
            cache_ttl_ms: 10_000,
            cache_ttls_ms: BTreeMap::new(),
            agents_url: String::new(),
        }
    }
}
