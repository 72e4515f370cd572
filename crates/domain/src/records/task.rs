use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{MAX_BLOCKERS, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, nullable, stored_precision};
use crate::validation::{ValidationErrors, Validator};

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Not started.
    Todo,
    /// Being worked on.
    InProgress,
    /// Finished.
    Done,
    /// Cannot proceed.
    Blocked,
}

/// How urgent a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Can wait.
    Low,
    /// The default.
    Medium,
    /// Soon.
    High,
    /// Now.
    Urgent,
}

macro_rules! wire_names {
    ($type:ty { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $type {
            /// Every value, in declaration order.
            pub const ALL: &'static [$type] = &[$(<$type>::$variant),+];

            /// Returns the wire name (as in JSON and in storage).
            pub fn as_str(self) -> &'static str {
                match self { $(<$type>::$variant => $name),+ }
            }

            /// Parses a wire name; `None` for anything else.
            pub fn parse(name: &str) -> Option<Self> {
                match name { $($name => Some(<$type>::$variant),)+ _ => None }
            }
        }
    };
}

wire_names!(TaskStatus { Todo => "todo", InProgress => "in_progress", Done => "done", Blocked => "blocked" });
wire_names!(Priority { Low => "low", Medium => "medium", High => "high", Urgent => "urgent" });

/// A unit of work in a project.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// Task id.
    pub id: Uuid,
    /// Workspace the task belongs to.
    pub workspace_id: Uuid,
    /// Project the task belongs to (same workspace).
    pub project_id: Uuid,
    /// Short title.
    pub title: String,
    /// Free text; empty when none was given.
    pub description: String,
    /// Where it stands.
    pub status: TaskStatus,
    /// How urgent it is.
    pub priority: Priority,
    /// Member (id) who does it.
    pub assignee_id: Option<Uuid>,
    /// Estimated effort in hours.
    pub estimate_hours: Option<f64>,
    /// When it is due.
    pub due_date: Option<DateTime<Utc>>,
    /// When it was finished; set exactly when `status` is `done`.
    pub completed_at: Option<DateTime<Utc>>,
    /// Tasks (ids, same workspace) that must finish first; never forms a cycle.
    pub blocked_by: Vec<Uuid>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
    /// Incremented on every change; guards against lost updates.
    pub revision: i64,
}

/// Input to create a task.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewTask {
    /// Project (id) the task goes into.
    pub project_id: Uuid,
    /// Short title (1–200 characters).
    #[schema(schema_with = super::wire_schema::name)]
    pub title: String,
    /// Free text.
    #[serde(default)]
    #[schema(schema_with = super::wire_schema::description)]
    pub description: String,
    /// Defaults to `todo`.
    #[serde(default)]
    pub status: Option<TaskStatus>,
    /// Defaults to `medium`.
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Member (id) who does it.
    #[serde(default)]
    pub assignee_id: Option<Uuid>,
    /// Estimated effort in hours (0–10 000).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10000)]
    pub estimate_hours: Option<f64>,
    /// When it is due.
    #[serde(default)]
    pub due_date: Option<DateTime<Utc>>,
    /// Tasks (ids) of the workspace that must finish first (at most 50, no cycles).
    #[serde(default)]
    #[schema(max_items = 50)]
    pub blocked_by: Vec<Uuid>,
}

/// Input to change a task: absent fields stay, `null` clears an optional one.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskChanges {
    /// Move it to another project of the workspace.
    pub project_id: Option<Uuid>,
    /// New title.
    #[schema(schema_with = super::wire_schema::name_change)]
    pub title: Option<String>,
    /// New description.
    #[schema(schema_with = super::wire_schema::description_change)]
    pub description: Option<String>,
    /// New status; `done` sets `completedAt`, leaving `done` clears it.
    pub status: Option<TaskStatus>,
    /// New priority.
    pub priority: Option<Priority>,
    /// New assignee, or `null` to unassign.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub assignee_id: Option<Option<Uuid>>,
    /// New estimate, or `null` to clear it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 10000)]
    pub estimate_hours: Option<Option<f64>>,
    /// New due date, or `null` to clear it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub due_date: Option<Option<DateTime<Utc>>>,
    /// Replaces the blocked-by links (at most 50, no cycles).
    #[schema(max_items = 50)]
    pub blocked_by: Option<Vec<Uuid>>,
}

/// Which tasks a list returns; every set field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    /// Only tasks of this project.
    pub project_id: Option<Uuid>,
    /// Only tasks in this status.
    pub status: Option<TaskStatus>,
    /// Only tasks assigned to this member.
    pub assignee_id: Option<Uuid>,
    /// Only tasks due strictly before this time.
    pub due_before: Option<DateTime<Utc>>,
    /// Only tasks due strictly after this time.
    pub due_after: Option<DateTime<Utc>>,
}

impl NewTask {
    /// Checks the input and builds the task it describes.
    pub fn into_task(self, workspace_id: Uuid, now: DateTime<Utc>) -> Result<Task, ValidationErrors> {
        let status = self.status.unwrap_or(TaskStatus::Todo);
        let task = Task {
            id: Uuid::now_v7(),
            workspace_id,
            project_id: self.project_id,
            title: self.title.trim().to_owned(),
            description: self.description,
            status,
            priority: self.priority.unwrap_or(Priority::Medium),
            assignee_id: self.assignee_id,
            estimate_hours: self.estimate_hours,
            due_date: self.due_date.map(stored_precision),
            completed_at: (status == TaskStatus::Done).then_some(now),
            blocked_by: dedup(self.blocked_by),
            created_at: now,
            updated_at: now,
            revision: 1,
        };
        task.validate()?;
        Ok(task)
    }
}

impl Task {
    /// Checks the rules every stored task obeys (references are checked by the store).
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut validator = Validator::new();
        validator.text("/title", &self.title, 1, MAX_NAME_CHARS);
        validator.text("/description", &self.description, 0, MAX_DESCRIPTION_CHARS);
        if let Some(hours) = self.estimate_hours {
            validator.number("/estimateHours", hours, 0.0, 10_000.0);
        }
        if self.blocked_by.len() > MAX_BLOCKERS {
            validator.error("/blockedBy", format!("must have at most {MAX_BLOCKERS} tasks"));
        }
        if let Some(index) = self.blocked_by.iter().position(|&id| id == self.id) {
            validator.error(&format!("/blockedBy/{index}"), "a task cannot block itself");
        }
        validator.finish()
    }

    /// Returns the task with `changes` applied and validated, one revision later.
    pub fn apply(&self, changes: TaskChanges, now: DateTime<Utc>) -> Result<Task, ValidationErrors> {
        let mut next = self.clone();
        if let Some(project_id) = changes.project_id {
            next.project_id = project_id;
        }
        if let Some(title) = changes.title {
            next.title = title.trim().to_owned();
        }
        if let Some(description) = changes.description {
            next.description = description;
        }
        if let Some(status) = changes.status {
            next.status = status;
            next.completed_at = match (self.status, status) {
                (TaskStatus::Done, TaskStatus::Done) => self.completed_at,
                (_, TaskStatus::Done) => Some(now),
                _ => None,
            };
        }
        if let Some(priority) = changes.priority {
            next.priority = priority;
        }
        if let Some(assignee_id) = changes.assignee_id {
            next.assignee_id = assignee_id;
        }
        if let Some(estimate_hours) = changes.estimate_hours {
            next.estimate_hours = estimate_hours;
        }
        if let Some(due_date) = changes.due_date {
            next.due_date = due_date.map(stored_precision);
        }
        if let Some(blocked_by) = changes.blocked_by {
            next.blocked_by = dedup(blocked_by);
        }
        next.updated_at = now;
        next.revision = self.revision + 1;
        next.validate()?;
        Ok(next)
    }
}

/// Drops repeated ids, keeping the first occurrence of each.
fn dedup(ids: Vec<Uuid>) -> Vec<Uuid> {
    let mut seen = std::collections::HashSet::new();
    ids.into_iter().filter(|id| seen.insert(*id)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, hour, 0, 0).unwrap()
    }

    fn new_task(extra: serde_json::Value) -> NewTask {
        let mut input = serde_json::json!({"projectId": Uuid::nil(), "title": "Write spec"});
        input.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        serde_json::from_value(input).unwrap()
    }

    #[test]
    fn defaults_are_todo_and_medium() {
        let task = new_task(serde_json::json!({})).into_task(Uuid::nil(), at(1)).unwrap();
        assert_eq!((task.status, task.priority, task.completed_at), (TaskStatus::Todo, Priority::Medium, None));
    }

    #[test]
    fn completed_at_follows_status() {
        let task = new_task(serde_json::json!({})).into_task(Uuid::nil(), at(1)).unwrap();
        let done = task.apply(TaskChanges { status: Some(TaskStatus::Done), ..Default::default() }, at(2)).unwrap();
        assert_eq!(done.completed_at, Some(at(2)));
        let still_done =
            done.apply(TaskChanges { status: Some(TaskStatus::Done), ..Default::default() }, at(3)).unwrap();
        assert_eq!(still_done.completed_at, Some(at(2)));
        let reopened = still_done
            .apply(TaskChanges { status: Some(TaskStatus::InProgress), ..Default::default() }, at(4))
            .unwrap();
        assert_eq!(reopened.completed_at, None);
    }

    #[test]
    fn invalid_fields_are_reported_with_paths() {
        let input = new_task(serde_json::json!({"title": "", "estimateHours": -1.0}));
        let errors = input.into_task(Uuid::nil(), at(1)).unwrap_err().0;
        let paths: Vec<_> = errors.iter().map(|error| error.path.as_str()).collect();
        assert_eq!(paths, ["/title", "/estimateHours"]);
    }

    #[test]
    fn a_task_cannot_block_itself() {
        let task = new_task(serde_json::json!({})).into_task(Uuid::nil(), at(1)).unwrap();
        let changes = TaskChanges { blocked_by: Some(vec![Uuid::now_v7(), task.id]), ..Default::default() };
        let errors = task.apply(changes, at(2)).unwrap_err().0;
        assert_eq!(errors[0].path, "/blockedBy/1");
    }

    #[test]
    fn wire_names_round_trip() {
        for status in TaskStatus::ALL {
            assert_eq!(TaskStatus::parse(status.as_str()), Some(*status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        for priority in Priority::ALL {
            assert_eq!(Priority::parse(priority.as_str()), Some(*priority));
            assert_eq!(serde_json::to_value(priority).unwrap(), priority.as_str());
        }
    }
}
