//! `[http]`: request limits, shutdown grace and who may call from a browser.

use serde::{Deserialize, Serialize};

/// HTTP limits and exposure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Deepest JSON nesting accepted in a request body.
    pub max_json_depth: usize,
    /// Time a request may take before it is answered 408, in seconds.
    pub request_timeout_secs: u64,
    /// Time in-flight requests get to finish on shutdown, in seconds.
    pub shutdown_grace_secs: u64,
    /// Browser origins allowed besides the server's own (exact matches; `*` refused in production).
    pub allowed_origins: Vec<String>,
    /// TLS is terminated by a reverse proxy in front; required to bind a public address in production.
    pub behind_proxy: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 2 * 1024 * 1024,
            max_json_depth: 32,
            request_timeout_secs: 30,
            shutdown_grace_secs: 10,
            allowed_origins: Vec::new(),
            behind_proxy: false,
        }
    }
}
