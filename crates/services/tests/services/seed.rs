//! The demo workspace holds the situations the agents report on, computed here
//! from what a real store returns after seeding.

use std::collections::HashMap;
use std::time::Duration;

use agentdeck_domain::dependencies::longest_chain;
use agentdeck_domain::page::{MAX_PAGE_LIMIT, PageRequest};
use agentdeck_domain::records::{ActivityFilter, Project, ProjectFilter, Task, TaskFilter, TaskStatus};
use agentdeck_services::seed::{DEMO_USER_ID, DEMO_WORKSPACE_ID, SeedOutcome, seed_demo};
use agentdeck_storage::testing::TestDatabase;
use agentdeck_storage::{ConnectOptions, Stores, connect};
use chrono::{DateTime, Utc};
use uuid::Uuid;

struct Demo {
    _database: TestDatabase,
    stores: Stores,
    now: DateTime<Utc>,
    projects: Vec<Project>,
    tasks: Vec<Task>,
}

async fn seeded() -> anyhow::Result<Demo> {
    let database = TestDatabase::sqlite()?;
    let options = ConnectOptions { max_connections: 2, acquire_timeout: Duration::from_secs(30) };
    let stores = connect(&database.url, &options).await?;
    stores.database.migrate().await?;
    let now = agentdeck_domain::records::stored_precision(Utc::now());
    assert_eq!(seed_demo(&stores, now).await?, SeedOutcome::Seeded);
    let page = PageRequest::first(MAX_PAGE_LIMIT);
    let projects = stores.projects.list_projects(DEMO_WORKSPACE_ID, &ProjectFilter::default(), page).await?.items;
    let tasks = stores.tasks.list_tasks(DEMO_WORKSPACE_ID, &TaskFilter::default(), page).await?.items;
    Ok(Demo { _database: database, stores, now, projects, tasks })
}

fn is_open(task: &Task) -> bool {
    task.status != TaskStatus::Done
}

#[tokio::test]
async fn projects_are_on_track_at_risk_behind_and_completed() -> anyhow::Result<()> {
    let demo = seeded().await?;
    let mut gaps = HashMap::new();
    for project in &demo.projects {
        let tasks: Vec<&Task> = demo.tasks.iter().filter(|task| task.project_id == project.id).collect();
        let done = tasks.iter().filter(|task| !is_open(task)).count();
        let progress = 100.0 * done as f64 / tasks.len() as f64;
        let (Some(start), Some(due)) = (project.start_date, project.due_date) else {
            anyhow::bail!("{} has a schedule", project.name);
        };
        let elapsed = 100.0 * (demo.now - start).num_seconds() as f64 / (due - start).num_seconds() as f64;
        gaps.insert(project.name.as_str(), (progress, elapsed.min(100.0)));
    }
    // progress vs elapsed share of the schedule, in percent
    let (progress, elapsed) = gaps["Website Redesign"];
    assert!(progress >= elapsed, "on track: {progress:.0} vs {elapsed:.0}");
    let (progress, elapsed) = gaps["Mobile App Launch"];
    assert!((10.0..=25.0).contains(&(elapsed - progress)), "at risk: {progress:.0} vs {elapsed:.0}");
    let (progress, elapsed) = gaps["Data Platform Migration"];
    assert!(elapsed - progress > 50.0, "behind: {progress:.0} vs {elapsed:.0}");
    assert_eq!(gaps["Security Audit Q3"].0, 100.0, "completed");
    let archived = demo
        .stores
        .projects
        .list_projects(DEMO_WORKSPACE_ID, &ProjectFilter { archived: Some(true) }, PageRequest::first(10))
        .await?;
    assert_eq!(archived.items.len(), 1);
    Ok(())
}

#[tokio::test]
async fn risks_are_present() -> anyhow::Result<()> {
    let demo = seeded().await?;
    let open: Vec<&Task> = demo.tasks.iter().filter(|task| is_open(task)).collect();
    let overdue = open.iter().filter(|task| task.due_date.is_some_and(|due| due < demo.now)).count();
    assert_eq!(overdue, 2);
    let within_48h = open
        .iter()
        .filter(|task| task.due_date.is_some_and(|due| due > demo.now && due <= demo.now + chrono::Duration::hours(48)))
        .count();
    assert_eq!(within_48h, 3);

    let links: HashMap<Uuid, Vec<Uuid>> = demo.tasks.iter().map(|task| (task.id, task.blocked_by.clone())).collect();
    assert_eq!(longest_chain(&links), 4, "store submission ← QA ← crash fix ← SDK upgrade");

    // Hours of open work due within the next seven days (or already overdue), per member.
    let week_end = demo.now + chrono::Duration::days(7);
    let mut booked: HashMap<Uuid, f64> = HashMap::new();
    for task in open.iter().filter(|task| task.due_date.is_some_and(|due| due <= week_end)) {
        if let (Some(assignee), Some(hours)) = (task.assignee_id, task.estimate_hours) {
            *booked.entry(assignee).or_default() += hours;
        }
    }
    let members = demo.stores.members.list_members(DEMO_WORKSPACE_ID, PageRequest::first(50)).await?.items;
    let over: Vec<(&str, f64)> = members
        .iter()
        .filter(|member| booked.get(&member.id).copied().unwrap_or(0.0) > member.weekly_capacity_hours)
        .map(|member| (member.display_name.as_str(), booked[&member.id]))
        .collect();
    assert_eq!(over, [("Marcus Chen", 54.0)]);
    Ok(())
}

#[tokio::test]
async fn history_spans_weeks_and_every_change_is_logged() -> anyhow::Result<()> {
    let demo = seeded().await?;
    let done: Vec<&Task> = demo.tasks.iter().filter(|task| !is_open(task)).collect();
    let weeks_ago: std::collections::BTreeSet<i64> =
        done.iter().filter_map(|task| task.completed_at).map(|at| (demo.now - at).num_weeks()).collect();
    assert!(weeks_ago.len() >= 6, "completions in weeks {weeks_ago:?}");
    assert!(done.iter().all(|task| task.completed_at.is_some_and(|at| at <= demo.now && at >= task.created_at)));

    let mut entries = 0;
    let mut page = PageRequest::first(MAX_PAGE_LIMIT);
    loop {
        let batch = demo.stores.activity.list_activity(DEMO_WORKSPACE_ID, &ActivityFilter::default(), page).await?;
        entries += batch.items.len();
        match batch.next_cursor.as_deref().map(agentdeck_domain::page::Cursor::decode) {
            Some(Ok(cursor)) => page.after = Some(cursor),
            _ => break,
        }
    }
    // Lists without filters include the archived project and its tasks.
    assert_eq!((demo.projects.len(), demo.tasks.len(), done.len()), (5, 38, 23));
    let (members, archivals) = (5, 1);
    assert_eq!(entries, members + demo.projects.len() + archivals + demo.tasks.len() + done.len());
    Ok(())
}

#[tokio::test]
async fn seeding_runs_only_on_an_empty_store() -> anyhow::Result<()> {
    let demo = seeded().await?;
    assert_eq!(seed_demo(&demo.stores, Utc::now()).await?, SeedOutcome::AlreadyPresent);
    assert_eq!(demo.stores.workspaces.count_workspaces().await?, 1);
    let owner = demo.stores.members.find_member_by_user(DEMO_WORKSPACE_ID, DEMO_USER_ID).await?;
    assert!(owner.is_some_and(|member| member.role == agentdeck_domain::records::MemberRole::Owner));
    Ok(())
}
