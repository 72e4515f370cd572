//! `[http_client]`: the HTTP clients of calls this server makes (push
//! deliveries to webhooks, the gateway's calls to agents).

use std::path::Path;

use agentdeck_services::outbound::OutboundHttp;
use serde::{Deserialize, Serialize};

use super::{ConfigError, Settings, env_var};

/// `[http_client]`: TLS of outbound calls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpClientSettings {
    /// A PEM file of CA certificates trusted besides Mozilla's roots (a private CA); empty: none.
    pub ca_file: String,
}

impl Settings {
    /// The factory of outbound clients; a CA file that cannot be used is an error naming the setting.
    pub fn outbound_http(&self) -> Result<OutboundHttp, ConfigError> {
        const SETTING: &str = "http_client.ca_file";
        let ca_file = Some(self.http_client.ca_file.as_str()).filter(|path| !path.is_empty()).map(Path::new);
        OutboundHttp::new(ca_file).map_err(|source| ConfigError::SettingTls {
            setting: SETTING,
            env: env_var(SETTING),
            source,
        })
    }
}
