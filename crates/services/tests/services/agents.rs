//! Navi, Pulse and Herald on the demo workspace, through the A2A task
//! service: each answers with a completed task whose artifact holds a text
//! part and `{"widgets": [...]}`, and the numbers are the ones the rules give
//! for the seeded data, worked out by hand below (the seed's table and
//! comments are in `src/seed.rs`; completions there happen at
//! `now − days + (index mod 5) h`).

use std::sync::Arc;
use std::time::Duration;

use agentdeck_a2a_protocol::{Message, Part, PartContent, SendMessageRequest, SendMessageResponse, Task, TaskState};
use agentdeck_domain::auth::{Principal, Role};
use agentdeck_services::a2a::{A2aCaller, A2aOptions, A2aService, AgentExecutor};
use agentdeck_services::agents::{herald::Herald, navi::Navi, pulse::Pulse};
use agentdeck_services::seed::{DEMO_WORKSPACE_ID, seed_demo};
use agentdeck_storage::testing::TestDatabase;
use agentdeck_storage::{ConnectOptions, Stores, connect};
use anyhow::{Context, bail};
use serde_json::{Value, json};

struct Fixture {
    _database: TestDatabase,
    service: A2aService,
    caller: A2aCaller,
}

/// Navi, Pulse and Herald hosted on a fresh SQLite database seeded with the demo workspace.
pub(crate) async fn demo_agents() -> anyhow::Result<(TestDatabase, Stores, A2aService)> {
    let database = TestDatabase::sqlite()?;
    let options = ConnectOptions { max_connections: 4, acquire_timeout: Duration::from_secs(30) };
    let stores = connect(&database.url, &options).await?;
    stores.database.migrate().await?;
    seed_demo(&stores, chrono::Utc::now()).await?;
    let a2a = A2aOptions::default();
    let agents: Vec<Arc<dyn AgentExecutor>> = vec![
        Arc::new(Navi::new(stores.clone())),
        Arc::new(Pulse::new(stores.clone(), a2a.active_runs.clone())),
        Arc::new(Herald::new(stores.clone())),
    ];
    let service = A2aService::new(stores.agent_tasks.clone(), agents, a2a);
    Ok((database, stores, service))
}

async fn fixture() -> anyhow::Result<Fixture> {
    let (database, _, service) = demo_agents().await?;
    let principal = Principal { subject: "demo".into(), workspace_id: DEMO_WORKSPACE_ID, role: Role::Owner };
    let caller = A2aCaller::authenticated(principal, None);
    Ok(Fixture { _database: database, service, caller })
}

/// Asks an agent and returns the answer's text and widgets.
async fn ask(fx: &Fixture, agent: &str, message: Message) -> anyhow::Result<(String, Vec<Value>)> {
    let task: Task = match fx.service.send(agent, &fx.caller, SendMessageRequest::new(message)).await? {
        SendMessageResponse::Task(task) => task,
        SendMessageResponse::Message(message) => bail!("expected a task, got {message:?}"),
    };
    assert_eq!(task.status.state, TaskState::Completed, "{task:?}");
    let artifact = task.artifacts.first().context("no artifact")?;
    let text = artifact.parts.iter().find_map(Part::as_text).context("no text part")?.to_owned();
    let data = artifact
        .parts
        .iter()
        .find_map(|part| match &part.content {
            PartContent::Data(data) => Some(data.clone()),
            _ => None,
        })
        .context("no data part")?;
    let widgets = data["widgets"].as_array().cloned().context("no widgets")?;
    Ok((text, widgets))
}

fn of_type<'a>(widgets: &'a [Value], kind: &str) -> Vec<&'a Value> {
    widgets.iter().filter(|w| w["type"] == kind).collect()
}

fn metric(widget: &Value, label: &str) -> Value {
    widget["data"]["metrics"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["label"] == label))
        .map_or(Value::Null, |m| m["value"].clone())
}

#[tokio::test]
async fn navi_reports_each_active_project_as_it_was_seeded() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let (text, widgets) = ask(&fx, "navi", Message::user_text("n1", "status of my active projects")).await?;
    let statuses: Vec<(String, String, f64, u64, u64)> = of_type(&widgets, "ProjectStatus")
        .iter()
        .map(|w| {
            let d = &w["data"];
            (
                d["projectName"].as_str().unwrap_or_default().to_owned(),
                d["status"].as_str().unwrap_or_default().to_owned(),
                d["progress"].as_f64().unwrap_or(-1.0),
                d["tasksCompleted"].as_u64().unwrap_or(0),
                d["tasksTotal"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let mut statuses = statuses;
    statuses.sort_by(|a, b| a.0.cmp(&b.0));
    // The archived Legacy Intranet Sunset is left out.
    assert_eq!(
        statuses,
        [
            ("Data Platform Migration".into(), "behind".into(), 25.0, 2, 8),
            ("Mobile App Launch".into(), "at_risk".into(), 54.5, 6, 11),
            ("Security Audit Q3".into(), "completed".into(), 100.0, 6, 6),
            ("Website Redesign".into(), "on_track".into(), 60.0, 6, 10),
        ]
    );
    assert_eq!(text, "4 active projects.");

    // One project by name: its status, open tasks, board, timeline and burndown.
    let (text, widgets) = ask(&fx, "navi", Message::user_text("n2", "how is Mobile App Launch doing")).await?;
    assert_eq!(text, "Mobile App Launch is at risk at 54.5 % (6 of 11 tasks done).");
    let kinds: Vec<&str> = widgets.iter().filter_map(|w| w["type"].as_str()).collect();
    assert_eq!(kinds, ["ProjectStatus", "TaskList", "KanbanBoard", "GanttChart", "BurndownChart"]);
    assert_eq!(widgets[1]["data"]["tasks"].as_array().map(Vec::len), Some(5), "five open tasks");
    let columns: Vec<(String, usize)> = widgets[2]["data"]["columns"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| (c["id"].as_str().unwrap_or_default().to_owned(), c["cards"].as_array().map_or(0, Vec::len)))
        .collect();
    assert_eq!(columns, [("todo".into(), 1), ("in_progress".into(), 1), ("done".into(), 6), ("blocked".into(), 3)]);
    assert_eq!(widgets[3]["data"]["tasks"].as_array().map(Vec::len), Some(11));
    // Burndown from day −30 to today: 31 points; the first has all 11 open, today 5 are left.
    let points = widgets[4]["data"]["points"].as_array().cloned().unwrap_or_default();
    assert_eq!(points.len(), 31);
    assert_eq!((points[0]["ideal"].as_f64(), points[0]["actual"].as_u64()), (Some(11.0), Some(11)));
    assert_eq!(points[30]["actual"].as_u64(), Some(5));
    // 30 of 40 days elapsed: the ideal line is at 11 × 0.25 = 2.75 → 2.8.
    assert_eq!(points[30]["ideal"].as_f64(), Some(2.8));
    Ok(())
}

#[tokio::test]
async fn pulse_scores_the_active_projects_and_raises_the_seeded_risks() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let (text, widgets) = ask(&fx, "pulse", Message::user_text("p1", "what is at risk this week")).await?;
    let health = of_type(&widgets, "Metrics").into_iter().find(|w| w["id"] == "pulse-health").context("health")?;
    // On time: of 22 tasks done or past due, 8 were done by their due date → 36.4.
    //   Website 4 (the wireframes at −8 d + 3 h and staging at −2 d were late), Mobile 3
    //   (push service +1 h, in-app purchase, crash reporting late), Data 0 (two late, two open past due),
    //   Security 1 (only the report, due −8 d and done −9 d).
    // Blockers: 15 open tasks, 4 blocked (3 in Mobile, 1 in Data) → 73.3.
    // Capacity: Marcus has 16 + 14 + 12 + 12 (overdue) = 54 h due this week → 40/54 = 74.1;
    //   the other four fit → mean (400 + 74.07) / 5 = 94.8.
    // Velocity: 3 completed in the last 7 days, 14 in the 4 weeks before (3.5 a week) → 85.7.
    // Score: 0.30·36.36 + 0.25·73.33 + 0.25·94.81 + 0.20·85.71 = 70.09 → 70, good.
    assert_eq!(metric(health, "Health score"), json!(70));
    assert_eq!(metric(health, "On-time delivery"), json!(36.4));
    assert_eq!(metric(health, "Blocker impact"), json!(73.3));
    assert_eq!(metric(health, "Team capacity"), json!(94.8));
    assert_eq!(metric(health, "Velocity trend"), json!(85.7));
    assert_eq!((metric(health, "Open tasks"), metric(health, "Overdue tasks")), (json!(15), json!(2)));
    assert_eq!(metric(health, "Completed this week"), json!(3));
    // Risks: three tasks due within 48 h, the four-task chain, Marcus over 40 h — all warnings.
    let alerts: Vec<(String, String)> = of_type(&widgets, "Alert")
        .iter()
        .map(|w| {
            (
                w["data"]["severity"].as_str().unwrap_or_default().to_owned(),
                w["data"]["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        alerts,
        [
            ("warning".into(), "3 open tasks due within 48 hours".into()),
            (
                "warning".into(),
                "a chain of 4 blocked tasks: Submit to app stores ← QA sign-off ← Fix crash on login ← Upgrade auth SDK".into()
            ),
            ("warning".into(), "Marcus Chen has 54 h of open work due this week (over 40 h)".into()),
        ]
    );
    assert_eq!(text, "Health of the active projects: 70/100 (good), 3 risks.");
    let vitals = of_type(&widgets, "Metrics").into_iter().find(|w| w["id"] == "pulse-vitals").context("vitals")?;
    assert!(metric(vitals, "Server memory").as_f64().is_some_and(|mib| mib > 1.0), "{vitals}");
    assert_eq!(metric(vitals, "Running agent tasks"), json!(1), "Pulse's own run is the one running");
    Ok(())
}

#[tokio::test]
async fn herald_reports_the_recent_activity_with_counts() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let (text, widgets) = ask(&fx, "herald", Message::user_text("h1", "recent team activity")).await?;
    let feed = of_type(&widgets, "TeamActivity");
    let activities = feed[0]["data"]["activities"].as_array().cloned().unwrap_or_default();
    assert_eq!(activities.len(), 20);
    // The newest entry is the staging environment's completion, 2 days ago, by Jonas.
    assert_eq!(
        (activities[0]["action"].as_str(), activities[0]["target"].as_str()),
        (Some("task.completed"), Some("Set up staging environment"))
    );
    // The last 7 days hold three completions (wireframe review −6 d, staging −2 d, crash reporting −3 d), all by jonas.
    let counts = of_type(&widgets, "Metrics")[0];
    assert_eq!(metric(counts, "Changes in the last 7 days"), json!(3));
    assert_eq!(metric(counts, "Tasks completed"), json!(3));
    assert_eq!(metric(counts, "Tasks created"), json!(0));
    assert_eq!(metric(counts, "People active"), json!(1));
    assert_eq!(text, "3 changes to the workspace in the last 7 days by 1 person; 3 tasks completed.");
    // Anonymous callers get a failed task, not data.
    let anonymous = fx
        .service
        .send("herald", &A2aCaller::anonymous(), SendMessageRequest::new(Message::user_text("h2", "x")))
        .await?;
    assert!(matches!(anonymous, SendMessageResponse::Task(task) if task.status.state == TaskState::Failed));
    Ok(())
}

#[tokio::test]
async fn herald_narrows_to_a_named_project() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let (text, widgets) = ask(&fx, "herald", Message::user_text("h3", "recent activity in Website Redesign")).await?;
    // Website Redesign's last 7 days: the accessibility review (−6 d + 4 h) and staging (−2 d), both by jonas.
    let counts = of_type(&widgets, "Metrics")[0];
    assert_eq!(metric(counts, "Changes in the last 7 days"), json!(2));
    assert_eq!(metric(counts, "Tasks completed"), json!(2));
    // Its feed: 1 project created, 10 tasks created, 6 completed = 17 entries, all of this project.
    let activities = of_type(&widgets, "TeamActivity")[0]["data"]["activities"].as_array().cloned().unwrap_or_default();
    assert_eq!(activities.len(), 17);
    assert_eq!(text, "2 changes to Website Redesign in the last 7 days by 1 person; 2 tasks completed.");
    Ok(())
}
