//! `GET /api/agents`: the hosted agents of the agent index (`/.well-known/agents.json`),
//! each with how the gateway's last call to it went for the caller's workspace.

use agentdeck_domain::agents::{AGENTS, agent};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::a2a::agent_base_url;
use crate::http::extract::Caller;
use crate::state::AppState;

/// Routes of this module.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(agents))
}

/// One hosted agent and the gateway's last call to it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AgentBody {
    /// The id in URLs and plans (`navi`).
    id: String,
    /// The name shown to people (`Navigator`).
    name: String,
    /// What it answers about, in a few words.
    role: String,
    /// Its A2A (JSON-RPC) URL; the card is at `{url}/.well-known/agent-card.json`.
    url: String,
    /// When the gateway's last call to it for this workspace ended; `null` before any.
    #[schema(required = true)]
    last_answer_at: Option<DateTime<Utc>>,
    /// Whether that call answered in time; `null` before any call.
    #[schema(required = true)]
    ok: Option<bool>,
    /// How long that call took, in milliseconds; `null` before any call.
    #[schema(required = true)]
    ms: Option<u64>,
    /// Why that call did not answer; `null` when it did, or before any call.
    #[schema(required = true)]
    error: Option<String>,
}

/// The answer of `GET /api/agents`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AgentsBody {
    /// The hosted agents: Navigator, Vitals, Activity, the Dashboard Agent, then any others by id.
    items: Vec<AgentBody>,
}

/// The hosted agents, each with how the gateway's last call to it went for your workspace.
#[utoipa::path(get, path = "/api/agents", tag = "dashboard", security(("bearer" = [])),
    responses((status = 200, description = "The hosted agents and the gateway's last call to each", body = AgentsBody)))]
async fn agents(State(state): State<AppState>, caller: Caller) -> Json<AgentsBody> {
    let outcomes = state.gateway.agent_outcomes(caller.workspace_id);
    let mut items: Vec<AgentBody> = state
        .a2a
        .agents()
        .map(|hosted| {
            let descriptor = hosted.descriptor();
            let id = descriptor.name.clone();
            let outcome = outcomes.get(id.as_str());
            AgentBody {
                role: agent(&id).map_or_else(|| descriptor.description.clone(), |named| named.role.to_owned()),
                name: descriptor.display_name.clone(),
                url: agent_base_url(&state, &id),
                last_answer_at: outcome.map(|outcome| outcome.at),
                ok: outcome.map(|outcome| outcome.ok),
                ms: outcome.map(|outcome| outcome.ms),
                error: outcome.and_then(|outcome| outcome.error.clone()),
                id,
            }
        })
        .collect();
    // The table's order (the one people know), then any other agent by id.
    items.sort_by_key(|item| {
        (AGENTS.iter().position(|known| known.id == item.id).unwrap_or(AGENTS.len()), item.id.clone())
    });
    Json(AgentsBody { items })
}
