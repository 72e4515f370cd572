//! Text with a control character no backend may store (7.1): NUL, which
//! PostgreSQL cannot hold, and the other C0 controls but tab and line breaks
//! are refused with 422 naming the field, on SQLite and PostgreSQL alike, in
//! bodies and query parameters. Before the fix PostgreSQL answered 500.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, spawn_app, spawn_app_on_postgres};

const MESSAGE: &str = "must not contain control characters (only tab and line breaks)";

/// Asserts a 422 whose one detail names `path`.
fn assert_refused(what: &str, (status, body): (StatusCode, Value), path: &str) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {body}");
    assert_eq!(error_code(&body), "validation_failed", "{what}: {body}");
    assert_eq!(body["error"]["details"], json!([{"path": path, "message": MESSAGE}]), "{what}");
}

/// Every kind of stored text, and a query parameter, refused; nothing stored.
async fn control_characters_are_refused_naming_the_field(app: &TestApp) {
    let (_, before) = app.get("/api/projects?archived=any&limit=200").await;
    assert_refused("project name", app.post("/api/projects", &json!({"name": "a\u{0}b"})).await, "/name");
    assert_refused(
        "project description",
        app.post("/api/projects", &json!({"name": "ok", "description": "\u{1b}[2J"})).await,
        "/description",
    );
    let (status, project) =
        app.post("/api/projects", &json!({"name": "Tabs", "description": "line one\n\tline two\r\n"})).await;
    assert_eq!(status, StatusCode::CREATED, "tab and line breaks are text: {project}");
    let task = json!({"projectId": project["id"], "title": "a\u{0}b"});
    assert_refused("task title", app.post("/api/tasks", &task).await, "/title");
    let member = json!({"userId": "nul-member", "displayName": "a\u{0}b"});
    assert_refused("member name", app.post("/api/members", &member).await, "/displayName");
    let project_path = format!("/api/projects/{}", project["id"].as_str().unwrap_or_default());
    assert_refused("project rename", app.patch(&project_path, &json!({"name": "a\u{0}b"})).await, "/name");
    assert_refused("query parameter", app.get("/api/activity?actor=a%00b").await, "/actor");
    let (_, after) = app.get("/api/projects?archived=any&limit=200").await;
    let count = |page: &Value| page["items"].as_array().map_or(0, Vec::len);
    assert_eq!(count(&after), count(&before) + 1, "only the valid project was stored");
}

#[tokio::test]
async fn on_sqlite_control_characters_are_refused_naming_the_field() {
    control_characters_are_refused_naming_the_field(&spawn_app().await).await;
}

#[tokio::test]
async fn on_postgres_control_characters_are_refused_naming_the_field() {
    control_characters_are_refused_naming_the_field(&spawn_app_on_postgres().await).await;
}
