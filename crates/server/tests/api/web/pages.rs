//! Browser tests of the project data pages (projects, tasks, members) and the
//! dashboard panels (agents, usage); see web/support.rs for the driver.
//!
//! Each test opens the served page, signs in (the dev login, or a token it is
//! given) and mounts the modules under test into a `<main>` with the context
//! the shell hands them (`mount(container, ctx)`, docs/web.md): `ctx.notify`
//! records notices in `window.h4.notices`, `window.h4.fire()` plays a
//! dashboard state change. Forms are filled and submitted in the page; what
//! they saved is read back over REST.

use agentdeck_domain::auth::{Principal, Role};
use agentdeck_server::config::AgentFault;
use serde_json::{Value, json};

use super::support::{Driver, Page};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// Messages the browser logs for answers a flow causes on purpose.
const FAVICON: &str = "favicon.ico";

/// Installs `window.h4Mount(modules, token)` (see the module doc).
const HARNESS: &str = r#"
window.h4Mount = async function (modules, token) {
  const { api, setToken } = await import('/assets/app/api.js');
  let user = null, workspace = null;
  if (token) {
    setToken(token);
  } else {
    const response = await fetch('/api/dev/login', { method: 'POST' });
    const login = await response.json();
    setToken(login.token);
    user = login.user;
    workspace = login.workspace;
  }
  const listeners = new Set();
  window.h4 = { notices: [], listeners, unmounts: [], fire() { for (const listener of listeners) listener(); } };
  const main = document.createElement('main');
  document.body.replaceChildren(main);
  for (const path of modules) {
    const module = await import('/assets/app/' + path);
    const box = document.createElement('div');
    main.append(box);
    window.h4.unmounts.push(module.mount(box, {
      api,
      navigate: (hash) => { location.hash = hash; },
      notify: (text, kind) => window.h4.notices.push({ text, kind }),
      user,
      workspace,
      onStateChange: (listener) => { listeners.add(listener); return () => listeners.delete(listener); },
    }));
  }
  return 'ok';
};
// Sets form fields by name as a person would (input and change events).
window.h4Fill = function (form, values) {
  for (const [name, value] of Object.entries(values)) {
    const field = form.elements.namedItem(name);
    if (!field) throw new Error('no field ' + name);
    if (field.type === 'checkbox') field.checked = Boolean(value);
    else if (field.multiple) for (const option of field.options) option.selected = value.includes(option.value);
    else field.value = value;
    field.dispatchEvent(new Event('input', { bubbles: true }));
    field.dispatchEvent(new Event('change', { bubbles: true }));
  }
};
"#;

/// A browser on `app` with `modules` (paths under `web/app/`) mounted, signed in
/// with `token` (the dev login when `None`).
async fn mounted(driver: &Driver, app: &TestApp, modules: &[&str], token: Option<&str>) -> Page {
    let page = driver.page(app).await;
    page.eval(&format!("{HARNESS}\nreturn null;"), Value::Null).await;
    page.run(
        r#"const done = arguments[arguments.length - 1];
           window.h4Mount(arguments[0].modules, arguments[0].token)
             .then(done, (error) => done('error: ' + error));"#,
        json!({ "modules": modules, "token": token }),
    )
    .await;
    page
}

/// Runs `body` (async JS using `form`, `h4Fill`, `sleep`) in the page; its result is returned.
async fn act(page: &Page, body: &str) -> Value {
    page.run(
        &format!(
            r#"const done = arguments[arguments.length - 1];
               const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
               const until = async (what, test) => {{
                 for (let i = 0; i < 100; i += 1) {{ const value = test(); if (value) return value; await sleep(50); }}
                 throw new Error('timed out waiting for ' + what);
               }};
               (async () => {{ {body} }})().then(done, (error) => done('error: ' + error.message));"#
        ),
        Value::Null,
    )
    .await
}

/// Every item of a list route (one page of 200).
async fn list(app: &TestApp, path: &str) -> Vec<Value> {
    let separator = if path.contains('?') { '&' } else { '?' };
    let (status, body) = app.get(&format!("{path}{separator}limit=200")).await;
    assert!(status.is_success(), "{path}: {body}");
    body["items"].as_array().cloned().unwrap_or_default()
}

async fn assert_accessible(page: &Page, what: &str) {
    let violations = page.axe().await;
    assert!(violations.is_empty(), "axe on {what}: {violations:#?}");
}

#[tokio::test]
async fn a_project_is_created_edited_and_deleted_through_the_projects_page() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let mut page = mounted(&driver, &app, &["pages/projects.js"], None).await;
    page.wait_for("the demo projects", "document.querySelectorAll('tbody tr').length >= 4", 10).await;
    assert_accessible(&page, "the projects table").await;

    let focused = act(
        &page,
        r#"document.querySelector('[data-action="create"]').click();
           const form = await until('the form', () => document.querySelector('form[data-role="record-form"]'));
           return document.activeElement.name;"#,
    )
    .await;
    assert_eq!(focused, "name", "the form opens with the focus on its first field");
    assert_accessible(&page, "the new project form").await;
    act(
        &page,
        r#"const form = document.querySelector('form[data-role="record-form"]');
           h4Fill(form, { name: 'Launch plan', description: 'Go live in spring', startDate: '2027-03-01', dueDate: '2027-04-15' });
           form.querySelector('[type="submit"]').click();
           await until('the new row', () => [...document.querySelectorAll('tbody tr')].find((row) => row.textContent.includes('Launch plan')));
           return 'ok';"#,
    )
    .await;
    let created = list(&app, "/api/projects").await.into_iter().find(|p| p["name"] == "Launch plan").expect("saved");
    assert_eq!(
        (&created["description"], &created["startDate"], &created["dueDate"], &created["archived"]),
        (&json!("Go live in spring"), &json!("2027-03-01T00:00:00Z"), &json!("2027-04-15T00:00:00Z"), &json!(false))
    );
    let notices = page.eval("return window.h4.notices;", Value::Null).await;
    assert_eq!(notices[0], json!({"text": "Created “Launch plan”.", "kind": "success"}), "{notices}");

    // Edit: the form holds the saved values; only the changed field is sent.
    let id = created["id"].as_str().expect("id").to_owned();
    let shown = act(
        &page,
        &format!(
            r#"document.querySelector('tr[data-id="{id}"] [data-action="edit"]').click();
               const form = await until('the edit form', () => document.querySelector('form[data-role="record-form"]'));
               const shown = [form.elements.name.value, form.elements.startDate.value, form.elements.dueDate.value];
               h4Fill(form, {{ name: 'Launch plan v2', archived: true }});
               form.querySelector('[type="submit"]').click();
               await until('the form to close', () => !document.querySelector('form[data-role="record-form"]'));
               return shown;"#
        ),
    )
    .await;
    assert_eq!(shown, json!(["Launch plan", "2027-03-01", "2027-04-15"]));
    let (_, edited) = app.get(&format!("/api/projects/{id}")).await;
    assert_eq!(
        (&edited["name"], &edited["archived"], &edited["dueDate"]),
        (&json!("Launch plan v2"), &json!(true), &json!("2027-04-15T00:00:00Z"))
    );
    // Archived: gone from the active list, back under "Archived", deleted after a confirmation.
    act(
        &page,
        &format!(
            r#"await until('the archived row to leave', () => !document.querySelector('tr[data-id="{id}"]'));
               const filter = document.querySelector('select[name="archived"]');
               filter.value = 'true';
               filter.dispatchEvent(new Event('change'));
               const row = await until('the archived row', () => document.querySelector('tr[data-id="{id}"]'));
               row.querySelector('[data-action="delete"]').click();
               const confirm = row.querySelector('[data-action="confirm-delete"]');
               if (document.activeElement !== confirm) throw new Error('the confirmation is not focused');
               confirm.click();
               await until('the row to go', () => !document.querySelector('tr[data-id="{id}"]'));
               return 'ok';"#
        ),
    )
    .await;
    let (status, _) = app.get(&format!("/api/projects/{id}")).await;
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
    page.assert_no_console_errors(&[FAVICON]).await;
    page.quit().await;
}

/// Types `text` (WebDriver key codes allowed, e.g. Enter `\u{E007}`) into the focused element.
/// A page re-rendering its list (a live update) may replace the focused
/// element between finding and typing: the keys then reach nothing, and are
/// typed again into the element focused now.
async fn keys(page: &Page, text: &str) {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let focused = page.client.active_element().await.expect("a focused element");
        match focused.send_keys(text).await {
            Ok(()) => return,
            Err(fantoccini::error::CmdError::Standard(error))
                if error.error == fantoccini::error::ErrorStatus::StaleElementReference && attempts < 3 =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(error) => panic!("keys typed: {error:?}"),
        }
    }
}

#[tokio::test]
async fn a_project_is_created_and_a_form_closed_by_keyboard_alone() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let mut page = mounted(&driver, &app, &["pages/projects.js"], None).await;
    page.wait_for("the demo projects", "document.querySelectorAll('tbody tr').length >= 4", 10).await;
    page.eval("document.querySelector('[data-action=\"create\"]').focus(); return null;", Value::Null).await;
    keys(&page, "\u{E007}").await; // Enter on "New project"
    page.wait_for("the name field focused", "document.activeElement?.name === 'name'", 5).await;
    keys(&page, "Typed project").await;
    keys(&page, "\u{E007}").await; // Enter in a field submits the form
    page.wait_for("the form to close", "!document.querySelector('form[data-role=\"record-form\"]')", 10).await;
    let names: Vec<Value> = list(&app, "/api/projects").await.into_iter().map(|p| p["name"].clone()).collect();
    assert!(names.contains(&json!("Typed project")), "{names:?}");
    // Escape closes an open form without saving.
    page.eval("document.querySelector('[data-action=\"edit\"]').focus(); return null;", Value::Null).await;
    keys(&page, "\u{E007}").await;
    page.wait_for("the edit form", "document.activeElement?.name === 'name'", 5).await;
    keys(&page, " changed\u{E00C}").await; // Escape
    page.wait_for("the form to close", "!document.querySelector('form[data-role=\"record-form\"]')", 5).await;
    let after: Vec<Value> = list(&app, "/api/projects").await.into_iter().map(|p| p["name"].clone()).collect();
    assert_eq!(after, names, "nothing was saved");
    page.assert_no_console_errors(&[FAVICON]).await;
    page.quit().await;
}

#[tokio::test]
async fn api_validation_errors_show_next_to_their_fields_and_nothing_typed_is_lost() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let mut page = mounted(&driver, &app, &["pages/projects.js"], None).await;
    page.wait_for("the demo projects", "document.querySelectorAll('tbody tr').length >= 4", 10).await;
    let before = list(&app, "/api/projects?archived=any").await.len();
    let shown = act(
        &page,
        r#"document.querySelector('[data-action="create"]').click();
           const form = await until('the form', () => document.querySelector('form[data-role="record-form"]'));
           h4Fill(form, { name: '   ', description: 'Keep this text', startDate: '2027-05-10', dueDate: '2027-05-01' });
           form.querySelector('[type="submit"]').click();
           await until('the errors', () => form.querySelector('.field-error:not([hidden])'));
           const field = (name) => {
             const input = form.elements[name];
             const error = document.getElementById(input.id + '-error');
             return { invalid: input.getAttribute('aria-invalid'), error: error.hidden ? null : error.textContent,
                      describedBy: (input.getAttribute('aria-describedby') || '').split(' ').includes(error.id) };
           };
           return { name: field('name'), dueDate: field('dueDate'), startDate: field('startDate'),
                    focused: document.activeElement.name, message: form.querySelector('.form-message').textContent,
                    kept: [form.elements.name.value, form.elements.description.value, form.elements.startDate.value, form.elements.dueDate.value] };"#,
    )
    .await;
    assert_eq!(shown["name"], json!({"invalid": "true", "error": "must not be empty", "describedBy": true}), "{shown}");
    assert_eq!(
        shown["dueDate"],
        json!({"invalid": "true", "error": "must not be before startDate", "describedBy": true}),
        "{shown}"
    );
    assert_eq!(shown["startDate"], json!({"invalid": null, "error": null, "describedBy": false}), "{shown}");
    assert_eq!(shown["focused"], "name", "the focus moves to the first invalid field");
    assert_eq!(shown["message"], "Nothing was saved: correct the marked fields.");
    assert_eq!(shown["kept"], json!(["   ", "Keep this text", "2027-05-10", "2027-05-01"]));
    assert_accessible(&page, "a form showing errors").await;

    // An overlong name: the error moves to the name only; the date error is gone once fixed.
    let overlong = act(
        &page,
        r#"const form = document.querySelector('form[data-role="record-form"]');
           h4Fill(form, { name: 'x'.repeat(201), dueDate: '2027-06-01' });
           form.querySelector('[type="submit"]').click();
           await until('the name error', () => document.getElementById(form.elements.name.id + '-error').textContent.includes('200'));
           return [...form.querySelectorAll('.field-error:not([hidden])')].map((error) => error.id.replace(/^form-\d+-/, ''));"#,
    )
    .await;
    assert_eq!(overlong, json!(["name-error"]));
    assert_eq!(list(&app, "/api/projects?archived=any").await.len(), before, "nothing was created");
    // Corrected: saved, and the errors are gone with the form.
    act(
        &page,
        r#"const form = document.querySelector('form[data-role="record-form"]');
           h4Fill(form, { name: 'Corrected project' });
           form.querySelector('[type="submit"]').click();
           await until('the form to close', () => !document.querySelector('form[data-role="record-form"]'));
           return 'ok';"#,
    )
    .await;
    let saved = list(&app, "/api/projects").await.into_iter().find(|p| p["name"] == "Corrected project");
    assert_eq!(saved.map(|p| p["description"].clone()), Some(json!("Keep this text")));
    page.assert_no_console_errors(&[FAVICON, "status of 422"]).await;
    page.quit().await;
}

#[tokio::test]
async fn a_task_is_created_with_assignee_and_blocker_and_a_cycle_is_shown_beside_blocked_by() {
    let app = spawn_app().await;
    let project =
        list(&app, "/api/projects").await.into_iter().find(|p| p["name"] == "Website Redesign").expect("demo");
    let project_id = project["id"].as_str().expect("id").to_owned();
    let tasks = list(&app, &format!("/api/tasks?projectId={project_id}")).await;
    let blocker = tasks.iter().find(|t| t["title"] == "Migrate blog content").expect("demo task").clone();
    let blocker_id = blocker["id"].as_str().expect("id").to_owned();
    let priya = list(&app, "/api/members").await.into_iter().find(|m| m["displayName"] == "Priya Shah").expect("demo");
    let driver = Driver::start().await;
    let mut page = driver.page(&app).await;
    // The projects page links here with the project as filter.
    page.goto(&app, &format!("/#/tasks?projectId={project_id}")).await;
    page.eval(&format!("{HARNESS}\nreturn null;"), Value::Null).await;
    page.run(
        r#"const done = arguments[arguments.length - 1];
           window.h4Mount(['pages/tasks.js'], null, false).then(done, (error) => done('error: ' + error));"#,
        Value::Null,
    )
    .await;
    let count = tasks.len();
    page.wait_for("the project's tasks", &format!("document.querySelectorAll('tbody tr').length === {count}"), 10)
        .await;
    assert_accessible(&page, "the tasks table").await;
    act(
        &page,
        &format!(
            r#"document.querySelector('[data-action="create"]').click();
               const form = await until('the form', () => document.querySelector('form[data-role="record-form"]'));
               if (form.elements.projectId.value !== '{project_id}') throw new Error('the filter project is not preselected');
               await until('the blocker choices', () => form.elements.blockedBy.options.length === {count});
               h4Fill(form, {{ title: 'Write launch announcement', status: 'in_progress', priority: 'high',
                               assigneeId: '{priya}', estimateHours: '2.5', dueDate: '2027-01-20', blockedBy: ['{blocker_id}'] }});
               form.querySelector('[type="submit"]').click();
               await until('the new row', () => [...document.querySelectorAll('tbody tr')].find((row) => row.textContent.includes('Write launch announcement')));
               return 'ok';"#,
            priya = priya["id"].as_str().expect("id"),
        ),
    )
    .await;
    let created = list(&app, &format!("/api/tasks?projectId={project_id}"))
        .await
        .into_iter()
        .find(|t| t["title"] == "Write launch announcement")
        .expect("saved");
    assert_eq!(
        (&created["status"], &created["priority"], &created["assigneeId"], &created["estimateHours"]),
        (&json!("in_progress"), &json!("high"), &priya["id"], &json!(2.5))
    );
    assert_eq!((&created["dueDate"], &created["blockedBy"]), (&json!("2027-01-20T00:00:00Z"), &json!([blocker_id])));
    let row_text = page
        .eval(
            &format!(
                "return document.querySelector('tr[data-id=\"{}\"]').textContent;",
                created["id"].as_str().expect("id")
            ),
            Value::Null,
        )
        .await;
    assert!(row_text.as_str().is_some_and(|t| t.contains("Priya Shah") && t.contains("In progress")), "{row_text}");

    // The blocker waiting for the new task closes a cycle: the API's 422 is shown at "Blocked by".
    let created_id = created["id"].as_str().expect("id");
    let shown = act(
        &page,
        &format!(
            r#"document.querySelector('tr[data-id="{blocker_id}"] [data-action="edit"]').click();
               const form = await until('the edit form', () => document.querySelector('form[data-role="record-form"]'));
               await until('the blocker choices', () => [...form.elements.blockedBy.options].some((o) => o.value === '{created_id}'));
               h4Fill(form, {{ blockedBy: ['{created_id}'] }});
               form.querySelector('[type="submit"]').click();
               const error = await until('the cycle error', () => form.querySelector('.field-error:not([hidden])'));
               return {{ field: error.closest('[data-field]').dataset.field, text: error.textContent,
                        focused: document.activeElement.name, kept: [...form.elements.blockedBy.selectedOptions].map((o) => o.value) }};"#
        ),
    )
    .await;
    assert_eq!(shown["field"], "blockedBy", "{shown}");
    assert!(shown["text"].as_str().is_some_and(|t| t.contains("cycle")), "{shown}");
    assert_eq!((&shown["focused"], &shown["kept"]), (&json!("blockedBy"), &json!([created_id])));
    let (_, unchanged) = app.get(&format!("/api/tasks/{blocker_id}")).await;
    assert_eq!(unchanged["blockedBy"], json!([]));
    page.assert_no_console_errors(&[FAVICON, "status of 422"]).await;
    page.quit().await;
}

#[tokio::test]
async fn a_members_capacity_is_edited_and_a_member_role_is_told_it_may_not() {
    let app = spawn_app().await;
    let sofia =
        list(&app, "/api/members").await.into_iter().find(|m| m["displayName"] == "Sofia Alvarez").expect("demo");
    let sofia_id = sofia["id"].as_str().expect("id").to_owned();
    let driver = Driver::start().await;
    let mut page = mounted(&driver, &app, &["pages/members.js"], None).await;
    page.wait_for("the members", &format!("document.querySelector('tr[data-id=\"{sofia_id}\"]')"), 10).await;
    assert_accessible(&page, "the members table").await;
    act(
        &page,
        &format!(
            r#"document.querySelector('tr[data-id="{sofia_id}"] [data-action="edit"]').click();
               const form = await until('the form', () => document.querySelector('form[data-role="record-form"]'));
               h4Fill(form, {{ weeklyCapacityHours: '30', role: 'admin' }});
               form.querySelector('[type="submit"]').click();
               // The seed gives her 32 h: wait for the new value, so the row shows the saved record.
               await until('the new capacity', () => document.querySelector('tr[data-id="{sofia_id}"]')?.textContent.includes('30 h'));
               return 'ok';"#
        ),
    )
    .await;
    let (_, saved) = app.get(&format!("/api/members/{sofia_id}")).await;
    assert_eq!((&saved["weeklyCapacityHours"], &saved["role"]), (&json!(30.0), &json!("admin")));
    page.assert_no_console_errors(&[FAVICON]).await;
    page.quit().await;

    // A member's token: the server answers 403 and the form says why; nothing changes.
    let member =
        app.token_for(&Principal { subject: "sofia".into(), workspace_id: app.workspace_id, role: Role::Member });
    let mut page = mounted(&driver, &app, &["pages/members.js"], Some(&member)).await;
    page.wait_for("the members", &format!("document.querySelector('tr[data-id=\"{sofia_id}\"]')"), 10).await;
    let message = act(
        &page,
        &format!(
            r#"document.querySelector('tr[data-id="{sofia_id}"] [data-action="edit"]').click();
               const form = await until('the form', () => document.querySelector('form[data-role="record-form"]'));
               h4Fill(form, {{ weeklyCapacityHours: '12' }});
               form.querySelector('[type="submit"]').click();
               const message = await until('the message', () => !form.querySelector('.form-message').hidden && form.querySelector('.form-message'));
               return message.textContent;"#
        ),
    )
    .await;
    assert!(message.as_str().is_some_and(|m| m.starts_with("Your role may not do this")), "{message}");
    let (_, unchanged) = app.get(&format!("/api/members/{sofia_id}")).await;
    assert_eq!(unchanged["weeklyCapacityHours"], json!(30.0));
    page.assert_no_console_errors(&[FAVICON, "status of 403"]).await;
    page.quit().await;
}

#[tokio::test]
async fn markup_in_a_project_name_stays_text_on_the_projects_page() {
    let app = spawn_app().await;
    let name = r#"<script>window.pwned = 1</script><img src="x" onerror="window.pwned = 2">"#;
    let (status, _) = app.post("/api/projects", &json!({"name": name})).await;
    assert_eq!(status, reqwest::StatusCode::CREATED);
    let driver = Driver::start().await;
    let mut page = mounted(&driver, &app, &["pages/projects.js", "pages/tasks.js"], None).await;
    let shown = page
        .wait_for(
            "the project's row and its task filter",
            "[...document.querySelectorAll('td')].some((cell) => cell.textContent.startsWith('<script>'))
             && [...document.querySelectorAll('option')].some((option) => option.textContent.startsWith('<script>'))
             && [...document.querySelectorAll('td')].find((cell) => cell.textContent.startsWith('<script>')).textContent",
            10,
        )
        .await;
    assert_eq!(shown, json!(name));
    // Open the edit form too: the name goes into an input's value, as text.
    let checks = act(
        &page,
        r#"const row = [...document.querySelectorAll('tr')].find((r) => r.textContent.includes('<script>'));
           row.querySelector('[data-action="edit"]').click();
           const form = await until('the form', () => document.querySelector('form[data-role="record-form"]'));
           await sleep(300);
           return { value: form.elements.name.value, heading: form.querySelector('h2').textContent,
                    scripts: document.querySelectorAll('main script').length, images: document.querySelectorAll('main img').length,
                    pwned: window.pwned ?? null };"#,
    )
    .await;
    assert_eq!(checks["value"], json!(name));
    assert_eq!(checks["heading"], json!(format!("Edit “{name}”")));
    assert_eq!((&checks["scripts"], &checks["images"], &checks["pwned"]), (&json!(0), &json!(0), &Value::Null));
    page.assert_no_console_errors(&[FAVICON]).await;
    page.quit().await;
}

#[tokio::test]
async fn lists_reread_after_a_state_change_and_a_record_deleted_elsewhere_is_reported() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let mut page = mounted(&driver, &app, &["pages/projects.js"], None).await;
    page.wait_for("the demo projects", "document.querySelectorAll('tbody tr').length === 4", 10).await;
    let (status, _) = app.post("/api/projects", &json!({"name": "Made elsewhere"})).await;
    assert_eq!(status, reqwest::StatusCode::CREATED);
    page.eval("window.h4.fire(); return null;", Value::Null).await;
    page.wait_for("the new project", "document.querySelector('tbody').textContent.includes('Made elsewhere')", 10)
        .await;

    // Deleted elsewhere while being edited: saving says so, closes the form and drops the row.
    let made = list(&app, "/api/projects").await.into_iter().find(|p| p["name"] == "Made elsewhere").expect("made");
    let id = made["id"].as_str().expect("id").to_owned();
    act(
        &page,
        &format!(
            r#"document.querySelector('tr[data-id="{id}"] [data-action="edit"]').click();
               const form = await until('the form', () => document.querySelector('form[data-role="record-form"]'));
               h4Fill(form, {{ name: 'Renamed too late' }});
               return 'ok';"#
        ),
    )
    .await;
    let (status, _) =
        app.request(reqwest::Method::DELETE, &format!("/api/projects/{id}"), Some(&app.token), None).await;
    assert_eq!(status, reqwest::StatusCode::NO_CONTENT);
    let notice = act(
        &page,
        &format!(
            r#"document.querySelector('form[data-role="record-form"] [type="submit"]').click();
               await until('the form to close', () => !document.querySelector('form[data-role="record-form"]'));
               await until('the row to go', () => !document.querySelector('tr[data-id="{id}"]'));
               return window.h4.notices.at(-1);"#
        ),
    )
    .await;
    assert_eq!(notice["kind"], "error", "{notice}");
    assert!(notice["text"].as_str().is_some_and(|t| t.contains("deleted elsewhere")), "{notice}");
    let names: Vec<Value> =
        list(&app, "/api/projects?archived=any").await.into_iter().map(|p| p["name"].clone()).collect();
    assert!(!names.contains(&json!("Renamed too late")), "{names:?}");
    page.assert_no_console_errors(&[FAVICON, "status of 404"]).await;
    page.quit().await;
}

/// The agents panel's items as `[{id, status, text}]`.
const AGENTS: &str = "[...document.querySelectorAll('[data-agent-id]')].map((item) => ({ id: item.dataset.agentId, status: item.dataset.agentStatus, text: item.textContent }))";

#[tokio::test]
async fn the_agents_panel_shows_ok_after_an_ask_and_failing_with_the_error() {
    // Vitals (`pulse`) answers every call with an error.
    let app = spawn_app_with(|settings| {
        settings.a2a.faults.insert("pulse".into(), AgentFault { delay_ms: 0, fail: true });
    })
    .await;
    let driver = Driver::start().await;
    let mut page = mounted(&driver, &app, &["panels/agents.js"], None).await;
    page.wait_for("the agents", &format!("{AGENTS}.some((a) => a.id === 'navi')"), 10).await;
    let before = page.eval(&format!("return {AGENTS};"), Value::Null).await;
    let navi = before.as_array().into_iter().flatten().find(|a| a["id"] == "navi").cloned().unwrap_or_default();
    assert_eq!(navi["status"], "unknown", "{before}");
    assert!(navi["text"].as_str().is_some_and(|t| t.contains("Navigator") && t.contains("No answer yet")), "{navi}");

    let (status, answer) = app.post("/api/ask", &json!({"question": "workspace overview"})).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{answer}");
    // The ask changed the dashboard state: the panel re-reads (debounced).
    page.eval("window.h4.fire(); return null;", Value::Null).await;
    page.wait_for("navi ok", &format!("{AGENTS}.some((a) => a.id === 'navi' && a.status === 'ok')"), 10).await;
    let after = page.eval(&format!("return {AGENTS};"), Value::Null).await;
    let find = |id: &str| after.as_array().into_iter().flatten().find(|a| a["id"] == id).cloned().unwrap_or_default();
    let navi = find("navi");
    assert!(navi["text"].as_str().is_some_and(|t| t.contains("✓ OK") && t.contains("Last answer just now")), "{navi}");
    let pulse = find("pulse");
    assert_eq!(pulse["status"], "failing", "{after}");
    assert!(pulse["text"].as_str().is_some_and(|t| t.contains("✗ Failing") && t.contains("Error: ")), "{pulse}");
    assert_accessible(&page, "the agents panel").await;
    page.assert_no_console_errors(&[FAVICON]).await;
    page.quit().await;
}

/// Adds token counts to the demo workspace `days_ago` days before today (UTC).
async fn add_usage(app: &TestApp, days_ago: i64, tokens_in: i64, tokens_out: i64) {
    let day = (chrono::Utc::now() - chrono::Duration::days(days_ago)).format("%Y-%m-%d").to_string();
    app.stores.usage.add_token_usage(&app.workspace_id.to_string(), &day, tokens_in, tokens_out).await.expect("usage");
}

/// The usage chart's bars as `[[day, in, out]]`.
const BARS: &str = "[...document.querySelectorAll('[data-role=\"usage-chart\"] [data-day]')].map((bar) => [bar.dataset.day, Number(bar.dataset.tokensIn), Number(bar.dataset.tokensOut)])";

#[tokio::test]
async fn the_usage_panel_draws_a_bar_per_day_with_usage_and_an_empty_state() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let mut page = mounted(&driver, &app, &["panels/usage.js"], None).await;
    let empty = page
        .wait_for("the empty state", "document.querySelector('[data-role=\"usage-summary\"]')?.textContent", 10)
        .await;
    assert_eq!(empty, "No token usage in the last 30 days.");
    assert_eq!(page.eval("return document.querySelectorAll('svg').length;", Value::Null).await, 0);

    add_usage(&app, 0, 120, 900).await;
    add_usage(&app, 3, 50, 400).await;
    add_usage(&app, 29, 10, 20).await;
    add_usage(&app, 30, 999, 999).await; // outside the 30 days
    page.eval("window.h4.fire(); return null;", Value::Null).await;
    page.wait_for("the chart", &format!("{BARS}.length === 3"), 10).await;
    let day = |ago: i64| (chrono::Utc::now() - chrono::Duration::days(ago)).format("%Y-%m-%d").to_string();
    let bars = page.eval(&format!("return {BARS};"), Value::Null).await;
    assert_eq!(bars, json!([[day(29), 10, 20], [day(3), 50, 400], [day(0), 120, 900]]));
    let shown = page
        .eval(
            r#"const chart = document.querySelector('[data-role="usage-chart"]');
               const height = (selector) => Number(chart.querySelector(selector).getAttribute('height'));
               return { today: document.querySelector('[data-role="usage-today"]').textContent,
                        summary: document.querySelector('[data-role="usage-summary"]').textContent,
                        ticks: [...chart.querySelectorAll('.axis-y text')].map((t) => t.textContent),
                        dates: chart.querySelectorAll('.axis-x text').length,
                        ratio: height('[data-day] .bar-out') / height('[data-day] .bar-in'),
                        quota: chart.querySelectorAll('[data-role="quota-line"]').length,
                        rows: document.querySelectorAll('.usage-panel table tbody tr').length };"#,
            Value::Null,
        )
        .await;
    assert_eq!(shown["today"], "Today in120Today out900", "{shown}");
    assert_eq!(
        shown["summary"],
        "Today: 120 tokens in and 900 out. Last 30 days: 3 days with usage, 180 tokens in and 1,320 out.",
        "{shown}"
    );
    assert_eq!(shown["ticks"], json!(["0", "500", "1K", "1.5K"]), "{shown}");
    assert_eq!(shown["dates"], 5, "a date a week apart, today included: {shown}");
    let ratio = shown["ratio"].as_f64().unwrap_or_default();
    assert!((ratio - 2.0).abs() < 0.001, "out (20) is twice in (10) on the oldest day: {shown}");
    assert_eq!((&shown["quota"], &shown["rows"]), (&json!(0), &json!(3)), "no quota set; the table has a row per day");
    assert_accessible(&page, "the usage panel").await;
    page.assert_no_console_errors(&[FAVICON]).await;
    page.quit().await;
}

#[tokio::test]
async fn the_usage_panel_draws_the_quota_line_when_a_quota_is_set() {
    let app = spawn_app_with(|settings| settings.metering.daily_quota_tokens = 2_000).await;
    add_usage(&app, 0, 500, 1_000).await;
    let driver = Driver::start().await;
    let mut page = mounted(&driver, &app, &["panels/usage.js"], None).await;
    let quota = page
        .wait_for("the quota line", "document.querySelector('[data-role=\"quota-line\"]')?.dataset.quota", 10)
        .await;
    assert_eq!(quota, "2000");
    let shown = page
        .eval(
            r#"const chart = document.querySelector('[data-role="usage-chart"]');
               const line = chart.querySelector('.quota-line');
               const bar = chart.querySelector('[data-day] .bar-out');
               return { lineY: Number(line.getAttribute('y1')), barTop: Number(bar.getAttribute('y')),
                        label: chart.querySelector('.quota text').textContent,
                        summary: document.querySelector('[data-role="usage-summary"]').textContent };"#,
            Value::Null,
        )
        .await;
    // 1 500 of 2 000: the bar's top is below the line (a larger y in SVG).
    assert!(shown["barTop"].as_f64() > shown["lineY"].as_f64(), "{shown}");
    assert_eq!(shown["label"], "Daily quota 2K");
    assert!(shown["summary"].as_str().is_some_and(|s| s.contains("75 % of the daily quota of 2,000")), "{shown}");
    page.assert_no_console_errors(&[FAVICON]).await;
    page.quit().await;
}
