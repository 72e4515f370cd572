//! `POST /a2a/{agent}`: the JSON-RPC 2.0 binding of A2A.
//!
//! Checked in this order, each failure an error envelope in an HTTP 200:
//! the content type (-32005), the nesting depth (-32600 past
//! `http.max_json_depth`, checked before parsing so a hostile body costs a
//! linear scan), the envelope (-32700, -32600), the protocol
//! version (-32009; none means 0.3), the method name in that version
//! (-32601, which names the method and header to use when the name is the
//! other version's), then the caller (HTTP 401 without a valid token where
//! one is needed) and the method's params (-32602). The answer is written in
//! the request's version ([`dispatch`]).

use std::collections::HashMap;

use agentdeck_a2a_protocol::jsonrpc::{self, Method};
use agentdeck_a2a_protocol::{A2aError, Operation, version};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::dispatch::{self, Answer};
use super::{a2a_caller, sse};
use crate::http::error::{ApiError, ErrorCode};
use crate::http::extract::{ClientAddress, too_deep};
use crate::state::AppState;

/// Media types a request body may have.
pub(super) fn is_json_media_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Ok(media_type) = value.parse::<mime::Mime>() else {
        return false;
    };
    // `mime` lowercases type and subtype; parameters (charset) do not matter.
    matches!(media_type.essence_str(), "application/json" | A2A_JSON)
}

/// The A2A media type (a2a.md §2.1).
pub(super) const A2A_JSON: &str = "application/a2a+json";

/// The requested protocol version: the header, else the query parameter.
pub(super) fn requested_version<'a>(headers: &'a HeaderMap, query: &'a HashMap<String, String>) -> Option<&'a str> {
    let header = headers.get(version::HEADER).and_then(|v| v.to_str().ok()).filter(|v| !v.trim().is_empty());
    header.or_else(|| query.iter().find(|(k, _)| k.eq_ignore_ascii_case(version::HEADER)).map(|(_, v)| v.as_str()))
}

fn envelope(body: Value) -> Response {
    (StatusCode::OK, Json(body)).into_response()
}

fn failure(id: &Value, error: &A2aError) -> Response {
    envelope(jsonrpc::failure(id, error))
}

/// The answer to an anonymous caller of an operation that needs a token.
pub(super) fn unauthenticated() -> Response {
    ApiError::from(agentdeck_services::auth::AuthError::Missing).into_response()
}

/// Handles one JSON-RPC request to a hosted agent.
pub(super) async fn handle(
    State(state): State<AppState>,
    Path(agent): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    client: ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(executor) = state.a2a.agent(&agent).cloned() else {
        return ApiError::new(ErrorCode::NotFound, format!("no agent named {agent:?} is hosted here")).into_response();
    };
    if !is_json_media_type(&headers) {
        let error = A2aError::ContentTypeNotSupported("send the request as application/json".into());
        return failure(&Value::Null, &error);
    }
    // Too deep is well-formed JSON the server will not read, hence
    // InvalidRequest rather than a parse error.
    if let Some(message) = too_deep(&body, state.settings.http.max_json_depth) {
        return failure(&Value::Null, &A2aError::InvalidRequest(message));
    }
    let request = match jsonrpc::parse_request(&body) {
        Ok(request) => request,
        Err(rejected) => return failure(&rejected.id, &rejected.error),
    };
    let version = match version::negotiate(requested_version(&headers, &query)) {
        Ok(version) => version,
        Err(error) => return failure(&request.id, &error),
    };
    let method = match Method::resolve(&request.method, version) {
        Ok(method) => method,
        Err(error) => return failure(&request.id, &error),
    };
    let caller = match a2a_caller(&state, &headers, executor.descriptor(), &client).await {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    let id = request.id;
    if let Some(fault) = state.settings.a2a.faults.get(&agent) {
        let delay = std::time::Duration::from_millis(fault.delay_ms);
        agentdeck_services::a2a::transport::InjectedFault { delay, fail: fault.fail }.wait().await;
        if fault.fail {
            return failure(&id, &A2aError::Internal(format!("fault injected in front of {agent} (a2a.faults)")));
        }
    }
    let answer = match Operation::read(version, method, request.params) {
        Ok(operation) => dispatch::execute(&state, &agent, &caller, &headers, version, operation).await,
        Err(error) => Err(error),
    };
    let answer = match answer {
        Ok(Answer::Stream(stream)) => return sse::jsonrpc_stream(&state, id, version, stream),
        Ok(Answer::Unauthenticated) => return unauthenticated(),
        Ok(answer) => dispatch::encode(version, &answer),
        Err(error) => Err(error),
    };
    match answer {
        Ok(result) => envelope(jsonrpc::success(&id, &result)),
        Err(error) => {
            if matches!(error, A2aError::Internal(_)) {
                tracing::error!(agent, %error, "A2A call failed");
            }
            failure(&id, &error)
        }
    }
}
