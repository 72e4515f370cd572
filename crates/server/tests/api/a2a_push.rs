//! A2A push notifications end to end: a webhook on this machine receives
//! every task event, signed and authenticated as configured, again after a
//! failed attempt; configs are read back without their secrets; private
//! addresses are refused when the guard is on.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{TestApp, spawn_app_with};

const AGENT: &str = "/a2a/conformance";
const SECRET: &str = "push-signing-secret-for-the-tests";

/// One delivery as the webhook saw it.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

/// A webhook that records every delivery and refuses the first one with 503.
pub(crate) async fn webhook() -> (String, Arc<Mutex<Vec<Delivery>>>) {
    let seen: Arc<Mutex<Vec<Delivery>>> = Arc::default();
    let record = seen.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let record = record.clone();
            async move {
                let mut seen = record.lock().expect("lock");
                seen.push(Delivery { headers, body });
                if seen.len() == 1 { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

async fn rpc(app: &TestApp, method: &str, params: Value) -> Value {
    app.a2a_call(AGENT, Some(&app.token), method, params).await.2
}

fn verify(headers: &HeaderMap, body: &str) -> bool {
    let Some(signature) = headers.get("x-a2a-signature").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some((t, v1)) = signature.strip_prefix("t=").and_then(|rest| rest.split_once(",v1=")) else {
        return false;
    };
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()) else {
        return false;
    };
    mac.update(format!("{t}.{body}").as_bytes());
    hex::encode(mac.finalize().into_bytes()) == v1
}

#[tokio::test]
async fn every_event_reaches_the_webhook_signed_and_retried_and_reads_hide_the_secrets() {
    let app = spawn_app_with(|settings| {
        settings.a2a.push_signing_secret = SECRET.into();
    })
    .await;
    let (url, seen) = webhook().await;
    let started = rpc(
        &app,
        "SendMessage",
        json!({"message": {"messageId": "tck-long-running-push", "role": "ROLE_USER", "parts": [{"text": "x"}]},
               "configuration": {"returnImmediately": true, "taskPushNotificationConfig": {
                   "url": url, "token": "receiver-token",
                   "authentication": {"scheme": "Bearer", "credentials": "tck-test-token-1"}}}}),
    )
    .await;
    let task_id = started["result"]["task"]["id"].as_str().unwrap_or_default().to_owned();
    assert!(!task_id.is_empty(), "{started}");
    let working = app.await_task_state(AGENT, Some(&app.token), &task_id, "TASK_STATE_WORKING").await;
    assert_eq!(working, "TASK_STATE_WORKING");
    let canceled = rpc(&app, "CancelTask", json!({"id": task_id})).await;
    assert_eq!(canceled["result"]["status"]["state"], "TASK_STATE_CANCELED");
    // The cancel (event 3) arrives, and the refused first delivery comes again after its backoff.
    let event_ids = |deliveries: &[Delivery]| -> Vec<String> {
        deliveries.iter().filter_map(|d| d.headers.get("x-a2a-event-id")?.to_str().ok().map(str::to_owned)).collect()
    };
    let mut deliveries = Vec::new();
    for _ in 0..100 {
        deliveries = seen.lock().expect("lock").clone();
        let ids = event_ids(&deliveries);
        let retried = ids.len() > 1 && ids[1..].contains(&ids[0]);
        if retried && deliveries.iter().any(|d| d.body.contains("TASK_STATE_CANCELED")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(deliveries.iter().any(|d| d.body.contains("TASK_STATE_CANCELED")), "{deliveries:?}");
    let ids = event_ids(&deliveries);
    assert!(ids.len() > 1 && ids[1..].contains(&ids[0]), "the refused delivery was retried: {ids:?}");
    for delivery in &deliveries {
        let header =
            |name: &str| delivery.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert_eq!(header("authorization"), "Bearer tck-test-token-1");
        assert_eq!(header("x-a2a-notification-token"), "receiver-token");
        assert_eq!(header("content-type"), "application/a2a+json");
        assert!(verify(&delivery.headers, &delivery.body), "signature: {}", header("x-a2a-signature"));
        let event: Value = serde_json::from_str(&delivery.body).expect("a StreamResponse body");
        let members: Vec<&String> = event.as_object().map(|o| o.keys().collect()).unwrap_or_default();
        assert_eq!(members.len(), 1, "one member of task|message|statusUpdate|artifactUpdate: {event}");
    }
    // Reads never return the token or the credentials.
    let listed = rpc(&app, "ListTaskPushNotificationConfigs", json!({"taskId": task_id})).await;
    let config = &listed["result"]["configs"][0];
    assert_eq!(config["url"], json!(url));
    assert!(config.get("token").is_none() && config["authentication"].get("credentials").is_none(), "{listed}");
    let config_id = config["id"].as_str().unwrap_or_default().to_owned();
    let got = rpc(&app, "GetTaskPushNotificationConfig", json!({"taskId": task_id, "id": config_id})).await;
    assert_eq!(got["result"]["id"], json!(config_id));
    assert!(!got.to_string().contains("tck-test-token-1") && !got.to_string().contains("receiver-token"));
    let deleted = rpc(&app, "DeleteTaskPushNotificationConfig", json!({"taskId": task_id, "id": config_id})).await;
    assert_eq!(deleted["result"], json!({}));
    let again = rpc(&app, "DeleteTaskPushNotificationConfig", json!({"taskId": task_id, "id": config_id})).await;
    assert_eq!(again["result"], json!({}), "deleting twice is fine");
    let gone = rpc(&app, "GetTaskPushNotificationConfig", json!({"taskId": task_id, "id": config_id})).await;
    assert_eq!(gone["error"]["code"], json!(-32001));
    let created = rpc(&app, "CreateTaskPushNotificationConfig", json!({"taskId": task_id, "url": url})).await;
    assert!(created["result"]["id"].is_string(), "{created}");
    let foreign = rpc(&app, "CreateTaskPushNotificationConfig", json!({"taskId": "no-such-task", "url": url})).await;
    assert_eq!(foreign["error"]["code"], json!(-32001));
}

#[tokio::test]
async fn webhooks_on_private_addresses_are_refused_when_the_guard_is_on() {
    let app = spawn_app_with(|settings| settings.a2a.push_allow_private_networks = Some(false)).await;
    let refused = rpc(
        &app,
        "SendMessage",
        json!({"message": {"messageId": "tck-complete-task-ssrf", "role": "ROLE_USER", "parts": [{"text": "x"}]},
               "configuration": {"taskPushNotificationConfig": {"url": "http://169.254.169.254/latest/meta-data"}}}),
    )
    .await;
    assert_eq!(refused["error"]["code"], json!(-32602), "{refused}");
    let field = &refused["error"]["data"][1]["fieldViolations"][0]["field"];
    assert_eq!(field, "configuration.taskPushNotificationConfig.url");
    // Nothing was started for the refused send.
    let listed = rpc(&app, "ListTasks", json!({})).await;
    assert_eq!(listed["result"]["totalSize"], 0);
    let local =
        rpc(&app, "CreateTaskPushNotificationConfig", json!({"taskId": "t", "url": "http://localhost:1/x"})).await;
    assert_eq!(local["error"]["code"], json!(-32602));
}
