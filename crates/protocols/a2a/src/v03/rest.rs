//! The HTTP+JSON binding of A2A 0.3: paths under `/v1`, bodies in the
//! ProtoJSON form of the 0.3 proto (package `a2a.v1`), as the reference SDK
//! 0.3 serves and calls it.
//!
//! That form is neither the 0.3 JSON-RPC form nor 1.0's: parts sit in a
//! message's `content` (an artifact's are still `parts`), a file part is
//! `{"file": {"fileWithBytes" | "fileWithUri", "mimeType", "name"}}`, a data
//! part `{"data": {"data": {…}}}`, enums are `ROLE_USER` and
//! `TASK_STATE_CANCELLED` (two Ls), results are oneofs (`{"task": …}`,
//! `{"statusUpdate": …}`), and a push config is a resource
//! `{"name": "tasks/{id}/pushNotificationConfigs/{configId}", "pushNotificationConfig": …}`.
//! The SDK reads answers with a strict ProtoJSON parser, so nothing else may
//! be written (no `kind`, no `referenceTaskIds`).
//!
//! Each function maps between this form and the 0.3 JSON-RPC form of
//! [`model`](super::model), so the typed conversions to 1.0 stay in one
//! place ([`convert`](super::convert)).

use serde_json::{Map, Value, json};

/// 0.3 JSON-RPC state spellings and their proto enum names.
const STATES: [(&str, &str); 9] = [
    ("submitted", "TASK_STATE_SUBMITTED"),
    ("working", "TASK_STATE_WORKING"),
    ("input-required", "TASK_STATE_INPUT_REQUIRED"),
    ("completed", "TASK_STATE_COMPLETED"),
    ("canceled", "TASK_STATE_CANCELLED"),
    ("failed", "TASK_STATE_FAILED"),
    ("rejected", "TASK_STATE_REJECTED"),
    ("auth-required", "TASK_STATE_AUTH_REQUIRED"),
    ("unknown", "TASK_STATE_UNSPECIFIED"),
];

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(object) => object,
        _ => Map::new(),
    }
}

fn map_array(value: Option<Value>, each: fn(Value) -> Value) -> Option<Value> {
    match value {
        Some(Value::Array(items)) => Some(Value::Array(items.into_iter().map(each).collect())),
        other => other,
    }
}

/// A part: `{"kind": "text", …}` → `{"text": …}` and so on.
pub fn part_to_proto(part: Value) -> Value {
    let mut part = object(part);
    let mut out = Map::new();
    match part.remove("kind").as_ref().and_then(Value::as_str) {
        Some("file") => {
            let mut file = object(part.remove("file").unwrap_or_default());
            let mut proto = Map::new();
            if let Some(bytes) = file.remove("bytes") {
                proto.insert("fileWithBytes".into(), bytes);
            }
            if let Some(uri) = file.remove("uri") {
                proto.insert("fileWithUri".into(), uri);
            }
            for key in ["mimeType", "name"] {
                if let Some(value) = file.remove(key) {
                    proto.insert(key.into(), value);
                }
            }
            out.insert("file".into(), Value::Object(proto));
        }
        Some("data") => {
            out.insert("data".into(), json!({"data": part.remove("data").unwrap_or(json!({}))}));
        }
        _ => {
            out.insert("text".into(), part.remove("text").unwrap_or(json!("")));
        }
    }
    if let Some(metadata) = part.remove("metadata") {
        out.insert("metadata".into(), metadata);
    }
    Value::Object(out)
}

/// A part: `{"text": …}` → `{"kind": "text", …}` and so on.
pub fn part_from_proto(part: Value) -> Value {
    let mut part = object(part);
    let mut out = Map::new();
    if let Some(file) = part.remove("file") {
        let mut file = object(file);
        let mut content = Map::new();
        for (proto, legacy) in
            [("fileWithBytes", "bytes"), ("fileWithUri", "uri"), ("mimeType", "mimeType"), ("name", "name")]
        {
            if let Some(value) = file.remove(proto) {
                content.insert(legacy.into(), value);
            }
        }
        out.insert("kind".into(), json!("file"));
        out.insert("file".into(), Value::Object(content));
    } else if let Some(data) = part.remove("data") {
        let inner = object(data).remove("data").unwrap_or(json!({}));
        out.insert("kind".into(), json!("data"));
        out.insert("data".into(), inner);
    } else {
        out.insert("kind".into(), json!("text"));
        out.insert("text".into(), part.remove("text").unwrap_or(json!("")));
    }
    if let Some(metadata) = part.remove("metadata") {
        out.insert("metadata".into(), metadata);
    }
    Value::Object(out)
}

fn role_to_proto(role: &str) -> &'static str {
    match role {
        "user" => "ROLE_USER",
        "agent" => "ROLE_AGENT",
        _ => "ROLE_UNSPECIFIED",
    }
}

fn role_from_proto(role: &str) -> Option<&'static str> {
    match role {
        "ROLE_USER" | "user" => Some("user"),
        "ROLE_AGENT" | "agent" => Some("agent"),
        _ => None,
    }
}

/// A message: `parts` become `content`; `kind` and `referenceTaskIds` (no proto field) are left out.
pub fn message_to_proto(message: Value) -> Value {
    let mut message = object(message);
    message.remove("kind");
    message.remove("referenceTaskIds");
    if let Some(parts) = map_array(message.remove("parts"), part_to_proto) {
        message.insert("content".into(), parts);
    }
    if let Some(role) = message.get("role").and_then(Value::as_str).map(role_to_proto) {
        message.insert("role".into(), json!(role));
    }
    Value::Object(message)
}

/// A message: `content` becomes `parts`, `ROLE_USER` becomes `user`.
pub fn message_from_proto(message: Value) -> Value {
    let mut message = object(message);
    let parts = message.remove("content").or_else(|| message.remove("parts"));
    message.insert("parts".into(), map_array(parts, part_from_proto).unwrap_or(json!([])));
    match message.get("role").and_then(Value::as_str).and_then(role_from_proto) {
        Some(role) => message.insert("role".into(), json!(role)),
        None => message.remove("role"),
    };
    message.insert("kind".into(), json!("message"));
    Value::Object(message)
}

fn status_to_proto(status: Value) -> Value {
    let mut status = object(status);
    if let Some(state) = status.get("state").and_then(Value::as_str) {
        let proto = STATES.iter().find(|(legacy, _)| *legacy == state).map_or("TASK_STATE_UNSPECIFIED", |s| s.1);
        status.insert("state".into(), json!(proto));
    }
    if let Some(message) = status.remove("message") {
        status.insert("message".into(), message_to_proto(message));
    }
    Value::Object(status)
}

fn status_from_proto(status: Value) -> Value {
    let mut status = object(status);
    if let Some(state) = status.get("state").and_then(Value::as_str) {
        let legacy = STATES.iter().find(|(_, proto)| *proto == state).map_or("unknown", |s| s.0);
        status.insert("state".into(), json!(legacy));
    }
    if let Some(message) = status.remove("message") {
        status.insert("message".into(), message_from_proto(message));
    }
    Value::Object(status)
}

fn artifact_to_proto(artifact: Value) -> Value {
    let mut artifact = object(artifact);
    if let Some(parts) = map_array(artifact.remove("parts"), part_to_proto) {
        artifact.insert("parts".into(), parts);
    }
    Value::Object(artifact)
}

fn artifact_from_proto(artifact: Value) -> Value {
    let mut artifact = object(artifact);
    let parts = map_array(artifact.remove("parts"), part_from_proto).unwrap_or(json!([]));
    artifact.insert("parts".into(), parts);
    Value::Object(artifact)
}

/// A task (bare, as `GET /v1/tasks/{id}` answers).
pub fn task_to_proto(task: Value) -> Value {
    let mut task = object(task);
    task.remove("kind");
    if let Some(status) = task.remove("status") {
        task.insert("status".into(), status_to_proto(status));
    }
    for (key, each) in [("artifacts", artifact_to_proto as fn(Value) -> Value), ("history", message_to_proto)] {
        if let Some(items) = map_array(task.remove(key), each) {
            task.insert(key.into(), items);
        }
    }
    Value::Object(task)
}

/// A task back in the 0.3 JSON-RPC form.
pub fn task_from_proto(task: Value) -> Value {
    let mut task = object(task);
    if let Some(status) = task.remove("status") {
        task.insert("status".into(), status_from_proto(status));
    }
    for (key, each) in [("artifacts", artifact_from_proto as fn(Value) -> Value), ("history", message_from_proto)] {
        if let Some(items) = map_array(task.remove(key), each) {
            task.insert(key.into(), items);
        }
    }
    task.insert("kind".into(), json!("task"));
    Value::Object(task)
}

/// A `kind`-tagged result (send result or stream event) as a proto oneof:
/// `{"task": …}`, `{"message": …}`, `{"statusUpdate": …}`, `{"artifactUpdate": …}`.
pub fn event_to_proto(event: Value) -> Value {
    let mut event = object(event);
    let kind = event.remove("kind");
    let (member, body) = match kind.as_ref().and_then(Value::as_str) {
        Some("message") => ("message", message_to_proto(Value::Object(event))),
        Some("status-update") => {
            if let Some(status) = event.remove("status") {
                event.insert("status".into(), status_to_proto(status));
            }
            ("statusUpdate", Value::Object(event))
        }
        Some("artifact-update") => {
            if let Some(artifact) = event.remove("artifact") {
                event.insert("artifact".into(), artifact_to_proto(artifact));
            }
            ("artifactUpdate", Value::Object(event))
        }
        _ => ("task", task_to_proto(Value::Object(event))),
    };
    json!({ member: body })
}

/// A proto oneof result back as a `kind`-tagged 0.3 object; `None` when it holds none.
pub fn event_from_proto(event: Value) -> Option<Value> {
    let mut event = object(event);
    if let Some(task) = event.remove("task") {
        return Some(task_from_proto(task));
    }
    if let Some(message) = event.remove("message").or_else(|| event.remove("msg")) {
        return Some(message_from_proto(message));
    }
    if let Some(update) = event.remove("statusUpdate") {
        let mut update = object(update);
        if let Some(status) = update.remove("status") {
            update.insert("status".into(), status_from_proto(status));
        }
        update.insert("kind".into(), json!("status-update"));
        return Some(Value::Object(update));
    }
    let mut update = object(event.remove("artifactUpdate")?);
    if let Some(artifact) = update.remove("artifact") {
        update.insert("artifact".into(), artifact_from_proto(artifact));
    }
    update.insert("kind".into(), json!("artifact-update"));
    Some(Value::Object(update))
}

/// `SendMessageRequest` (`{message, configuration{pushNotification, blocking, …}, metadata}`) as 0.3 `MessageSendParams`.
///
/// Proto3 leaves `false` out, so here — unlike on 0.3 JSON-RPC — a missing
/// `blocking` is `false`, as the reference SDK reads it: the send returns at once.
pub fn send_params_from_proto(body: Value) -> Value {
    let mut body = object(body);
    if let Some(message) = body.remove("message").or_else(|| body.remove("request")) {
        body.insert("message".into(), message_from_proto(message));
    }
    let mut configuration = object(body.remove("configuration").unwrap_or_default());
    if let Some(push) = configuration.remove("pushNotification") {
        configuration.insert("pushNotificationConfig".into(), push);
    }
    configuration.entry("blocking").or_insert(json!(false));
    body.insert("configuration".into(), Value::Object(configuration));
    Value::Object(body)
}

/// 0.3 `MessageSendParams` as the proto `SendMessageRequest`.
pub fn send_params_to_proto(params: Value) -> Value {
    let mut params = object(params);
    if let Some(message) = params.remove("message") {
        params.insert("message".into(), message_to_proto(message));
    }
    if let Some(Value::Object(mut configuration)) = params.remove("configuration") {
        if let Some(push) = configuration.remove("pushNotificationConfig") {
            configuration.insert("pushNotification".into(), push);
        }
        params.insert("configuration".into(), Value::Object(configuration));
    }
    Value::Object(params)
}

/// A 0.3 `TaskPushNotificationConfig` (`{taskId, pushNotificationConfig}`) as the proto resource.
pub fn push_config_to_proto(config: Value) -> Value {
    let mut config = object(config);
    let task_id = config.remove("taskId").and_then(|id| id.as_str().map(str::to_owned)).unwrap_or_default();
    let push = config.remove("pushNotificationConfig").unwrap_or(json!({}));
    let config_id = push.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
    json!({"name": format!("tasks/{task_id}/pushNotificationConfigs/{config_id}"), "pushNotificationConfig": push})
}

/// The push config of a create body (`{"parent", "configId", "config": {"name", "pushNotificationConfig"}}`,
/// or the resource itself), as 0.3 `{taskId, pushNotificationConfig}` for `task_id`.
pub fn push_config_from_proto(body: Value, task_id: &str) -> Value {
    let mut body = object(body);
    let config_id = body.remove("configId");
    let mut resource = match body.remove("config") {
        Some(config) => object(config),
        None => body,
    };
    let mut push = object(resource.remove("pushNotificationConfig").unwrap_or_default());
    if let Some(Value::String(id)) = config_id.filter(|id| id.as_str().is_some_and(|id| !id.is_empty())) {
        push.entry("id").or_insert(json!(id));
    }
    json!({"taskId": task_id, "pushNotificationConfig": push})
}

/// The task id of a push config resource name (`tasks/{id}/pushNotificationConfigs/{configId}`).
pub fn task_of_resource(name: &str) -> Option<&str> {
    name.strip_prefix("tasks/")?.split('/').next().filter(|id| !id.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v03::model as v03;
    use crate::{Message, Part, PartContent, StreamResponse, Task, TaskState, TaskStatus};

    #[test]
    fn a_task_goes_to_the_proto_form_and_back() -> Result<(), Box<dyn std::error::Error>> {
        let task = Task {
            id: "t".into(),
            context_id: "c".into(),
            status: TaskStatus::now_with(TaskState::Canceled, Message::agent_text("s", "stopped")),
            artifacts: vec![crate::Artifact {
                artifact_id: "a".into(),
                parts: vec![
                    Part::text("x"),
                    Part::data(json!({"k": 1})),
                    Part {
                        media_type: Some("text/plain".into()),
                        ..Part::with(PartContent::Url("https://x/y".into()))
                    },
                    Part::with(PartContent::Raw(b"hi".to_vec())),
                ],
                ..Default::default()
            }],
            history: vec![Message::user_text("m", "hello")],
            metadata: None,
        };
        let legacy = serde_json::to_value(v03::Event::from(&StreamResponse::Task(task.clone())))?;
        let proto = event_to_proto(legacy);
        assert_eq!(proto["task"]["status"]["state"], json!("TASK_STATE_CANCELLED"));
        assert_eq!(proto["task"]["status"]["message"]["content"][0], json!({"text": "stopped"}));
        assert_eq!(proto["task"]["history"][0]["role"], json!("ROLE_USER"));
        let parts = &proto["task"]["artifacts"][0]["parts"];
        assert_eq!(parts[1], json!({"data": {"data": {"k": 1}}}));
        assert_eq!(parts[2], json!({"file": {"fileWithUri": "https://x/y", "mimeType": "text/plain"}}));
        assert_eq!(parts[3], json!({"file": {"fileWithBytes": "aGk="}}));
        assert!(proto["task"].get("kind").is_none() && proto["task"]["history"][0].get("kind").is_none());
        let back: v03::Event = serde_json::from_value(event_from_proto(proto).ok_or("no event")?)?;
        assert_eq!(StreamResponse::try_from(back)?, StreamResponse::Task(task));
        Ok(())
    }

    #[test]
    fn a_proto_send_request_reads_as_0_3_params() -> Result<(), Box<dyn std::error::Error>> {
        // What a2a-sdk 0.3's REST client posts.
        let body = json!({"message": {"messageId": "m1", "role": "ROLE_USER", "content": [{"text": "hi"}]},
            "configuration": {"blocking": false, "pushNotification": {"url": "https://h", "id": "p"}}});
        let params: crate::v03::requests::MessageSendParams = serde_json::from_value(send_params_from_proto(body))?;
        let request = params.into_current()?;
        assert_eq!(request.message.as_ref().and_then(Message::first_text), Some("hi"));
        assert!(request.return_immediately());
        let unset = json!({"message": {"messageId": "m2", "role": "ROLE_USER", "content": [{"text": "hi"}]}});
        let unset: crate::v03::requests::MessageSendParams = serde_json::from_value(send_params_from_proto(unset))?;
        assert!(unset.into_current()?.return_immediately(), "proto3: a missing `blocking` is false");
        let proto = send_params_to_proto(serde_json::to_value(crate::v03::requests::MessageSendParams::from_current(
            &request,
        ))?);
        assert_eq!(proto["message"]["content"], json!([{"text": "hi"}]));
        assert_eq!(proto["configuration"]["pushNotification"]["url"], json!("https://h"));
        Ok(())
    }

    #[test]
    fn push_configs_are_resources_named_by_task_and_id() {
        let created = json!({"parent": "tasks/t1", "configId": "p1",
            "config": {"name": "tasks/t1/pushNotificationConfigs/p1", "pushNotificationConfig": {"url": "https://h"}}});
        let legacy = push_config_from_proto(created, "t1");
        assert_eq!(legacy, json!({"taskId": "t1", "pushNotificationConfig": {"url": "https://h", "id": "p1"}}));
        let resource = push_config_to_proto(legacy);
        assert_eq!(resource["name"], json!("tasks/t1/pushNotificationConfigs/p1"));
        assert_eq!(task_of_resource("tasks/t1/pushNotificationConfigs/p1"), Some("t1"));
    }
}
