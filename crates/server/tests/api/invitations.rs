//! Invitations over HTTP: who may invite whom, links handed back without SMTP,
//! mails delivered to a real SMTP server (aiosmtpd: plain, STARTTLS and
//! implicit TLS, the certificate checked against a test CA), a failed send
//! that leaves a re-sendable invitation, and accepting — once — as a new or an
//! existing account.

use std::path::{Path, PathBuf};
use std::time::Duration;

use agentdeck_domain::auth::{Principal, Role};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, error_code, spawn_app, spawn_app_with};

const PASSWORD: &str = "a long enough passphrase";

/// The token of an invitation link (`…/#invite=<token>`).
fn token_of(link: &str) -> String {
    link.split_once("#invite=").map(|(_, token)| token.to_owned()).unwrap_or_else(|| panic!("no token in {link}"))
}

/// A POST to an invitee's endpoint, from the server's own origin (as the page sends it).
async fn invitee_post(app: &TestApp, path: &str, body: &Value) -> (StatusCode, Value) {
    let (status, _, body) = invitee_post_with(app, path, body, None).await;
    (status, body)
}

/// Like [`invitee_post`] with an optional `Cookie` header; also returns the `Set-Cookie` header's cookie pair.
async fn invitee_post_with(
    app: &TestApp,
    path: &str,
    body: &Value,
    cookie: Option<&str>,
) -> (StatusCode, Option<String>, Value) {
    let mut request = app.client.post(format!("{}{path}", app.address)).header("Origin", &app.address).json(body);
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status();
    let set_cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(str::to_owned);
    (status, set_cookie, response.json().await.unwrap_or(Value::Null))
}

/// `GET /api/me` with a session cookie.
async fn me_with(app: &TestApp, cookie: &str) -> (StatusCode, Value) {
    let response =
        app.client.get(format!("{}/api/me", app.address)).header("Cookie", cookie).send().await.expect("sent");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The kinds and details of the auth log's entries, oldest first.
async fn auth_log(app: &TestApp) -> Vec<(String, String)> {
    let page = app.stores.auth_log.list_auth_events(agentdeck_domain::page::PageRequest::first(200)).await.unwrap();
    let mut entries: Vec<_> = page
        .items
        .into_iter()
        .map(|event| (event.kind.as_str().to_owned(), event.detail.unwrap_or_default()))
        .collect();
    entries.reverse();
    entries
}

/// Invites `email` as `role` with the demo owner's token; returns the answer.
async fn invite(app: &TestApp, email: &str, role: &str) -> (StatusCode, Value) {
    app.post("/api/workspace/invitations", &json!({"email": email, "role": role})).await
}

/// A token of the demo workspace for `subject` with `role`.
fn token_as(app: &TestApp, subject: &str, role: Role) -> String {
    app.token_for(&Principal { subject: subject.into(), workspace_id: app.workspace_id, role })
}

#[tokio::test]
async fn an_invitee_without_an_account_joins_through_the_link_once() {
    let app = spawn_app().await;
    let (status, issued) = invite(&app, " Newbie@Example.org ", "member").await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    assert_eq!(issued["invitation"]["email"], "newbie@example.org");
    assert_eq!(issued["invitation"]["role"], "member");
    assert!(issued["invitation"].get("tokenDigest").is_none(), "the digest is never shown: {issued}");
    assert_eq!(issued["delivery"]["status"], "link", "no SMTP configured: {issued}");
    let link = issued["delivery"]["link"].as_str().expect("link");
    assert!(link.starts_with(&format!("{}/#invite=", app.address)), "{link}");
    let token = token_of(link);
    assert_eq!(token.len(), 43);

    let (status, pending) = app.get("/api/workspace/invitations").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pending["items"][0]["id"], issued["invitation"]["id"]);

    let (status, preview) = invitee_post(&app, "/api/invitations/preview", &json!({"token": token})).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["email"], "newbie@example.org");
    assert_eq!(preview["role"], "member");
    assert_eq!(preview["accountExists"], false);
    let (_, workspace) = app.get("/api/workspace").await;
    assert_eq!(preview["workspace"]["name"], workspace["name"]);

    // Accepting signs a browser in, so it needs the server's own origin.
    let body = json!({"token": token, "displayName": "New Person", "password": PASSWORD});
    let (status, refused) = app.request(Method::POST, "/api/invitations/accept", None, Some(&body)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let evil = app
        .client
        .post(format!("{}/api/invitations/accept", app.address))
        .header("Origin", "http://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);

    // The rules of a new account apply, and a refusal leaves the invitation usable.
    let (status, invalid) =
        invitee_post(&app, "/api/invitations/accept", &json!({"token": token, "password": "short"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{invalid}");
    let paths: Vec<_> = invalid["error"]["details"].as_array().unwrap().iter().map(|d| d["path"].clone()).collect();
    assert_eq!(paths, [json!("/displayName"), json!("/password")], "{invalid}");

    let (status, cookie, joined) = invitee_post_with(&app, "/api/invitations/accept", &body, None).await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(joined["accountCreated"], true);
    // Signed in: the cookie is a session of the new account in this workspace, as its `me` says.
    let cookie = cookie.expect("a session cookie");
    assert!(cookie.starts_with("agentdeck_session="), "{cookie}");
    assert!(joined["me"]["csrfToken"].is_string(), "{joined}");
    assert_eq!(joined["me"]["account"]["email"], "newbie@example.org");
    let (status, me) = me_with(&app, &cookie).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!((&me["workspaceId"], &me["role"]), (&json!(app.workspace_id.to_string()), &json!("member")));
    let kinds: Vec<_> = auth_log(&app).await.into_iter().map(|(kind, _)| kind).collect();
    assert_eq!(kinds, ["invitation_created", "invitation_accepted", "sign_in"], "{kinds:?}");
    assert_eq!(joined["account"]["email"], "newbie@example.org");
    assert_eq!(joined["member"]["role"], "member");
    assert_eq!(joined["member"]["userId"], joined["account"]["id"]);
    assert_eq!(joined["workspace"]["id"], app.workspace_id.to_string());

    // Once only, and the same answer as a token that never existed.
    let (status, again) = invitee_post(&app, "/api/invitations/accept", &body).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{again}");
    assert_eq!(again["error"]["message"], "this invitation is unknown, expired or already used");
    let made_up = json!({"token": "A".repeat(43), "displayName": "X", "password": PASSWORD});
    let (status, unknown) = invitee_post(&app, "/api/invitations/accept", &made_up).await;
    assert_eq!((status, &unknown["error"]["message"]), (StatusCode::NOT_FOUND, &again["error"]["message"]));
    let (status, _) = invitee_post(&app, "/api/invitations/preview", &json!({"token": token})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = invitee_post(&app, "/api/invitations/preview", &json!({"token": "../../etc"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, pending) = app.get("/api/workspace/invitations").await;
    assert_eq!(pending["items"], json!([]), "no longer pending");

    // The new member is a member like any other, with a password that works.
    let account_id: Uuid = joined["account"]["id"].as_str().unwrap().parse().unwrap();
    let account = app.stores.accounts.get_account(account_id).await.unwrap().expect("the account");
    let hash = account.password_hash.expect("a password hash");
    assert!(agentdeck_services::accounts::password::verify_password(PASSWORD.into(), hash).await.unwrap());
    let member_token = token_as(&app, &account_id.to_string(), Role::Member);
    let (status, members) = app.request(Method::GET, "/api/members?limit=200", Some(&member_token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(members["items"].as_array().unwrap().iter().any(|member| member["userId"] == account_id.to_string()));

    // Inviting them again is a conflict: they are in.
    let (status, conflict) = invite(&app, "newbie@example.org", "admin").await;
    assert_eq!(status, StatusCode::CONFLICT, "{conflict}");
    assert_eq!(conflict["error"]["details"][0]["path"], "/email");
}

#[tokio::test]
async fn roles_decide_who_may_invite_whom() {
    let app = spawn_app().await;
    let admin = token_as(&app, "priya", Role::Admin);
    let member = token_as(&app, "marcus", Role::Member);
    let post = |token: String, email: &'static str, role: &'static str| {
        let app = &app;
        async move {
            let body = json!({"email": email, "role": role});
            app.request(Method::POST, "/api/workspace/invitations", Some(&token), Some(&body)).await
        }
    };
    assert_eq!(post(admin.clone(), "a1@example.org", "admin").await.0, StatusCode::CREATED);
    assert_eq!(post(admin.clone(), "a2@example.org", "member").await.0, StatusCode::CREATED);
    let (status, body) = post(admin.clone(), "a3@example.org", "owner").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("only an owner"), "{body}");
    let (status, owner_invite) = invite(&app, "o1@example.org", "owner").await;
    assert_eq!(status, StatusCode::CREATED, "{owner_invite}");
    for path in ["/api/workspace/invitations"] {
        let (status, _) = app.request(Method::GET, path, Some(&member), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    assert_eq!(post(member.clone(), "m1@example.org", "member").await.0, StatusCode::FORBIDDEN);

    // An admin may not re-send an owner's invitation (the new link would make its holder an owner) but may revoke it.
    let id = owner_invite["invitation"]["id"].as_str().unwrap();
    let path = format!("/api/workspace/invitations/{id}/resend");
    let (status, _) = app.request(Method::POST, &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let path = format!("/api/workspace/invitations/{id}");
    let (status, _) = app.request(Method::DELETE, &path, Some(&member), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.request(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Already invited, already a member (a member record's own email counts), bad input.
    let (status, body) = invite(&app, "A1@example.org", "member").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("pending invitation"), "{body}");
    let (status, body) = invite(&app, "priya@demo.agentdeck.dev", "member").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = invite(&app, "not-an-email", "member").await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"), "{body}");
    let (status, _) = invite(&app, "x@example.org", "service").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Another workspace sees none of this one's invitations.
    let (_, other_token) = app.other_workspace().await;
    let (status, listed) = app.request(Method::GET, "/api/workspace/invitations", Some(&other_token), None).await;
    assert_eq!((status, listed["items"].clone()), (StatusCode::OK, json!([])));
    let (_, mine) = app.get("/api/workspace/invitations").await;
    let id = mine["items"][0]["id"].as_str().unwrap();
    let path = format!("/api/workspace/invitations/{id}");
    let (status, _) = app.request(Method::DELETE, &path, Some(&other_token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn revoking_and_resending_invalidate_the_old_link() {
    let app = spawn_app().await;
    let (_, first) = invite(&app, "bob@example.org", "admin").await;
    let old_token = token_of(first["delivery"]["link"].as_str().unwrap());
    let id = first["invitation"]["id"].as_str().unwrap().to_owned();

    let (status, resent) = app.post(&format!("/api/workspace/invitations/{id}/resend"), &json!(null)).await;
    assert_eq!(status, StatusCode::OK, "{resent}");
    assert_eq!(resent["invitation"]["id"], first["invitation"]["id"], "the same invitation");
    let new_token = token_of(resent["delivery"]["link"].as_str().unwrap());
    assert_ne!(new_token, old_token);
    let (status, _) = invitee_post(&app, "/api/invitations/preview", &json!({"token": old_token})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the old link stopped working");
    let (status, preview) = invitee_post(&app, "/api/invitations/preview", &json!({"token": new_token})).await;
    assert_eq!((status, &preview["role"]), (StatusCode::OK, &json!("admin")));

    let (status, _) =
        app.request(Method::DELETE, &format!("/api/workspace/invitations/{id}"), Some(&app.token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = invitee_post(&app, "/api/invitations/preview", &json!({"token": new_token})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "revoked");
    let (status, _) = app.post(&format!("/api/workspace/invitations/{id}/resend"), &json!(null)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a revoked invitation is not re-sent");
    let (status, _) =
        app.request(Method::DELETE, &format!("/api/workspace/invitations/{id}"), Some(&app.token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "revoked once");
}

#[tokio::test]
async fn an_existing_account_joins_with_its_own_password() {
    let app = spawn_app().await;
    // An account that owns another workspace (made as `agentdeck workspace create` makes it).
    let input = agentdeck_services::accounts::NewWorkspace {
        name: "Elsewhere".into(),
        owner_email: "ada@example.org".into(),
        owner_name: Some("Ada".into()),
    };
    let created =
        agentdeck_services::accounts::create_workspace(&app.stores, input, || Ok(PASSWORD.into())).await.unwrap();
    let (_, issued) = invite(&app, "ada@example.org", "admin").await;
    let token = token_of(issued["delivery"]["link"].as_str().unwrap());
    let (_, preview) = invitee_post(&app, "/api/invitations/preview", &json!({"token": token})).await;
    assert_eq!(preview["accountExists"], true);

    let (status, body) = invitee_post(&app, "/api/invitations/accept", &json!({"token": token})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["details"][0]["path"], "/password");
    let wrong = json!({"token": token, "password": "not the right passphrase"});
    let (status, body) = invitee_post(&app, "/api/invitations/accept", &wrong).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("not the password"), "{body}");

    // A display name is not needed (and not taken): the account keeps its own.
    let right = json!({"token": token, "password": PASSWORD, "displayName": "Someone Else"});
    let (status, joined) = invitee_post(&app, "/api/invitations/accept", &right).await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(joined["accountCreated"], false);
    assert_eq!(joined["account"]["id"], created.owner.id.to_string());
    assert_eq!(joined["member"]["displayName"], "Ada");
    assert_eq!(joined["member"]["role"], "admin");
    // One account, a member record in each workspace with its own role.
    let id = created.owner.id.to_string();
    let here = app.stores.members.find_member_by_user(app.workspace_id, &id).await.unwrap().unwrap();
    let there = app.stores.members.find_member_by_user(created.workspace.id, &id).await.unwrap().unwrap();
    assert_eq!((here.role.as_str(), there.role.as_str()), ("admin", "owner"));
    let accepted = auth_log(&app).await.into_iter().find(|(kind, _)| kind == "invitation_accepted").unwrap();
    assert_eq!(accepted.1, "role admin, existing account");
}

#[tokio::test]
async fn a_browser_signed_in_as_the_invited_account_joins_without_its_password() {
    let app = spawn_app().await;
    let input = agentdeck_services::accounts::NewWorkspace {
        name: "Elsewhere".into(),
        owner_email: "ada@example.org".into(),
        owner_name: Some("Ada".into()),
    };
    agentdeck_services::accounts::create_workspace(&app.stores, input, || Ok(PASSWORD.into())).await.unwrap();
    let (status, cookie, _) =
        invitee_post_with(&app, "/api/auth/login", &json!({"email": "ada@example.org", "password": PASSWORD}), None)
            .await;
    assert_eq!(status, StatusCode::OK);
    let cookie = cookie.expect("a session cookie");
    let (_, issued) = invite(&app, "ada@example.org", "member").await;
    let token = token_of(issued["delivery"]["link"].as_str().unwrap());

    let (_, _, preview) =
        invitee_post_with(&app, "/api/invitations/preview", &json!({"token": token}), Some(&cookie)).await;
    assert_eq!((&preview["accountExists"], &preview["signedIn"]), (&json!(true), &json!(true)), "{preview}");
    let (_, _, anonymous) = invitee_post_with(&app, "/api/invitations/preview", &json!({"token": token}), None).await;
    assert_eq!(anonymous["signedIn"], false);

    // Without the cookie the password is needed; with it, not, and the session moves to the new workspace.
    let (status, _, _) = invitee_post_with(&app, "/api/invitations/accept", &json!({"token": token}), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, rotated, joined) =
        invitee_post_with(&app, "/api/invitations/accept", &json!({"token": token}), Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(joined["me"]["workspaceId"], app.workspace_id.to_string());
    let rotated = rotated.expect("a new session cookie");
    assert_ne!(rotated, cookie, "the session was rotated");
    assert_eq!(me_with(&app, &cookie).await.0, StatusCode::UNAUTHORIZED, "the old session ended");
    let (_, me) = me_with(&app, &rotated).await;
    assert_eq!(me["workspaces"].as_array().map(Vec::len), Some(2), "{me}");
}

/// An SMTP server of aiosmtpd's on a port of its own, writing each message it
/// receives into a Maildir (`new/`) the test reads.
struct MailServer {
    port: u16,
    maildir: tempfile::TempDir,
    _process: tokio::process::Child,
}

/// The python of the test tools `scripts/test` installs (aiosmtpd among them); `None`: not installed.
fn test_python() -> Option<PathBuf> {
    if let Ok(python) = std::env::var("AGENTDECK_TEST_PYTHON") {
        return Some(PathBuf::from(python));
    }
    let tools = std::env::var_os("AGENTDECK_TEST_TOOLS")
        .map(PathBuf::from)
        .or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).parent().map(|target| target.join("test-tools")))?;
    let python = tools.join("venv/bin/python");
    python.exists().then_some(python)
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("address").port()
}

impl MailServer {
    /// Starts aiosmtpd on `port`; `None` when the test tools are not installed.
    async fn start(port: u16) -> Option<MailServer> {
        Self::start_with(port, &[]).await
    }

    /// Starts aiosmtpd on `port` with extra options (before the handler's), e.g. `--tlscert`.
    async fn start_with(port: u16, options: &[&str]) -> Option<MailServer> {
        let python = test_python()?;
        let maildir = tempfile::tempdir().expect("maildir");
        let process = tokio::process::Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(options)
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            // A folder that does not exist yet: Python's Maildir creates it with its `new`, `cur` and `tmp`.
            .arg(maildir.path().join("mail"))
            .kill_on_drop(true)
            .stdout(std::process::Stdio::null())
            // Quiet: a refused TLS handshake (on purpose, below) would print a traceback.
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot run {} -m aiosmtpd: {error}", python.display()));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "aiosmtpd did not listen on {port}; is it installed in {}? (scripts/test installs it)",
                python.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Some(MailServer { port, maildir, _process: process })
    }

    /// Waits for the `count`-th message and returns the messages received, oldest first.
    async fn messages(&self, count: usize) -> Vec<String> {
        let new = self.maildir.path().join("mail/new");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let mut files: Vec<_> = std::fs::read_dir(&new)
                .map(|entries| entries.filter_map(Result::ok).map(|entry| entry.path()).collect())
                .unwrap_or_default();
            if files.len() >= count {
                files.sort_by_key(|path| std::fs::metadata(path).and_then(|meta| meta.modified()).ok());
                return files.iter().map(|path| std::fs::read_to_string(path).expect("a message")).collect();
            }
            assert!(tokio::time::Instant::now() < deadline, "{count} message(s) did not arrive; got {}", files.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A header's value in a raw message.
fn header<'a>(message: &'a str, name: &str) -> &'a str {
    message
        .lines()
        .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(": ")))
        .unwrap_or_else(|| panic!("no {name} header in {message}"))
}

/// The body's text, quoted-printable soft breaks and `=3D` undone if the message uses that encoding.
fn body_text(message: &str) -> String {
    let body = message.split_once("\r\n\r\n").or_else(|| message.split_once("\n\n")).map_or("", |(_, body)| body);
    if message.to_ascii_lowercase().contains("content-transfer-encoding: quoted-printable") {
        body.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=")
    } else {
        body.to_owned()
    }
}

/// A dev-mode server sending mail to 127.0.0.1:`port` without TLS.
async fn app_mailing_to(port: u16) -> TestApp {
    spawn_app_with(|settings| {
        settings.smtp.host = "127.0.0.1".into();
        settings.smtp.port = port;
        settings.smtp.tls = agentdeck_server::config::SmtpTlsSetting::None;
        settings.smtp.from = "agentdeck <noreply@agentdeck.test>".into();
        settings.smtp.timeout_secs = 5;
    })
    .await
}

#[tokio::test]
async fn with_smtp_the_link_is_mailed_and_the_mailed_token_is_accepted() {
    let Some(mail) = MailServer::start(free_port()).await else {
        eprintln!("SKIPPED: aiosmtpd is not installed; scripts/test installs it");
        return;
    };
    let app = app_mailing_to(mail.port).await;
    let (status, issued) = invite(&app, "Carol@Example.org", "member").await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    assert_eq!(issued["delivery"], json!({"status": "email"}), "the link is not handed back: {issued}");

    let message = mail.messages(1).await.remove(0);
    assert_eq!(header(&message, "To"), "carol@example.org");
    assert_eq!(header(&message, "From"), "agentdeck <noreply@agentdeck.test>");
    let (_, workspace) = app.get("/api/workspace").await;
    let subject = format!("You are invited to {} on agentdeck", workspace["name"].as_str().unwrap());
    assert_eq!(header(&message, "Subject"), subject);
    let body = body_text(&message);
    let prefix = format!("{}/#invite=", app.address);
    let link = body.lines().find(|line| line.starts_with(&prefix)).unwrap_or_else(|| panic!("no link in {body}"));
    let token = token_of(link.trim());

    let accept = json!({"token": token, "displayName": "Carol", "password": PASSWORD});
    let (status, joined) = invitee_post(&app, "/api/invitations/accept", &accept).await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(joined["account"]["email"], "carol@example.org");
}

#[tokio::test]
async fn a_failed_send_keeps_the_invitation_and_a_resend_delivers_a_new_link() {
    // Nothing listens on the port yet: the send fails at once (connection refused).
    let port = free_port();
    let app = app_mailing_to(port).await;
    let (status, issued) = invite(&app, "dave@example.org", "member").await;
    assert_eq!(status, StatusCode::CREATED, "the invitation exists though the mail failed: {issued}");
    assert_eq!(issued["delivery"]["status"], "failed", "{issued}");
    let reason = issued["delivery"]["reason"].as_str().expect("a reason");
    assert!(reason.to_lowercase().contains("refused"), "{reason}");
    assert!(issued["delivery"].get("link").is_none(), "{issued}");
    let (_, pending) = app.get("/api/workspace/invitations").await;
    assert_eq!(pending["items"][0]["id"], issued["invitation"]["id"]);

    let Some(mail) = MailServer::start(port).await else {
        eprintln!("SKIPPED (second half): aiosmtpd is not installed; scripts/test installs it");
        return;
    };
    let id = issued["invitation"]["id"].as_str().unwrap();
    let (status, resent) = app.post(&format!("/api/workspace/invitations/{id}/resend"), &json!(null)).await;
    assert_eq!(status, StatusCode::OK, "{resent}");
    assert_eq!(resent["delivery"]["status"], "email", "{resent}");
    let message = mail.messages(1).await.remove(0);
    assert_eq!(header(&message, "To"), "dave@example.org");
    let body = body_text(&message);
    let link = body.lines().find(|line| line.contains("#invite=")).expect("a link");
    let (status, preview) =
        invitee_post(&app, "/api/invitations/preview", &json!({"token": token_of(link.trim())})).await;
    assert_eq!((status, &preview["email"]), (StatusCode::OK, &json!("dave@example.org")));
}

/// A test CA's certificate and a server certificate for `localhost` it signed, as PEM files in `dir`:
/// `(ca, cert, key)`.
fn test_certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "agentdeck test mail CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server_cert =
        CertificateParams::new(vec!["localhost".to_owned()]).unwrap().signed_by(&server_key, &issuer).unwrap();
    let paths = (dir.join("ca.pem"), dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&paths.0, ca_cert.pem()).unwrap();
    std::fs::write(&paths.1, server_cert.pem()).unwrap();
    std::fs::write(&paths.2, server_key.serialize_pem()).unwrap();
    paths
}

#[tokio::test]
async fn starttls_is_required_and_the_servers_certificate_is_checked() {
    let pki = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_certificates(pki.path());
    let (cert, key) = (cert.display().to_string(), key.display().to_string());
    // aiosmtpd with a certificate requires STARTTLS before MAIL.
    let Some(mail) = MailServer::start_with(free_port(), &["--tlscert", &cert, "--tlskey", &key]).await else {
        eprintln!("SKIPPED: aiosmtpd is not installed; scripts/test installs it");
        return;
    };
    let mailing = |ca_file: Option<PathBuf>| {
        let port = mail.port;
        spawn_app_with(move |settings| {
            // The certificate names `localhost`; TLS checks the name the settings give.
            settings.smtp.host = "localhost".into();
            settings.smtp.port = port;
            settings.smtp.tls = agentdeck_server::config::SmtpTlsSetting::Starttls;
            settings.smtp.from = "noreply@agentdeck.test".into();
            settings.smtp.timeout_secs = 5;
            settings.http_client.ca_file = ca_file.map(|path| path.display().to_string()).unwrap_or_default();
        })
    };

    // Mozilla's roots alone do not know the test CA: the handshake fails, nothing is sent.
    let app = mailing(None).await;
    let (status, issued) = invite(&app, "erin@example.org", "member").await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    assert_eq!(issued["delivery"]["status"], "failed", "{issued}");
    let reason = issued["delivery"]["reason"].as_str().unwrap_or_default().to_lowercase();
    assert!(reason.contains("certificate") || reason.contains("issuer"), "{reason}");
    drop(app);

    // With the CA trusted (http_client.ca_file), the mail goes out over STARTTLS.
    let app = mailing(Some(ca)).await;
    let (status, issued) = invite(&app, "frank@example.org", "member").await;
    assert_eq!((status, &issued["delivery"]["status"]), (StatusCode::CREATED, &json!("email")), "{issued}");
    let messages = mail.messages(1).await;
    assert_eq!(messages.len(), 1, "only the second mail arrived");
    assert_eq!(header(&messages[0], "To"), "frank@example.org");
}

#[tokio::test]
async fn implicit_tls_delivers_to_a_server_of_a_trusted_ca() {
    let pki = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_certificates(pki.path());
    let (cert, key) = (cert.display().to_string(), key.display().to_string());
    // SMTPS: TLS from the first byte (what port 465 serves).
    let Some(mail) = MailServer::start_with(free_port(), &["--smtpscert", &cert, "--smtpskey", &key]).await else {
        eprintln!("SKIPPED: aiosmtpd is not installed; scripts/test installs it");
        return;
    };
    let port = mail.port;
    let app = spawn_app_with(move |settings| {
        settings.smtp.host = "localhost".into();
        settings.smtp.port = port;
        settings.smtp.tls = agentdeck_server::config::SmtpTlsSetting::Tls;
        settings.smtp.from = "noreply@agentdeck.test".into();
        settings.smtp.timeout_secs = 5;
        settings.http_client.ca_file = ca.display().to_string();
    })
    .await;
    let (status, issued) = invite(&app, "grace@example.org", "member").await;
    assert_eq!((status, &issued["delivery"]["status"]), (StatusCode::CREATED, &json!("email")), "{issued}");
    assert_eq!(header(&mail.messages(1).await[0], "To"), "grace@example.org");
}
