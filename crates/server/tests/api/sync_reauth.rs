//! An open `/api/sync` socket ends when the credential that opened it does:
//! at once on this node for sign-out, sign-out everywhere, token revocation and
//! member removal; within `sync.reauth_interval_secs` for what another process
//! or node did (a disabled account or workspace, a revocation on another node); at its
//! expiry for a JWT. It ends with `goaway {4001, reconnect: false}` and close
//! 4001; a credential that holds keeps its socket open.

use std::time::Duration;

use agentdeck_domain::auth::{Principal, Role};
use agentdeck_server::config::Settings;
use agentdeck_services::auth::TokenService;
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{TestApp, WsClient, spawn_app_on_postgres_with, spawn_app_with};
use crate::sessions::{Signed, login, workspace_of, write};

/// An interval no test waits for: only this node's announcement can end the socket in time.
const LONG: u64 = 3600;

fn interval(secs: u64) -> impl FnOnce(&mut Settings) {
    move |settings| settings.sync.reauth_interval_secs = secs
}

/// A person with a workspace of their own, signed in.
async fn person(app: &TestApp) -> (Signed, String) {
    let email = format!("socket-{}@example.org", Uuid::now_v7().simple());
    workspace_of(app, "Sockets", &email).await;
    (login(app, &email, None).await, email)
}

/// A ticket asked for by the browser's session.
async fn ticket_of(app: &TestApp, browser: &Signed) -> String {
    let (status, body) = write(app, Method::POST, "/api/ws-ticket", browser, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["ticket"].as_str().unwrap().to_owned()
}

/// Opens the socket with a ticket the way a browser does (its Origin, the offer), and reads `hello`.
async fn open_with_ticket(app: &TestApp, ticket: &str) -> WsClient {
    let offer = format!("dash.v1, dash.ticket.{ticket}");
    let mut socket = app
        .ws_connect(&[("origin", app.address.as_str()), ("sec-websocket-protocol", offer.as_str())])
        .await
        .expect("socket opens");
    assert_eq!(socket.recv().await["t"], "hello");
    socket
}

/// Opens the socket with a bearer header (a script or agent), and reads `hello`.
async fn open_with_bearer(app: &TestApp, token: &str) -> WsClient {
    let bearer = format!("Bearer {token}");
    let mut socket = app.ws_connect(&[("authorization", bearer.as_str())]).await.expect("socket opens");
    assert_eq!(socket.recv().await["t"], "hello");
    socket
}

/// The socket says `goaway {4001, reconnect: false}` and closes with 4001.
async fn assert_ended(socket: &mut WsClient) {
    let goaway = socket.recv().await;
    assert_eq!(goaway["t"], "goaway", "{goaway}");
    assert_eq!(goaway["code"], 4001, "{goaway}");
    assert_eq!(goaway["reconnect"], false, "{goaway}");
    assert_eq!(socket.close_code().await, 4001);
}

/// A personal API token (scope `agents`) of the account a JWT names.
async fn agents_token(app: &TestApp, creator: &str) -> (String, String) {
    let body = json!({"name": "agent", "scopes": ["agents"]});
    let (status, created) = app.request(Method::POST, "/api/tokens", Some(creator), Some(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    (created["token"].as_str().unwrap().to_owned(), created["apiToken"]["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_session_socket_ends_at_once_when_its_session_signs_out() {
    let app = spawn_app_with(interval(LONG)).await;
    let (browser, _) = person(&app).await;
    let mut socket = open_with_ticket(&app, &ticket_of(&app, &browser).await).await;
    let unused_ticket = ticket_of(&app, &browser).await;

    let started = std::time::Instant::now();
    let (status, _) = write(&app, Method::POST, "/api/auth/logout", &browser, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_ended(&mut socket).await;
    assert!(started.elapsed() < Duration::from_secs(3), "promptly, not at a re-check: {:?}", started.elapsed());

    // A ticket asked for before the sign-out does not open a socket after it.
    let offer = format!("dash.v1, dash.ticket.{unused_ticket}");
    let refused = app.ws_connect(&[("origin", app.address.as_str()), ("sec-websocket-protocol", offer.as_str())]).await;
    assert_eq!(refused.err().map(|(status, _)| status), Some(401));
}

#[tokio::test]
async fn a_session_socket_ends_when_another_session_signs_out_everywhere() {
    let app = spawn_app_with(interval(LONG)).await;
    let (browser, email) = person(&app).await;
    let other = login(&app, &email, None).await;
    let mut socket = open_with_ticket(&app, &ticket_of(&app, &browser).await).await;

    let (status, _) = write(&app, Method::POST, "/api/auth/logout-all", &other, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_ended(&mut socket).await;
}

#[tokio::test]
async fn a_session_socket_ends_within_the_interval_when_its_account_is_disabled() {
    let app = spawn_app_with(interval(1)).await;
    let email = format!("disabled-{}@example.org", Uuid::now_v7().simple());
    let created = workspace_of(&app, "Sockets", &email).await;
    let browser = login(&app, &email, None).await;
    let mut socket = open_with_ticket(&app, &ticket_of(&app, &browser).await).await;

    // Disabled directly in the store, as the CLI (another process) would: no announcement, only the re-check.
    app.stores.accounts.set_account_disabled(created.owner.id, true, chrono::Utc::now()).await.unwrap();
    assert_ended(&mut socket).await;
}

/// An instance admin disables the workspace: its sockets end at their next
/// re-check, like every request in it is refused at once.
#[tokio::test]
async fn a_socket_ends_within_the_interval_when_its_workspace_is_disabled() {
    use agentdeck_services::accounts::set_instance_admin;

    let app = spawn_app_with(interval(1)).await;
    let email = format!("member-{}@example.org", Uuid::now_v7().simple());
    let created = workspace_of(&app, "Sockets", &email).await;
    let browser = login(&app, &email, None).await;
    let mut socket = open_with_ticket(&app, &ticket_of(&app, &browser).await).await;

    let admin_email = format!("ops-{}@example.org", Uuid::now_v7().simple());
    let ops = workspace_of(&app, "Ops", &admin_email).await;
    set_instance_admin(&app.stores, &admin_email, true).await.unwrap();
    let admin = app.token_for(&Principal {
        subject: ops.owner.id.to_string(),
        workspace_id: ops.workspace.id,
        role: Role::Owner,
    });
    let path = format!("/api/admin/workspaces/{}", created.workspace.id);
    let (status, body) = app.request(Method::PATCH, &path, Some(&admin), Some(&json!({"disabled": true}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_ended(&mut socket).await;
}

#[tokio::test]
async fn a_socket_whose_credential_holds_stays_open_across_several_intervals() {
    let app = spawn_app_with(interval(1)).await;
    let (browser, _) = person(&app).await;
    let mut socket = open_with_ticket(&app, &ticket_of(&app, &browser).await).await;
    // Four intervals: at least four re-checks; `recv_within` fails the test if the socket closes.
    assert_eq!(socket.recv_within(Duration::from_secs(4)).await, None);
    socket.send(&json!({"t": "sub"})).await;
    assert_eq!(socket.recv().await["t"], "snapshot", "still served after the re-checks");
}

#[tokio::test]
async fn an_api_token_socket_ends_at_once_when_the_token_is_revoked() {
    let app = spawn_app_with(interval(LONG)).await;
    let (_, owner) = app.other_workspace().await;
    let (token, id) = agents_token(&app, &owner).await;
    let mut socket = open_with_bearer(&app, &token).await;

    let (status, _) = app.request(Method::DELETE, &format!("/api/tokens/{id}"), Some(&owner), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_ended(&mut socket).await;
}

#[tokio::test]
async fn a_removed_member_socket_ends_at_once() {
    let app = spawn_app_with(interval(LONG)).await;
    let (workspace_id, owner) = app.other_workspace().await;
    // A second person in that workspace, with a token to open a socket.
    let email = format!("member-{}@example.org", Uuid::now_v7().simple());
    let account = agentdeck_domain::records::NewAccount { email, display_name: "Grace".into() }
        .into_account(None, agentdeck_domain::records::stored_precision(chrono::Utc::now()))
        .unwrap();
    app.stores.accounts.insert_account(&account).await.unwrap();
    let body = json!({"userId": account.id.to_string(), "displayName": "Grace", "role": "member"});
    let (status, member) = app.request(Method::POST, "/api/members", Some(&owner), Some(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{member}");
    let member_jwt = app.token_for(&Principal { subject: account.id.to_string(), workspace_id, role: Role::Member });
    let (token, _) = agents_token(&app, &member_jwt).await;
    let mut socket = open_with_bearer(&app, &token).await;

    let path = format!("/api/members/{}", member["id"].as_str().unwrap());
    let (status, _) = app.request(Method::DELETE, &path, Some(&owner), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_ended(&mut socket).await;
}

/// Two nodes on one PostgreSQL and one Redis: a ticket node A issued for an
/// API token opens a socket on node B; the token revoked on node A ends that
/// socket at node B's next re-check (no cross-node push).
#[tokio::test]
async fn an_api_token_socket_on_another_node_ends_within_the_interval_after_revocation() {
    let node_a = spawn_app_on_postgres_with(&agentdeck_storage::testing::redis_url(), interval(1)).await;
    let (database_url, redis_url) = (node_a.settings.database_url.clone(), node_a.settings.redis_url.clone());
    let node_b = spawn_app_with(|settings| {
        settings.database_url = database_url;
        settings.redis_url = redis_url;
        settings.sync.reauth_interval_secs = 1;
    })
    .await;
    let (_, owner) = node_a.other_workspace().await;
    let (token, id) = agents_token(&node_a, &owner).await;
    let (status, ticket) = node_a.request(Method::POST, "/api/ws-ticket", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{ticket}");
    let mut socket = open_with_ticket(&node_b, ticket["ticket"].as_str().unwrap()).await;

    let (status, _) = node_a.request(Method::DELETE, &format!("/api/tokens/{id}"), Some(&owner), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_ended(&mut socket).await;
}

#[tokio::test]
async fn a_jwt_socket_ends_at_the_tokens_expiry() {
    let app = spawn_app_with(interval(LONG)).await;
    let owner = Principal { subject: "script".into(), workspace_id: app.workspace_id, role: Role::Admin };
    let keys = app.settings.token_keys().unwrap();
    // `exp` is whole seconds: three from now is two to three seconds away.
    let jwt = TokenService::new(keys).issue(&owner, Duration::from_secs(3), chrono::Utc::now()).unwrap();
    let started = std::time::Instant::now();
    let mut socket = open_with_bearer(&app, &jwt).await;
    assert_ended(&mut socket).await;
    let lived = started.elapsed();
    assert!(lived >= Duration::from_millis(1500) && lived < Duration::from_secs(5), "ended at exp: {lived:?}");
}
