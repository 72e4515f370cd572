//! Production strictness: every insecure choice becomes a startup error that
//! names the setting (and its environment variable) to fix, all listed at once.

use super::auth::secret_weakness;
use super::{ConfigError, Mode, Settings, SmtpTlsSetting};

impl Settings {
    /// In production mode, lists every insecure setting with what to set instead.
    pub fn check_production(&self) -> Result<(), ConfigError> {
        if self.mode != Mode::Production {
            return Ok(());
        }
        let mut problems = Vec::new();
        let auth = &self.auth;
        if auth.jwt_secret.is_empty() && auth.jwt_public_key.is_empty() {
            problems.push(
                "no JWT key: set auth.jwt_secret (AGENTDECK_AUTH__JWT_SECRET, at least 32 bytes) \
                 or auth.jwt_public_key (AGENTDECK_AUTH__JWT_PUBLIC_KEY, an Ed25519 PEM file)"
                    .to_owned(),
            );
        } else if !auth.jwt_secret.is_empty()
            && let Some(weakness) = secret_weakness(auth.jwt_secret.as_bytes())
        {
            problems.push(format!("auth.jwt_secret (AGENTDECK_AUTH__JWT_SECRET) {weakness}"));
        }
        if auth.dev_login == Some(true) {
            problems.push("auth.dev_login (AGENTDECK_AUTH__DEV_LOGIN) must not be true in production".to_owned());
        }
        if self.a2a.push_allow_private_networks == Some(true) {
            problems.push(
                "a2a.push_allow_private_networks (AGENTDECK_A2A__PUSH_ALLOW_PRIVATE_NETWORKS) lets any caller make \
                 the server POST to internal addresses: leave it unset in production"
                    .to_owned(),
            );
        }
        if !self.a2a.faults.is_empty() {
            problems.push("a2a.faults injects failures for tests and benchmarks: remove it in production".to_owned());
        }
        if !self.agents.fail.is_empty() {
            problems.push(format!(
                "agents.fail makes agents fail on purpose (tests and demos): unset AGENTDECK_AGENTS__FAIL and remove \
                 [agents] fail from the config file (it lists {:?})",
                self.agents.fail
            ));
        }
        if self.http.allowed_origins.iter().any(|origin| origin.trim() == "*") {
            problems.push(
                "http.allowed_origins (AGENTDECK_HTTP__ALLOWED_ORIGINS) must list exact origins, not \"*\"".to_owned(),
            );
        } else if !self.http.malformed_origins().is_empty() {
            let malformed = self.http.malformed_origins();
            problems.push(format!(
                "http.allowed_origins (AGENTDECK_HTTP__ALLOWED_ORIGINS) holds entries that are not origins \
                 (scheme://host[:port], no path): {malformed:?}"
            ));
        }
        if !self.bind.ip().is_loopback() && !self.http.behind_proxy {
            problems.push(format!(
                "bind ({}) is a public address but agentdeck serves plain HTTP: put it behind a \
                 TLS-terminating proxy and set http.behind_proxy = true (AGENTDECK_HTTP__BEHIND_PROXY=true), \
                 or bind to 127.0.0.1 (AGENTDECK_BIND)",
                self.bind
            ));
        }
        if self.smtp.enabled() && self.smtp.tls == SmtpTlsSetting::None && !self.smtp.host_is_loopback() {
            problems.push(format!(
                "smtp.tls (AGENTDECK_SMTP__TLS) is \"none\" for the remote host {:?}: invitation links and the SMTP \
                 password would cross the network in clear text; use \"starttls\" or \"tls\" (\"none\" is for a \
                 relay on this machine only)",
                self.smtp.host
            ));
        }
        if problems.is_empty() { Ok(()) } else { Err(ConfigError::Insecure(problems)) }
    }
}
