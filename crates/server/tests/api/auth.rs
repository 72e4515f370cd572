//! Bearer tokens at the edge: every failure is a 401 JSON error.

use agentdeck_domain::auth::{Principal, Role};
use agentdeck_services::auth::{TokenKeys, TokenService};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, StatusCode};
use uuid::Uuid;

use crate::helpers::{error_code, spawn_app, spawn_app_with};

#[tokio::test]
async fn dev_login_returns_a_working_token() {
    let app = spawn_app().await;
    let (status, login) = app.request(Method::POST, "/api/dev/login", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(login["user"]["id"], "demo");
    assert_eq!(login["user"]["role"], "owner");
    assert_eq!(login["workspace"]["name"], "Demo Workspace");
    let token = login["token"].as_str().unwrap();
    let (status, _) = app.request(Method::GET, "/api/projects", Some(token), None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn dev_login_refuses_a_dns_rebound_host_or_a_foreign_origin() {
    let app = spawn_app().await;
    let port = app.address.rsplit(':').next().expect("a port");
    let login = |host: String, origin: Option<&'static str>| {
        let mut request = app.client.post(format!("{}/api/dev/login", app.address)).header("host", host);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    let rebound = login(format!("evil.example:{port}"), None).await.expect("answer");
    assert_eq!(rebound.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = rebound.json().await.expect("JSON error");
    assert_eq!(error_code(&body), "forbidden", "{body}");
    let foreign = login(format!("127.0.0.1:{port}"), Some("https://evil.example")).await.expect("answer");
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);

    // Loopback names are this server in dev mode, with or without a page's Origin.
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        assert_eq!(login(host, Some("http://localhost:5173")).await.expect("answer").status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn every_bad_token_is_a_401_json_error() {
    let app = spawn_app().await;
    let demo = Principal { subject: "demo".into(), workspace_id: app.workspace_id, role: Role::Owner };
    let expired = TokenService::new(app.settings.token_keys().unwrap())
        .issue(&demo, std::time::Duration::from_secs(60), chrono::Utc::now() - chrono::Duration::hours(2))
        .unwrap();
    let wrong_key = TokenService::new(TokenKeys::default().with_hs256_secret(&[9u8; 32]).unwrap())
        .issue(&demo, std::time::Duration::from_secs(600), chrono::Utc::now())
        .unwrap();
    let unknown_workspace = app.token_for(&Principal { workspace_id: Uuid::now_v7(), ..demo.clone() });
    // Same signature, altered claims.
    let parts: Vec<&str> = app.token.split('.').collect();
    let mut claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = "someone-else".into();
    let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims.to_string()), parts[2]);

    let cases: [(&str, Option<&str>, &str); 6] = [
        ("missing", None, "missing bearer token"),
        ("garbled", Some("not-a-jwt"), "malformed"),
        ("expired", Some(&expired), "expired"),
        ("wrong signature", Some(&wrong_key), "signature"),
        ("tampered", Some(&tampered), "signature"),
        ("unknown workspace", Some(&unknown_workspace), "unknown workspace"),
    ];
    for (name, token, message) in cases {
        let response = app
            .client
            .get(format!("{}/api/projects", app.address))
            .header("authorization", token.map(|token| format!("Bearer {token}")).unwrap_or_default())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{name}");
        assert!(response.headers().contains_key("www-authenticate"), "{name}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), "unauthorized", "{name}");
        assert!(body["error"]["message"].as_str().unwrap().contains(message), "{name}: {body}");
    }
}

#[tokio::test]
async fn dev_login_is_absent_when_disabled() {
    let app = spawn_app_with(|settings| settings.auth.dev_login = Some(false)).await;
    let (status, body) = app.request(Method::POST, "/api/dev/login", None, None).await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "not_found"));
}

#[tokio::test]
async fn members_cannot_manage_members() {
    let app = spawn_app().await;
    let member =
        app.token_for(&Principal { subject: "sofia".into(), workspace_id: app.workspace_id, role: Role::Member });
    let body = serde_json::json!({"userId": "newbie", "displayName": "New Person"});
    let (status, error) = app.request(Method::POST, "/api/members", Some(&member), Some(&body)).await;
    assert_eq!((status, error_code(&error)), (StatusCode::FORBIDDEN, "forbidden"));
    let (status, _) = app.post("/api/members", &body).await;
    assert_eq!(status, StatusCode::CREATED, "the owner may");
}

#[tokio::test]
async fn the_last_owner_stays() {
    let app = spawn_app().await;
    let (_, login) = app.request(Method::POST, "/api/dev/login", None, None).await;
    let owner_member = login["user"]["memberId"].as_str().unwrap();
    let path = format!("/api/members/{owner_member}");
    let (status, error) = app.patch(&path, &serde_json::json!({"role": "admin"})).await;
    assert_eq!((status, error_code(&error)), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"), "{error}");
    assert_eq!(error["error"]["details"][0]["path"], "/role");
    let (status, _) = app.request(Method::DELETE, &path, Some(&app.token), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // An admin may not touch owners at all.
    let admin =
        app.token_for(&Principal { subject: "priya".into(), workspace_id: app.workspace_id, role: Role::Admin });
    let (status, _) = app.request(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // With a second owner, the first may step down.
    let (status, second) = app
        .post("/api/members", &serde_json::json!({"userId": "co-owner", "displayName": "Co Owner", "role": "owner"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let (status, changed) = app.patch(&path, &serde_json::json!({"role": "admin"})).await;
    assert_eq!((status, &changed["role"]), (StatusCode::OK, &serde_json::json!("admin")));
}

/// A workspace an instance admin disabled (`agentdeck workspace disable`) is
/// refused with 403 on every edge: REST, tickets, the socket and A2A; the
/// other workspaces are not affected, and enabling it again lets it back in.
#[tokio::test]
async fn a_disabled_workspace_is_refused_on_every_edge_and_others_are_not() {
    let app = spawn_app().await;
    let (other, token) = app.other_workspace().await;
    agentdeck_services::accounts::set_workspace_disabled(&app.stores, other, true).await.expect("disabled");

    let (status, body) = app.request(Method::GET, "/api/projects", Some(&token), None).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "forbidden"), "{body}");
    assert_eq!(body["error"]["message"], "this workspace is disabled");
    let (status, body) = app.request(Method::POST, "/api/ws-ticket", Some(&token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let bearer = format!("Bearer {token}");
    let refused = app.ws_connect(&[("authorization", &bearer)]).await.err().expect("the socket is refused");
    assert_eq!(refused.0, 403, "{:?}", refused.1);
    let (status, _, body) = app.a2a_call("/a2a/navi", Some(&token), "ListTasks", serde_json::json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // The demo workspace is not affected.
    let (status, _) = app.get("/api/projects").await;
    assert_eq!(status, StatusCode::OK);

    agentdeck_services::accounts::set_workspace_disabled(&app.stores, other, false).await.expect("enabled");
    let (status, body) = app.request(Method::GET, "/api/projects", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
