//! `Idempotency-Key` on the A2A send methods over HTTP: both bindings,
//! blocking and streaming, scoped per caller (anonymous ones by address),
//! and malformed keys refused with a clear error.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::a2a::{SseEvent, kinds, message, sse_events};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const AGENT: &str = "/a2a/conformance";

/// Headers of one call: a token, an `Idempotency-Key`, a forwarded client address.
#[derive(Default, Clone, Copy)]
struct With<'a> {
    token: Option<&'a str>,
    key: Option<&'a [u8]>,
    forwarded_for: Option<&'a str>,
}

fn request(app: &TestApp, url: String, body: &Value, with: With<'_>) -> reqwest::RequestBuilder {
    let mut request = app.client.post(url).header("A2A-Version", "1.0").json(body);
    if let Some(token) = with.token {
        request = request.bearer_auth(token);
    }
    if let Some(key) = with.key {
        let value = reqwest::header::HeaderValue::from_bytes(key).expect("a header value");
        request = request.header("Idempotency-Key", value);
    }
    if let Some(address) = with.forwarded_for {
        request = request.header("X-Forwarded-For", address);
    }
    request
}

/// A JSON-RPC call; its JSON answer.
async fn rpc(app: &TestApp, method: &str, params: Value, with: With<'_>) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let response = request(app, format!("{}{AGENT}", app.address), &body, with).send().await.expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("JSON")
}

/// A REST call under the agent's base; its status and JSON answer.
async fn rest(app: &TestApp, path: &str, body: Value, with: With<'_>) -> (StatusCode, Value) {
    let response = request(app, format!("{}{AGENT}/rest{path}", app.address), &body, with).send().await.expect("sent");
    (response.status(), response.json().await.unwrap_or(Value::Null))
}

async fn stream(app: &TestApp, params: Value, with: With<'_>) -> Vec<SseEvent> {
    let body = json!({"jsonrpc": "2.0", "id": "s1", "method": "SendStreamingMessage", "params": params});
    sse_events(request(app, format!("{}{AGENT}", app.address), &body, with).send().await.expect("stream opened")).await
}

fn task_id(reply: &Value) -> String {
    reply["result"]["task"]["id"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn json_rpc_sends_with_the_same_key_get_the_first_task_and_other_params_are_refused() {
    let app = spawn_app().await;
    let keyed = With { token: Some(&app.token), key: Some(b"order-42"), ..With::default() };
    let first = rpc(&app, "SendMessage", message("tck-complete-task-1", "hi"), keyed).await;
    assert_eq!(first["result"]["task"]["status"]["state"], "TASK_STATE_COMPLETED", "{first}");
    let retry = rpc(&app, "SendMessage", message("tck-complete-task-1", "hi"), keyed).await;
    assert_eq!(task_id(&retry), task_id(&first), "{retry}");
    // historyLength applies to a retry's answer too (it is part of the params, so the same on both).
    let trimmed =
        json!({"message": message("tck-complete-task-2", "hi")["message"], "configuration": {"historyLength": 0}});
    let once = rpc(&app, "SendMessage", trimmed.clone(), With { key: Some(b"trimmed"), ..keyed }).await;
    let twice = rpc(&app, "SendMessage", trimmed, With { key: Some(b"trimmed"), ..keyed }).await;
    assert_eq!(task_id(&twice), task_id(&once));
    assert!(twice["result"]["task"].get("history").is_none(), "{twice}");

    let unkeyed = With { key: None, ..keyed };
    let fresh = rpc(&app, "SendMessage", message("tck-complete-task-1", "hi"), unkeyed).await;
    assert_ne!(task_id(&fresh), task_id(&first), "no key, a new send: {fresh}");
    let other = rpc(&app, "SendMessage", message("tck-complete-task-1", "bye"), keyed).await;
    assert_eq!(other["error"]["code"], -32602, "{other}");
    let text = other["error"].to_string();
    assert!(text.contains("Idempotency-Key") && text.contains("other params"), "{text}");
}

#[tokio::test]
async fn a_malformed_key_is_refused_on_sends_and_ignored_elsewhere() {
    let app = spawn_app().await;
    let long = "k".repeat(201);
    for (key, says) in
        [(long.as_bytes(), "at most 200 characters"), ("clé".as_bytes(), "visible ASCII"), (b"  ", "empty")]
    {
        let with = With { token: Some(&app.token), key: Some(key), ..With::default() };
        let refused = rpc(&app, "SendMessage", message("tck-complete-task-1", "hi"), with).await;
        assert_eq!(refused["error"]["code"], -32602, "{refused}");
        let text = refused["error"].to_string();
        assert!(text.contains("Idempotency-Key") && text.contains(says), "{text}");
        let (status, body) = rest(&app, "/message:send", message("tck-complete-task-1", "hi"), with).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.to_string().contains("Idempotency-Key"), "{body}");
        // Methods other than the sends ignore the header.
        let listed = rpc(&app, "ListTasks", json!({}), with).await;
        assert_eq!(listed["result"]["totalSize"], 0, "{listed}");
    }
}

#[tokio::test]
async fn rest_sends_with_the_same_key_get_the_first_task() {
    let app = spawn_app().await;
    let keyed = With { token: Some(&app.token), key: Some(b"rest-1"), ..With::default() };
    let (status, first) = rest(&app, "/message:send", message("tck-artifact-text-r", "x"), keyed).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (_, retry) = rest(&app, "/message:send", message("tck-artifact-text-r", "x"), keyed).await;
    assert_eq!(retry["task"]["id"], first["task"]["id"], "{retry}");
    let (status, other) = rest(&app, "/message:send", message("tck-artifact-text-r", "y"), keyed).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{other}");
    assert!(other.to_string().contains("Idempotency-Key"), "{other}");
    // The key belongs to the caller, not the binding: JSON-RPC with it gets the same task.
    let over_rpc = rpc(&app, "SendMessage", message("tck-artifact-text-r", "x"), keyed).await;
    assert_eq!(over_rpc["result"]["task"]["id"], first["task"]["id"], "{over_rpc}");
}

#[tokio::test]
async fn a_streaming_retry_replays_the_same_events_with_the_same_ids() {
    let app = spawn_app().await;
    let keyed = With { token: Some(&app.token), key: Some(b"stream-1"), ..With::default() };
    let first = stream(&app, message("tck-stream-001-i", "go"), keyed).await;
    assert_eq!(
        kinds(&first),
        ["task:TASK_STATE_SUBMITTED", "status:TASK_STATE_WORKING", "artifact", "status:TASK_STATE_COMPLETED"]
    );
    let replayed = stream(&app, message("tck-stream-001-i", "go"), keyed).await;
    assert_eq!(replayed, first, "the same events, bodies and SSE ids");
    // A blocking retry of the streamed send answers with the same task.
    let blocking = rpc(&app, "SendMessage", message("tck-stream-001-i", "go"), keyed).await;
    assert_eq!(blocking["result"]["task"]["id"], first[0].data["result"]["task"]["id"], "{blocking}");
}

#[tokio::test]
async fn anonymous_callers_are_kept_apart_by_their_address() {
    let app = spawn_app_with(|settings| settings.http.behind_proxy = true).await;
    let from = |address| With { key: Some(b"anon-1"), forwarded_for: Some(address), ..With::default() };
    let here = rpc(&app, "SendMessage", message("tck-complete-task-1", "hi"), from("192.0.2.1")).await;
    let there = rpc(&app, "SendMessage", message("tck-complete-task-1", "hi"), from("192.0.2.2")).await;
    assert_ne!(task_id(&here), task_id(&there), "{here} {there}");
    let here_again = rpc(&app, "SendMessage", message("tck-complete-task-1", "hi"), from("192.0.2.1")).await;
    assert_eq!(task_id(&here_again), task_id(&here));
}
