//! Navi ("Navigator"): project status from the workspace's records.
//!
//! Without a project in the request: a `ProjectStatus` per active project.
//! With one (`projectId` in a data part, or its name in the text): its
//! `ProjectStatus`, a `TaskList` of open tasks, a `KanbanBoard` by status, a
//! `GanttChart` (each task from its creation to its due date or completion)
//! and a `BurndownChart` (open tasks per day against the ideal line).

use agentdeck_a2a_protocol::AgentSkill;
use agentdeck_domain::insights::status::project_progress;
use agentdeck_domain::records::{Project, Task, TaskStatus};
use agentdeck_domain::text::counted;
use agentdeck_storage::Stores;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::data::{Snapshot, answer, load, requested_project, time, validated};
use crate::a2a::{AgentDescriptor, AgentExecutor, AgentFailure, AgentRequest, TaskUpdater};

/// The agent's URL name.
pub const NAME: &str = agentdeck_domain::agents::NAVI.id;
/// Most days a burndown chart plots.
const MAX_BURNDOWN_DAYS: i64 = 120;

/// The Navi agent.
pub struct Navi {
    descriptor: AgentDescriptor,
    stores: Stores,
}

impl Navi {
    /// Navi reading `stores`.
    pub fn new(stores: Stores) -> Self {
        let skill = AgentSkill {
            id: "project-status".into(),
            name: "Project status".into(),
            description:
                "Progress and status of the active projects, or one project's tasks, board, timeline and burndown."
                    .into(),
            tags: vec!["projects".into(), "status".into()],
            examples: vec!["status of my active projects".into(), "how is Website Redesign doing".into()],
            input_modes: vec![],
            output_modes: vec!["application/json".into()],
            security_requirements: vec![],
        };
        let descriptor = AgentDescriptor {
            name: NAME.into(),
            display_name: agentdeck_domain::agents::NAVI.display_name.into(),
            description: "Project status: progress, on track / at risk / behind, tasks, Kanban, Gantt and burndown."
                .into(),
            skills: vec![skill],
            output_modes: vec!["text/plain".into(), "application/json".into()],
            allow_anonymous: false,
        };
        Self { descriptor, stores }
    }
}

/// The `ProjectStatus` widget of a project.
pub(crate) fn status_widget(project: &Project, tasks: &[&Task], now: DateTime<Utc>) -> Value {
    let progress = project_progress(project, tasks, now);
    let mut data = json!({
        "projectId": project.id.to_string(),
        "projectName": project.name,
        "status": progress.status,
        "progress": progress.progress,
        "tasksCompleted": progress.done,
        "tasksTotal": progress.total,
    });
    if let Some(due) = project.due_date {
        data["dueDate"] = json!(time(due));
    }
    json!({"type": "ProjectStatus", "id": format!("navi-status-{}", project.id), "title": project.name, "data": data})
}

fn project_widgets(snapshot: &Snapshot, project: &Project, now: DateTime<Utc>) -> Vec<Value> {
    let tasks = snapshot.tasks_of(project.id);
    let names = snapshot.names();
    let assignee = |task: &Task| task.assignee_id.and_then(|id| names.get(&id).map(|name| (*name).to_owned()));
    let open: Vec<Value> = tasks
        .iter()
        .filter(|task| task.status != TaskStatus::Done)
        .map(|task| {
            let mut item = json!({"id": task.id.to_string(), "title": task.title, "status": task.status.as_str(),
                "priority": task.priority.as_str()});
            if let Some(name) = assignee(task) {
                item["assignee"] = json!(name);
            }
            if let Some(due) = task.due_date {
                item["dueDate"] = json!(time(due));
            }
            item
        })
        .collect();
    let columns: Vec<Value> = TaskStatus::ALL
        .iter()
        .map(|status| {
            let cards: Vec<Value> = tasks
                .iter()
                .filter(|task| task.status == *status)
                .map(|task| {
                    let mut card = json!({"id": task.id.to_string(), "title": task.title});
                    if let Some(name) = assignee(task) {
                        card["assignee"] = json!(name);
                    }
                    card
                })
                .collect();
            json!({"id": status.as_str(), "title": column_title(*status), "cards": cards})
        })
        .collect();
    let bars: Vec<Value> = tasks
        .iter()
        .filter_map(|task| {
            let end = task.completed_at.or(task.due_date)?;
            let start = task.created_at.min(end);
            let progress = if task.status == TaskStatus::Done { 100.0 } else { 0.0 };
            let ids: Vec<String> = task.blocked_by.iter().map(ToString::to_string).collect();
            Some(json!({"id": task.id.to_string(), "title": task.title, "start": time(start), "end": time(end),
                "progress": progress, "dependencies": ids}))
        })
        .collect();
    let mut widgets = vec![
        status_widget(project, &tasks, now),
        json!({"type": "TaskList", "id": format!("navi-tasks-{}", project.id), "title": format!("Open tasks of {}", project.name),
            "data": {"tasks": open}}),
        json!({"type": "KanbanBoard", "id": format!("navi-board-{}", project.id), "title": project.name, "data": {"columns": columns}}),
        json!({"type": "GanttChart", "id": format!("navi-gantt-{}", project.id), "title": project.name, "data": {"tasks": bars}}),
    ];
    if let Some(burndown) = burndown(project, &tasks, now) {
        widgets.push(burndown);
    }
    widgets
}

fn column_title(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Todo => "To do",
        TaskStatus::InProgress => "In progress",
        TaskStatus::Done => "Done",
        TaskStatus::Blocked => "Blocked",
    }
}

/// Open tasks at the end of each day from the start to today (or the due
/// date), against a straight line from all tasks at the start to none at the due date.
fn burndown(project: &Project, tasks: &[&Task], now: DateTime<Utc>) -> Option<Value> {
    let (start, due) = (project.start_date?, project.due_date?);
    if due <= start {
        return None;
    }
    let total = tasks.len() as f64;
    let last = now.min(due);
    let days = (last - start).num_days().clamp(0, MAX_BURNDOWN_DAYS);
    let span = (due - start).num_milliseconds() as f64;
    let points: Vec<Value> = (0..=days)
        .map(|day| {
            let at = start + Duration::days(day);
            let ideal = (total * (1.0 - (at - start).num_milliseconds() as f64 / span)).max(0.0);
            let actual = tasks.iter().filter(|t| t.completed_at.is_none_or(|done| done > at)).count();
            json!({"date": time(at), "ideal": (ideal * 10.0).round() / 10.0, "actual": actual})
        })
        .collect();
    Some(json!({"type": "BurndownChart", "id": format!("navi-burndown-{}", project.id), "title": project.name,
        "data": {"sprintName": project.name, "startDate": time(start), "endDate": time(due), "points": points}}))
}

/// Navi's widgets and summary for a request.
pub(crate) fn navi_answer(snapshot: &Snapshot, project: Option<&Project>, now: DateTime<Utc>) -> (String, Vec<Value>) {
    match project {
        Some(project) => {
            let progress = project_progress(project, &snapshot.tasks_of(project.id), now);
            let text = format!(
                "{} is {} at {} % ({} of {} tasks done).",
                project.name,
                serde_json::to_value(progress.status)
                    .ok()
                    .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
                    .unwrap_or_default(),
                progress.progress,
                progress.done,
                progress.total
            );
            (text, project_widgets(snapshot, project, now))
        }
        None => {
            let active: Vec<&Project> = snapshot.projects.iter().filter(|p| !p.archived).collect();
            let widgets: Vec<Value> = active.iter().map(|p| status_widget(p, &snapshot.tasks_of(p.id), now)).collect();
            let text = format!("{}.", counted(active.len(), "active project", "active projects"));
            (text, widgets)
        }
    }
}

#[async_trait]
impl AgentExecutor for Navi {
    fn descriptor(&self) -> &AgentDescriptor {
        &self.descriptor
    }

    async fn execute(&self, request: AgentRequest, updates: TaskUpdater) -> Result<(), AgentFailure> {
        let snapshot = load(&self.stores, &request).await?;
        let project = requested_project(&request, &snapshot.projects)?;
        let (text, widgets) = navi_answer(&snapshot, project, Utc::now());
        let widgets = validated(widgets, &request)?;
        let stopped = |e: crate::a2a::Stopped| AgentFailure(e.to_string());
        updates.complete_with_artifact(answer(&text, widgets), Some(&text)).await.map_err(stopped)
    }
}
