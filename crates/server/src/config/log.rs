//! `[log]`: what is logged and in which format.

use serde::{Deserialize, Serialize};

/// Logging.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// `tracing` filter, e.g. `info` or `agentdeck_server=debug,info`; `RUST_LOG` wins when set.
    pub level: String,
    /// `auto` (readable in dev, JSON in production), `pretty` or `json`.
    pub format: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self { level: "info".into(), format: "auto".into() }
    }
}
