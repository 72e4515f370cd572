//! `/health` (the process answers) and `/ready` (its dependencies answer).
//!
//! `/ready` pings every dependency that serves requests, all at once and each
//! within [`CHECK_TIMEOUT`]: the records database (projects, tasks, members…),
//! the dashboard state store (dashboard routes and sync), the WebSocket ticket
//! store (`/api/ws-ticket`, sync) and, in cluster mode, the change feed that
//! tells this node about other nodes' commits (sync). Any one down makes the
//! answer 503 and names it, so a load balancer stops sending traffic that would
//! fail. The rate limiter is not checked: it lets requests through when its
//! store is down.

use std::future::Future;
use std::time::{Duration, Instant};

use agentdeck_domain::errors::error_chain;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// Longest a dependency may take to answer before it counts as unavailable.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// Routes of this module.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health)).routes(routes!(ready))
}

/// Liveness answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    /// Always `ok` when the process answers.
    status: &'static str,
    /// Server version.
    version: &'static str,
}

/// Readiness answer with one entry per dependency.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Readiness {
    /// `ready` when every dependency answered, `unavailable` otherwise.
    #[schema(example = "ready")]
    status: &'static str,
    /// Per dependency.
    checks: Checks,
}

/// The dependencies checked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Checks {
    /// The records database (`sqlite` or `postgres`).
    records: DependencyCheck,
    /// The dashboard state store (`sqlite` in embedded mode, `redis` in cluster mode).
    state: DependencyCheck,
    /// The WebSocket ticket store (`memory` in embedded mode, `redis` in cluster mode).
    tickets: DependencyCheck,
    /// The cross-node change feed (`redis`); only in cluster mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    change_feed: Option<DependencyCheck>,
    /// The bus between nodes (`redis`: A2A task events, project data changes); only in cluster mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    bus: Option<DependencyCheck>,
}

/// One dependency's state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DependencyCheck {
    /// `ok` or `unavailable`.
    #[schema(example = "ok")]
    status: &'static str,
    /// Which implementation (`sqlite`, `postgres`, `redis`, `memory`).
    backend: &'static str,
    /// Round-trip time of the check.
    latency_ms: u64,
    /// Why it failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// The failure with its causes, for the log only (they may name internal hosts).
    #[serde(skip)]
    causes: Option<String>,
}

impl DependencyCheck {
    fn is_ok(&self) -> bool {
        self.error.is_none()
    }
}

impl Checks {
    /// Each check with its name in the answer.
    fn named(&self) -> impl Iterator<Item = (&'static str, &DependencyCheck)> {
        [
            ("records", Some(&self.records)),
            ("state", Some(&self.state)),
            ("tickets", Some(&self.tickets)),
            ("changeFeed", self.change_feed.as_ref()),
            ("bus", self.bus.as_ref()),
        ]
        .into_iter()
        .filter_map(|(name, check)| Some((name, check?)))
    }
}

/// Answers 200 while the process runs.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, description = "OK", body = Health)))]
async fn health() -> Json<Health> {
    Json(Health { status: "ok", version: env!("CARGO_PKG_VERSION") })
}

/// Answers 200 when every dependency answers, 503 naming the ones that do not.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses(
        (status = 200, description = "Every dependency answered", body = Readiness),
        (status = 503, description = "A dependency is unavailable; its check says why", body = Readiness)))]
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let feed = async {
        match &state.feed {
            Some(feed) => Some(check(feed.backend(), feed.ping()).await),
            None => None,
        }
    };
    let bus = async {
        match &state.bus {
            Some(bus) => Some(check("redis", bus.ping()).await),
            None => None,
        }
    };
    let (records, state_check, tickets, change_feed, bus) = tokio::join!(
        check(state.stores.database.backend().as_str(), state.stores.database.ping()),
        check(state.state_store.backend(), state.state_store.ping()),
        check(state.tickets.backend(), state.tickets.ping()),
        feed,
        bus,
    );
    let checks = Checks { records, state: state_check, tickets, change_feed, bus };
    let failures: Vec<String> = checks
        .named()
        .filter(|(_, check)| !check.is_ok())
        .map(|(name, check)| {
            let why = check.causes.as_deref().or(check.error.as_deref()).unwrap_or_default();
            format!("{name} ({}): {why}", check.backend)
        })
        .collect();
    let all_ok = failures.is_empty();
    if !all_ok {
        tracing::warn!(?failures, "not ready: a dependency is unavailable");
    }
    let status = if all_ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(Readiness { status: if all_ok { "ready" } else { "unavailable" }, checks }))
}

/// Runs one ping under [`CHECK_TIMEOUT`] and times it.
async fn check<E: std::error::Error>(
    backend: &'static str,
    ping: impl Future<Output = Result<(), E>>,
) -> DependencyCheck {
    let started = Instant::now();
    let (error, causes) = match tokio::time::timeout(CHECK_TIMEOUT, ping).await {
        Ok(Ok(())) => (None, None),
        Ok(Err(error)) => (Some(error.to_string()), Some(error_chain(&error))),
        Err(_) => (Some(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())), None),
    };
    DependencyCheck {
        status: if error.is_none() { "ok" } else { "unavailable" },
        backend,
        latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        error,
        causes,
    }
}
