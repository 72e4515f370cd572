//! End-to-end flows of the whole page at `/` in headless Chromium (see
//! web/support.rs for the driver): each signs in like a person would, acts
//! through the page's own controls, checks the result over REST or in the
//! store where the page could be fooling itself, and ends with no unexpected
//! console errors.
//!
//! - a Kanban move by keyboard reaches the task and both windows' project status;
//! - the Retry of a failing agent's Error widget asks the server each time, three times at most;
//! - a malformed widget in the stored state (written by "another version") is an Error card, the page works on;
//! - markup in a project name stays text in the quick question, the answer and the widgets;
//! - axe-core on every view in both themes;
//! - (ignored, run on purpose) the README's screenshot of the dashboard.

use std::path::PathBuf;

use reqwest::StatusCode;
use serde_json::{Value, json};

use agentdeck_domain::dashboard::codec::{DEFAULT_COMPRESSION_THRESHOLD, encode};
use agentdeck_services::seed::DEMO_USER_ID;
use agentdeck_storage::{CommitOutcome, CommitRequest, RoomKey, StateOptions, new_epoch};

use super::support::{Driver, Page, WINDOW, sign_in};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// Clicks the quick question button whose text is exactly `label`.
async fn ask_quick(page: &Page, label: &str) {
    page.wait_for(
        &format!("the quick question {label:?}"),
        &format!(
            "[...document.querySelectorAll('[data-role=\"quick-questions\"] button')].some((b) => b.textContent === {label:?} && !b.disabled)"
        ),
        15,
    )
    .await;
    page.eval(
        r#"[...document.querySelectorAll('[data-role="quick-questions"] button')]
             .find((b) => b.textContent === arguments[0]).click(); return null;"#,
        json!(label),
    )
    .await;
}

/// The id of the workspace's project named `name`, read over REST.
async fn project_id(app: &TestApp, name: &str) -> String {
    let (status, page) = app.get("/api/projects?limit=200").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let found = page["items"].as_array().into_iter().flatten().find(|project| project["name"] == name);
    found.and_then(|project| project["id"].as_str()).unwrap_or_else(|| panic!("no project {name:?}: {page}")).to_owned()
}

/// The tasks of a project, read over REST.
async fn tasks_of(app: &TestApp, project: &str) -> Vec<Value> {
    let (status, page) = app.get(&format!("/api/tasks?projectId={project}&limit=200")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"].as_array().cloned().unwrap_or_default()
}

/// The caller's dashboard document, read over REST.
async fn document(app: &TestApp) -> Value {
    let (status, body) = app.get("/api/dashboard/state").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["document"].clone()
}

/// How many A2A tasks the caller has with `agent` (each call the gateway made that the cache did not answer).
async fn agent_tasks(app: &TestApp, agent: &str) -> i64 {
    let (status, _, listed) = app.a2a_call(&format!("/a2a/{agent}"), Some(&app.token), "ListTasks", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    listed["result"]["totalSize"].as_i64().unwrap_or_else(|| panic!("no totalSize: {listed}"))
}

/// A JS expression: the text of the card of widget `id` ("" while there is none).
fn card_text(id: &str) -> String {
    format!("(document.querySelector('[data-widget-id={id:?}]')?.textContent ?? '')")
}

/// A JS expression: the `<progress>` value of the ProjectStatus card of widget `id` (-1 while there is none).
fn progress_value(id: &str) -> String {
    format!("Number(document.querySelector('[data-widget-id={id:?}] progress')?.value ?? -1)")
}

/// Flow 1: a card moved to Done with the Kanban widget's keyboard control is saved as the task's
/// status, and the gateway's live refresh brings the new count to the project status in both
/// windows, without a new question.
#[tokio::test]
async fn a_kanban_move_by_keyboard_updates_the_project_status_in_both_windows() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let mut one = driver.page(&app).await;
    let mut two = driver.page(&app).await;
    sign_in(&one).await;
    sign_in(&two).await;

    // The seed (crates/services/src/seed.rs): Website Redesign has 10 tasks, 6 done, one in progress
    // ("Build responsive navigation") and three to do; its progress is the share done.
    let project = project_id(&app, "Website Redesign").await;
    let tasks = tasks_of(&app, &project).await;
    let count = |status: &str| tasks.iter().filter(|task| task["status"] == status).count();
    assert_eq!((tasks.len(), count("done"), count("in_progress"), count("todo")), (10, 6, 1, 3));
    let navigation = tasks
        .iter()
        .find(|task| task["title"] == "Build responsive navigation")
        .and_then(|task| task["id"].as_str())
        .expect("the seeded in-progress task")
        .to_owned();

    ask_quick(&one, "How is Website Redesign doing").await;
    let (status_id, board_id) = (format!("navi-status-{project}"), format!("navi-board-{project}"));
    for page in [&one, &two] {
        page.wait_for(
            "the project's status and board",
            &format!(
                "document.querySelector('[data-widget-id={status_id:?}][data-widget-type=\"ProjectStatus\"]') \
                 && document.querySelector('[data-widget-id={board_id:?}][data-widget-type=\"KanbanBoard\"]')"
            ),
            20,
        )
        .await;
        page.wait_for(
            "6 of 10 done",
            &format!("{}.includes('6 of 10') && {} === 60", card_text(&status_id), progress_value(&status_id)),
            10,
        )
        .await;
    }
    let asked_at = document(&app).await["lastAnswer"]["askedAt"].clone();
    assert!(asked_at.is_string(), "the ask left its answer in the state");

    // The card's own "Move to" select, by keyboard: columns are To do, In progress, Done, Blocked,
    // so one arrow down from "In progress" is "Done" (a closed select changes value at once).
    let card = format!("[data-widget-id={board_id:?}] [data-card-id={navigation:?}]");
    let in_progress = one
        .eval(
            "const c = document.querySelector(arguments[0]); return c.dataset.columnId + '|' + c.querySelector('select').value;",
            json!(card),
        )
        .await;
    assert_eq!(in_progress, "in_progress|in_progress");
    let select =
        one.client.find(fantoccini::Locator::Css(&format!("{card} select"))).await.expect("the card's Move to select");
    select.send_keys("\u{E015}").await.expect("arrow down");

    // The state follows the saved task: the card is in the Done column once the gateway rewrote the board.
    let in_done = format!(
        "document.querySelector('[data-widget-id={board_id:?}] .w-column[data-column-id=\"done\"] [data-card-id={navigation:?}]')"
    );
    one.wait_for("the card in the Done column", &in_done, 20).await;
    let (status, task) = app.get(&format!("/api/tasks/{navigation}")).await;
    assert_eq!(status, StatusCode::OK, "{task}");
    assert_eq!(task["status"], "done", "the move was saved: {task}");

    // 7 of 10 tasks done now, 70 %, in both windows, without anyone asking again.
    for (name, page) in [("one", &one), ("two", &two)] {
        page.wait_for(
            &format!("7 of 10 done in window {name}"),
            &format!("{}.includes('7 of 10') && {} === 70", card_text(&status_id), progress_value(&status_id)),
            20,
        )
        .await;
        assert_eq!(
            page.eval(&format!("return {};", card_text(&status_id)), Value::Null)
                .await
                .as_str()
                .map(|t| t.contains("70 %")),
            Some(true)
        );
    }
    two.wait_for("the card in the Done column of the second window", &in_done, 10).await;
    let moved = two
        .eval(
            &format!("const c = document.querySelector('[data-widget-id={board_id:?}] [data-card-id={navigation:?}]'); return c.dataset.columnId + '|' + c.querySelector('select').value;"),
            Value::Null,
        )
        .await;
    assert_eq!(moved, "done|done");
    let after = document(&app).await;
    assert_eq!(after["lastAnswer"]["askedAt"], asked_at, "nobody asked again: the live refresh updated the widgets");
    assert_eq!(after["widgets"][&status_id]["data"]["tasksCompleted"], 7);

    one.assert_no_console_errors(&[]).await;
    two.assert_no_console_errors(&[]).await;
    one.quit().await;
    two.quit().await;
}

/// Flow 2: with Vitals set to fail, its Error widget's Retry asks the server again each time,
/// shows its progress, and gives up after three failed attempts; the other agents' widgets are fine.
#[tokio::test]
async fn retry_of_a_failing_agent_asks_again_three_times_then_stops() {
    let app = spawn_app_with(|settings| settings.agents.fail = vec!["pulse".into()]).await;
    let driver = Driver::start().await;
    let mut page = driver.page(&app).await;
    sign_in(&page).await;
    ask_quick(&page, "Workspace overview").await;

    let vitals = r#"[data-widget-id="gateway-unavailable-pulse"]"#;
    let retry_text = format!("(document.querySelector('{vitals} .w-retry')?.textContent ?? '')");
    page.wait_for("the Vitals Error card with Retry", &format!("{retry_text} === 'Retry'"), 20).await;
    assert_eq!(
        page.eval(&format!("return document.querySelector('{vitals}').dataset.widgetType;"), Value::Null).await,
        "Error"
    );
    let message = page.eval(&format!("return {};", card_text("gateway-unavailable-pulse")), Value::Null).await;
    assert!(message.as_str().is_some_and(|m| m.contains("Vitals did not answer")), "{message}");
    assert_eq!(agent_tasks(&app, "pulse").await, 1, "the ask called pulse once");

    // Every text the retry area shows, however briefly (the grid rebuilds the card in between).
    page.eval(
        r#"window.retryTexts = [];
           const note = () => {
             const retry = document.querySelector(arguments[0] + ' .w-retry');
             const text = (retry?.querySelector('.w-spinner') ? '[spinner] ' : '') + (retry?.textContent ?? '');
             if (window.retryTexts.at(-1) !== text) window.retryTexts.push(text);
           };
           new MutationObserver(note).observe(document.querySelector('ol.grid'),
             { subtree: true, childList: true, characterData: true, attributes: true });
           note(); return null;"#,
        json!(vitals),
    )
    .await;

    for attempt in 1..=3_i64 {
        // A real click, as a person's: WebDriver scrolls the button into view and clicks its centre.
        let button = page
            .client
            .find(fantoccini::Locator::Css(&format!("{vitals} button[data-action=\"retry\"]")))
            .await
            .expect("the Retry button");
        button.click().await.expect("click on Retry");
        let expected =
            if attempt < 3 { format!("Retry ({attempt}/3)") } else { "Maximum retries (3) exceeded".to_owned() };
        page.wait_for(&format!("attempt {attempt} to end"), &format!("{retry_text} === {expected:?}"), 20).await;
        assert_eq!(
            agent_tasks(&app, "pulse").await,
            1 + attempt,
            "attempt {attempt} asked the server (pulse called again)"
        );
    }
    let seen: Vec<String> =
        serde_json::from_value(page.eval("return window.retryTexts;", Value::Null).await).expect("texts");
    let running = seen.iter().filter(|text| text.as_str() == "[spinner] Retrying…").count();
    assert!(running >= 1, "the spinner and \"Retrying…\" showed: {seen:?}");
    let shown: Vec<&str> = seen.iter().map(String::as_str).filter(|text| *text != "[spinner] Retrying…").collect();
    assert_eq!(shown, ["Retry", "Retry (1/3)", "Retry (2/3)", "Maximum retries (3) exceeded"], "{seen:?}");
    assert_eq!(
        page.eval(&format!("return document.querySelectorAll('{vitals} button').length;"), Value::Null).await,
        0,
        "no button after the third failure"
    );

    // Navigator's and Activity's widgets render normally beside it.
    let others = page
        .eval(
            r#"const types = [...document.querySelectorAll('[data-widget-type]')].map((e) => e.dataset.widgetType);
               return { status: types.filter((t) => t === 'ProjectStatus').length,
                        activity: types.filter((t) => t === 'TeamActivity').length,
                        errors: [...document.querySelectorAll('[data-widget-type="Error"]')].map((e) => e.dataset.widgetId) };"#,
            Value::Null,
        )
        .await;
    assert_eq!(others, json!({ "status": 4, "activity": 1, "errors": ["gateway-unavailable-pulse"] }));
    assert_eq!(agent_tasks(&app, "navi").await, 1, "Navigator's answer was cached across the retries");
    // The agents panel names the failing agent too.
    page.wait_for(
        "Vitals failing in the agents panel",
        r#"document.querySelector('[data-panel="agents"] li[data-agent-id="pulse"]')?.dataset.agentStatus === 'failing'"#,
        10,
    )
    .await;

    page.assert_no_console_errors(&[]).await;
    page.quit().await;
}

/// Flow 3: a widget the server would refuse today, stored by "another version" (written straight
/// into the state store, which does not re-validate a current-format document on read), is an
/// Error card naming the failing path; the rest of the dashboard and asking keep working.
#[tokio::test]
async fn a_malformed_stored_widget_is_an_error_card_and_the_page_keeps_working() {
    let app = spawn_app().await;
    let state = app.stores.database.embedded_state(StateOptions::default()).expect("the embedded state store (SQLite)");
    let room = RoomKey::new(app.workspace_id, DEMO_USER_ID);
    let bad = json!({
        "id": "bad", "type": "ProjectStatus", "title": "From another version",
        "data": { "projectId": "p-1", "projectName": "Overfull", "status": "on_track", "progress": 140,
                  "tasksCompleted": 1, "tasksTotal": 2 }
    });
    let good = json!({ "id": "good", "type": "Metrics", "title": "Still fine",
                       "data": { "metrics": [{ "label": "Answered", "value": 42 }] } });
    let stored = json!({
        "schemaVersion": 2,
        "widgets": { "bad": bad, "good": good },
        "layout": ["bad", "good"],
    });
    // The server refuses the same widget on write, which is why it goes in behind its back.
    let (status, refused) = app
        .send_raw(
            reqwest::Method::PATCH,
            "/api/dashboard/state",
            "application/json-patch+json",
            json!([{ "op": "add", "path": "/widgets/bad", "value": stored["widgets"]["bad"] }])
                .to_string()
                .into_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");

    let current = state.load(&room).await.expect("load");
    let json = serde_json::to_vec(&stored).expect("json");
    let request = CommitRequest {
        expected: current.as_ref().map(|current| (current.epoch.clone(), current.version)),
        op_key: None,
        document: encode(&json, DEFAULT_COMPRESSION_THRESHOLD).bytes,
        ops: json!([{ "op": "replace", "path": "", "value": stored }]),
        written_paths: vec![String::new()],
        new_epoch: current.is_none().then(new_epoch),
    };
    let outcome = state.commit(&room, request).await.expect("commit");
    assert!(matches!(outcome, CommitOutcome::Committed { .. }), "{outcome:?}");
    assert_eq!(document(&app).await["widgets"]["bad"]["data"]["progress"].as_f64(), Some(140.0), "served as stored");

    let driver = Driver::start().await;
    let mut page = driver.page(&app).await;
    sign_in(&page).await;
    let error = page
        .wait_for(
            "the bad widget as an Error card",
            r#"document.querySelector('[data-widget-id="bad"]')?.dataset.widgetType === 'Error'
               && document.querySelector('[data-widget-id="bad"] .w-error__paths')?.textContent"#,
            10,
        )
        .await;
    assert!(error.as_str().is_some_and(|paths| paths.contains("/data/progress")), "{error}");
    page.wait_for(
        "the good widget beside it",
        r#"document.querySelector('[data-widget-id="good"]')?.dataset.widgetType === 'Metrics'
           && document.querySelector('[data-widget-id="good"]').textContent.includes('42')"#,
        10,
    )
    .await;

    // The server checks the whole resulting document on every write, so a move that keeps the broken
    // widget is refused: the page says why, naming the path, and shows the saved layout.
    page.eval(
        r#"document.querySelector('[data-widget-id="good"]').closest('li')
             .querySelector('button[data-action="move-up"]').click(); return null;"#,
        Value::Null,
    )
    .await;
    let notice = page
        .wait_for(
            "the refusal's notice",
            r#"document.querySelector('[data-role="notices"] .notice-error')?.textContent"#,
            10,
        )
        .await;
    let notice = notice.as_str().unwrap_or_default();
    assert!(
        notice.contains("Could not move Still fine")
            && notice.contains("/widgets/bad/data/progress must be at most 100"),
        "{notice}"
    );
    assert!(!notice.contains("[object Object]"), "{notice}");
    assert_eq!(document(&app).await["layout"], json!(["bad", "good"]), "nothing was saved");
    let order = r#"JSON.stringify([...document.querySelectorAll('[data-widget-id]')].map((e) => e.dataset.widgetId))"#;
    assert_eq!(page.eval(&format!("return {order};"), Value::Null).await, r#"["bad","good"]"#);

    // Removing the broken widget with its cell's control works (the result is valid), and so do moves after it.
    page.eval(
        r#"document.querySelector('[data-widget-id="bad"]').closest('li')
             .querySelector('button[data-action="remove"]').click(); return null;"#,
        Value::Null,
    )
    .await;
    page.wait_for("the broken widget removed", &format!(r#"{order} === '["good"]'"#), 10).await;
    let after = document(&app).await;
    assert!(after["widgets"]["bad"].is_null() && after["layout"] == json!(["good"]), "{after}");

    // Asking still works: the answer's widgets appear and the answer is shown.
    page.eval(
        r#"const input = document.querySelector('form[data-role="ask"] input[name="question"]');
           input.value = 'workspace overview'; input.form.requestSubmit(); return null;"#,
        Value::Null,
    )
    .await;
    page.wait_for(
        "the answer's widgets",
        "document.querySelectorAll('[data-widget-type=\"ProjectStatus\"]').length === 4",
        20,
    )
    .await;
    let answer = page.wait_for("the answer", "document.querySelector('[data-role=\"answer\"]').textContent", 10).await;
    assert!(answer.as_str().is_some_and(|text| text.contains("70/100")), "{answer}");

    page.assert_no_console_errors(&[]).await;
    page.quit().await;
}

/// Flow 4: a project named with markup is text everywhere the page shows it.
#[tokio::test]
async fn markup_in_a_project_name_stays_text_in_questions_answers_and_widgets() {
    const NAME: &str = r#"<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>"#;
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let mut page = driver.page(&app).await;
    sign_in(&page).await;

    let (status, project) = app.post("/api/projects", &json!({ "name": NAME })).await;
    assert_eq!(status, StatusCode::CREATED, "{project}");
    let project = project["id"].as_str().expect("project id").to_owned();
    for (title, status) in [("Write the <b>copy</b>", "done"), ("Ship it", "todo")] {
        let (code, task) =
            app.post("/api/tasks", &json!({ "projectId": project, "title": title, "status": status })).await;
        assert_eq!(code, StatusCode::CREATED, "{task}");
    }

    page.client.refresh().await.expect("reload");
    page.wait_ready().await;
    let label = format!("How is {NAME} doing");
    ask_quick(&page, &label).await;

    let (status_id, board_id) = (format!("navi-status-{project}"), format!("navi-board-{project}"));
    page.wait_for(
        "the project's status and board",
        &format!("document.querySelector('[data-widget-id={status_id:?}]') && document.querySelector('[data-widget-id={board_id:?}]')"),
        20,
    )
    .await;
    let shown = page
        .eval(
            r#"const [status, board] = arguments[0];
               const card = (id) => document.querySelector(`[data-widget-id="${id}"]`);
               return {
                 statusType: card(status).dataset.widgetType,
                 boardType: card(board).dataset.widgetType,
                 statusTitle: card(status).querySelector('h2').textContent,
                 boardTitle: card(board).querySelector('h2').textContent,
                 statusText: card(status).textContent.includes('1 of 2'),
                 cardTitle: [...card(board).querySelectorAll('.w-card__title')].map((e) => e.textContent).sort(),
               };"#,
            json!([status_id, board_id]),
        )
        .await;
    assert_eq!(
        shown,
        json!({
            "statusType": "ProjectStatus", "boardType": "KanbanBoard", "statusTitle": NAME, "boardTitle": NAME,
            "statusText": true, "cardTitle": ["Ship it", "Write the <b>copy</b>"],
        })
    );
    let answer = page.wait_for("the answer", "document.querySelector('[data-role=\"answer\"]').textContent", 10).await;
    assert!(answer.as_str().is_some_and(|text| text.contains(NAME)), "the answer names the project as text: {answer}");
    let asked = document(&app).await["lastAnswer"].clone();
    // The quick question asks "how is <name> doing", narrowed to the project.
    assert_eq!(
        (&asked["question"], &asked["projectId"]),
        (&json!(format!("how is {NAME} doing")), &json!(project)),
        "the quick question asked about the project"
    );
    let injected = page
        .eval(
            r#"return { elements: document.querySelectorAll('main img, main script, main b, aside img, aside script').length,
                        pwned: typeof window.__pwned };"#,
            Value::Null,
        )
        .await;
    assert_eq!(injected, json!({ "elements": 0, "pwned": "undefined" }));

    page.assert_no_console_errors(&[]).await;
    page.quit().await;
}

/// Flow 5: axe-core finds no serious or critical violation on any view, in either theme.
#[tokio::test]
async fn axe_finds_no_serious_violations_on_any_view_in_either_theme() {
    let app = spawn_app().await;
    let (status, _) = app.post("/api/ask", &json!({ "question": "workspace overview" })).await;
    assert_eq!(status, StatusCode::OK);
    let driver = Driver::start().await;
    let mut page = driver.page(&app).await;
    sign_in(&page).await;

    let views = [
        (
            "#/",
            "document.querySelectorAll('[data-widget-id]').length > 5 && document.querySelector('[data-panel=\"agents\"] li[data-agent-id]') && document.querySelector('[data-panel=\"usage\"] [data-role=\"usage-today\"]')",
        ),
        (
            "#/projects",
            "document.querySelector('[data-view=\"page\"]:not([hidden]) section[data-page=\"project\"] tr[data-id]')",
        ),
        (
            "#/tasks",
            "document.querySelector('[data-view=\"page\"]:not([hidden]) section[data-page=\"task\"] tr[data-id]')",
        ),
        (
            "#/members",
            "document.querySelector('[data-view=\"page\"]:not([hidden]) section[data-page=\"member\"] tr[data-id]')",
        ),
    ];
    let mut found = Vec::new();
    for theme in ["light", "dark"] {
        page.eval(
            r#"const select = document.querySelector('[data-role="theme"]');
               select.value = arguments[0]; select.dispatchEvent(new Event('change')); return null;"#,
            json!(theme),
        )
        .await;
        page.wait_for(
            &format!("the {theme} theme"),
            &format!("document.documentElement.dataset.theme === {theme:?}"),
            5,
        )
        .await;
        for (route, loaded) in views {
            page.eval("location.hash = arguments[0]; return null;", json!(route)).await;
            page.wait_for(&format!("{route} loaded"), loaded, 15).await;
            let violations = page.axe().await;
            if !violations.is_empty() {
                found.push(json!({ "view": route, "theme": theme, "violations": violations }));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
    // The theme was saved to the state (the switch writes preferences.theme).
    assert_eq!(document(&app).await["preferences"]["theme"], "dark");

    page.assert_no_console_errors(&[]).await;
    page.quit().await;
}

/// Writes the README's screenshot (`docs/images/dashboard.png`, 1280×900): the demo workspace's
/// overview. Run on purpose: `cargo test -p agentdeck-server --test api web::flows::readme -- --ignored`.
#[tokio::test]
#[ignore = "writes docs/images/dashboard.png: run with --ignored when the page changed"]
async fn readme_screenshot_of_the_dashboard() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let mut page = driver.page(&app).await;
    // The window's size includes the browser's frame: grow it until the page itself is 1280×900.
    let frame = page
        .eval("return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight];", Value::Null)
        .await;
    let extra = |at: usize| u32::try_from(frame[at].as_u64().unwrap_or_default()).unwrap_or_default();
    page.client.set_window_size(WINDOW.0 + extra(0), WINDOW.1 + extra(1)).await.expect("window size");
    page.wait_for(
        "a 1280×900 viewport",
        &format!("window.innerWidth === {} && window.innerHeight === {}", WINDOW.0, WINDOW.1),
        5,
    )
    .await;
    sign_in(&page).await;
    ask_quick(&page, "Workspace overview").await;
    page.wait_for(
        "the overview's widgets and the panels",
        r#"document.querySelectorAll('[data-widget-type="ProjectStatus"]').length === 4
           && document.querySelector('[data-role="answer"]').textContent
           && document.querySelector('[data-panel="agents"] li[data-agent-status="ok"]')
           && document.querySelector('[data-panel="usage"] [data-role="usage-today"]')
           && document.querySelector('[data-sync-status="connected"]')"#,
        20,
    )
    .await;
    // Fonts and the charts' second layout pass (on the next frame) settle before the picture.
    page.run(
        r#"const done = arguments[arguments.length - 1];
           document.fonts.ready.then(() => requestAnimationFrame(() => requestAnimationFrame(() => done("ok"))));"#,
        Value::Null,
    )
    .await;
    let png = page.screenshot().await;
    let size = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    assert_eq!((size(16), size(20)), WINDOW, "a 1280×900 picture");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/images/dashboard.png");
    std::fs::create_dir_all(path.parent().expect("docs/images")).expect("docs/images");
    std::fs::write(&path, &png).expect("write the screenshot");
    println!("wrote {}", path.display());
    page.assert_no_console_errors(&[]).await;
    page.quit().await;
}
