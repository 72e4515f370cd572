//! The activity entry each change writes.

use agentdeck_domain::auth::Principal;
use agentdeck_domain::records::{ActivityAction, ActivityEntry, Member, Project, TargetKind, Task, TaskStatus};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

/// Builds an entry for `action` by `principal` on a record.
pub(crate) fn entry(
    principal: &Principal,
    action: ActivityAction,
    target: Target<'_>,
    details: Value,
    at: DateTime<Utc>,
) -> ActivityEntry {
    ActivityEntry {
        id: Uuid::now_v7(),
        workspace_id: principal.workspace_id,
        project_id: target.project_id,
        actor: principal.subject.clone(),
        action,
        target_kind: target.kind,
        target_id: target.id,
        target_name: target.name.to_owned(),
        details,
        at,
    }
}

/// The record an activity entry is about.
pub(crate) struct Target<'a> {
    kind: TargetKind,
    id: Uuid,
    name: &'a str,
    project_id: Option<Uuid>,
}

impl<'a> Target<'a> {
    pub(crate) fn project(project: &'a Project) -> Self {
        Self { kind: TargetKind::Project, id: project.id, name: &project.name, project_id: Some(project.id) }
    }

    pub(crate) fn task(task: &'a Task) -> Self {
        Self { kind: TargetKind::Task, id: task.id, name: &task.title, project_id: Some(task.project_id) }
    }

    pub(crate) fn member(member: &'a Member) -> Self {
        Self { kind: TargetKind::Member, id: member.id, name: &member.display_name, project_id: None }
    }
}

/// Names the fields that differ between two versions of a record (bookkeeping
/// fields excluded), e.g. `{"fields": ["title", "dueDate"]}`.
pub(crate) fn changed_fields<T: Serialize>(before: &T, after: &T) -> Value {
    const BOOKKEEPING: [&str; 2] = ["updatedAt", "revision"];
    let (Ok(Value::Object(before)), Ok(Value::Object(after))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return json!({});
    };
    let fields: Vec<&String> = after
        .iter()
        .filter(|(name, value)| !BOOKKEEPING.contains(&name.as_str()) && before.get(*name) != Some(value))
        .map(|(name, _)| name)
        .collect();
    json!({ "fields": fields })
}

/// Picks the action for a task update: completion and status moves are told apart
/// from other edits so the activity feed can count them.
pub(crate) fn task_update_action(before: &Task, after: &Task) -> (ActivityAction, Value) {
    let mut details = changed_fields(before, after);
    if before.status == after.status {
        return (ActivityAction::TaskUpdated, details);
    }
    if let Value::Object(map) = &mut details {
        map.insert("from".into(), json!(before.status));
        map.insert("to".into(), json!(after.status));
    }
    let action = if after.status == TaskStatus::Done {
        ActivityAction::TaskCompleted
    } else {
        ActivityAction::TaskStatusChanged
    };
    (action, details)
}

/// Picks the action for a project update: archiving and restoring stand out.
pub(crate) fn project_update_action(before: &Project, after: &Project) -> ActivityAction {
    match (before.archived, after.archived) {
        (false, true) => ActivityAction::ProjectArchived,
        (true, false) => ActivityAction::ProjectRestored,
        _ => ActivityAction::ProjectUpdated,
    }
}
