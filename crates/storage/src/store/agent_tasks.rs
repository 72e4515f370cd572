//! The A2A tasks hosted agents run: one aggregate of a task, its event log and
//! its push configs (a push config exists only with its task, so it lives here).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::StoreError;
use crate::agent_tasks::{
    AgentTaskCursor, AgentTaskEvent, AgentTaskFilter, AgentTaskPage, AgentTaskScope, StoredAgentTask,
    StoredIdempotencyKey, StoredPushConfig,
};

/// A2A tasks with their events and push configs, scoped per call.
#[async_trait]
pub trait AgentTaskStore: Send + Sync + 'static {
    /// Creates an A2A task with its first events, recording the send's
    /// `idempotency_key` with it when given: [`StoreError::Duplicate`] (at
    /// `/idempotencyKey`) when the key is recorded and unexpired, and nothing
    /// is written. The event log keeps the newest `keep_events` events.
    async fn insert_agent_task(
        &self,
        scope: &AgentTaskScope,
        task: &StoredAgentTask,
        idempotency_key: Option<&StoredIdempotencyKey>,
        events: &[AgentTaskEvent],
        keep_events: u32,
    ) -> Result<(), StoreError>;

    /// Writes a task's new body and events if its stored `last_seq` is still
    /// `expected_seq` ([`StoreError::Conflict`] otherwise; [`StoreError::NotFound`]
    /// outside the scope); `idempotency_key`, when given, is recorded as for an insert.
    #[allow(clippy::too_many_arguments)]
    async fn update_agent_task(
        &self,
        scope: &AgentTaskScope,
        task: &StoredAgentTask,
        expected_seq: i64,
        idempotency_key: Option<&StoredIdempotencyKey>,
        events: &[AgentTaskEvent],
        keep_events: u32,
    ) -> Result<(), StoreError>;

    /// Reads a task of the scope.
    async fn get_agent_task(&self, scope: &AgentTaskScope, id: &str) -> Result<Option<StoredAgentTask>, StoreError>;

    /// Records a send's idempotency key on its own (a direct reply writes
    /// nothing else); [`StoreError::Duplicate`] when it is recorded and unexpired.
    async fn put_idempotency_key(&self, key: &StoredIdempotencyKey) -> Result<(), StoreError>;

    /// The scope's record of an idempotency key, unless it expired by `now`.
    async fn idempotency_key(
        &self,
        scope: &AgentTaskScope,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredIdempotencyKey>, StoreError>;

    /// Deletes every idempotency key expired by `now`; how many.
    async fn purge_expired_idempotency_keys(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;

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
