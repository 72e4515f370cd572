//! `POST /a2a/{agent}`: the JSON-RPC 2.0 binding of A2A.
//!
//! Checked in this order, each failure an error envelope in an HTTP 200:
//! the content type (-32005), the envelope (-32700, -32600, -32601), the
//! protocol version (-32009), then the caller (HTTP 401 without a valid
//! token where one is needed) and the method's params (-32602).

use std::collections::HashMap;

use agentdeck_a2a_protocol::jsonrpc::{self, Method, Request};
use agentdeck_a2a_protocol::{
    A2aError, CancelTaskRequest, DeleteTaskPushNotificationConfigRequest, GetTaskPushNotificationConfigRequest,
    GetTaskRequest, ListTaskPushNotificationConfigsRequest, ListTasksRequest, SendMessageRequest,
    SubscribeToTaskRequest, TaskPushNotificationConfig, version,
};
use agentdeck_services::a2a::A2aCaller;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::{a2a_caller, cards, send_idempotency_key, sse};
use crate::http::error::{ApiError, ErrorCode};
use crate::http::extract::ClientAddress;
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

fn success<T: serde::Serialize>(id: &Value, result: &T) -> Response {
    envelope(jsonrpc::success(id, result))
}

fn failure(id: &Value, error: &A2aError) -> Response {
    envelope(jsonrpc::failure(id, error))
}

/// The answer to an anonymous caller of an operation that needs a token.
pub(super) fn unauthenticated() -> Response {
    ApiError::from(agentdeck_services::auth::AuthError::Missing).into_response()
}

/// Types params and checks their required fields.
fn typed<T: serde::de::DeserializeOwned>(params: Value) -> Result<T, A2aError> {
    jsonrpc::params(params)
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
    let request = match jsonrpc::parse_request(&body) {
        Ok(request) => request,
        Err(rejected) => return failure(&rejected.id, &rejected.error),
    };
    if let Err(error) = version::negotiate(requested_version(&headers, &query)) {
        return failure(&request.id, &error);
    }
    let caller = match a2a_caller(&state, &headers, executor.descriptor(), &client).await {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    let id = request.id.clone();
    if let Some(fault) = state.settings.a2a.faults.get(&agent) {
        tokio::time::sleep(std::time::Duration::from_millis(fault.delay_ms)).await;
        if fault.fail {
            return failure(&id, &A2aError::Internal(format!("fault injected in front of {agent} (a2a.faults)")));
        }
    }
    match dispatch(&state, &agent, &caller, &headers, request).await {
        Ok(response) => response,
        Err(error) => {
            if matches!(error, A2aError::Internal(_)) {
                tracing::error!(agent, %error, "A2A call failed");
            }
            failure(&id, &error)
        }
    }
}

async fn dispatch(
    state: &AppState,
    agent: &str,
    caller: &A2aCaller,
    headers: &HeaderMap,
    request: Request,
) -> Result<Response, A2aError> {
    let service = &state.a2a;
    let id = request.id;
    match request.method {
        Method::SendMessage => {
            let params: SendMessageRequest = typed(request.params)?;
            let key = send_idempotency_key(headers)?;
            let outcome = service.send_with_key(agent, caller, params, key.as_deref()).await?;
            Ok(success(&id, &outcome))
        }
        Method::SendStreamingMessage => {
            let params: SendMessageRequest = typed(request.params)?;
            let key = send_idempotency_key(headers)?;
            let stream = service.send_streaming_with_key(agent, caller, params, key.as_deref()).await?;
            Ok(sse::jsonrpc_stream(state, id, stream))
        }
        Method::GetTask => {
            let params: GetTaskRequest = typed(request.params)?;
            Ok(success(&id, &service.get_task(agent, caller, params).await?))
        }
        Method::ListTasks => {
            let params: ListTasksRequest = typed(request.params)?;
            Ok(success(&id, &service.list_tasks(agent, caller, params).await?))
        }
        Method::CancelTask => {
            let params: CancelTaskRequest = typed(request.params)?;
            Ok(success(&id, &service.cancel_task(agent, caller, params).await?))
        }
        Method::SubscribeToTask => {
            let params: SubscribeToTaskRequest = typed(request.params)?;
            A2aError::check(params.violations())?;
            let last_event_id = sse::last_event_id(headers)?;
            let stream = service.subscribe(agent, caller, &params.id, last_event_id).await?;
            Ok(sse::jsonrpc_stream(state, id, stream))
        }
        Method::CreateTaskPushNotificationConfig => {
            let config: TaskPushNotificationConfig = typed(request.params)?;
            Ok(success(&id, &service.create_push_config(agent, caller, config).await?))
        }
        Method::GetTaskPushNotificationConfig => {
            let params: GetTaskPushNotificationConfigRequest = typed(request.params)?;
            Ok(success(&id, &service.get_push_config(agent, caller, params).await?))
        }
        Method::ListTaskPushNotificationConfigs => {
            let params: ListTaskPushNotificationConfigsRequest = typed(request.params)?;
            Ok(success(&id, &service.list_push_configs(agent, caller, params).await?))
        }
        Method::DeleteTaskPushNotificationConfig => {
            let params: DeleteTaskPushNotificationConfigRequest = typed(request.params)?;
            service.delete_push_config(agent, caller, params).await?;
            Ok(success(&id, &serde_json::json!({})))
        }
        Method::GetExtendedAgentCard => {
            let executor = service.agent(agent).ok_or_else(|| A2aError::MethodNotFound(agent.to_owned()))?;
            let workspace = caller.principal.as_ref().map(|principal| principal.workspace_id);
            match cards::extended_card_of(state, executor.as_ref(), workspace) {
                Some(card) => Ok(success(&id, &card)),
                None => Ok(unauthenticated()),
            }
        }
    }
}
