//! The A2A 0.3 data model as its JSON-RPC binding writes it: camelCase keys,
//! lowercase enums (`input-required`, `user`), and a `kind` on every object
//! that can stand in for another (`task`, `message`, `status-update`,
//! `artifact-update`; parts `text`, `file`, `data`).
//!
//! `kind` is written always and read leniently: an object without it is
//! taken for what its position says it is; parts, whose kind is the only
//! way to tell them apart, need it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::timestamp;
use crate::{Metadata, is_false};

/// The fixed `kind` member of an object type.
macro_rules! kind_tag {
    ($name:ident, $text:literal) => {
        #[doc = concat!("The `kind` `", $text, "`.")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
        pub enum $name {
            #[doc = concat!("`", $text, "`.")]
            #[default]
            #[serde(rename = $text)]
            Tag,
        }
    };
}

kind_tag!(TaskKind, "task");
kind_tag!(MessageKind, "message");
kind_tag!(StatusUpdateKind, "status-update");
kind_tag!(ArtifactUpdateKind, "artifact-update");

/// A task's state in 0.3 spelling (the proto names are read too: peers mix them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskState {
    /// Accepted, not started.
    #[serde(alias = "TASK_STATE_SUBMITTED")]
    Submitted,
    /// Being worked on.
    #[serde(alias = "TASK_STATE_WORKING")]
    Working,
    /// Waiting for the user.
    #[serde(alias = "TASK_STATE_INPUT_REQUIRED")]
    InputRequired,
    /// Finished successfully.
    #[serde(alias = "TASK_STATE_COMPLETED")]
    Completed,
    /// Canceled (`cancelled` is read too).
    #[serde(alias = "cancelled", alias = "TASK_STATE_CANCELED", alias = "TASK_STATE_CANCELLED")]
    Canceled,
    /// Finished with an error.
    #[serde(alias = "TASK_STATE_FAILED")]
    Failed,
    /// The agent will not do it.
    #[serde(alias = "TASK_STATE_REJECTED")]
    Rejected,
    /// Waiting for credentials.
    #[serde(alias = "TASK_STATE_AUTH_REQUIRED")]
    AuthRequired,
    /// Not known (1.0 `TASK_STATE_UNSPECIFIED`).
    #[default]
    #[serde(alias = "TASK_STATE_UNSPECIFIED")]
    Unknown,
}

/// Who sent a message, in 0.3 spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// From the client.
    #[serde(alias = "ROLE_USER")]
    User,
    /// From the agent.
    #[serde(alias = "ROLE_AGENT")]
    Agent,
}

/// The content of a `file` part: inline bytes or a URI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileContent {
    /// Base64 bytes (`FileWithBytes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<String>,
    /// Where to fetch it (`FileWithUri`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Its media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Its file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A 0.3 part, tagged by `kind` (inferred from its keys when a sloppy peer leaves it out).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Part {
    /// `{"kind": "text", "text": …}`.
    Text {
        /// The text.
        text: String,
        /// Optional metadata.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        metadata: Option<Metadata>,
    },
    /// `{"kind": "file", "file": {bytes | uri, mimeType, name}}`.
    File {
        /// The file.
        file: FileContent,
        /// Optional metadata.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        metadata: Option<Metadata>,
    },
    /// `{"kind": "data", "data": {…}}`: a JSON object only.
    Data {
        /// The object.
        data: Map<String, Value>,
        /// Optional metadata.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        metadata: Option<Metadata>,
    },
}

/// [`Part`] as read once its `kind` is known.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum TaggedPart {
    Text {
        text: String,
        #[serde(default)]
        metadata: Option<Metadata>,
    },
    File {
        file: FileContent,
        #[serde(default)]
        metadata: Option<Metadata>,
    },
    Data {
        data: Map<String, Value>,
        #[serde(default)]
        metadata: Option<Metadata>,
    },
}

impl<'de> Deserialize<'de> for Part {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut value = Value::deserialize(deserializer)?;
        if let Value::Object(part) = &mut value
            && !part.contains_key("kind")
        {
            infer_kind(part);
        }
        Ok(match TaggedPart::deserialize(value).map_err(serde::de::Error::custom)? {
            TaggedPart::Text { text, metadata } => Self::Text { text, metadata },
            TaggedPart::File { file, metadata } => Self::File { file, metadata },
            TaggedPart::Data { data, metadata } => Self::Data { data, metadata },
        })
    }
}

/// Names a part without `kind` by its content, reading 1.0 `raw`/`url` parts as files.
fn infer_kind(part: &mut Map<String, Value>) {
    let kind = if part.contains_key("text") {
        "text"
    } else if part.contains_key("data") {
        "data"
    } else {
        let mut file = Map::new();
        for (current, legacy) in [("raw", "bytes"), ("url", "uri"), ("mediaType", "mimeType"), ("filename", "name")] {
            if let Some(value) = part.remove(current) {
                file.insert(legacy.into(), value);
            }
        }
        if !file.is_empty() {
            part.entry("file").or_insert(Value::Object(file));
        }
        "file"
    };
    part.insert("kind".into(), Value::String(kind.into()));
}

/// A 0.3 message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// Always `message`.
    #[serde(default)]
    pub kind: MessageKind,
    /// Set by the creator.
    #[serde(default)]
    pub message_id: String,
    /// The conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_id: Option<String>,
    /// The task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// The sender (`None` when missing: invalid in a request).
    #[serde(default)]
    pub role: Option<Role>,
    /// The content.
    #[serde(default)]
    pub parts: Vec<Part>,
    /// Optional metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Extension URIs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<String>,
    /// Tasks it refers to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference_task_ids: Vec<String>,
}

/// A 0.3 task status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskStatus {
    /// The state.
    #[serde(default)]
    pub state: TaskState,
    /// A message that goes with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// When it was entered.
    #[serde(default, with = "timestamp::optional", skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<DateTime<Utc>>,
}

/// A 0.3 artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// Unique within the task.
    #[serde(default)]
    pub artifact_id: String,
    /// A name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The content.
    #[serde(default)]
    pub parts: Vec<Part>,
    /// Optional metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Extension URIs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<String>,
}

/// A 0.3 task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// Always `task`.
    #[serde(default)]
    pub kind: TaskKind,
    /// Its id.
    pub id: String,
    /// Its context.
    #[serde(default)]
    pub context_id: String,
    /// Its status.
    pub status: TaskStatus,
    /// Outputs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<Artifact>,
    /// Messages, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Message>,
    /// Optional metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// A 0.3 status update; `final` marks the last event of a stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskStatusUpdateEvent {
    /// Always `status-update`.
    #[serde(default)]
    pub kind: StatusUpdateKind,
    /// The task.
    pub task_id: String,
    /// Its context.
    #[serde(default)]
    pub context_id: String,
    /// The new status.
    pub status: TaskStatus,
    /// The stream ends after this event.
    #[serde(default, rename = "final")]
    pub is_final: bool,
    /// Optional metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// A 0.3 artifact update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskArtifactUpdateEvent {
    /// Always `artifact-update`.
    #[serde(default)]
    pub kind: ArtifactUpdateKind,
    /// The task.
    pub task_id: String,
    /// Its context.
    #[serde(default)]
    pub context_id: String,
    /// The artifact or chunk.
    pub artifact: Artifact,
    /// Append to the artifact of the same id.
    #[serde(default, skip_serializing_if = "is_false")]
    pub append: bool,
    /// The last chunk.
    #[serde(default, skip_serializing_if = "is_false")]
    pub last_chunk: bool,
    /// Optional metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// Any 0.3 result object (a send's result, or one stream event), told apart by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Event {
    /// A task.
    Task(Task),
    /// A message.
    Message(Message),
    /// A status update.
    StatusUpdate(TaskStatusUpdateEvent),
    /// An artifact update.
    ArtifactUpdate(TaskArtifactUpdateEvent),
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = Value::deserialize(deserializer)?;
        let kind = value.get("kind").and_then(Value::as_str).map(str::to_owned);
        let typed = match kind.as_deref() {
            Some("task") => serde_json::from_value(value).map(Self::Task),
            Some("message") => serde_json::from_value(value).map(Self::Message),
            Some("status-update") => serde_json::from_value(value).map(Self::StatusUpdate),
            Some("artifact-update") => serde_json::from_value(value).map(Self::ArtifactUpdate),
            Some(other) => return Err(D::Error::custom(format!("unknown kind `{other}`"))),
            None => return Err(D::Error::custom("a 0.3 result needs a `kind`")),
        };
        typed.map_err(D::Error::custom)
    }
}
