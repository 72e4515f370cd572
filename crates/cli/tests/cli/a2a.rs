//! A2A tasks across a crash: the server process is killed (SIGKILL) in the
//! middle of a streaming task and started again on the same data dir.

use std::io::{BufRead, BufReader};
use std::time::Duration;

use serde_json::{Value, json};

use super::{PRODUCTION_SECRET, agentdeck, http, serve, serve_with};

fn rpc(url: &str, method: &str, params: Value) -> Value {
    rpc_keyed(url, method, params, None)
}

/// [`rpc`] with an `Idempotency-Key` header when given one.
fn rpc_keyed(url: &str, method: &str, params: Value, idempotency_key: Option<&str>) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let mut request = http().post(format!("{url}/a2a/conformance")).header("A2A-Version", "1.0").json(&body);
    if let Some(key) = idempotency_key {
        request = request.header("Idempotency-Key", key);
    }
    request.send().expect("sent").json().expect("JSON")
}

/// Reads an SSE stream's `(id, data)` events until `stop` says so or it ends.
fn read_events(response: reqwest::blocking::Response, mut stop: impl FnMut(i64, &Value) -> bool) -> Vec<(i64, Value)> {
    let mut events = Vec::new();
    let mut id = 0;
    for line in BufReader::new(response).lines().map_while(Result::ok) {
        if let Some(value) = line.strip_prefix("id:") {
            id = value.trim().parse().unwrap_or(0);
        } else if let Some(data) = line.strip_prefix("data:") {
            let data: Value = serde_json::from_str(data.trim()).unwrap_or(Value::Null);
            let done = stop(id, &data);
            events.push((id, data));
            if done {
                break;
            }
        }
    }
    events
}

#[test]
fn a_task_killed_mid_stream_is_there_after_the_restart_and_resumes_without_duplicates() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut server = serve(data_dir.path());
    let body = json!({"jsonrpc": "2.0", "id": "s", "method": "SendStreamingMessage", "params": {"message": {
        "messageId": "tck-long-running-kill", "role": "ROLE_USER", "parts": [{"text": "x"}]}}});
    let stream = http()
        .post(format!("{}/a2a/conformance", server.url))
        .header("A2A-Version", "1.0")
        .header("Idempotency-Key", "kill-test")
        .json(&body)
        .send()
        .expect("stream opened");
    // Up to event 2, the task working.
    let seen = read_events(stream, |id, _| id >= 2);
    assert_eq!(seen.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [1, 2]);
    let task_id = seen[0].1["result"]["task"]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(seen[1].1["result"]["statusUpdate"]["status"]["state"], "TASK_STATE_WORKING");

    server.child.kill().expect("SIGKILL sent");
    server.child.wait().expect("the server is gone");
    drop(server);

    let server = serve_with(agentdeck(data_dir.path()));
    let got = rpc(&server.url, "GetTask", json!({"id": task_id}));
    assert_eq!(got["result"]["id"], json!(task_id), "{got}");
    assert_eq!(got["result"]["status"]["state"], "TASK_STATE_FAILED", "the run the crash cut short ended failed");
    let resume = json!({"jsonrpc": "2.0", "id": "r", "method": "SubscribeToTask", "params": {"id": task_id}});
    let response = http()
        .post(format!("{}/a2a/conformance", server.url))
        .header("A2A-Version", "1.0")
        .header("Last-Event-ID", "2")
        .timeout(Duration::from_secs(20))
        .json(&resume)
        .send()
        .expect("resumed");
    let rest = read_events(response, |_, _| false);
    assert_eq!(rest.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [3], "only what came after event 2: {rest:?}");
    assert_eq!(rest[0].1["result"]["statusUpdate"]["status"]["state"], "TASK_STATE_FAILED");
    // A retry with the same Idempotency-Key is the same task after the restart, not a new one;
    // the same messageId without the key is a new send, as the protocol says.
    let params =
        json!({"message": {"messageId": "tck-long-running-kill", "role": "ROLE_USER", "parts": [{"text": "x"}]}});
    let again = rpc_keyed(&server.url, "SendMessage", params.clone(), Some("kill-test"));
    assert_eq!(again["result"]["task"]["id"], json!(task_id), "{again}");
    let unkeyed = rpc_keyed(&server.url, "SendMessage", params, None);
    assert_ne!(unkeyed["result"]["task"]["id"], json!(task_id), "{unkeyed}");
}

#[test]
fn production_mode_hosts_no_conformance_agent_by_default() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut command = agentdeck(data_dir.path());
    command.env("AGENTDECK_MODE", "production").env("AGENTDECK_AUTH__JWT_SECRET", PRODUCTION_SECRET);
    let server = serve_with(command);
    let client = http();
    let card =
        |name: &str| client.get(format!("{}/a2a/{name}/.well-known/agent-card.json", server.url)).send().unwrap();
    assert_eq!(card("conformance").status(), 404);
    assert_eq!(card("navi").status(), 200);
    let index: Value = client.get(format!("{}/.well-known/agents.json", server.url)).send().unwrap().json().unwrap();
    let names: Vec<&str> =
        index["agents"].as_array().into_iter().flatten().filter_map(|a| a["name"].as_str()).collect();
    assert_eq!(names, ["gateway", "herald", "navi", "pulse"]);
}
