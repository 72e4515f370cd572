//! Herald ("Activity"): the recent activity of the workspace, or of one
//! named project, with counts.
//!
//! Answers with a `TeamActivity` widget of the newest entries (who, what,
//! which record, when) and a `Metrics` widget counting the last 7 days'
//! entries: all changes, tasks created, tasks completed, and the people
//! behind them.

use agentdeck_a2a_protocol::AgentSkill;
use agentdeck_domain::page::PageRequest;
use agentdeck_domain::records::{ActivityAction, ActivityEntry, ActivityFilter, ActivitySummary};
use agentdeck_domain::text::counted;
use agentdeck_storage::Stores;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::data::{answer, projects_for, requested_project, time, validated, workspace_of};
use crate::a2a::{AgentDescriptor, AgentExecutor, AgentFailure, AgentRequest, TaskUpdater};

/// The agent's URL name.
pub const NAME: &str = agentdeck_domain::agents::HERALD.id;
/// Entries shown in the feed.
const FEED_LENGTH: u32 = 20;

/// The Herald agent.
pub struct Herald {
    descriptor: AgentDescriptor,
    stores: Stores,
}

impl Herald {
    /// Herald reading `stores`.
    pub fn new(stores: Stores) -> Self {
        let skill = AgentSkill {
            id: "activity".into(),
            name: "Recent activity".into(),
            description: "The newest changes to projects, tasks and members, with counts for the last 7 days.".into(),
            tags: vec!["activity".into(), "feed".into()],
            examples: vec!["recent team activity".into()],
            input_modes: vec![],
            output_modes: vec!["application/json".into()],
            security_requirements: vec![],
        };
        let descriptor = AgentDescriptor {
            name: NAME.into(),
            display_name: agentdeck_domain::agents::HERALD.display_name.into(),
            description: "The activity feed of the workspace or a project, with counts.".into(),
            skills: vec![skill],
            output_modes: vec!["text/plain".into(), "application/json".into()],
            allow_anonymous: false,
        };
        Self { descriptor, stores }
    }
}

/// Herald's summary and widgets from the newest `feed` entries and the counts of the last week's entries.
pub(crate) fn herald_answer(feed: &[ActivityEntry], week: &ActivitySummary, subject: &str) -> (String, Vec<Value>) {
    let activities: Vec<Value> = feed
        .iter()
        .map(|entry| {
            json!({"id": entry.id.to_string(), "user": entry.actor, "action": entry.action.as_str(),
                "target": entry.target_name, "time": time(entry.at)})
        })
        .collect();
    let count = |action: ActivityAction| usize::try_from(week.count(action)).unwrap_or(usize::MAX);
    let (changes, people) = (usize::try_from(week.entries()), usize::try_from(week.actors));
    let (changes, people) = (changes.unwrap_or(usize::MAX), people.unwrap_or(usize::MAX));
    let metrics = json!([
        {"label": "Changes in the last 7 days", "value": changes},
        {"label": "Tasks created", "value": count(ActivityAction::TaskCreated)},
        {"label": "Tasks completed", "value": count(ActivityAction::TaskCompleted)},
        {"label": "People active", "value": people},
    ]);
    let text = format!(
        "{} to {subject} in the last 7 days by {}; {} completed.",
        counted(changes, "change", "changes"),
        counted(people, "person", "people"),
        counted(count(ActivityAction::TaskCompleted), "task", "tasks")
    );
    let widgets = vec![
        json!({"type": "TeamActivity", "id": "herald-feed", "title": format!("Recent activity in {subject}"), "data": {"activities": activities}}),
        json!({"type": "Metrics", "id": "herald-counts", "title": "Activity this week", "data": {"metrics": metrics}}),
    ];
    (text, widgets)
}

/// The filter for a scope and the time from which the week counts.
fn filters(project: Option<uuid::Uuid>, now: DateTime<Utc>) -> (ActivityFilter, ActivityFilter) {
    let feed = ActivityFilter { project_id: project, ..ActivityFilter::default() };
    let week =
        ActivityFilter { project_id: project, since: Some(now - Duration::days(7)), ..ActivityFilter::default() };
    (feed, week)
}

#[async_trait]
impl AgentExecutor for Herald {
    fn descriptor(&self) -> &AgentDescriptor {
        &self.descriptor
    }

    async fn execute(&self, request: AgentRequest, updates: TaskUpdater) -> Result<(), AgentFailure> {
        let workspace = workspace_of(&request)?;
        let projects = projects_for(&self.stores, &request).await?;
        let project = requested_project(&request, &projects)?;
        let subject = project.map_or("the workspace".to_owned(), |p| p.name.clone());
        let (feed_filter, week_filter) = filters(project.map(|p| p.id), Utc::now());
        let failure = |e: agentdeck_storage::StoreError| AgentFailure(format!("cannot read the activity log: {e}"));
        // The feed, then the week's counts (counted by the store, however many entries): one after the
        // other, as both are short index reads and two at once contend for SQLite's shared read lock
        // (measured slower on a busy core, `docs/benchmarks.md`).
        let activity = &self.stores.activity;
        let feed = activity.list_activity(workspace, &feed_filter, PageRequest::first(FEED_LENGTH));
        let feed = feed.await.map_err(failure)?;
        let week = activity.summarize_activity(workspace, &week_filter).await.map_err(failure)?;
        let (text, widgets) = herald_answer(&feed.items, &week, &subject);
        let widgets = validated(widgets, &request)?;
        let stopped = |e: crate::a2a::Stopped| AgentFailure(e.to_string());
        updates.complete_with_artifact(answer(&text, widgets), Some(&text)).await.map_err(stopped)
    }
}
