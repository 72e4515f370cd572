//! A2A errors: one enum, and the one table that maps each to its JSON-RPC
//! code, `google.rpc.ErrorInfo` reason and HTTP status (a2a.md §2.8).
//!
//! HTTP statuses follow the 1.0.0 table (409 for a task that cannot be
//! canceled, 415 for a content type, 502 for an invalid agent response),
//! which is what the 1.0 conformance suite checks; 1.0.1 moved those three to
//! 400 and 500.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// `domain` of every `ErrorInfo` this server sends.
pub const ERROR_DOMAIN: &str = "a2a-protocol.org";

/// One invalid field of a request (`google.rpc.BadRequest.FieldViolation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldViolation {
    /// The field, dotted camelCase (`message.parts`).
    pub field: String,
    /// What is wrong with it.
    pub description: String,
}

impl FieldViolation {
    /// A violation of `field`.
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self { field: field.into(), description: description.into() }
    }
}

/// Everything an A2A call can fail with, on any binding.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum A2aError {
    /// -32700: the body is not JSON.
    #[error("invalid JSON: {0}")]
    Parse(String),
    /// -32600: not a JSON-RPC 2.0 request.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// -32601: no such method.
    #[error("method not found: {0}")]
    MethodNotFound(String),
    /// -32602: the params are malformed or miss required fields.
    #[error("invalid params: {message}")]
    InvalidParams {
        /// A summary.
        message: String,
        /// The fields at fault.
        violations: Vec<FieldViolation>,
    },
    /// -32603: the server failed.
    #[error("internal error: {0}")]
    Internal(String),
    /// -32001.
    #[error("task not found: {0}")]
    TaskNotFound(String),
    /// -32002.
    #[error("task {task_id} cannot be canceled: it is {state}")]
    TaskNotCancelable {
        /// The task.
        task_id: String,
        /// Its state (`TASK_STATE_COMPLETED`).
        state: String,
    },
    /// -32003.
    #[error("push notifications are not supported by this agent")]
    PushNotificationNotSupported,
    /// -32004.
    #[error("unsupported operation: {0}")]
    UnsupportedOperation(String),
    /// -32005.
    #[error("content type not supported: {0}")]
    ContentTypeNotSupported(String),
    /// -32006.
    #[error("invalid agent response: {0}")]
    InvalidAgentResponse(String),
    /// -32007.
    #[error("the extended agent card is not configured")]
    ExtendedAgentCardNotConfigured,
    /// -32008.
    #[error("extension support required: {0}")]
    ExtensionSupportRequired(String),
    /// -32009.
    #[error("{0}")]
    VersionNotSupported(String),
}

impl A2aError {
    /// Invalid params from a list of violations.
    pub fn invalid_params(violations: Vec<FieldViolation>) -> Self {
        let message =
            violations.iter().map(|v| format!("{} {}", v.field, v.description)).collect::<Vec<_>>().join("; ");
        Self::InvalidParams { message, violations }
    }

    /// `Ok` without violations, else invalid params listing them.
    pub fn check(violations: Vec<FieldViolation>) -> Result<(), Self> {
        if violations.is_empty() { Ok(()) } else { Err(Self::invalid_params(violations)) }
    }

    /// The JSON-RPC error code.
    pub fn code(&self) -> i64 {
        match self {
            Self::Parse(_) => -32700,
            Self::InvalidRequest(_) => -32600,
            Self::MethodNotFound(_) => -32601,
            Self::InvalidParams { .. } => -32602,
            Self::Internal(_) => -32603,
            Self::TaskNotFound(_) => -32001,
            Self::TaskNotCancelable { .. } => -32002,
            Self::PushNotificationNotSupported => -32003,
            Self::UnsupportedOperation(_) => -32004,
            Self::ContentTypeNotSupported(_) => -32005,
            Self::InvalidAgentResponse(_) => -32006,
            Self::ExtendedAgentCardNotConfigured => -32007,
            Self::ExtensionSupportRequired(_) => -32008,
            Self::VersionNotSupported(_) => -32009,
        }
    }

    /// The `ErrorInfo.reason` (UPPER_SNAKE).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Parse(_) => "PARSE_ERROR",
            Self::InvalidRequest(_) => "INVALID_REQUEST",
            Self::MethodNotFound(_) => "METHOD_NOT_FOUND",
            Self::InvalidParams { .. } => "INVALID_PARAMS",
            Self::Internal(_) => "INTERNAL_ERROR",
            Self::TaskNotFound(_) => "TASK_NOT_FOUND",
            Self::TaskNotCancelable { .. } => "TASK_NOT_CANCELABLE",
            Self::PushNotificationNotSupported => "PUSH_NOTIFICATION_NOT_SUPPORTED",
            Self::UnsupportedOperation(_) => "UNSUPPORTED_OPERATION",
            Self::ContentTypeNotSupported(_) => "CONTENT_TYPE_NOT_SUPPORTED",
            Self::InvalidAgentResponse(_) => "INVALID_AGENT_RESPONSE",
            Self::ExtendedAgentCardNotConfigured => "EXTENDED_AGENT_CARD_NOT_CONFIGURED",
            Self::ExtensionSupportRequired(_) => "EXTENSION_SUPPORT_REQUIRED",
            Self::VersionNotSupported(_) => "VERSION_NOT_SUPPORTED",
        }
    }

    /// The HTTP status on the REST binding.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::TaskNotFound(_) | Self::MethodNotFound(_) => 404,
            Self::TaskNotCancelable { .. } => 409,
            Self::ContentTypeNotSupported(_) => 415,
            Self::InvalidAgentResponse(_) => 502,
            Self::Internal(_) => 500,
            Self::Parse(_)
            | Self::InvalidRequest(_)
            | Self::InvalidParams { .. }
            | Self::PushNotificationNotSupported
            | Self::UnsupportedOperation(_)
            | Self::ExtendedAgentCardNotConfigured
            | Self::ExtensionSupportRequired(_)
            | Self::VersionNotSupported(_) => 400,
        }
    }

    /// The `google.rpc.Code` name (`status` of a REST error).
    pub fn grpc_status(&self) -> &'static str {
        match self {
            Self::TaskNotFound(_) => "NOT_FOUND",
            Self::MethodNotFound(_) => "UNIMPLEMENTED",
            Self::Internal(_) | Self::InvalidAgentResponse(_) => "INTERNAL",
            Self::Parse(_)
            | Self::InvalidRequest(_)
            | Self::InvalidParams { .. }
            | Self::ContentTypeNotSupported(_) => "INVALID_ARGUMENT",
            Self::TaskNotCancelable { .. }
            | Self::ExtendedAgentCardNotConfigured
            | Self::ExtensionSupportRequired(_) => "FAILED_PRECONDITION",
            Self::PushNotificationNotSupported | Self::UnsupportedOperation(_) | Self::VersionNotSupported(_) => {
                "UNIMPLEMENTED"
            }
        }
    }

    /// The typed details: an `ErrorInfo`, and a `BadRequest` for invalid params.
    pub fn details(&self) -> Vec<Value> {
        let mut metadata = serde_json::Map::new();
        match self {
            Self::TaskNotFound(id) => {
                metadata.insert("taskId".into(), json!(id));
            }
            Self::TaskNotCancelable { task_id, state } => {
                metadata.insert("taskId".into(), json!(task_id));
                metadata.insert("state".into(), json!(state));
            }
            _ => {}
        }
        let mut details = vec![json!({
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": self.reason(),
            "domain": ERROR_DOMAIN,
            "metadata": metadata,
        })];
        if let Self::InvalidParams { violations, .. } = self {
            details.push(json!({
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": violations,
            }));
        }
        details
    }

    /// The JSON-RPC `error` object: `{code, message, data: [details]}`.
    pub fn to_jsonrpc(&self) -> Value {
        json!({"code": self.code(), "message": self.to_string(), "data": self.details()})
    }

    /// The REST error body, `google.rpc.Status`-shaped: `{"error": {code, status, message, details}}`.
    pub fn to_rest(&self) -> Value {
        json!({"error": {
            "code": self.http_status(),
            "status": self.grpc_status(),
            "message": self.to_string(),
            "details": self.details(),
        }})
    }

    /// An error from its `ErrorInfo.reason` (what a REST error names), or `None` for an unknown reason.
    pub fn from_reason(reason: &str, message: String) -> Option<Self> {
        Some(match reason {
            "TASK_NOT_FOUND" => Self::TaskNotFound(message),
            "TASK_NOT_CANCELABLE" => Self::TaskNotCancelable { task_id: String::new(), state: message },
            "PUSH_NOTIFICATION_NOT_SUPPORTED" => Self::PushNotificationNotSupported,
            "UNSUPPORTED_OPERATION" => Self::UnsupportedOperation(message),
            "CONTENT_TYPE_NOT_SUPPORTED" => Self::ContentTypeNotSupported(message),
            "INVALID_AGENT_RESPONSE" => Self::InvalidAgentResponse(message),
            "EXTENDED_AGENT_CARD_NOT_CONFIGURED" => Self::ExtendedAgentCardNotConfigured,
            "EXTENSION_SUPPORT_REQUIRED" => Self::ExtensionSupportRequired(message),
            "VERSION_NOT_SUPPORTED" => Self::VersionNotSupported(message),
            "INVALID_PARAMS" => Self::InvalidParams { message, violations: Vec::new() },
            "PARSE_ERROR" => Self::Parse(message),
            "INVALID_REQUEST" => Self::InvalidRequest(message),
            "METHOD_NOT_FOUND" => Self::MethodNotFound(message),
            "INTERNAL_ERROR" => Self::Internal(message),
            _ => return None,
        })
    }

    /// Reads a REST (`google.rpc.Status`) error body back, falling back on the HTTP status.
    pub fn from_rest(http_status: u16, body: &Value) -> Self {
        let error = body.get("error").unwrap_or(body);
        let message = error.get("message").and_then(Value::as_str).unwrap_or("no message").to_owned();
        let reason = error
            .get("details")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find_map(|detail| detail.get("reason").and_then(Value::as_str));
        if let Some(known) = reason.and_then(|reason| Self::from_reason(reason, message.clone())) {
            return known;
        }
        match http_status {
            404 => Self::TaskNotFound(message),
            400 | 422 => Self::InvalidParams { message, violations: Vec::new() },
            415 => Self::ContentTypeNotSupported(message),
            _ => Self::Internal(format!("HTTP {http_status}: {message}")),
        }
    }

    /// Reads an error back from a JSON-RPC `error` object (for the client).
    pub fn from_jsonrpc(error: &Value) -> Self {
        let message = error.get("message").and_then(Value::as_str).unwrap_or("no message").to_owned();
        match error.get("code").and_then(Value::as_i64).unwrap_or(-32603) {
            -32700 => Self::Parse(message),
            -32600 => Self::InvalidRequest(message),
            -32601 => Self::MethodNotFound(message),
            -32602 => Self::InvalidParams { message, violations: Vec::new() },
            -32001 => Self::TaskNotFound(message),
            -32002 => Self::TaskNotCancelable { task_id: String::new(), state: message },
            -32003 => Self::PushNotificationNotSupported,
            -32004 => Self::UnsupportedOperation(message),
            -32005 => Self::ContentTypeNotSupported(message),
            -32006 => Self::InvalidAgentResponse(message),
            -32007 => Self::ExtendedAgentCardNotConfigured,
            -32008 => Self::ExtensionSupportRequired(message),
            -32009 => Self::VersionNotSupported(message),
            _ => Self::Internal(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_a2a_error_has_its_code_reason_and_status() {
        let table: [(A2aError, i64, &str, u16); 9] = [
            (A2aError::TaskNotFound("t".into()), -32001, "TASK_NOT_FOUND", 404),
            (
                A2aError::TaskNotCancelable { task_id: "t".into(), state: "x".into() },
                -32002,
                "TASK_NOT_CANCELABLE",
                409,
            ),
            (A2aError::PushNotificationNotSupported, -32003, "PUSH_NOTIFICATION_NOT_SUPPORTED", 400),
            (A2aError::UnsupportedOperation("x".into()), -32004, "UNSUPPORTED_OPERATION", 400),
            (A2aError::ContentTypeNotSupported("x".into()), -32005, "CONTENT_TYPE_NOT_SUPPORTED", 415),
            (A2aError::InvalidAgentResponse("x".into()), -32006, "INVALID_AGENT_RESPONSE", 502),
            (A2aError::ExtendedAgentCardNotConfigured, -32007, "EXTENDED_AGENT_CARD_NOT_CONFIGURED", 400),
            (A2aError::ExtensionSupportRequired("x".into()), -32008, "EXTENSION_SUPPORT_REQUIRED", 400),
            (A2aError::VersionNotSupported("x".into()), -32009, "VERSION_NOT_SUPPORTED", 400),
        ];
        for (error, code, reason, status) in table {
            assert_eq!((error.code(), error.reason(), error.http_status()), (code, reason, status), "{error:?}");
            assert_eq!(A2aError::from_jsonrpc(&error.to_jsonrpc()).code(), code);
        }
    }

    #[test]
    fn the_jsonrpc_error_carries_an_error_info_and_a_bad_request_for_params() {
        let error = A2aError::invalid_params(vec![FieldViolation::new("message", "is required")]);
        let wire = error.to_jsonrpc();
        assert_eq!(wire["code"], json!(-32602));
        assert_eq!(wire["data"][0]["@type"], json!("type.googleapis.com/google.rpc.ErrorInfo"));
        assert_eq!(wire["data"][0]["domain"], json!(ERROR_DOMAIN));
        assert_eq!(wire["data"][1]["fieldViolations"][0]["field"], json!("message"));
        let rest = A2aError::TaskNotFound("t1".into()).to_rest();
        assert_eq!(rest["error"]["status"], json!("NOT_FOUND"));
        assert_eq!(rest["error"]["details"][0]["metadata"]["taskId"], json!("t1"));
    }
}
