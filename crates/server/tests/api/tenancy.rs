//! A token of one workspace never reaches another workspace's records.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{error_code, spawn_app};

#[tokio::test]
async fn every_id_of_another_workspace_answers_404() {
    let app = spawn_app().await;
    let (_, intruder) = app.other_workspace().await;

    let mut targets = Vec::new();
    for (collection, kind) in [("projects", "project"), ("tasks", "task"), ("members", "member")] {
        let (status, page) = app.get(&format!("/api/{collection}?limit=200")).await;
        assert_eq!(status, StatusCode::OK);
        let items = page["items"].as_array().unwrap();
        assert!(!items.is_empty(), "the demo has {collection}");
        for item in items {
            targets.push((collection, kind, item["id"].as_str().unwrap().to_owned()));
        }
    }
    assert!(targets.len() > 30, "demo ids: {}", targets.len());

    for (collection, kind, id) in &targets {
        let path = format!("/api/{collection}/{id}");
        for (method, body) in [(Method::GET, None), (Method::PATCH, Some(json!({}))), (Method::DELETE, None)] {
            let (status, error) = app.request(method.clone(), &path, Some(&intruder), body.as_ref()).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {error}");
            assert_eq!(error_code(&error), "not_found");
            assert_eq!(error["error"]["message"], format!("{kind} not found"));
        }
    }

    // Nothing was changed or deleted by the attempts.
    for (collection, _, id) in &targets {
        let (status, _) = app.get(&format!("/api/{collection}/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{collection}/{id} still there for its owner");
    }
}

#[tokio::test]
async fn lists_show_only_the_callers_workspace() {
    let app = spawn_app().await;
    let (_, intruder) = app.other_workspace().await;
    let (_, theirs) = app.request(Method::GET, "/api/projects", Some(&intruder), None).await;
    let names: Vec<&str> = theirs["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Their project"]);
    for collection in ["tasks", "members"] {
        let (_, page) = app.request(Method::GET, &format!("/api/{collection}"), Some(&intruder), None).await;
        assert_eq!(page["items"], json!([]), "{collection}");
    }
    let (_, activity) = app.request(Method::GET, "/api/activity", Some(&intruder), None).await;
    let actors: Vec<&Value> = activity["items"].as_array().unwrap().iter().map(|entry| &entry["actor"]).collect();
    assert_eq!(actors, [&json!("intruder")]);
}

#[tokio::test]
async fn references_to_another_workspace_are_refused() {
    let app = spawn_app().await;
    let (_, intruder) = app.other_workspace().await;
    let (_, demo_projects) = app.get("/api/projects").await;
    let demo_project = demo_projects["items"][0]["id"].as_str().unwrap();
    let body = json!({"projectId": demo_project, "title": "sneaky"});
    let (status, error) = app.request(Method::POST, "/api/tasks", Some(&intruder), Some(&body)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["error"]["details"][0]["path"], "/projectId");
}
