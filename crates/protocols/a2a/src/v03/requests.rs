//! The params and results of the 0.3 JSON-RPC methods, and how each maps
//! onto its 1.0 [`Operation`] and back.
//!
//! Where 0.3 and 1.0 differ in meaning rather than spelling, 0.3 meaning is
//! kept: `configuration.blocking: false` is `returnImmediately`, a
//! `historyLength` of 0 means no limit, and a push config without an id is
//! the task's one config (its id is the task id), as the reference SDK
//! stores it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Method;
use super::convert::ConversionError;
use super::model as v03;
use crate::jsonrpc::params;
use crate::{
    A2aError, AuthenticationInfo, CancelTaskRequest, FieldViolation, GetTaskPushNotificationConfigRequest,
    GetTaskRequest, ListTaskPushNotificationConfigsRequest, Message, Metadata, Operation, SendMessageConfiguration,
    SendMessageRequest, SubscribeToTaskRequest, TaskPushNotificationConfig,
};

/// How the webhook authenticates the server (0.3: a list of schemes).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushAuthentication {
    /// Schemes (`Bearer`); the first is used.
    #[serde(default)]
    pub schemes: Vec<String>,
    /// Credentials; never returned on reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
}

/// A 0.3 `PushNotificationConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushNotificationConfig {
    /// Its id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The webhook.
    #[serde(default)]
    pub url: String,
    /// A token for the receiver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// How to authenticate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<PushAuthentication>,
}

/// A 0.3 `TaskPushNotificationConfig`: the task and its config.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskPushNotificationConfig03 {
    /// The task.
    #[serde(default)]
    pub task_id: String,
    /// The config.
    #[serde(default)]
    pub push_notification_config: PushNotificationConfig,
}

/// `MessageSendConfiguration`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageSendConfiguration {
    /// Media types the client accepts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted_output_modes: Vec<String>,
    /// Wait for a terminal or interrupted state (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocking: Option<bool>,
    /// At most this many history messages; 0 means no limit in 0.3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_length: Option<i32>,
    /// A webhook for the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_notification_config: Option<PushNotificationConfig>,
}

/// `MessageSendParams` (`message/send`, `message/stream`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageSendParams {
    /// The message; required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<v03::Message>,
    /// Options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<MessageSendConfiguration>,
    /// Request metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// `TaskQueryParams` (`tasks/get`) and `TaskIdParams` (cancel, resubscribe, push list).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskQueryParams {
    /// The task; required.
    #[serde(default)]
    pub id: String,
    /// At most this many history messages (`tasks/get` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_length: Option<i32>,
    /// Request metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// Params of the push config get and delete.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushConfigParams {
    /// The task; required.
    #[serde(default)]
    pub id: String,
    /// The config (the task's one config when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_notification_config_id: Option<String>,
    /// Request metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// 0.3 `historyLength`: 0 (and nothing) means no limit.
fn history_limit(length: Option<i32>) -> Option<i32> {
    length.filter(|n| *n != 0)
}

fn invalid(field: &str, error: ConversionError) -> A2aError {
    A2aError::invalid_params(vec![FieldViolation::new(field, error.0)])
}

impl PushNotificationConfig {
    /// The 1.0 config of `task_id`; without an id it is the task's one config.
    pub fn into_current(self, task_id: &str) -> TaskPushNotificationConfig {
        let id = self.id.filter(|id| !id.trim().is_empty()).unwrap_or_else(|| task_id.to_owned());
        TaskPushNotificationConfig {
            tenant: None,
            id,
            task_id: task_id.to_owned(),
            url: self.url,
            token: self.token,
            authentication: self.authentication.map(|auth| AuthenticationInfo {
                scheme: auth.schemes.into_iter().next().unwrap_or_default(),
                credentials: auth.credentials,
            }),
        }
    }
}

impl From<&TaskPushNotificationConfig> for TaskPushNotificationConfig03 {
    fn from(config: &TaskPushNotificationConfig) -> Self {
        Self {
            task_id: config.task_id.clone(),
            push_notification_config: PushNotificationConfig {
                id: Some(config.id.clone()).filter(|id| !id.is_empty()),
                url: config.url.clone(),
                token: config.token.clone(),
                authentication: config.authentication.as_ref().map(|auth| PushAuthentication {
                    schemes: vec![auth.scheme.clone()].into_iter().filter(|s| !s.is_empty()).collect(),
                    credentials: auth.credentials.clone(),
                }),
            },
        }
    }
}

impl MessageSendParams {
    /// The 1.0 `SendMessageRequest`.
    pub fn into_current(self) -> Result<SendMessageRequest, A2aError> {
        let message = self.message.map(Message::try_from).transpose().map_err(|e| invalid("message.parts", e))?;
        let task_id = message.as_ref().and_then(|m| m.task_id.clone()).unwrap_or_default();
        let configuration = self.configuration.map(|config| SendMessageConfiguration {
            accepted_output_modes: config.accepted_output_modes,
            task_push_notification_config: config.push_notification_config.map(|push| push.into_current(&task_id)),
            history_length: history_limit(config.history_length),
            return_immediately: config.blocking == Some(false),
        });
        Ok(SendMessageRequest { tenant: None, message, configuration, metadata: self.metadata })
    }

    /// The 0.3 params of a 1.0 request (what our client sends a 0.3 agent).
    /// `blocking` is always written: the 0.3 REST binding reads a missing one as `false`.
    pub fn from_current(request: &SendMessageRequest) -> Self {
        let config = request.configuration.clone().unwrap_or_default();
        Self {
            message: request.message.as_ref().map(v03::Message::from),
            configuration: Some(MessageSendConfiguration {
                accepted_output_modes: config.accepted_output_modes,
                blocking: Some(!config.return_immediately),
                history_length: config.history_length,
                push_notification_config: config
                    .task_push_notification_config
                    .as_ref()
                    .map(|push| TaskPushNotificationConfig03::from(push).push_notification_config),
            }),
            metadata: request.metadata.clone(),
        }
    }
}

impl Method {
    /// Types the params of a 0.3 method into its 1.0 operation.
    pub fn operation(self, raw: Value) -> Result<Operation, A2aError> {
        Ok(match self {
            Self::MessageSend => Operation::SendMessage(params::<MessageSendParams>(raw)?.into_current()?),
            Self::MessageStream => Operation::SendStreamingMessage(params::<MessageSendParams>(raw)?.into_current()?),
            Self::TasksGet => {
                let query: TaskQueryParams = params(raw)?;
                Operation::GetTask(GetTaskRequest {
                    tenant: None,
                    id: query.id,
                    history_length: history_limit(query.history_length),
                })
            }
            Self::TasksCancel => {
                let query: TaskQueryParams = params(raw)?;
                Operation::CancelTask(CancelTaskRequest { tenant: None, id: query.id, metadata: query.metadata })
            }
            Self::TasksResubscribe => {
                let query: TaskQueryParams = params(raw)?;
                Operation::SubscribeToTask(SubscribeToTaskRequest { tenant: None, id: query.id })
            }
            Self::PushConfigSet => {
                let config: TaskPushNotificationConfig03 = params(raw)?;
                Operation::CreatePushConfig(config.push_notification_config.into_current(&config.task_id))
            }
            Self::PushConfigGet => Operation::GetPushConfig(one_config(params(raw)?)),
            Self::PushConfigList => {
                let query: TaskQueryParams = params(raw)?;
                Operation::ListPushConfigs(ListTaskPushNotificationConfigsRequest {
                    task_id: query.id,
                    ..Default::default()
                })
            }
            Self::PushConfigDelete => Operation::DeletePushConfig(one_config(params(raw)?)),
            Self::GetAuthenticatedExtendedCard => Operation::GetExtendedAgentCard,
        })
    }
}

fn one_config(query: PushConfigParams) -> GetTaskPushNotificationConfigRequest {
    let id = query.push_notification_config_id.filter(|id| !id.trim().is_empty()).unwrap_or_else(|| query.id.clone());
    GetTaskPushNotificationConfigRequest { tenant: None, task_id: query.id, id }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{Role, TaskState};

    #[test]
    fn a_0_3_send_becomes_the_1_0_request_with_0_3_meaning_kept() -> Result<(), A2aError> {
        let raw = json!({"message": {"kind": "message", "messageId": "m1", "role": "user", "taskId": "t1",
                "parts": [{"kind": "text", "text": "hi"}, {"kind": "data", "data": {"a": 1}}]},
            "configuration": {"blocking": false, "historyLength": 0, "acceptedOutputModes": ["text/plain"],
                "pushNotificationConfig": {"url": "https://hook", "token": "tok",
                    "authentication": {"schemes": ["Bearer"], "credentials": "secret"}}}});
        let Operation::SendMessage(request) = Method::MessageSend.operation(raw)? else { panic!("not a send") };
        let message = request.message.clone().unwrap_or_default();
        assert_eq!((message.role, message.first_text(), message.parts.len()), (Role::User, Some("hi"), 2));
        assert!(request.return_immediately(), "blocking: false");
        assert_eq!(request.history_length(), None, "0 is no limit in 0.3");
        let push = request.configuration.and_then(|c| c.task_push_notification_config).unwrap_or_default();
        assert_eq!((push.id.as_str(), push.task_id.as_str(), push.url.as_str()), ("t1", "t1", "https://hook"));
        assert_eq!(
            push.authentication.map(|a| (a.scheme, a.credentials)),
            Some(("Bearer".into(), Some("secret".into())))
        );
        Ok(())
    }

    #[test]
    fn every_0_3_method_types_its_params() -> Result<(), A2aError> {
        let get = Method::TasksGet.operation(json!({"id": "t1", "historyLength": 2}))?;
        assert_eq!(get, Operation::GetTask(GetTaskRequest { tenant: None, id: "t1".into(), history_length: Some(2) }));
        assert!(
            matches!(Method::TasksCancel.operation(json!({"id": "t1"}))?, Operation::CancelTask(r) if r.id == "t1")
        );
        assert!(
            matches!(Method::TasksResubscribe.operation(json!({"id": "t1"}))?, Operation::SubscribeToTask(r) if r.id == "t1")
        );
        let set = Method::PushConfigSet
            .operation(json!({"taskId": "t1", "pushNotificationConfig": {"id": "p1", "url": "https://h"}}))?;
        assert!(matches!(set, Operation::CreatePushConfig(c) if (c.id.as_str(), c.task_id.as_str()) == ("p1", "t1")));
        let get_one = Method::PushConfigGet.operation(json!({"id": "t1"}))?;
        assert_eq!(
            get_one,
            Operation::GetPushConfig(GetTaskPushNotificationConfigRequest {
                tenant: None,
                task_id: "t1".into(),
                id: "t1".into()
            })
        );
        let delete = Method::PushConfigDelete.operation(json!({"id": "t1", "pushNotificationConfigId": "p1"}))?;
        assert!(matches!(delete, Operation::DeletePushConfig(r) if r.id == "p1"));
        assert!(
            matches!(Method::PushConfigList.operation(json!({"id": "t1"}))?, Operation::ListPushConfigs(r) if r.task_id == "t1")
        );
        assert_eq!(Method::GetAuthenticatedExtendedCard.operation(json!({}))?, Operation::GetExtendedAgentCard);
        let bad = Method::MessageSend.operation(json!({"message": {"parts": [{"kind": "file", "file": {}}]}}));
        assert_eq!(bad.map_err(|e| e.code()).err(), Some(-32602));
        Ok(())
    }

    #[test]
    fn a_1_0_send_goes_out_in_0_3_form() -> Result<(), serde_json::Error> {
        let mut request = SendMessageRequest::new(Message::user_text("m1", "hello"));
        request.configuration = Some(SendMessageConfiguration { return_immediately: true, ..Default::default() });
        let wire = serde_json::to_value(MessageSendParams::from_current(&request))?;
        assert_eq!(
            wire["message"],
            json!({"kind": "message", "messageId": "m1", "role": "user", "parts": [{"kind": "text", "text": "hello"}]})
        );
        assert_eq!(wire["configuration"]["blocking"], json!(false));
        let config = TaskPushNotificationConfig {
            id: "p".into(),
            task_id: "t".into(),
            url: "https://h".into(),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(TaskPushNotificationConfig03::from(&config))?,
            json!({"taskId": "t", "pushNotificationConfig": {"id": "p", "url": "https://h"}})
        );
        assert_eq!(TaskState::from(v03::TaskState::Canceled), TaskState::Canceled);
        Ok(())
    }
}
