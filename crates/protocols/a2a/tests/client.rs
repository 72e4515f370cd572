//! The A2A client against fake peers that inject failures and sloppiness:
//! deadlines, retries of idempotent calls only, and lenient reading.
//! (Interop with a real foreign implementation is in the server's tests.)
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests and benches fail loudly on a broken fixture")]
#![cfg(feature = "client")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use agentdeck_a2a_protocol::client::{AgentClient, ClientError, ClientOptions};
use agentdeck_a2a_protocol::{
    A2aError, GetTaskRequest, ListTasksRequest, Message, SendMessageRequest, SendMessageResponse, TaskState,
};
use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};

/// A peer whose JSON-RPC endpoint answers with `respond(call number, request)`.
async fn peer<F>(respond: F) -> (String, Arc<AtomicUsize>)
where
    F: Fn(usize, Value) -> (StatusCode, Value, Duration) + Clone + Send + Sync + 'static,
{
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind: {e}"));
    let url = format!("http://{}", listener.local_addr().unwrap_or_else(|e| panic!("address: {e}")));
    let card = json!({"name": "Fake", "description": "d", "version": "1", "capabilities": {"streaming": true},
        "supportedInterfaces": [{"url": format!("{url}/rpc"), "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}],
        "defaultInputModes": [], "defaultOutputModes": [], "skills": []});
    let app = Router::new().route("/.well-known/agent-card.json", get(move || async move { axum::Json(card) })).route(
        "/rpc",
        post(move |axum::Json(request): axum::Json<Value>| {
            let respond = respond.clone();
            let call = counter.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                let (status, body, delay) = respond(call, request.clone());
                tokio::time::sleep(delay).await;
                let mut body = body;
                if let Value::Object(object) = &mut body {
                    object.insert("id".into(), request["id"].clone());
                    object.insert("jsonrpc".into(), json!("2.0"));
                }
                (status, axum::Json(body)).into_response()
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, calls)
}

fn task(state: &str) -> Value {
    json!({"id": "t1", "contextId": "c1", "status": {"state": state}})
}

async fn connect(url: &str, deadline: Duration) -> AgentClient {
    // The workspace builds reqwest with rustls and no provider of its own: install ring's (already there is fine).
    #[allow(deprecated)] // ring lacks post-quantum key exchange; fine for a loopback test
    let _ = rustls::crypto::ring::default_provider().install_default();
    let options = ClientOptions { deadline, ..ClientOptions::default() };
    AgentClient::connect(reqwest::Client::new(), url, options).await.unwrap_or_else(|e| panic!("connect: {e}"))
}

#[tokio::test]
async fn a_call_past_its_deadline_is_a_timeout() {
    let (url, _) =
        peer(|_, _| (StatusCode::OK, json!({"result": task("TASK_STATE_COMPLETED")}), Duration::from_secs(5))).await;
    let client = connect(&url, Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let outcome = client.send(&SendMessageRequest::new(Message::user_text("m", "x"))).await;
    assert!(matches!(outcome, Err(ClientError::Timeout(_))), "{outcome:?}");
    assert_eq!(outcome.err().map(|e| e.to_string()).as_deref(), Some("no answer within 300 ms"));
    assert!(started.elapsed() < Duration::from_secs(2), "gave up at the deadline: {:?}", started.elapsed());
}

#[tokio::test]
async fn idempotent_calls_are_retried_on_503_and_sends_are_not() {
    let flaky = |call: usize, _| {
        if call <= 2 {
            (StatusCode::SERVICE_UNAVAILABLE, json!({"detail": "busy"}), Duration::ZERO)
        } else {
            (StatusCode::OK, json!({"result": task("TASK_STATE_WORKING")}), Duration::ZERO)
        }
    };
    let (url, calls) = peer(flaky).await;
    let client = connect(&url, Duration::from_secs(5)).await;
    let got = client.get_task(&GetTaskRequest { id: "t1".into(), ..Default::default() }).await;
    assert_eq!(got.map(|t| t.status.state).ok(), Some(TaskState::Working));
    assert_eq!(calls.load(Ordering::SeqCst), 3, "two retries");

    let (url, calls) = peer(flaky).await;
    let client = connect(&url, Duration::from_secs(5)).await;
    let sent = client.send(&SendMessageRequest::new(Message::user_text("m", "x"))).await;
    assert!(matches!(sent, Err(ClientError::Http { status: 503, .. })), "{sent:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 1, "a send is never retried");
}

#[tokio::test]
async fn sloppy_answers_are_read_and_errors_are_typed() {
    let sloppy = |_, request: Value| match request["method"].as_str() {
        // 0.3 shapes: `kind` tags, lowercase states, snake_case keys, `final`.
        Some("SendMessage") => (
            StatusCode::OK,
            json!({"result": {"kind": "task", "id": "t1", "context_id": "c1", "status": {"state": "completed"},
                "artifacts": [{"artifact_id": "a", "parts": [{"kind": "data", "data": {"snake_key": 1}}]}]}}),
            Duration::ZERO,
        ),
        // No nextPageToken, no totals.
        Some("ListTasks") => (StatusCode::OK, json!({"result": {"tasks": [task("input-required")]}}), Duration::ZERO),
        _ => (StatusCode::OK, json!({"error": {"code": -32001, "message": "Task not found"}}), Duration::ZERO),
    };
    let (url, _) = peer(sloppy).await;
    let client = connect(&url, Duration::from_secs(5)).await;
    let sent = client.send(&SendMessageRequest::new(Message::user_text("m", "x"))).await;
    let Ok(SendMessageResponse::Task(task)) = sent else {
        panic!("not read as a task: {sent:?}");
    };
    assert_eq!((task.context_id.as_str(), task.status.state), ("c1", TaskState::Completed));
    let data = serde_json::to_value(&task.artifacts[0].parts[0]).unwrap_or_default();
    assert_eq!(data, json!({"data": {"snake_key": 1}}), "the peer's own data keeps its keys");
    let listed = client.list_tasks(&ListTasksRequest::default()).await;
    let listed = listed.unwrap_or_else(|e| panic!("list: {e}"));
    assert_eq!((listed.next_page_token.as_str(), listed.tasks[0].status.state), ("", TaskState::InputRequired));
    let missing = client.get_task(&GetTaskRequest { id: "x".into(), ..Default::default() }).await;
    assert!(matches!(missing, Err(ClientError::Remote(A2aError::TaskNotFound(_)))), "{missing:?}");
}

#[tokio::test]
async fn an_unreachable_agent_is_named_with_the_cause_not_only_the_url() {
    // A port that was free a moment ago: nothing listens there.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    #[allow(deprecated)] // ring lacks post-quantum key exchange; fine for a loopback test
    let _ = rustls::crypto::ring::default_provider().install_default();
    let options = ClientOptions { deadline: Duration::from_secs(5), ..ClientOptions::default() };
    let refused = AgentClient::connect(reqwest::Client::new(), &url, options).await.map(|_| ());
    let Err(error @ ClientError::Transport(_)) = refused else {
        panic!("a transport failure: {refused:?}");
    };
    let text = error.to_string();
    // reqwest's own message stops at "error sending request for url (…)"; the cause is further down.
    assert!(text.starts_with("cannot reach the agent: error sending request for url ("), "{text}");
    assert!(text.contains("Connection refused"), "the cause is named: {text}");
}
