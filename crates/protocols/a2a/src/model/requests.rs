//! Request and response messages of the A2A service methods (a2a.md §2.1, §2.4).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Message, Metadata, Task, TaskPushNotificationConfig, TaskState, is_false};
use crate::error::FieldViolation;
use crate::timestamp;

/// Options of a send.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendMessageConfiguration {
    /// Media types the client accepts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(alias = "accepted_output_modes")]
    pub accepted_output_modes: Vec<String>,
    /// Register this push config for the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(alias = "task_push_notification_config")]
    pub task_push_notification_config: Option<TaskPushNotificationConfig>,
    /// At most this many recent history messages in the result (0: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(alias = "history_length")]
    pub history_length: Option<i32>,
    /// Return once the task exists instead of waiting for a terminal or interrupted state.
    #[serde(default, skip_serializing_if = "is_false")]
    #[serde(alias = "return_immediately")]
    pub return_immediately: bool,
}

/// `SendMessage` and `SendStreamingMessage` params.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendMessageRequest {
    /// Optional tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The message; required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// Options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<SendMessageConfiguration>,
    /// Request metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

impl SendMessageRequest {
    /// A request carrying `message`.
    pub fn new(message: Message) -> Self {
        Self { message: Some(message), ..Self::default() }
    }

    /// The REQUIRED fields that are missing or invalid.
    pub fn violations(&self) -> Vec<FieldViolation> {
        let mut violations = match &self.message {
            None => vec![FieldViolation::new("message", "is required")],
            Some(message) => message.violations("message"),
        };
        if let Some(length) = self.configuration.as_ref().and_then(|c| c.history_length)
            && length < 0
        {
            violations.push(FieldViolation::new("configuration.historyLength", "must not be negative"));
        }
        violations
    }

    /// The history limit asked for (`None`: the server's default).
    pub fn history_length(&self) -> Option<usize> {
        self.configuration.as_ref().and_then(|c| c.history_length).map(|n| usize::try_from(n).unwrap_or(0))
    }

    /// Whether the caller asked not to wait.
    pub fn return_immediately(&self) -> bool {
        self.configuration.as_ref().is_some_and(|c| c.return_immediately)
    }
}

/// Checks that a required id is present.
fn id_violation(field: &str, id: &str) -> Vec<FieldViolation> {
    if id.trim().is_empty() { vec![FieldViolation::new(field, "is required")] } else { Vec::new() }
}

/// Checks an optional history length.
fn history_violation(length: Option<i32>) -> Vec<FieldViolation> {
    match length {
        Some(n) if n < 0 => vec![FieldViolation::new("historyLength", "must not be negative")],
        _ => Vec::new(),
    }
}

/// `GetTask` params.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetTaskRequest {
    /// Optional tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The task id; required.
    #[serde(default)]
    pub id: String,
    /// At most this many recent history messages (0: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(alias = "history_length")]
    pub history_length: Option<i32>,
}

impl GetTaskRequest {
    /// What is missing or invalid.
    pub fn violations(&self) -> Vec<FieldViolation> {
        let mut violations = id_violation("id", &self.id);
        violations.extend(history_violation(self.history_length));
        violations
    }
}

/// `ListTasks` params.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTasksRequest {
    /// Optional tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Only tasks of this context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(alias = "context_id")]
    pub context_id: Option<String>,
    /// Only tasks in this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TaskState>,
    /// Page size, 1–100 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(alias = "page_size")]
    pub page_size: Option<i32>,
    /// From a previous response's `nextPageToken`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(alias = "page_token")]
    pub page_token: Option<String>,
    /// At most this many history messages per task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(alias = "history_length")]
    pub history_length: Option<i32>,
    /// Only tasks whose status changed at or after this time.
    #[serde(default, with = "timestamp::optional", skip_serializing_if = "Option::is_none")]
    #[serde(alias = "status_timestamp_after")]
    pub status_timestamp_after: Option<DateTime<Utc>>,
    /// Include artifacts (off by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(alias = "include_artifacts")]
    pub include_artifacts: Option<bool>,
}

impl ListTasksRequest {
    /// Default page size.
    pub const DEFAULT_PAGE_SIZE: i32 = 50;
    /// Largest page size.
    pub const MAX_PAGE_SIZE: i32 = 100;

    /// What is invalid.
    pub fn violations(&self) -> Vec<FieldViolation> {
        let mut violations = history_violation(self.history_length);
        if let Some(size) = self.page_size
            && !(1..=Self::MAX_PAGE_SIZE).contains(&size)
        {
            violations.push(FieldViolation::new("pageSize", "must be between 1 and 100"));
        }
        violations
    }
}

/// The `ListTasks` result; every member is always present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTasksResponse {
    /// The page, newest status first.
    #[serde(default)]
    pub tasks: Vec<Task>,
    /// Token of the next page; `""` on the last.
    #[serde(default)]
    #[serde(alias = "next_page_token")]
    pub next_page_token: String,
    /// The page size used.
    #[serde(default)]
    #[serde(alias = "page_size")]
    pub page_size: i32,
    /// Matching tasks over all pages.
    #[serde(default)]
    #[serde(alias = "total_size")]
    pub total_size: i32,
}

/// `CancelTask` params.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelTaskRequest {
    /// Optional tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The task id; required.
    #[serde(default)]
    pub id: String,
    /// Request metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

impl CancelTaskRequest {
    /// What is missing.
    pub fn violations(&self) -> Vec<FieldViolation> {
        id_violation("id", &self.id)
    }
}

/// `SubscribeToTask` params.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscribeToTaskRequest {
    /// Optional tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The task id; required.
    #[serde(default)]
    pub id: String,
}

impl SubscribeToTaskRequest {
    /// What is missing.
    pub fn violations(&self) -> Vec<FieldViolation> {
        id_violation("id", &self.id)
    }
}

/// `GetTaskPushNotificationConfig` params.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetTaskPushNotificationConfigRequest {
    /// Optional tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The task; required.
    #[serde(default)]
    #[serde(alias = "task_id")]
    pub task_id: String,
    /// The config; required.
    #[serde(default)]
    pub id: String,
}

impl GetTaskPushNotificationConfigRequest {
    /// What is missing.
    pub fn violations(&self) -> Vec<FieldViolation> {
        let mut violations = id_violation("taskId", &self.task_id);
        violations.extend(id_violation("id", &self.id));
        violations
    }
}

/// `DeleteTaskPushNotificationConfig` params (same fields as the get).
pub type DeleteTaskPushNotificationConfigRequest = GetTaskPushNotificationConfigRequest;

/// `ListTaskPushNotificationConfigs` params.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTaskPushNotificationConfigsRequest {
    /// Optional tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The task; required.
    #[serde(default)]
    #[serde(alias = "task_id")]
    pub task_id: String,
    /// Page size (0: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(alias = "page_size")]
    pub page_size: Option<i32>,
    /// From a previous response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(alias = "page_token")]
    pub page_token: Option<String>,
}

impl ListTaskPushNotificationConfigsRequest {
    /// What is missing.
    pub fn violations(&self) -> Vec<FieldViolation> {
        id_violation("taskId", &self.task_id)
    }
}

/// The `ListTaskPushNotificationConfigs` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTaskPushNotificationConfigsResponse {
    /// The configs, credentials left out.
    #[serde(default)]
    pub configs: Vec<TaskPushNotificationConfig>,
    /// Token of the next page; `""` on the last.
    #[serde(default)]
    #[serde(alias = "next_page_token")]
    pub next_page_token: String,
}

/// `GetExtendedAgentCard` params.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetExtendedAgentCardRequest {
    /// Optional tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// ProtoJSON parsers accept a field's original proto name as well as its
    /// lowerCamelCase JSON name; agentdeck writes only the JSON name.
    #[test]
    fn original_proto_field_names_read_like_their_json_names() {
        let camel = json!({
            "message": {"messageId": "m1", "taskId": "t1", "contextId": "c1", "role": "ROLE_USER", "parts": [{"text": "hi"}]},
            "configuration": {"historyLength": 2, "acceptedOutputModes": ["text/plain"], "returnImmediately": true}
        });
        let snake = json!({
            "message": {"message_id": "m1", "task_id": "t1", "context_id": "c1", "role": "ROLE_USER", "parts": [{"text": "hi"}]},
            "configuration": {"history_length": 2, "accepted_output_modes": ["text/plain"], "return_immediately": true}
        });
        let from_camel: SendMessageRequest = serde_json::from_value(camel.clone()).expect("camel");
        let from_snake: SendMessageRequest = serde_json::from_value(snake).expect("snake");
        assert_eq!(from_snake.history_length(), Some(2));
        assert!(from_snake.return_immediately());
        assert_eq!(serde_json::to_value(&from_snake).expect("json"), camel, "written back with the JSON names");
        assert_eq!(serde_json::to_value(&from_camel).expect("json"), camel);

        let listed: ListTasksRequest =
            serde_json::from_value(json!({"context_id": "c1", "page_size": 3, "include_artifacts": true}))
                .expect("list");
        assert_eq!((listed.context_id.as_deref(), listed.page_size), (Some("c1"), Some(3)));
    }
}
