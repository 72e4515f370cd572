//! `/api/workspace`: any member reads the workspace, only an owner renames it.

use agentdeck_domain::auth::{Principal, Role};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{error_code, spawn_app};

#[tokio::test]
async fn an_owner_renames_the_workspace_and_the_others_may_only_read_it() {
    let app = spawn_app().await;
    let (status, workspace) = app.get("/api/workspace").await;
    assert_eq!(status, StatusCode::OK, "{workspace}");
    assert_eq!((&workspace["id"], &workspace["name"]), (&json!(app.workspace_id), &json!("Demo Workspace")));
    assert_eq!(workspace["disabled"], false);

    let (status, renamed) = app.patch("/api/workspace", &json!({"name": "  Launch Team  "})).await;
    assert_eq!((status, &renamed["name"]), (StatusCode::OK, &json!("Launch Team")), "{renamed}");
    assert_eq!(app.get("/api/workspace").await.1["name"], "Launch Team");

    // An admin and a member read it but may not rename it.
    for role in [Role::Admin, Role::Member] {
        let token = app.token_for(&Principal { subject: "sofia".into(), workspace_id: app.workspace_id, role });
        let (status, body) =
            app.request(Method::PATCH, "/api/workspace", Some(&token), Some(&json!({"name": "Mine"}))).await;
        assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "forbidden"), "{role:?}: {body}");
        let (status, _) = app.request(Method::GET, "/api/workspace", Some(&token), None).await;
        assert_eq!(status, StatusCode::OK);
    }

    // Bad names are 422 naming the field; nothing changes.
    for body in [json!({"name": "   "}), json!({"name": "x".repeat(201)}), json!({"name": "a", "extra": 1}), json!({})]
    {
        let (status, error) = app.patch("/api/workspace", &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {error}");
    }
    let (_, error) = app.patch("/api/workspace", &json!({"name": "   "})).await;
    assert_eq!(error["error"]["details"][0]["path"], "/name", "{error}");
    assert_eq!(app.get("/api/workspace").await.1["name"], "Launch Team");

    // Another workspace's owner renames only their own.
    let (other, token) = app.other_workspace().await;
    let (status, body) =
        app.request(Method::PATCH, "/api/workspace", Some(&token), Some(&json!({"name": "Theirs"}))).await;
    assert_eq!((status, &body["id"]), (StatusCode::OK, &json!(other)), "{body}");
    assert_eq!(app.get("/api/workspace").await.1["name"], "Launch Team");
}
