//! `/a2a/{agent}/rest/v1/…`: the HTTP+JSON binding of A2A 0.3, as the
//! reference SDK 0.3 serves it (a2a.md §3), for requests without an
//! `A2A-Version` header (or with `0.3`).
//!
//! Paths: `POST v1/message:send`, `POST v1/message:stream`,
//! `GET v1/tasks/{id}`, `POST v1/tasks/{id}:cancel`,
//! `GET|POST v1/tasks/{id}:subscribe`,
//! `POST|GET v1/tasks/{id}/pushNotificationConfigs`,
//! `GET|DELETE v1/tasks/{id}/pushNotificationConfigs/{configId}` and
//! `GET v1/card` (the extended card). Bodies are the ProtoJSON of the 0.3
//! proto ([`v03::rest`]); each request becomes the same [`Operation`] a 1.0
//! request would, and errors are the 1.0 binding's `google.rpc.Status`
//! answers.

use agentdeck_a2a_protocol::v03::requests::{MessageSendParams, TaskPushNotificationConfig03};
use agentdeck_a2a_protocol::version::ProtocolVersion;
use agentdeck_a2a_protocol::{
    A2aError, CancelTaskRequest, GetTaskPushNotificationConfigRequest, GetTaskRequest,
    ListTaskPushNotificationConfigsRequest, Operation, SubscribeToTaskRequest, v03,
};
use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};

use super::dispatch::{self, Answer};
use super::jsonrpc::unauthenticated;
use super::rest::{RestCall, query_int};
use super::sse;

impl RestCall<'_> {
    /// Serves one 0.3 request.
    pub(super) async fn route_0_3(&self) -> Result<Response, A2aError> {
        let operation = self.operation_0_3()?;
        let answer =
            dispatch::execute(self.state, self.agent, self.caller, self.headers, ProtocolVersion::V0_3, operation)
                .await?;
        Ok(match answer {
            Answer::Stream(stream) => sse::rest_stream(self.state, ProtocolVersion::V0_3, stream),
            Answer::Unauthenticated => unauthenticated(),
            answer => self.success(&encode(&answer)?),
        })
    }

    /// Reads the operation a 0.3 path and body name.
    fn operation_0_3(&self) -> Result<Operation, A2aError> {
        let segments: Vec<&str> = self.path.split('/').filter(|s| !s.is_empty()).collect();
        let Some((&"v1", rest)) = segments.split_first() else {
            return Err(A2aError::MethodNotFound(format!(
                "/{} is an A2A 1.0 route: send `A2A-Version: 1.0`, or use the 0.3 route /v1/{}",
                self.path, self.path
            )));
        };
        let task = |target: &str| {
            target
                .split_once(':')
                .map_or((target.to_owned(), None), |(id, action)| (id.to_owned(), Some(action.to_owned())))
        };
        Ok(match (self.method.clone(), rest) {
            (Method::POST, ["message:send"]) => Operation::SendMessage(self.send_params()?),
            (Method::POST, ["message:stream"]) => Operation::SendStreamingMessage(self.send_params()?),
            (Method::GET, ["card"]) => Operation::GetExtendedAgentCard,
            (method, ["tasks", target]) => match (method, task(target)) {
                (Method::GET, (id, None)) => {
                    // 0.3: a history length of 0 means no limit.
                    let history_length = query_int(self.query, "historyLength")?.filter(|n| *n != 0);
                    Operation::GetTask(GetTaskRequest { tenant: None, id, history_length })
                }
                (Method::POST, (id, Some(action))) if action == "cancel" => {
                    Operation::CancelTask(CancelTaskRequest { tenant: None, id, metadata: None })
                }
                (Method::GET | Method::POST, (id, Some(action))) if action == "subscribe" => {
                    Operation::SubscribeToTask(SubscribeToTaskRequest { tenant: None, id })
                }
                _ => return Err(self.not_found()),
            },
            (Method::POST, ["tasks", task_id, "pushNotificationConfigs"]) => {
                let legacy = v03::rest::push_config_from_proto(self.json_body()?, task_id);
                let config: TaskPushNotificationConfig03 = agentdeck_a2a_protocol::jsonrpc::params(legacy)?;
                Operation::CreatePushConfig(config.push_notification_config.into_current(task_id))
            }
            (Method::GET, ["tasks", task_id, "pushNotificationConfigs"]) => {
                Operation::ListPushConfigs(ListTaskPushNotificationConfigsRequest {
                    task_id: (*task_id).to_owned(),
                    ..Default::default()
                })
            }
            (method @ (Method::GET | Method::DELETE), ["tasks", task_id, "pushNotificationConfigs", config_id]) => {
                let request = GetTaskPushNotificationConfigRequest {
                    tenant: None,
                    task_id: (*task_id).to_owned(),
                    id: (*config_id).to_owned(),
                };
                if method == Method::GET {
                    Operation::GetPushConfig(request)
                } else {
                    Operation::DeletePushConfig(request)
                }
            }
            (Method::GET, ["tasks"]) => {
                return Err(A2aError::MethodNotFound(
                    "listing tasks is an A2A 1.0 operation: send `A2A-Version: 1.0` and GET /tasks".into(),
                ));
            }
            _ => return Err(self.not_found()),
        })
    }

    /// The body of a send, as the 1.0 request.
    fn send_params(&self) -> Result<agentdeck_a2a_protocol::SendMessageRequest, A2aError> {
        let legacy = v03::rest::send_params_from_proto(self.json_body()?);
        agentdeck_a2a_protocol::jsonrpc::params::<MessageSendParams>(legacy)?.into_current()
    }
}

/// An answer in the 0.3 proto form.
fn encode(answer: &Answer) -> Result<Value, A2aError> {
    let legacy = dispatch::encode(ProtocolVersion::V0_3, answer)?;
    Ok(match answer {
        Answer::Sent(_) => v03::rest::event_to_proto(legacy),
        Answer::Task(_) => v03::rest::task_to_proto(legacy),
        Answer::PushConfig(_) => v03::rest::push_config_to_proto(legacy),
        Answer::PushConfigs(_) => {
            let configs: Vec<Value> = match legacy {
                Value::Array(configs) => configs.into_iter().map(v03::rest::push_config_to_proto).collect(),
                _ => Vec::new(),
            };
            json!({"configs": configs, "nextPageToken": ""})
        }
        Answer::Deleted => json!({}),
        Answer::Card(_) | Answer::Tasks(_) | Answer::Stream(_) | Answer::Unauthenticated => legacy,
    })
}
