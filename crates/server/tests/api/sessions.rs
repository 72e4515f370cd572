//! Sign-in and sessions of people: the cookie's flags in dev and production,
//! rotation, sign-out (one and everywhere), idle and absolute timeouts, the
//! CSRF rule (also against a real cross-site form post in Chromium), equal
//! answers and timing for unknown emails, wrong passwords and disabled
//! accounts, the per-email lockout and the per-address limit, the auth log,
//! switching workspaces, a disabled account, and a second node.

use std::time::{Duration, Instant};

use agentdeck_server::config::{Mode, Settings};
use agentdeck_services::accounts::{CreatedWorkspace, NewWorkspace, create_workspace, set_instance_admin};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, error_code, spawn_app, spawn_app_on_postgres, spawn_app_with};

pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// Creates a workspace owned by `email` (the account too, with [`PASSWORD`], unless it exists).
pub(crate) async fn workspace_of(app: &TestApp, name: &str, email: &str) -> CreatedWorkspace {
    let input = NewWorkspace { name: name.into(), owner_email: email.into(), owner_name: Some("Ada".into()) };
    create_workspace(&app.stores, input, || Ok(PASSWORD.into())).await.expect("workspace")
}

/// A unique email for this test.
fn email() -> String {
    format!("ada-{}@example.org", Uuid::now_v7().simple())
}

/// A signed-in browser, as far as the server can tell: the cookie pair and the CSRF token.
#[derive(Debug, Clone)]
pub(crate) struct Signed {
    /// `name=value` for a `Cookie` header.
    pub(crate) cookie: String,
    /// The raw `Set-Cookie` header of the sign-in.
    set_cookie: String,
    /// `csrfToken` of the answer.
    pub(crate) csrf: String,
    /// The sign-in's answer (what `GET /api/me` says).
    me: Value,
}

/// `POST /api/auth/login` from the app's own origin, optionally carrying a cookie; returns the raw response.
async fn login_raw(app: &TestApp, body: &Value, cookie: Option<&str>) -> reqwest::Response {
    let mut request =
        app.client.post(format!("{}/api/auth/login", app.address)).header("origin", &app.address).json(body);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.expect("login sent")
}

/// Signs in and returns the session; fails the test unless it worked.
pub(crate) async fn login(app: &TestApp, email: &str, cookie: Option<&str>) -> Signed {
    login_to(app, &json!({"email": email, "password": PASSWORD}), cookie).await
}

async fn login_to(app: &TestApp, body: &Value, cookie: Option<&str>) -> Signed {
    let response = login_raw(app, body, cookie).await;
    assert_eq!(response.status(), StatusCode::OK);
    signed_of(response).await
}

async fn signed_of(response: reqwest::Response) -> Signed {
    let set_cookie =
        response.headers().get("set-cookie").and_then(|value| value.to_str().ok()).expect("Set-Cookie").to_owned();
    let cookie = set_cookie.split(';').next().expect("cookie pair").to_owned();
    let me: Value = response.json().await.expect("JSON");
    let csrf = me["csrfToken"].as_str().expect("csrfToken").to_owned();
    Signed { cookie, set_cookie, csrf, me }
}

/// A request with the session cookie, the app's Origin and the CSRF token (each optional).
async fn with_cookie(
    app: &TestApp,
    method: Method,
    path: &str,
    cookie: &str,
    origin: Option<&str>,
    csrf: Option<&str>,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut request = app.client.request(method, format!("{}{path}", app.address)).header("cookie", cookie);
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    if let Some(csrf) = csrf {
        request = request.header("x-csrf-token", csrf);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("sent");
    let status = response.status();
    let bytes = response.bytes().await.expect("body");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// `GET /api/me` with the session's cookie.
async fn me(app: &TestApp, signed: &Signed) -> (StatusCode, Value) {
    with_cookie(app, Method::GET, "/api/me", &signed.cookie, None, None, None).await
}

/// An unsafe request the way the page sends it: cookie, own Origin, CSRF token.
pub(crate) async fn write(
    app: &TestApp,
    method: Method,
    path: &str,
    signed: &Signed,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    with_cookie(app, method, path, &signed.cookie, Some(&app.address), Some(&signed.csrf), body).await
}

/// The settings of a production-mode server a test can start (a strong secret, no demo).
pub(crate) fn production(settings: &mut Settings) {
    settings.mode = Mode::Production;
    settings.auth.jwt_secret = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
}

/// Every auth-log entry, newest first, read as an instance admin with the store.
async fn auth_log(app: &TestApp) -> Vec<Value> {
    let page = app.stores.auth_log.list_auth_events(agentdeck_domain::page::PageRequest::first(200)).await.unwrap();
    page.items.iter().map(|entry| serde_json::to_value(entry).unwrap()).collect()
}

#[tokio::test]
async fn dev_sign_in_sets_an_httponly_lax_cookie_and_me_names_the_account() {
    let app = spawn_app().await;
    let email = email();
    let created = workspace_of(&app, "Acme", &email).await;
    let signed = login(&app, &email.to_uppercase(), None).await;

    let attributes: Vec<&str> = signed.set_cookie.split(';').map(str::trim).collect();
    assert!(signed.cookie.starts_with("agentdeck_session="), "{}", signed.set_cookie);
    for expected in ["Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=604800"] {
        assert!(attributes.contains(&expected), "{expected} in {}", signed.set_cookie);
    }
    assert!(!attributes.iter().any(|attribute| attribute.starts_with("Secure")), "dev mode is plain HTTP");
    assert!(!signed.set_cookie.contains("Domain"), "{}", signed.set_cookie);
    let secret = signed.cookie.trim_start_matches("agentdeck_session=");
    assert_eq!(secret.len(), 43, "32 random bytes, base64url");
    assert_ne!(signed.csrf, secret);

    let (status, me) = me(&app, &signed).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["credential"], "session");
    assert_eq!(me["subject"], created.owner.id.to_string());
    assert_eq!(me["account"]["email"], email);
    assert_eq!(me["workspaceId"], created.workspace.id.to_string());
    assert_eq!(me["role"], "owner");
    assert_eq!(me["workspaces"][0]["name"], "Acme");
    assert_eq!(me["csrfToken"], signed.csrf);
    assert_eq!(signed.me["workspaceId"], me["workspaceId"], "sign-in answers like /api/me");

    // The store keeps the digest only.
    let digest = agentdeck_services::accounts::sessions::digest_of(secret);
    assert!(app.stores.sessions.find_session(&digest).await.unwrap().is_some());
    assert!(app.stores.sessions.find_session(secret).await.unwrap().is_none());

    // Reads and the session's own data work; a WebSocket ticket comes from the session (a POST: CSRF applies).
    let (status, body) = with_cookie(&app, Method::GET, "/api/workspace", &signed.cookie, None, None, None).await;
    assert_eq!((status, body["name"].as_str()), (StatusCode::OK, Some("Acme")));
    let (status, ticket) = write(&app, Method::POST, "/api/ws-ticket", &signed, None).await;
    assert_eq!(status, StatusCode::OK, "{ticket}");
    let (status, _) =
        with_cookie(&app, Method::POST, "/api/ws-ticket", &signed.cookie, Some(&app.address), None, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a ticket is a write: no CSRF token, no ticket");
    let protocol = format!("dash.v1, dash.ticket.{}", ticket["ticket"].as_str().unwrap());
    let mut socket = app.ws_connect(&[("sec-websocket-protocol", &protocol)]).await.expect("socket opens");
    assert_eq!(socket.recv().await["t"], "hello");

    // JWT callers get their subject and role, and no account unless the subject is one.
    let (status, me) = app.get("/api/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!((me["credential"].as_str(), me["account"].is_null()), (Some("jwt"), true));
    assert!(me["csrfToken"].is_null());
    // A bearer header never falls back to the cookie, even when the token is bad.
    let response = app
        .client
        .get(format!("{}/api/me", app.address))
        .header("cookie", &signed.cookie)
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn production_cookie_is_host_prefixed_and_secure() {
    let app = spawn_app_with(production).await;
    let email = email();
    workspace_of(&app, "Acme", &email).await;
    let signed = login(&app, &email, None).await;
    assert!(signed.cookie.starts_with("__Host-agentdeck_session="), "{}", signed.set_cookie);
    let attributes: Vec<&str> = signed.set_cookie.split(';').map(str::trim).collect();
    for expected in ["Path=/", "HttpOnly", "SameSite=Lax", "Secure", "Max-Age=604800"] {
        assert!(attributes.contains(&expected), "{expected} in {}", signed.set_cookie);
    }
    assert!(!signed.set_cookie.contains("Domain"));
    assert_eq!(me(&app, &signed).await.0, StatusCode::OK);
    // The dev cookie name means nothing here.
    let dev_name = signed.cookie.replace("__Host-agentdeck_session", "agentdeck_session");
    let (status, _) = with_cookie(&app, Method::GET, "/api/me", &dev_name, None, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sign_in_rotates_the_session_and_sign_out_ends_it_for_good() {
    let app = spawn_app().await;
    let email = email();
    workspace_of(&app, "Acme", &email).await;
    let first = login(&app, &email, None).await;
    // Signing in again with the old cookie (e.g. one planted before sign-in) rotates it.
    let second = login(&app, &email, Some(&first.cookie)).await;
    assert_ne!(first.cookie, second.cookie);
    assert_ne!(first.csrf, second.csrf);
    assert_eq!(me(&app, &first).await.0, StatusCode::UNAUTHORIZED, "the old session ended with the sign-in");
    assert_eq!(me(&app, &second).await.0, StatusCode::OK);

    let response = app
        .client
        .post(format!("{}/api/auth/logout", app.address))
        .header("cookie", &second.cookie)
        .header("origin", &app.address)
        .header("x-csrf-token", &second.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let cleared = response.headers().get("set-cookie").and_then(|value| value.to_str().ok()).unwrap_or_default();
    assert!(cleared.starts_with("agentdeck_session=;") && cleared.contains("Max-Age=0"), "{cleared}");
    // The cookie replayed after sign-out: refused, for reads and writes.
    let (status, body) = me(&app, &second).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNAUTHORIZED, "unauthorized"));
    let (status, _) = write(&app, Method::POST, "/api/projects", &second, Some(&json!({"name": "Late"}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Signing out with a bearer token is not a thing.
    let (status, body) = app.post("/api/auth/logout", &json!({})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "forbidden"), "{body}");
}

#[tokio::test]
async fn sign_out_everywhere_ends_every_session_of_the_account() {
    let app = spawn_app().await;
    let (ada, bob) = (email(), email());
    workspace_of(&app, "Acme", &ada).await;
    workspace_of(&app, "Globex", &bob).await;
    let laptop = login(&app, &ada, None).await;
    let phone = login(&app, &ada, None).await;
    let bobs = login(&app, &bob, None).await;
    let (status, _) = write(&app, Method::POST, "/api/auth/logout-all", &laptop, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(me(&app, &phone).await.0, StatusCode::UNAUTHORIZED, "the other session ended too");
    assert_eq!(me(&app, &laptop).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &bobs).await.0, StatusCode::OK, "another person's session stays");
    let log = auth_log(&app).await;
    let entry = log.iter().find(|entry| entry["kind"] == "sign_out_all").expect("sign_out_all logged");
    assert_eq!(entry["detail"], "2 sessions ended");
}

#[tokio::test]
async fn idle_and_absolute_timeouts_end_sessions() {
    let idle = spawn_app_with(|settings| {
        settings.sessions.idle_timeout_secs = 2;
        settings.sessions.absolute_timeout_secs = 600;
    })
    .await;
    let email = email();
    workspace_of(&idle, "Acme", &email).await;
    let signed = login(&idle, &email, None).await;
    assert_eq!(me(&idle, &signed).await.0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2_300)).await;
    assert_eq!(me(&idle, &signed).await.0, StatusCode::UNAUTHORIZED, "idle for longer than the idle timeout");

    let absolute = spawn_app_with(|settings| {
        settings.sessions.idle_timeout_secs = 600;
        settings.sessions.absolute_timeout_secs = 3;
    })
    .await;
    workspace_of(&absolute, "Acme", &email).await;
    let signed = login(&absolute, &email, None).await;
    assert!(signed.set_cookie.contains("Max-Age=3"), "the cookie lives no longer: {}", signed.set_cookie);
    for _ in 0..2 {
        assert_eq!(me(&absolute, &signed).await.0, StatusCode::OK, "in use, within the lifetime");
        tokio::time::sleep(Duration::from_millis(1_000)).await;
    }
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    assert_eq!(me(&absolute, &signed).await.0, StatusCode::UNAUTHORIZED, "past the absolute timeout, in use or not");
}

#[tokio::test]
async fn cookie_writes_need_a_trusted_origin_and_the_csrf_token_and_refusals_write_nothing() {
    let app = spawn_app().await;
    let email = email();
    workspace_of(&app, "Acme", &email).await;
    let signed = login(&app, &email, None).await;
    let project = json!({"name": "Forged"});
    let post = |origin: Option<&'static str>, csrf: Option<String>| {
        let (app, cookie, project) = (&app, signed.cookie.clone(), project.clone());
        async move {
            let origin = origin.map(|origin| if origin == "own" { app.address.clone() } else { origin.to_owned() });
            with_cookie(app, Method::POST, "/api/projects", &cookie, origin.as_deref(), csrf.as_deref(), Some(&project))
                .await
        }
    };
    let cases = [
        ("no Origin", post(None, Some(signed.csrf.clone())).await, "Origin or Referer"),
        ("foreign Origin", post(Some("http://evil.example"), Some(signed.csrf.clone())).await, "Origin"),
        ("null Origin", post(Some("null"), Some(signed.csrf.clone())).await, "Origin"),
        ("no token", post(Some("own"), None).await, "X-CSRF-Token"),
        ("wrong token", post(Some("own"), Some("A".repeat(43))).await, "X-CSRF-Token"),
        (
            "another session's token",
            post(Some("own"), Some(login(&app, &email, None).await.csrf)).await,
            "X-CSRF-Token",
        ),
    ];
    for (case, (status, body), named) in cases {
        assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "forbidden"), "{case}: {body}");
        assert!(body["error"]["message"].as_str().unwrap_or_default().contains(named), "{case}: {body}");
    }
    let (status, projects) = with_cookie(&app, Method::GET, "/api/projects", &signed.cookie, None, None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(projects["items"].as_array().map(Vec::len), Some(0), "nothing was written: {projects}");

    // A trusted Referer stands in for a missing Origin; with the token the write goes through.
    let referer = format!("{}/projects", app.address);
    let response = app
        .client
        .post(format!("{}/api/projects", app.address))
        .header("cookie", &signed.cookie)
        .header("referer", &referer)
        .header("x-csrf-token", &signed.csrf)
        .json(&json!({"name": "Real"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let (status, body) = write(&app, Method::PATCH, "/api/workspace", &signed, Some(&json!({"name": "Acme 2"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Sign-in itself checks Origin (login CSRF).
    let response = app
        .client
        .post(format!("{}/api/auth/login", app.address))
        .header("origin", "http://evil.example")
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.headers().get("set-cookie").is_none());
}

#[tokio::test]
async fn sign_in_answers_alike_for_unknown_email_wrong_password_and_disabled_account() {
    let app = spawn_app_with(|settings| {
        settings.sessions.max_failures = 1000;
        settings.sessions.login_per_minute_per_address = 1000;
    })
    .await;
    let (ada, dora) = (email(), email());
    workspace_of(&app, "Acme", &ada).await;
    let disabled = workspace_of(&app, "Globex", &dora).await;
    app.stores.accounts.set_account_disabled(disabled.owner.id, true, chrono::Utc::now()).await.unwrap();

    let attempts = [
        ("unknown", json!({"email": format!("nobody-{}@example.org", Uuid::now_v7().simple()), "password": PASSWORD})),
        ("wrong", json!({"email": ada, "password": "not the password at all"})),
        ("disabled", json!({"email": dora, "password": PASSWORD})),
    ];
    let mut answers = Vec::new();
    let mut medians = Vec::new();
    for (case, body) in &attempts {
        let mut times = Vec::new();
        for _ in 0..5 {
            let started = Instant::now();
            let response = login_raw(&app, body, None).await;
            times.push(started.elapsed());
            assert!(response.headers().get("set-cookie").is_none(), "{case}");
            answers.push((*case, response.status(), response.text().await.unwrap()));
        }
        times.sort();
        medians.push((*case, times[2]));
    }
    let (_, first_status, first_body) = &answers[0];
    assert_eq!(*first_status, StatusCode::UNAUTHORIZED);
    for (case, status, body) in &answers {
        assert_eq!((status, body), (first_status, first_body), "{case} answers like the others");
    }
    let slowest = medians.iter().map(|(_, time)| *time).max().unwrap();
    let fastest = medians.iter().map(|(_, time)| *time).min().unwrap();
    assert!(slowest < fastest * 3, "timing tells the cases apart: {medians:?}");

    // Only the auth log knows why.
    let log = auth_log(&app).await;
    let details: std::collections::BTreeSet<_> = log
        .iter()
        .filter(|entry| entry["kind"] == "sign_in_failed")
        .filter_map(|entry| entry["detail"].as_str())
        .collect();
    assert_eq!(details, ["disabled", "unknown_email", "wrong_password"].into_iter().collect());
}

#[tokio::test]
async fn repeated_failures_lock_the_email_even_for_the_right_password_and_for_unknown_emails() {
    let app = spawn_app_with(|settings| settings.sessions.max_failures = 3).await;
    let ada = email();
    let created = workspace_of(&app, "Acme", &ada).await;
    let unknown = format!("nobody-{}@example.org", Uuid::now_v7().simple());
    for address in [&ada, &unknown] {
        for _ in 0..3 {
            let response = login_raw(&app, &json!({"email": address, "password": "a wrong password"}), None).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
        // Locked: refused without looking at the password, the right one included, the unknown email alike.
        let response = login_raw(&app, &json!({"email": address.to_uppercase(), "password": PASSWORD}), None).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((890..=900).contains(&retry), "{retry}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), "rate_limited");
    }
    // Another person is not affected.
    let bob = email();
    workspace_of(&app, "Globex", &bob).await;
    login(&app, &bob, None).await;

    let log = auth_log(&app).await;
    let locked: Vec<_> = log.iter().filter(|entry| entry["kind"] == "locked").collect();
    assert_eq!(locked.len(), 2, "one lock entry per email: {locked:?}");
    assert!(locked.iter().any(|entry| entry["email"] == ada && entry["accountId"] == created.owner.id.to_string()));
    assert!(locked.iter().any(|entry| entry["email"] == unknown && entry["accountId"].is_null()));
    let failures = log.iter().filter(|entry| entry["kind"] == "sign_in_failed").count();
    assert_eq!(failures, 6, "refusals while locked are not failures");
    let sign_in = log.iter().find(|entry| entry["kind"] == "sign_in").expect("bob's sign-in logged");
    assert_eq!(sign_in["email"], bob);
    assert_eq!(sign_in["detail"], "password");
    assert_eq!(sign_in["clientAddress"], "127.0.0.1");
    assert!(sign_in["userAgent"].is_string() || sign_in["userAgent"].is_null());

    // The log is for instance admins.
    let bobs = login(&app, &bob, None).await;
    let (status, _) = with_cookie(&app, Method::GET, "/api/admin/auth-log", &bobs.cookie, None, None, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    set_instance_admin(&app.stores, &bob, true).await.unwrap();
    let (status, page) =
        with_cookie(&app, Method::GET, "/api/admin/auth-log?limit=3", &bobs.cookie, None, None, None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(page["items"][0]["kind"], "sign_in", "newest first");
    assert!(page["nextCursor"].is_string());
}

#[tokio::test]
async fn sign_in_attempts_are_limited_per_client_address() {
    let app = spawn_app_with(|settings| {
        settings.sessions.login_per_minute_per_address = 3;
        settings.rate_limit.window_secs = 3600;
    })
    .await;
    for index in 0..3 {
        let body = json!({"email": format!("user{index}@example.org"), "password": "whatever it is"});
        assert_eq!(login_raw(&app, &body, None).await.status(), StatusCode::UNAUTHORIZED);
    }
    let response = login_raw(&app, &json!({"email": "fresh@example.org", "password": "whatever"}), None).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["x-ratelimit-limit"], "3");
    assert!(response.headers().contains_key("retry-after"));
    // Other routes are not counted against it.
    assert_eq!(app.get("/api/workspace").await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_session_switches_between_the_accounts_workspaces_and_is_rotated() {
    let app = spawn_app().await;
    let ada = email();
    let acme = workspace_of(&app, "Acme", &ada).await;
    let globex = workspace_of(&app, "Globex", &ada).await;
    let stranger = workspace_of(&app, "Initech", &email()).await;

    // Without a choice the most recently joined workspace; with one, that one.
    assert_eq!(login(&app, &ada, None).await.me["workspaceId"], globex.workspace.id.to_string());
    let signed =
        login_to(&app, &json!({"email": ada, "password": PASSWORD, "workspaceId": acme.workspace.id}), None).await;
    assert_eq!(signed.me["workspaceId"], acme.workspace.id.to_string());
    assert_eq!(signed.me["workspaces"].as_array().map(Vec::len), Some(2));

    let response = app
        .client
        .post(format!("{}/api/auth/workspace", app.address))
        .header("cookie", &signed.cookie)
        .header("origin", &app.address)
        .header("x-csrf-token", &signed.csrf)
        .json(&json!({"workspaceId": globex.workspace.id}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let switched = signed_of(response).await;
    assert_eq!(switched.me["workspaceId"], globex.workspace.id.to_string());
    assert_eq!(me(&app, &signed).await.0, StatusCode::UNAUTHORIZED, "the session was rotated");
    let (status, workspace) =
        with_cookie(&app, Method::GET, "/api/workspace", &switched.cookie, None, None, None).await;
    assert_eq!((status, workspace["name"].as_str()), (StatusCode::OK, Some("Globex")));

    for other in [stranger.workspace.id, Uuid::now_v7()] {
        let (status, body) =
            write(&app, Method::POST, "/api/auth/workspace", &switched, Some(&json!({"workspaceId": other}))).await;
        assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "not_found"), "{body}");
    }
    let response =
        login_raw(&app, &json!({"email": ada, "password": PASSWORD, "workspaceId": stranger.workspace.id}), None).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(auth_log(&app).await.iter().any(|entry| entry["kind"] == "workspace_switch"));
}

#[tokio::test]
async fn disabling_an_account_stops_its_sessions_and_tokens_at_once() {
    let app = spawn_app().await;
    let ada = email();
    let created = workspace_of(&app, "Acme", &ada).await;
    let signed = login(&app, &ada, None).await;
    let principal = agentdeck_domain::auth::Principal {
        subject: created.owner.id.to_string(),
        workspace_id: created.workspace.id,
        role: agentdeck_domain::auth::Role::Owner,
    };
    let token = app.token_for(&principal);
    assert_eq!(app.request(Method::GET, "/api/me", Some(&token), None).await.1["account"]["email"], ada);

    app.stores.accounts.set_account_disabled(created.owner.id, true, chrono::Utc::now()).await.unwrap();
    assert_eq!(me(&app, &signed).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.request(Method::GET, "/api/me", Some(&token), None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        login_raw(&app, &json!({"email": ada, "password": PASSWORD}), None).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_session_started_on_one_node_works_on_another_sharing_the_database() {
    let node_a = spawn_app_on_postgres().await;
    let (url, redis) = (node_a.settings.database_url.clone(), node_a.settings.redis_url.clone());
    let node_b = spawn_app_with(|settings| {
        settings.database_url = url;
        settings.redis_url = redis;
    })
    .await;
    let ada = email();
    workspace_of(&node_a, "Acme", &ada).await;
    let signed = login(&node_a, &ada, None).await;
    let (status, me_on_b) = me(&node_b, &signed).await;
    assert_eq!(status, StatusCode::OK, "{me_on_b}");
    assert_eq!(me_on_b["account"]["email"], ada);
    let (status, _) = write(&node_b, Method::POST, "/api/projects", &signed, Some(&json!({"name": "From B"}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = write(&node_b, Method::POST, "/api/auth/logout", &signed, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(me(&node_a, &signed).await.0, StatusCode::UNAUTHORIZED, "signed out on B: ended on A too");
}
