//! Browser tests of signing in with an account (web/app/session.js, api.js):
//! the email and password form, the session cookie scripts cannot read, the
//! CSRF header the page's writes and socket tickets carry (and its one refresh
//! when it went stale), a wrong password and a lockout as the form says them,
//! signing out in every tab of a browser, signing out everywhere (another
//! browser is signed out on its next request, or at once when its sync socket
//! is closed with 4001), the workspace switcher (the
//! other workspace's projects, the other tab follows), axe-core on the form
//! and the header, and a screenshot baseline of the form.
//!
//! Accounts are made as `agentdeck workspace create` makes them
//! (`accounts::create_workspace` on the test's store handle); the same email
//! twice gives one account that is a member of two workspaces.

use std::path::PathBuf;

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use agentdeck_domain::auth::{Principal, Role};
use agentdeck_domain::records::NewProject;
use agentdeck_services::accounts::{NewWorkspace, create_workspace};
use agentdeck_services::projects::ProjectService;

use super::support::{Driver, Page};
use super::widgets::{compare_with_baseline, decode_png, write_png};
use crate::helpers::{TestApp, spawn_app};

/// The password of every account these tests make.
const PASSWORD: &str = "a long enough passphrase";
/// The display name of every account these tests make.
const NAME: &str = "Ada Lovelace";
/// The session cookie's name in dev mode (the contract: `__Host-` needs `Secure`, which plain http lacks).
const COOKIE: &str = "agentdeck_session";

/// A new email, so accounts of parallel tests never meet.
fn new_email() -> String {
    format!("ada-{}@example.com", Uuid::now_v7())
}

/// A workspace `name` owned by the account with `email` (created with [`PASSWORD`] when new,
/// reused otherwise) holding one project `project`; returns its id and an owner's token for REST checks.
async fn workspace_with_project(app: &TestApp, email: &str, name: &str, project: &str) -> (Uuid, String) {
    let input = NewWorkspace { name: name.into(), owner_email: email.into(), owner_name: Some(NAME.into()) };
    let created = create_workspace(&app.stores, input, || Ok(PASSWORD.into())).await.expect("workspace");
    let owner =
        Principal { subject: created.owner.id.to_string(), workspace_id: created.workspace.id, role: Role::Owner };
    let input = NewProject {
        name: project.into(),
        description: String::new(),
        start_date: None,
        due_date: None,
        archived: false,
    };
    ProjectService::new(app.stores.clone()).create_project(&owner, input).await.expect("project");
    (created.workspace.id, app.token_for(&owner))
}

/// Fills the sign-in form with `email` and `password` and submits it.
async fn submit_sign_in(page: &Page, email: &str, password: &str) {
    page.wait_for(
        "the sign-in form",
        r#"!document.querySelector('[data-view="signin"]').hidden && document.querySelector('form[data-role="password-login"]')"#,
        10,
    )
    .await;
    page.eval(
        r#"const form = document.querySelector('form[data-role="password-login"]');
           form.elements.email.value = arguments[0][0];
           form.elements.password.value = arguments[0][1];
           form.requestSubmit(); return null;"#,
        json!([email, password]),
    )
    .await;
}

/// Signs `page` in through the form and waits for the dashboard.
async fn sign_in_with_password(page: &Page, email: &str) {
    submit_sign_in(page, email, PASSWORD).await;
    page.wait_ready().await;
}

/// Waits until the tab's sync socket is subscribed (its ticket was issued).
async fn wait_live(page: &Page) {
    page.wait_for("a live socket", "window.agentdeck?.sync?.live === true", 15).await;
}

/// Waits until the tab shows the sign-in view.
async fn wait_signed_out(page: &Page, what: &str) {
    page.wait_for(what, r#"!document.querySelector('[data-view="signin"]').hidden"#, 15).await;
}

/// The value of the session cookie of the page's browser (fails when there is none).
async fn session_cookie(page: &Page) -> String {
    let cookies = page.client.get_all_cookies().await.expect("cookies");
    let cookie = cookies.iter().find(|cookie| cookie.name() == COOKIE);
    cookie.unwrap_or_else(|| panic!("no {COOKIE} cookie in {cookies:?}")).value().to_owned()
}

/// `GET /api/me` with only the session cookie `value`, as a replayed cookie would be sent.
async fn me_with_cookie(app: &TestApp, value: &str) -> StatusCode {
    let response = app
        .client
        .get(format!("{}/api/me", app.address))
        .header("cookie", format!("{COOKIE}={value}"))
        .send()
        .await
        .expect("request sent");
    response.status()
}

/// Runs `body` (an async function body; `api` is the page's api.js module, `arg` the argument) in the page.
async fn with_api(page: &Page, body: &str, arg: Value) -> Value {
    page.run(
        &format!(
            r#"const done = arguments[arguments.length - 1];
               const arg = arguments[0];
               import('/assets/app/api.js').then(async (api) => {{ {body} }})
                 .then(done, (error) => done('error: ' + (error && error.message || error)));"#
        ),
        arg,
    )
    .await
}

#[tokio::test]
async fn a_password_sign_in_sets_a_cookie_scripts_cannot_read_and_writes_carry_the_csrf_token() {
    let app = spawn_app().await;
    let email = new_email();
    let (alpha, owner_token) = workspace_with_project(&app, &email, "Alpha", "Alpha launch").await;
    let driver = Driver::start().await;
    let mut page = driver.page(&app).await;
    sign_in_with_password(&page, &email).await;
    // The ticket of the socket was issued to the cookie (with the CSRF header: it is a POST).
    wait_live(&page).await;

    let header = page
        .eval(
            r#"return { who: document.querySelector('[data-role="who"]').textContent,
                        switcher: document.querySelector('[data-role="workspace-switch"]').hidden,
                        signOut: document.querySelector('[data-action="sign-out"]').hidden,
                        everywhere: document.querySelector('[data-action="sign-out-everywhere"]').hidden,
                        token: localStorage.getItem('agentdeck.token'),
                        cookieSeen: document.cookie,
                        password: document.querySelector('form[data-role="password-login"]').elements.password.value };"#,
            Value::Null,
        )
        .await;
    assert_eq!(
        header,
        json!({ "who": format!("{NAME} · Alpha"), "switcher": true, "signOut": false, "everywhere": false,
                "token": null, "cookieSeen": "", "password": "" }),
        "one workspace: its name beside the person's, no switcher; nothing of the session readable by scripts"
    );
    // The browser holds the cookie, flagged HttpOnly and SameSite=Lax (not Secure: dev mode on plain http).
    let cookies = page.client.get_all_cookies().await.expect("cookies");
    let cookie = cookies.iter().find(|cookie| cookie.name() == COOKIE).expect("the session cookie");
    assert_eq!(cookie.http_only(), Some(true), "{cookie:?}");
    assert_eq!(format!("{:?}", cookie.same_site()), "Some(Lax)", "{cookie:?}");
    assert_eq!(cookie.path(), Some("/"), "{cookie:?}");
    assert_ne!(cookie.secure(), Some(true), "dev mode on http: {cookie:?}");
    assert!(cookie.domain().is_none_or(|domain| !domain.starts_with('.')), "host-only: {cookie:?}");

    // The quick questions are the account's workspace's projects.
    page.wait_for(
        "Alpha's quick question",
        r#"[...document.querySelectorAll('[data-role="quick-questions"] button')].some((b) => b.textContent === 'How is Alpha launch doing')"#,
        10,
    )
    .await;

    // A write through the page's api(): carried by the cookie and its CSRF token, stored in Alpha.
    let created = with_api(
        &page,
        r#"const project = await api.api('/api/projects', { method: 'POST', body: { name: arg } });
           return project.id;"#,
        json!("Made in the page"),
    )
    .await;
    let (status, body) = app.request(reqwest::Method::GET, "/api/projects?limit=200", Some(&owner_token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let names: Vec<&str> = body["items"].as_array().expect("items").iter().filter_map(|p| p["name"].as_str()).collect();
    assert!(names.contains(&"Made in the page"), "created {created} in Alpha ({alpha}): {names:?}");

    // The same write without the header is refused: the cookie alone is not enough.
    let refused = with_api(
        &page,
        r#"const response = await fetch('/api/projects', { method: 'POST', credentials: 'same-origin',
             headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'No CSRF token' }) });
           return response.status;"#,
        Value::Null,
    )
    .await;
    assert_eq!(refused, 403);

    // A stale CSRF token (rotated elsewhere) costs one /api/me and a retry, not an error.
    let retried = with_api(
        &page,
        r#"const good = api.csrfToken();
           api.setCsrfToken('stale');
           const project = await api.api('/api/projects', { method: 'POST', body: { name: 'After a refresh' } });
           return { created: Boolean(project.id), restored: api.csrfToken() === good };"#,
        Value::Null,
    )
    .await;
    assert_eq!(retried, json!({ "created": true, "restored": true }));

    // A reload asks /api/me and is signed in again, without the form.
    page.client.refresh().await.expect("reload");
    page.wait_ready().await;
    wait_live(&page).await;
    let after = page.eval(r#"return document.querySelector('[data-role="who"]').textContent;"#, Value::Null).await;
    assert_eq!(after, json!(format!("{NAME} · Alpha")));

    // Two 403s were on purpose: the fetch without the header and the stale token's first try.
    page.assert_no_console_errors(&["status of 403"]).await;
    page.quit().await;
}

#[tokio::test]
async fn a_wrong_password_shows_the_servers_message_and_a_lockout_says_when_to_try_again() {
    let app = spawn_app().await;
    let email = new_email();
    workspace_with_project(&app, &email, "Alpha", "Alpha launch").await;
    // What the server says to a wrong password (the same as to an unknown email: no enumeration).
    let response = app
        .client
        .post(format!("{}/api/auth/login", app.address))
        .header("origin", &app.address)
        .json(&json!({ "email": new_email(), "password": "wrong" }))
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let answer: Value = response.json().await.expect("JSON");
    let message = answer["error"]["message"].as_str().expect("message").to_owned();

    let driver = Driver::start().await;
    let mut page = driver.page(&app).await;
    submit_sign_in(&page, &email, "not the password").await;
    let shown = page
        .wait_for(
            "the sign-in error",
            r#"!document.querySelector('#signin-error').hidden && document.querySelector('#signin-error').textContent"#,
            10,
        )
        .await;
    // The server's words, as a sentence (a capital letter, a full stop).
    let shown = shown.as_str().unwrap_or_default().to_lowercase();
    assert!(shown.contains(message.trim_end_matches('.').to_lowercase().as_str()), "{shown} vs {message}");
    let state = page
        .eval(
            r#"const form = document.querySelector('form[data-role="password-login"]');
               return { email: form.elements.email.value, password: form.elements.password.value,
                        invalid: form.elements.password.getAttribute('aria-invalid'),
                        describedBy: form.elements.password.getAttribute('aria-describedby'),
                        focused: document.activeElement === form.elements.password,
                        nav: document.querySelector('nav').hidden };"#,
            Value::Null,
        )
        .await;
    assert_eq!(
        state,
        json!({ "email": email, "password": "", "invalid": "true", "describedBy": "signin-error",
                "focused": true, "nav": true }),
        "the email stays, the password is cleared, the field is marked and focused, nobody is signed in"
    );
    assert!(
        page.client.get_all_cookies().await.expect("cookies").iter().all(|cookie| cookie.name() != COOKIE),
        "no session cookie after a refused sign-in"
    );

    // More failures lock the account: the form says so and when to try again (the failure window).
    let mut locked = Value::Null;
    for _ in 0..8 {
        page.eval("document.querySelector('#signin-error').hidden = true; return null;", Value::Null).await;
        submit_sign_in(&page, &email, "still not the password").await;
        let said = page
            .wait_for(
                "the sign-in error",
                r#"!document.querySelector('#signin-error').hidden && document.querySelector('#signin-error').textContent"#,
                10,
            )
            .await;
        if said.as_str().is_some_and(|text| text.contains("Try again")) {
            locked = said;
            break;
        }
    }
    let locked = locked.as_str().unwrap_or_else(|| panic!("never locked")).to_owned();
    assert!(locked.contains("Try again in") && locked.contains("minute"), "{locked}");
    // While locked even the right password is refused, with the same kind of message.
    page.eval("document.querySelector('#signin-error').hidden = true; return null;", Value::Null).await;
    submit_sign_in(&page, &email, PASSWORD).await;
    let said = page
        .wait_for(
            "the lock message",
            r#"!document.querySelector('#signin-error').hidden && document.querySelector('#signin-error').textContent"#,
            10,
        )
        .await;
    assert!(said.as_str().is_some_and(|text| text.contains("Try again in")), "{said}");
    let invalid = page
        .eval(r#"return document.querySelector('#signin-password').getAttribute('aria-invalid');"#, Value::Null)
        .await;
    assert_eq!(invalid, Value::Null, "a lock is not the field's fault");
    assert_eq!(page.eval("return document.querySelector('nav').hidden;", Value::Null).await, true);
    page.assert_no_console_errors(&["status of 401", "status of 429"]).await;
    page.quit().await;
}

#[tokio::test]
async fn signing_out_ends_the_session_in_every_tab_and_the_old_cookie_is_refused() {
    let app = spawn_app().await;
    let email = new_email();
    workspace_with_project(&app, &email, "Alpha", "Alpha launch").await;
    let driver = Driver::start().await;
    let mut page = driver.page(&app).await;
    sign_in_with_password(&page, &email).await;
    let cookie = session_cookie(&page).await;
    assert_eq!(me_with_cookie(&app, &cookie).await, StatusCode::OK);

    // A second tab of the browser opens signed in (the cookie, found through /api/me).
    let first = page.client.window().await.expect("window");
    let second = page.client.new_window(true).await.expect("new tab").handle;
    page.client.switch_to_window(second).await.expect("switch");
    page.goto(&app, "/").await;
    page.wait_ready().await;
    wait_live(&page).await;

    page.eval(r#"document.querySelector('[data-action="sign-out"]').click(); return null;"#, Value::Null).await;
    wait_signed_out(&page, "the sign-in view").await;
    page.client.switch_to_window(first).await.expect("switch back");
    wait_signed_out(&page, "the first tab signed out").await;
    let notice = page.eval(r#"return document.querySelector('[data-role="notices"]').textContent;"#, Value::Null).await;
    assert!(notice.as_str().unwrap_or_default().contains("another tab"), "{notice}");
    assert_eq!(page.eval("return window.agentdeck.sync;", Value::Null).await, Value::Null, "its socket is closed");

    // The server ended the session: the old cookie, replayed, is refused.
    assert_eq!(me_with_cookie(&app, &cookie).await, StatusCode::UNAUTHORIZED);
    // A reload stays signed out without asking the server (no 401 in the console).
    page.client.refresh().await.expect("reload");
    wait_signed_out(&page, "the sign-in view after a reload").await;
    page.assert_no_console_errors(&[]).await;
    page.quit().await;
}

#[tokio::test]
async fn signing_out_everywhere_signs_out_another_browser_on_its_next_request() {
    let app = spawn_app().await;
    let email = new_email();
    workspace_with_project(&app, &email, "Alpha", "Alpha launch").await;
    let driver = Driver::start().await;
    let mut a = driver.page(&app).await;
    let mut b = driver.page(&app).await;
    sign_in_with_password(&a, &email).await;
    sign_in_with_password(&b, &email).await;
    let b_cookie = session_cookie(&b).await;
    assert_ne!(session_cookie(&a).await, b_cookie, "each browser has its own session");

    a.eval(r#"document.querySelector('[data-action="sign-out-everywhere"]').click(); return null;"#, Value::Null).await;
    wait_signed_out(&a, "the sign-in view").await;
    let notice = a.eval(r#"return document.querySelector('[data-role="notices"]').textContent;"#, Value::Null).await;
    assert!(notice.as_str().unwrap_or_default().contains("every device"), "{notice}");

    // The other browser learns it on its next request: opening the projects page.
    assert_eq!(me_with_cookie(&app, &b_cookie).await, StatusCode::UNAUTHORIZED);
    b.eval("location.hash = '#/projects'; return null;", Value::Null).await;
    wait_signed_out(&b, "the other browser signed out").await;
    let notice = b.eval(r#"return document.querySelector('[data-role="notices"]').textContent;"#, Value::Null).await;
    assert!(notice.as_str().unwrap_or_default().contains("sign in again"), "{notice}");
    assert_eq!(b.eval("return window.agentdeck.sync;", Value::Null).await, Value::Null);
    a.assert_no_console_errors(&[]).await;
    // The refused request of the signed-out browser (and its socket's ticket, if it tried).
    b.assert_no_console_errors(&["status of 401"]).await;
    a.quit().await;
    b.quit().await;
}

/// The server ends the other browser's sync socket with 4001 when its session
/// ends; the page returns to the sign-in view on its own, with no request of its user.
#[tokio::test]
async fn a_socket_closed_with_4001_returns_the_page_to_the_sign_in_view() {
    let app = spawn_app().await;
    let email = new_email();
    workspace_with_project(&app, &email, "Alpha", "Alpha launch").await;
    let driver = Driver::start().await;
    let mut a = driver.page(&app).await;
    let mut b = driver.page(&app).await;
    sign_in_with_password(&a, &email).await;
    sign_in_with_password(&b, &email).await;
    wait_live(&b).await;
    // Record the close the page's socket sees (the page keeps no close history of its own).
    b.eval(
        r#"window.__closes = [];
           const Original = window.WebSocket;
           window.agentdeck.sync.disconnect();
           window.WebSocket = function (...args) {
             const ws = new Original(...args);
             ws.addEventListener('close', (event) => window.__closes.push(event.code));
             return ws;
           };
           window.WebSocket.prototype = Original.prototype;
           Object.assign(window.WebSocket, { OPEN: Original.OPEN, CLOSED: Original.CLOSED });
           window.agentdeck.sync.reconnectNow();
           return null;"#,
        Value::Null,
    )
    .await;
    wait_live(&b).await;
    // Let the panels' debounced reloads after the new snapshot finish, so no request of theirs
    // meets the ended session: only the socket's close can bring the page back to the form.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;

    a.eval(r#"document.querySelector('[data-action="sign-out-everywhere"]').click(); return null;"#, Value::Null).await;
    wait_signed_out(&a, "the sign-in view").await;
    wait_signed_out(&b, "the other browser back at the sign-in view, untouched").await;
    assert_eq!(b.eval("return window.__closes;", Value::Null).await, json!([4001]), "closed by the server with 4001");
    let notice = b.eval(r#"return document.querySelector('[data-role="notices"]').textContent;"#, Value::Null).await;
    assert!(notice.as_str().unwrap_or_default().contains("sign in again"), "{notice}");
    assert_eq!(b.eval("return window.agentdeck.sync;", Value::Null).await, Value::Null);
    a.assert_no_console_errors(&[]).await;
    // The page's check of its credential after the close is refused.
    b.assert_no_console_errors(&["status of 401"]).await;
    a.quit().await;
    b.quit().await;
}

#[tokio::test]
async fn the_workspace_switcher_shows_the_other_workspaces_projects_and_the_other_tab_follows() {
    let app = spawn_app().await;
    let email = new_email();
    let (alpha, _) = workspace_with_project(&app, &email, "Alpha", "Alpha launch").await;
    let (beta, _) = workspace_with_project(&app, &email, "Beta", "Beta rollout").await;
    let project_of = |id: Uuid| if id == alpha { "Alpha launch" } else { "Beta rollout" };
    let driver = Driver::start().await;
    let mut page = driver.page(&app).await;
    sign_in_with_password(&page, &email).await;

    let select = page
        .eval(
            r#"const select = document.querySelector('select[data-role="workspace"]');
               return { hidden: select.closest('[data-role="workspace-switch"]').hidden, value: select.value,
                        options: [...select.options].map((o) => [o.value, o.textContent]).sort((x, y) => x[1].localeCompare(y[1])),
                        who: document.querySelector('[data-role="who"]').textContent };"#,
            Value::Null,
        )
        .await;
    assert_eq!(select["hidden"], false, "{select}");
    assert_eq!(select["options"], json!([[alpha.to_string(), "Alpha"], [beta.to_string(), "Beta"]]), "{select}");
    assert_eq!(select["who"], NAME, "{select}");
    let current: Uuid = select["value"].as_str().expect("value").parse().expect("uuid");
    let other = if current == alpha { beta } else { alpha };

    let page_shows =
        |name: &str| format!(r#"document.querySelector('[data-view="page"]').textContent.includes({name:?})"#);
    page.eval("location.hash = '#/projects'; return null;", Value::Null).await;
    page.wait_for("the current workspace's project", &page_shows(project_of(current)), 10).await;
    assert_eq!(page.eval(&format!("return {};", page_shows(project_of(other))), Value::Null).await, false);

    // A second tab, on the dashboard.
    let first = page.client.window().await.expect("window");
    let second = page.client.new_window(true).await.expect("new tab").handle;
    page.client.switch_to_window(second.clone()).await.expect("switch");
    page.goto(&app, "/").await;
    page.wait_ready().await;
    page.client.switch_to_window(first).await.expect("switch back");

    page.eval(
        r#"const select = document.querySelector('select[data-role="workspace"]');
           select.value = arguments[0]; select.dispatchEvent(new Event('change')); return null;"#,
        json!(other.to_string()),
    )
    .await;
    page.wait_for("the other workspace's project", &page_shows(project_of(other)), 15).await;
    assert_eq!(page.eval(&format!("return {};", page_shows(project_of(current))), Value::Null).await, false);
    wait_live(&page).await;
    let after = page
        .eval(
            r#"return { value: document.querySelector('select[data-role="workspace"]').value,
                        focused: document.activeElement === document.querySelector('select[data-role="workspace"]'),
                        notice: document.querySelector('[data-role="notices"]').textContent };"#,
            Value::Null,
        )
        .await;
    assert_eq!(after["value"], other.to_string(), "{after}");
    assert_eq!(after["focused"], true, "the focus stays on the switcher: {after}");
    assert!(after["notice"].as_str().unwrap_or_default().contains("Switched to the workspace"), "{after}");
    // The session's socket is the other workspace's: its quick questions name the other project.
    page.eval("location.hash = '#/'; return null;", Value::Null).await;
    page.wait_for(
        "the other workspace's quick question",
        &format!(
            r#"[...document.querySelectorAll('[data-role="quick-questions"] button')].some((b) => b.textContent === {:?})"#,
            format!("How is {} doing", project_of(other))
        ),
        10,
    )
    .await;

    // The other tab follows: the same workspace, its projects, a live socket.
    page.client.switch_to_window(second).await.expect("switch");
    page.wait_for(
        "the other tab switched",
        &format!(r#"document.querySelector('select[data-role="workspace"]').value === {:?}"#, other.to_string()),
        15,
    )
    .await;
    page.wait_ready().await;
    wait_live(&page).await;
    page.eval("location.hash = '#/projects'; return null;", Value::Null).await;
    page.wait_for("the other tab's projects", &page_shows(project_of(other)), 10).await;
    page.assert_no_console_errors(&[]).await;
    page.quit().await;
}

#[tokio::test]
async fn axe_finds_no_serious_violations_on_the_form_with_an_error_and_on_the_switcher_in_both_themes() {
    let app = spawn_app().await;
    let email = new_email();
    workspace_with_project(&app, &email, "Alpha", "Alpha launch").await;
    workspace_with_project(&app, &email, "Beta", "Beta rollout").await;
    let driver = Driver::start().await;
    let mut page = driver.page(&app).await;
    submit_sign_in(&page, &email, "not the password").await;
    page.wait_for("the sign-in error", "!document.querySelector('#signin-error').hidden", 10).await;
    let set_theme = r#"const select = document.querySelector('[data-role="theme"]');
                       select.value = arguments[0]; select.dispatchEvent(new Event('change')); return null;"#;
    for theme in ["light", "dark"] {
        page.eval(set_theme, json!(theme)).await;
        page.wait_for(theme, &format!("document.documentElement.dataset.theme === {theme:?}"), 5).await;
        let violations = page.axe().await;
        assert!(violations.is_empty(), "the form with its error, {theme}: {violations:#?}");
    }
    sign_in_with_password(&page, &email).await;
    page.wait_for("the switcher", r#"!document.querySelector('[data-role="workspace-switch"]').hidden"#, 10).await;
    for theme in ["light", "dark"] {
        page.eval(set_theme, json!(theme)).await;
        page.wait_for(theme, &format!("document.documentElement.dataset.theme === {theme:?}"), 5).await;
        let violations = page.axe().await;
        assert!(violations.is_empty(), "the signed-in header, {theme}: {violations:#?}");
    }
    page.assert_no_console_errors(&["status of 401"]).await;
    page.quit().await;
}

/// Where the sign-in view's baselines live (beside the widgets' `baselines/`, which holds gallery items only).
fn baselines_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/api/web/baselines-shell")
}

/// The sign-in view in light and dark looks like its committed baseline
/// (`AGENTDECK_UPDATE_BASELINES=1` rewrites it, as for the widgets).
#[tokio::test]
async fn the_sign_in_view_matches_its_visual_baseline_in_light_and_dark() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let mut page = driver.page(&app).await;
    let update = std::env::var_os("AGENTDECK_UPDATE_BASELINES").is_some_and(|value| value == "1");
    let mut failures = Vec::new();
    page.wait_for("the sign-in view", r#"!document.querySelector('[data-view="signin"]').hidden"#, 10).await;
    for theme in ["light", "dark"] {
        page.eval(
            r#"const select = document.querySelector('[data-role="theme"]');
               select.value = arguments[0]; select.dispatchEvent(new Event('change'));
               document.activeElement?.blur(); return null;"#,
            json!(theme),
        )
        .await;
        page.wait_for(theme, &format!("document.documentElement.dataset.theme === {theme:?}"), 5).await;
        page.run(
            "const done = arguments[arguments.length - 1]; document.fonts.ready.then(() => done('ok'));",
            Value::Null,
        )
        .await;
        let shot = page.element_screenshot(r#"[data-view="signin"]"#).await;
        let actual = decode_png(&shot).expect("the screenshot is a PNG");
        let file = baselines_dir().join(format!("signin-{theme}.png"));
        if update {
            std::fs::create_dir_all(baselines_dir()).expect("baselines dir");
            write_png(&file, &actual);
        } else if let Some(failure) = compare_with_baseline(&format!("signin-{theme}"), &actual, &file) {
            failures.push(failure);
        }
    }
    page.assert_no_console_errors(&[]).await;
    page.quit().await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
