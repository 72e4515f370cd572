//! Invitations in the page: an owner invites someone on the members page (the
//! link is shown when no mail server is configured), the invitee opens the
//! link in another browser, sees the workspace, the email and the role, joins
//! with a name and a password and is signed in on their dashboard; a used link
//! says it cannot be used.

use serde_json::{Value, json};

use super::support::{Driver, Page, sign_in};
use crate::helpers::{TestApp, spawn_app};

/// Chromium logs the 404 of an unknown route's favicon-like request; nothing else may fail.
const FAVICON: &str = "favicon";

/// Runs `body` (async JS with `until(what, test)` and `fill(form, values)`) in the page; returns its result.
pub(crate) async fn act(page: &Page, body: &str) -> Value {
    page.run(
        &format!(
            r#"const done = arguments[arguments.length - 1];
               const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
               const until = async (what, test) => {{
                 for (let i = 0; i < 200; i += 1) {{ const value = test(); if (value) return value; await sleep(50); }}
                 throw new Error('timed out waiting for ' + what);
               }};
               const fill = (form, values) => {{
                 for (const [name, value] of Object.entries(values)) {{
                   const field = form.elements.namedItem(name);
                   if (!field) throw new Error('no field ' + name);
                   field.value = value;
                   field.dispatchEvent(new Event('input', {{ bubbles: true }}));
                   field.dispatchEvent(new Event('change', {{ bubbles: true }}));
                 }}
               }};
               (async () => {{ {body} }})().then(done, (error) => done('error: ' + error.message));"#
        ),
        Value::Null,
    )
    .await
}

/// Invites `email` as `role` through the members page of a signed-in `page`; returns the link shown.
pub(crate) async fn invite_in_page(page: &Page, email: &str, role: &str) -> String {
    let link = act(
        page,
        &format!(
            r#"location.hash = '#/members';
               const button = await until('the invite button', () => document.querySelector('[data-action="invite"]'));
               button.click();
               const form = await until('the invite form', () => document.querySelector('[data-page="invitations"] form[data-role="record-form"]'));
               fill(form, {{ email: {email:?}, role: {role:?} }});
               form.querySelector('[type="submit"]').click();
               const link = await until('the link', () => document.querySelector('[data-role="invitation-link"]'));
               await until('the pending row', () => document.querySelector('[data-role="invitations"] tbody')?.textContent.includes({email:?}));
               return link.value;"#
        ),
    )
    .await;
    link.as_str().unwrap_or_else(|| panic!("no link: {link}")).to_owned()
}

#[tokio::test]
async fn an_owner_invites_on_the_members_page_and_the_invitee_joins_in_another_browser() {
    let app: TestApp = spawn_app().await;
    let driver = Driver::start().await;
    let mut owner = driver.page(&app).await;
    sign_in(&owner).await;
    let link = invite_in_page(&owner, "newbie@example.org", "admin").await;
    assert!(link.starts_with(&format!("{}/#invite=", app.address)), "{link}");
    let actions = owner.eval("return document.querySelector('.row-actions').textContent;", Value::Null).await;
    assert_eq!(actions, json!("Edit"), "a member row offers Edit and nothing else (no stray \"null\")");
    let violations = owner.axe().await;
    assert!(violations.is_empty(), "axe on the members page with a link shown: {violations:#?}");
    owner.assert_no_console_errors(&[FAVICON]).await;

    // Another browser (another person) opens the link.
    let mut invitee = driver.browser().await;
    invitee.client.goto(&link).await.expect("the link opens");
    let summary = invitee
        .wait_for(
            "the invitation's summary",
            r#"document.querySelector('[data-role="invitation-summary"]')?.textContent"#,
            15,
        )
        .await;
    let (_, workspace) = app.get("/api/workspace").await;
    let name = workspace["name"].as_str().expect("name");
    let summary = summary.as_str().unwrap_or_default();
    assert!(summary.contains(name) && summary.contains("newbie@example.org") && summary.contains("admin"), "{summary}");
    let view =
        invitee.eval("return document.querySelector('[data-view=\"invitation\"]').textContent;", Value::Null).await;
    assert!(!view.as_str().unwrap_or_default().contains("null"), "{view}");
    let hash = invitee.eval("return location.hash;", Value::Null).await;
    assert_eq!(hash, json!("#/"), "the token left the address bar");
    let violations = invitee.axe().await;
    assert!(violations.is_empty(), "axe on the invitation view: {violations:#?}");

    // A too short password is refused next to its field; then the real one.
    let refused = act(
        &invitee,
        r#"const form = document.querySelector('[data-view="invitation"] form');
           fill(form, { displayName: 'New Person', password: 'short' });
           form.querySelector('[type="submit"]').click();
           const error = await until('the password error', () => {
             const node = document.querySelector('[data-field="password"] .field-error');
             return node && !node.hidden && node.textContent;
           });
           fill(form, { password: 'a long enough passphrase' });
           form.querySelector('[type="submit"]').click();
           await until('the view to close', () => !document.querySelector('[data-view="invitation"]'));
           // Signed in as the new member: the header names them, the dashboard renders.
           await until('the header', () => document.querySelector('[data-role="who"]')?.textContent.includes('New Person'));
           await until('the dashboard', () => window.agentdeck?.ready);
           await window.agentdeck.ready;
           return error;"#,
    )
    .await;
    assert!(refused.as_str().is_some_and(|text| text.contains("12 characters")), "{refused}");

    // The member exists with the invited role; the pending list is empty.
    let account = app.stores.accounts.find_account_by_email("newbie@example.org").await.unwrap().expect("account");
    let member = app
        .stores
        .members
        .find_member_by_user(app.workspace_id, &account.id.to_string())
        .await
        .unwrap()
        .expect("member");
    assert_eq!((member.display_name.as_str(), member.role.as_str()), ("New Person", "admin"));
    let (_, pending) = app.get("/api/workspace/invitations").await;
    assert_eq!(pending["items"], json!([]));
    invitee.assert_no_console_errors(&[FAVICON, "status of 422"]).await;
    invitee.quit().await;

    // The link again, in a third browser: used.
    let again = driver.browser().await;
    again.client.goto(&link).await.expect("the link opens");
    let message = again
        .wait_for("the refusal", r#"document.querySelector('[data-role="invitation-error"]')?.textContent"#, 15)
        .await;
    assert!(message.as_str().is_some_and(|text| text.contains("expired or already used")), "{message}");
    again.quit().await;
    owner.quit().await;
}
