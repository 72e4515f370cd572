//! Reading what real peers send (a2a.md §7.10): snake_case keys, 0.3
//! `kind`-tagged results (through [`v03`]), `final` flags, missing optional
//! fields.
//!
//! Answers are normalised as JSON before they are typed. Keys are turned to
//! camelCase everywhere except inside `data` parts and `metadata`, which are
//! the sender's own JSON and must arrive as sent.

use serde_json::{Map, Value};

use crate::{StreamResponse, Task, v03};

/// Members whose values are the peer's own JSON, left as they are.
const OPAQUE: [&str; 3] = ["data", "metadata", "params"];

fn camel_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for character in key.chars() {
        if character == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(character.to_uppercase());
            upper = false;
        } else {
            out.push(character);
        }
    }
    out
}

/// Turns snake_case keys to camelCase, leaving opaque members alone.
pub(crate) fn camel_keys(value: Value) -> Value {
    match value {
        Value::Object(object) => {
            let mut out = Map::with_capacity(object.len());
            for (key, inner) in object {
                let key = if key.contains('_') { camel_case(&key) } else { key };
                let inner = if OPAQUE.contains(&key.as_str()) { inner } else { camel_keys(inner) };
                out.insert(key, inner);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(camel_keys).collect()),
        other => other,
    }
}

/// Reads a `SendMessageResponse` or `StreamResponse`: a 1.0 oneof, or a
/// 0.3 `kind`-tagged object (which sloppy 1.0 peers send too), read through
/// the 0.3 model and its conversion to 1.0 — the one 0.3 reader there is.
pub(crate) fn response(value: Value) -> Result<StreamResponse, String> {
    let value = camel_keys(value);
    if value.get("kind").is_some() {
        return legacy_event(value);
    }
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// Reads a 0.3 `kind`-tagged result as its 1.0 event.
pub(crate) fn legacy_event(value: Value) -> Result<StreamResponse, String> {
    let event: v03::model::Event = serde_json::from_value(camel_keys(value)).map_err(|e| e.to_string())?;
    StreamResponse::try_from(event).map_err(|e| e.to_string())
}

/// Reads a 0.3 task (`kind` optional) as a 1.0 task.
pub(crate) fn legacy_task(value: Value) -> Result<Task, String> {
    let task: v03::model::Task = serde_json::from_value(camel_keys(value)).map_err(|e| e.to_string())?;
    Task::try_from(task).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TaskState;
    use serde_json::json;

    #[test]
    fn snake_case_and_0_3_results_read_as_1_0_but_data_stays_as_sent() -> Result<(), serde_json::Error> {
        let sloppy = json!({"kind": "status-update", "task_id": "t", "context_id": "c", "final": true,
            "status": {"state": "completed", "message": {"message_id": "m", "role": "agent",
                "parts": [{"kind": "data", "data": {"snake_key": 1}}]}}});
        let event = response(sloppy).map_err(serde::de::Error::custom)?;
        let StreamResponse::StatusUpdate(update) = event else {
            panic!("not a status update: {event:?}");
        };
        assert_eq!((update.task_id.as_str(), update.status.state), ("t", TaskState::Completed));
        let part = serde_json::to_value(&update.status.message.unwrap_or_default().parts[0])?;
        assert_eq!(part, json!({"data": {"snake_key": 1}}));
        Ok(())
    }

    #[test]
    fn a_kind_tagged_result_with_1_0_parts_and_enums_reads_too() -> Result<(), String> {
        let mixed = json!({"kind": "task", "id": "t", "contextId": "c", "status": {"state": "TASK_STATE_COMPLETED"},
            "artifacts": [{"artifactId": "a", "parts": [{"text": "hi"}, {"url": "https://x/y", "mediaType": "text/plain"}]}],
            "history": [{"messageId": "m", "role": "ROLE_USER", "parts": [{"kind": "text", "text": "q"}]}]});
        let StreamResponse::Task(task) = response(mixed)? else {
            return Err("not a task".into());
        };
        assert_eq!(task.status.state, TaskState::Completed);
        assert_eq!(task.artifacts[0].parts[0].as_text(), Some("hi"));
        assert_eq!(task.artifacts[0].parts[1].media_type.as_deref(), Some("text/plain"));
        assert_eq!(task.history[0].role, crate::Role::User);
        Ok(())
    }
}
