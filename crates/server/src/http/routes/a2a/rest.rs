//! `/a2a/{agent}/rest/…`: the HTTP+JSON binding of A2A 1.0 (a2a.md §2.1);
//! requests of 0.3 (no `A2A-Version` header) go to [`super::rest03`].
//!
//! One handler takes every path under the base and routes it by hand: the
//! binding's paths put an action after an id in one segment
//! (`/tasks/{id}:cancel`) and may start with a tenant
//! (`/{tenant}/tasks/{id}`), neither of which a router pattern expresses.
//! Errors are `google.rpc.Status` objects (`{"error": {code, status,
//! message, details}}`) sent as `application/json`; successes are sent as
//! `application/a2a+json` only to clients that ask for it.

use std::collections::HashMap;

use agentdeck_a2a_protocol::jsonrpc;
use agentdeck_a2a_protocol::version::ProtocolVersion;
use agentdeck_a2a_protocol::{
    A2aError, CancelTaskRequest, FieldViolation, GetTaskPushNotificationConfigRequest, GetTaskRequest,
    ListTaskPushNotificationConfigsRequest, ListTasksRequest, TaskPushNotificationConfig, TaskState, version,
};
use agentdeck_services::a2a::A2aCaller;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use super::jsonrpc::{A2A_JSON, is_json_media_type, requested_version, unauthenticated};
use super::{a2a_caller, cards, send_idempotency_key, sse};
use crate::http::extract::{ClientAddress, too_deep};
use crate::state::AppState;

/// The first segments a path can start with when it has no tenant.
const ROOTS: [&str; 4] = ["message:send", "message:stream", "tasks", "extendedAgentCard"];

/// A REST error answer.
pub(super) fn error_response(error: &A2aError) -> Response {
    let status = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = error.to_rest().to_string();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn success<T: Serialize>(headers: &HeaderMap, value: &T) -> Response {
    let content_type = if accepts_a2a_json(headers) { A2A_JSON } else { "application/json" };
    match serde_json::to_vec(value) {
        Ok(body) => {
            (StatusCode::OK, [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))], body).into_response()
        }
        Err(error) => error_response(&A2aError::Internal(format!("cannot serialize the answer: {error}"))),
    }
}

/// Whether an `Accept` media range names `application/a2a+json` (q-values are not weighed: any mention counts).
fn accepts_a2a_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        // The header is a comma-separated list of media ranges, each parsed by `mime`.
        .flat_map(|list| list.split(','))
        .filter_map(|range| range.trim().parse::<mime::Mime>().ok())
        .any(|range| range.essence_str() == A2A_JSON)
}

/// Reads a JSON body (an empty body reads as `{}`) after checking its media
/// type and its nesting against `max_depth` (`http.max_json_depth`).
fn json_body(headers: &HeaderMap, body: &Bytes, max_depth: usize) -> Result<Value, A2aError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    if !is_json_media_type(headers) {
        return Err(A2aError::ContentTypeNotSupported("send the body as application/json".into()));
    }
    // Checked before parsing, as on the JSON-RPC binding: serde_json's own
    // guard sits at a fixed 128 levels.
    if let Some(message) = too_deep(body, max_depth) {
        return Err(A2aError::InvalidRequest(message));
    }
    serde_json::from_slice(body).map_err(|error| A2aError::Parse(error.to_string()))
}

/// A query parameter by its lowerCamelCase name, or by its original proto field name
/// (`historyLength` or `history_length`): ProtoJSON parsers accept both.
fn query_param<'a>(query: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    let value = query.get(name).or_else(|| query.get(&proto_field_name(name)));
    value.map(String::as_str).filter(|v| !v.is_empty())
}

/// The original proto field name of a lowerCamelCase JSON name (`pageSize` → `page_size`).
fn proto_field_name(json_name: &str) -> String {
    let mut name = String::with_capacity(json_name.len() + 4);
    for character in json_name.chars() {
        if character.is_ascii_uppercase() {
            name.push('_');
            name.push(character.to_ascii_lowercase());
        } else {
            name.push(character);
        }
    }
    name
}

pub(super) fn query_int(query: &HashMap<String, String>, name: &str) -> Result<Option<i32>, A2aError> {
    query_param(query, name)
        .map(|value| {
            value.parse().map_err(|_| A2aError::invalid_params(vec![FieldViolation::new(name, "must be an integer")]))
        })
        .transpose()
}

fn list_request(query: &HashMap<String, String>) -> Result<ListTasksRequest, A2aError> {
    let status = query_param(query, "status")
        .map(|value| {
            TaskState::parse(value)
                .ok_or_else(|| A2aError::invalid_params(vec![FieldViolation::new("status", "is not a task state")]))
        })
        .transpose()?;
    let after = query_param(query, "statusTimestampAfter")
        .map(|value| {
            chrono::DateTime::parse_from_rfc3339(value).map(|t| t.with_timezone(&chrono::Utc)).map_err(|_| {
                A2aError::invalid_params(vec![FieldViolation::new("statusTimestampAfter", "is not an RFC 3339 time")])
            })
        })
        .transpose()?;
    let include_artifacts = query_param(query, "includeArtifacts")
        .map(|value| match value.to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err(A2aError::invalid_params(vec![FieldViolation::new("includeArtifacts", "must be true or false")])),
        })
        .transpose()?;
    Ok(ListTasksRequest {
        tenant: None,
        context_id: query_param(query, "contextId").map(str::to_owned),
        status,
        page_size: query_int(query, "pageSize")?,
        page_token: query_param(query, "pageToken").map(str::to_owned),
        history_length: query_int(query, "historyLength")?,
        status_timestamp_after: after,
        include_artifacts,
    })
}

/// Handles every request under `/a2a/{agent}/rest/`.
pub(super) async fn handle(
    State(state): State<AppState>,
    Path((agent, path)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    method: Method,
    client: ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(executor) = state.a2a.agent(&agent).cloned() else {
        return error_response(&A2aError::MethodNotFound(format!("no agent named {agent:?} is hosted here")));
    };
    let version = match version::negotiate(requested_version(&headers, &query)) {
        Ok(version) => version,
        Err(error) => return error_response(&error),
    };
    let caller = match a2a_caller(&state, &headers, executor.descriptor(), &client).await {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    let call = RestCall {
        state: &state,
        agent: &agent,
        caller: &caller,
        method: &method,
        path: &path,
        query: &query,
        headers: &headers,
        body: &body,
    };
    // The one place the version picks the binding's routes; each reads its
    // requests into the same operations (`dispatch`).
    let routed = match version {
        ProtocolVersion::V1_0 => call.route().await,
        ProtocolVersion::V0_3 => call.route_0_3().await,
    };
    match routed {
        Ok(response) => response,
        Err(error) => {
            if matches!(error, A2aError::Internal(_)) {
                tracing::error!(agent, %error, "A2A call failed");
            }
            error_response(&error)
        }
    }
}

/// One request under the base, with what every route reads.
pub(super) struct RestCall<'a> {
    pub(super) state: &'a AppState,
    pub(super) agent: &'a str,
    pub(super) caller: &'a A2aCaller,
    pub(super) method: &'a Method,
    /// The path after the base, e.g. `tasks/abc:cancel`.
    pub(super) path: &'a str,
    pub(super) query: &'a HashMap<String, String>,
    pub(super) headers: &'a HeaderMap,
    pub(super) body: &'a Bytes,
}

impl RestCall<'_> {
    /// Picks the operation by method and path segments.
    async fn route(&self) -> Result<Response, A2aError> {
        let service = &self.state.a2a;
        let (agent, caller) = (self.agent, self.caller);
        let mut segments: Vec<&str> = self.path.split('/').filter(|s| !s.is_empty()).collect();
        // A leading tenant is accepted and ignored: tasks are scoped by the caller's workspace.
        if segments.first().is_some_and(|first| !ROOTS.contains(first)) && segments.len() > 1 {
            segments.remove(0);
        }
        match (self.method.clone(), segments.as_slice()) {
            (Method::POST, ["message:send"]) => {
                let key = send_idempotency_key(self.headers)?;
                let outcome = service.send_with_key(agent, caller, self.body_params()?, key.as_deref()).await?;
                Ok(self.success(&outcome))
            }
            (Method::POST, ["message:stream"]) => {
                let key = send_idempotency_key(self.headers)?;
                let stream =
                    service.send_streaming_with_key(agent, caller, self.body_params()?, key.as_deref()).await?;
                Ok(sse::rest_stream(self.state, ProtocolVersion::V1_0, stream))
            }
            (Method::GET, ["tasks"]) => {
                Ok(self.success(&service.list_tasks(agent, caller, list_request(self.query)?).await?))
            }
            (_, ["tasks", target]) => self.task(target).await,
            (_, ["tasks", task_id, "pushNotificationConfigs"]) => self.push_configs(task_id, None).await,
            (_, ["tasks", task_id, "pushNotificationConfigs", config_id]) => {
                self.push_configs(task_id, Some(config_id)).await
            }
            (Method::GET, ["extendedAgentCard"]) => {
                let executor = service.agent(agent).ok_or_else(|| A2aError::MethodNotFound(agent.to_owned()))?;
                let workspace = caller.principal.as_ref().map(|principal| principal.workspace_id);
                match cards::extended_card_of(self.state, executor.as_ref(), workspace) {
                    Some(card) => Ok(self.success(&card)),
                    None => Ok(unauthenticated()),
                }
            }
            _ => Err(self.not_found()),
        }
    }

    /// `/tasks/{id}` and `/tasks/{id}:{action}`.
    async fn task(&self, target: &str) -> Result<Response, A2aError> {
        let service = &self.state.a2a;
        let (agent, caller) = (self.agent, self.caller);
        let (id, action) = target.split_once(':').map_or((target, None), |(id, action)| (id, Some(action)));
        match (self.method.clone(), action) {
            (Method::GET, None) => {
                let history_length = query_int(self.query, "historyLength")?;
                let request = GetTaskRequest { tenant: None, id: id.to_owned(), history_length };
                Ok(self.success(&service.get_task(agent, caller, request).await?))
            }
            (Method::POST, Some("cancel")) => {
                let mut request: CancelTaskRequest = self.body_params()?;
                request.id = id.to_owned();
                Ok(self.success(&service.cancel_task(agent, caller, request).await?))
            }
            // The spec text says POST, the proto annotation GET: both are served.
            (Method::POST | Method::GET, Some("subscribe")) => {
                let last_event_id = sse::last_event_id(self.headers)?;
                let stream = service.subscribe(agent, caller, id, last_event_id).await?;
                Ok(sse::rest_stream(self.state, ProtocolVersion::V1_0, stream))
            }
            _ => Err(self.not_found()),
        }
    }

    /// `/tasks/{id}/pushNotificationConfigs` and `…/{configId}`.
    async fn push_configs(&self, task_id: &str, config_id: Option<&str>) -> Result<Response, A2aError> {
        let service = &self.state.a2a;
        let (agent, caller) = (self.agent, self.caller);
        let one = |id: &str| GetTaskPushNotificationConfigRequest {
            tenant: None,
            task_id: task_id.to_owned(),
            id: id.to_owned(),
        };
        match (self.method.clone(), config_id) {
            (Method::POST, None) => {
                let mut config: TaskPushNotificationConfig = self.body_params()?;
                config.task_id = task_id.to_owned();
                Ok(self.success(&service.create_push_config(agent, caller, config).await?))
            }
            (Method::GET, None) => {
                let request = ListTaskPushNotificationConfigsRequest {
                    task_id: task_id.to_owned(),
                    page_size: query_int(self.query, "pageSize")?,
                    page_token: query_param(self.query, "pageToken").map(str::to_owned),
                    ..Default::default()
                };
                Ok(self.success(&service.list_push_configs(agent, caller, request).await?))
            }
            (Method::GET, Some(id)) => Ok(self.success(&service.get_push_config(agent, caller, one(id)).await?)),
            (Method::DELETE, Some(id)) => {
                service.delete_push_config(agent, caller, one(id)).await?;
                Ok(self.success(&serde_json::json!({})))
            }
            _ => Err(self.not_found()),
        }
    }

    /// The body as JSON (see [`json_body`]).
    pub(super) fn json_body(&self) -> Result<Value, A2aError> {
        json_body(self.headers, self.body, self.state.settings.http.max_json_depth)
    }

    /// The body as the operation's params.
    fn body_params<T: serde::de::DeserializeOwned>(&self) -> Result<T, A2aError> {
        jsonrpc::params(self.json_body()?)
    }

    pub(super) fn success<T: Serialize>(&self, value: &T) -> Response {
        success(self.headers, value)
    }

    pub(super) fn not_found(&self) -> A2aError {
        A2aError::MethodNotFound(format!("{} /{} is not an A2A route", self.method, self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: header::HeaderName, value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn query_parameters_answer_to_their_json_and_their_proto_field_names() {
        assert_eq!(proto_field_name("statusTimestampAfter"), "status_timestamp_after");
        assert_eq!(proto_field_name("status"), "status");
        let query: HashMap<String, String> = [("page_size".to_owned(), "5".to_owned())].into();
        assert_eq!(query_param(&query, "pageSize"), Some("5"));
        let both: HashMap<String, String> =
            [("pageSize".to_owned(), "7".to_owned()), ("page_size".to_owned(), "5".to_owned())].into();
        assert_eq!(query_param(&both, "pageSize"), Some("7"), "the JSON name wins");
    }

    #[test]
    fn media_types_are_compared_by_essence_whatever_the_case_and_parameters() {
        for json in ["application/json", "Application/JSON; charset=utf-8", "application/a2a+json;charset=UTF-8"] {
            assert!(is_json_media_type(&headers(header::CONTENT_TYPE, json)), "{json}");
        }
        for other in ["text/plain", "application/jsonx", "application/problem+json", "json", ""] {
            assert!(!is_json_media_type(&headers(header::CONTENT_TYPE, other)), "{other}");
        }
        for wanted in ["application/a2a+json", "text/html, Application/A2A+JSON;q=0.9", "*/*, application/a2a+json"] {
            assert!(accepts_a2a_json(&headers(header::ACCEPT, wanted)), "{wanted}");
        }
        for plain in ["application/json", "*/*", "application/a2a+jsonx", "text/plain; note=application/a2a+json"] {
            assert!(!accepts_a2a_json(&headers(header::ACCEPT, plain)), "{plain}");
        }
    }
}
