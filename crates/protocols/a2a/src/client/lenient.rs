//! Reading what real peers send (a2a.md §7.10): snake_case keys, 0.3
//! `kind`-tagged results, `final` flags, missing optional fields.
//!
//! Answers are normalised as JSON before they are typed. Keys are turned to
//! camelCase everywhere except inside `data` parts and `metadata`, which are
//! the sender's own JSON and must arrive as sent.

use serde_json::{Map, Value};

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

/// Wraps a 0.3 result (`{"kind": "task", …}`) into its 1.0 oneof (`{"task": {…}}`).
pub(crate) fn oneof(value: Value) -> Value {
    let Value::Object(mut object) = value else {
        return value;
    };
    let member = match object.get("kind").and_then(Value::as_str) {
        Some("task") => "task",
        Some("message") => "message",
        Some("status-update") => "statusUpdate",
        Some("artifact-update") => "artifactUpdate",
        _ => return Value::Object(object),
    };
    object.remove("kind");
    object.remove("final");
    let mut wrapped = Map::new();
    wrapped.insert(member.to_owned(), Value::Object(object));
    Value::Object(wrapped)
}

/// Normalises a `SendMessageResponse` or `StreamResponse`.
pub(crate) fn response(value: Value) -> Value {
    oneof(camel_keys(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{StreamResponse, TaskState};
    use serde_json::json;

    #[test]
    fn snake_case_and_0_3_results_read_as_1_0_but_data_stays_as_sent() -> Result<(), serde_json::Error> {
        let sloppy = json!({"kind": "status-update", "task_id": "t", "context_id": "c", "final": true,
            "status": {"state": "completed", "message": {"message_id": "m", "role": "agent",
                "parts": [{"kind": "data", "data": {"snake_key": 1}}]}}});
        let event: StreamResponse = serde_json::from_value(response(sloppy))?;
        let StreamResponse::StatusUpdate(update) = event else {
            panic!("not a status update: {event:?}");
        };
        assert_eq!((update.task_id.as_str(), update.status.state), ("t", TaskState::Completed));
        let part = serde_json::to_value(&update.status.message.unwrap_or_default().parts[0])?;
        assert_eq!(part, json!({"data": {"snake_key": 1}}));
        Ok(())
    }
}
