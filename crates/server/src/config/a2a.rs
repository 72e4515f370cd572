//! `[a2a]`: the hosted A2A agents, their task handling and push deliveries.

use std::collections::BTreeMap;

use agentdeck_services::a2a::DEFAULT_MAX_HELD_TASKS;
use serde::{Deserialize, Serialize};

use super::{Mode, Settings};

/// `[a2a]`: the hosted A2A agents and their task handling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct A2aSettings {
    /// Host the conformance test agent at `/a2a/conformance` (it serves
    /// unauthenticated callers); defaults to on in dev mode, off in production.
    pub conformance_agent: Option<bool>,
    /// The agent whose card `/.well-known/agent-card.json` serves; empty: the Dashboard Agent (`gateway`).
    pub default_agent: String,
    /// Events kept per task for `Last-Event-ID` resumption.
    pub keep_events: u32,
    /// Tasks a node holds in memory past which idle ones (waiting for input,
    /// nobody streaming) are let go; they stay in the store.
    pub max_held_tasks: usize,
    /// Longest a blocking `SendMessage` waits before answering with the task as it is
    /// (keep it below `http.request_timeout_secs`).
    pub blocking_timeout_secs: u64,
    /// Seconds between SSE keep-alive comments on idle streams.
    pub keepalive_secs: u64,
    /// How long a send's `Idempotency-Key` is remembered (a retry within it gets the first outcome).
    pub idempotency_ttl_secs: u64,
    /// How long the conformance agent's long-running tasks work.
    pub conformance_long_run_secs: u64,
    /// Allow push webhooks on loopback and private networks (SSRF guard off);
    /// defaults to on in dev mode, and is refused in production.
    pub push_allow_private_networks: Option<bool>,
    /// Key that signs push deliveries (`X-A2A-Signature`); empty: a random key per process.
    pub push_signing_secret: String,
    /// Timeout of one push delivery attempt.
    pub push_timeout_secs: u64,
    /// Attempts per push delivery, the first included.
    pub push_max_attempts: u32,
    /// Test-only faults on agents' JSON-RPC endpoints and the gateway's in-process calls to them
    /// (`[a2a.faults.pulse] delay_ms = 80`, `fail = true`); refused in production.
    pub faults: BTreeMap<String, AgentFault>,
}

/// A fault injected in front of one agent (tests and benchmarks only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentFault {
    /// Wait this long before handling each call.
    pub delay_ms: u64,
    /// Then answer every call with an internal error.
    pub fail: bool,
}

impl Default for A2aSettings {
    fn default() -> Self {
        Self {
            conformance_agent: None,
            default_agent: String::new(),
            keep_events: 256,
            max_held_tasks: DEFAULT_MAX_HELD_TASKS,
            blocking_timeout_secs: 25,
            keepalive_secs: 15,
            idempotency_ttl_secs: 86_400,
            conformance_long_run_secs: 10,
            push_allow_private_networks: None,
            push_signing_secret: String::new(),
            push_timeout_secs: 10,
            push_max_attempts: 5,
            faults: BTreeMap::new(),
        }
    }
}

impl Settings {
    /// Whether the conformance test agent is hosted.
    pub fn conformance_agent_enabled(&self) -> bool {
        self.a2a.conformance_agent.unwrap_or(self.mode == Mode::Dev)
    }

    /// Whether push webhooks may be on loopback or private networks.
    pub fn push_private_networks_allowed(&self) -> bool {
        self.a2a.push_allow_private_networks.unwrap_or(self.mode == Mode::Dev)
    }
}
