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

/// `/api/admin/workspaces`: only an enabled instance admin's account lists and
/// disables workspaces; disabling takes effect at once on this node.
#[tokio::test]
async fn an_instance_admin_lists_and_disables_workspaces_and_nobody_else_may() {
    use agentdeck_services::accounts::{NewWorkspace, create_workspace, set_instance_admin};

    let app = spawn_app().await;
    let input = NewWorkspace { name: "Ops".into(), owner_email: "ops@example.org".into(), owner_name: None };
    let created =
        create_workspace(&app.stores, input, || Ok("a long enough passphrase".into())).await.expect("created");
    let principal =
        Principal { subject: created.owner.id.to_string(), workspace_id: created.workspace.id, role: Role::Owner };
    let ops = app.token_for(&principal);

    // Neither the demo owner (no account) nor an account without the flag may.
    for token in [&app.token, &ops] {
        let (status, body) = app.request(Method::GET, "/api/admin/workspaces", Some(token), None).await;
        assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "forbidden"), "{body}");
    }

    set_instance_admin(&app.stores, "ops@example.org", true).await.expect("admin");
    let (status, page) = app.request(Method::GET, "/api/admin/workspaces", Some(&ops), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let demo_members = app.get("/api/members").await.1["items"].as_array().map_or(0, Vec::len);
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{page}");
    assert_eq!((&items[0]["name"], &items[0]["members"]), (&json!("Ops"), &json!(1)), "newest first: {page}");
    assert_eq!((&items[1]["id"], &items[1]["members"]), (&json!(app.workspace_id), &json!(demo_members)));

    // Disable the demo workspace: its token (already used, so remembered) is refused at once.
    let path = format!("/api/admin/workspaces/{}", app.workspace_id);
    let (status, body) = app.request(Method::PATCH, &path, Some(&ops), Some(&json!({"disabled": true}))).await;
    assert_eq!((status, &body["disabled"]), (StatusCode::OK, &json!(true)), "{body}");
    let (status, body) = app.get("/api/projects").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = app.request(Method::PATCH, &path, Some(&ops), Some(&json!({"disabled": false}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.get("/api/projects").await.0, StatusCode::OK);

    // Bad input and unknown ids.
    let (status, _) = app.request(Method::PATCH, &path, Some(&ops), Some(&json!({"disabled": "yes"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = format!("/api/admin/workspaces/{}", uuid::Uuid::now_v7());
    let (status, _) = app.request(Method::PATCH, &unknown, Some(&ops), Some(&json!({"disabled": true}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A disabled admin account may no longer: its tokens stop working altogether (401).
    app.stores.accounts.set_account_disabled(created.owner.id, true, chrono::Utc::now()).await.expect("disabled");
    let (status, _) = app.request(Method::GET, "/api/admin/workspaces", Some(&ops), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
