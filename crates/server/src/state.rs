//! What every handler can reach: settings, store, services (dashboard and sync included), token keys, tickets.

use std::sync::Arc;
use std::time::Duration;

use agentdeck_domain::dashboard::document::StateLimits;
use agentdeck_services::a2a::transport::{
    AgentTransport, FaultyTransport, HttpTransport, InProcessTransport, InjectedFault,
};
use agentdeck_services::a2a::{A2aOptions, A2aService, AgentExecutor, PushOptions};
use agentdeck_services::accounts::invitations::Invitations;
use agentdeck_services::agents::conformance::ConformanceAgent;
use agentdeck_services::agents::failing::FailingAgent;
use agentdeck_services::agents::herald::Herald;
use agentdeck_services::agents::navi::Navi;
use agentdeck_services::agents::pulse::Pulse;
use agentdeck_services::auth::{AuthError, TokenService};
use agentdeck_services::dashboard::DashboardService;
use agentdeck_services::gateway::{Gateway, GatewayAgent, GatewayOptions};
use agentdeck_services::mail::Mailer;
use agentdeck_services::metering::{Encoding, Meter, QuotaAlerts};
use agentdeck_services::outbound::OutboundHttp;
use agentdeck_services::projects::ProjectService;
use agentdeck_services::sync::{ConnectionCaps, Hub, HubSettings, QueueLimits};
use agentdeck_storage::ratelimit::RateLimiter;
use agentdeck_storage::tickets::TicketStore;
use agentdeck_storage::{Bus, ChangeFeed, StateStore, StoreError, Stores};
use axum::extract::FromRef;
use uuid::Uuid;

use crate::config::Settings;
use crate::http::extract::JsonLimits;
use crate::http::origin::TrustedOrigins;
use crate::http::reauth::CredentialEvents;

/// How often counted tokens are written to the records store.
const METER_FLUSH_EVERY: Duration = Duration::from_secs(1);

/// How long after a change to project data dashboards are refreshed (a burst of changes makes one refresh).
const LIVE_REFRESH_DEBOUNCE: Duration = Duration::from_millis(250);

/// How long a workspace seen to exist is remembered before the store is asked again.
const KNOWN_WORKSPACE_TTL: Duration = Duration::from_secs(60);

/// Shared state of the HTTP edge (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    /// Effective configuration.
    pub settings: Arc<Settings>,
    /// The records stores.
    pub stores: Stores,
    /// The dashboard state store behind [`AppState::dashboard`] (checked by `/ready`).
    pub state_store: Arc<dyn StateStore>,
    /// The change feed behind [`AppState::hub`] in cluster mode (checked by `/ready`).
    pub feed: Option<Arc<dyn ChangeFeed>>,
    /// The bus between cluster nodes: A2A task events, project data changes (checked by `/ready`).
    pub bus: Option<Arc<dyn Bus>>,
    /// Project data on behalf of callers.
    pub projects: ProjectService,
    /// Verifies (and for dev login, issues) bearer tokens.
    pub tokens: TokenService,
    /// Each user's dashboard state.
    pub dashboard: DashboardService,
    /// The real-time hub: one owner task per open dashboard room.
    pub hub: Hub,
    /// Single-use WebSocket tickets (memory in embedded mode, Redis in cluster mode).
    pub tickets: Arc<dyn TicketStore>,
    /// The hosted A2A agents and their tasks.
    pub a2a: A2aService,
    /// The Dashboard Agent's orchestration (`POST /api/ask`, `/a2a/gateway`).
    pub gateway: Gateway,
    /// Rate limits (`None`: off by the settings).
    pub limiter: Option<Arc<dyn RateLimiter>>,
    /// Token usage per workspace and day.
    pub meter: Arc<Meter>,
    /// When this process started (`Last-Modified` of agent cards).
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// Flips to `true` when the server starts shutting down (sockets send `goaway`).
    pub shutdown: Arc<tokio::sync::watch::Sender<bool>>,
    /// Browser origins and host names the edge answers (sync upgrade, dev login).
    pub origins: Arc<TrustedOrigins>,
    /// Invitations to workspaces (links only until [`AppState::with_mailer`] adds SMTP).
    pub invitations: Invitations,
    /// Single sign-on with OpenID Connect (`None`: no `[[auth.oidc]]` provider configured).
    pub sso: Option<agentdeck_services::sso::Sso>,
    /// Sessions ended and tokens revoked on this node, for the sync sockets they authenticated.
    pub(crate) credential_events: CredentialEvents,
    /// Workspaces recently seen to exist; spares a query per request.
    known_workspaces: moka::future::Cache<Uuid, ()>,
}

impl AppState {
    /// Assembles the state from its parts; `outbound` makes the clients of push deliveries and agent calls.
    #[allow(clippy::too_many_arguments)] // the parts startup opened, each once; a struct of them would only rename them
    pub fn new(
        settings: Settings,
        stores: Stores,
        state_store: Arc<dyn StateStore>,
        tokens: TokenService,
        tickets: Arc<dyn TicketStore>,
        feed: Option<Arc<dyn ChangeFeed>>,
        bus: Option<Arc<dyn Bus>>,
        limiter: Option<Arc<dyn RateLimiter>>,
        outbound: OutboundHttp,
    ) -> Self {
        let limits = StateLimits { max_document_bytes: settings.state.max_document_bytes, ..StateLimits::default() };
        // A write without If-Match retries lost races for as long as its request may take.
        let dashboard = DashboardService::new(state_store.clone(), limits, settings.state.compression_threshold_bytes)
            .with_retry_budget(Duration::from_secs(settings.http.request_timeout_secs.max(1)));
        // The hub hears every commit of the service from here on, whoever the writer.
        let hub = Hub::with_feed(dashboard.clone(), hub_settings(&settings), feed.clone());
        let quota = QuotaAlerts { daily_quota: settings.metering.daily_quota_tokens, dashboard: dashboard.clone() };
        let meter = Meter::new(&stores, Encoding::Cl100kBase, Some(quota));
        meter.start_flushing(METER_FLUSH_EVERY);
        let mut options = a2a_options(&settings);
        options.outbound = outbound.clone();
        options.meter = Some(meter.clone());
        // The service the hosted agents run in is made below, with the gateway among them; attached then.
        let hosted = Arc::new(InProcessTransport::new());
        let transport = agent_transport(&settings, &outbound, hosted.clone());
        let gateway = Gateway::new(stores.clone(), dashboard.clone(), gateway_options(&settings), transport);
        // Writes of project data announce their workspace; the gateway refreshes dashboards on them
        // (and on the other nodes' writes, which come over the bus).
        let (changes, _) = tokio::sync::broadcast::channel(1024);
        gateway.start_live_refresh(changes.subscribe(), bus.clone(), LIVE_REFRESH_DEBOUNCE);
        let mut agents = hosted_agents(&settings, &stores, &options);
        agents.push(Arc::new(GatewayAgent::new(gateway.clone())));
        // `agents.fail` (tests and demos): those agents keep their cards but fail every message.
        let agents = agents
            .into_iter()
            .map(|agent| -> Arc<dyn AgentExecutor> {
                if settings.agents.fail.contains(&agent.descriptor().name) {
                    Arc::new(FailingAgent::new(agent))
                } else {
                    agent
                }
            })
            .collect();
        let a2a = A2aService::on_bus(stores.agent_tasks.clone(), agents, options, bus.clone());
        hosted.attach(&a2a);
        Self {
            a2a,
            gateway,
            limiter,
            meter,
            started_at: agentdeck_a2a_protocol::now_millis(),
            hub,
            shutdown: Arc::new(tokio::sync::watch::Sender::new(false)),
            tickets,
            dashboard,
            state_store,
            feed,
            bus,
            origins: Arc::new(TrustedOrigins::from_settings(&settings)),
            invitations: Invitations::new(stores.clone(), settings.invitation_options(), None),
            settings: Arc::new(settings),
            projects: ProjectService::new(stores.clone()).announcing(changes),
            stores,
            tokens,
            sso: None,
            credential_events: CredentialEvents::default(),
            known_workspaces: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(KNOWN_WORKSPACE_TTL)
                .build(),
        }
    }

    /// The same state sending invitation mails with `mailer` (`None`: links only).
    pub fn with_mailer(mut self, mailer: Option<Mailer>) -> Self {
        self.invitations = self.invitations.with_mailer(mailer);
        self
    }

    /// The state with single sign-on through `sso`.
    pub fn with_sso(self, sso: Option<agentdeck_services::sso::Sso>) -> Self {
        Self { sso, ..self }
    }

    /// Drops what this node remembers of the workspace, so a change to it
    /// (disabled) takes effect here at once.
    pub async fn forget_workspace(&self, id: Uuid) {
        self.known_workspaces.invalidate(&id).await;
    }

    /// Whether requests may act in the workspace: it exists and is not disabled.
    /// Usable answers are cached for `KNOWN_WORKSPACE_TTL`, so disabling a
    /// workspace takes effect on every node within that time.
    pub async fn check_workspace(&self, id: Uuid) -> Result<(), WorkspaceRefusal> {
        if self.known_workspaces.contains_key(&id) {
            return Ok(());
        }
        match self.stores.workspaces.get_workspace(id).await? {
            None => Err(AuthError::UnknownWorkspace.into()),
            Some(workspace) if workspace.disabled => Err(AuthError::WorkspaceDisabled.into()),
            Some(_) => {
                self.known_workspaces.insert(id, ()).await;
                Ok(())
            }
        }
    }
}

impl FromRef<AppState> for JsonLimits {
    fn from_ref(state: &AppState) -> JsonLimits {
        JsonLimits { max_depth: state.settings.http.max_json_depth }
    }
}

/// How the sync hub treats its sockets, from the `sync` settings.
fn hub_settings(settings: &Settings) -> HubSettings {
    let sync = &settings.sync;
    HubSettings {
        patches_per_minute: sync.patches_per_minute,
        caps: ConnectionCaps {
            per_user: sync.max_connections_per_user,
            per_workspace: sync.max_connections_per_workspace,
        },
        queue: QueueLimits { high_water_bytes: sync.outbound_high_water_bytes, limit_bytes: sync.outbound_limit_bytes },
        compress_above_bytes: sync.compress_snapshots_above_bytes,
    }
}

/// The agents this server hosts: Navi, Pulse and Herald on the records, and
/// the conformance agent when the `a2a` settings ask for it.
fn hosted_agents(settings: &Settings, stores: &Stores, options: &A2aOptions) -> Vec<Arc<dyn AgentExecutor>> {
    let mut agents: Vec<Arc<dyn AgentExecutor>> = vec![
        Arc::new(Navi::new(stores.clone())),
        Arc::new(Pulse::new(stores.clone(), options.active_runs.clone())),
        Arc::new(Herald::new(stores.clone())),
    ];
    if settings.conformance_agent_enabled() {
        let long_run = Duration::from_secs(settings.a2a.conformance_long_run_secs);
        agents.push(Arc::new(ConformanceAgent::new(long_run)));
    }
    agents
}

/// How the A2A service handles tasks, from the `a2a` settings.
fn a2a_options(settings: &Settings) -> A2aOptions {
    let a2a = &settings.a2a;
    let signing_key = if a2a.push_signing_secret.is_empty() {
        tracing::info!(
            "push deliveries are signed with a key made for this process; set a2a.push_signing_secret for one receivers can verify"
        );
        let mut key = vec![0u8; 32];
        if getrandom::fill(&mut key).is_err() {
            tracing::warn!("no randomness for the push signing key; set a2a.push_signing_secret");
        }
        key
    } else {
        a2a.push_signing_secret.as_bytes().to_vec()
    };
    A2aOptions {
        keep_events: a2a.keep_events.max(1),
        max_held_tasks: a2a.max_held_tasks.max(1),
        blocking_timeout: Duration::from_secs(a2a.blocking_timeout_secs),
        idempotency_ttl: Duration::from_secs(a2a.idempotency_ttl_secs.max(1)),
        push: PushOptions {
            allow_private_networks: settings.push_private_networks_allowed(),
            signing_key,
            timeout: Duration::from_secs(a2a.push_timeout_secs.max(1)),
            max_attempts: a2a.push_max_attempts.max(1),
            ..PushOptions::default()
        },
        ..A2aOptions::default()
    }
}

/// How the gateway reaches the specialists: in process when they are the
/// ones hosted here (`gateway.agents_url` unset), with the `a2a.faults` the
/// edge would apply; over HTTP(S) at `gateway.agents_url` when it is set
/// (agents on another server, which applies its own faults).
fn agent_transport(
    settings: &Settings,
    outbound: &OutboundHttp,
    hosted: Arc<InProcessTransport>,
) -> Arc<dyn AgentTransport> {
    let agents_url = settings.gateway.agents_url.trim();
    if !agents_url.is_empty() {
        let http = outbound.client_builder().build().map_err(|error| error.to_string());
        return Arc::new(HttpTransport::new(agents_url, http));
    }
    if settings.a2a.faults.is_empty() {
        return hosted;
    }
    let faults = settings
        .a2a
        .faults
        .iter()
        .map(|(agent, fault)| {
            (agent.clone(), InjectedFault { delay: Duration::from_millis(fault.delay_ms), fail: fault.fail })
        })
        .collect();
    Arc::new(FaultyTransport::new(hosted, faults))
}

/// How long the gateway waits for the specialists and keeps their answers.
fn gateway_options(settings: &Settings) -> GatewayOptions {
    let gateway = &settings.gateway;
    GatewayOptions {
        deadline: Duration::from_millis(gateway.agent_deadline_ms.max(1)),
        deadlines: gateway
            .agent_deadlines_ms
            .iter()
            .map(|(agent, ms)| (agent.clone(), Duration::from_millis(*ms)))
            .collect(),
        cache_ttl: Duration::from_millis(gateway.cache_ttl_ms),
        cache_ttls: gateway
            .cache_ttls_ms
            .iter()
            .map(|(agent, ms)| (agent.clone(), Duration::from_millis(*ms)))
            .collect(),
    }
}

/// Why a request may not act in its workspace.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceRefusal {
    /// Unknown or disabled.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The records store could not be asked.
    #[error(transparent)]
    Store(#[from] StoreError),
}
