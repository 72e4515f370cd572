//! Agent cards: one per hosted agent, the default agent's at the host root,
//! and the index of every hosted agent.
//!
//! A card lists the 1.0 interfaces first and then the same endpoints as 0.3.
//! Which card a request gets depends on `A2A-Version`: `1.0` gets the 1.0
//! card (its 1.0 interfaces only); no header — what 0.3 clients send — or
//! `0.3` gets the dual card, the 1.0 card plus the 0.3 members (`url`,
//! `preferredTransport`, `protocolVersion: "0.3.0"`, …), which both kinds
//! of client read. `agent.json`, the 0.2 path, serves the same.
//!
//! Cards change only when the server restarts, so they carry
//! `Cache-Control: public, max-age=300`, an `ETag` over their bytes (a
//! matching `If-None-Match` gets 304; each variant has its own) with
//! `Vary: A2A-Version`, and the process start as `Last-Modified`.

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};

use agentdeck_a2a_protocol::version::ProtocolVersion;
use agentdeck_a2a_protocol::{
    A2aError, AgentCapabilities, AgentCard, AgentInterface, AgentProvider, HttpAuthSecurityScheme,
    PROTOCOL_BINDING_HTTP_JSON, PROTOCOL_BINDING_JSONRPC, SecurityRequirement, SecurityScheme, StringList, v03,
    version,
};
use agentdeck_services::a2a::AgentExecutor;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::agent_base_url;
use super::jsonrpc::requested_version;
use crate::http::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// Seconds a client may cache a card.
const CARD_MAX_AGE_SECS: u32 = 300;
/// The name of the bearer security scheme in cards.
const BEARER_SCHEME: &str = "bearer";

/// The card of a hosted agent.
pub(super) fn card_of(state: &AppState, agent: &dyn AgentExecutor) -> AgentCard {
    let descriptor = agent.descriptor();
    let base = agent_base_url(state, &descriptor.name);
    let bearer = BTreeMap::from([(
        BEARER_SCHEME.to_owned(),
        SecurityScheme::HttpAuthSecurityScheme(HttpAuthSecurityScheme {
            description: "A JWT issued by this agentdeck server (agentdeck token, or the dev login)".into(),
            scheme: "Bearer".into(),
            bearer_format: "JWT".into(),
        }),
    )]);
    // An agent that serves anonymous callers (the conformance agent) declares no scheme: a
    // client needs none, for its extended card either. A token still keeps its tasks apart.
    let (security_schemes, security_requirements) = if descriptor.allow_anonymous {
        (BTreeMap::new(), Vec::new())
    } else {
        let required =
            SecurityRequirement { schemes: BTreeMap::from([(BEARER_SCHEME.to_owned(), StringList::default())]) };
        (bearer, vec![required])
    };
    AgentCard {
        name: descriptor.display_name.clone(),
        description: descriptor.description.clone(),
        // 1.0 first (clients take the first they speak), then the same endpoints as 0.3.
        supported_interfaces: [ProtocolVersion::V1_0, ProtocolVersion::V0_3]
            .into_iter()
            .flat_map(|version| {
                [(base.clone(), PROTOCOL_BINDING_JSONRPC), (format!("{base}/rest"), PROTOCOL_BINDING_HTTP_JSON)].map(
                    |(url, binding)| AgentInterface {
                        url,
                        protocol_binding: binding.into(),
                        tenant: None,
                        protocol_version: version.as_str().into(),
                    },
                )
            })
            .collect(),
        provider: Some(AgentProvider { url: state.settings.public_url(), organization: "agentdeck".into() }),
        version: env!("CARGO_PKG_VERSION").into(),
        documentation_url: None,
        capabilities: AgentCapabilities {
            streaming: Some(true),
            push_notifications: Some(true),
            extensions: Vec::new(),
            extended_agent_card: Some(true),
        },
        security_schemes,
        security_requirements,
        default_input_modes: vec!["text/plain".into(), "application/json".into()],
        default_output_modes: descriptor.output_modes.clone(),
        skills: descriptor.skills.clone(),
        signatures: Vec::new(),
        icon_url: None,
    }
}

/// A card as `version` reads it: for 1.0 the 1.0 card with its 1.0
/// interfaces only; for 0.3 the dual card (a2a.md §2.6), which a 1.0 client
/// reads as well.
pub(super) fn card_json(card: &AgentCard, version: ProtocolVersion) -> Result<Value, A2aError> {
    let written = match version {
        ProtocolVersion::V1_0 => {
            let mut current = card.clone();
            current.supported_interfaces.retain(|interface| {
                ProtocolVersion::of_card(&interface.protocol_version) == Some(ProtocolVersion::V1_0)
            });
            serde_json::to_value(&current)
        }
        ProtocolVersion::V0_3 => v03::card::dual_card(card),
    };
    written.map_err(|error| A2aError::Internal(format!("cannot serialize the card: {error}")))
}

/// The extended card (`GetExtendedAgentCard`): the card as an authenticated
/// caller of `workspace` sees it, naming the workspace its tasks are kept in.
/// Without a workspace (an anonymous caller) only an agent that declares no
/// security scheme has one to give; `None` otherwise (401).
pub(super) fn extended_card_of(
    state: &AppState,
    agent: &dyn AgentExecutor,
    workspace: Option<uuid::Uuid>,
) -> Option<AgentCard> {
    let mut card = card_of(state, agent);
    match workspace {
        Some(workspace) => {
            card.description = format!("{} Your tasks are kept in workspace {workspace}.", card.description);
            Some(card)
        }
        None => agent.descriptor().allow_anonymous.then_some(card),
    }
}

/// A cacheable JSON answer: `ETag` over the bytes, `Last-Modified` = process start.
fn cacheable(state: &AppState, headers: &HeaderMap, body: Vec<u8>) -> Response {
    let mut hasher = DefaultHasher::new();
    body.hash(&mut hasher);
    let etag = format!("\"{:016x}\"", hasher.finish());
    let last_modified = state.started_at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*"));
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    };
    let response_headers = response.headers_mut();
    // The card depends on the version asked for; a cache keeps one copy per version.
    response_headers.insert(header::VARY, HeaderValue::from_static(version::HEADER));
    for (name, value) in [
        (header::CACHE_CONTROL, format!("public, max-age={CARD_MAX_AGE_SECS}")),
        (header::ETAG, etag),
        (header::LAST_MODIFIED, last_modified),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response_headers.insert(name, value);
        }
    }
    response
}

/// The card in the version the request asks for; without a header (or with
/// one this server does not speak: a card is no method call) the dual card.
fn card_response(
    state: &AppState,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    agent: &dyn AgentExecutor,
) -> Response {
    let version = version::negotiate(requested_version(headers, query)).unwrap_or(ProtocolVersion::V0_3);
    match card_json(&card_of(state, agent), version).and_then(|card| {
        serde_json::to_vec(&card).map_err(|error| A2aError::Internal(format!("cannot serialize the card: {error}")))
    }) {
        Ok(body) => cacheable(state, headers, body),
        Err(error) => ApiError::new(ErrorCode::Internal, error.to_string()).into_response(),
    }
}

/// `GET /a2a/{agent}/.well-known/agent-card.json` (and the 0.2 name `agent.json`).
pub(super) async fn agent_card(
    State(state): State<AppState>,
    Path(agent): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    match state.a2a.agent(&agent).cloned() {
        Some(executor) => card_response(&state, &headers, &query, executor.as_ref()),
        None => ApiError::new(ErrorCode::NotFound, format!("no agent named {agent:?} is hosted here")).into_response(),
    }
}

/// `GET /.well-known/agent-card.json` (and `agent.json`): the default agent's card.
pub(super) async fn default_card(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    // The Dashboard Agent unless configured otherwise (DESIGN §7).
    let wanted = Some(state.settings.a2a.default_agent.trim()).filter(|name| !name.is_empty()).unwrap_or("gateway");
    let agent = state.a2a.agent(wanted).cloned();
    match agent {
        Some(executor) => card_response(&state, &headers, &query, executor.as_ref()),
        None => ApiError::new(ErrorCode::NotFound, "this server hosts no A2A agent").into_response(),
    }
}

/// `GET /.well-known/agents.json`: every hosted agent.
pub(super) async fn index(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let agents: Vec<_> = state
        .a2a
        .agents()
        .map(|agent| {
            let descriptor = agent.descriptor();
            let base = agent_base_url(&state, &descriptor.name);
            json!({
                "name": descriptor.name,
                "displayName": descriptor.display_name,
                "description": descriptor.description,
                "url": base,
                "cardUrl": format!("{base}/.well-known/agent-card.json"),
            })
        })
        .collect();
    match serde_json::to_vec(&json!({ "agents": agents })) {
        Ok(body) => cacheable(&state, &headers, body),
        Err(error) => {
            ApiError::new(ErrorCode::Internal, format!("cannot serialize the index: {error}")).into_response()
        }
    }
}
