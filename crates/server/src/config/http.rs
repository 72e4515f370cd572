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

/// Parses an origin as a browser sends it in `Origin` (`scheme://host[:port]`, a
/// trailing `/` tolerated); `None` for anything else (`null`, `*`, a path, a query).
pub fn parse_origin(text: &str) -> Option<url::Origin> {
    let url = url::Url::parse(text.trim()).ok()?;
    let bare = url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    let origin = url.origin();
    (bare && origin.is_tuple()).then_some(origin)
}

impl HttpSettings {
    /// The entries of `allowed_origins` that are not origins (each would never match).
    pub fn malformed_origins(&self) -> Vec<&str> {
        self.allowed_origins.iter().map(String::as_str).filter(|entry| parse_origin(entry).is_none()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        let origin = parse_origin("https://App.Example:443/").expect("an origin");
        assert_eq!(origin, parse_origin("https://app.example").expect("an origin"), "default port and case fold");
        assert_ne!(origin, parse_origin("http://app.example").expect("an origin"), "scheme matters");
        for not_an_origin in ["*", "null", "app.example", "https://app.example/path", "https://user@app.example"] {
            assert_eq!(parse_origin(not_an_origin), None, "{not_an_origin}");
        }
    }
}
