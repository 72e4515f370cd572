//! Building and running the server, separate from `main` so tests can start it
//! on a random port.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use agentdeck_services::auth::TokenService;
use agentdeck_services::seed::{DEMO_WORKSPACE_NAME, SeedOutcome, seed_demo};
use std::sync::Arc;

use agentdeck_storage::ratelimit::{MemoryLimiter, Quotas, RateLimiter, RedisLimiter, RedisLimiterOptions};
use agentdeck_storage::tickets::{MemoryTicketStore, RedisTicketStore, TicketError, TicketStore};
use agentdeck_storage::{
    Bus, ChangeFeed, ConnectOptions, RedisBus, RedisChangeFeed, RedisStateStore, StateError, StateOptions, StateStore,
    StoreError, Stores,
};
use axum::Router;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;

use crate::config::{ConfigError, Mode, SQLITE_FILE, Settings};
use crate::http;
use crate::state::AppState;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Configuration is invalid or insecure.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened or migrated.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// The dashboard state store (Redis in cluster mode) could not be opened.
    #[error("dashboard state store: {0}")]
    State(#[source] StateError),
    /// The WebSocket ticket store (Redis in cluster mode) could not be opened.
    #[error("ticket store: {0}")]
    Tickets(#[source] TicketError),
    /// The data directory could not be created.
    #[error("cannot create data dir {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// A server that is bound and ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
    settings: Settings,
    address: SocketAddr,
    migrations_applied: usize,
    seed: Option<SeedOutcome>,
    state_backend: &'static str,
    /// Tells open sync sockets the server is stopping.
    sockets_stopping: Arc<tokio::sync::watch::Sender<bool>>,
    /// The A2A task service: its agent runs and streams stop with the server.
    a2a: agentdeck_services::a2a::A2aService,
    /// The gateway's live refresh stops with the server.
    gateway: agentdeck_services::gateway::Gateway,
    /// Counted tokens are written before the server exits.
    meter: Arc<agentdeck_services::metering::Meter>,
}

/// Opens the records stores on the database named by the settings and applies pending migrations.
pub async fn open_store(settings: &Settings) -> Result<(Stores, usize), StartupError> {
    if settings.is_embedded() && settings.database_url.is_empty() {
        std::fs::create_dir_all(&settings.data_dir)
            .map_err(|source| StartupError::DataDir { path: settings.data_dir.clone(), source })?;
    }
    let options = ConnectOptions {
        max_connections: settings.database.max_connections,
        acquire_timeout: Duration::from_secs(settings.database.acquire_timeout_secs),
    };
    let stores = agentdeck_storage::connect(&settings.effective_database_url(), &options).await?;
    let applied = stores.database.migrate().await?;
    Ok((stores, applied))
}

/// Opens the dashboard state store: inside the records database in embedded
/// mode, Redis (`redis_url`) in cluster mode.
pub async fn open_state_store(settings: &Settings, stores: &Stores) -> Result<Arc<dyn StateStore>, StartupError> {
    let options =
        StateOptions { history_len: settings.state.history_len, ttl: settings.state.ttl(), ..StateOptions::default() };
    if let Some(embedded) = stores.database.embedded_state(options.clone()) {
        return Ok(embedded);
    }
    settings.check_cluster()?;
    // `connect` bounds the wait with `options.timeout`, so a dead Redis fails startup promptly.
    let redis = RedisStateStore::connect(&settings.redis_url, options).await.map_err(StartupError::State)?;
    Ok(Arc::new(redis))
}

/// Starts the change feed that tells this node about commits of other nodes:
/// none in embedded mode (one node), Redis pub/sub in cluster mode.
pub fn open_change_feed(settings: &Settings) -> Result<Option<Arc<dyn ChangeFeed>>, StartupError> {
    if settings.is_embedded() {
        return Ok(None);
    }
    settings.check_cluster()?;
    let feed = RedisChangeFeed::start(&settings.redis_url)
        .map_err(|error| StartupError::State(StateError::Backend(Box::new(error))))?;
    Ok(Some(Arc::new(feed)))
}

/// Starts the bus between cluster nodes (A2A task events, project data
/// changes): none in embedded mode (one node), Redis pub/sub in cluster mode.
pub fn open_bus(settings: &Settings) -> Result<Option<Arc<dyn Bus>>, StartupError> {
    if settings.is_embedded() {
        return Ok(None);
    }
    settings.check_cluster()?;
    let bus = RedisBus::start(&settings.redis_url)
        .map_err(|error| StartupError::State(StateError::Backend(Box::new(error))))?;
    Ok(Some(Arc::new(bus)))
}

/// Opens the rate limiter: in process in embedded mode, on Redis in cluster
/// mode (so the limits hold across nodes; it connects on its first check and
/// fails open); none when the settings turn it off.
pub fn open_rate_limiter(settings: &Settings) -> Result<Option<Arc<dyn RateLimiter>>, StartupError> {
    let limits = &settings.rate_limit;
    if !limits.enabled {
        return Ok(None);
    }
    let quotas = Quotas {
        a2a: limits.a2a_per_minute,
        discovery: limits.discovery_per_minute,
        health: limits.health_per_minute,
        sign_in: settings.sessions.login_per_minute_per_address,
        window: Duration::from_secs(limits.window_secs.max(1)),
    };
    if settings.is_embedded() {
        return Ok(Some(Arc::new(MemoryLimiter::new(quotas))));
    }
    settings.check_cluster()?;
    let options = RedisLimiterOptions {
        prefix: limits.redis_prefix.clone(),
        timeout: Duration::from_millis(limits.redis_timeout_ms.max(1)),
        cooldown: Duration::from_millis(limits.redis_cooldown_ms),
    };
    let redis = RedisLimiter::new(&settings.redis_url, quotas, options)
        .map_err(|error| StartupError::State(StateError::Backend(Box::new(error))))?;
    Ok(Some(Arc::new(redis)))
}

/// How long startup waits for Redis when it opens the cluster-mode ticket store.
const TICKET_STORE_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens the WebSocket ticket store: process memory in embedded mode (one
/// node), Redis in cluster mode so a ticket issued by one node works on another.
pub async fn open_ticket_store(settings: &Settings) -> Result<Arc<dyn TicketStore>, StartupError> {
    if settings.is_embedded() {
        return Ok(Arc::new(MemoryTicketStore::new()));
    }
    settings.check_cluster()?;
    let redis =
        RedisTicketStore::connect(&settings.redis_url, TICKET_STORE_TIMEOUT).await.map_err(StartupError::Tickets)?;
    Ok(Arc::new(redis))
}

/// The single sign-on service of the configured providers (`None` without any),
/// discovering them in the background: a provider that is down delays nothing
/// and is tried again on first use.
fn open_sso(
    providers: Vec<agentdeck_services::sso::ProviderConfig>,
    state: &AppState,
) -> Result<Option<agentdeck_services::sso::Sso>, StartupError> {
    if providers.is_empty() {
        return Ok(None);
    }
    let outbound = state.settings.outbound_http()?;
    let sso =
        agentdeck_services::sso::Sso::new(providers, &state.settings.public_url(), &outbound, state.stores.clone())
            .map_err(|error| ConfigError::Oidc(vec![error.to_string()]))?;
    let discovering = sso.clone();
    tokio::spawn(async move {
        discovering.discover_all().await;
    });
    Ok(Some(sso))
}

impl Application {
    /// Checks the settings, opens and migrates storage, seeds the demo (dev), and binds.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        // reqwest's clients (ours and any other in the process) need a rustls provider: ring.
        agentdeck_services::outbound::install_crypto_provider();
        settings.check_production()?;
        settings.check_agents()?;
        settings.check_oidc()?;
        let oidc_providers = settings.oidc_providers()?;
        // Before any connection: a missing Redis URL is a configuration mistake, not an outage.
        settings.check_cluster()?;
        let keys = settings.token_keys()?;
        let outbound = settings.outbound_http()?;
        let mailer = settings.mailer()?;
        let (stores, migrations_applied) = open_store(&settings).await?;
        let state_store = open_state_store(&settings, &stores).await?;
        let state_backend = state_store.backend();
        let tickets = open_ticket_store(&settings).await?;
        let feed = open_change_feed(&settings)?;
        let bus = open_bus(&settings)?;
        let seed =
            if settings.seed_demo_enabled() { Some(seed_demo(&stores, chrono::Utc::now()).await?) } else { None };
        let listener = TcpListener::bind(settings.bind)
            .await
            .map_err(|source| StartupError::Bind { address: settings.bind, source })?;
        let address = listener.local_addr().map_err(|source| StartupError::Bind { address: settings.bind, source })?;
        // Cards and same-origin checks need the address actually bound (port 0 in tests).
        let mut edge_settings = settings.clone();
        if edge_settings.public_url.is_empty() {
            edge_settings.public_url = format!("http://{address}");
        }
        let limiter = open_rate_limiter(&settings)?;
        // Loading the tokenizer vocabularies takes a moment; do it now rather than in the first agent call.
        if tokio::task::spawn_blocking(agentdeck_services::metering::warm_up).await.is_err() {
            tracing::warn!("tokenizer warm-up failed; the first metered message loads it");
        }
        let state = AppState::new(
            edge_settings,
            stores,
            state_store,
            TokenService::new(keys),
            tickets,
            feed,
            bus,
            limiter,
            outbound,
        )
        .with_mailer(mailer);
        let sso = open_sso(oidc_providers, &state)?;
        let state = state.with_sso(sso);
        let a2a = state.a2a.clone();
        let gateway = state.gateway.clone();
        let meter = state.meter.clone();
        if settings.is_embedded() {
            // One node: a task still working in the store was cut short by our own restart.
            // A cluster node cannot tell that, so cluster mode leaves them alone.
            if let Err(error) = a2a.fail_interrupted_runs().await {
                tracing::warn!(%error, "could not end A2A tasks interrupted by a restart");
            }
        }
        let sockets_stopping = state.shutdown.clone();
        let router = http::app(state);
        Ok(Self {
            listener,
            router,
            sockets_stopping,
            a2a,
            gateway,
            meter,
            settings,
            address,
            migrations_applied,
            seed,
            state_backend,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The URL to open.
    pub fn url(&self) -> String {
        if self.settings.public_url.is_empty() {
            format!("http://{}", self.address)
        } else {
            self.settings.public_url()
        }
    }

    /// What a person starting the server should know, one line each.
    pub fn startup_report(&self) -> Vec<String> {
        let settings = &self.settings;
        let mut lines = vec![format!(
            "agentdeck {} running in {} mode",
            env!("CARGO_PKG_VERSION"),
            match settings.mode {
                Mode::Dev => "dev",
                Mode::Production => "production",
            }
        )];
        lines.push(format!("  open       {}/", self.url()));
        let storage = if settings.database_url.is_empty() {
            format!("embedded: SQLite file {}", settings.data_dir.join(SQLITE_FILE).display())
        } else if settings.is_embedded() {
            "embedded: SQLite".to_owned()
        } else {
            "cluster: PostgreSQL".to_owned()
        };
        lines.push(format!("  storage    {storage} ({} migrations applied now)", self.migrations_applied));
        lines.push(format!("  dashboard  state in {}", self.state_backend));
        match self.seed {
            Some(SeedOutcome::Seeded) => {
                lines.push(format!("  demo       seeded \"{DEMO_WORKSPACE_NAME}\" on this first start"))
            }
            Some(SeedOutcome::AlreadyPresent) => {
                lines.push("  demo       data already present, not seeded again".to_owned())
            }
            None => {}
        }
        if settings.dev_login_enabled() {
            lines.push(format!(
                "  sign in    POST {}/api/dev/login returns a token for the demo user (or use the button on the page)",
                self.url()
            ));
        }
        if settings.mode == Mode::Dev {
            let exposure = if self.address.ip().is_loopback() { "this machine only" } else { "the network" };
            lines.push(format!(
                "  dev mode   listening on {} ({exposure}); not for production (see --mode production)",
                self.address
            ));
        }
        lines.push(format!(
            "  stop       Ctrl-C or SIGTERM (requests in flight get {} s to finish)",
            settings.http.shutdown_grace_secs
        ));
        lines
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish for
    /// up to `http.shutdown_grace_secs` before returning.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let grace = Duration::from_secs(self.settings.http.shutdown_grace_secs);
        let sockets_stopping = self.sockets_stopping;
        let a2a = self.a2a.clone();
        let a2a_stopping = self.a2a;
        let (stopping_tx, mut stopping_rx) = tokio::sync::watch::channel(false);
        // No Nagle: sync frames are small and must leave at once, not wait for the peer's ACK.
        let listener = self.listener.tap_io(|stream| {
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(%error, "cannot set TCP_NODELAY on an accepted connection");
            }
        });
        // The client address keys the rate limits of unauthenticated requests.
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        let server = axum::serve(listener, service)
            .with_graceful_shutdown(async move {
                shutdown.await;
                tracing::info!("shutting down: no new connections, finishing requests in flight");
                let _receivers_gone = stopping_tx.send(true);
                // Upgraded sockets are not requests in flight: tell them to say goodbye.
                sockets_stopping.send_replace(true);
                // A2A streams would hold the shutdown for the whole grace period: end them.
                a2a_stopping.begin_shutdown();
            })
            .into_future();
        let grace_expired = async move {
            // Waits for the shutdown signal, then for the grace period.
            if stopping_rx.wait_for(|stopping| *stopping).await.is_ok() {
                tokio::time::sleep(grace).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        let result = tokio::select! {
            result = server => result,
            () = grace_expired => {
                tracing::warn!(grace_secs = grace.as_secs(), "requests still in flight after the grace period; closing them");
                Ok(())
            }
        };
        self.gateway.shutdown().await;
        a2a.shutdown().await;
        self.meter.shutdown().await;
        result
    }
}

/// Returns a future that resolves on SIGINT (Ctrl-C) or SIGTERM.
///
/// The handlers are installed when this is called, not when the future is first
/// polled, so a signal that arrives while the server is still starting up is
/// not lost (and does not kill the process with the default action).
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            match (interrupt, terminate) {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => tracing::info!(signal = "SIGINT", "shutdown requested"),
                        _ = terminate.recv() => tracing::info!(signal = "SIGTERM", "shutdown requested"),
                    }
                }
                (Err(error), _) | (_, Err(error)) => {
                    tracing::error!(%error, "cannot listen for shutdown signals; stop the process with SIGKILL");
                    std::future::pending::<()>().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
