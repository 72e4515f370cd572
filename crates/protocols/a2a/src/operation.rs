//! [`Operation`]: one A2A call with its typed 1.0 params, whatever the
//! version and binding it arrived in.
//!
//! The edge reads a request (1.0 or 0.3, JSON-RPC or REST) into an
//! `Operation`, runs it against the 1.0-only task service, and writes the
//! answer back in the request's version. Only the reading and the writing
//! know about versions; what runs in between does not.

use serde_json::Value;

use crate::jsonrpc::{Method, params};
use crate::version::ProtocolVersion;
use crate::{
    A2aError, CancelTaskRequest, DeleteTaskPushNotificationConfigRequest, GetTaskPushNotificationConfigRequest,
    GetTaskRequest, ListTaskPushNotificationConfigsRequest, ListTasksRequest, SendMessageRequest,
    SubscribeToTaskRequest, TaskPushNotificationConfig,
};

/// One call to an agent.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    /// `SendMessage` (0.3 `message/send`).
    SendMessage(SendMessageRequest),
    /// `SendStreamingMessage` (0.3 `message/stream`).
    SendStreamingMessage(SendMessageRequest),
    /// `GetTask` (0.3 `tasks/get`).
    GetTask(GetTaskRequest),
    /// `ListTasks` (1.0 only).
    ListTasks(ListTasksRequest),
    /// `CancelTask` (0.3 `tasks/cancel`).
    CancelTask(CancelTaskRequest),
    /// `SubscribeToTask` (0.3 `tasks/resubscribe`).
    SubscribeToTask(SubscribeToTaskRequest),
    /// `CreateTaskPushNotificationConfig` (0.3 `tasks/pushNotificationConfig/set`).
    CreatePushConfig(TaskPushNotificationConfig),
    /// `GetTaskPushNotificationConfig` (0.3 `…/get`).
    GetPushConfig(GetTaskPushNotificationConfigRequest),
    /// `ListTaskPushNotificationConfigs` (0.3 `…/list`).
    ListPushConfigs(ListTaskPushNotificationConfigsRequest),
    /// `DeleteTaskPushNotificationConfig` (0.3 `…/delete`).
    DeletePushConfig(DeleteTaskPushNotificationConfigRequest),
    /// `GetExtendedAgentCard` (0.3 `agent/getAuthenticatedExtendedCard`).
    GetExtendedAgentCard,
}

impl Operation {
    /// Types the JSON-RPC params of a 1.0 method.
    pub fn from_1_0(method: Method, raw: Value) -> Result<Self, A2aError> {
        Ok(match method {
            Method::SendMessage => Self::SendMessage(params(raw)?),
            Method::SendStreamingMessage => Self::SendStreamingMessage(params(raw)?),
            Method::GetTask => Self::GetTask(params(raw)?),
            Method::ListTasks => Self::ListTasks(params(raw)?),
            Method::CancelTask => Self::CancelTask(params(raw)?),
            Method::SubscribeToTask => Self::SubscribeToTask(params(raw)?),
            Method::CreateTaskPushNotificationConfig => Self::CreatePushConfig(params(raw)?),
            Method::GetTaskPushNotificationConfig => Self::GetPushConfig(params(raw)?),
            Method::ListTaskPushNotificationConfigs => Self::ListPushConfigs(params(raw)?),
            Method::DeleteTaskPushNotificationConfig => Self::DeletePushConfig(params(raw)?),
            Method::GetExtendedAgentCard => Self::GetExtendedAgentCard,
        })
    }

    /// Types the JSON-RPC params of a 0.3 method, named by its 1.0 counterpart.
    pub fn from_0_3(method: Method, raw: Value) -> Result<Self, A2aError> {
        let legacy = crate::v03::Method::of(method)
            .ok_or_else(|| A2aError::MethodNotFound(format!("{} has no A2A 0.3 method", method.name())))?;
        legacy.operation(raw)
    }

    /// Types the JSON-RPC params of `method` as `version` writes them.
    pub fn read(version: ProtocolVersion, method: Method, raw: Value) -> Result<Self, A2aError> {
        match version {
            ProtocolVersion::V1_0 => Self::from_1_0(method, raw),
            ProtocolVersion::V0_3 => Self::from_0_3(method, raw),
        }
    }

    /// Whether the answer is an SSE stream.
    pub fn streams(&self) -> bool {
        matches!(self, Self::SendStreamingMessage(_) | Self::SubscribeToTask(_))
    }
}
