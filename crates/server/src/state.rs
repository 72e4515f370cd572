//! What every handler can reach: settings, store, services (dashboard and sync included), token keys, tickets.

use std::sync::Arc;
use std::time::Duration;

use agentdeck_domain::dashboard::document::StateLimits;
use agentdeck_services::auth::TokenService;
use agentdeck_services::dashboard::DashboardService;
use agentdeck_services::projects::ProjectService;
use agentdeck_services::sync::{ConnectionCaps, Hub, HubSettings, QueueLimits};
use agentdeck_storage::tickets::TicketStore;
use agentdeck_storage::{ChangeFeed, RecordStore, StateStore, StoreError};
use axum::extract::FromRef;
use uuid::Uuid;

use crate::config::Settings;
use crate::http::extract::JsonLimits;

/// How long a workspace seen to exist is remembered before the store is asked again.
const KNOWN_WORKSPACE_TTL: Duration = Duration::from_secs(60);

/// Shared state of the HTTP edge (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    /// Effective configuration.
    pub settings: Arc<Settings>,
    /// The records store.
    pub store: Arc<dyn RecordStore>,
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
    /// Flips to `true` when the server starts shutting down (sockets send `goaway`).
    pub shutdown: Arc<tokio::sync::watch::Sender<bool>>,
    /// Workspaces recently seen to exist; spares a query per request.
    known_workspaces: moka::future::Cache<Uuid, ()>,
}

impl AppState {
    /// Assembles the state from its parts.
    pub fn new(
        settings: Settings,
        store: Arc<dyn RecordStore>,
        state_store: Arc<dyn StateStore>,
        tokens: TokenService,
        tickets: Arc<dyn TicketStore>,
        feed: Option<Arc<dyn ChangeFeed>>,
    ) -> Self {
        let limits = StateLimits { max_document_bytes: settings.state.max_document_bytes, ..StateLimits::default() };
        let dashboard = DashboardService::new(state_store, limits, settings.state.compression_threshold_bytes);
        Self {
            hub: Hub::with_feed(dashboard.clone(), hub_settings(&settings), feed),
            shutdown: Arc::new(tokio::sync::watch::Sender::new(false)),
            tickets,
            dashboard,
            settings: Arc::new(settings),
            projects: ProjectService::new(store.clone()),
            store,
            tokens,
            known_workspaces: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(KNOWN_WORKSPACE_TTL)
                .build(),
        }
    }

    /// Whether the workspace exists (positive answers are cached briefly).
    pub async fn workspace_exists(&self, id: Uuid) -> Result<bool, StoreError> {
        if self.known_workspaces.contains_key(&id) {
            return Ok(true);
        }
        let exists = self.store.get_workspace(id).await?.is_some();
        if exists {
            self.known_workspaces.insert(id, ()).await;
        }
        Ok(exists)
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
