//! A typed client of A2A agents anywhere (a2a.md §2, §7).
//!
//! [`AgentClient::connect`] fetches an agent's card and picks an interface
//! over JSON-RPC or HTTP+JSON: one that speaks 1.0 if there is any, else one
//! that speaks 0.3; every operation then goes over that binding in that
//! version. Callers use 1.0 types either way: to a 0.3 agent the client
//! sends 0.3 method names, paths and shapes ([`crate::v03`]) and no
//! `A2A-Version` header, and reads its answers back into 1.0 (0.3 agents
//! cannot list tasks). The client is strict in what it sends and lenient in
//! what it reads ([`lenient`]). Each call
//! has a deadline; only idempotent calls (get, list, cancel, subscribe) are
//! retried, on transport failures and 502/503/504, with backoff. The HTTP
//! client is the caller's: TLS, proxies and pools are configured there.

mod card;
mod lenient;
mod tls;

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use eventsource_stream::Eventsource;
use futures::{Stream, StreamExt};
use reqwest::{Method, RequestBuilder, StatusCode, header};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

pub use card::{Binding, Endpoint, choose_endpoint};
pub use tls::{CertificateProblem, certificate_problem};

use crate::version::ProtocolVersion;
use crate::{
    A2aError, AgentCard, CancelTaskRequest, GetTaskRequest, ListTasksRequest, ListTasksResponse, SendMessageRequest,
    SendMessageResponse, StreamResponse, Task, v03, version,
};

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The agent answered with an A2A error.
    #[error("the agent refused: {0}")]
    Remote(A2aError),
    /// No answer within the deadline (in milliseconds, as the gateway's own deadline says it).
    #[error("no answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The request could not be sent or the answer not read (the agent is
    /// down, unreachable, or closed the connection). The message carries
    /// reqwest's whole chain of causes, whose top alone ("error sending request
    /// for url …") does not say what went wrong; so the error is not also
    /// given as a source, which would repeat the chain.
    #[error("cannot reach the agent: {}", cause_chain(.0))]
    Transport(reqwest::Error),
    /// The agent's TLS certificate was refused: no request reached it.
    #[error("TLS certificate of {url} not accepted: {problem}")]
    Certificate {
        /// The URL called.
        url: String,
        /// What is wrong with the certificate.
        problem: CertificateProblem,
    },
    /// An HTTP status that carries no A2A error.
    #[error("HTTP {status}: {body}")]
    Http {
        /// The status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// The answer is not what the protocol allows.
    #[error("invalid answer: {0}")]
    InvalidResponse(String),
    /// The card offers no interface this client speaks.
    #[error("the agent card offers no A2A 1.0 or 0.3 interface over JSON-RPC or HTTP+JSON")]
    NoSupportedInterface,
}

impl ClientError {
    /// The error of a request that got no answer: a refused certificate when
    /// that is the cause, else a transport failure.
    pub fn transport(error: reqwest::Error) -> Self {
        match certificate_problem(&error) {
            Some(problem) => {
                let url = error.url().map(|url| url.as_str().to_owned()).unwrap_or_default();
                Self::Certificate { url, problem }
            }
            None => Self::Transport(error),
        }
    }

    /// Whether trying again may help (a refused certificate stays refused).
    fn is_transient(&self) -> bool {
        match self {
            Self::Timeout(_) => true,
            Self::Transport(error) => error.is_connect() || error.is_timeout(),
            Self::Http { status, .. } => matches!(status, 502..=504),
            _ => false,
        }
    }
}

/// How a client calls: identity, tracing, deadlines, retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// Deadline of each call (for streams: until the first byte of the answer).
    pub deadline: Duration,
    /// The caller's bearer token, sent as `Authorization`.
    pub bearer: Option<String>,
    /// The caller's W3C trace context, sent as `traceparent`.
    pub traceparent: Option<String>,
    /// A binding to prefer when the card offers several.
    pub prefer: Option<Binding>,
    /// How often an idempotent call is retried.
    pub retries: u32,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self { deadline: Duration::from_secs(30), bearer: None, traceparent: None, prefer: None, retries: 2 }
    }
}

/// One event of a stream, with the SSE id the agent gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamItem {
    /// The SSE `id:` (a per-task sequence on agentdeck servers).
    pub id: Option<String>,
    /// The event.
    pub event: StreamResponse,
}

/// A stream of events; it ends when the agent closes it or a final event arrived.
pub type ClientStream = Pin<Box<dyn Stream<Item = Result<StreamItem, ClientError>> + Send>>;

/// A client of one agent.
#[derive(Clone)]
pub struct AgentClient {
    http: reqwest::Client,
    card: Arc<AgentCard>,
    endpoint: Endpoint,
    options: ClientOptions,
    next_id: Arc<AtomicU64>,
}

/// The longest error body kept in an error.
const ERROR_BODY_CHARS: usize = 512;

/// Fetches the card of the agent at `agent_url` (`{agent_url}/.well-known/agent-card.json`).
pub async fn fetch_card(http: &reqwest::Client, agent_url: &str, deadline: Duration) -> Result<AgentCard, ClientError> {
    let url = format!("{}/.well-known/agent-card.json", agent_url.trim_end_matches('/'));
    let response = tokio::time::timeout(deadline, http.get(&url).send())
        .await
        .map_err(|_| ClientError::Timeout(deadline))?
        .map_err(ClientError::transport)?;
    let status = response.status();
    let body = tokio::time::timeout(deadline, response.bytes())
        .await
        .map_err(|_| ClientError::Timeout(deadline))?
        .map_err(ClientError::transport)?;
    if !status.is_success() {
        return Err(ClientError::Http { status: status.as_u16(), body: truncated(&body) });
    }
    let value: Value = serde_json::from_slice(&body).map_err(|e| ClientError::InvalidResponse(format!("card: {e}")))?;
    serde_json::from_value(card::normalize_card(value)).map_err(|e| ClientError::InvalidResponse(format!("card: {e}")))
}

/// `error` and each of its sources, joined by `: `.
fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn truncated(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(ERROR_BODY_CHARS).collect()
}

fn typed<T: DeserializeOwned>(value: Value, what: &str) -> Result<T, ClientError> {
    serde_json::from_value(value).map_err(|e| ClientError::InvalidResponse(format!("{what}: {e}")))
}

impl AgentClient {
    /// Fetches the agent's card and picks its interface.
    pub async fn connect(http: reqwest::Client, agent_url: &str, options: ClientOptions) -> Result<Self, ClientError> {
        let card = fetch_card(&http, agent_url, options.deadline).await?;
        Self::from_card(http, card, options)
    }

    /// A client for a card already at hand.
    pub fn from_card(http: reqwest::Client, card: AgentCard, options: ClientOptions) -> Result<Self, ClientError> {
        let endpoint = choose_endpoint(&card, options.prefer).ok_or(ClientError::NoSupportedInterface)?;
        Ok(Self { http, card: Arc::new(card), endpoint, options, next_id: Arc::new(AtomicU64::new(1)) })
    }

    /// The agent's card.
    pub fn card(&self) -> &AgentCard {
        &self.card
    }

    /// The interface in use.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The same client sending its calls to `url` instead of the card's
    /// interface URL (the same agent on another route, e.g. over loopback
    /// behind a public proxy); the binding stays the one chosen.
    pub fn at(mut self, url: &str) -> Self {
        self.endpoint.url = url.trim_end_matches('/').to_owned();
        self
    }

    /// The same client acting for another caller (bearer token and trace context).
    pub fn acting_for(&self, bearer: Option<String>, traceparent: Option<String>) -> Self {
        let mut client = self.clone();
        client.options.bearer = bearer;
        client.options.traceparent = traceparent;
        client
    }

    /// The same client with another deadline per call.
    pub fn with_deadline(&self, deadline: Duration) -> Self {
        let mut client = self.clone();
        client.options.deadline = deadline;
        client
    }

    /// `SendMessage` (not retried: the agent may not dedupe).
    pub async fn send(&self, request: &SendMessageRequest) -> Result<SendMessageResponse, ClientError> {
        let value = match (self.endpoint.version, self.endpoint.binding) {
            (ProtocolVersion::V1_0, Binding::JsonRpc) => self.rpc("SendMessage", request).await?,
            (ProtocolVersion::V1_0, Binding::Rest) => {
                self.rest(Method::POST, "/message:send", Some(request), &[]).await?
            }
            (ProtocolVersion::V0_3, Binding::JsonRpc) => self.rpc("message/send", &legacy_send(request)).await?,
            (ProtocolVersion::V0_3, Binding::Rest) => {
                let body = v03::rest::send_params_to_proto(to_json(&legacy_send(request))?);
                self.rest(Method::POST, "/v1/message:send", Some(&body), &[]).await?
            }
        };
        match decode_event(self.endpoint.version, self.endpoint.binding, value)? {
            StreamResponse::Task(task) => Ok(SendMessageResponse::Task(task)),
            StreamResponse::Message(message) => Ok(SendMessageResponse::Message(message)),
            other => Err(ClientError::InvalidResponse(format!("SendMessage result: not a task or message: {other:?}"))),
        }
    }

    /// `SendStreamingMessage`.
    pub async fn stream(&self, request: &SendMessageRequest) -> Result<ClientStream, ClientError> {
        let builder = match (self.endpoint.version, self.endpoint.binding) {
            (ProtocolVersion::V1_0, Binding::JsonRpc) => self.rpc_request("SendStreamingMessage", request)?,
            (ProtocolVersion::V1_0, Binding::Rest) => {
                self.rest_request(Method::POST, "/message:stream", Some(request), &[])?
            }
            (ProtocolVersion::V0_3, Binding::JsonRpc) => self.rpc_request("message/stream", &legacy_send(request))?,
            (ProtocolVersion::V0_3, Binding::Rest) => {
                let body = v03::rest::send_params_to_proto(to_json(&legacy_send(request))?);
                self.rest_request(Method::POST, "/v1/message:stream", Some(&body), &[])?
            }
        };
        self.open_stream(builder).await
    }

    /// `SubscribeToTask`, resuming after `last_event_id` when given.
    pub async fn subscribe(&self, task_id: &str, last_event_id: Option<&str>) -> Result<ClientStream, ClientError> {
        let params = &json!({"id": task_id});
        let open = move || async move {
            let builder = match (self.endpoint.version, self.endpoint.binding) {
                (ProtocolVersion::V1_0, Binding::JsonRpc) => self.rpc_request("SubscribeToTask", params)?,
                (ProtocolVersion::V1_0, Binding::Rest) => {
                    self.rest_request(Method::POST, &format!("/tasks/{task_id}:subscribe"), Some(params), &[])?
                }
                (ProtocolVersion::V0_3, Binding::JsonRpc) => self.rpc_request("tasks/resubscribe", params)?,
                // The reference SDK 0.3 serves GET only.
                (ProtocolVersion::V0_3, Binding::Rest) => {
                    self.rest_request(Method::GET, &format!("/v1/tasks/{task_id}:subscribe"), None::<&Value>, &[])?
                }
            };
            let builder = match last_event_id {
                Some(id) => builder.header("Last-Event-ID", id),
                None => builder,
            };
            self.open_stream(builder).await
        };
        open.retry(self.retry_policy()).when(ClientError::is_transient).await
    }

    /// `GetTask` (retried).
    pub async fn get_task(&self, request: &GetTaskRequest) -> Result<Task, ClientError> {
        let legacy = self.endpoint.version == ProtocolVersion::V0_3;
        let value = self
            .idempotent(|| async {
                let mut query = Vec::new();
                if let Some(length) = request.history_length {
                    query.push(("historyLength", length.to_string()));
                }
                match (self.endpoint.binding, legacy) {
                    (Binding::JsonRpc, false) => self.rpc("GetTask", request).await,
                    (Binding::JsonRpc, true) => {
                        self.rpc("tasks/get", &legacy_query(&request.id, request.history_length)).await
                    }
                    (Binding::Rest, false) => {
                        self.rest::<Value>(Method::GET, &format!("/tasks/{}", request.id), None, &query).await
                    }
                    (Binding::Rest, true) => {
                        self.rest::<Value>(Method::GET, &format!("/v1/tasks/{}", request.id), None, &query).await
                    }
                }
            })
            .await?;
        decode_task(self.endpoint.version, self.endpoint.binding, value, "GetTask result")
    }

    /// `ListTasks` (retried); a missing `nextPageToken` reads as the last page. 0.3 agents cannot list.
    pub async fn list_tasks(&self, request: &ListTasksRequest) -> Result<ListTasksResponse, ClientError> {
        if self.endpoint.version == ProtocolVersion::V0_3 {
            return Err(ClientError::Remote(A2aError::UnsupportedOperation(
                "the agent speaks A2A 0.3, which has no way to list tasks".into(),
            )));
        }
        let value = self
            .idempotent(|| async {
                match self.endpoint.binding {
                    Binding::JsonRpc => self.rpc("ListTasks", request).await,
                    Binding::Rest => {
                        let query = list_query(request);
                        self.rest::<Value>(Method::GET, "/tasks", None, &query).await
                    }
                }
            })
            .await?;
        typed(lenient::camel_keys(value), "ListTasks result")
    }

    /// `CancelTask` (retried: cancel is idempotent).
    pub async fn cancel_task(&self, request: &CancelTaskRequest) -> Result<Task, ClientError> {
        let value = self
            .idempotent(|| async {
                match (self.endpoint.version, self.endpoint.binding) {
                    (ProtocolVersion::V1_0, Binding::JsonRpc) => self.rpc("CancelTask", request).await,
                    (ProtocolVersion::V1_0, Binding::Rest) => {
                        self.rest(Method::POST, &format!("/tasks/{}:cancel", request.id), Some(request), &[]).await
                    }
                    (ProtocolVersion::V0_3, Binding::JsonRpc) => {
                        self.rpc("tasks/cancel", &legacy_query(&request.id, None)).await
                    }
                    (ProtocolVersion::V0_3, Binding::Rest) => {
                        let body = json!({"name": format!("tasks/{}", request.id)});
                        self.rest(Method::POST, &format!("/v1/tasks/{}:cancel", request.id), Some(&body), &[]).await
                    }
                }
            })
            .await?;
        decode_task(self.endpoint.version, self.endpoint.binding, value, "CancelTask result")
    }

    async fn idempotent<F, Fut>(&self, call: F) -> Result<Value, ClientError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Value, ClientError>>,
    {
        call.retry(self.retry_policy()).when(ClientError::is_transient).await
    }

    /// Backoff between tries of an idempotent call: 200 ms, doubling, at most 6.4 s, `retries` times.
    fn retry_policy(&self) -> ExponentialBuilder {
        ExponentialBuilder::new()
            .with_min_delay(Duration::from_millis(200))
            .with_factor(2.0)
            .with_max_delay(Duration::from_millis(6_400))
            .with_max_times(usize::try_from(self.options.retries).unwrap_or(usize::MAX))
    }

    fn with_headers(&self, builder: RequestBuilder) -> RequestBuilder {
        // 0.3 predates the header: its clients send none, and a missing header means 0.3.
        let mut builder = match self.endpoint.version {
            ProtocolVersion::V1_0 => builder.header(version::HEADER, version::SERVED),
            ProtocolVersion::V0_3 => builder,
        };
        if let Some(token) = &self.options.bearer {
            builder = builder.bearer_auth(token);
        }
        if let Some(traceparent) = &self.options.traceparent {
            builder = builder.header("traceparent", traceparent);
        }
        builder
    }

    fn rpc_request(&self, method: &str, params: &impl Serialize) -> Result<RequestBuilder, ClientError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut params = serde_json::to_value(params).map_err(|e| ClientError::InvalidResponse(e.to_string()))?;
        if let (Some(tenant), Value::Object(object)) = (&self.endpoint.tenant, &mut params) {
            object.entry("tenant").or_insert_with(|| json!(tenant));
        }
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        Ok(self.with_headers(self.http.post(&self.endpoint.url)).json(&body))
    }

    async fn rpc(&self, method: &str, params: &impl Serialize) -> Result<Value, ClientError> {
        let builder = self.rpc_request(method, params)?;
        let (status, body) = self.exchange(builder).await?;
        let value: Value = serde_json::from_slice(&body)
            .map_err(|_| ClientError::Http { status: status.as_u16(), body: truncated(&body) })?;
        if let Some(error) = value.get("error") {
            return Err(ClientError::Remote(A2aError::from_jsonrpc(error)));
        }
        if !status.is_success() {
            return Err(ClientError::Http { status: status.as_u16(), body: truncated(&body) });
        }
        value.get("result").cloned().ok_or_else(|| ClientError::InvalidResponse("no `result` in the answer".into()))
    }

    fn rest_request(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
        query: &[(&str, String)],
    ) -> Result<RequestBuilder, ClientError> {
        let tenant = self.endpoint.tenant.as_deref().map(|t| format!("/{t}")).unwrap_or_default();
        let mut builder = self.with_headers(self.http.request(method, format!("{}{tenant}{path}", self.endpoint.url)));
        if !query.is_empty() {
            builder = builder.query(query);
        }
        if let Some(body) = body {
            builder = builder.json(body);
        }
        Ok(builder)
    }

    async fn rest<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        query: &[(&str, String)],
    ) -> Result<Value, ClientError> {
        let builder = self.rest_request(method, path, body, query)?;
        let (status, body) = self.exchange(builder).await?;
        let value: Result<Value, _> = serde_json::from_slice(&body);
        match value {
            Ok(value) if status.is_success() => Ok(value),
            Ok(value) if value.get("error").is_some() => {
                Err(ClientError::Remote(A2aError::from_rest(status.as_u16(), &value)))
            }
            _ => Err(ClientError::Http { status: status.as_u16(), body: truncated(&body) }),
        }
    }

    /// Sends a request and reads the whole answer within the deadline.
    async fn exchange(&self, builder: RequestBuilder) -> Result<(StatusCode, Vec<u8>), ClientError> {
        let deadline = self.options.deadline;
        let exchange = async {
            let response = builder.send().await.map_err(ClientError::transport)?;
            let status = response.status();
            let body = response.bytes().await.map_err(ClientError::transport)?;
            Ok((status, body.to_vec()))
        };
        tokio::time::timeout(deadline, exchange).await.map_err(|_| ClientError::Timeout(deadline))?
    }

    async fn open_stream(&self, builder: RequestBuilder) -> Result<ClientStream, ClientError> {
        let deadline = self.options.deadline;
        let builder = builder.header(header::ACCEPT, "text/event-stream");
        let response = tokio::time::timeout(deadline, builder.send())
            .await
            .map_err(|_| ClientError::Timeout(deadline))?
            .map_err(ClientError::transport)?;
        let status = response.status();
        let is_sse = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
            .is_some_and(|media_type| media_type.essence_str() == mime::TEXT_EVENT_STREAM.essence_str());
        if !is_sse {
            // An error before the stream started comes as a plain JSON answer.
            let body = tokio::time::timeout(deadline, response.bytes())
                .await
                .map_err(|_| ClientError::Timeout(deadline))?
                .map_err(ClientError::transport)?;
            let value: Value = serde_json::from_slice(&body)
                .map_err(|_| ClientError::Http { status: status.as_u16(), body: truncated(&body) })?;
            return Err(match (self.endpoint.binding, value.get("error")) {
                (Binding::JsonRpc, Some(error)) => ClientError::Remote(A2aError::from_jsonrpc(error)),
                (Binding::Rest, Some(_)) => ClientError::Remote(A2aError::from_rest(status.as_u16(), &value)),
                _ => ClientError::InvalidResponse(format!("expected an event stream, got HTTP {status}")),
            });
        }
        let (binding, protocol) = (self.endpoint.binding, self.endpoint.version);
        let mapped = response.bytes_stream().eventsource().map(move |event| {
            let event = event.map_err(|e| ClientError::InvalidResponse(format!("event stream: {e}")))?;
            let value: Value = serde_json::from_str(&event.data)
                .map_err(|e| ClientError::InvalidResponse(format!("event data: {e}")))?;
            let payload = match binding {
                Binding::JsonRpc => {
                    if let Some(error) = value.get("error") {
                        return Err(ClientError::Remote(A2aError::from_jsonrpc(error)));
                    }
                    value
                        .get("result")
                        .cloned()
                        .ok_or_else(|| ClientError::InvalidResponse("event without result".into()))?
                }
                Binding::Rest => {
                    if value.get("error").is_some() {
                        return Err(ClientError::Remote(A2aError::from_rest(500, &value)));
                    }
                    value
                }
            };
            let id = Some(event.id).filter(|id| !id.is_empty());
            Ok(StreamItem { id, event: decode_event(protocol, binding, payload)? })
        });
        // Stop after a final event (or an error) even if the peer keeps the connection open;
        // a task snapshot ends it only when the task is over.
        let ended = futures::stream::unfold((Box::pin(mapped), false), |(mut inner, done)| async move {
            if done {
                return None;
            }
            let next = inner.next().await?;
            let done = match &next {
                Ok(StreamItem { event: StreamResponse::Task(task), .. }) => task.status.state.is_terminal(),
                Ok(item) => item.event.ends_stream(),
                Err(_) => true,
            };
            Some((next, (inner, done)))
        });
        Ok(Box::pin(ended))
    }
}

/// A 1.0 send as 0.3 `MessageSendParams`.
fn legacy_send(request: &SendMessageRequest) -> v03::requests::MessageSendParams {
    v03::requests::MessageSendParams::from_current(request)
}

/// 0.3 `TaskQueryParams` / `TaskIdParams`.
fn legacy_query(id: &str, history_length: Option<i32>) -> v03::requests::TaskQueryParams {
    v03::requests::TaskQueryParams { id: id.to_owned(), history_length, metadata: None }
}

fn to_json(value: &impl Serialize) -> Result<Value, ClientError> {
    serde_json::to_value(value).map_err(|e| ClientError::InvalidResponse(e.to_string()))
}

/// Reads a send result or stream event as the endpoint's version and binding write it.
fn decode_event(protocol: ProtocolVersion, binding: Binding, value: Value) -> Result<StreamResponse, ClientError> {
    let read = match (protocol, binding) {
        (ProtocolVersion::V1_0, _) => lenient::response(value),
        (ProtocolVersion::V0_3, Binding::JsonRpc) => lenient::legacy_event(value),
        (ProtocolVersion::V0_3, Binding::Rest) => v03::rest::event_from_proto(value)
            .ok_or_else(|| "no task, message or update in the answer".to_owned())
            .and_then(lenient::legacy_event),
    };
    read.map_err(|e| ClientError::InvalidResponse(format!("event: {e}")))
}

/// Reads a task as the endpoint's version and binding write it.
fn decode_task(protocol: ProtocolVersion, binding: Binding, value: Value, what: &str) -> Result<Task, ClientError> {
    let read = match (protocol, binding) {
        (ProtocolVersion::V1_0, _) => return typed(lenient::camel_keys(value), what),
        (ProtocolVersion::V0_3, Binding::JsonRpc) => lenient::legacy_task(value),
        (ProtocolVersion::V0_3, Binding::Rest) => lenient::legacy_task(v03::rest::task_from_proto(value)),
    };
    read.map_err(|e| ClientError::InvalidResponse(format!("{what}: {e}")))
}

fn list_query(request: &ListTasksRequest) -> Vec<(&'static str, String)> {
    let mut query = Vec::new();
    if let Some(context_id) = &request.context_id {
        query.push(("contextId", context_id.clone()));
    }
    if let Some(status) = request.status {
        query.push(("status", status.as_str().to_owned()));
    }
    if let Some(size) = request.page_size {
        query.push(("pageSize", size.to_string()));
    }
    if let Some(token) = &request.page_token {
        query.push(("pageToken", token.clone()));
    }
    if let Some(length) = request.history_length {
        query.push(("historyLength", length.to_string()));
    }
    if let Some(after) = &request.status_timestamp_after {
        query.push(("statusTimestampAfter", crate::format_timestamp(after)));
    }
    if let Some(include) = request.include_artifacts {
        query.push(("includeArtifacts", include.to_string()));
    }
    query
}
