//! The JSON-RPC 2.0 binding: requests in, result and error envelopes out.
//!
//! Every JSON-RPC error travels in an HTTP 200 body; the id is echoed when it
//! could be read (and is `null` when it could not). Batches are not part of
//! A2A and are refused as invalid requests.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::{A2aError, FieldViolation};

/// The A2A 1.0 methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Send a message, wait for the task (or a reply).
    SendMessage,
    /// Send a message, stream the task's events.
    SendStreamingMessage,
    /// Read a task.
    GetTask,
    /// List tasks.
    ListTasks,
    /// Cancel a task.
    CancelTask,
    /// Stream a task's events.
    SubscribeToTask,
    /// Add a push config.
    CreateTaskPushNotificationConfig,
    /// Read a push config.
    GetTaskPushNotificationConfig,
    /// List push configs.
    ListTaskPushNotificationConfigs,
    /// Remove a push config.
    DeleteTaskPushNotificationConfig,
    /// Read the card for authenticated callers.
    GetExtendedAgentCard,
}

impl Method {
    /// Every method.
    pub const ALL: [Method; 11] = [
        Self::SendMessage,
        Self::SendStreamingMessage,
        Self::GetTask,
        Self::ListTasks,
        Self::CancelTask,
        Self::SubscribeToTask,
        Self::CreateTaskPushNotificationConfig,
        Self::GetTaskPushNotificationConfig,
        Self::ListTaskPushNotificationConfigs,
        Self::DeleteTaskPushNotificationConfig,
        Self::GetExtendedAgentCard,
    ];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Self::SendMessage => "SendMessage",
            Self::SendStreamingMessage => "SendStreamingMessage",
            Self::GetTask => "GetTask",
            Self::ListTasks => "ListTasks",
            Self::CancelTask => "CancelTask",
            Self::SubscribeToTask => "SubscribeToTask",
            Self::CreateTaskPushNotificationConfig => "CreateTaskPushNotificationConfig",
            Self::GetTaskPushNotificationConfig => "GetTaskPushNotificationConfig",
            Self::ListTaskPushNotificationConfigs => "ListTaskPushNotificationConfigs",
            Self::DeleteTaskPushNotificationConfig => "DeleteTaskPushNotificationConfig",
            Self::GetExtendedAgentCard => "GetExtendedAgentCard",
        }
    }

    /// Looks a method up by its wire name; a 0.3 name gets a hint in the error.
    pub fn from_name(name: &str) -> Result<Self, A2aError> {
        if let Some(method) = Self::ALL.into_iter().find(|method| method.name() == name) {
            return Ok(method);
        }
        let renamed = match name {
            "message/send" => Some(Self::SendMessage),
            "message/stream" => Some(Self::SendStreamingMessage),
            "tasks/get" => Some(Self::GetTask),
            "tasks/cancel" => Some(Self::CancelTask),
            "tasks/resubscribe" => Some(Self::SubscribeToTask),
            _ => None,
        };
        Err(A2aError::MethodNotFound(match renamed {
            Some(method) => format!("`{name}` is the A2A 0.3 name; in 1.0 it is `{}`", method.name()),
            None => format!("`{name}`"),
        }))
    }

    /// Whether the method answers with an SSE stream.
    pub fn streams(self) -> bool {
        matches!(self, Self::SendStreamingMessage | Self::SubscribeToTask)
    }
}

/// A parsed request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The id to echo (string, number or null).
    pub id: Value,
    /// The method.
    pub method: Method,
    /// The params object (`{}` when absent).
    pub params: Value,
}

/// A request that could not be read, with the id to answer under.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// The request's id, or null.
    pub id: Value,
    /// Why.
    pub error: A2aError,
}

/// Reads a JSON-RPC 2.0 request from a body.
pub fn parse_request(body: &[u8]) -> Result<Request, Rejected> {
    let reject = |id: Value, error| Rejected { id, error };
    let value: Value =
        serde_json::from_slice(body).map_err(|error| reject(Value::Null, A2aError::Parse(error.to_string())))?;
    let Value::Object(mut object) = value else {
        let what = if value.is_array() { "batch requests are not supported" } else { "the request must be an object" };
        return Err(reject(Value::Null, A2aError::InvalidRequest(what.to_owned())));
    };
    let id = match object.remove("id") {
        Some(id @ (Value::String(_) | Value::Number(_) | Value::Null)) => id,
        Some(_) => {
            return Err(reject(Value::Null, A2aError::InvalidRequest("`id` must be a string or a number".into())));
        }
        None => return Err(reject(Value::Null, A2aError::InvalidRequest("`id` is required".into()))),
    };
    if object.get("jsonrpc") != Some(&json!("2.0")) {
        return Err(reject(id, A2aError::InvalidRequest("`jsonrpc` must be \"2.0\"".into())));
    }
    let Some(Value::String(name)) = object.remove("method") else {
        return Err(reject(id, A2aError::InvalidRequest("`method` must be a string".into())));
    };
    let method = Method::from_name(&name).map_err(|error| reject(id.clone(), error))?;
    let params = match object.remove("params") {
        None | Some(Value::Null) => Value::Object(Default::default()),
        Some(params @ Value::Object(_)) => params,
        Some(_) => {
            return Err(reject(id, A2aError::invalid_params(vec![FieldViolation::new("params", "must be an object")])));
        }
    };
    Ok(Request { id, method, params })
}

/// Types a method's params; a type error names the field at fault.
pub fn params<T: DeserializeOwned>(params: Value) -> Result<T, A2aError> {
    serde_path_to_error::deserialize(params).map_err(|error| {
        let field = error.path().to_string();
        let field = if field == "." { "params".to_owned() } else { field };
        A2aError::invalid_params(vec![FieldViolation::new(field, error.inner().to_string())])
    })
}

/// A success envelope.
pub fn success(id: &Value, result: &impl Serialize) -> Value {
    match serde_json::to_value(result) {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(error) => failure(id, &A2aError::Internal(format!("cannot serialize the result: {error}"))),
    }
}

/// An error envelope.
pub fn failure(id: &Value, error: &A2aError) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": error.to_jsonrpc()})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GetTaskRequest, SendMessageRequest};

    fn code(body: &str) -> (Value, i64) {
        match parse_request(body.as_bytes()) {
            Ok(request) => (request.id, 0),
            Err(rejected) => (rejected.id, rejected.error.code()),
        }
    }

    #[test]
    fn malformed_requests_get_the_standard_codes() {
        assert_eq!(code("{not json"), (Value::Null, -32700));
        assert_eq!(code("[]"), (Value::Null, -32600));
        assert_eq!(code(r#"{"jsonrpc":"2.0","method":"GetTask"}"#), (Value::Null, -32600));
        assert_eq!(code(r#"{"jsonrpc":"1.0","id":3,"method":"GetTask"}"#), (json!(3), -32600));
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":"a","method":"Nope"}"#), (json!("a"), -32601));
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":4,"method":"GetTask","params":[1]}"#), (json!(4), -32602));
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":5,"method":"GetTask"}"#), (json!(5), 0));
    }

    #[test]
    fn a_0_3_method_name_says_the_1_0_name() {
        let error = Method::from_name("message/send").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("SendMessage"), "{error}");
    }

    #[test]
    fn typed_params_name_the_bad_field_and_required_fields_are_checked() {
        let error = params::<GetTaskRequest>(json!({"id": 7})).err().map(|e| e.to_jsonrpc());
        assert_eq!(error.as_ref().map(|e| e["data"][1]["fieldViolations"][0]["field"].clone()), Some(json!("id")));
        let empty: Result<SendMessageRequest, _> = params(json!({}));
        assert_eq!(empty.map(|request| request.violations().len()), Ok(1));
    }

    #[test]
    fn envelopes_echo_the_id() {
        assert_eq!(success(&json!(1), &json!({"a": 1})), json!({"jsonrpc": "2.0", "id": 1, "result": {"a": 1}}));
        assert_eq!(failure(&json!("x"), &A2aError::TaskNotFound("t".into()))["error"]["code"], json!(-32001));
    }
}
