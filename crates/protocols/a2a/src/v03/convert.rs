//! Conversions between the 1.0 model and the 0.3 one, both ways.
//!
//! They are lossless for everything both versions can say, and follow the
//! reference SDK's compatibility layer where 0.3 has no room:
//!
//! - a 1.0 `data` part that is not a JSON object travels as
//!   `{"value": …}` with `data_part_compat: true` in the part's metadata,
//!   and comes back as it was;
//! - `filename`/`mediaType` of a text or data part have no 0.3 field and are
//!   dropped (file parts carry them as `name`/`mimeType`);
//! - `TASK_STATE_UNSPECIFIED` is 0.3 `unknown`;
//! - `final` on a status update is set when the stream ends after it (a
//!   terminal or interrupted state), as 1.0 streams end.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde_json::{Map, Value};

use super::model as v03;
use crate::{
    Artifact, Message, Part, PartContent, Role, StreamResponse, Task, TaskArtifactUpdateEvent, TaskState, TaskStatus,
    TaskStatusUpdateEvent,
};

/// The metadata key that marks a wrapped non-object `data` part.
const DATA_PART_COMPAT: &str = "data_part_compat";

/// A 0.3 object that cannot be expressed in 1.0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConversionError(pub String);

impl From<TaskState> for v03::TaskState {
    fn from(state: TaskState) -> Self {
        match state {
            TaskState::Unspecified => Self::Unknown,
            TaskState::Submitted => Self::Submitted,
            TaskState::Working => Self::Working,
            TaskState::Completed => Self::Completed,
            TaskState::Failed => Self::Failed,
            TaskState::Canceled => Self::Canceled,
            TaskState::InputRequired => Self::InputRequired,
            TaskState::Rejected => Self::Rejected,
            TaskState::AuthRequired => Self::AuthRequired,
        }
    }
}

impl From<v03::TaskState> for TaskState {
    fn from(state: v03::TaskState) -> Self {
        match state {
            v03::TaskState::Unknown => Self::Unspecified,
            v03::TaskState::Submitted => Self::Submitted,
            v03::TaskState::Working => Self::Working,
            v03::TaskState::Completed => Self::Completed,
            v03::TaskState::Failed => Self::Failed,
            v03::TaskState::Canceled => Self::Canceled,
            v03::TaskState::InputRequired => Self::InputRequired,
            v03::TaskState::Rejected => Self::Rejected,
            v03::TaskState::AuthRequired => Self::AuthRequired,
        }
    }
}

fn role_to_03(role: Role) -> Option<v03::Role> {
    match role {
        Role::Unspecified => None,
        Role::User => Some(v03::Role::User),
        Role::Agent => Some(v03::Role::Agent),
    }
}

fn role_from_03(role: Option<v03::Role>) -> Role {
    match role {
        None => Role::Unspecified,
        Some(v03::Role::User) => Role::User,
        Some(v03::Role::Agent) => Role::Agent,
    }
}

impl From<&Part> for v03::Part {
    fn from(part: &Part) -> Self {
        let metadata = part.metadata.clone();
        let file = |bytes: Option<String>, uri: Option<String>| v03::FileContent {
            bytes,
            uri,
            mime_type: part.media_type.clone(),
            name: part.filename.clone(),
        };
        match &part.content {
            PartContent::Text(text) => Self::Text { text: text.clone(), metadata },
            PartContent::Raw(bytes) => Self::File { file: file(Some(STANDARD.encode(bytes)), None), metadata },
            PartContent::Url(url) => Self::File { file: file(None, Some(url.clone())), metadata },
            PartContent::Data(Value::Object(data)) => Self::Data { data: data.clone(), metadata },
            PartContent::Data(other) => {
                let mut metadata = metadata.unwrap_or_default();
                metadata.insert(DATA_PART_COMPAT.into(), Value::Bool(true));
                let data = Map::from_iter([("value".to_owned(), other.clone())]);
                Self::Data { data, metadata: Some(metadata) }
            }
        }
    }
}

impl TryFrom<v03::Part> for Part {
    type Error = ConversionError;

    fn try_from(part: v03::Part) -> Result<Self, ConversionError> {
        Ok(match part {
            v03::Part::Text { text, metadata } => Part { metadata, ..Part::text(text) },
            v03::Part::Data { mut data, metadata } => {
                let mut metadata = metadata;
                let wrapped = metadata.as_mut().and_then(|m| m.remove(DATA_PART_COMPAT)) == Some(Value::Bool(true));
                let metadata = metadata.filter(|m| !m.is_empty() || !wrapped);
                let content = match data.remove("value") {
                    Some(value) if wrapped => value,
                    Some(value) => {
                        data.insert("value".into(), value);
                        Value::Object(data)
                    }
                    None => Value::Object(data),
                };
                Part { metadata, ..Part::data(content) }
            }
            v03::Part::File { file, metadata } => {
                let content = match (file.bytes, file.uri) {
                    (Some(bytes), _) => PartContent::Raw(
                        STANDARD
                            .decode(&bytes)
                            .or_else(|_| URL_SAFE.decode(&bytes))
                            .map_err(|_| ConversionError("`file.bytes` is not base64".into()))?,
                    ),
                    (None, Some(uri)) => PartContent::Url(uri),
                    (None, None) => return Err(ConversionError("a `file` part needs `bytes` or `uri`".into())),
                };
                Part { content, metadata, filename: file.name, media_type: file.mime_type }
            }
        })
    }
}

fn parts_from_03(parts: Vec<v03::Part>) -> Result<Vec<Part>, ConversionError> {
    parts.into_iter().map(Part::try_from).collect()
}

impl From<&Message> for v03::Message {
    fn from(message: &Message) -> Self {
        Self {
            kind: v03::MessageKind::Tag,
            message_id: message.message_id.clone(),
            context_id: message.context_id.clone(),
            task_id: message.task_id.clone(),
            role: role_to_03(message.role),
            parts: message.parts.iter().map(v03::Part::from).collect(),
            metadata: message.metadata.clone(),
            extensions: message.extensions.clone(),
            reference_task_ids: message.reference_task_ids.clone(),
        }
    }
}

impl TryFrom<v03::Message> for Message {
    type Error = ConversionError;

    fn try_from(message: v03::Message) -> Result<Self, ConversionError> {
        Ok(Self {
            message_id: message.message_id,
            context_id: message.context_id,
            task_id: message.task_id,
            role: role_from_03(message.role),
            parts: parts_from_03(message.parts)?,
            metadata: message.metadata,
            extensions: message.extensions,
            reference_task_ids: message.reference_task_ids,
        })
    }
}

impl From<&TaskStatus> for v03::TaskStatus {
    fn from(status: &TaskStatus) -> Self {
        Self {
            state: status.state.into(),
            message: status.message.as_ref().map(v03::Message::from),
            timestamp: status.timestamp,
        }
    }
}

impl TryFrom<v03::TaskStatus> for TaskStatus {
    type Error = ConversionError;

    fn try_from(status: v03::TaskStatus) -> Result<Self, ConversionError> {
        Ok(Self {
            state: status.state.into(),
            message: status.message.map(Message::try_from).transpose()?,
            timestamp: status.timestamp,
        })
    }
}

impl From<&Artifact> for v03::Artifact {
    fn from(artifact: &Artifact) -> Self {
        Self {
            artifact_id: artifact.artifact_id.clone(),
            name: artifact.name.clone(),
            description: artifact.description.clone(),
            parts: artifact.parts.iter().map(v03::Part::from).collect(),
            metadata: artifact.metadata.clone(),
            extensions: artifact.extensions.clone(),
        }
    }
}

impl TryFrom<v03::Artifact> for Artifact {
    type Error = ConversionError;

    fn try_from(artifact: v03::Artifact) -> Result<Self, ConversionError> {
        Ok(Self {
            artifact_id: artifact.artifact_id,
            name: artifact.name,
            description: artifact.description,
            parts: parts_from_03(artifact.parts)?,
            metadata: artifact.metadata,
            extensions: artifact.extensions,
        })
    }
}

impl From<&Task> for v03::Task {
    fn from(task: &Task) -> Self {
        Self {
            kind: v03::TaskKind::Tag,
            id: task.id.clone(),
            context_id: task.context_id.clone(),
            status: (&task.status).into(),
            artifacts: task.artifacts.iter().map(v03::Artifact::from).collect(),
            history: task.history.iter().map(v03::Message::from).collect(),
            metadata: task.metadata.clone(),
        }
    }
}

impl TryFrom<v03::Task> for Task {
    type Error = ConversionError;

    fn try_from(task: v03::Task) -> Result<Self, ConversionError> {
        Ok(Self {
            id: task.id,
            context_id: task.context_id,
            status: task.status.try_into()?,
            artifacts: task.artifacts.into_iter().map(Artifact::try_from).collect::<Result<_, _>>()?,
            history: task.history.into_iter().map(Message::try_from).collect::<Result<_, _>>()?,
            metadata: task.metadata,
        })
    }
}

impl From<&TaskStatusUpdateEvent> for v03::TaskStatusUpdateEvent {
    fn from(update: &TaskStatusUpdateEvent) -> Self {
        let state = update.status.state;
        Self {
            kind: v03::StatusUpdateKind::Tag,
            task_id: update.task_id.clone(),
            context_id: update.context_id.clone(),
            status: (&update.status).into(),
            is_final: state.is_terminal() || state.is_interrupted(),
            metadata: update.metadata.clone(),
        }
    }
}

impl From<&TaskArtifactUpdateEvent> for v03::TaskArtifactUpdateEvent {
    fn from(update: &TaskArtifactUpdateEvent) -> Self {
        Self {
            kind: v03::ArtifactUpdateKind::Tag,
            task_id: update.task_id.clone(),
            context_id: update.context_id.clone(),
            artifact: (&update.artifact).into(),
            append: update.append,
            last_chunk: update.last_chunk,
            metadata: update.metadata.clone(),
        }
    }
}

impl From<&StreamResponse> for v03::Event {
    fn from(event: &StreamResponse) -> Self {
        match event {
            StreamResponse::Task(task) => Self::Task(task.into()),
            StreamResponse::Message(message) => Self::Message(message.into()),
            StreamResponse::StatusUpdate(update) => Self::StatusUpdate(update.into()),
            StreamResponse::ArtifactUpdate(update) => Self::ArtifactUpdate(update.into()),
        }
    }
}

impl TryFrom<v03::Event> for StreamResponse {
    type Error = ConversionError;

    fn try_from(event: v03::Event) -> Result<Self, ConversionError> {
        Ok(match event {
            v03::Event::Task(task) => Self::Task(task.try_into()?),
            v03::Event::Message(message) => Self::Message(message.try_into()?),
            v03::Event::StatusUpdate(update) => Self::StatusUpdate(TaskStatusUpdateEvent {
                task_id: update.task_id,
                context_id: update.context_id,
                status: update.status.try_into()?,
                metadata: update.metadata,
            }),
            v03::Event::ArtifactUpdate(update) => Self::ArtifactUpdate(TaskArtifactUpdateEvent {
                task_id: update.task_id,
                context_id: update.context_id,
                artifact: update.artifact.try_into()?,
                append: update.append,
                last_chunk: update.last_chunk,
                metadata: update.metadata,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::now_millis;

    fn every_part() -> Vec<Part> {
        vec![
            Part { metadata: Some(Map::from_iter([("m".to_owned(), json!(1))])), ..Part::text("hello") },
            Part {
                filename: Some("output.txt".into()),
                media_type: Some("text/plain".into()),
                ..Part::with(PartContent::Raw(b"bytes".to_vec()))
            },
            Part { filename: Some("o.txt".into()), ..Part::with(PartContent::Url("https://example.com/o.txt".into())) },
            Part::data(json!({"key": "value", "count": 42})),
            Part::data(json!([1, 2, 3])),
            Part { metadata: Some(Map::from_iter([("m".to_owned(), json!(2))])), ..Part::data(json!("just text")) },
            Part::data(json!({"value": "an object with a value key stays an object"})),
        ]
    }

    fn a_task() -> Task {
        let mut question = Message::agent_text("q1", "which project?");
        question.task_id = Some("t1".into());
        Task {
            id: "t1".into(),
            context_id: "c1".into(),
            status: TaskStatus::now_with(TaskState::InputRequired, question),
            artifacts: vec![Artifact { artifact_id: "a1".into(), parts: every_part(), ..Artifact::default() }],
            history: vec![Message {
                reference_task_ids: vec!["t0".into()],
                extensions: vec!["urn:x".into()],
                ..Message::user_text("m1", "hello")
            }],
            metadata: Some(Map::from_iter([("k".to_owned(), json!("v"))])),
        }
    }

    #[test]
    fn every_event_goes_to_0_3_and_back_unchanged() -> Result<(), ConversionError> {
        let events = [
            StreamResponse::Task(a_task()),
            StreamResponse::Message(Message::agent_text("r1", "direct")),
            StreamResponse::StatusUpdate(TaskStatusUpdateEvent {
                task_id: "t1".into(),
                context_id: "c1".into(),
                status: TaskStatus::now(TaskState::Canceled),
                metadata: None,
            }),
            StreamResponse::ArtifactUpdate(TaskArtifactUpdateEvent {
                task_id: "t1".into(),
                context_id: "c1".into(),
                artifact: Artifact {
                    artifact_id: "a1".into(),
                    parts: vec![Part::text("chunk")],
                    ..Artifact::default()
                },
                append: true,
                last_chunk: true,
                metadata: None,
            }),
        ];
        for event in events {
            let legacy = v03::Event::from(&event);
            let wire = serde_json::to_value(&legacy).map_err(|e| ConversionError(e.to_string()))?;
            let read: v03::Event = serde_json::from_value(wire).map_err(|e| ConversionError(e.to_string()))?;
            assert_eq!(StreamResponse::try_from(read)?, event);
        }
        for state in TaskState::ALL {
            assert_eq!(TaskState::from(v03::TaskState::from(state)), state);
        }
        Ok(())
    }

    #[test]
    fn the_0_3_wire_form_is_kind_tagged_with_lowercase_enums() -> Result<(), serde_json::Error> {
        let wire = serde_json::to_value(v03::Event::from(&StreamResponse::Task(a_task())))?;
        assert_eq!(wire["kind"], json!("task"));
        assert_eq!(wire["status"]["state"], json!("input-required"));
        assert_eq!(wire["status"]["message"]["kind"], json!("message"));
        assert_eq!(wire["status"]["message"]["role"], json!("agent"));
        assert_eq!(wire["history"][0]["role"], json!("user"));
        let parts = &wire["artifacts"][0]["parts"];
        assert_eq!(parts[0], json!({"kind": "text", "text": "hello", "metadata": {"m": 1}}));
        assert_eq!(
            parts[1],
            json!({"kind": "file", "file": {"bytes": "Ynl0ZXM=", "mimeType": "text/plain", "name": "output.txt"}})
        );
        assert_eq!(parts[2]["file"]["uri"], json!("https://example.com/o.txt"));
        assert_eq!(
            parts[4],
            json!({"kind": "data", "data": {"value": [1, 2, 3]}, "metadata": {"data_part_compat": true}})
        );
        let done = StreamResponse::StatusUpdate(TaskStatusUpdateEvent {
            task_id: "t".into(),
            context_id: "c".into(),
            status: TaskStatus { state: TaskState::Working, message: None, timestamp: Some(now_millis()) },
            metadata: None,
        });
        let update = serde_json::to_value(v03::Event::from(&done))?;
        assert_eq!((update["kind"].clone(), update["final"].clone()), (json!("status-update"), json!(false)));
        Ok(())
    }

    #[test]
    fn captured_sdk_0_3_events_read() -> Result<(), Box<dyn std::error::Error>> {
        // a2a.md §3: what a2a-sdk answers in 0.3.
        let task: v03::Event = serde_json::from_value(
            json!({"artifacts": [{"artifactId": "a", "parts": [{"kind": "text", "text": "echo: hi 0.3"}]}],
            "contextId": "c", "history": [{"messageId": "m3", "role": "user", "kind": "message", "parts": [{"kind": "text", "text": "hi 0.3"}]}],
            "id": "t", "kind": "task", "status": {"state": "completed", "timestamp": "2026-11-22T01:15:36.506664+00:00"}}),
        )?;
        let StreamResponse::Task(task) = StreamResponse::try_from(task)? else { panic!("not a task") };
        assert_eq!(
            (task.status.state, task.artifacts[0].parts[0].as_text()),
            (TaskState::Completed, Some("echo: hi 0.3"))
        );
        let update: v03::Event =
            serde_json::from_value(json!({"append": false, "artifact": {"artifactId": "a", "parts": []},
            "contextId": "c", "kind": "artifact-update", "lastChunk": false, "taskId": "t"}))?;
        assert!(matches!(StreamResponse::try_from(update)?, StreamResponse::ArtifactUpdate(_)));
        assert!(serde_json::from_value::<v03::Event>(json!({"id": "t"})).is_err(), "no kind");
        let bad = v03::Part::File {
            file: v03::FileContent { bytes: None, uri: None, mime_type: None, name: None },
            metadata: None,
        };
        assert!(Part::try_from(bad).is_err());
        Ok(())
    }
}
