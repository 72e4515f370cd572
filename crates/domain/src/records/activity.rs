use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

/// What kind of record an activity entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// A project.
    Project,
    /// A task.
    Task,
    /// A member.
    Member,
    /// The workspace itself (e.g. its token quota).
    Workspace,
}

impl TargetKind {
    /// Returns the wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Project => "project",
            TargetKind::Task => "task",
            TargetKind::Member => "member",
            TargetKind::Workspace => "workspace",
        }
    }

    /// Parses a wire name.
    pub fn parse(name: &str) -> Option<Self> {
        [TargetKind::Project, TargetKind::Task, TargetKind::Member, TargetKind::Workspace]
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
}

/// What happened. Wire names are `<target>.<verb>`, e.g. `task.completed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
pub enum ActivityAction {
    /// A project was created.
    #[serde(rename = "project.created")]
    ProjectCreated,
    /// A project's fields changed.
    #[serde(rename = "project.updated")]
    ProjectUpdated,
    /// A project was archived.
    #[serde(rename = "project.archived")]
    ProjectArchived,
    /// A project was restored from the archive.
    #[serde(rename = "project.restored")]
    ProjectRestored,
    /// A project and its tasks were deleted.
    #[serde(rename = "project.deleted")]
    ProjectDeleted,
    /// A task was created.
    #[serde(rename = "task.created")]
    TaskCreated,
    /// A task's fields changed (status unchanged).
    #[serde(rename = "task.updated")]
    TaskUpdated,
    /// A task moved to another status other than done.
    #[serde(rename = "task.status_changed")]
    TaskStatusChanged,
    /// A task was finished.
    #[serde(rename = "task.completed")]
    TaskCompleted,
    /// A task was deleted.
    #[serde(rename = "task.deleted")]
    TaskDeleted,
    /// A member joined the workspace.
    #[serde(rename = "member.added")]
    MemberAdded,
    /// A member's fields changed.
    #[serde(rename = "member.updated")]
    MemberUpdated,
    /// A member left the workspace.
    #[serde(rename = "member.removed")]
    MemberRemoved,
    /// The workspace's token usage of the day passed a share of its quota.
    #[serde(rename = "usage.threshold")]
    UsageThreshold,
}

impl ActivityAction {
    /// Every action.
    pub const ALL: [ActivityAction; 14] = [
        ActivityAction::ProjectCreated,
        ActivityAction::ProjectUpdated,
        ActivityAction::ProjectArchived,
        ActivityAction::ProjectRestored,
        ActivityAction::ProjectDeleted,
        ActivityAction::TaskCreated,
        ActivityAction::TaskUpdated,
        ActivityAction::TaskStatusChanged,
        ActivityAction::TaskCompleted,
        ActivityAction::TaskDeleted,
        ActivityAction::MemberAdded,
        ActivityAction::MemberUpdated,
        ActivityAction::MemberRemoved,
        ActivityAction::UsageThreshold,
    ];

    /// Returns the wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityAction::ProjectCreated => "project.created",
            ActivityAction::ProjectUpdated => "project.updated",
            ActivityAction::ProjectArchived => "project.archived",
            ActivityAction::ProjectRestored => "project.restored",
            ActivityAction::ProjectDeleted => "project.deleted",
            ActivityAction::TaskCreated => "task.created",
            ActivityAction::TaskUpdated => "task.updated",
            ActivityAction::TaskStatusChanged => "task.status_changed",
            ActivityAction::TaskCompleted => "task.completed",
            ActivityAction::TaskDeleted => "task.deleted",
            ActivityAction::MemberAdded => "member.added",
            ActivityAction::MemberUpdated => "member.updated",
            ActivityAction::MemberRemoved => "member.removed",
            ActivityAction::UsageThreshold => "usage.threshold",
        }
    }

    /// Parses a wire name.
    pub fn parse(name: &str) -> Option<Self> {
        ActivityAction::ALL.into_iter().find(|action| action.as_str() == name)
    }
}

/// One line of the append-only activity log: who did what to which record, when.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActivityEntry {
    /// Entry id.
    pub id: Uuid,
    /// Workspace the entry belongs to.
    pub workspace_id: Uuid,
    /// Project the change concerns, when there is one.
    pub project_id: Option<Uuid>,
    /// Subject of the principal who made the change.
    pub actor: String,
    /// What happened.
    pub action: ActivityAction,
    /// Kind of record changed.
    pub target_kind: TargetKind,
    /// Id of the record changed.
    pub target_id: Uuid,
    /// Name or title of the record at the time of the change.
    pub target_name: String,
    /// Extra facts, e.g. `{"from": "todo", "to": "done"}` for a status change.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// Which activity entries a list returns; every set field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityFilter {
    /// Only entries about this project.
    pub project_id: Option<Uuid>,
    /// Only entries by this actor.
    pub actor: Option<String>,
    /// Only entries at or after this time.
    pub since: Option<DateTime<Utc>>,
}

/// How many activity entries a filter matches, per action, and how many
/// actors wrote them: counted by the store, however many entries there are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivitySummary {
    /// Entries per action; actions with none are absent.
    pub by_action: Vec<(ActivityAction, u64)>,
    /// Distinct actors among the entries.
    pub actors: u64,
}

impl ActivitySummary {
    /// Entries of every action.
    pub fn entries(&self) -> u64 {
        self.by_action.iter().map(|(_, count)| count).sum()
    }

    /// Entries of `action`.
    pub fn count(&self, action: ActivityAction) -> u64 {
        self.by_action.iter().find(|(counted, _)| *counted == action).map_or(0, |(_, count)| *count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_wire_names_match_serde() {
        for action in ActivityAction::ALL {
            assert_eq!(serde_json::to_value(action).unwrap(), action.as_str());
            assert_eq!(ActivityAction::parse(action.as_str()), Some(action));
        }
        for kind in [TargetKind::Project, TargetKind::Task, TargetKind::Member] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
            assert_eq!(TargetKind::parse(kind.as_str()), Some(kind));
        }
    }
}
