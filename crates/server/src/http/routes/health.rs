//! `/health` (the process answers) and `/ready` (its dependencies answer).

use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

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
    status: &'static str,
    /// Per dependency.
    checks: Checks,
}

/// The dependencies checked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Checks {
    /// The records store.
    storage: DependencyCheck,
}

/// One dependency's state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DependencyCheck {
    /// `ok` or `unavailable`.
    status: &'static str,
    /// Which implementation (e.g. `sqlite`, `postgres`).
    backend: &'static str,
    /// Round-trip time of the check.
    latency_ms: u64,
    /// Why it failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Answers 200 while the process runs.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, description = "OK", body = Health)))]
async fn health() -> Json<Health> {
    Json(Health { status: "ok", version: env!("CARGO_PKG_VERSION") })
}

/// Answers 200 when storage answers, 503 with the failing dependency otherwise.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses((status = 200, description = "OK", body = Readiness), (status = 503, description = "A dependency is unavailable", body = Readiness)))]
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let started = Instant::now();
    let result = state.stores.database.ping().await;
    let storage = DependencyCheck {
        status: if result.is_ok() { "ok" } else { "unavailable" },
        backend: state.stores.database.backend().as_str(),
        latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        error: result.as_ref().err().map(ToString::to_string),
    };
    let all_ok = result.is_ok();
    let status = if all_ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = Readiness { status: if all_ok { "ready" } else { "unavailable" }, checks: Checks { storage } };
    (status, Json(body))
}
