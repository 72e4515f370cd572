//! Keeps `docs/a2a-troubleshooting.md` true: each case marked "(tested)"
//! there is issued here as the guide shows it, and the server's answer must
//! still hold the text the guide quotes — and the guide must still quote it.
//! A changed error message fails here until the guide says the new one.

use std::time::Duration;

use agentdeck_domain::auth::{Principal, Role};
use agentdeck_services::auth::TokenService;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// The guide, as the repository has it.
const GUIDE: &str = include_str!("../../../../docs/a2a-troubleshooting.md");

/// Fails unless the guide quotes `text` (for `case`).
pub(crate) fn guide_quotes(case: &str, text: &str) {
    assert!(GUIDE.contains(text), "docs/a2a-troubleshooting.md no longer quotes {case}: {text}");
}

/// Fails unless the guide quotes `text` and the server's `answer` holds it.
fn agrees(case: &str, answer: &str, text: &str) {
    guide_quotes(case, text);
    assert!(answer.contains(text), "{case}: the guide quotes {text}\nbut the server answered {answer}");
}

/// What came back: status, headers and the body as sent.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default()
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("request sent");
    let (status, headers) = (response.status(), response.headers().clone());
    Answer { status, headers, body: response.text().await.expect("body read") }
}

/// A JSON-RPC body as the guide's `rpc` helper sends it (id 1).
fn rpc_body(method: &str, params: &Value) -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string()
}

/// A POST to `/a2a/{agent}` with the guide's headers, changed by the arguments.
fn a2a_post(
    app: &TestApp,
    agent: &str,
    token: Option<&str>,
    content_type: &str,
    version: Option<&str>,
    body: String,
) -> reqwest::RequestBuilder {
    let mut request =
        app.client.post(format!("{}/a2a/{agent}", app.address)).header("content-type", content_type).body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(version) = version {
        request = request.header("A2A-Version", version);
    }
    request
}

/// `rpc AGENT METHOD PARAMS` of the guide, as the demo owner.
async fn rpc(app: &TestApp, agent: &str, method: &str, params: &Value) -> Answer {
    send(a2a_post(app, agent, Some(&app.token), "application/json", Some("1.0"), rpc_body(method, params))).await
}

#[tokio::test]
async fn version_method_and_envelope_errors_read_as_the_guide_quotes() {
    let app = spawn_app().await;
    let get = rpc_body("GetTask", &json!({"id": "x"}));

    let wrong_version =
        send(a2a_post(&app, "navi", Some(&app.token), "application/json", Some("2.0"), get.clone())).await;
    assert_eq!(wrong_version.status, StatusCode::OK);
    agrees(
        "case 1",
        &wrong_version.body,
        r#"{"error":{"code":-32009,"data":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","domain":"a2a-protocol.org","metadata":{},"reason":"VERSION_NOT_SUPPORTED"}],"message":"A2A version 2.0 is not supported; this server speaks 1.0 (send `A2A-Version: 1.0`)"},"id":1,"jsonrpc":"2.0"}"#,
    );

    let send_03 = json!({"message": {"messageId": "m1", "role": "ROLE_USER", "parts": [{"text": "hello"}]}});
    let method_03 = rpc(&app, "navi", "message/send", &send_03).await;
    agrees(
        "case 3",
        &method_03.body,
        r#"{"error":{"code":-32601,"data":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","domain":"a2a-protocol.org","metadata":{},"reason":"METHOD_NOT_FOUND"}],"message":"method not found: `message/send` is the A2A 0.3 name; in 1.0 it is `SendMessage`"},"id":1,"jsonrpc":"2.0"}"#,
    );

    let plain_text = send(a2a_post(&app, "navi", Some(&app.token), "text/plain", Some("1.0"), get.clone())).await;
    agrees(
        "case 15",
        &plain_text.body,
        r#"{"error":{"code":-32005,"data":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","domain":"a2a-protocol.org","metadata":{},"reason":"CONTENT_TYPE_NOT_SUPPORTED"}],"message":"content type not supported: send the request as application/json"},"id":null,"jsonrpc":"2.0"}"#,
    );
    let rest_plain_text = send(
        app.client
            .post(format!("{}/a2a/navi/rest/message:send", app.address))
            .bearer_auth(&app.token)
            .header("content-type", "text/plain")
            .header("A2A-Version", "1.0")
            .body(send_03.to_string()),
    )
    .await;
    assert_eq!(rest_plain_text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    agrees(
        "case 15 over REST",
        &rest_plain_text.body,
        r#""message":"content type not supported: send the body as application/json""#,
    );

    // The guide's 200-deep body: `params.deep` is 200 nested arrays.
    let deep = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"GetTask","params":{{"id":"x","deep":{}{}}}}}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    guide_quotes(
        "case 16's body",
        r#"print('{"jsonrpc":"2.0","id":1,"method":"GetTask","params":{"id":"x","deep":' + '['*200 + ']'*200 + '}}')"#,
    );
    let too_deep = send(a2a_post(&app, "navi", Some(&app.token), "application/json", Some("1.0"), deep)).await;
    agrees(
        "case 16 (depth)",
        &too_deep.body,
        r#"{"error":{"code":-32700,"data":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","domain":"a2a-protocol.org","metadata":{},"reason":"PARSE_ERROR"}],"message":"invalid JSON: recursion limit exceeded at line 1 column 195"},"id":null,"jsonrpc":"2.0"}"#,
    );

    let missing_id = rpc(&app, "navi", "GetTask", &json!({})).await;
    agrees(
        "case 17",
        &missing_id.body,
        r#"{"error":{"code":-32602,"data":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","domain":"a2a-protocol.org","metadata":{},"reason":"INVALID_PARAMS"},{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"description":"is required","field":"id"}]}],"message":"invalid params: id is required"},"id":1,"jsonrpc":"2.0"}"#,
    );

    let nobody = send(a2a_post(&app, "nobody", Some(&app.token), "application/json", Some("1.0"), get)).await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    agrees(
        "case 7",
        &nobody.body,
        r#"{"error":{"code":"not_found","message":"no agent named \"nobody\" is hosted here"}}"#,
    );
}

#[tokio::test]
async fn token_errors_read_as_the_guide_quotes() {
    let app = spawn_app().await;
    let get = || rpc_body("GetTask", &json!({"id": "x"}));

    let anonymous = send(a2a_post(&app, "navi", None, "application/json", Some("1.0"), get())).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.header("www-authenticate"), r#"Bearer realm="agentdeck""#);
    guide_quotes("case 4's header", r#"www-authenticate: Bearer realm="agentdeck""#);
    agrees("case 4", &anonymous.body, r#"{"error":{"code":"unauthorized","message":"missing bearer token"}}"#);

    // The demo owner's token, issued an hour ago for ten minutes.
    let owner = Principal { subject: "demo".into(), workspace_id: app.workspace_id, role: Role::Owner };
    let keys = app.settings.token_keys().expect("keys");
    let issued_an_hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    let expired =
        TokenService::new(keys).issue(&owner, Duration::from_secs(600), issued_an_hour_ago).expect("an expired token");
    let refused = send(a2a_post(&app, "navi", Some(&expired), "application/json", Some("1.0"), get())).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    agrees("case 5", &refused.body, r#"{"error":{"code":"unauthorized","message":"bearer token has expired"}}"#);
    let broken = send(a2a_post(&app, "navi", Some("abc.def.ghi"), "application/json", Some("1.0"), get())).await;
    assert_eq!(broken.status, StatusCode::UNAUTHORIZED);
    agrees("case 5 (broken)", &broken.body, r#"{"error":{"code":"unauthorized","message":"malformed bearer token"}}"#);

    let (status, created) =
        app.post("/api/workspace/service-tokens", &json!({"name": "reports", "scopes": ["read"]})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let read_only = created["token"].as_str().expect("token").to_owned();
    let forbidden = send(a2a_post(&app, "navi", Some(&read_only), "application/json", Some("1.0"), get())).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    agrees(
        "case 6",
        &forbidden.body,
        r#"{"error":{"code":"forbidden","message":"this API token lacks the `agents` scope"}}"#,
    );
    // The guide's fix works: a token with the `agents` scope is served.
    guide_quotes("case 6's fix", r#"'{"name": "peer agent", "scopes": ["agents"]}'"#);
    let (_, created) =
        app.post("/api/workspace/service-tokens", &json!({"name": "peer agent", "scopes": ["agents"]})).await;
    let agents = created["token"].as_str().expect("token").to_owned();
    let served = send(a2a_post(&app, "navi", Some(&agents), "application/json", Some("1.0"), get())).await;
    assert_eq!(served.json()["error"]["code"], json!(-32001), "past the edge: {}", served.body);
}

#[tokio::test]
async fn task_errors_read_as_the_guide_quotes() {
    let app = spawn_app().await;
    let unknown = rpc(&app, "navi", "GetTask", &json!({"id": "no-such-task"})).await;
    agrees(
        "case 8",
        &unknown.body,
        r#"{"error":{"code":-32001,"data":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","domain":"a2a-protocol.org","metadata":{"taskId":"no-such-task"},"reason":"TASK_NOT_FOUND"}],"message":"task not found: no-such-task"},"id":1,"jsonrpc":"2.0"}"#,
    );
    let rest_unknown = send(
        app.client
            .get(format!("{}/a2a/navi/rest/tasks/no-such-task", app.address))
            .bearer_auth(&app.token)
            .header("A2A-Version", "1.0"),
    )
    .await;
    assert_eq!(rest_unknown.status, StatusCode::NOT_FOUND);
    agrees(
        "case 8 over REST",
        &rest_unknown.body,
        r#""message":"task not found: no-such-task","status":"NOT_FOUND"}}"#,
    );

    let message = json!({"message": {"messageId": "done-1", "role": "ROLE_USER", "parts": [{"text": "hello"}]}});
    let done = rpc(&app, "conformance", "SendMessage", &message).await.json();
    let task_id = done["result"]["task"]["id"].as_str().expect("a task").to_owned();
    assert_eq!(done["result"]["task"]["status"]["state"], "TASK_STATE_COMPLETED", "{done}");
    // The guide shows the task id of its run; the rest of each message is the same.
    let of_guide = |text: &str| text.replace(&task_id, "01a25144-45c2-70c0-8b2f-92f45893bc30");

    let follow_up = json!({"message": {"messageId": "done-2", "taskId": task_id, "role": "ROLE_USER", "parts": [{"text": "more"}]}});
    let refused = rpc(&app, "conformance", "SendMessage", &follow_up).await;
    agrees(
        "case 9 (send)",
        &of_guide(&refused.body),
        r#"{"error":{"code":-32004,"data":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","domain":"a2a-protocol.org","metadata":{},"reason":"UNSUPPORTED_OPERATION"}],"message":"unsupported operation: task 01a25144-45c2-70c0-8b2f-92f45893bc30 is over (TASK_STATE_COMPLETED); it takes no more messages"},"id":1,"jsonrpc":"2.0"}"#,
    );
    let cancel = rpc(&app, "conformance", "CancelTask", &json!({"id": task_id})).await;
    agrees(
        "case 9 (cancel)",
        &of_guide(&cancel.body),
        r#"{"error":{"code":-32002,"data":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","domain":"a2a-protocol.org","metadata":{"state":"TASK_STATE_COMPLETED","taskId":"01a25144-45c2-70c0-8b2f-92f45893bc30"},"reason":"TASK_NOT_CANCELABLE"}],"message":"task 01a25144-45c2-70c0-8b2f-92f45893bc30 cannot be canceled: it is TASK_STATE_COMPLETED"},"id":1,"jsonrpc":"2.0"}"#,
    );
    let rest_cancel = send(
        app.client
            .post(format!("{}/a2a/conformance/rest/tasks/{task_id}:cancel", app.address))
            .bearer_auth(&app.token)
            .header("A2A-Version", "1.0")
            .json(&json!({})),
    )
    .await;
    assert_eq!(rest_cancel.status, StatusCode::CONFLICT, "{}", rest_cancel.body);
    assert_eq!(rest_cancel.json()["error"]["status"], "FAILED_PRECONDITION");
    guide_quotes("case 9 (cancel over REST)", "HTTP 409 `FAILED_PRECONDITION`");
    let subscribe = rpc(&app, "conformance", "SubscribeToTask", &json!({"id": task_id})).await;
    agrees(
        "case 9 (subscribe)",
        &subscribe.body,
        r#""message":"unsupported operation: the task is over (TASK_STATE_COMPLETED); nothing to subscribe to"},"id":1,"jsonrpc":"2.0"}"#,
    );
}

#[tokio::test]
async fn a_private_webhook_is_refused_as_the_guide_quotes() {
    let app = spawn_app_with(|settings| settings.a2a.push_allow_private_networks = Some(false)).await;
    let params = json!({"message": {"messageId": "push-1", "role": "ROLE_USER", "parts": [{"text": "x"}]},
        "configuration": {"taskPushNotificationConfig": {"url": "http://127.0.0.1:9/hook"}}});
    let refused = rpc(&app, "conformance", "SendMessage", &params).await;
    agrees(
        "case 10",
        &refused.body,
        r#"{"error":{"code":-32602,"data":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","domain":"a2a-protocol.org","metadata":{},"reason":"INVALID_PARAMS"},{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"description":"points to a loopback, private or link-local address; allow private networks in the a2a settings to use it","field":"configuration.taskPushNotificationConfig.url"}]}],"message":"invalid params: configuration.taskPushNotificationConfig.url points to a loopback, private or link-local address; allow private networks in the a2a settings to use it"},"id":1,"jsonrpc":"2.0"}"#,
    );
}

#[tokio::test]
async fn limits_read_as_the_guide_quotes() {
    let app = spawn_app_with(|settings| {
        // No slot comes back while the test runs (the guide's run used the default minute).
        settings.rate_limit.window_secs = 3600;
        settings.http.max_body_bytes = 4096;
    })
    .await;
    let big = rpc_body(
        "SendMessage",
        &json!({"message": {"messageId": "big", "role": "ROLE_USER", "parts": [{"text": "x".repeat(5000)}]}}),
    );
    let too_large = send(a2a_post(&app, "navi", Some(&app.token), "application/json", Some("1.0"), big)).await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    agrees(
        "case 16 (size)",
        &too_large.body,
        r#"{"error":{"code":"payload_too_large","message":"request body is larger than the server accepts"}}"#,
    );

    for _ in 0..100 {
        rpc(&app, "navi", "GetTask", &json!({"id": "x"})).await;
    }
    let limited = rpc(&app, "navi", "GetTask", &json!({"id": "x"})).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "{}", limited.body);
    assert!(limited.header("retry-after").parse::<u64>().is_ok_and(|secs| secs >= 1), "{:?}", limited.headers);
    assert_eq!(limited.header("x-ratelimit-remaining"), "0");
    agrees(
        "case 13",
        &limited.body,
        r#"{"error":{"code":-32000,"data":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","domain":"agentdeck","metadata":{"limit":"100"},"reason":"RATE_LIMITED"}],"message":"rate limit exceeded: 100 requests per minute; retry in "#,
    );
    let rest = send(
        app.client
            .get(format!("{}/a2a/navi/rest/tasks", app.address))
            .bearer_auth(&app.token)
            .header("A2A-Version", "1.0"),
    )
    .await;
    assert_eq!(rest.status, StatusCode::TOO_MANY_REQUESTS);
    agrees("case 13 over REST", &rest.body, r#""message":"rate limit exceeded: 100 requests per minute; retry in "#);
    guide_quotes("case 13 over REST", r#""status":"RESOURCE_EXHAUSTED"}}"#);
}

#[tokio::test]
async fn a_late_or_unreachable_agent_reads_as_the_guide_quotes() {
    // A port that was free a moment ago: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("its address");
    let app = spawn_app_with(|settings| {
        settings.gateway.agent_deadlines_ms.insert("pulse".into(), 1);
    })
    .await;
    let (_, answer) = app.post("/api/ask", &json!({"question": "workspace overview"})).await;
    agrees("case 14", answer["agents"]["pulse"]["error"].as_str().unwrap_or_default(), "no answer within 1 ms");
    let widget = answer["widgets"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|widget| widget["id"] == "gateway-unavailable-pulse")
        .cloned()
        .unwrap_or_default();
    agrees(
        "case 14 (widget)",
        &widget.to_string(),
        r#"{"data":{"message":"Vitals did not answer: no answer within 1 ms","retryable":true},"id":"gateway-unavailable-pulse","source":{"question":"workspace overview"},"title":"Vitals","type":"Error"}"#,
    );

    let unreachable = spawn_app_with(|settings| settings.gateway.agents_url = format!("http://{closed}/a2a")).await;
    let (_, answer) = unreachable.post("/api/ask", &json!({"question": "workspace overview"})).await;
    let error = answer["agents"]["navi"]["error"].as_str().unwrap_or_default();
    agrees("case 12", error, "cannot reach the agent: error sending request for url (");
    agrees(
        "case 12",
        error,
        "/a2a/navi/.well-known/agent-card.json): client error (Connect): tcp connect error: Connection refused (os error 111)",
    );
}
