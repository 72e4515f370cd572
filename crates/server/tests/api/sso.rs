//! Single sign-on with OpenID Connect against a real provider (npm's
//! `oidc-provider`, run by `support/oidc_provider.mjs`): the provider list,
//! the redirect to the provider (PKCE S256, state, nonce, the state cookie),
//! refusals of callbacks that were not started here, replays and provider
//! errors, a provider that is down, and the linked identities API. The flows
//! through the provider's login page run in the browser (`web/sso.rs`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use agentdeck_domain::auth::{Principal, Role};
use agentdeck_domain::records::{Account, Identity, Member, MemberRole, stored_precision};
use agentdeck_server::config::Settings;
use agentdeck_server::config::oidc::OidcProviderSettings;
use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;
use uuid::Uuid;

use crate::helpers::{TestApp, error_code, spawn_app_with};

/// Client id and secret registered at the test provider.
pub const CLIENT_ID: &str = "agentdeck-test";
const CLIENT_SECRET: &str = "test-client-secret-0123456789abcdef";

/// The test-tools dir (`$AGENTDECK_TEST_TOOLS`, else `$CARGO_TARGET_DIR/test-tools` or `target/test-tools`).
fn test_tools() -> PathBuf {
    std::env::var_os("AGENTDECK_TEST_TOOLS").map(PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
            .join("test-tools")
    })
}

/// A running `oidc-provider`, stopped on drop.
pub struct OidcProvider {
    child: Child,
    /// `http://127.0.0.1:PORT`: its issuer URL.
    pub issuer: String,
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _already_gone = self.child.kill();
        let _reaped = self.child.wait();
    }
}

impl OidcProvider {
    /// Starts the provider with one client whose callback is `redirect_uri`;
    /// `accounts` maps a login (the `sub`) to its `email` and `email_verified`.
    pub async fn start(redirect_uri: &str, accounts: Value) -> OidcProvider {
        let tools = test_tools();
        assert!(
            tools.join("node_modules/oidc-provider/package.json").is_file(),
            "oidc-provider is not installed in {}; run scripts/test, which installs it",
            tools.display()
        );
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/api/support/oidc_provider.mjs");
        let mut child = Command::new("node")
            .arg(script)
            .env("AGENTDECK_TEST_TOOLS", &tools)
            .env("OIDC_CLIENT_ID", CLIENT_ID)
            .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
            .env("OIDC_REDIRECT_URI", redirect_uri)
            .env("OIDC_ACCOUNTS", accounts.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node starts (apt-get install nodejs npm)");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines =
            tokio::io::BufReader::new(tokio::process::ChildStdout::from_std(stdout).expect("async stdout")).lines();
        let port = tokio::time::timeout(Duration::from_secs(20), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(port) = line.strip_prefix("listening ") {
                    return port.trim().parse::<u16>().ok();
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .expect("oidc-provider says which port it listens on");
        // Keep reading what it prints (its notices): a closed pipe would kill it at its next line.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        OidcProvider { child, issuer: format!("http://127.0.0.1:{port}") }
    }

    /// The last redirect the provider sent to the client's callback (with its code and state).
    pub async fn last_callback(&self) -> String {
        let answer: Value = reqwest::get(format!("{}/test/last-callback", self.issuer))
            .await
            .expect("provider answers")
            .json()
            .await
            .expect("json");
        answer["url"].as_str().unwrap_or_default().to_owned()
    }
}

/// A port nobody listens on now, for a server whose callback URL must be known before it starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("address").port()
}

/// The `[[auth.oidc]]` entry of the test provider, id `corp`.
pub fn provider_settings(issuer: &str, link_verified_email: bool) -> OidcProviderSettings {
    OidcProviderSettings {
        id: "corp".into(),
        name: "Corp ID".into(),
        issuer: issuer.into(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        client_secret_file: String::new(),
        scopes: vec!["openid".into(), "email".into(), "profile".into()],
        link_verified_email,
    }
}

/// A server with the test provider `corp` (a fresh one, knowing `accounts`) and the provider.
pub async fn spawn_with_provider(link_verified_email: bool, accounts: Value) -> (TestApp, OidcProvider) {
    let port = free_port();
    let callback = format!("http://127.0.0.1:{port}/api/auth/oidc/corp/callback");
    let provider = OidcProvider::start(&callback, accounts).await;
    let issuer = provider.issuer.clone();
    let app = spawn_app_with(move |settings: &mut Settings| {
        settings.bind = format!("127.0.0.1:{port}").parse().expect("address");
        settings.auth.oidc = vec![provider_settings(&issuer, link_verified_email)];
    })
    .await;
    (app, provider)
}

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// Stores an account (a password or none) with an owner membership in the demo workspace.
pub async fn person(app: &TestApp, email: &str, password: bool) -> Account {
    let now = stored_precision(chrono::Utc::now());
    let hash = password.then(|| "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".to_owned());
    let account = agentdeck_domain::records::NewAccount { email: email.into(), display_name: email.into() }
        .into_account(hash, now)
        .expect("account");
    app.stores.accounts.insert_account(&account).await.expect("stored");
    let member = Member {
        id: Uuid::now_v7(),
        workspace_id: app.workspace_id,
        user_id: account.id.to_string(),
        display_name: account.display_name.clone(),
        email: Some(account.email.clone()),
        role: MemberRole::Member,
        weekly_capacity_hours: 40.0,
        created_at: now,
        updated_at: now,
        revision: 1,
    };
    let entry = agentdeck_domain::records::ActivityEntry {
        id: Uuid::now_v7(),
        workspace_id: app.workspace_id,
        project_id: None,
        actor: account.id.to_string(),
        action: agentdeck_domain::records::ActivityAction::MemberAdded,
        target_kind: agentdeck_domain::records::TargetKind::Member,
        target_id: member.id,
        target_name: member.display_name.clone(),
        details: json!({}),
        at: now,
    };
    app.stores.members.insert_member(&member, &entry).await.expect("member");
    account
}

/// Starts a login with `client`; returns the provider's authorization URL and the state cookie's value.
async fn start_login(app: &TestApp, query: &str) -> (reqwest::Url, String) {
    let response =
        no_redirects().get(format!("{}/api/auth/oidc/corp/start{query}", app.address)).send().await.expect("start");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().expect("ascii").to_owned();
    let cookie = response.headers()[SET_COOKIE].to_str().expect("ascii").to_owned();
    let state = cookie.strip_prefix("agentdeck_oidc=").and_then(|rest| rest.split(';').next()).expect("state cookie");
    (reqwest::Url::parse(&location).expect("url"), state.to_owned())
}

/// Calls the callback with `query` and the state cookie `cookie`; returns the redirect and its cookies.
async fn call_back(app: &TestApp, query: &str, cookie: Option<&str>) -> (String, Vec<String>) {
    let mut request = no_redirects().get(format!("{}/api/auth/oidc/corp/callback?{query}", app.address));
    if let Some(state) = cookie {
        request = request.header("Cookie", format!("agentdeck_oidc={state}"));
    }
    let response = request.send().await.expect("callback");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookies = response.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap_or("").to_owned()).collect();
    (response.headers()[LOCATION].to_str().expect("ascii").to_owned(), cookies)
}

#[tokio::test]
async fn providers_are_listed_for_the_sign_in_form() {
    let (app, _provider) = spawn_with_provider(false, json!({})).await;
    let (status, body) = app.request(reqwest::Method::GET, "/api/auth/providers", None, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"providers": [{"id": "corp", "name": "Corp ID", "startUrl": "/api/auth/oidc/corp/start"}]})
    );

    let plain = crate::helpers::spawn_app().await;
    let (_, body) = plain.request(reqwest::Method::GET, "/api/auth/providers", None, None).await;
    assert_eq!(body, json!({"providers": []}), "none configured");
}

#[tokio::test]
async fn start_sends_the_browser_to_the_provider_with_pkce_state_and_nonce() {
    let (app, provider) = spawn_with_provider(false, json!({})).await;
    let response = no_redirects().get(format!("{}/api/auth/oidc/corp/start", app.address)).send().await.expect("start");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    let location = reqwest::Url::parse(response.headers()[LOCATION].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(&format!("{}/auth?", provider.issuer)), "{location}");
    let query: std::collections::HashMap<String, String> = location.query_pairs().into_owned().collect();
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["redirect_uri"], format!("{}/api/auth/oidc/corp/callback", app.address));
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["code_challenge"].len(), 43, "base64url of a SHA-256");
    assert!(query["nonce"].len() >= 16 && query["state"].len() >= 16, "{query:?}");
    assert!(query["scope"].split(' ').any(|scope| scope == "openid"), "{query:?}");
    // The state is bound to this browser, for the pending login's 10 minutes.
    assert_eq!(cookie, format!("agentdeck_oidc={}; Path=/; Max-Age=600; HttpOnly; SameSite=Lax", query["state"]));
    // The store keeps only its digest.
    let digest = agentdeck_services::sso::digest(&query["state"]);
    let pending = app.stores.identities.take_oidc_login(&digest, chrono::Utc::now()).await.unwrap().expect("stored");
    assert_ne!(pending.state_digest, query["state"]);
    assert_eq!(pending.provider, "corp");
}

#[tokio::test]
async fn callbacks_not_started_here_are_refused_without_a_session() {
    let (app, _provider) = spawn_with_provider(false, json!({})).await;
    // Never issued.
    let (location, cookies) = call_back(&app, "code=abc&state=never-issued", Some("never-issued")).await;
    assert_eq!(location, "/#sso-error=expired");
    assert!(cookies.iter().all(|cookie| !cookie.contains("session")), "{cookies:?}");
    // No parameters at all, or garbage.
    let (location, _) = call_back(&app, "", None).await;
    assert_eq!(location, "/#sso-error=expired");
    let (location, _) = call_back(&app, &format!("state={}", "x".repeat(10_000)), None).await;
    assert_eq!(location, "/#sso-error=expired");

    // Started in another browser: the state is real but this browser's cookie is not its.
    let (_, state) = start_login(&app, "").await;
    let (location, cookies) = call_back(&app, &format!("code=abc&state={state}"), Some("someone-else")).await;
    assert_eq!(location, "/#sso-error=state_mismatch");
    assert!(cookies.iter().any(|cookie| cookie.starts_with("agentdeck_oidc=;")), "the state cookie is cleared");
    // …and that consumed it: the right cookie now comes too late.
    let (location, _) = call_back(&app, &format!("code=abc&state={state}"), Some(&state)).await;
    assert_eq!(location, "/#sso-error=expired");
}

#[tokio::test]
async fn provider_refusals_come_back_as_an_error_code() {
    let (app, _provider) = spawn_with_provider(false, json!({})).await;
    let (_, state) = start_login(&app, "").await;
    let (location, _) =
        call_back(&app, &format!("error=access_denied&error_description=nope&state={state}"), Some(&state)).await;
    assert_eq!(location, "/#sso-error=access_denied");
    // A code the provider never issued fails the exchange: no session.
    let (_, state) = start_login(&app, "").await;
    let (location, cookies) = call_back(&app, &format!("code=forged&state={state}"), Some(&state)).await;
    assert_eq!(location, "/#sso-error=provider_unavailable");
    assert!(cookies.iter().all(|cookie| !cookie.contains("session")), "{cookies:?}");
}

#[tokio::test]
async fn unknown_providers_and_links_without_a_session_are_refused() {
    let (app, _provider) = spawn_with_provider(false, json!({})).await;
    let response = no_redirects().get(format!("{}/api/auth/oidc/nope/start", app.address)).send().await.unwrap();
    assert_eq!(response.headers()[LOCATION], "/#sso-error=unknown_provider");
    let response =
        no_redirects().get(format!("{}/api/auth/oidc/corp/start?link=true", app.address)).send().await.unwrap();
    assert_eq!(response.headers()[LOCATION], "/#sso-error=not_signed_in");
    assert!(response.headers().get(SET_COOKIE).is_none(), "nothing started");
    // A return path to another site is not followed later: it is replaced by `/`.
    let (_, state) = start_login(&app, "?returnTo=https://evil.example/").await;
    let digest = agentdeck_services::sso::digest(&state);
    let pending = app.stores.identities.take_oidc_login(&digest, chrono::Utc::now()).await.unwrap().unwrap();
    assert_eq!(pending.return_path, "/");
}

#[tokio::test]
async fn a_provider_that_is_down_does_not_stop_the_server() {
    // Port 1 on loopback: nothing listens there.
    let app =
        spawn_app_with(|settings| settings.auth.oidc = vec![provider_settings("http://127.0.0.1:1", false)]).await;
    let (status, _) = app.request(reqwest::Method::GET, "/health", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let response = no_redirects().get(format!("{}/api/auth/oidc/corp/start", app.address)).send().await.unwrap();
    assert_eq!(response.headers()[LOCATION], "/#sso-error=provider_unavailable");
}

#[tokio::test]
async fn identities_are_listed_and_unlinked_but_never_the_last_way_in() {
    let app = crate::helpers::spawn_app().await;
    let sso_only = person(&app, "sso-only@example.org", false).await;
    let now = stored_precision(chrono::Utc::now());
    let identity = |account: &Account, subject: &str| Identity {
        id: Uuid::now_v7(),
        account_id: account.id,
        provider: "corp".into(),
        issuer: "https://id.example.org".into(),
        subject: subject.into(),
        email: None,
        created_at: now,
        last_used_at: None,
    };
    let first = identity(&sso_only, "first");
    let second = identity(&sso_only, "second");
    app.stores.identities.insert_identity(&first).await.unwrap();
    app.stores.identities.insert_identity(&second).await.unwrap();
    // A token of the account (its subject is the account id), as a session or personal token would be.
    let token = app.token_for(&Principal {
        subject: sso_only.id.to_string(),
        workspace_id: app.workspace_id,
        role: Role::Member,
    });
    let (status, body) = app.request(reqwest::Method::GET, "/api/me/identities", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let subjects: Vec<&str> =
        body["identities"].as_array().unwrap().iter().filter_map(|i| i["subject"].as_str()).collect();
    assert_eq!(subjects, ["first", "second"]);
    assert_eq!(body["identities"][0]["issuer"], "https://id.example.org");

    let path = |id: Uuid| format!("/api/me/identities/{id}");
    let (status, _) = app.request(reqwest::Method::DELETE, &path(first.id), Some(&token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.request(reqwest::Method::DELETE, &path(second.id), Some(&token), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("last way to sign in"), "{body}");
    let (status, body) = app.request(reqwest::Method::DELETE, &path(first.id), Some(&token), None).await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "not_found"));

    // Another account's identity is not found; the demo user (no account) has none to manage.
    let other = person(&app, "other@example.org", true).await;
    let theirs = identity(&other, "theirs");
    app.stores.identities.insert_identity(&theirs).await.unwrap();
    let (status, _) = app.request(reqwest::Method::DELETE, &path(theirs.id), Some(&token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = app.request(reqwest::Method::GET, "/api/me/identities", Some(&app.token), None).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "forbidden"));
    let (status, _) = app.request(reqwest::Method::GET, "/api/me/identities", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
