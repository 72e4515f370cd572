//! Configuration: defaults, then a TOML file, then `AGENTDECK_*` variables, then flags.
//!
//! Every setting has a default (listed in `docs/configuration.md`). Nested settings
//! are reached from the environment with a double underscore, e.g.
//! `AGENTDECK_AUTH__JWT_SECRET` for `[auth] jwt_secret` ([`env_var`] spells it).
//! In production mode [`Settings::check_production`] turns every insecure choice
//! into a startup error that names the setting to fix.
//!
//! This module holds [`Settings`] (the top-level keys), loading and errors; each
//! `[section]` lives in its own module with its defaults and the helpers that read
//! it: [`agents`], [`http`], [`http_client`], [`auth`], [`storage`] (`database_url`, `redis_url`, `[database]`,
//! `[state]`), [`log`], [`sync`], [`a2a`], [`gateway`], [`rate_limit`],
//! [`metering`], [`sessions`], [`tokens`], [`smtp`] (`[smtp]` and `[invitations]`). [`production`] holds the production checks. A new section gets a
//! module here, a field in [`Settings`], a name in `TOP_LEVEL_KEYS` and rows in
//! `docs/configuration.md`.

pub mod a2a;
pub mod agents;
pub mod auth;
pub mod gateway;
pub mod http;
pub mod http_client;
pub mod log;
pub mod metering;
pub mod oidc;
mod production;
pub mod rate_limit;
mod redact;
pub mod sessions;
pub mod smtp;
pub mod storage;
pub mod sync;
pub mod tokens;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use agentdeck_services::auth::KeyError;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub use a2a::{A2aSettings, AgentFault};
pub use agents::AgentsSettings;
pub use auth::AuthSettings;
pub use gateway::GatewaySettings;
pub use http::HttpSettings;
pub use http_client::HttpClientSettings;
pub use log::LogSettings;
pub use metering::MeteringSettings;
pub use rate_limit::RateLimitSettings;
pub use sessions::SessionsSettings;
pub use smtp::{InvitationSettings, SmtpSettings, SmtpTlsSetting};
pub use storage::{DatabaseSettings, StateSettings};
pub use sync::SyncSettings;
pub use tokens::TokensSettings;

/// Environment variable prefix of every setting.
pub const ENV_PREFIX: &str = "AGENTDECK_";
/// File in the data dir holding the HS256 secret dev mode generates.
pub const DEV_SECRET_FILE: &str = "dev-jwt-secret";
/// File name of the embedded database in the data dir.
pub const SQLITE_FILE: &str = "agentdeck.sqlite";

/// The environment variable of a setting: `auth.jwt_secret` → `AGENTDECK_AUTH__JWT_SECRET`.
pub fn env_var(setting: &str) -> String {
    format!("{ENV_PREFIX}{}", setting.replace('.', "__").to_ascii_uppercase())
}

/// How strict the server is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A laptop: loopback only, demo data, one-click login, readable logs.
    Dev,
    /// A deployment: every insecure setting refuses to start.
    Production,
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "dev" => Ok(Mode::Dev),
            "production" => Ok(Mode::Production),
            other => Err(format!("unknown mode {other:?} (expected dev or production)")),
        }
    }
}

/// Every setting of the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `dev` or `production`.
    pub mode: Mode,
    /// Address and port to listen on.
    pub bind: SocketAddr,
    /// Directory for the SQLite file and the dev-mode secret.
    pub data_dir: PathBuf,
    /// `postgres://…` for cluster mode; empty for the SQLite file in `data_dir`.
    pub database_url: String,
    /// URL people open; empty means `http://{bind}`.
    pub public_url: String,
    /// `redis://…` holding the dashboard state in cluster mode; required when
    /// `database_url` is PostgreSQL, unused in embedded mode.
    pub redis_url: String,
    /// Tokens and sign-in.
    pub auth: AuthSettings,
    /// HTTP limits and exposure.
    pub http: HttpSettings,
    /// `[http_client]`: TLS of the calls this server makes.
    pub http_client: HttpClientSettings,
    /// Database pool.
    pub database: DatabaseSettings,
    /// Logging.
    pub log: LogSettings,
    /// Dashboard state: size cap, storage and lifetime.
    pub state: StateSettings,
    /// Real-time sync over `/api/sync`.
    pub sync: SyncSettings,
    /// `[a2a]`: hosted A2A agents.
    pub a2a: A2aSettings,
    /// `[agents]`: the hosted agents themselves (fault injection for tests and demos).
    pub agents: AgentsSettings,
    /// `[gateway]`: the Dashboard Agent's calls to the specialists.
    pub gateway: GatewaySettings,
    /// `[rate_limit]`: requests per minute per workspace (else client address).
    pub rate_limit: RateLimitSettings,
    /// `[metering]`: token counting and the daily quota.
    pub metering: MeteringSettings,
    /// `[smtp]`: the mail server invitations go out through (off while `host` is empty).
    pub smtp: SmtpSettings,
    /// `[invitations]`: how long invitation links stay valid.
    pub invitations: InvitationSettings,
    /// `[sessions]`: signed-in sessions and the limits of sign-in.
    pub sessions: SessionsSettings,
    /// `[tokens]`: lifetimes of API tokens.
    pub tokens: TokensSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            mode: Mode::Dev,
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: String::new(),
            public_url: String::new(),
            redis_url: String::new(),
            auth: AuthSettings::default(),
            http: HttpSettings::default(),
            http_client: HttpClientSettings::default(),
            database: DatabaseSettings::default(),
            log: LogSettings::default(),
            state: StateSettings::default(),
            a2a: A2aSettings::default(),
            agents: AgentsSettings::default(),
            gateway: GatewaySettings::default(),
            rate_limit: RateLimitSettings::default(),
            metering: MeteringSettings::default(),
            sync: SyncSettings::default(),
            smtp: SmtpSettings::default(),
            invitations: InvitationSettings::default(),
            sessions: SessionsSettings::default(),
            tokens: TokensSettings::default(),
        }
    }
}

/// Settings given on the command line; they win over file and environment.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    /// `--config`: the TOML file to read.
    #[serde(skip)]
    pub config_file: Option<PathBuf>,
    /// `--mode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// `--bind`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<SocketAddr>,
    /// `--data-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `--database-url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

/// Why configuration could not be loaded or used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value is missing, mistyped or unknown.
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
    /// The config file named does not exist.
    #[error("config file {0} does not exist")]
    MissingFile(PathBuf),
    /// Production mode refuses these settings.
    #[error("refusing to start in production mode:\n{}", .0.iter().map(|problem| format!("  - {problem}")).collect::<Vec<_>>().join("\n"))]
    Insecure(Vec<String>),
    /// A file a setting names (or one in the directory it names) could not be read or written.
    #[error("{setting} ({env}): cannot use {path}: {source}")]
    SettingFile {
        /// The setting, e.g. `auth.jwt_public_key`.
        setting: &'static str,
        /// Its environment variable.
        env: String,
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The key a setting holds or names is unusable.
    #[error("{setting} ({env}): {source}")]
    SettingKey {
        /// The setting, e.g. `auth.jwt_public_key`.
        setting: &'static str,
        /// Its environment variable.
        env: String,
        /// What is wrong with the key.
        source: KeyError,
    },
    /// The outbound TLS settings are unusable (e.g. the CA file).
    #[error("{setting} ({env}): {source}")]
    SettingTls {
        /// The setting, e.g. `http_client.ca_file`.
        setting: &'static str,
        /// Its environment variable.
        env: String,
        /// What is wrong.
        source: agentdeck_services::outbound::OutboundTlsError,
    },
    /// Key material is unusable.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A setting names agents this server does not host.
    #[error("{setting} ({env}) names agents this server does not host: {unknown:?}; the hosted agents are {}", .known.join(", "))]
    UnknownAgents {
        /// The setting, e.g. `agents.fail`.
        setting: &'static str,
        /// Its environment variable.
        env: String,
        /// The ids it names that are not hosted.
        unknown: Vec<String>,
        /// The ids of the hosted agents.
        known: Vec<String>,
    },
    /// A setting's value cannot be used.
    #[error("{setting} ({env}) {reason}")]
    SettingInvalid {
        /// The setting, e.g. `smtp.from`.
        setting: &'static str,
        /// Its environment variable.
        env: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `[[auth.oidc]]` providers are misconfigured (or refused in production).
    #[error("auth.oidc (OpenID Connect providers):\n{}", .0.iter().map(|problem| format!("  - {problem}")).collect::<Vec<_>>().join("\n"))]
    Oidc(Vec<String>),
    /// Cluster mode without a Redis for the dashboard state.
    #[error(
        "database_url is PostgreSQL (cluster mode), which keeps dashboard state in Redis: \
         set redis_url (AGENTDECK_REDIS_URL), e.g. redis://127.0.0.1:6379"
    )]
    RedisRequired,
}

/// Top-level setting names; other `AGENTDECK_*` variables (e.g. for tests) are not settings.
const TOP_LEVEL_KEYS: [&str; 22] = [
    "mode",
    "bind",
    "data_dir",
    "database_url",
    "public_url",
    "redis_url",
    "auth",
    "http",
    "http_client",
    "database",
    "log",
    "state",
    "sync",
    "a2a",
    "agents",
    "gateway",
    "rate_limit",
    "metering",
    "smtp",
    "invitations",
    "sessions",
    "tokens",
];

impl Settings {
    /// Loads defaults ← TOML file ← environment ← command-line overrides.
    pub fn load(overrides: &Overrides) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = &overrides.config_file {
            if !path.is_file() {
                return Err(ConfigError::MissingFile(path.clone()));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        let environment = Env::prefixed(ENV_PREFIX).split("__").filter(|key| {
            // Keys arrive with their original case, after `split` mapped `__` to `.`.
            let top = key.as_str().split('.').next().unwrap_or_default();
            TOP_LEVEL_KEYS.iter().any(|known| top.eq_ignore_ascii_case(known))
        });
        figment = figment.merge(environment).merge(Serialized::defaults(overrides));
        figment.extract().map_err(|error| ConfigError::Invalid(Box::new(error)))
    }

    /// The URL to print and link to.
    pub fn public_url(&self) -> String {
        if self.public_url.is_empty() {
            format!("http://{}", self.bind)
        } else {
            self.public_url.trim_end_matches('/').to_owned()
        }
    }
}

#[cfg(test)]
mod tests;
