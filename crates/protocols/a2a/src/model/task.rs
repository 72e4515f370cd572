//! `Task`, its status and artifacts, and the events and responses that carry them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Message, Metadata, Part, is_false};
use crate::timestamp;

/// Where a task is in its lifecycle (`lf.a2a.v1.TaskState`); 0.3 spellings are read too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum TaskState {
    /// Unknown.
    #[default]
    #[serde(rename = "TASK_STATE_UNSPECIFIED", alias = "unknown")]
    Unspecified,
    /// Accepted, not started.
    #[serde(rename = "TASK_STATE_SUBMITTED", alias = "submitted")]
    Submitted,
    /// Being worked on.
    #[serde(rename = "TASK_STATE_WORKING", alias = "working")]
    Working,
    /// Finished successfully (terminal).
    #[serde(rename = "TASK_STATE_COMPLETED", alias = "completed")]
    Completed,
    /// Finished with an error (terminal).
    #[serde(rename = "TASK_STATE_FAILED", alias = "failed")]
    Failed,
    /// Canceled (terminal).
    #[serde(rename = "TASK_STATE_CANCELED", alias = "canceled", alias = "cancelled")]
    Canceled,
    /// Waiting for the user (interrupted).
    #[serde(rename = "TASK_STATE_INPUT_REQUIRED", alias = "input-required")]
    InputRequired,
    /// The agent will not do it (terminal).
    #[serde(rename = "TASK_STATE_REJECTED", alias = "rejected")]
    Rejected,
    /// Waiting for credentials (interrupted).
    #[serde(rename = "TASK_STATE_AUTH_REQUIRED", alias = "auth-required")]
    AuthRequired,
}

impl TaskState {
    /// Every state a task can be in, in proto order.
    pub const ALL: [TaskState; 9] = [
        Self::Unspecified,
        Self::Submitted,
        Self::Working,
        Self::Completed,
        Self::Failed,
        Self::Canceled,
        Self::InputRequired,
        Self::Rejected,
        Self::AuthRequired,
    ];

    /// Completed, failed, canceled or rejected: nothing more happens.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Canceled | Self::Rejected)
    }

    /// Input or auth required: the task waits for the client.
    pub fn is_interrupted(self) -> bool {
        matches!(self, Self::InputRequired | Self::AuthRequired)
    }

    /// The ProtoJSON name (`TASK_STATE_COMPLETED`), as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unspecified => "TASK_STATE_UNSPECIFIED",
            Self::Submitted => "TASK_STATE_SUBMITTED",
            Self::Working => "TASK_STATE_WORKING",
            Self::Completed => "TASK_STATE_COMPLETED",
            Self::Failed => "TASK_STATE_FAILED",
            Self::Canceled => "TASK_STATE_CANCELED",
            Self::InputRequired => "TASK_STATE_INPUT_REQUIRED",
            Self::Rejected => "TASK_STATE_REJECTED",
            Self::AuthRequired => "TASK_STATE_AUTH_REQUIRED",
        }
    }

    /// Reads a state from its ProtoJSON name or 0.3 spelling.
    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
    }
}

/// A task's current state (`lf.a2a.v1.TaskStatus`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskStatus {
    /// The state.
    #[serde(default)]
    pub state: TaskState,
    /// A message that goes with the state (a question when input is required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// When the state was entered; this server always sets it.
    #[serde(default, with = "timestamp::optional", skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<DateTime<Utc>>,
}

impl TaskStatus {
    /// A status entered now.
    pub fn now(state: TaskState) -> Self {
        Self { state, message: None, timestamp: Some(timestamp::now_millis()) }
    }

    /// A status entered now, with a message.
    pub fn now_with(state: TaskState, message: Message) -> Self {
        Self { message: Some(message), ..Self::now(state) }
    }
}

/// An output of a task (`lf.a2a.v1.Artifact`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// Unique within the task.
    #[serde(default)]
    #[serde(alias = "artifact_id")]
    pub artifact_id: String,
    /// A human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A human-readable description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The content; at least one part.
    #[serde(default)]
    pub parts: Vec<Part>,
    /// Optional metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// URIs of extensions that contributed to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<String>,
}

/// The unit of work (`lf.a2a.v1.Task`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// Server-generated id.
    pub id: String,
    /// The conversation it belongs to.
    #[serde(default)]
    #[serde(alias = "context_id")]
    pub context_id: String,
    /// Current status.
    pub status: TaskStatus,
    /// Outputs so far.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<Artifact>,
    /// Messages exchanged, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Message>,
    /// Optional metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

impl Task {
    /// Keeps at most the `limit` most recent history messages (`None`: all; `0`: none).
    pub fn truncate_history(&mut self, limit: Option<usize>) {
        if let Some(limit) = limit {
            let excess = self.history.len().saturating_sub(limit);
            self.history.drain(..excess);
        }
    }

    /// Applies an artifact update: appends to the artifact of the same id when asked, replaces or adds it otherwise.
    pub fn apply_artifact(&mut self, update: &TaskArtifactUpdateEvent) {
        let existing = self.artifacts.iter_mut().find(|artifact| artifact.artifact_id == update.artifact.artifact_id);
        match existing {
            Some(artifact) if update.append => artifact.parts.extend(update.artifact.parts.iter().cloned()),
            Some(artifact) => *artifact = update.artifact.clone(),
            None => self.artifacts.push(update.artifact.clone()),
        }
    }
}

/// A change of a task's status (`lf.a2a.v1.TaskStatusUpdateEvent`; 1.0 has no `final`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskStatusUpdateEvent {
    /// The task.
    #[serde(alias = "task_id")]
    pub task_id: String,
    /// Its context.
    #[serde(default)]
    #[serde(alias = "context_id")]
    pub context_id: String,
    /// The new status.
    pub status: TaskStatus,
    /// Optional metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// A new or grown artifact (`lf.a2a.v1.TaskArtifactUpdateEvent`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskArtifactUpdateEvent {
    /// The task.
    #[serde(alias = "task_id")]
    pub task_id: String,
    /// Its context.
    #[serde(default)]
    #[serde(alias = "context_id")]
    pub context_id: String,
    /// The artifact (or the chunk of it).
    pub artifact: Artifact,
    /// Append these parts to the artifact of the same id.
    #[serde(default, skip_serializing_if = "is_false")]
    pub append: bool,
    /// The last chunk of the artifact.
    #[serde(default, skip_serializing_if = "is_false")]
    #[serde(alias = "last_chunk")]
    pub last_chunk: bool,
    /// Optional metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// The result of `SendMessage`: a task or a direct message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SendMessageResponse {
    /// The task created or updated.
    Task(Task),
    /// A direct reply; no task was made.
    Message(Message),
}

/// One event of a stream (`lf.a2a.v1.StreamResponse`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StreamResponse {
    /// The task as it is (first event of a task stream).
    Task(Task),
    /// A direct reply (the only event of a message stream).
    Message(Message),
    /// A status change.
    StatusUpdate(TaskStatusUpdateEvent),
    /// An artifact change.
    ArtifactUpdate(TaskArtifactUpdateEvent),
}

impl StreamResponse {
    /// Whether a stream ends after this event: a message, or a task or status in a terminal or interrupted state.
    pub fn ends_stream(&self) -> bool {
        let state = match self {
            Self::Message(_) => return true,
            Self::ArtifactUpdate(_) => return false,
            Self::Task(task) => task.status.state,
            Self::StatusUpdate(update) => update.status.state,
        };
        state.is_terminal() || state.is_interrupted()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn states_use_protojson_names_and_read_0_3_spellings() -> Result<(), serde_json::Error> {
        assert_eq!(serde_json::to_value(TaskState::InputRequired)?, json!("TASK_STATE_INPUT_REQUIRED"));
        assert_eq!(TaskState::parse("input-required"), Some(TaskState::InputRequired));
        for state in TaskState::ALL {
            assert_eq!(TaskState::parse(state.as_str()), Some(state));
        }
        let terminal: Vec<_> = TaskState::ALL.into_iter().filter(|s| s.is_terminal()).collect();
        assert_eq!(terminal, [TaskState::Completed, TaskState::Failed, TaskState::Canceled, TaskState::Rejected]);
        Ok(())
    }

    #[test]
    fn a_captured_sdk_task_reads_and_its_status_timestamp_keeps_milliseconds() -> Result<(), serde_json::Error> {
        // From a2a-sdk 1.3.0 (a2a.md §2.2), microseconds and all.
        let wire = json!({"task": {"id": "cb14", "contextId": "e76c",
            "status": {"state": "TASK_STATE_COMPLETED", "timestamp": "2026-11-22T01:15:36.506664Z"},
            "artifacts": [{"artifactId": "f017", "name": "reply", "parts": [{"text": "echo: hello"}]}],
            "history": [{"messageId": "m1", "contextId": "e76c", "taskId": "cb14", "role": "ROLE_USER", "parts": [{"text": "hello"}]}]}});
        let SendMessageResponse::Task(task) = serde_json::from_value(wire)? else {
            panic!("a task response read as a message");
        };
        assert_eq!(task.artifacts[0].parts[0].as_text(), Some("echo: hello"));
        let written = serde_json::to_value(StreamResponse::Task(task))?;
        assert_eq!(written["task"]["status"]["timestamp"], json!("2026-11-22T01:15:36.506Z"));
        Ok(())
    }

    #[test]
    fn streams_end_at_terminal_and_interrupted_states_and_after_a_message() {
        let update = |state| {
            StreamResponse::StatusUpdate(TaskStatusUpdateEvent {
                task_id: "t".into(),
                context_id: "c".into(),
                status: TaskStatus::now(state),
                metadata: None,
            })
        };
        assert!(!update(TaskState::Working).ends_stream());
        assert!(update(TaskState::InputRequired).ends_stream());
        assert!(update(TaskState::Canceled).ends_stream());
        assert!(StreamResponse::Message(Message::agent_text("m", "hi")).ends_stream());
    }

    #[test]
    fn history_is_cut_to_the_most_recent_messages() {
        let mut task = Task {
            id: "t".into(),
            context_id: "c".into(),
            status: TaskStatus::now(TaskState::Working),
            artifacts: vec![],
            history: (0..5).map(|i| Message::user_text(format!("m{i}"), "x")).collect(),
            metadata: None,
        };
        task.truncate_history(Some(2));
        let ids: Vec<_> = task.history.iter().map(|m| m.message_id.as_str()).collect();
        assert_eq!(ids, ["m3", "m4"]);
        task.truncate_history(Some(0));
        assert!(task.history.is_empty());
    }
}
