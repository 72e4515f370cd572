//! The acceptance flow of issue 14, end to end as an operator and two people
//! would go through it: a fresh data dir, a workspace made with the CLI
//! (`agentdeck workspace create … --owner-password-file`), the server started
//! on it in **production mode**, the owner signing in through the page's form,
//! inviting a second person (link delivery: no SMTP configured), the second
//! person accepting in another browser (another WebDriver session, so another
//! cookie jar), and both seeing the same project data, each on their own dashboard.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use super::invitations::{act, invite_in_page};
use super::support::{Driver, Page};
use crate::helpers::spawn_app_with;

const OWNER_EMAIL: &str = "olivia@acme.example";
const OWNER_PASSWORD: &str = "olivia's long passphrase";
const INVITEE_EMAIL: &str = "ravi@acme.example";
const INVITEE_PASSWORD: &str = "ravi's own long passphrase";
/// In production the session cookie needs `Secure`, so it carries the `__Host-` prefix.
const COOKIE: &str = "__Host-agentdeck_session";

/// The `agentdeck` binary of this build (`scripts/test` builds it with the workspace); built here when missing.
fn agentdeck_binary() -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("the target dir").to_owned();
    let binary = target.join("debug").join("agentdeck");
    if !binary.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", "agentdeck-cli", "--bin", "agentdeck"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("CARGO_TARGET_DIR", &target)
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the agentdeck binary failed");
    }
    binary
}

/// Waits for the dashboard's first render of a signed-in page.
async fn wait_ready(page: &Page) {
    act(
        page,
        r#"await until('the dashboard', () => window.agentdeck?.ready);
           await window.agentdeck.ready;
           return 'ok';"#,
    )
    .await;
}

/// The project names the page's projects page lists.
async fn projects_listed(page: &Page, expected: &str) -> Value {
    act(
        page,
        &format!(
            r#"location.hash = '#/projects';
               await until('the project', () => document.querySelector('[data-page="project"] tbody')?.textContent.includes({expected:?}));
               return [...document.querySelectorAll('[data-page="project"] tbody tr td:first-child')].map((cell) => cell.textContent);"#
        ),
    )
    .await
}

/// The theme preference in the page's own dashboard document.
async fn theme(page: &Page) -> Value {
    page.eval("return window.agentdeck.sync.state?.preferences?.theme ?? null;", Value::Null).await
}

#[tokio::test]
async fn an_operator_creates_a_workspace_the_owner_invites_and_both_work_on_the_same_projects() {
    // The operator: a fresh data dir and the CLI, as the README's "Production" section says.
    let data = tempfile::tempdir().expect("data dir");
    let password_file = data.path().join("owner-password");
    std::fs::write(&password_file, format!("{OWNER_PASSWORD}\n")).expect("password file");
    let output = Command::new(agentdeck_binary())
        .args(["workspace", "create", "--name", "Acme", "--owner-email", OWNER_EMAIL, "--owner-name", "Olivia"])
        .arg("--owner-password-file")
        .arg(&password_file)
        .arg("--data-dir")
        .arg(data.path())
        .env_remove("AGENTDECK_DATABASE_URL")
        .output()
        .expect("agentdeck runs");
    assert!(output.status.success(), "workspace create: {}", String::from_utf8_lossy(&output.stderr));
    let workspace_id = String::from_utf8_lossy(&output.stdout).trim().to_owned();

    // The server on that data dir, in production mode (strong JWT secret, loopback bind, no demo).
    let dir = data.path().to_owned();
    let app = spawn_app_with(move |settings| {
        crate::sessions::production(settings);
        settings.data_dir = dir;
    })
    .await;
    assert!(app.token.is_empty(), "no dev login in production");
    let (status, _) = app.request(reqwest::Method::POST, "/api/dev/login", None, None).await;
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND, "production has no dev login");

    // The owner signs in through the page's form.
    let driver = Driver::start().await;
    let mut owner = driver.page(&app).await;
    act(
        &owner,
        &format!(
            r#"const form = await until('the sign-in form', () => !document.querySelector('[data-view="signin"]').hidden
                 && document.querySelector('form[data-role="password-login"]'));
               form.elements.email.value = {OWNER_EMAIL:?};
               form.elements.password.value = {OWNER_PASSWORD:?};
               form.requestSubmit();
               return 'ok';"#
        ),
    )
    .await;
    wait_ready(&owner).await;
    let cookies = owner.client.get_all_cookies().await.expect("cookies");
    let session = cookies.iter().find(|cookie| cookie.name() == COOKIE).unwrap_or_else(|| panic!("{cookies:?}"));
    assert_eq!((session.secure(), session.http_only()), (Some(true), Some(true)), "{session:?}");

    // A project of the workspace, made on the projects page.
    act(
        &owner,
        r#"location.hash = '#/projects';
           const create = await until('the new button', () => document.querySelector('[data-page="project"] [data-action="create"]'));
           create.click();
           const form = await until('the form', () => document.querySelector('[data-page="project"] form[data-role="record-form"]'));
           form.elements.namedItem('name').value = 'Launch';
           form.querySelector('[type="submit"]').click();
           await until('the row', () => document.querySelector('[data-page="project"] tbody')?.textContent.includes('Launch'));
           return 'ok';"#,
    )
    .await;

    // The invitation, by link (no SMTP configured).
    let link = invite_in_page(&owner, INVITEE_EMAIL, "member").await;
    assert!(link.starts_with(&format!("{}/#invite=", app.address)), "{link}");

    // The second person, in another browser: the link, then a name and a password.
    let mut invitee = driver.browser().await;
    invitee.client.goto(&link).await.expect("the link opens");
    act(
        &invitee,
        &format!(
            r#"const summary = await until('the invitation', () => document.querySelector('[data-role="invitation-summary"]'));
               if (!summary.textContent.includes('Acme')) throw new Error('not the workspace: ' + summary.textContent);
               const form = document.querySelector('[data-view="invitation"] form');
               form.elements.namedItem('displayName').value = 'Ravi';
               form.elements.namedItem('password').value = {INVITEE_PASSWORD:?};
               form.querySelector('[type="submit"]').click();
               await until('the header', () => document.querySelector('[data-role="who"]')?.textContent.includes('Ravi'));
               return 'ok';"#
        ),
    )
    .await;
    wait_ready(&invitee).await;

    // The same project data in both browsers.
    assert_eq!(projects_listed(&owner, "Launch").await, json!(["Launch"]));
    assert_eq!(projects_listed(&invitee, "Launch").await, json!(["Launch"]));
    // The member list knows both, with their roles.
    let (owner_account, invitee_account) = (
        app.stores.accounts.find_account_by_email(OWNER_EMAIL).await.unwrap().expect("owner"),
        app.stores.accounts.find_account_by_email(INVITEE_EMAIL).await.unwrap().expect("invitee"),
    );
    let workspace_id: uuid::Uuid = workspace_id.parse().expect("the CLI printed a workspace id");
    let members = &app.stores.members;
    let role_of = |account: uuid::Uuid| async move {
        members.find_member_by_user(workspace_id, &account.to_string()).await.unwrap().map(|m| m.role.as_str())
    };
    assert_eq!(role_of(owner_account.id).await, Some("owner"));
    assert_eq!(role_of(invitee_account.id).await, Some("member"));

    // Each their own dashboard: the owner's change of theme is in the owner's document only.
    act(
        &owner,
        r#"location.hash = '#/';
           await window.agentdeck.sync.patch([{ op: 'add', path: '/preferences/theme', value: 'dark' }]);
           await until('the dark theme', () => document.documentElement.dataset.theme === 'dark');
           return 'ok';"#,
    )
    .await;
    assert_eq!(theme(&owner).await, json!("dark"));
    invitee.client.refresh().await.expect("reload");
    wait_ready(&invitee).await;
    assert_ne!(theme(&invitee).await, json!("dark"), "the invitee's dashboard is their own");
    let who = invitee.eval("return document.querySelector('[data-role=\"who\"]').textContent;", Value::Null).await;
    assert!(who.as_str().is_some_and(|who| who.starts_with("Ravi")), "still signed in after a reload: {who}");

    owner.assert_no_console_errors(&["favicon"]).await;
    invitee.assert_no_console_errors(&["favicon"]).await;
    owner.quit().await;
    invitee.quit().await;
}
