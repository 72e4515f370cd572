//! Project data over HTTP: the demo, CRUD, filters, pagination, cycles, activity.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, spawn_app};

fn names(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|item| item["name"].as_str().unwrap().to_owned()).collect()
}

async fn create(app: &TestApp, path: &str, body: Value) -> Value {
    let (status, created) = app.post(path, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

#[tokio::test]
async fn the_demo_workspace_tells_its_story() {
    let app = spawn_app().await;
    let (status, active) = app.get("/api/projects").await;
    assert_eq!(status, StatusCode::OK);
    let mut active = names(&active);
    active.sort();
    assert_eq!(active, ["Data Platform Migration", "Mobile App Launch", "Security Audit Q3", "Website Redesign"]);
    let (_, archived) = app.get("/api/projects?archived=true").await;
    assert_eq!(names(&archived), ["Legacy Intranet Sunset"]);

    let now = chrono::Utc::now();
    let in_48h = (now + chrono::Duration::hours(48)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let now_text = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let (_, overdue) = app.get(&format!("/api/tasks?dueBefore={}&limit=200", urlencode(&now_text))).await;
    let open_overdue: Vec<&Value> =
        overdue["items"].as_array().unwrap().iter().filter(|task| task["status"] != "done").collect();
    assert_eq!(open_overdue.len(), 2, "overdue tasks: {open_overdue:#?}");
    let (_, soon) = app
        .get(&format!("/api/tasks?dueAfter={}&dueBefore={}&limit=200", urlencode(&now_text), urlencode(&in_48h)))
        .await;
    assert_eq!(soon["items"].as_array().unwrap().len(), 3, "due within 48 h");

    let (_, blocked) = app.get("/api/tasks?status=blocked").await;
    assert_eq!(blocked["items"].as_array().unwrap().len(), 4);

    let (_, done) = app.get("/api/tasks?status=done&limit=200").await;
    let weeks: HashSet<i64> = done["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|task| {
            let completed: chrono::DateTime<chrono::Utc> = task["completedAt"].as_str().unwrap().parse().unwrap();
            (now - completed).num_weeks()
        })
        .collect();
    assert!(weeks.len() >= 4, "completions spread over several weeks: {weeks:?}");
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn project_crud_writes_activity() {
    let app = spawn_app().await;
    let project = create(&app, "/api/projects", json!({"name": "  Apollo  ", "dueDate": "2030-01-01T00:00:00Z"})).await;
    assert_eq!(project["name"], "Apollo");
    let id = project["id"].as_str().unwrap();

    let (status, fetched) = app.get(&format!("/api/projects/{id}")).await;
    assert_eq!((status, &fetched), (StatusCode::OK, &project));

    let (status, changed) =
        app.patch(&format!("/api/projects/{id}"), &json!({"dueDate": null, "archived": true})).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["dueDate"], Value::Null);
    assert_eq!(changed["archived"], true);
    assert_eq!(changed["revision"], 2);

    let (status, _) =
        app.request(reqwest::Method::DELETE, &format!("/api/projects/{id}"), Some(&app.token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.get(&format!("/api/projects/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, log) = app.get(&format!("/api/activity?projectId={id}")).await;
    let actions: Vec<&str> =
        log["items"].as_array().unwrap().iter().map(|entry| entry["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["project.deleted", "project.archived", "project.created"]);
    assert!(log["items"].as_array().unwrap().iter().all(|entry| entry["actor"] == "demo"));
}

#[tokio::test]
async fn pagination_visits_every_item_once() {
    let app = spawn_app().await;
    let mut seen = Vec::new();
    let mut path = "/api/tasks?limit=7".to_owned();
    loop {
        let (status, page) = app.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(page["items"].as_array().unwrap().iter().map(|task| task["id"].as_str().unwrap().to_owned()));
        match page["nextCursor"].as_str() {
            Some(cursor) => path = format!("/api/tasks?limit=7&cursor={cursor}"),
            None => break,
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(seen.len(), unique.len());
    assert_eq!(seen.len(), 38, "every demo task");
}

#[tokio::test]
async fn tasks_complete_and_refuse_cycles() {
    let app = spawn_app().await;
    let project = create(&app, "/api/projects", json!({"name": "Chain"})).await;
    let project_id = project["id"].as_str().unwrap();
    let a = create(&app, "/api/tasks", json!({"projectId": project_id, "title": "A"})).await;
    let b = create(&app, "/api/tasks", json!({"projectId": project_id, "title": "B", "blockedBy": [a["id"]]})).await;
    let c = create(&app, "/api/tasks", json!({"projectId": project_id, "title": "C", "blockedBy": [b["id"]]})).await;

    let a_path = format!("/api/tasks/{}", a["id"].as_str().unwrap());
    let (status, error) = app.patch(&a_path, &json!({"blockedBy": [c["id"]]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error_code(&error), "validation_failed");
    assert_eq!(error["error"]["details"][0]["path"], "/blockedBy");
    assert!(error["error"]["details"][0]["message"].as_str().unwrap().contains("cycle"));

    let (status, error) = app.patch(&a_path, &json!({"blockedBy": [uuid::Uuid::now_v7()]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error"]["details"][0]["path"], "/blockedBy/0");

    let (status, done) = app.patch(&a_path, &json!({"status": "done"})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(done["completedAt"].is_string());
    let (_, log) = app.get(&format!("/api/activity?projectId={project_id}&limit=1")).await;
    assert_eq!(log["items"][0]["action"], "task.completed");
    assert_eq!(log["items"][0]["details"]["from"], "todo");

    let (_, filtered) = app.get(&format!("/api/tasks?projectId={project_id}&status=done")).await;
    let titles: Vec<&Value> = filtered["items"].as_array().unwrap().iter().map(|task| &task["title"]).collect();
    assert_eq!(titles, [&json!("A")]);
}

#[tokio::test]
async fn duplicate_members_conflict() {
    let app = spawn_app().await;
    let (status, error) = app.post("/api/members", &json!({"userId": "marcus", "displayName": "Another Marcus"})).await;
    assert_eq!((status, error_code(&error)), (StatusCode::CONFLICT, "conflict"));
    assert_eq!(error["error"]["details"][0]["path"], "/userId");
}
