//! The JSON-RPC 2.0 binding: requests in, result and error envelopes out.
//!
//! Every JSON-RPC error travels in an HTTP 200 body; the id is echoed when it
//! could be read (and is `null` when it could not). Batches are not part of
//! A2A and are refused as invalid requests. The envelope is read first and
//! the method name afterwards, once the version is known: the same name is
//! a method in one version and an error, saying what to send, in the other.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::version::ProtocolVersion;
use crate::{A2aError, FieldViolation, v03};

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

    /// Looks a 1.0 method up by its wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|method| method.name() == name)
    }

    /// The method a request of `version` names, or -32601 saying which
    /// method and header to use when the name belongs to the other version.
    pub fn resolve(name: &str, version: ProtocolVersion) -> Result<Self, A2aError> {
        match version {
            ProtocolVersion::V1_0 => Self::from_name(name).ok_or_else(|| match v03::Method::from_name(name) {
                Some(legacy) => A2aError::MethodNotFound(format!(
                    "{name} is an A2A 0.3 method: call `{}`, or send `A2A-Version: 0.3`",
                    legacy.current().name()
                )),
                None => A2aError::MethodNotFound(format!("`{name}` is not an A2A 1.0 method")),
            }),
            ProtocolVersion::V0_3 => {
                let legacy = v03::Method::from_name(name).ok_or_else(|| match Self::from_name(name) {
                    Some(current) => A2aError::MethodNotFound(match v03::Method::of(current) {
                        Some(legacy) => {
                            format!("{name} is an A2A 1.0 method: send `A2A-Version: 1.0`, or call `{}`", legacy.name())
                        }
                        None => {
                            format!("{name} is an A2A 1.0 method: send `A2A-Version: 1.0` (0.3 has no such method)")
                        }
                    }),
                    None => A2aError::MethodNotFound(format!("`{name}` is not an A2A 0.3 method")),
                })?;
                Ok(legacy.current())
            }
        }
    }

    /// Whether the method answers with an SSE stream.
    pub fn streams(self) -> bool {
        matches!(self, Self::SendStreamingMessage | Self::SubscribeToTask)
    }
}

/// A parsed request envelope; its method name is resolved once the version is known.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The id to echo (string, number or null).
    pub id: Value,
    /// The method's wire name (`SendMessage`, or `message/send` in 0.3).
    pub method: String,
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
    let params = match object.remove("params") {
        None | Some(Value::Null) => Value::Object(Default::default()),
        Some(params @ Value::Object(_)) => params,
        Some(_) => {
            return Err(reject(id, A2aError::invalid_params(vec![FieldViolation::new("params", "must be an object")])));
        }
    };
    Ok(Request { id, method: name, params })
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
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":4,"method":"GetTask","params":[1]}"#), (json!(4), -32602));
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":5,"method":"GetTask"}"#), (json!(5), 0));
    }

    fn resolved(name: &str, version: ProtocolVersion) -> Result<Method, String> {
        Method::resolve(name, version).map_err(|error| {
            assert_eq!(error.code(), -32601);
            error.to_string()
        })
    }

    #[test]
    fn each_version_resolves_its_own_names_and_says_what_to_send_for_the_other() {
        use ProtocolVersion::{V0_3, V1_0};
        assert_eq!(resolved("SendMessage", V1_0), Ok(Method::SendMessage));
        assert_eq!(resolved("message/send", V0_3), Ok(Method::SendMessage));
        assert_eq!(resolved("tasks/resubscribe", V0_3), Ok(Method::SubscribeToTask));
        assert_eq!(
            resolved("SendMessage", V0_3),
            Err("method not found: SendMessage is an A2A 1.0 method: send `A2A-Version: 1.0`, or call `message/send`"
                .into())
        );
        assert_eq!(
            resolved("ListTasks", V0_3),
            Err("method not found: ListTasks is an A2A 1.0 method: send `A2A-Version: 1.0` (0.3 has no such method)"
                .into())
        );
        assert_eq!(
            resolved("message/send", V1_0),
            Err("method not found: message/send is an A2A 0.3 method: call `SendMessage`, or send `A2A-Version: 0.3`"
                .into())
        );
        assert_eq!(resolved("Nope", V1_0), Err("method not found: `Nope` is not an A2A 1.0 method".into()));
        assert_eq!(resolved("nope/x", V0_3), Err("method not found: `nope/x` is not an A2A 0.3 method".into()));
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
