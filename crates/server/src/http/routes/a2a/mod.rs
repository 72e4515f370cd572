//! The A2A edge (DESIGN §7, a2a.md §2): every hosted agent `{name}` at
//! `/a2a/{name}`, with its card at `/a2a/{name}/.well-known/agent-card.json`
//! (and `agent.json`), speaking A2A 1.0 and 0.3 on the same endpoints.
//!
//! - [`jsonrpc`]: the JSON-RPC 2.0 binding, `POST /a2a/{name}` (with or without
//!   a trailing slash). Every JSON-RPC error is an HTTP 200 with an error
//!   envelope; only authentication failures (401) and rate limits (429, from
//!   the edge's rate-limit layer) are HTTP errors.
//! - [`rest`]: the HTTP+JSON binding under `/a2a/{name}/rest`, with
//!   `google.rpc.Status`-shaped errors; [`rest03`] its 0.3 form under
//!   `/a2a/{name}/rest/v1`.
//! - [`cards`]: agent cards with `Cache-Control`, `ETag` and `Last-Modified`;
//!   the default agent's card at the host root and the index of all hosted
//!   agents at `/.well-known/agents.json`.
//! - [`sse`]: streamed answers, one event per task event with its sequence
//!   number as the SSE `id:`, and keep-alive comments while idle.
//!
//! - [`dispatch`]: the version-dispatch layer. A request of A2A 1.0
//!   (`A2A-Version: 1.0`) or 0.3 (no header, or `0.3`) becomes one
//!   `Operation` for the 1.0 task service, and the answer is written in the
//!   request's version. Any other version gets `VersionNotSupportedError`
//!   (-32009) before any method runs.
//!
//! The send methods (blocking and streaming, both bindings) read an
//! `Idempotency-Key` header ([`send_idempotency_key`]) and hand it to the
//! service, which answers a retry with the first send's outcome; the other
//! methods ignore it. Anonymous callers carry their client address, which
//! scopes their keys.

mod cards;
mod dispatch;
mod jsonrpc;
mod rest;
mod rest03;
mod sse;

use agentdeck_a2a_protocol::{A2aError, FieldViolation};
use agentdeck_domain::api_tokens::Scope;
use agentdeck_services::a2a::{A2aCaller, AgentDescriptor, IDEMPOTENCY_KEY_HEADER};
use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{any, get, post};

use crate::http::error::ApiError;
use crate::http::extract::{ClientAddress, bearer_token, caller_of_token, idempotency_key};
use crate::state::AppState;

/// The A2A routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/a2a/{agent}", post(jsonrpc::handle))
        .route("/a2a/{agent}/", post(jsonrpc::handle))
        .route("/a2a/{agent}/rest/{*path}", any(rest::handle))
        .route("/a2a/{agent}/.well-known/agent-card.json", get(cards::agent_card))
        .route("/a2a/{agent}/.well-known/agent.json", get(cards::agent_card))
        .route("/.well-known/agent-card.json", get(cards::default_card))
        .route("/.well-known/agent.json", get(cards::default_card))
        .route("/.well-known/agents.json", get(cards::index))
}

/// The caller of an A2A request: the bearer token's principal, or an
/// anonymous caller (known by its client address) where the agent allows it.
async fn a2a_caller(
    state: &AppState,
    headers: &HeaderMap,
    agent: &AgentDescriptor,
    client: &ClientAddress,
) -> Result<A2aCaller, ApiError> {
    let Some(token) = bearer_token(headers) else {
        if agent.allow_anonymous {
            return Ok(A2aCaller::anonymous_at(client.as_str()));
        }
        return Err(agentdeck_services::auth::AuthError::Missing.into());
    };
    let principal = caller_of_token(state, token, Scope::Agents).await?;
    Ok(A2aCaller::authenticated(principal.principal, Some(token.to_owned())))
}

/// The `Idempotency-Key` of a send; a malformed one is `InvalidParams` naming the header.
fn send_idempotency_key(headers: &HeaderMap) -> Result<Option<String>, A2aError> {
    idempotency_key(headers)
        .map_err(|error| A2aError::invalid_params(vec![FieldViolation::new(IDEMPOTENCY_KEY_HEADER, error.to_string())]))
}

/// The base URL of an agent (its JSON-RPC interface; REST is under `/rest`).
pub(super) fn agent_base_url(state: &AppState, name: &str) -> String {
    format!("{}/a2a/{name}", state.settings.public_url())
}
