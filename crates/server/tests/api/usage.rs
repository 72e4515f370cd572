//! `GET /api/usage`: the tokens of agent messages in and out, per workspace and day.

use agentdeck_a2a_protocol::{Message, Task};
use agentdeck_services::metering::{Encoding, message_tokens};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn usage_counts_what_was_sent_to_and_answered_by_the_agents() {
    let app = spawn_app().await;
    let (status, before) = app.get("/api/usage").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((before["today"]["tokensIn"].as_i64(), before["encoding"].as_str()), (Some(0), Some("cl100k_base")));
    let question = "how is Website Redesign doing";
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {"message": {
        "messageId": "u-1", "role": "ROLE_USER", "parts": [{"text": question}]}}});
    let response = app
        .client
        .post(format!("{}/a2a/navi", app.address))
        .header("A2A-Version", "1.0")
        .bearer_auth(&app.token)
        .json(&body)
        .send()
        .await
        .expect("sent");
    let reply: serde_json::Value = response.json().await.expect("JSON");
    let task: Task = serde_json::from_value(reply["result"]["task"].clone()).expect("a task");
    // In: the question. Out: the artifact's parts (text and widgets) and the completion's message.
    let sent = message_tokens(Encoding::Cl100kBase, &Message::user_text("x", question));
    let artifact = Message { parts: task.artifacts[0].parts.clone(), ..Message::default() };
    let status_message = task.status.message.clone().unwrap_or_default();
    let answered =
        message_tokens(Encoding::Cl100kBase, &artifact) + message_tokens(Encoding::Cl100kBase, &status_message);
    let (_, usage) = app.get("/api/usage").await;
    assert_eq!(usage["today"]["tokensIn"].as_u64(), Some(sent as u64), "{usage}");
    assert_eq!(usage["today"]["tokensOut"].as_u64(), Some(answered as u64), "{usage}");
    assert!(answered > 100, "the widgets are counted: {answered}");
    // Another workspace sees none of it.
    let (_, other) = app.other_workspace().await;
    let response = app.client.get(format!("{}/api/usage", app.address)).bearer_auth(&other).send().await.expect("sent");
    let theirs: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(theirs["today"]["tokensIn"], 0);
    let (status, _) = app.request(reqwest::Method::GET, "/api/usage", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
