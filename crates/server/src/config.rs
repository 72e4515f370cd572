//! Configuration: defaults, then a TOML file, then `AGENTDECK_*` variables, then flags.
//!
//! Every setting has a default (listed in `docs/configuration.md`). Nested settings
//! are reached from the environment with a double underscore, e.g.
//! `AGENTDECK_AUTH__JWT_SECRET` for `[auth] jwt_secret`. In production mode
//! [`Settings::check_production`] turns every insecure choice into a startup
//! error that names the setting to fix.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use agentdeck_services::auth::{KeyError, TokenKeys};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Environment variable prefix of every setting.
pub const ENV_PREFIX: &str = "AGENTDECK_";
/// File in the data dir holding the HS256 secret dev mode generates.
pub const DEV_SECRET_FILE: &str = "dev-jwt-secret";
/// File name of the embedded database in the data dir.
pub const SQLITE_FILE: &str = "agentdeck.sqlite";

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
    /// `[gateway]`: the Dashboard Agent's calls to the specialists.
    pub gateway: GatewaySettings,
    /// `[rate_limit]`: requests per minute per workspace (else client address).
    pub rate_limit: RateLimitSettings,
    /// `[metering]`: token counting and the daily quota.
    pub metering: MeteringSettings,
}

/// `[metering]`: tokens of agent messages per workspace and day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MeteringSettings {
    /// Tokens (in and out) a workspace may use per UTC day before alerts at 80 % and 95 %; 0: no quota.
    pub daily_quota_tokens: u64,
}

/// Tokens and sign-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// HS256 secret (≥ 32 bytes). Dev mode generates one in the data dir when empty.
    pub jwt_secret: String,
    /// Path to an Ed25519 public key (PEM) accepted for EdDSA tokens.
    pub jwt_public_key: String,
    /// Path to an Ed25519 private key (PEM) `agentdeck token` signs with.
    pub jwt_private_key: String,
    /// Lifetime of tokens the server issues (dev login), in seconds.
    pub token_ttl_secs: u64,
    /// `POST /api/dev/login`; defaults to on in dev mode, refused in production.
    pub dev_login: Option<bool>,
    /// Seed the demo workspace on first start; defaults to on in dev mode.
    pub seed_demo: Option<bool>,
}

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

/// Database pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// Most connections held open.
    pub max_connections: u32,
    /// Time to wait for a free connection before answering 503, in seconds.
    pub acquire_timeout_secs: u64,
}

/// Logging.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// `tracing` filter, e.g. `info` or `agentdeck_server=debug,info`; `RUST_LOG` wins when set.
    pub level: String,
    /// `auto` (readable in dev, JSON in production), `pretty` or `json`.
    pub format: String,
}

/// Dashboard state: size cap, storage and lifetime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StateSettings {
    /// Largest dashboard document (compact JSON), in bytes; larger writes get 413.
    pub max_document_bytes: usize,
    /// Documents larger than this many bytes are stored compressed.
    pub compression_threshold_bytes: usize,
    /// How many versions of history each dashboard keeps, for rebasing and sync.
    pub history_len: u64,
    /// Days a dashboard lives after its last write.
    pub ttl_days: u64,
}

/// Real-time sync over `/api/sync` (DESIGN §5.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyncSettings {
    /// Largest inbound WebSocket frame, in bytes; a larger one closes the socket with 4009.
    pub max_frame_bytes: usize,
    /// How often the server pings, in milliseconds; two missed pongs close the socket with 4012.
    pub heartbeat_ms: u64,
    /// Patches one user may send per minute over sockets (bursts up to this many); 0 means unlimited.
    pub patches_per_minute: u32,
    /// Open sockets one user may hold on this node (0: unlimited).
    pub max_connections_per_user: usize,
    /// Open sockets one workspace may hold on this node (0: unlimited).
    pub max_connections_per_workspace: usize,
    /// Bytes queued for one socket above which its pending deltas are replaced by one snapshot.
    pub outbound_high_water_bytes: usize,
    /// Bytes queued for one socket above which it is closed with 4008 (slow consumer).
    pub outbound_limit_bytes: usize,
    /// Snapshots larger than this go gzip-compressed to sockets that opened with `?compress=gzip`.
    pub compress_snapshots_above_bytes: usize,
}

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

/// `[gateway]`: how the Dashboard Agent calls the specialists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewaySettings {
    /// Deadline of each specialist call, in milliseconds.
    pub agent_deadline_ms: u64,
    /// Deadlines of particular agents (`navi = 2000`), overriding `agent_deadline_ms`.
    pub agent_deadlines_ms: std::collections::BTreeMap<String, u64>,
    /// How long an agent's answer is reused, in milliseconds (0: never).
    pub cache_ttl_ms: u64,
    /// Reuse times of particular agents (`pulse = 2000`), overriding `cache_ttl_ms`.
    pub cache_ttls_ms: std::collections::BTreeMap<String, u64>,
    /// Where the gateway reaches the specialists (`{agents_url}/{name}`); empty: this
    /// server's own address over loopback (not `public_url`, which may be behind TLS).
    pub agents_url: String,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            agent_deadline_ms: 5_000,
            agent_deadlines_ms: std::collections::BTreeMap::new(),
            cache_ttl_ms: 10_000,
            cache_ttls_ms: std::collections::BTreeMap::new(),
            agents_url: String::new(),
        }
    }
}

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
    /// Longest a blocking `SendMessage` waits before answering with the task as it is
    /// (keep it below `http.request_timeout_secs`).
    pub blocking_timeout_secs: u64,
    /// Seconds between SSE keep-alive comments on idle streams.
    pub keepalive_secs: u64,
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
    /// Test-only faults on agents' JSON-RPC endpoints (`[a2a.faults.pulse] delay_ms = 80`, `fail = true`);
    /// refused in production.
    pub faults: std::collections::BTreeMap<String, AgentFault>,
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
            blocking_timeout_secs: 25,
            keepalive_secs: 15,
            conformance_long_run_secs: 10,
            push_allow_private_networks: None,
            push_signing_secret: String::new(),
            push_timeout_secs: 10,
            push_max_attempts: 5,
            faults: std::collections::BTreeMap::new(),
        }
    }
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            max_frame_bytes: 64 * 1024,
            heartbeat_ms: 25_000,
            patches_per_minute: 100,
            max_connections_per_user: 5,
            max_connections_per_workspace: 100,
            outbound_high_water_bytes: 256 * 1024,
            outbound_limit_bytes: 1024 * 1024,
            compress_snapshots_above_bytes: 8 * 1024,
        }
    }
}

impl Default for StateSettings {
    fn default() -> Self {
        Self { max_document_bytes: 1024 * 1024, compression_threshold_bytes: 8 * 1024, history_len: 256, ttl_days: 30 }
    }
}

impl StateSettings {
    /// How long a dashboard lives after its last write.
    pub fn ttl(&self) -> Duration {
        Duration::from_secs(self.ttl_days.saturating_mul(24 * 60 * 60))
    }
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
            database: DatabaseSettings::default(),
            log: LogSettings::default(),
            state: StateSettings::default(),
            a2a: A2aSettings::default(),
            gateway: GatewaySettings::default(),
            rate_limit: RateLimitSettings::default(),
            metering: MeteringSettings::default(),
            sync: SyncSettings::default(),
        }
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            jwt_secret: String::new(),
            jwt_public_key: String::new(),
            jwt_private_key: String::new(),
            token_ttl_secs: 12 * 60 * 60,
            dev_login: None,
            seed_demo: None,
        }
    }
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

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self { max_connections: 10, acquire_timeout_secs: 5 }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        Self { level: "info".into(), format: "auto".into() }
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
    /// A key or secret file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// Key material is unusable.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Cluster mode without a Redis for the dashboard state.
    #[error(
        "database_url is PostgreSQL (cluster mode), which keeps dashboard state in Redis: \
         set redis_url (AGENTDECK_REDIS_URL), e.g. redis://127.0.0.1:6379"
    )]
    RedisRequired,
}

/// Top-level setting names; other `AGENTDECK_*` variables (e.g. for tests) are not settings.
const TOP_LEVEL_KEYS: [&str; 16] = [
    "mode",
    "bind",
    "data_dir",
    "database_url",
    "public_url",
    "redis_url",
    "auth",
    "http",
    "database",
    "log",
    "state",
    "sync",
    "a2a",
    "gateway",
    "rate_limit",
    "metering",
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

    /// Whether `POST /api/dev/login` is served.
    pub fn dev_login_enabled(&self) -> bool {
        self.auth.dev_login.unwrap_or(self.mode == Mode::Dev)
    }

    /// Whether the conformance test agent is hosted.
    pub fn conformance_agent_enabled(&self) -> bool {
        self.a2a.conformance_agent.unwrap_or(self.mode == Mode::Dev)
    }

    /// Whether push webhooks may be on loopback or private networks.
    pub fn push_private_networks_allowed(&self) -> bool {
        self.a2a.push_allow_private_networks.unwrap_or(self.mode == Mode::Dev)
    }

    /// Whether the demo workspace is seeded on first start.
    pub fn seed_demo_enabled(&self) -> bool {
        self.auth.seed_demo.unwrap_or(self.mode == Mode::Dev)
    }

    /// The database URL in effect: the configured one, or the SQLite file in the data dir.
    pub fn effective_database_url(&self) -> String {
        if self.database_url.is_empty() {
            agentdeck_storage::sqlite_url(&self.data_dir.join(SQLITE_FILE))
        } else {
            self.database_url.clone()
        }
    }

    /// Whether records live in the embedded SQLite file.
    pub fn is_embedded(&self) -> bool {
        self.database_url.is_empty() || self.database_url.starts_with("sqlite:")
    }

    /// Checks that cluster mode has what it needs besides the database: Redis for the dashboard state.
    pub fn check_cluster(&self) -> Result<(), ConfigError> {
        if !self.is_embedded() && self.redis_url.trim().is_empty() {
            return Err(ConfigError::RedisRequired);
        }
        Ok(())
    }

    /// The URL to print and link to.
    pub fn public_url(&self) -> String {
        if self.public_url.is_empty() {
            format!("http://{}", self.bind)
        } else {
            self.public_url.trim_end_matches('/').to_owned()
        }
    }

    /// Lifetime of tokens the server issues.
    pub fn token_ttl(&self) -> Duration {
        Duration::from_secs(self.auth.token_ttl_secs)
    }

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
        } else if !auth.jwt_secret.is_empty() && auth.jwt_secret.len() < agentdeck_services::auth::MIN_SECRET_BYTES {
            problems.push("auth.jwt_secret (AGENTDECK_AUTH__JWT_SECRET) is shorter than 32 bytes".to_owned());
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
        if self.http.allowed_origins.iter().any(|origin| origin.trim() == "*") {
            problems.push(
                "http.allowed_origins (AGENTDECK_HTTP__ALLOWED_ORIGINS) must list exact origins, not \"*\"".to_owned(),
            );
        }
        if !self.bind.ip().is_loopback() && !self.http.behind_proxy {
            problems.push(format!(
                "bind ({}) is a public address but agentdeck serves plain HTTP: put it behind a \
                 TLS-terminating proxy and set http.behind_proxy = true (AGENTDECK_HTTP__BEHIND_PROXY=true), \
                 or bind to 127.0.0.1 (AGENTDECK_BIND)",
                self.bind
            ));
        }
        if problems.is_empty() { Ok(()) } else { Err(ConfigError::Insecure(problems)) }
    }

    /// Builds the token keys; in dev mode without a configured key, uses (and on
    /// first use creates) a random secret kept in the data dir, so `agentdeck
    /// token` and `agentdeck serve` with the same data dir agree.
    pub fn token_keys(&self) -> Result<TokenKeys, ConfigError> {
        let auth = &self.auth;
        let mut keys = TokenKeys::default();
        if !auth.jwt_secret.is_empty() {
            keys = keys.with_hs256_secret(auth.jwt_secret.as_bytes())?;
        }
        if !auth.jwt_public_key.is_empty() {
            keys = keys.with_eddsa_public_pem(&read_file(Path::new(&auth.jwt_public_key))?)?;
        }
        if !auth.jwt_private_key.is_empty() {
            keys = keys.with_eddsa_private_pem(&read_file(Path::new(&auth.jwt_private_key))?)?;
        }
        if !keys.can_verify() && self.mode == Mode::Dev {
            keys = keys.with_hs256_secret(dev_secret(&self.data_dir)?.as_bytes())?;
        }
        if !keys.can_verify() {
            return Err(KeyError::NoVerificationKey.into());
        }
        Ok(keys)
    }

    /// The settings with secrets replaced, for printing.
    pub fn redacted(&self) -> Settings {
        let mut copy = self.clone();
        if !copy.auth.jwt_secret.is_empty() {
            copy.auth.jwt_secret = "<redacted>".into();
        }
        if !copy.a2a.push_signing_secret.is_empty() {
            copy.a2a.push_signing_secret = "<redacted>".into();
        }
        copy.database_url = redact_url_password(&copy.database_url);
        copy.redis_url = redact_url_password(&copy.redis_url);
        copy
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|source| ConfigError::Io { path: path.to_owned(), source })
}

/// Reads the dev secret from the data dir, creating both on first use.
fn dev_secret(data_dir: &Path) -> Result<String, ConfigError> {
    let path = data_dir.join(DEV_SECRET_FILE);
    let io_error = |source| ConfigError::Io { path: path.clone(), source };
    match std::fs::read_to_string(&path) {
        Ok(secret) if secret.trim().len() >= agentdeck_services::auth::MIN_SECRET_BYTES => {
            return Ok(secret.trim().to_owned());
        }
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(io_error(error)),
    }
    std::fs::create_dir_all(data_dir).map_err(io_error)?;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| io_error(std::io::Error::other(error.to_string())))?;
    let secret: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    write_private_file(&path, &secret).map_err(io_error)?;
    Ok(secret)
}

/// Writes a file only its owner may read.
fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

fn redact_url_password(url: &str) -> String {
    // scheme://user:password@host… → scheme://user:<redacted>@host…
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:<redacted>@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests;
