//! Rate limits at the edge: per workspace, per route class, with headers on
//! every limited response; shared by two nodes through Redis.

use reqwest::StatusCode;
use serde_json::{Value, json};

use agentdeck_server::config::Settings;

use crate::helpers::{TestApp, spawn_app_on_postgres_with, spawn_app_with};

/// The limits count over an hour: no slot comes back while a test makes its
/// calls (one every 36 s for the A2A class), so the call past the limit is
/// refused however slowly a loaded machine makes the ones before it.
fn hourly(settings: &mut Settings) {
    settings.rate_limit.window_secs = 3600;
}

/// A cheap A2A call (a GetTask of nothing) with a token; returns status, headers and body.
async fn a2a_call(app: &TestApp, token: &str) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    app.a2a_call("/a2a/navi", Some(token), "GetTask", json!({"id": "none"})).await
}

fn header(headers: &reqwest::header::HeaderMap, name: &str) -> String {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

#[tokio::test]
async fn the_101st_a2a_call_of_a_workspace_is_refused_and_another_workspace_is_not() {
    let app = spawn_app_with(hourly).await;
    for call in 0..100 {
        let (status, headers, _) = a2a_call(&app, &app.token).await;
        assert_eq!(status, StatusCode::OK, "call {call}");
        assert_eq!(header(&headers, "x-ratelimit-limit"), "100");
        assert_eq!(header(&headers, "x-ratelimit-remaining"), (99 - call).to_string());
        assert!(header(&headers, "x-ratelimit-reset").parse::<u64>().is_ok());
    }
    let (status, headers, body) = a2a_call(&app, &app.token).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&headers, "x-ratelimit-remaining"), "0");
    assert!(header(&headers, "retry-after").parse::<u64>().is_ok_and(|secs| secs >= 1), "{headers:?}");
    assert_eq!(body["jsonrpc"], "2.0", "a JSON-RPC error on a JSON-RPC route: {body}");
    assert_eq!(body["error"]["data"][0]["reason"], "RATE_LIMITED");
    // The REST binding answers with a Status, other routes are not limited at all.
    let rest = app
        .client
        .get(format!("{}/a2a/navi/rest/tasks", app.address))
        .header("A2A-Version", "1.0")
        .bearer_auth(&app.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(rest.status(), StatusCode::TOO_MANY_REQUESTS);
    let rest: Value = rest.json().await.unwrap_or(Value::Null);
    assert_eq!(rest["error"]["status"], "RESOURCE_EXHAUSTED");
    let (status, _) = app.get("/api/projects").await;
    assert_eq!(status, StatusCode::OK);
    let (_, other) = app.other_workspace().await;
    let (status, headers, _) = a2a_call(&app, &other).await;
    assert_eq!((status, header(&headers, "x-ratelimit-remaining")), (StatusCode::OK, "99".to_owned()));
}

#[tokio::test]
async fn discovery_is_limited_per_client_address() {
    let app = spawn_app_with(hourly).await;
    for _ in 0..30 {
        let response = app.client.get(format!("{}/.well-known/agents.json", app.address)).send().await.expect("sent");
        assert_eq!(response.status(), StatusCode::OK);
    }
    let refused =
        app.client.get(format!("{}/a2a/navi/.well-known/agent-card.json", app.address)).send().await.expect("sent");
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(refused.headers(), "x-ratelimit-limit"), "30");
    let body: Value = refused.json().await.unwrap_or(Value::Null);
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
}

#[tokio::test]
async fn two_nodes_on_redis_share_the_limit() {
    // Both nodes seed the demo workspace with its fixed id, so their tokens count against one key.
    let prefix = format!("agentdeck-test-rl-{}", uuid::Uuid::new_v4().simple());
    let redis = agentdeck_storage::testing::redis_url();
    let shared = |settings: &mut Settings| {
        hourly(settings);
        settings.rate_limit.redis_prefix = prefix.clone();
    };
    let node_a = spawn_app_on_postgres_with(&redis, shared).await;
    let node_b = spawn_app_on_postgres_with(&redis, shared).await;
    for call in 0..100 {
        let node = if call % 2 == 0 { &node_a } else { &node_b };
        let (status, _, _) = a2a_call(node, &node.token).await;
        assert_eq!(status, StatusCode::OK, "call {call}");
    }
    let (on_a, _, _) = a2a_call(&node_a, &node_a.token).await;
    let (on_b, _, _) = a2a_call(&node_b, &node_b.token).await;
    assert_eq!((on_a, on_b), (StatusCode::TOO_MANY_REQUESTS, StatusCode::TOO_MANY_REQUESTS));
}
