//! The A2A edge over HTTP: cards and their caching, the JSON-RPC envelope
//! checks (content type, parse, version), callers and scoping, SSE streams
//! with sequence ids and `Last-Event-ID` resumption, and tasks that outlive
//! a server restart.

use std::time::Duration;

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const AGENT: &str = "/a2a/conformance";

/// Posts a JSON-RPC request with `A2A-Version: 1.0` (and a token when given).
async fn rpc(app: &TestApp, path: &str, token: Option<&str>, method: &str, params: Value) -> (StatusCode, Value) {
    let (status, _, body) = app.a2a_call(path, token, method, params).await;
    (status, body)
}

pub(crate) fn message(id: &str, text: &str) -> Value {
    json!({"message": {"messageId": id, "role": "ROLE_USER", "parts": [{"text": text}]}})
}

/// One SSE event: its `id:` and its JSON `data:`.
#[derive(Debug, PartialEq)]
pub(crate) struct SseEvent {
    pub(crate) id: Option<i64>,
    pub(crate) data: Value,
}

/// Opens a stream and reads events until it closes or `within` passes.
async fn stream(app: &TestApp, method: &str, params: Value, last_event_id: Option<&str>) -> Vec<SseEvent> {
    let body = json!({"jsonrpc": "2.0", "id": "s1", "method": method, "params": params});
    let mut request = app.client.post(format!("{}{AGENT}", app.address)).header("A2A-Version", "1.0").json(&body);
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id);
    }
    sse_events(request.send().await.expect("stream opened")).await
}

/// Reads an SSE answer's events until it closes (at most 20 s).
pub(crate) async fn sse_events(response: reqwest::Response) -> Vec<SseEvent> {
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(content_type.starts_with("text/event-stream"), "{content_type}");
    let mut bytes = response.bytes_stream();
    let mut buffer = String::new();
    let read = async {
        while let Some(Ok(chunk)) = bytes.next().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read).await.expect("the stream ended");
    buffer
        .split("\n\n")
        .filter_map(|block| {
            let mut id = None;
            let mut data = None;
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("id:") {
                    id = value.trim().parse().ok();
                } else if let Some(value) = line.strip_prefix("data:") {
                    data = serde_json::from_str(value.trim()).ok();
                }
            }
            data.map(|data| SseEvent { id, data })
        })
        .collect()
}

/// What each event of a stream is: `task:STATE`, `status:STATE`, `artifact`, `message`.
pub(crate) fn kinds(events: &[SseEvent]) -> Vec<String> {
    events
        .iter()
        .map(|event| {
            let result = &event.data["result"];
            if let Some(task) = result.get("task") {
                format!("task:{}", task["status"]["state"].as_str().unwrap_or("?"))
            } else if let Some(update) = result.get("statusUpdate") {
                format!("status:{}", update["status"]["state"].as_str().unwrap_or("?"))
            } else if result.get("artifactUpdate").is_some() {
                "artifact".into()
            } else if result.get("message").is_some() {
                "message".into()
            } else {
                format!("other:{result}")
            }
        })
        .collect()
}

#[tokio::test]
async fn cards_are_served_with_caching_headers_and_listed_in_the_index() {
    let app = spawn_app().await;
    let url = format!("{}{AGENT}/.well-known/agent-card.json", app.address);
    let response = app.client.get(&url).send().await.expect("card");
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    let cache = headers.get("cache-control").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(cache.contains("max-age="), "{cache}");
    assert!(headers.contains_key("last-modified"));
    let etag = headers.get("etag").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let card: Value = response.json().await.expect("card JSON");
    assert_eq!(card["supportedInterfaces"][0]["url"], json!(format!("{}{AGENT}", app.address)));
    assert_eq!(card["supportedInterfaces"][0]["protocolBinding"], "JSONRPC");
    assert_eq!(card["supportedInterfaces"][0]["protocolVersion"], "1.0");
    assert_eq!(card["supportedInterfaces"][1]["url"], json!(format!("{}{AGENT}/rest", app.address)));
    assert_eq!(card["supportedInterfaces"][1]["protocolBinding"], "HTTP+JSON");
    assert_eq!(card["capabilities"]["streaming"], true);
    for required in ["name", "description", "version", "defaultInputModes", "defaultOutputModes", "skills"] {
        assert!(card.get(required).is_some(), "card lacks {required}: {card}");
    }
    let again = app.client.get(&url).header("If-None-Match", &etag).send().await.expect("card again");
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let root: Value = app
        .client
        .get(format!("{}/.well-known/agent-card.json", app.address))
        .send()
        .await
        .expect("root")
        .json()
        .await
        .expect("JSON");
    assert_eq!(root["name"], "Dashboard Agent", "the default agent's card is served at the root");
    let (status, index) = app.request(reqwest::Method::GET, "/.well-known/agents.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(index["agents"][0]["name"], "conformance");
    assert_eq!(index["agents"][0]["cardUrl"], json!(url));
    let (status, _) = app.request(reqwest::Method::GET, "/a2a/nobody/.well-known/agent-card.json", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_envelope_is_checked_before_any_method_runs() {
    let app = spawn_app().await;
    let post = |content_type: &'static str, version: Option<&'static str>, body: &'static str| {
        let mut request =
            app.client.post(format!("{}{AGENT}", app.address)).header("content-type", content_type).body(body);
        if let Some(version) = version {
            request = request.header("A2A-Version", version);
        }
        async move {
            let response = request.send().await.expect("sent");
            (response.status(), response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let get = r#"{"jsonrpc":"2.0","id":1,"method":"GetTask","params":{"id":"x"}}"#;
    for (content_type, version, body, code) in [
        ("text/plain", Some("1.0"), get, -32005),
        ("application/json", Some("1.0"), "{nope", -32700),
        ("application/json", Some("1.0"), r#"{"jsonrpc":"2.0","id":1,"method":"message/send"}"#, -32601),
        ("application/json", None, get, -32601),
        ("application/json", Some("0.3"), get, -32601),
        ("application/json", Some("2.0"), get, -32009),
        ("application/json", Some("1.0"), r#"{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":{}}"#, -32602),
        ("application/a2a+json", Some("1.0"), get, -32001),
    ] {
        let (status, reply) = post(content_type, version, body).await;
        assert_eq!(status, StatusCode::OK, "JSON-RPC errors travel in a 200: {reply}");
        assert_eq!(reply["error"]["code"], json!(code), "{content_type} {version:?} {body}: {reply}");
        assert_eq!(reply["jsonrpc"], "2.0");
        assert!(reply["error"]["data"][0]["reason"].is_string(), "{reply}");
    }
    // The version is also accepted as a query parameter, and the trailing slash is served.
    let response = app
        .client
        .post(format!("{}{AGENT}/?A2A-Version=1.0", app.address))
        .header("content-type", "application/json")
        .body(get)
        .send()
        .await
        .expect("sent");
    let reply: Value = response.json().await.expect("JSON");
    assert_eq!(reply["error"]["code"], json!(-32001), "{reply}");
    let (status, _) = rpc(&app, "/a2a/nobody", None, "GetTask", json!({"id": "x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_send_returns_the_task_and_tasks_are_kept_apart_by_caller() {
    let app = spawn_app().await;
    let (status, reply) = rpc(&app, AGENT, Some(&app.token), "SendMessage", message("tck-complete-task-1", "hi")).await;
    assert_eq!(status, StatusCode::OK);
    let task = &reply["result"]["task"];
    assert_eq!(task["status"]["state"], "TASK_STATE_COMPLETED", "{reply}");
    let timestamp = task["status"]["timestamp"].as_str().unwrap_or_default();
    assert!(timestamp.ends_with('Z') && timestamp.len() == 24, "UTC with milliseconds: {timestamp}");
    let task_id = task["id"].as_str().unwrap_or_default().to_owned();
    // The same messageId again, without an Idempotency-Key: a new task, as the reference SDK does.
    let (_, again) = rpc(&app, AGENT, Some(&app.token), "SendMessage", message("tck-complete-task-1", "hi")).await;
    assert_ne!(again["result"]["task"]["id"], json!(task_id), "{again}");
    // An anonymous caller, or another workspace, does not see it.
    let (_, anonymous) = rpc(&app, AGENT, None, "GetTask", json!({"id": task_id})).await;
    assert_eq!(anonymous["error"]["code"], json!(-32001));
    let (_, other_token) = app.other_workspace().await;
    let (_, foreign) = rpc(&app, AGENT, Some(&other_token), "GetTask", json!({"id": task_id})).await;
    assert_eq!(foreign["error"]["code"], json!(-32001));
    let (_, mine) = rpc(&app, AGENT, Some(&app.token), "GetTask", json!({"id": task_id, "historyLength": 0})).await;
    assert_eq!(mine["result"]["id"], json!(task_id));
    assert!(mine["result"].get("history").is_none(), "historyLength 0 omits the history: {mine}");
    // ProtoJSON: the original proto field name means the same (it was ignored: the full history came back).
    let (_, snake) = rpc(&app, AGENT, Some(&app.token), "GetTask", json!({"id": task_id, "history_length": 0})).await;
    assert!(snake["result"].get("history").is_none(), "history_length 0 omits the history too: {snake}");
    let (_, listed) =
        rpc(&app, AGENT, Some(&app.token), "ListTasks", json!({"page_size": 1, "context_id": "none"})).await;
    assert_eq!(listed["result"]["totalSize"], 0, "context_id filters like contextId: {listed}");
    let (_, listed) = rpc(&app, AGENT, Some(&app.token), "ListTasks", json!({})).await;
    assert_eq!(listed["result"]["nextPageToken"], "", "{listed}");
    assert_eq!(listed["result"]["totalSize"], 2);
    // A bad token is refused outright, even where anonymous calls are served.
    let (status, _) = rpc(&app, AGENT, Some("not-a-token"), "ListTasks", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Another caller's task has no push configs to read either.
    let (_, push) =
        rpc(&app, AGENT, None, "GetTaskPushNotificationConfig", json!({"taskId": task_id, "id": "c"})).await;
    assert_eq!(push["error"]["code"], json!(-32001));
}

#[tokio::test]
async fn streams_carry_sequence_ids_and_resume_after_the_last_event_id() {
    let app = spawn_app().await;
    let events = stream(&app, "SendStreamingMessage", message("tck-stream-001-x", "go"), None).await;
    assert_eq!(
        kinds(&events),
        ["task:TASK_STATE_SUBMITTED", "status:TASK_STATE_WORKING", "artifact", "status:TASK_STATE_COMPLETED"]
    );
    assert_eq!(events.iter().map(|e| e.id).collect::<Vec<_>>(), [Some(1), Some(2), Some(3), Some(4)]);
    assert!(events.iter().all(|e| e.data["id"] == "s1" && e.data["jsonrpc"] == "2.0"));
    let task_id = events[0].data["result"]["task"]["id"].as_str().unwrap_or_default().to_owned();
    // Resuming after event 2 of the finished task replays 3 and 4 only.
    let resumed = stream(&app, "SubscribeToTask", json!({"id": task_id}), Some("2")).await;
    assert_eq!(resumed.iter().map(|e| e.id).collect::<Vec<_>>(), [Some(3), Some(4)]);
    // A plain subscribe to a finished task is refused.
    let (_, over) = rpc(&app, AGENT, None, "SubscribeToTask", json!({"id": task_id})).await;
    assert_eq!(over["error"]["code"], json!(-32004));
    let reply = stream(&app, "SendStreamingMessage", message("tck-message-response-x", "go"), None).await;
    assert_eq!(kinds(&reply), ["message"]);
    assert_eq!(reply[0].id, None);
}

#[tokio::test]
async fn a_task_outlives_a_restart_and_a_resume_after_it_has_no_duplicates() {
    let data_dir = tempfile::tempdir().expect("data dir");
    let path = data_dir.path().to_owned();
    let mut app = spawn_app_with(|settings| settings.data_dir = path.clone()).await;
    // A long-running task, seen through event 2 (WORKING).
    let (_, started) = rpc(
        &app,
        AGENT,
        None,
        "SendMessage",
        json!({"message": {"messageId": "tck-long-running-r", "role": "ROLE_USER", "parts": [{"text": "x"}]},
               "configuration": {"returnImmediately": true}}),
    )
    .await;
    let task_id = started["result"]["task"]["id"].as_str().unwrap_or_default().to_owned();
    assert!(!task_id.is_empty(), "{started}");
    assert_eq!(app.await_task_state(AGENT, None, &task_id, "TASK_STATE_WORKING").await, "TASK_STATE_WORKING");
    app.stop_server_and_wait().await;
    let app = spawn_app_with(|settings| settings.data_dir = path.clone()).await;
    let (_, got) = rpc(&app, AGENT, None, "GetTask", json!({"id": task_id})).await;
    assert_eq!(got["result"]["status"]["state"], "TASK_STATE_FAILED", "{got}");
    let resumed = stream(&app, "SubscribeToTask", json!({"id": task_id}), Some("2")).await;
    assert_eq!(resumed.iter().map(|e| e.id).collect::<Vec<_>>(), [Some(3)], "{resumed:?}");
    assert_eq!(kinds(&resumed), ["status:TASK_STATE_FAILED"]);
    drop(data_dir);
}

/// A REST call with `A2A-Version: 1.0`.
async fn rest(app: &TestApp, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, String, Value) {
    let mut request =
        app.client.request(method, format!("{}{AGENT}/rest{path}", app.address)).header("A2A-Version", "1.0");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("sent");
    let status = response.status();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    (status, content_type, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_rest_binding_serves_the_same_operations_with_status_shaped_errors() {
    let app = spawn_app().await;
    let (status, content_type, sent) =
        rest(&app, reqwest::Method::POST, "/message:send", Some(message("tck-artifact-text-r", "x"))).await;
    assert_eq!((status, content_type.as_str()), (StatusCode::OK, "application/json"), "{sent}");
    let task_id = sent["task"]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(sent["task"]["artifacts"][0]["parts"][0]["text"], "Generated text content");
    let (status, _, got) = rest(&app, reqwest::Method::GET, &format!("/tasks/{task_id}?historyLength=0"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(got.get("history").is_none(), "{got}");
    let (status, _, got) = rest(&app, reqwest::Method::GET, &format!("/tasks/{task_id}?history_length=0"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(got.get("history").is_none(), "the proto field name as a query parameter: {got}");
    // A tenant prefix is accepted.
    let (status, _, _) = rest(&app, reqwest::Method::GET, &format!("/acme/tasks/{task_id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, listed) =
        rest(&app, reqwest::Method::GET, "/tasks?status=TASK_STATE_COMPLETED&pageSize=5", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((listed["totalSize"].as_i64(), listed["nextPageToken"].as_str()), (Some(1), Some("")));
    assert!(listed["tasks"][0].get("artifacts").is_none(), "artifacts only when asked: {listed}");
    let (status, content_type, error) =
        rest(&app, reqwest::Method::POST, &format!("/tasks/{task_id}:cancel"), None).await;
    assert_eq!((status, content_type.as_str()), (StatusCode::CONFLICT, "application/json"));
    assert_eq!(error["error"]["status"], "FAILED_PRECONDITION");
    assert_eq!(error["error"]["details"][0]["reason"], "TASK_NOT_CANCELABLE");
    let (status, _, error) = rest(&app, reqwest::Method::GET, "/tasks/missing", None).await;
    assert_eq!(
        (status, error["error"]["details"][0]["reason"].as_str()),
        (StatusCode::NOT_FOUND, Some("TASK_NOT_FOUND"))
    );
    let (status, _, error) = rest(&app, reqwest::Method::POST, "/message:send", Some(json!({}))).await;
    assert_eq!((status, error["error"]["status"].as_str()), (StatusCode::BAD_REQUEST, Some("INVALID_ARGUMENT")));
    let (status, _, _) = rest(&app, reqwest::Method::GET, "/tasks?pageSize=many", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let plain = app
        .client
        .post(format!("{}{AGENT}/rest/message:send", app.address))
        .header("A2A-Version", "1.0")
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .expect("sent");
    assert_eq!(plain.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let unsupported = app
        .client
        .get(format!("{}{AGENT}/rest/tasks", app.address))
        .header("A2A-Version", "2.0")
        .send()
        .await
        .expect("sent");
    assert_eq!(unsupported.status(), StatusCode::BAD_REQUEST);
    let body: Value = unsupported.json().await.expect("JSON");
    assert_eq!(body["error"]["details"][0]["reason"], "VERSION_NOT_SUPPORTED");
    let (status, _, _) = rest(&app, reqwest::Method::GET, "/nowhere/at/all", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, configs) =
        rest(&app, reqwest::Method::GET, &format!("/tasks/{task_id}/pushNotificationConfigs"), None).await;
    assert_eq!((status, configs["configs"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)), "{configs}");
    // Subscribing with GET (the proto's verb) works as POST does.
    let response = app
        .client
        .get(format!("{}{AGENT}/rest/tasks/{task_id}:subscribe", app.address))
        .header("A2A-Version", "1.0")
        .header("Last-Event-ID", "1")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("stream read");
    assert!(text.contains("id: 2") || text.contains("id:2"), "{text}");
    assert!(text.contains("\"artifactUpdate\""), "bare StreamResponse events: {text}");
}

#[tokio::test]
async fn our_client_speaks_to_our_server_over_both_bindings_and_resumes_streams() {
    use agentdeck_a2a_protocol::client::{AgentClient, Binding, ClientOptions};
    use agentdeck_a2a_protocol::{ListTasksRequest, Message, SendMessageRequest, SendMessageResponse, StreamResponse};
    let app = spawn_app().await;
    let url = format!("{}{AGENT}", app.address);
    for binding in [Binding::JsonRpc, Binding::Rest] {
        let options =
            ClientOptions { prefer: Some(binding), bearer: Some(app.token.clone()), ..ClientOptions::default() };
        let client = AgentClient::connect(reqwest::Client::new(), &url, options).await.expect("connected");
        assert_eq!(client.endpoint().binding, binding);
        let request = SendMessageRequest::new(Message::user_text(format!("tck-stream-001-{binding:?}"), "go"));
        let events: Vec<_> = client.stream(&request).await.expect("stream").collect().await;
        let ids: Vec<Option<String>> = events.iter().map(|e| e.as_ref().ok().and_then(|i| i.id.clone())).collect();
        assert_eq!(ids, ["1", "2", "3", "4"].map(|id| Some(id.to_owned())), "{events:?}");
        let task_id = match events.first().and_then(|e| e.as_ref().ok()).map(|i| &i.event) {
            Some(StreamResponse::Task(task)) => task.id.clone(),
            other => panic!("the first event is not the task: {other:?}"),
        };
        let resumed: Vec<_> = client.subscribe(&task_id, Some("3")).await.expect("resumed").collect().await;
        let ids: Vec<Option<String>> = resumed.iter().map(|e| e.as_ref().ok().and_then(|i| i.id.clone())).collect();
        assert_eq!(ids, [Some("4".to_owned())]);
        // The same messageId again, without an Idempotency-Key: a new send, as the protocol says.
        let again = client.send(&request).await.expect("repeated send");
        assert!(matches!(again, SendMessageResponse::Task(task) if task.id != task_id), "a new task");
    }
    let client = AgentClient::connect(
        reqwest::Client::new(),
        &url,
        ClientOptions { bearer: Some(app.token.clone()), ..ClientOptions::default() },
    )
    .await
    .expect("connected");
    let listed = client.list_tasks(&ListTasksRequest::default()).await.expect("listed");
    assert_eq!(listed.total_size, 4, "the token's tasks over both bindings: {listed:?}");
}

/// The project agents' extended card needs a token; the conformance agent
/// declares no security scheme, so anyone gets its card (with a token: the
/// workspace its tasks are kept in).
#[tokio::test]
async fn the_extended_card_needs_a_token_where_the_card_declares_a_scheme() {
    let app = spawn_app().await;
    let (_, card) = app.get("/a2a/navi/.well-known/agent-card.json").await;
    assert!(card["securitySchemes"]["bearer"].is_object(), "{card}");
    let (status, reply) = rpc(&app, "/a2a/navi", None, "GetExtendedAgentCard", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{reply}");
    let (_, card) = app.get("/a2a/conformance/.well-known/agent-card.json").await;
    assert!(card.get("securitySchemes").is_none_or(|schemes| schemes == &json!({})), "{card}");
    assert!(card.get("securityRequirements").is_none_or(|required| required == &json!([])), "{card}");
    let (status, reply) = rpc(&app, AGENT, None, "GetExtendedAgentCard", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["result"]["name"], card["name"]);
    let anonymous_rest = app
        .client
        .get(format!("{}{AGENT}/rest/extendedAgentCard", app.address))
        .header("A2A-Version", "1.0")
        .send()
        .await
        .expect("sent");
    assert_eq!(anonymous_rest.status(), StatusCode::OK);

    let (status, reply) = rpc(&app, AGENT, Some(&app.token), "GetExtendedAgentCard", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let description = reply["result"]["description"].as_str().unwrap_or_default();
    assert!(description.contains(&app.workspace_id.to_string()), "{reply}");
    assert_eq!(reply["result"]["capabilities"]["extendedAgentCard"], true);
    let response = app
        .client
        .get(format!("{}{AGENT}/rest/extendedAgentCard", app.address))
        .header("A2A-Version", "1.0")
        .bearer_auth(&app.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let unauthenticated = app
        .client
        .get(format!("{}/a2a/navi/rest/extendedAgentCard", app.address))
        .header("A2A-Version", "1.0")
        .send()
        .await;
    assert_eq!(unauthenticated.expect("sent").status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn in_cluster_mode_tasks_live_in_postgresql() {
    let app = crate::helpers::spawn_app_on_postgres().await;
    let (_, sent) = rpc(&app, AGENT, None, "SendMessage", message("tck-artifact-data-pg", "x")).await;
    let task_id = sent["result"]["task"]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(sent["result"]["task"]["status"]["state"], "TASK_STATE_COMPLETED", "{sent}");
    let (_, got) = rpc(&app, AGENT, None, "GetTask", json!({"id": task_id})).await;
    assert_eq!(got["result"]["artifacts"][0]["parts"][0]["data"], json!({"key": "value", "count": 42}));
    // The event log is in PostgreSQL too: after event 1 come the artifact (2) and the completion (3).
    let events = stream(&app, "SubscribeToTask", json!({"id": task_id}), Some("1")).await;
    assert_eq!(events.iter().map(|e| e.id).collect::<Vec<_>>(), [Some(2), Some(3)], "{events:?}");
}

#[tokio::test]
async fn the_project_agents_answer_authenticated_callers_with_widgets() {
    let app = spawn_app().await;
    let (status, card) = app.request(reqwest::Method::GET, "/a2a/navi/.well-known/agent-card.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(card["name"], "Navigator");
    assert_eq!(card["securityRequirements"][0]["schemes"]["bearer"], json!({"list": []}), "Navi needs a token");
    let (status, _) = rpc(&app, "/a2a/navi", None, "SendMessage", message("n-anon", "status")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, reply) =
        rpc(&app, "/a2a/navi", Some(&app.token), "SendMessage", message("n-1", "status of my active projects")).await;
    let widgets = &reply["result"]["task"]["artifacts"][0]["parts"][1]["data"]["widgets"];
    let mut names: Vec<&str> =
        widgets.as_array().into_iter().flatten().filter_map(|w| w["data"]["projectName"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["Data Platform Migration", "Mobile App Launch", "Security Audit Q3", "Website Redesign"],
        "{reply}"
    );
    let (_, pulse) = rpc(&app, "/a2a/pulse", Some(&app.token), "SendMessage", message("p-1", "what is at risk")).await;
    assert_eq!(pulse["result"]["task"]["status"]["state"], "TASK_STATE_COMPLETED", "{pulse}");
}

#[tokio::test]
async fn idle_streams_get_keep_alive_comments() {
    let app = spawn_app_with(|settings| settings.a2a.keepalive_secs = 1).await;
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "SendStreamingMessage", "params": message("tck-long-running-ka", "x")});
    let response = app
        .client
        .post(format!("{}{AGENT}", app.address))
        .header("A2A-Version", "1.0")
        .json(&body)
        .send()
        .await
        .expect("stream opened");
    let mut bytes = response.bytes_stream();
    let mut text = String::new();
    // The task works for 10 s after its WORKING event; within 3 s a comment line arrives.
    let _ = tokio::time::timeout(Duration::from_secs(3), async {
        while let Some(Ok(chunk)) = bytes.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk));
            if text.lines().any(|line| line.starts_with(':')) {
                break;
            }
        }
    })
    .await;
    assert!(text.lines().any(|line| line.starts_with(':')), "no keep-alive comment in {text:?}");
}
