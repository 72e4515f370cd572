//! `Message` and `Role`: one turn of a conversation.

use serde::{Deserialize, Serialize};

use super::{Metadata, Part};
use crate::error::FieldViolation;

/// Who sent a message (`lf.a2a.v1.Role`); the 0.3 spellings are read too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Role {
    /// Not set: invalid in a request.
    #[default]
    #[serde(rename = "ROLE_UNSPECIFIED")]
    Unspecified,
    /// From the client.
    #[serde(rename = "ROLE_USER", alias = "user")]
    User,
    /// From the agent.
    #[serde(rename = "ROLE_AGENT", alias = "agent")]
    Agent,
}

/// One unit of communication (`lf.a2a.v1.Message`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// Set by the message's creator; required.
    #[serde(default)]
    #[serde(alias = "message_id")]
    pub message_id: String,
    /// The conversation it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(alias = "context_id")]
    pub context_id: Option<String>,
    /// The task it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(alias = "task_id")]
    pub task_id: Option<String>,
    /// The sender; required.
    #[serde(default)]
    pub role: Role,
    /// The content; at least one part.
    #[serde(default)]
    pub parts: Vec<Part>,
    /// Optional metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// URIs of extensions present in the message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<String>,
    /// Tasks this message refers to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(alias = "reference_task_ids")]
    pub reference_task_ids: Vec<String>,
}

impl Message {
    /// An agent message of one text part.
    pub fn agent_text(message_id: impl Into<String>, text: impl Into<String>) -> Self {
        Self { message_id: message_id.into(), role: Role::Agent, parts: vec![Part::text(text)], ..Self::default() }
    }

    /// A user message of one text part.
    pub fn user_text(message_id: impl Into<String>, text: impl Into<String>) -> Self {
        Self { message_id: message_id.into(), role: Role::User, parts: vec![Part::text(text)], ..Self::default() }
    }

    /// The first text part, if any (what agents read as the request).
    pub fn first_text(&self) -> Option<&str> {
        self.parts.iter().find_map(Part::as_text)
    }

    /// The REQUIRED fields that are missing, as violations under `prefix` (`message`).
    pub fn violations(&self, prefix: &str) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        if self.message_id.trim().is_empty() {
            violations.push(FieldViolation::new(format!("{prefix}.messageId"), "is required"));
        }
        if self.role == Role::Unspecified {
            violations.push(FieldViolation::new(format!("{prefix}.role"), "is required (ROLE_USER or ROLE_AGENT)"));
        }
        if self.parts.is_empty() {
            violations.push(FieldViolation::new(format!("{prefix}.parts"), "must hold at least one part"));
        }
        violations
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_message_reads_and_writes_the_protojson_form() -> Result<(), serde_json::Error> {
        let wire = json!({"messageId": "m1", "role": "ROLE_USER", "parts": [{"text": "hello"}]});
        let message: Message = serde_json::from_value(wire.clone())?;
        assert_eq!(message.first_text(), Some("hello"));
        assert!(message.violations("message").is_empty());
        assert_eq!(serde_json::to_value(&message)?, wire);
        Ok(())
    }

    #[test]
    fn the_0_3_form_and_unknown_fields_are_read() -> Result<(), serde_json::Error> {
        let wire = json!({"kind": "message", "messageId": "m3", "role": "user", "parts": [{"kind": "text", "text": "hi"}], "x": 1});
        let message: Message = serde_json::from_value(wire)?;
        assert_eq!((message.role, message.first_text()), (Role::User, Some("hi")));
        Ok(())
    }

    #[test]
    fn missing_required_fields_are_named() -> Result<(), serde_json::Error> {
        let message: Message = serde_json::from_value(json!({}))?;
        let fields: Vec<_> = message.violations("message").into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["message.messageId", "message.role", "message.parts"]);
        Ok(())
    }
}
