//! `POST /api/ask` and the Dashboard Agent: the specialists called over
//! A2A in parallel (in process; see `gateway_transport.rs`), their widgets checked and written to the dashboard, a
//! late or failing agent turned into a retryable Error widget.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{spawn_app, spawn_app_with};

fn of_type<'a>(widgets: &'a Value, kind: &str) -> Vec<&'a Value> {
    widgets.as_array().into_iter().flatten().filter(|w| w["type"] == kind).collect()
}

fn metric(widget: &Value, label: &str) -> Value {
    widget["data"]["metrics"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["label"] == label))
        .map_or(Value::Null, |m| m["value"].clone())
}

#[tokio::test]
async fn a_workspace_overview_has_the_seeded_numbers_and_lands_on_the_dashboard() {
    let app = spawn_app().await;
    let (status, answer) = app.post("/api/ask", &json!({"question": "workspace overview"})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    for agent in ["navi", "pulse", "herald"] {
        assert_eq!(answer["agents"][agent]["ok"], true, "{agent}: {answer}");
        assert!(answer["agents"][agent]["ms"].is_u64());
    }
    let widgets = &answer["widgets"];
    let mut projects: Vec<(String, String)> = of_type(widgets, "ProjectStatus")
        .iter()
        .map(|w| {
            (
                w["data"]["projectName"].as_str().unwrap_or_default().to_owned(),
                w["data"]["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    projects.sort();
    assert_eq!(
        projects,
        [
            ("Data Platform Migration".into(), "behind".into()),
            ("Mobile App Launch".into(), "at_risk".into()),
            ("Security Audit Q3".into(), "completed".into()),
            ("Website Redesign".into(), "on_track".into()),
        ]
    );
    let health =
        of_type(widgets, "Metrics").into_iter().find(|w| w["id"] == "pulse-health").cloned().unwrap_or_default();
    // The value worked out by hand in services/tests/services/agents.rs.
    assert_eq!(metric(&health, "Health score").as_f64(), Some(70.0));
    assert_eq!(of_type(widgets, "Alert").len(), 3, "the three seeded risks");
    assert_eq!(of_type(widgets, "TeamActivity").len(), 1);
    assert!(answer["text"].as_str().is_some_and(|t| t.contains("70/100")), "{answer}");
    // The same widgets are now the caller's dashboard, in the answer's order.
    let (status, state) = app.get("/api/dashboard/state").await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = widgets.as_array().into_iter().flatten().filter_map(|w| w["id"].as_str()).collect();
    let layout: Vec<&str> =
        state["document"]["layout"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    assert_eq!(layout, ids);
    assert_eq!(state["document"]["widgets"]["pulse-health"]["data"]["metrics"][0]["value"].as_f64(), Some(70.0));
}

#[tokio::test]
async fn a_late_agent_becomes_a_retryable_error_and_the_answer_still_comes_in_time() {
    let app = spawn_app_with(|settings| {
        settings.gateway.agent_deadline_ms = 5_000;
        settings.gateway.agent_deadlines_ms.insert("pulse".into(), 1);
        // In process Pulse can answer within the millisecond: held up so it cannot.
        let held_up = agentdeck_server::config::AgentFault { delay_ms: 200, fail: false };
        settings.a2a.faults.insert("pulse".into(), held_up);
    })
    .await;
    let started = Instant::now();
    let (status, answer) = app.post("/api/ask", &json!({"question": "workspace overview"})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(answer["agents"]["pulse"]["ok"], false);
    assert!(answer["agents"]["pulse"]["error"].as_str().is_some_and(|e| e.contains("no answer within")), "{answer}");
    assert_eq!(
        (answer["agents"]["navi"]["ok"].as_bool(), answer["agents"]["herald"]["ok"].as_bool()),
        (Some(true), Some(true))
    );
    let errors = of_type(&answer["widgets"], "Error");
    assert_eq!(errors.len(), 1, "{answer}");
    assert_eq!(errors[0]["id"], "gateway-unavailable-pulse");
    assert_eq!(errors[0]["title"], "Vitals");
    assert_eq!(errors[0]["data"]["retryable"], true);
    assert!(
        errors[0]["data"]["message"].as_str().is_some_and(|m| m.starts_with("Vitals did not answer: no answer within"))
    );
    assert_eq!(errors[0]["source"], json!({"question": "workspace overview"}));
    assert_eq!(of_type(&answer["widgets"], "ProjectStatus").len(), 4, "the other agents' widgets still arrive");
}

#[tokio::test]
async fn unknown_questions_get_help_and_bad_ones_a_clear_error() {
    let app = spawn_app().await;
    let (status, answer) = app.post("/api/ask", &json!({"question": "tell me a joke"})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(answer["text"].as_str().is_some_and(|t| t.contains("workspace overview")), "{answer}");
    assert_eq!(answer["widgets"], json!([]));
    let (status, error) = app.post("/api/ask", &json!({"question": "   "})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    // Every widget names its question, and a widget's question is at most 500 characters.
    let (status, error) = app.post("/api/ask", &json!({"question": format!("status {}", "x".repeat(494))})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let (status, answer) = app.post("/api/ask", &json!({"question": format!("status {}", "x".repeat(493))})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, _) = app.post("/api/ask", &json!({"question": "x", "extra": 1})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app.request(reqwest::Method::POST, "/api/ask", None, Some(&json!({"question": "status"}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_dashboard_agent_answers_over_a2a() {
    let app = spawn_app().await;
    let message = json!({"message": {
        "messageId": "g-1", "role": "ROLE_USER", "parts": [{"text": "how is Website Redesign doing"}]}});
    let (_, _, reply) = app.a2a_call("/a2a/gateway", Some(&app.token), "SendMessage", message).await;
    let task = &reply["result"]["task"];
    assert_eq!(task["status"]["state"], "TASK_STATE_COMPLETED", "{reply}");
    let data = &task["artifacts"][0]["parts"][1]["data"];
    let kinds: Vec<&str> =
        data["widgets"].as_array().into_iter().flatten().filter_map(|w| w["type"].as_str()).collect();
    assert_eq!(&kinds[..5], ["ProjectStatus", "TaskList", "KanbanBoard", "GanttChart", "BurndownChart"], "{kinds:?}");
    assert_eq!(data["agents"]["navi"]["ok"], true);
    let (_, card) = app.request(reqwest::Method::GET, "/a2a/gateway/.well-known/agent-card.json", None, None).await;
    assert_eq!(card["name"], "Dashboard Agent");
}

/// How many tasks the caller has with an agent (each uncached answer is one).
async fn tasks_with(app: &crate::helpers::TestApp, agent: &str) -> i64 {
    let (_, _, listed) = app.a2a_call(&format!("/a2a/{agent}"), Some(&app.token), "ListTasks", json!({})).await;
    listed["result"]["totalSize"].as_i64().unwrap_or(-1)
}

#[tokio::test]
async fn identical_questions_share_one_call_per_agent_until_the_data_changes() {
    let app = spawn_app().await;
    let question = json!({"question": "workspace overview"});
    let asks = (0..50).map(|_| app.post("/api/ask", &question));
    let answers = futures::future::join_all(asks).await;
    for (status, answer) in &answers {
        assert!(*status == StatusCode::OK && answer["agents"]["navi"]["ok"] == true, "{status} {answer}");
    }
    for agent in ["navi", "pulse", "herald"] {
        assert_eq!(tasks_with(&app, agent).await, 1, "{agent} was called once for 50 questions");
    }
    // A task update invalidates the answers, and the next one shows it.
    let (_, tasks) = app.get("/api/tasks?limit=200").await;
    let navigation = tasks["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["title"] == "Build responsive navigation")
        .cloned()
        .unwrap_or_default();
    let (status, _) = app
        .patch(&format!("/api/tasks/{}", navigation["id"].as_str().unwrap_or_default()), &json!({"status": "done"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, answer) = app.post("/api/ask", &json!({"question": "workspace overview"})).await;
    assert_eq!(tasks_with(&app, "navi").await, 2);
    let website = of_type(&answer["widgets"], "ProjectStatus")
        .into_iter()
        .find(|w| w["data"]["projectName"] == "Website Redesign")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (website["data"]["tasksCompleted"].as_u64(), website["data"]["progress"].as_f64()),
        (Some(7), Some(70.0))
    );
}

#[tokio::test]
async fn a_failing_or_slow_agent_endpoint_becomes_an_error_widget_within_the_deadline() {
    use agentdeck_server::config::AgentFault;
    let app = spawn_app_with(|settings| {
        settings.gateway.agent_deadline_ms = 400;
        settings.a2a.faults.insert("herald".into(), AgentFault { delay_ms: 0, fail: true });
        settings.a2a.faults.insert("pulse".into(), AgentFault { delay_ms: 2_000, fail: false });
        settings.a2a.faults.insert("navi".into(), AgentFault { delay_ms: 50, fail: false });
    })
    .await;
    let started = Instant::now();
    let (status, answer) = app.post("/api/ask", &json!({"question": "workspace overview"})).await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::OK, "{answer}");
    // The deadline (400 ms) plus a small margin, not pulse's 2 s.
    assert!(took < Duration::from_millis(1_500), "{took:?}");
    assert_eq!(answer["agents"]["navi"]["ok"], true, "50 ms is within the deadline: {answer}");
    assert_eq!(answer["agents"]["pulse"]["ok"], false);
    assert!(answer["agents"]["herald"]["error"].as_str().is_some_and(|e| e.contains("fault injected")), "{answer}");
    let ids: Vec<&str> = of_type(&answer["widgets"], "Error").iter().filter_map(|a| a["id"].as_str()).collect();
    assert_eq!(ids, ["gateway-unavailable-pulse", "gateway-unavailable-herald"]);
    assert_eq!(of_type(&answer["widgets"], "ProjectStatus").len(), 4);
}

#[tokio::test]
async fn an_open_tab_receives_the_refreshed_widget_when_project_data_changes() {
    let app = spawn_app().await;
    let (status, answer) = app.post("/api/ask", &json!({"question": "status of my active projects"})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let website = of_type(&answer["widgets"], "ProjectStatus")
        .into_iter()
        .find(|w| w["data"]["projectName"] == "Website Redesign")
        .cloned()
        .unwrap_or_default();
    let widget_id = website["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(website["data"]["tasksCompleted"], 6);
    // A tab of the same user, subscribed to the dashboard the answer was written to.
    let mut tab = app.ws_open().await;
    tab.send(&json!({"t": "sub"})).await;
    loop {
        if tab.recv().await["t"] == "subscribed" {
            break;
        }
    }
    // Someone finishes a Website Redesign task; nobody asks again.
    let (_, tasks) = app.get("/api/tasks?limit=200").await;
    let navigation = tasks["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["title"] == "Build responsive navigation")
        .cloned()
        .unwrap_or_default();
    let path = format!("/api/tasks/{}", navigation["id"].as_str().unwrap_or_default());
    let (status, _) = app.patch(&path, &json!({"status": "done"})).await;
    assert_eq!(status, StatusCode::OK);
    let started = Instant::now();
    let refreshed = loop {
        let frame = tab.recv().await;
        let ops = frame["ops"].as_array().cloned().unwrap_or_default();
        let widget = ops.iter().find(|op| op["path"] == format!("/widgets/{widget_id}")).map(|op| op["value"].clone());
        if frame["t"] == "delta"
            && let Some(widget) = widget
        {
            break widget;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "no refreshed widget; last frame {frame}");
    };
    assert_eq!(refreshed["data"]["tasksCompleted"], 7, "{refreshed}");
    assert_eq!(refreshed["data"]["progress"].as_f64(), Some(70.0));
}

#[tokio::test]
async fn the_gateway_reaches_the_hosted_agents_whatever_the_public_url() {
    // In process: the public URL (here one this test cannot reach) is only what cards name.
    let app = spawn_app_with(|settings| settings.public_url = "https://dash.example.com".into()).await;
    let (status, answer) = app.post("/api/ask", &json!({"question": "recent team activity"})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["agents"]["herald"]["ok"], true, "{answer}");
    let (_, card) = app.request(reqwest::Method::GET, "/a2a/herald/.well-known/agent-card.json", None, None).await;
    assert_eq!(
        card["supportedInterfaces"][0]["url"], "https://dash.example.com/a2a/herald",
        "cards name the public URL"
    );
}

#[tokio::test]
async fn an_agent_set_to_fail_is_a_retryable_error_on_every_ask_while_the_others_answer() {
    let app = spawn_app_with(|settings| settings.agents.fail = vec!["pulse".into()]).await;
    for attempt in ["the ask", "the retry"] {
        let (status, answer) = app.post("/api/ask", &json!({"question": "workspace overview"})).await;
        assert_eq!(status, StatusCode::OK, "{attempt}: {answer}");
        assert_eq!(answer["agents"]["pulse"]["ok"], false, "{attempt}: {answer}");
        assert_eq!(
            (answer["agents"]["navi"]["ok"].as_bool(), answer["agents"]["herald"]["ok"].as_bool()),
            (Some(true), Some(true)),
            "{attempt}"
        );
        let (_, state) = app.get("/api/dashboard/state").await;
        let vitals = &state["document"]["widgets"]["gateway-unavailable-pulse"];
        assert_eq!(vitals["type"], "Error", "{attempt}: {state}");
        assert_eq!(vitals["title"], "Vitals");
        assert_eq!(vitals["data"]["retryable"], true);
        assert_eq!(
            vitals["data"]["message"],
            "Vitals did not answer: the task ended failed: fault injection: pulse is set to fail (agents.fail)"
        );
        assert_eq!(vitals["source"], json!({"question": "workspace overview"}));
        assert!(state["document"]["widgets"]["pulse-health"].is_null(), "{attempt}: no Vitals widget");
        assert_eq!(of_type(&answer["widgets"], "ProjectStatus").len(), 4, "{attempt}: Navigator answered");
        assert_eq!(of_type(&answer["widgets"], "TeamActivity").len(), 1, "{attempt}: Activity answered");
    }
    // The failures are real tasks of pulse's, one per ask: the cache kept neither.
    assert_eq!(tasks_with(&app, "pulse").await, 2);
    assert_eq!(tasks_with(&app, "navi").await, 1, "the answers that succeeded were cached");
}

/// The layout of the caller's dashboard.
async fn layout_now(app: &crate::helpers::TestApp) -> Vec<String> {
    let (_, state) = app.get("/api/dashboard/state").await;
    state["document"]["layout"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

async fn patch_state(app: &crate::helpers::TestApp, ops: Value) {
    let body = serde_json::to_vec(&ops).unwrap();
    let (status, answer) =
        app.send_raw(reqwest::Method::PATCH, "/api/dashboard/state", "application/json-patch+json", body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

/// Completes a seeded Website Redesign task, then waits for the live refresh to show it on the dashboard.
async fn finish_a_task_and_await_the_refresh(app: &crate::helpers::TestApp, widget_id: &str, title: &str) -> Value {
    let (_, tasks) = app.get("/api/tasks?limit=200").await;
    let task = tasks["items"].as_array().into_iter().flatten().find(|t| t["title"] == title).cloned().unwrap();
    let (_, before) = app.get("/api/dashboard/state").await;
    let completed = before["document"]["widgets"][widget_id]["data"]["tasksCompleted"].as_u64().unwrap();
    let (status, _) =
        app.patch(&format!("/api/tasks/{}", task["id"].as_str().unwrap()), &json!({"status": "done"})).await;
    assert_eq!(status, StatusCode::OK);
    let started = Instant::now();
    loop {
        let (_, state) = app.get("/api/dashboard/state").await;
        if state["document"]["widgets"][widget_id]["data"]["tasksCompleted"].as_u64() == Some(completed + 1) {
            return state;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "no refresh of {widget_id}: {state}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_gateway_keeps_the_users_layout_and_an_ask_brings_back_what_a_refresh_does_not() {
    let app = spawn_app().await;
    let question = json!({"question": "status of my active projects"});
    let (status, answer) = app.post("/api/ask", &question).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let ids: Vec<String> = answer["widgets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w["id"].as_str())
        .map(str::to_owned)
        .collect();
    assert!(ids.len() >= 3, "{answer}");
    assert_eq!(layout_now(&app).await, ids);
    let (_, state) = app.get("/api/dashboard/state").await;
    let last = &state["document"]["lastAnswer"];
    assert_eq!((&last["question"], &last["text"]), (&question["question"], &answer["text"]), "{last}");
    let asked_at = last["askedAt"].clone();
    let website = of_type(&answer["widgets"], "ProjectStatus")
        .into_iter()
        .find(|w| w["data"]["projectName"] == "Website Redesign")
        .and_then(|w| w["id"].as_str())
        .unwrap()
        .to_owned();

    // The user reverses the order and sizes a widget; a data change refreshes the contents, not the order.
    let reversed: Vec<String> = ids.iter().rev().cloned().collect();
    patch_state(
        &app,
        json!([{"op": "replace", "path": "/layout", "value": reversed},
               {"op": "add", "path": format!("/widgetSizes/{website}"), "value": {"columns": 2, "rows": 1}}]),
    )
    .await;
    let state = finish_a_task_and_await_the_refresh(&app, &website, "Build responsive navigation").await;
    assert_eq!(layout_now(&app).await, reversed, "the refresh kept the user's order");
    assert_eq!(state["document"]["widgetSizes"][&website], json!({"columns": 2, "rows": 1}));
    assert_eq!(state["document"]["lastAnswer"]["askedAt"], asked_at, "still the answer to that ask");

    // The user removes a widget (from the layout and the widgets); the next refresh leaves it out.
    let removed = reversed.iter().find(|id| **id != website).cloned().unwrap();
    let index = reversed.iter().position(|id| *id == removed).unwrap();
    patch_state(
        &app,
        json!([{"op": "remove", "path": format!("/layout/{index}")},
               {"op": "remove", "path": format!("/widgets/{removed}")}]),
    )
    .await;
    let kept: Vec<String> = reversed.iter().filter(|id| **id != removed).cloned().collect();
    let state = finish_a_task_and_await_the_refresh(&app, &website, "Migrate blog content").await;
    assert_eq!(layout_now(&app).await, kept, "a refresh does not bring back a removed widget");
    assert!(state["document"]["widgets"][&removed].is_null());

    // Asking again brings it back, after the widgets the user kept in their order.
    let (status, _) = app.post("/api/ask", &question).await;
    assert_eq!(status, StatusCode::OK);
    let mut expected = kept.clone();
    expected.push(removed);
    assert_eq!(layout_now(&app).await, expected);
}

/// `GET /api/agents` as the demo user: the items by id.
async fn agents_by_id(app: &crate::helpers::TestApp, token: &str) -> std::collections::BTreeMap<String, Value> {
    let response = app.client.get(format!("{}/api/agents", app.address)).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| (item["id"].as_str().unwrap().to_owned(), item.clone()))
        .collect()
}

#[tokio::test]
async fn the_agents_show_the_gateways_last_call_for_the_callers_workspace() {
    let app = spawn_app_with(|settings| settings.agents.fail = vec!["herald".into()]).await;
    let before = agents_by_id(&app, &app.token).await;
    let ids: Vec<&str> = before.keys().map(String::as_str).collect();
    assert_eq!(ids, ["conformance", "gateway", "herald", "navi", "pulse"], "every hosted agent");
    let navi = &before["navi"];
    assert_eq!((navi["name"].as_str(), navi["role"].as_str()), (Some("Navigator"), Some("project status")));
    assert_eq!(navi["url"], format!("{}/a2a/navi", app.address));
    for field in ["lastAnswerAt", "ok", "ms", "error"] {
        assert!(navi[field].is_null(), "{field} before any call: {navi}");
    }

    let (status, _) = app.post("/api/ask", &json!({"question": "workspace overview"})).await;
    assert_eq!(status, StatusCode::OK);
    let after = agents_by_id(&app, &app.token).await;
    for agent in ["navi", "pulse"] {
        let item = &after[agent];
        assert_eq!((item["ok"].as_bool(), item["error"].is_null()), (Some(true), true), "{item}");
        assert!(item["ms"].is_u64(), "{item}");
        let at = item["lastAnswerAt"].as_str().and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok());
        assert!(at.is_some(), "{item}");
    }
    let herald = &after["herald"];
    assert_eq!(herald["ok"], false, "{herald}");
    assert!(herald["error"].as_str().is_some_and(|e| e.contains("herald is set to fail")), "{herald}");
    assert!(after["gateway"]["ok"].is_null(), "the gateway does not call itself");
    // The order people know: Navigator, Vitals, Activity, Dashboard Agent, then the rest.
    let response = app.client.get(format!("{}/api/agents", app.address)).bearer_auth(&app.token).send().await.unwrap();
    let listed: Value = response.json().await.unwrap();
    let order: Vec<&str> = listed["items"].as_array().unwrap().iter().filter_map(|i| i["id"].as_str()).collect();
    assert_eq!(order, ["navi", "pulse", "herald", "gateway", "conformance"]);

    // Another workspace has seen no calls.
    let (_, other) = app.other_workspace().await;
    assert!(agents_by_id(&app, &other).await["navi"]["ok"].is_null());
    let (status, _) = app.request(reqwest::Method::GET, "/api/agents", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_layout_change_while_the_agents_work_is_kept_by_the_answer() {
    use agentdeck_server::config::AgentFault;
    // The gateway reads the dashboard while the agents work; Navigator takes 600 ms here.
    let app = spawn_app_with(|settings| {
        settings.gateway.cache_ttl_ms = 0;
        settings.a2a.faults.insert("navi".into(), AgentFault { delay_ms: 600, fail: false });
    })
    .await;
    let question = json!({"question": "status of my active projects"});
    let (status, _) = app.post("/api/ask", &question).await;
    assert_eq!(status, StatusCode::OK);
    let before = layout_now(&app).await;
    assert!(before.len() >= 3, "{before:?}");
    let reversed: Vec<String> = before.iter().rev().cloned().collect();
    let ask = app.post("/api/ask", &question);
    let reorder = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        patch_state(&app, json!([{"op": "replace", "path": "/layout", "value": reversed}])).await;
    };
    let ((status, answer), ()) = tokio::join!(ask, reorder);
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(layout_now(&app).await, reversed, "the answer was placed on the layout as the user left it");
}

/// `Server-Timing` metrics as (name, milliseconds).
fn timing_metrics(header: &str) -> Vec<(String, f64)> {
    header
        .split(',')
        .filter_map(|metric| {
            let mut params = metric.trim().split(';');
            let name = params.next()?.to_owned();
            let dur = params.find_map(|param| param.strip_prefix("dur="))?.parse().ok()?;
            Some((name, dur))
        })
        .collect()
}

#[tokio::test]
async fn an_answer_says_in_server_timing_how_long_each_agent_and_the_whole_answer_took() {
    use agentdeck_server::config::AgentFault;
    let app = spawn_app_with(|settings| {
        settings.gateway.cache_ttl_ms = 0;
        settings.a2a.faults.insert("herald".into(), AgentFault { delay_ms: 40, fail: false });
    })
    .await;
    let response = app
        .client
        .post(format!("{}/api/ask", app.address))
        .bearer_auth(&app.token)
        .json(&json!({"question": "workspace overview"}))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status(), StatusCode::OK);
    let header = response.headers().get("server-timing").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let metrics = timing_metrics(&header);
    let names: Vec<&str> = metrics.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["agent-herald", "agent-navi", "agent-pulse", "ask"], "{header}");
    let dur = |name: &str| metrics.iter().find(|(n, _)| n == name).map_or(0.0, |(_, dur)| *dur);
    assert!(dur("agent-herald") >= 40.0, "Herald waited 40 ms in front of its call: {header}");
    let slowest = metrics.iter().filter(|(n, _)| n.starts_with("agent-")).map(|(_, d)| *d).fold(0.0, f64::max);
    assert!(dur("ask") >= slowest, "the answer took at least as long as its slowest agent: {header}");
    let answer: Value = response.json().await.expect("a JSON answer");
    assert_eq!(answer["agents"]["herald"]["ok"], true, "{answer}");
}
