//! How the gateway reaches the specialists: in process when they are the
//! agents this server hosts — through the A2A task service, not the HTTP
//! edge, so a question costs no A2A rate-limit slot and its tasks are still
//! stored as any caller's — and over HTTP when `gateway.agents_url` names
//! another server.

use agentdeck_server::config::{AgentFault, Settings};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with};

fn header(headers: &reqwest::header::HeaderMap, name: &str) -> String {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

fn all_agents_answered(answer: &Value) -> bool {
    ["navi", "pulse", "herald"].iter().all(|agent| answer["agents"][agent]["ok"] == true)
}

/// Navi's tasks for the demo owner, through the A2A edge (one rate-limited call).
async fn list_navi_tasks(app: &TestApp) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    app.a2a_call("/a2a/navi", Some(&app.token), "ListTasks", json!({})).await
}

#[tokio::test]
async fn questions_are_answered_in_process_while_external_a2a_calls_are_rate_limited() {
    let app = spawn_app_with(|settings: &mut Settings| {
        // Two A2A calls per hour for the workspace; no answer reused, so every question calls the agents.
        settings.rate_limit.window_secs = 3600;
        settings.rate_limit.a2a_per_minute = 2;
        settings.gateway.cache_ttl_ms = 0;
    })
    .await;
    // Five questions, fifteen agent calls: over the edge all but two would have been refused.
    for ask in 0..5 {
        let (status, answer) = app.post("/api/ask", &json!({"question": "workspace overview"})).await;
        assert_eq!(status, StatusCode::OK, "ask {ask}: {answer}");
        assert!(all_agents_answered(&answer), "ask {ask}: {answer}");
    }
    // None of them reached the edge: the first external call finds the workspace's two slots untouched.
    let (status, headers, listed) = list_navi_tasks(&app).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(header(&headers, "x-ratelimit-remaining"), "1", "{headers:?}");
    // And each call was a real task of the caller's, finished and stored like an external caller's.
    assert_eq!(listed["result"]["totalSize"], 5, "{listed}");
    let states: Vec<&str> = listed["result"]["tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|task| task["status"]["state"].as_str())
        .collect();
    assert_eq!(states, ["TASK_STATE_COMPLETED"; 5]);
    let (status, _, _) = list_navi_tasks(&app).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, refused) = list_navi_tasks(&app).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "external callers are still limited: {refused}");
    // Questions still are not.
    let (status, answer) = app.post("/api/ask", &json!({"question": "workspace overview"})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(all_agents_answered(&answer), "{answer}");
}

#[tokio::test]
async fn with_agents_url_set_the_gateway_calls_another_servers_agents_over_http() {
    // Both servers verify the same tokens and seed the same demo workspace (its id is fixed).
    const SECRET: &str = "gateway-transport-test-secret-0123456789abcdef";
    let agents_host = spawn_app_with(|settings: &mut Settings| {
        settings.auth.jwt_secret = SECRET.into();
        // A fault at that server's edge: only a call over HTTP to it meets it.
        settings.a2a.faults.insert("herald".into(), AgentFault { delay_ms: 0, fail: true });
    })
    .await;
    let agents_url = format!("{}/a2a", agents_host.address);
    let app = spawn_app_with(|settings: &mut Settings| {
        settings.auth.jwt_secret = SECRET.into();
        settings.gateway.agents_url = agents_url;
    })
    .await;
    let (status, answer) = app.post("/api/ask", &json!({"question": "workspace overview"})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        (answer["agents"]["navi"]["ok"].as_bool(), answer["agents"]["pulse"]["ok"].as_bool()),
        (Some(true), Some(true)),
        "{answer}"
    );
    let herald = answer["agents"]["herald"]["error"].as_str().unwrap_or_default();
    assert!(herald.contains("fault injected in front of herald"), "{answer}");
    // The tasks are the other server's; this one made none.
    let (_, _, there) = agents_host.a2a_call("/a2a/navi", Some(&app.token), "ListTasks", json!({})).await;
    assert_eq!(there["result"]["totalSize"], 1, "{there}");
    let (_, _, here) = list_navi_tasks(&app).await;
    assert_eq!(here["result"]["totalSize"], 0, "{here}");
}
