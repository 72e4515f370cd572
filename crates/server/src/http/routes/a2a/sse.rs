//! Server-sent events for streamed A2A answers.
//!
//! Each task event becomes one SSE event whose `id:` is the event's per-task
//! sequence number, so a client that reconnects can send it back as
//! `Last-Event-ID` and miss nothing; a direct reply (no task) has no id.
//! Idle streams get a keep-alive comment so proxies do not cut them.

use std::convert::Infallible;
use std::time::Duration;

use agentdeck_a2a_protocol::version::ProtocolVersion;
use agentdeck_a2a_protocol::{A2aError, FieldViolation, jsonrpc};
use agentdeck_services::a2a::{EventStream, SequencedEvent};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::Value;

use super::dispatch;
use crate::state::AppState;

/// The `Last-Event-ID` header, if sent: a sequence number this server gave.
pub(super) fn last_event_id(headers: &HeaderMap) -> Result<Option<i64>, A2aError> {
    let Some(value) = headers.get("last-event-id") else {
        return Ok(None);
    };
    let text = value.to_str().map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i64>().ok().filter(|seq| *seq >= 0).map(Some).ok_or_else(|| {
        A2aError::invalid_params(vec![FieldViolation::new("Last-Event-ID", "must be an event id this server sent")])
    })
}

/// One event; the `id:` line comes first, as readers that act on each line expect.
fn sse_event(data: &Value, seq: i64) -> Event {
    let event = if seq > 0 { Event::default().id(seq.to_string()) } else { Event::default() };
    event.data(data.to_string())
}

/// Streams events, each in `version`'s form wrapped in a JSON-RPC success envelope with the request's id.
pub(super) fn jsonrpc_stream(state: &AppState, id: Value, version: ProtocolVersion, stream: EventStream) -> Response {
    let events = stream.map(move |SequencedEvent { seq, event }| {
        let result = dispatch::encode_event(version, event.as_ref());
        Ok::<_, Infallible>(sse_event(&jsonrpc::success(&id, &result), seq))
    });
    respond(state, events)
}

/// Streams bare events in `version`'s REST form (1.0 `StreamResponse`, or the 0.3 proto oneof).
pub(super) fn rest_stream(state: &AppState, version: ProtocolVersion, stream: EventStream) -> Response {
    let events = stream.map(move |SequencedEvent { seq, event }| {
        let data = dispatch::encode_rest_event(version, event.as_ref());
        Ok::<_, Infallible>(sse_event(&data, seq))
    });
    respond(state, events)
}

fn respond(
    state: &AppState,
    events: impl futures::Stream<Item = Result<Event, Infallible>> + Send + 'static,
) -> Response {
    let interval = Duration::from_secs(state.settings.a2a.keepalive_secs.max(1));
    let mut response = Sse::new(events).keep_alive(KeepAlive::new().interval(interval)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}
