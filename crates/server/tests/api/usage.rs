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
    assert_eq!(before["dailyQuotaTokens"], 0, "no quota by default");
    let question = "how is Website Redesign doing";
    let message = json!({"message": {"messageId": "u-1", "role": "ROLE_USER", "parts": [{"text": question}]}});
    let (_, _, reply) = app.a2a_call("/a2a/navi", Some(&app.token), "SendMessage", message).await;
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

/// Sends `text` to the conformance agent as the demo user (metered: the call has a token).
async fn send_as_demo(app: &crate::helpers::TestApp, id: &str, text: &str) {
    let message = json!({"message": {
        "messageId": format!("tck-complete-task-{id}"), "role": "ROLE_USER", "parts": [{"text": text}]}});
    let (status, _, _) = app.a2a_call("/a2a/conformance", Some(&app.token), "SendMessage", message).await;
    assert_eq!(status, StatusCode::OK);
}

/// The demo user's dashboard alerts, waiting up to 5 s for `count` of them.
async fn alerts(app: &crate::helpers::TestApp, count: usize) -> Vec<serde_json::Value> {
    for _ in 0..50 {
        let (_, state) = app.get("/api/dashboard/state").await;
        let alerts = state["document"]["alerts"].as_array().cloned().unwrap_or_default();
        if alerts.len() >= count {
            return alerts;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Vec::new()
}

/// Waits (up to 10 s) until the usage store holds every token `/api/usage` counts
/// today: the meter's pending counts, which `/api/usage` adds in, are flushed.
async fn flushed(app: &crate::helpers::TestApp) {
    let (_, usage) = app.get("/api/usage").await;
    let counted = (usage["today"]["tokensIn"].as_i64(), usage["today"]["tokensOut"].as_i64());
    let (workspace, today) = (app.workspace_id.to_string(), chrono::Utc::now().format("%Y-%m-%d").to_string());
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let stored = app.stores.usage.token_usage(&workspace, &today, &today).await.expect("usage read");
        let written = stored.first().map(|day| (Some(day.tokens_in), Some(day.tokens_out)));
        if written == Some(counted) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "not flushed in 10 s: {written:?}, counted {counted:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn passing_80_and_95_percent_of_the_daily_quota_raises_each_alert_once() {
    use agentdeck_services::metering::count_tokens;
    let app = crate::helpers::spawn_app_with(|settings| settings.metering.daily_quota_tokens = 1_000).await;
    let (_, usage) = app.get("/api/usage").await;
    assert_eq!(usage["dailyQuotaTokens"], 1_000, "the quota is shown with the usage: {usage}");
    // 850 tokens in and "Hello from TCK" (4) out: 85 % of 1 000.
    let big = vec!["hello"; 850].join(" ");
    assert_eq!(count_tokens(Encoding::Cl100kBase, &big), 850);
    send_as_demo(&app, "1", &big).await;
    let first = alerts(&app, 1).await;
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0]["severity"], "warning");
    assert!(first[0]["message"].as_str().is_some_and(|m| m.contains("854 of the daily quota of 1000")), "{first:?}");
    // 120 more in and 4 out: 978, past 95 %.
    send_as_demo(&app, "2", &vec!["hello"; 120].join(" ")).await;
    let second = alerts(&app, 2).await;
    assert_eq!(
        second.iter().map(|a| a["severity"].as_str().unwrap_or_default()).collect::<Vec<_>>(),
        ["warning", "error"]
    );
    // Past 95 % already: a third message raises nothing new. The meter checks the
    // quota in the flush that writes a message's tokens, and flushes one after
    // the other: once a fourth message, sent after the third was written, is
    // written too, the third's check is over.
    send_as_demo(&app, "3", "hello").await;
    flushed(&app).await;
    send_as_demo(&app, "4", "hello").await;
    flushed(&app).await;
    assert_eq!(alerts(&app, 2).await.len(), 2);
    let (_, activity) = app.get("/api/activity?limit=50").await;
    let thresholds: Vec<i64> = activity["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["action"] == "usage.threshold")
        .filter_map(|e| e["details"]["thresholdPercent"].as_i64())
        .collect();
    assert_eq!(thresholds, [95, 80], "newest first: {activity}");
}
