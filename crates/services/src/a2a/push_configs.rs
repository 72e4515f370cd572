//! Push notification configs of a task: create, get, list, delete.
//!
//! Configs are stored with their credentials and kept in memory on the task
//! while it can change (its events are delivered to them, see
//! [`super::push`]); reads always answer them redacted. A new config gets
//! the task as it is first, then every later event.

use std::sync::Arc;

use agentdeck_a2a_protocol::{
    A2aError, DeleteTaskPushNotificationConfigRequest, FieldViolation, GetTaskPushNotificationConfigRequest,
    ListTaskPushNotificationConfigsRequest, ListTaskPushNotificationConfigsResponse, TaskPushNotificationConfig,
    now_millis,
};
use agentdeck_storage::StoreError;
use agentdeck_storage::agent_tasks::StoredPushConfig;
use uuid::Uuid;

use super::caller::A2aCaller;
use super::live::LiveTask;
use super::service::{A2aService, decode_push_config, snapshot_event, store_error};

impl A2aService {
    /// `CreateTaskPushNotificationConfig`: registers a webhook and sends it the task as it is.
    pub async fn create_push_config(
        &self,
        agent: &str,
        caller: &A2aCaller,
        config: TaskPushNotificationConfig,
    ) -> Result<TaskPushNotificationConfig, A2aError> {
        self.executor(agent)?;
        let mut violations = Vec::new();
        if config.task_id.trim().is_empty() {
            violations.push(FieldViolation::new("taskId", "is required"));
        }
        if config.url.trim().is_empty() {
            violations.push(FieldViolation::new("url", "is required"));
        }
        A2aError::check(violations)?;
        self.inner.pusher.check_url(&config.url).await?;
        let live = self.live_task(&caller.scope(agent), &config.task_id).await?;
        self.register_push(&live, config).await
    }

    /// Stores a config of a task held in memory, then sends it the task's snapshot.
    pub(super) async fn register_push(
        &self,
        live: &Arc<LiveTask>,
        mut config: TaskPushNotificationConfig,
    ) -> Result<TaskPushNotificationConfig, A2aError> {
        // A config refers to a stored task.
        live.store_if_unstored().await.map_err(store_error)?;
        config.task_id = live.id.clone();
        if config.id.trim().is_empty() {
            config.id = Uuid::now_v7().to_string();
        }
        let body = serde_json::to_value(&config).map_err(|e| A2aError::Internal(e.to_string()))?;
        let stored = StoredPushConfig { id: config.id.clone(), task_id: live.id.clone(), body };
        self.inner.store.put_push_config(&live.scope, &stored, now_millis()).await.map_err(|error| match error {
            StoreError::NotFound => A2aError::TaskNotFound(live.id.clone()),
            other => store_error(other),
        })?;
        if let Ok(mut configs) = live.push.lock() {
            configs.retain(|existing| existing.id != config.id);
            configs.push(config.clone());
        }
        // The webhook learns where the task is now, then gets every event after it.
        let guard = live.lock().await;
        let snapshot = snapshot_event(&guard.task, guard.last_seq);
        drop(guard);
        self.inner.pusher.deliver(vec![config.clone()], snapshot.seq, snapshot.event);
        Ok(config.redacted())
    }

    /// `GetTaskPushNotificationConfig` (credentials left out).
    pub async fn get_push_config(
        &self,
        agent: &str,
        caller: &A2aCaller,
        request: GetTaskPushNotificationConfigRequest,
    ) -> Result<TaskPushNotificationConfig, A2aError> {
        A2aError::check(request.violations())?;
        let configs = self.push_configs_of(agent, caller, &request.task_id, Some(&request.id)).await?;
        configs.into_iter().next().ok_or_else(|| {
            A2aError::TaskNotFound(format!("task {} has no push config {}", request.task_id, request.id))
        })
    }

    /// `ListTaskPushNotificationConfigs` (credentials left out; one page).
    pub async fn list_push_configs(
        &self,
        agent: &str,
        caller: &A2aCaller,
        request: ListTaskPushNotificationConfigsRequest,
    ) -> Result<ListTaskPushNotificationConfigsResponse, A2aError> {
        A2aError::check(request.violations())?;
        let configs = self.push_configs_of(agent, caller, &request.task_id, None).await?;
        Ok(ListTaskPushNotificationConfigsResponse { configs, next_page_token: String::new() })
    }

    /// `DeleteTaskPushNotificationConfig` (deleting one that is gone succeeds).
    pub async fn delete_push_config(
        &self,
        agent: &str,
        caller: &A2aCaller,
        request: DeleteTaskPushNotificationConfigRequest,
    ) -> Result<(), A2aError> {
        A2aError::check(request.violations())?;
        self.executor(agent)?;
        let scope = caller.scope(agent);
        let live = self.live_task(&scope, &request.task_id).await?;
        self.inner.store.delete_push_config(&scope, &request.task_id, &request.id).await.map_err(store_error)?;
        if let Ok(mut configs) = live.push.lock() {
            configs.retain(|existing| existing.id != request.id);
        }
        Ok(())
    }

    /// The caller's configs of a task (one, with `id`), redacted.
    async fn push_configs_of(
        &self,
        agent: &str,
        caller: &A2aCaller,
        task_id: &str,
        id: Option<&str>,
    ) -> Result<Vec<TaskPushNotificationConfig>, A2aError> {
        self.executor(agent)?;
        let scope = caller.scope(agent);
        if self.inner.store.get_agent_task(&scope, task_id).await.map_err(store_error)?.is_none() {
            return Err(A2aError::TaskNotFound(task_id.to_owned()));
        }
        let stored = self.inner.store.push_configs(&scope, task_id, id).await.map_err(store_error)?;
        Ok(stored.into_iter().filter_map(decode_push_config).map(|config| config.redacted()).collect())
    }
}

/// Puts invalid-params field names under `prefix` (a nested config's `url` is `….url`).
pub(super) fn prefix_violations(error: A2aError, prefix: &str) -> A2aError {
    match error {
        A2aError::InvalidParams { violations, .. } => A2aError::invalid_params(
            violations
                .into_iter()
                .map(|v| FieldViolation::new(format!("{prefix}.{}", v.field), v.description))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_violations_are_named_under_their_prefix() {
        let error = A2aError::invalid_params(vec![FieldViolation::new("url", "is not a URL")]);
        match prefix_violations(error, "configuration.taskPushNotificationConfig") {
            A2aError::InvalidParams { violations, .. } => {
                assert_eq!(violations[0].field, "configuration.taskPushNotificationConfig.url");
            }
            other => panic!("expected invalid params, got {other:?}"),
        }
        let other = prefix_violations(A2aError::TaskNotFound("t".into()), "x");
        assert!(matches!(other, A2aError::TaskNotFound(_)));
    }
}
