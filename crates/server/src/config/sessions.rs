//! `[sessions]`: signed-in sessions of people and the brute-force limits of sign-in.

use std::time::Duration;

use agentdeck_services::accounts::sessions::SessionPolicy;
use serde::{Deserialize, Serialize};

use super::Settings;

/// `[sessions]`: session timeouts, the per-account lockout and the per-address sign-in limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionsSettings {
    /// A session unused for this many seconds ends (default 8 hours).
    pub idle_timeout_secs: u64,
    /// A session ends this many seconds after sign-in, whatever its use (default 7 days).
    pub absolute_timeout_secs: u64,
    /// Failed sign-ins of one email within `failure_window_secs` that lock it (default 5).
    pub max_failures: u32,
    /// The window failures are counted in, and the longest a lock lasts, in seconds (default 15 minutes).
    pub failure_window_secs: u64,
    /// Sign-in attempts per client address per minute (`rate_limit.window_secs`), default 20.
    pub login_per_minute_per_address: u32,
}

impl Default for SessionsSettings {
    fn default() -> Self {
        Self {
            idle_timeout_secs: 8 * 60 * 60,
            absolute_timeout_secs: 7 * 24 * 60 * 60,
            max_failures: 5,
            failure_window_secs: 15 * 60,
            login_per_minute_per_address: 20,
        }
    }
}

impl Settings {
    /// The session rules these settings make (zero values are raised to one second or one failure).
    pub fn session_policy(&self) -> SessionPolicy {
        let sessions = &self.sessions;
        SessionPolicy {
            idle_timeout: Duration::from_secs(sessions.idle_timeout_secs.max(1)),
            absolute_timeout: Duration::from_secs(sessions.absolute_timeout_secs.max(1)),
            max_failures: sessions.max_failures.max(1),
            failure_window: Duration::from_secs(sessions.failure_window_secs.max(1)),
        }
    }
}
