//! API tokens for scripts and agents: created by people (the text shown once),
//! listed without their secrets, revoked at once on every node, scoped
//! (read, write, agents), expiring, and acting with their account's current
//! membership.

use std::time::Duration;

use agentdeck_domain::api_tokens::{ApiToken, Scope, TokenKind, display_prefix, generate_token};
use agentdeck_domain::auth::{Principal, Role};
use agentdeck_domain::records::{NewAccount, stored_precision};
use agentdeck_services::api_tokens::digest;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, error_code, spawn_app, spawn_app_on_postgres, spawn_app_with};

/// Creates a token through `path` (`/api/tokens` or `/api/workspace/service-tokens`) as `creator`.
async fn create(app: &TestApp, path: &str, creator: &str, body: Value) -> (String, Value) {
    let (status, created) = app.request(Method::POST, path, Some(creator), Some(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    (created["token"].as_str().expect("token text").to_owned(), created["apiToken"].clone())
}

/// A personal token of `creator` with these scopes.
async fn personal(app: &TestApp, creator: &str, scopes: &[&str]) -> (String, Value) {
    create(app, "/api/tokens", creator, json!({"name": "script", "scopes": scopes})).await
}

/// A real token text nobody stored (random from two v4 uuids).
fn fresh_token(kind: TokenKind) -> String {
    generate_token(kind, |buffer: &mut [u8]| {
        for chunk in buffer.chunks_mut(16) {
            let random = Uuid::new_v4();
            chunk.copy_from_slice(&random.as_bytes()[..chunk.len()]);
        }
        Ok::<(), ()>(())
    })
    .unwrap()
}

/// An account that is a member of the demo workspace with `role` (added by the
/// demo owner through the API), its member id and a JWT of it.
async fn demo_member_account(app: &TestApp, role: &str) -> (Uuid, Uuid, String) {
    let email = format!("member-{}@example.org", Uuid::now_v7());
    let account = NewAccount { email, display_name: "Grace".into() }
        .into_account(None, stored_precision(chrono::Utc::now()))
        .expect("account");
    app.stores.accounts.insert_account(&account).await.expect("stored");
    let body = json!({"userId": account.id.to_string(), "displayName": "Grace", "role": role});
    let (status, member) = app.post("/api/members", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{member}");
    let role = Role::parse(role).expect("role");
    let jwt = app.token_for(&Principal { subject: account.id.to_string(), workspace_id: app.workspace_id, role });
    (account.id, member["id"].as_str().expect("member id").parse().expect("uuid"), jwt)
}

#[tokio::test]
async fn a_personal_token_is_shown_once_listed_without_secrets_and_revoked() {
    let app = spawn_app().await;
    let (workspace, owner) = app.other_workspace().await;
    let (token, record) = personal(&app, &owner, &["read", "write"]).await;

    assert!(token.starts_with("adk_pat_") && token.len() == 46, "{token}");
    assert_eq!(record["prefix"], display_prefix(&token));
    assert_eq!((&record["kind"], &record["scopes"]), (&json!("personal"), &json!(["read", "write"])));
    assert_eq!(record["workspaceId"], workspace.to_string(), "the creator's current workspace");
    assert_eq!(record["lastUsedAt"], Value::Null);
    let expires: chrono::DateTime<chrono::Utc> = record["expiresAt"].as_str().unwrap().parse().unwrap();
    let days = (expires - chrono::Utc::now()).num_hours() as f64 / 24.0;
    assert!((89.9..=90.0).contains(&days), "default lifetime 90 days: {days}");

    // It acts as its account in that workspace.
    let (status, projects) = app.request(Method::GET, "/api/projects", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{projects}");
    assert_eq!(projects["items"][0]["name"], "Their project");

    // Listed (with its last use), never with the text or the digest.
    let (status, list) = app.request(Method::GET, "/api/tokens", Some(&owner), None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["id"], record["id"]);
    assert!(items[0]["lastUsedAt"].is_string(), "the use was recorded: {list}");
    let text = list.to_string();
    assert!(!text.contains(&token) && !text.contains(&digest(&token)) && !text.contains("digest"), "{text}");

    // Revoked: refused on the next request, gone from the list, not revocable twice.
    let id = record["id"].as_str().unwrap();
    let (status, _) = app.request(Method::DELETE, &format!("/api/tokens/{id}"), Some(&owner), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, refused) = app.request(Method::GET, "/api/projects", Some(&token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{refused}");
    assert_eq!(error_code(&refused), "unauthorized");
    let (_, list) = app.request(Method::GET, "/api/tokens", Some(&owner), None).await;
    assert_eq!(list["items"], json!([]));
    let (status, again) = app.request(Method::DELETE, &format!("/api/tokens/{id}"), Some(&owner), None).await;
    assert_eq!((status, error_code(&again)), (StatusCode::NOT_FOUND, "not_found"), "{again}");
}

#[tokio::test]
async fn another_accounts_token_cannot_be_seen_or_revoked() {
    let app = spawn_app().await;
    let (_, ada) = app.other_workspace().await;
    let (_, bob) = app.other_workspace().await;
    let (token, record) = personal(&app, &ada, &["read"]).await;
    let (_, bobs_list) = app.request(Method::GET, "/api/tokens", Some(&bob), None).await;
    assert_eq!(bobs_list["items"], json!([]));
    let path = format!("/api/tokens/{}", record["id"].as_str().unwrap());
    let (status, _) = app.request(Method::DELETE, &path, Some(&bob), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.request(Method::GET, "/api/projects", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "still valid");
}

#[tokio::test]
async fn scopes_are_enforced_per_route_class() {
    let app = spawn_app().await;
    let (_, owner) = app.other_workspace().await;
    let (read, _) = personal(&app, &owner, &["read"]).await;
    let (write, _) = personal(&app, &owner, &["write"]).await;

    let (status, _) = app.request(Method::GET, "/api/projects", Some(&read), None).await;
    assert_eq!(status, StatusCode::OK);
    let new_project = json!({"name": "From a script"});
    let (status, refused) = app.request(Method::POST, "/api/projects", Some(&read), Some(&new_project)).await;
    assert_eq!((status, error_code(&refused)), (StatusCode::FORBIDDEN, "forbidden"), "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("`write` scope"), "{refused}");

    let (status, created) = app.request(Method::POST, "/api/projects", Some(&write), Some(&new_project)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, refused) = app.request(Method::GET, "/api/projects", Some(&write), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(refused["error"]["message"].as_str().unwrap().contains("`read` scope"), "{refused}");

    // Without `agents`: no A2A, no sync socket, no ticket for one.
    let message = json!({"message": {"messageId": "scope-1", "role": "ROLE_USER", "parts": [{"text": "status"}]}});
    for token in [&read, &write] {
        let (status, _, refused) = app.a2a_call("/a2a/navi", Some(token), "SendMessage", message.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
        assert!(refused["error"]["message"].as_str().unwrap().contains("`agents` scope"), "{refused}");
        let (status, _) = app.request(Method::POST, "/api/ws-ticket", Some(token), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let bearer = format!("Bearer {token}");
        let (status, refused) = app.ws_connect(&[("authorization", &bearer)]).await.err().expect("refused");
        assert_eq!(status, 403, "{refused}");
    }

    // `write` covers asking the gateway, whose agent calls then work without `agents`.
    let (status, answer) =
        app.request(Method::POST, "/api/ask", Some(&write), Some(&json!({"question": "workspace overview"}))).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let reports = answer["agents"].as_object().unwrap();
    assert!(!reports.is_empty() && reports.values().all(|report| report["ok"] == true), "{answer}");
}

#[tokio::test]
async fn an_agents_scoped_service_token_calls_agents_and_opens_the_socket() {
    let app = spawn_app().await;
    let (workspace, owner) = app.other_workspace().await;
    let body = json!({"name": "navi bot", "scopes": ["agents"], "expiresInDays": 7});
    let (token, record) = create(&app, "/api/workspace/service-tokens", &owner, body).await;
    assert!(token.starts_with("adk_svc_"), "{token}");
    assert_eq!((&record["kind"], &record["accountId"]), (&json!("service"), &Value::Null));

    let message = json!({"message": {"messageId": "svc-1", "role": "ROLE_USER",
        "parts": [{"text": "status of my active projects"}]}});
    let (status, _, sent) = app.a2a_call("/a2a/navi", Some(&token), "SendMessage", message).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let task = sent["result"]["task"]["id"].as_str().expect("a task").to_owned();
    // The task is of the token's workspace: the token reads it back, the demo workspace does not see it.
    let (_, _, seen) = app.a2a_call("/a2a/navi", Some(&token), "GetTask", json!({"id": task})).await;
    assert_eq!(seen["result"]["id"], task.as_str(), "{seen}");
    let (_, _, foreign) = app.a2a_call("/a2a/navi", Some(&app.token), "GetTask", json!({"id": task})).await;
    assert_eq!(foreign["error"]["code"], -32001, "{foreign}");
    assert!(!sent.to_string().contains("Website Redesign"), "no demo data in another workspace: {sent}");

    let bearer = format!("Bearer {token}");
    let mut socket = app.ws_connect(&[("authorization", &bearer)]).await.expect("the socket opens");
    assert_eq!(socket.recv().await["t"], "hello");

    // Its principal is role `service`: it may not manage service tokens, nor have personal ones.
    let (status, _) = app.request(Method::GET, "/api/projects", Some(&token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no `read` scope");
    let (_, listed) = app.request(Method::GET, "/api/workspace/service-tokens", Some(&owner), None).await;
    assert_eq!(listed["items"][0]["id"], record["id"], "{listed}");
    assert_eq!(listed["items"][0]["workspaceId"], workspace.to_string());
    let (_, personal_list) = app.request(Method::GET, "/api/tokens", Some(&owner), None).await;
    assert_eq!(personal_list["items"], json!([]), "service tokens are not personal ones");
}

#[tokio::test]
async fn only_people_create_tokens_and_only_owners_and_admins_service_tokens() {
    let app = spawn_app().await;
    let (workspace, owner) = app.other_workspace().await;
    let (token, _) = personal(&app, &owner, &["read", "write"]).await;
    let body = json!({"name": "successor", "scopes": ["read"]});
    for path in ["/api/tokens", "/api/workspace/service-tokens"] {
        let (status, refused) = app.request(Method::POST, path, Some(&token), Some(&body)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {refused}");
        assert!(refused["error"]["message"].as_str().unwrap().contains("cannot create tokens"), "{refused}");
    }

    // A JWT of a service is no person: no personal tokens.
    let service_jwt =
        app.token_for(&Principal { subject: "ci-runner".into(), workspace_id: workspace, role: Role::Service });
    let (status, _) = app.request(Method::POST, "/api/tokens", Some(&service_jwt), Some(&body)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.request(Method::POST, "/api/workspace/service-tokens", Some(&service_jwt), Some(&body)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A member may hold personal tokens but not manage service tokens; an admin may.
    let (_, _, member) = demo_member_account(&app, "member").await;
    personal(&app, &member, &["read"]).await;
    for method in [Method::GET, Method::POST] {
        let body = (method == Method::POST).then_some(&body);
        let (status, _) = app.request(method.clone(), "/api/workspace/service-tokens", Some(&member), body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method}");
    }
    let (_, _, admin) = demo_member_account(&app, "admin").await;
    create(&app, "/api/workspace/service-tokens", &admin, body.clone()).await;

    // Bad input: no scope, an unknown scope, an empty name.
    for bad in [
        json!({"name": "x", "scopes": []}),
        json!({"name": "x", "scopes": ["root"]}),
        json!({"name": " ", "scopes": ["read"]}),
    ] {
        let (status, refused) = app.request(Method::POST, "/api/tokens", Some(&owner), Some(&bad)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {refused}");
    }
}

#[tokio::test]
async fn a_lifetime_over_the_maximum_is_refused_naming_it() {
    let app = spawn_app_with(|settings| {
        settings.tokens.max_lifetime_days = 30;
        settings.tokens.default_lifetime_days = 10;
    })
    .await;
    let (_, owner) = app.other_workspace().await;
    for days in [31, 0] {
        let body = json!({"name": "long", "scopes": ["read"], "expiresInDays": days});
        let (status, refused) = app.request(Method::POST, "/api/tokens", Some(&owner), Some(&body)).await;
        assert_eq!((status, error_code(&refused)), (StatusCode::BAD_REQUEST, "bad_request"), "{refused}");
        assert!(refused["error"]["message"].as_str().unwrap().contains("30"), "{refused}");
    }
    let (_, record) =
        create(&app, "/api/tokens", &owner, json!({"name": "ok", "scopes": ["read"], "expiresInDays": 30})).await;
    let expires: chrono::DateTime<chrono::Utc> = record["expiresAt"].as_str().unwrap().parse().unwrap();
    assert_eq!((expires - chrono::Utc::now()).num_days(), 29, "30 days less the moments since");
    let (_, record) = personal(&app, &owner, &["read"]).await;
    let expires: chrono::DateTime<chrono::Utc> = record["expiresAt"].as_str().unwrap().parse().unwrap();
    assert_eq!((expires - chrono::Utc::now()).num_days(), 9, "the configured default");
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = spawn_app().await;
    let (_, owner) = app.other_workspace().await;
    let (valid, record) = personal(&app, &owner, &["read"]).await;
    // An expired twin written through the store, with a real token text.
    let text = fresh_token(TokenKind::Personal);
    let now = stored_precision(chrono::Utc::now());
    let expired = ApiToken {
        id: Uuid::now_v7(),
        kind: TokenKind::Personal,
        workspace_id: record["workspaceId"].as_str().unwrap().parse().unwrap(),
        account_id: Some(record["accountId"].as_str().unwrap().parse().unwrap()),
        name: "old".into(),
        scopes: [Scope::Read].into_iter().collect(),
        prefix: display_prefix(&text),
        created_by: "test".into(),
        created_at: now - chrono::Duration::days(2),
        expires_at: now - chrono::Duration::seconds(1),
        last_used_at: None,
        revoked_at: None,
    };
    app.stores.api_tokens.insert_api_token(&expired, &digest(&text)).await.unwrap();
    let (status, refused) = app.request(Method::GET, "/api/projects", Some(&text), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("expired"), "{refused}");
    let (status, _) = app.request(Method::GET, "/api/projects", Some(&valid), None).await;
    assert_eq!(status, StatusCode::OK);

    // A mistyped token (bad checksum) and an unknown well-formed one are 401 too.
    let mut mistyped = valid.clone();
    let last = mistyped.pop().unwrap();
    mistyped.push(if last == 'a' { 'b' } else { 'a' });
    let unknown = fresh_token(TokenKind::Service);
    for (token, says) in [(&mistyped, "checksum"), (&unknown, "unknown")] {
        let (status, refused) = app.request(Method::GET, "/api/projects", Some(token), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{refused}");
        assert!(refused["error"]["message"].as_str().unwrap().contains(says), "{refused}");
    }
}

#[tokio::test]
async fn a_personal_token_acts_with_the_members_current_role_until_removed_or_disabled() {
    let app = spawn_app().await;
    let (account, member_id, admin) = demo_member_account(&app, "admin").await;
    let (token, _) = personal(&app, &admin, &["read", "write"]).await;
    let (status, _) = app.request(Method::GET, "/api/workspace/service-tokens", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "an admin's token may list service tokens");

    // Demoted: the next request has the new role.
    let (status, body) = app.patch(&format!("/api/members/{member_id}"), &json!({"role": "member"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = app.request(Method::GET, "/api/workspace/service-tokens", Some(&token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "now a member");

    // A disabled account is refused, and allowed again once enabled.
    let now = stored_precision(chrono::Utc::now());
    app.stores.accounts.set_account_disabled(account, true, now).await.unwrap();
    let (status, refused) = app.request(Method::GET, "/api/projects", Some(&token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{refused}");
    app.stores.accounts.set_account_disabled(account, false, now).await.unwrap();
    let (status, _) = app.request(Method::GET, "/api/projects", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);

    // Removed from the workspace: refused.
    let (status, _) = app.request(Method::DELETE, &format!("/api/members/{member_id}"), Some(&app.token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, refused) = app.request(Method::GET, "/api/projects", Some(&token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("no longer a member"), "{refused}");
}

#[tokio::test]
async fn last_use_is_recorded_at_most_once_a_minute() {
    let app = spawn_app().await;
    let (_, owner) = app.other_workspace().await;
    let (token, record) = personal(&app, &owner, &["read"]).await;
    let last_used = || async {
        let (_, list) = app.request(Method::GET, "/api/tokens", Some(&owner), None).await;
        list["items"][0]["lastUsedAt"].clone()
    };
    assert_eq!(last_used().await, Value::Null);
    app.request(Method::GET, "/api/projects", Some(&token), None).await;
    let first = last_used().await;
    assert!(first.is_string(), "{first}");
    tokio::time::sleep(Duration::from_millis(20)).await;
    for _ in 0..3 {
        app.request(Method::GET, "/api/projects", Some(&token), None).await;
    }
    assert_eq!(last_used().await, first, "uses within a minute write nothing");
    let listed = app
        .stores
        .api_tokens
        .list_api_tokens(
            agentdeck_storage::TokenOwner::Account(record["accountId"].as_str().unwrap().parse().unwrap()),
            agentdeck_domain::page::PageRequest::first(5),
        )
        .await
        .unwrap();
    let first: chrono::DateTime<chrono::Utc> = first.as_str().unwrap().parse().unwrap();
    assert_eq!(listed.items[0].last_used_at, Some(first), "the store holds the one recorded use");
}

/// Two servers on one PostgreSQL database (and one Redis): a token works on
/// both; revoked on one, it is refused by the other on the next request.
#[tokio::test]
async fn a_revoked_token_is_refused_at_once_on_another_node() {
    let node_a = spawn_app_on_postgres().await;
    let database_url = node_a.settings.database_url.clone();
    let redis_url = node_a.settings.redis_url.clone();
    let node_b = spawn_app_with(|settings| {
        settings.database_url = database_url;
        settings.redis_url = redis_url;
    })
    .await;
    let (_, owner_on_a) = node_a.other_workspace().await;
    let (token, record) = personal(&node_a, &owner_on_a, &["read"]).await;
    for node in [&node_a, &node_b] {
        let (status, projects) = node.request(Method::GET, "/api/projects", Some(&token), None).await;
        assert_eq!(status, StatusCode::OK, "{projects}");
        assert_eq!(projects["items"][0]["name"], "Their project");
    }
    let path = format!("/api/tokens/{}", record["id"].as_str().unwrap());
    let (status, _) = node_a.request(Method::DELETE, &path, Some(&owner_on_a), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, refused) = node_b.request(Method::GET, "/api/projects", Some(&token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "node B refuses the revoked token at once: {refused}");
    let (status, _) = node_a.request(Method::GET, "/api/projects", Some(&token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// A person signed in with a session cookie creates and revokes a token (the
/// cookie's CSRF rule applies as to any write); both are in the auth log,
/// which never holds the token text.
#[tokio::test]
async fn a_signed_in_person_makes_a_token_and_the_auth_log_records_it() {
    use crate::sessions::{Signed, login, workspace_of};

    let app = spawn_app().await;
    let email = format!("tokens-{}@example.org", Uuid::now_v7().simple());
    let created = workspace_of(&app, "Scripts", &email).await;
    let Signed { cookie, csrf, .. } = login(&app, &email, None).await;
    let with_session = |method: Method, path: &str| {
        app.client
            .request(method, format!("{}{path}", app.address))
            .header("cookie", &cookie)
            .header("origin", &app.address)
            .header("x-csrf-token", &csrf)
    };

    let response = with_session(Method::POST, "/api/tokens")
        .json(&json!({"name": "cli", "scopes": ["read"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    let token = body["token"].as_str().unwrap().to_owned();
    let id = body["apiToken"]["id"].as_str().unwrap().to_owned();
    assert_eq!(body["apiToken"]["workspaceId"], created.workspace.id.to_string(), "the session's workspace");

    // The token is the person: /api/me names the account and says how it was proved.
    let (status, me) = app.request(Method::GET, "/api/me", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!((&me["credential"], &me["account"]["id"]), (&json!("api_token"), &json!(created.owner.id.to_string())));

    // A session asks the gateway too: its agent calls carry a JWT minted for the person.
    let response =
        with_session(Method::POST, "/api/ask").json(&json!({"question": "workspace overview"})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    let reports = answer["agents"].as_object().unwrap();
    assert!(!reports.is_empty() && reports.values().all(|report| report["ok"] == true), "{answer}");

    let response = with_session(Method::DELETE, &format!("/api/tokens/{id}")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (status, _) = app.request(Method::GET, "/api/projects", Some(&token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let log = app.stores.auth_log.list_auth_events(agentdeck_domain::page::PageRequest::first(50)).await.unwrap();
    let of_token: Vec<_> =
        log.items.iter().filter(|event| event.detail.as_deref().is_some_and(|detail| detail.contains(&id))).collect();
    let kinds: Vec<&str> = of_token.iter().map(|event| event.kind.as_str()).collect();
    assert_eq!(kinds, ["token_revoked", "token_created"], "newest first: {log:?}");
    for event in of_token {
        assert_eq!(event.account_id, Some(created.owner.id));
        assert_eq!(event.workspace_id, Some(created.workspace.id));
        assert!(event.client_address.is_some());
    }
    assert!(!format!("{log:?}").contains(&token), "the auth log never holds a token");
}
