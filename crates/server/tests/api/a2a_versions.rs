//! A2A 0.3 beside 1.0 on the same endpoints: the version rules (a missing
//! `A2A-Version` means 0.3), the exact errors for the other version's method
//! names and for versions not served, the 0.3 wire form on JSON-RPC, REST
//! and SSE, and the cards per version.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

const AGENT: &str = "/a2a/conformance";

/// Posts a JSON-RPC request with the given `A2A-Version` (none: a 0.3 request).
async fn rpc(app: &TestApp, version: Option<&str>, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
    let mut request = app.client.post(format!("{}{AGENT}", app.address)).json(&body);
    if let Some(version) = version {
        request = request.header("A2A-Version", version);
    }
    let response = request.send().await.expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("JSON")
}

fn legacy_message(prefix: &str) -> Value {
    json!({"message": {"kind": "message", "messageId": format!("{prefix}-{}", uuid::Uuid::new_v4()), "role": "user",
        "parts": [{"kind": "text", "text": "hello"}]}})
}

#[tokio::test]
async fn a_request_without_a_version_is_answered_in_0_3() {
    let app = spawn_app().await;
    let sent = rpc(&app, None, "message/send", legacy_message("tck-artifact-text")).await;
    let task = &sent["result"];
    assert_eq!((task["kind"].as_str(), task["status"]["state"].as_str()), (Some("task"), Some("completed")), "{sent}");
    assert_eq!(task["artifacts"][0]["parts"][0], json!({"kind": "text", "text": "Generated text content"}));
    assert_eq!(task["history"][0]["role"], "user");
    let id = task["id"].as_str().unwrap_or_default();
    // 0.3 `historyLength: 0` means no limit.
    let got = rpc(&app, Some("0.3"), "tasks/get", json!({"id": id, "historyLength": 0})).await;
    assert_eq!(got["result"]["history"].as_array().map(Vec::len), Some(1), "{got}");
    let refused = rpc(&app, None, "tasks/cancel", json!({"id": id})).await;
    assert_eq!(refused["error"]["code"], -32002, "{refused}");
    let reply = rpc(&app, None, "message/send", legacy_message("tck-message-response")).await;
    assert_eq!((reply["result"]["kind"].as_str(), reply["result"]["role"].as_str()), (Some("message"), Some("agent")));

    let response = app
        .client
        .post(format!("{}{AGENT}", app.address))
        .json(&json!({"jsonrpc": "2.0", "id": "s", "method": "message/stream", "params": legacy_message("tck-stream-001")}))
        .send()
        .await
        .expect("stream");
    let text = response.text().await.expect("stream read");
    let events: Vec<Value> = text
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
        .map(|envelope| envelope["result"].clone())
        .collect();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, ["task", "status-update", "artifact-update", "status-update"], "{text}");
    let finals: Vec<&Value> = events.iter().filter(|e| e["kind"] == "status-update").map(|e| &e["final"]).collect();
    assert_eq!(finals, [&json!(false), &json!(true)], "{text}");
    assert!(text.contains("id: 1") || text.contains("id:1"), "SSE ids as in 1.0: {text}");
}

#[tokio::test]
async fn the_other_versions_method_names_and_unserved_versions_get_errors_that_say_what_to_send() {
    let app = spawn_app().await;
    for (version, method, code, message) in [
        (
            None,
            "SendMessage",
            -32601,
            "method not found: SendMessage is an A2A 1.0 method: send `A2A-Version: 1.0`, or call `message/send`",
        ),
        (
            Some("0.3"),
            "ListTasks",
            -32601,
            "method not found: ListTasks is an A2A 1.0 method: send `A2A-Version: 1.0` (0.3 has no such method)",
        ),
        (
            Some("1.0"),
            "message/send",
            -32601,
            "method not found: message/send is an A2A 0.3 method: call `SendMessage`, or send `A2A-Version: 0.3`",
        ),
        (
            Some("1.0"),
            "tasks/resubscribe",
            -32601,
            "method not found: tasks/resubscribe is an A2A 0.3 method: call `SubscribeToTask`, or send `A2A-Version: 0.3`",
        ),
        (
            Some("2.0"),
            "SendMessage",
            -32009,
            "A2A version 2.0 is not supported: this server speaks 1.0 and 0.3 \
             (send `A2A-Version: 1.0`, or `A2A-Version: 0.3` or no header for 0.3)",
        ),
    ] {
        let reply = rpc(&app, version, method, json!({})).await;
        assert_eq!(reply["error"]["code"], json!(code), "{version:?} {method}: {reply}");
        assert_eq!(reply["error"]["message"], json!(message), "{version:?} {method}");
    }
    let response = app
        .client
        .post(format!("{}{AGENT}/rest/message:send", app.address))
        .json(&legacy_message("x"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(
        body["error"]["message"],
        "method not found: /message:send is an A2A 1.0 route: send `A2A-Version: 1.0`, or use the 0.3 route /v1/message:send"
    );
    let response = app
        .client
        .get(format!("{}{AGENT}/rest/v1/tasks/x", app.address))
        .header("A2A-Version", "0.2")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_0_3_rest_binding_speaks_the_0_3_proto_form() {
    let app = spawn_app().await;
    let base = format!("{}{AGENT}/rest/v1", app.address);
    let body = json!({"message": {"messageId": format!("tck-complete-task-{}", uuid::Uuid::new_v4()), "role": "ROLE_USER",
        "content": [{"text": "hello"}]}, "configuration": {"blocking": true}});
    let sent: Value = app
        .client
        .post(format!("{base}/message:send"))
        .json(&body)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON");
    let task = &sent["task"];
    assert_eq!(task["status"]["state"], "TASK_STATE_COMPLETED", "{sent}");
    assert_eq!(task["status"]["message"]["content"][0]["text"], "Hello from TCK", "{sent}");
    assert!(task.get("kind").is_none(), "no kind in the proto form: {sent}");
    let id = task["id"].as_str().unwrap_or_default();
    let got: Value =
        app.client.get(format!("{base}/tasks/{id}")).send().await.expect("get").json().await.expect("JSON");
    assert_eq!((got["id"].as_str(), got["history"][0]["role"].as_str()), (Some(id), Some("ROLE_USER")), "{got}");
    let missing = app.client.get(format!("{base}/tasks/nope")).send().await.expect("get");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let canceled = app.client.post(format!("{base}/tasks/{id}:cancel")).json(&json!({})).send().await.expect("cancel");
    assert_eq!(canceled.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn cards_come_in_the_version_asked_for_each_with_its_own_etag() {
    let app = spawn_app().await;
    let url = format!("{}{AGENT}/.well-known/agent-card.json", app.address);
    let dual_response = app.client.get(&url).send().await.expect("card");
    let vary = dual_response.headers().get("vary").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(vary.eq_ignore_ascii_case("A2A-Version"), "{vary}");
    let dual_etag = dual_response.headers().get("etag").cloned().expect("etag");
    let dual: Value = dual_response.json().await.expect("JSON");
    assert_eq!(dual["url"], json!(format!("{}{AGENT}", app.address)));
    assert_eq!(
        (dual["protocolVersion"].as_str(), dual["preferredTransport"].as_str()),
        (Some("0.3.0"), Some("JSONRPC"))
    );
    assert_eq!(dual["additionalInterfaces"][1]["url"], json!(format!("{}{AGENT}/rest", app.address)));
    assert_eq!(dual["supportsAuthenticatedExtendedCard"], true);
    assert_eq!(dual["supportedInterfaces"][0]["protocolVersion"], "1.0", "1.0 first: {dual}");
    assert_eq!(dual["supportedInterfaces"].as_array().map(Vec::len), Some(4));

    let current_response = app.client.get(&url).header("A2A-Version", "1.0").send().await.expect("card");
    let current_etag = current_response.headers().get("etag").cloned().expect("etag");
    let current: Value = current_response.json().await.expect("JSON");
    assert!(current.get("url").is_none() && current.get("protocolVersion").is_none(), "{current}");
    assert_eq!(current["supportedInterfaces"].as_array().map(Vec::len), Some(2));
    assert_ne!(dual_etag, current_etag);
    let stale = app.client.get(&url).header("A2A-Version", "1.0").header("If-None-Match", &dual_etag).send().await;
    assert_eq!(stale.expect("sent").status(), StatusCode::OK, "the dual card's ETag does not match the 1.0 card");
    let fresh = app.client.get(&url).header("If-None-Match", &dual_etag).send().await;
    assert_eq!(fresh.expect("sent").status(), StatusCode::NOT_MODIFIED);

    let (status, legacy_path) =
        app.request(reqwest::Method::GET, &format!("{AGENT}/.well-known/agent.json"), None, None).await;
    assert_eq!((status, &legacy_path), (StatusCode::OK, &dual));
    let (status, root) = app.request(reqwest::Method::GET, "/.well-known/agent.json", None, None).await;
    assert_eq!((status, root["name"].as_str()), (StatusCode::OK, Some("Dashboard Agent")));
    assert_eq!(root["security"], json!([{"bearer": []}]), "0.3 security form: {root}");
    assert_eq!(root["securitySchemes"]["bearer"]["type"], "http");
    assert_eq!(root["securitySchemes"]["bearer"]["httpAuthSecurityScheme"]["scheme"], "Bearer");
}

/// Our client, given a card that offers only the 0.3 interfaces, speaks 0.3
/// to our own server over both bindings: send, get, stream with SSE ids,
/// resume after an id, cancel, and multi-turn — the 0.3 paths of client and
/// server against each other, with 1.0 types on the caller's side.
#[tokio::test]
async fn our_client_speaks_0_3_to_our_server_when_the_card_offers_only_0_3() {
    use agentdeck_a2a_protocol::client::{AgentClient, Binding, ClientOptions, fetch_card};
    use agentdeck_a2a_protocol::version::ProtocolVersion;
    use agentdeck_a2a_protocol::{
        CancelTaskRequest, GetTaskRequest, Message, SendMessageConfiguration, SendMessageRequest, SendMessageResponse,
        StreamResponse, TaskState,
    };
    use futures::StreamExt;

    let app = spawn_app().await;
    let url = format!("{}{AGENT}", app.address);
    let mut card = fetch_card(&reqwest::Client::new(), &url, std::time::Duration::from_secs(10)).await.expect("card");
    card.supported_interfaces.retain(|interface| interface.protocol_version == "0.3");
    for binding in [Binding::JsonRpc, Binding::Rest] {
        let options = ClientOptions { prefer: Some(binding), ..ClientOptions::default() };
        let client = AgentClient::from_card(reqwest::Client::new(), card.clone(), options).expect("client");
        assert_eq!((client.endpoint().binding, client.endpoint().version), (binding, ProtocolVersion::V0_3));
        let send = |prefix: &str| SendMessageRequest::new(Message::user_text(format!("{prefix}-{binding:?}"), "go"));

        let Ok(SendMessageResponse::Task(done)) = client.send(&send("tck-artifact-data")).await else {
            panic!("no task over {binding:?}");
        };
        assert_eq!(done.status.state, TaskState::Completed);
        assert_eq!(
            done.artifacts[0].parts[0].content,
            agentdeck_a2a_protocol::PartContent::Data(json!({"key": "value", "count": 42}))
        );
        let query = GetTaskRequest { id: done.id.clone(), history_length: Some(1), ..Default::default() };
        assert_eq!(client.get_task(&query).await.expect("get").history.len(), 1);

        let events: Vec<_> = client.stream(&send("tck-stream-001")).await.expect("stream").collect().await;
        let ids: Vec<Option<String>> = events.iter().map(|e| e.as_ref().ok().and_then(|i| i.id.clone())).collect();
        assert_eq!(ids, ["1", "2", "3", "4"].map(|id| Some(id.to_owned())), "{events:?}");
        let Some(Ok(first)) = events.first() else { panic!("no events") };
        let StreamResponse::Task(streamed) = &first.event else { panic!("the task does not come first: {events:?}") };
        let resumed: Vec<_> = client.subscribe(&streamed.id, Some("3")).await.expect("resumed").collect().await;
        let resumed: Vec<_> = resumed.into_iter().map(|e| e.expect("event")).collect();
        assert_eq!(resumed.iter().map(|i| i.id.as_deref()).collect::<Vec<_>>(), [Some("4")]);
        assert!(matches!(&resumed[0].event, StreamResponse::StatusUpdate(u) if u.status.state == TaskState::Completed));

        let mut quick = send("tck-long-running");
        quick.configuration = Some(SendMessageConfiguration { return_immediately: true, ..Default::default() });
        let Ok(SendMessageResponse::Task(running)) = client.send(&quick).await else { panic!("no running task") };
        assert!(!running.status.state.is_terminal(), "{running:?}");
        let cancel = CancelTaskRequest { id: running.id.clone(), ..Default::default() };
        assert_eq!(client.cancel_task(&cancel).await.expect("cancel").status.state, TaskState::Canceled);

        let Ok(SendMessageResponse::Task(parked)) = client.send(&send("tck-input-required")).await else {
            panic!("no parked task")
        };
        assert_eq!(parked.status.state, TaskState::InputRequired);
        let mut answer = Message::user_text(format!("answer-{binding:?}"), "more");
        answer.task_id = Some(parked.id.clone());
        let Ok(SendMessageResponse::Task(finished)) = client.send(&SendMessageRequest::new(answer)).await else {
            panic!("no follow-up task")
        };
        assert_eq!((finished.id, finished.status.state), (parked.id, TaskState::Completed));
    }
}
