//! The A2A tasks hosted agents run: one aggregate of a task, its event log and
//! its push configs (a push config exists only with its task, so it lives here).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::StoreError;
use crate::agent_tasks::{
    AgentTaskCursor, AgentTaskEvent, AgentTaskFilter, AgentTaskPage, AgentTaskScope, StoredAgentTask, StoredPushConfig,
};

/// A2A tasks with their events and push configs, scoped per call.
#[async_trait]
pub trait AgentTaskStore: Send + Sync + 'static {
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
        created_at: DateTime<Utc>,
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
}
