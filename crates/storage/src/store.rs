use std::sync::Arc;

use agentdeck_domain::page::{Page, PageRequest};
use agentdeck_domain::records::{
    ActivityEntry, ActivityFilter, Member, Project, ProjectFilter, Task, TaskFilter, Workspace,
};
use async_trait::async_trait;
use uuid::Uuid;

use crate::StoreError;
use crate::agent_tasks::{
    AgentTaskCursor, AgentTaskEvent, AgentTaskFilter, AgentTaskPage, AgentTaskScope, StoredAgentTask, StoredPushConfig,
};
use crate::state::{StateOptions, StateStore};

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded mode: one SQLite file.
    Sqlite,
    /// Cluster mode: PostgreSQL.
    Postgres,
}

impl Backend {
    /// Returns a short name for logs and `/ready`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The records of every workspace, scoped per call to one workspace.
///
/// Writes of projects, tasks and members take the activity entry that records
/// them and store both in one transaction. Updates are optimistic: the record
/// passed carries the next revision, and the write succeeds only if the stored
/// revision is the one before it ([`StoreError::Conflict`] otherwise).
/// Lists are newest first (`createdAt`, then id; activity by `at`, then id).
///
/// # Contract
///
/// - **Scoping.** Every call names its workspace and sees nothing else: an id of
///   another workspace reads as `Ok(None)` and fails updates and deletes with
///   [`StoreError::NotFound`], exactly like an id that does not exist.
/// - **Updates.** An update whose record is absent is [`StoreError::NotFound`];
///   one whose stored revision is not `revision - 1` is [`StoreError::Conflict`].
/// - **References.** A task's project, assignee and blockers must exist in its
///   workspace, else [`StoreError::UnknownReference`] names the field
///   (`/projectId`, `/assigneeId`, `/blockedBy/{index}`); links that would close
///   a cycle are [`StoreError::DependencyCycle`]. Checked inside the write's
///   transaction, so concurrent writes cannot slip a cycle past each other.
/// - **Cascades.** Deleting a project deletes its tasks and their links; deleting
///   a task deletes links to and from it; deleting a member unassigns their tasks.
///   Tasks changed that way (unassigned, or a link removed) get `revision + 1`
///   and `updated_at` = the activity entry's `at`.
/// - **Activity.** A write and its entry commit together or not at all; a failed
///   write logs nothing. The log itself is append-only (enforced by the schema).
/// - **Precision.** Times are kept to the millisecond: a record read back has
///   its times truncated to whole milliseconds, so callers should create them
///   that way. Bad stored values read as [`StoreError::Corrupt`].
#[async_trait]
pub trait RecordStore: Send + Sync + 'static {
    /// Which database this is.
    fn backend(&self) -> Backend;

    /// Applies pending migrations (embedded in the binary); returns how many ran.
    async fn migrate(&self) -> Result<usize, StoreError>;

    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// The dashboard state store that lives in this database: `Some` in
    /// embedded mode (SQLite; the store opens a connection of its own to the
    /// same file), `None` where state lives elsewhere (cluster mode keeps it in
    /// Redis). Needs [`RecordStore::migrate`].
    fn embedded_state(&self, _options: StateOptions) -> Option<Arc<dyn StateStore>> {
        None
    }

    /// Creates a workspace.
    async fn insert_workspace(&self, workspace: &Workspace) -> Result<(), StoreError>;

    /// Reads a workspace.
    async fn get_workspace(&self, id: Uuid) -> Result<Option<Workspace>, StoreError>;

    /// Counts all workspaces (used to tell a first start).
    async fn count_workspaces(&self) -> Result<u64, StoreError>;

    /// Creates a project.
    async fn insert_project(&self, project: &Project, activity: &ActivityEntry) -> Result<(), StoreError>;

    /// Reads a project of the workspace.
    async fn get_project(&self, workspace_id: Uuid, id: Uuid) -> Result<Option<Project>, StoreError>;

    /// Lists projects of the workspace.
    async fn list_projects(
        &self,
        workspace_id: Uuid,
        filter: &ProjectFilter,
        page: PageRequest,
    ) -> Result<Page<Project>, StoreError>;

    /// Replaces a project (optimistic on `revision`).
    async fn update_project(&self, project: &Project, activity: &ActivityEntry) -> Result<(), StoreError>;

    /// Deletes a project with its tasks (and their links).
    async fn delete_project(&self, workspace_id: Uuid, id: Uuid, activity: &ActivityEntry) -> Result<(), StoreError>;

    /// Creates a task; checks its project, assignee and blockers exist in the
    /// workspace and that its blocked-by links form no cycle.
    async fn insert_task(&self, task: &Task, activity: &ActivityEntry) -> Result<(), StoreError>;

    /// Reads a task of the workspace, with its blocked-by links.
    async fn get_task(&self, workspace_id: Uuid, id: Uuid) -> Result<Option<Task>, StoreError>;

    /// Lists tasks of the workspace.
    async fn list_tasks(
        &self,
        workspace_id: Uuid,
        filter: &TaskFilter,
        page: PageRequest,
    ) -> Result<Page<Task>, StoreError>;

    /// Replaces a task (optimistic on `revision`), with the same checks as insert.
    async fn update_task(&self, task: &Task, activity: &ActivityEntry) -> Result<(), StoreError>;

    /// Deletes a task and every link to or from it.
    async fn delete_task(&self, workspace_id: Uuid, id: Uuid, activity: &ActivityEntry) -> Result<(), StoreError>;

    /// Adds a member; `userId` is unique in the workspace.
    async fn insert_member(&self, member: &Member, activity: &ActivityEntry) -> Result<(), StoreError>;

    /// Reads a member of the workspace.
    async fn get_member(&self, workspace_id: Uuid, id: Uuid) -> Result<Option<Member>, StoreError>;

    /// Finds the member with this token subject.
    async fn find_member_by_user(&self, workspace_id: Uuid, user_id: &str) -> Result<Option<Member>, StoreError>;

    /// Lists members of the workspace.
    async fn list_members(&self, workspace_id: Uuid, page: PageRequest) -> Result<Page<Member>, StoreError>;

    /// Replaces a member (optimistic on `revision`).
    async fn update_member(&self, member: &Member, activity: &ActivityEntry) -> Result<(), StoreError>;

    /// Removes a member; their tasks become unassigned.
    async fn delete_member(&self, workspace_id: Uuid, id: Uuid, activity: &ActivityEntry) -> Result<(), StoreError>;

    /// Lists activity entries of the workspace.
    async fn list_activity(
        &self,
        workspace_id: Uuid,
        filter: &ActivityFilter,
        page: PageRequest,
    ) -> Result<Page<ActivityEntry>, StoreError>;

    /// Creates an A2A task with its first events, recording `message_id` as
    /// sent in the scope: [`StoreError::Duplicate`] (at `/message/messageId`)
    /// when it already was, and nothing is written. The event log keeps the
    /// newest `keep_events` events.
    async fn insert_agent_task(
        &self,
        scope: &AgentTaskScope,
        task: &StoredAgentTask,
        message_id: &str,
        events: &[AgentTaskEvent],
        keep_events: u32,
    ) -> Result<(), StoreError>;

    /// Writes a task's new body and events if its stored `last_seq` is still
    /// `expected_seq` ([`StoreError::Conflict`] otherwise; [`StoreError::NotFound`]
    /// outside the scope); `message_id`, when given, is recorded as for an insert.
    #[allow(clippy::too_many_arguments)]
    async fn update_agent_task(
        &self,
        scope: &AgentTaskScope,
        task: &StoredAgentTask,
        expected_seq: i64,
        message_id: Option<&str>,
        events: &[AgentTaskEvent],
        keep_events: u32,
    ) -> Result<(), StoreError>;

    /// Reads a task of the scope.
    async fn get_agent_task(&self, scope: &AgentTaskScope, id: &str) -> Result<Option<StoredAgentTask>, StoreError>;

    /// The task a message id of the scope went to.
    async fn find_agent_task_by_message(
        &self,
        scope: &AgentTaskScope,
        message_id: &str,
    ) -> Result<Option<String>, StoreError>;

    /// A page of the scope's tasks, newest status first, starting after `after`.
    async fn list_agent_tasks(
        &self,
        scope: &AgentTaskScope,
        filter: &AgentTaskFilter,
        after: Option<&AgentTaskCursor>,
        limit: u32,
    ) -> Result<AgentTaskPage, StoreError>;

    /// Every scope's tasks in one of `states` (wire names), for the sweep after a restart.
    async fn agent_tasks_in_states(
        &self,
        states: &[&str],
    ) -> Result<Vec<(AgentTaskScope, StoredAgentTask)>, StoreError>;

    /// The logged events of a task after `after_seq`, oldest first.
    async fn agent_task_events(
        &self,
        scope: &AgentTaskScope,
        id: &str,
        after_seq: i64,
    ) -> Result<Vec<AgentTaskEvent>, StoreError>;

    /// Creates or replaces a push config of a scope's task ([`StoreError::NotFound`] without the task).
    async fn put_push_config(
        &self,
        scope: &AgentTaskScope,
        config: &StoredPushConfig,
        created_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError>;

    /// The push configs of a scope's task, oldest first; `id` picks one.
    async fn push_configs(
        &self,
        scope: &AgentTaskScope,
        task_id: &str,
        id: Option<&str>,
    ) -> Result<Vec<StoredPushConfig>, StoreError>;

    /// Removes a push config; `false` when there was none.
    async fn delete_push_config(&self, scope: &AgentTaskScope, task_id: &str, id: &str) -> Result<bool, StoreError>;

    /// Adds token counts to a workspace's day (`YYYY-MM-DD`, UTC) and returns the day's totals.
    async fn add_token_usage(
        &self,
        workspace: &str,
        day: &str,
        tokens_in: i64,
        tokens_out: i64,
    ) -> Result<crate::usage::UsageDay, StoreError>;

    /// A workspace's days from `from` to `to` (inclusive) with counts, oldest first.
    async fn token_usage(
        &self,
        workspace: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<crate::usage::UsageDay>, StoreError>;

    /// Appends an activity entry that goes with no record write (e.g. a quota threshold).
    async fn append_activity(&self, entry: &ActivityEntry) -> Result<(), StoreError>;
}
