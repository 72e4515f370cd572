//! A token of one workspace never reaches another workspace's records, its
//! agents' tasks or its people's dashboards. The other workspace is a real
//! one, made as `agentdeck workspace create` makes it (an owner account and
//! its member record).

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
    let (_, tasks) = app.request(Method::GET, "/api/tasks", Some(&intruder), None).await;
    assert_eq!(tasks["items"], json!([]));
    // Their only member is their owner, whose account the token speaks for.
    let (_, members) = app.request(Method::GET, "/api/members", Some(&intruder), None).await;
    let members = members["items"].as_array().unwrap();
    assert_eq!(members.len(), 1, "{members:?}");
    assert_eq!((&members[0]["displayName"], &members[0]["role"]), (&json!("Intruder"), &json!("owner")));
    let owner_account = members[0]["userId"].clone();
    let (_, activity) = app.request(Method::GET, "/api/activity", Some(&intruder), None).await;
    let entries = activity["items"].as_array().unwrap();
    assert!(!entries.is_empty());
    assert!(entries.iter().all(|entry| entry["actor"] == owner_account), "only their owner acted there: {activity}");
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

/// An A2A task made in one workspace is unknown to another's token: get,
/// cancel and list never show it, and the gateway's answers and the
/// dashboards stay apart too.
#[tokio::test]
async fn agent_tasks_and_dashboards_of_another_workspace_are_out_of_reach() {
    let app = spawn_app().await;
    let (_, intruder) = app.other_workspace().await;
    let message = json!({"message": {"messageId": "tenancy-1", "role": "ROLE_USER",
        "parts": [{"text": "status of my active projects"}]}});
    let (status, _, sent) = app.a2a_call("/a2a/navi", Some(&app.token), "SendMessage", message).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let task = sent["result"]["task"]["id"].as_str().expect("a task").to_owned();

    for method in ["GetTask", "CancelTask"] {
        let (_, _, reply) = app.a2a_call("/a2a/navi", Some(&intruder), method, json!({"id": task})).await;
        assert_eq!(reply["error"]["code"], -32001, "{method}: TaskNotFound, as for any unknown id: {reply}");
    }
    let (_, _, listed) = app.a2a_call("/a2a/navi", Some(&intruder), "ListTasks", json!({})).await;
    assert_eq!(listed["result"]["tasks"], json!([]), "{listed}");
    let (_, _, mine) = app.a2a_call("/a2a/navi", Some(&app.token), "GetTask", json!({"id": task})).await;
    assert_eq!(mine["result"]["id"], task.as_str(), "still there for its owner: {mine}");

    // The demo owner's dashboard gets the answer; the other workspace's owner has none.
    let (status, _) = app.post("/api/ask", &json!({"question": "workspace overview"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.request(Method::GET, "/api/dashboard/state", Some(&intruder), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // Their own question is answered from their own data: one project, no demo names.
    let (status, answer) = app
        .request(Method::POST, "/api/ask", Some(&intruder), Some(&json!({"question": "status of my active projects"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let titles: Vec<&Value> = answer["widgets"].as_array().unwrap().iter().map(|widget| &widget["title"]).collect();
    assert_eq!(titles, [&json!("Their project")], "{answer}");
}

/// A member of another workspace on the sync socket: it hears nothing of the
/// demo workspace's commits, and its patches land in its own dashboard only.
#[tokio::test]
async fn the_sync_socket_of_another_workspace_neither_sees_nor_changes_this_one() {
    use std::time::Duration;

    let app = spawn_app().await;
    let (_, intruder) = app.other_workspace().await;
    let theme = |value: &str| json!([{ "op": "replace", "path": "/preferences/theme", "value": value }]);
    let patch_state = |token: &str, ops: Value| {
        app.client
            .patch(format!("{}/api/dashboard/state", app.address))
            .bearer_auth(token.to_owned())
            .header("content-type", "application/json-patch+json")
            .body(ops.to_string())
            .send()
    };
    assert_eq!(patch_state(&app.token, theme("dark")).await.unwrap().status(), StatusCode::OK);

    let mut ours = app.ws_open().await;
    ours.send(&json!({ "t": "sub" })).await;
    let bearer = format!("Bearer {intruder}");
    let mut theirs = app.ws_connect(&[("authorization", &bearer)]).await.expect("their socket opens");
    assert_eq!(theirs.recv().await["t"], "hello");
    theirs.send(&json!({ "t": "sub" })).await;
    let mut their_version = 0;
    for (socket, ours_side) in [(&mut ours, true), (&mut theirs, false)] {
        let snapshot = socket.recv().await;
        assert_eq!(snapshot["t"], "snapshot", "{snapshot}");
        let dark = snapshot["state"]["preferences"]["theme"] == "dark";
        assert_eq!(dark, ours_side, "each sees its own dashboard: {snapshot}");
        their_version = snapshot["v"].as_u64().unwrap_or(0);
        assert_eq!(socket.recv().await["t"], "subscribed");
    }

    // Our commits (REST and socket) reach our socket only.
    assert_eq!(patch_state(&app.token, theme("light")).await.unwrap().status(), StatusCode::OK);
    assert_eq!(ours.recv().await["t"], "delta");
    let alert =
        json!({ "id": "ours", "severity": "info", "message": "demo only", "createdAt": "2026-01-01T00:00:00Z" });
    ours.send(&json!({ "t": "patch", "op": "ours-1", "base": 2, "tab": "tab-a",
        "ops": [{ "op": "add", "path": "/alerts/-", "value": alert }] }))
        .await;
    assert_eq!(ours.recv().await["t"], "ack");
    assert_eq!(theirs.recv_within(Duration::from_millis(500)).await, None, "nothing of the demo workspace");

    // Their patch is acked into their own dashboard; ours neither hears of it nor changes.
    let (_, before) = app.get("/api/dashboard/state").await;
    let intrusion =
        json!({ "id": "theirs", "severity": "error", "message": "intrusion", "createdAt": "2026-01-01T00:00:00Z" });
    theirs
        .send(&json!({ "t": "patch", "op": "theirs-1", "base": their_version, "tab": "tab-x",
            "ops": [{ "op": "add", "path": "/alerts/-", "value": intrusion },
                    { "op": "replace", "path": "/preferences/theme", "value": "system" }] }))
        .await;
    let ack = theirs.recv().await;
    assert_eq!(ack["t"], "ack", "{ack}");
    assert_eq!(ours.recv_within(Duration::from_millis(500)).await, None, "nothing of the other workspace");
    let (_, after) = app.get("/api/dashboard/state").await;
    assert_eq!(after, before, "our dashboard is unchanged");
    assert!(!after.to_string().contains("intrusion"), "{after}");
    let (status, their_state) = app.request(Method::GET, "/api/dashboard/state", Some(&intruder), None).await;
    assert_eq!(status, StatusCode::OK, "{their_state}");
    assert!(their_state.to_string().contains("intrusion"), "their patch landed in their state: {their_state}");
    assert!(!their_state.to_string().contains("demo only"), "{their_state}");
}
