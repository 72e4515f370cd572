//! The version-dispatch layer of the A2A edge: one [`Operation`] runs
//! against the 1.0 task service, and its [`Answer`] is written in the
//! version the caller speaks.
//!
//! The bindings read a request of either version into an `Operation` and
//! hand the `Answer` back to [`encode`] (JSON-RPC results) or
//! [`encode_event`] (stream events); nothing between knows about versions.

use agentdeck_a2a_protocol::v03::requests::TaskPushNotificationConfig03;
use agentdeck_a2a_protocol::version::ProtocolVersion;
use agentdeck_a2a_protocol::{
    A2aError, ListTaskPushNotificationConfigsResponse, ListTasksResponse, Operation, SendMessageResponse,
    StreamResponse, Task, TaskPushNotificationConfig, v03,
};
use agentdeck_services::a2a::{A2aCaller, EventStream};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::{cards, send_idempotency_key, sse};
use crate::state::AppState;

/// What an operation answers, before it is written in a version.
pub(super) enum Answer {
    /// A send's task or direct reply.
    Sent(SendMessageResponse),
    /// A task (get, cancel).
    Task(Task),
    /// A page of tasks (1.0 only).
    Tasks(ListTasksResponse),
    /// One push config.
    PushConfig(TaskPushNotificationConfig),
    /// A task's push configs.
    PushConfigs(ListTaskPushNotificationConfigsResponse),
    /// A push config was deleted.
    Deleted,
    /// The extended card, as JSON in the caller's version.
    Card(Value),
    /// A stream of events.
    Stream(EventStream),
    /// The operation needs a token the caller did not send.
    Unauthenticated,
}

/// Runs one operation for `caller` against `agent`.
pub(super) async fn execute(
    state: &AppState,
    agent: &str,
    caller: &A2aCaller,
    headers: &HeaderMap,
    version: ProtocolVersion,
    operation: Operation,
) -> Result<Answer, A2aError> {
    let service = &state.a2a;
    Ok(match operation {
        Operation::SendMessage(params) => {
            let key = send_idempotency_key(headers)?;
            Answer::Sent(service.send_with_key(agent, caller, params, key.as_deref()).await?)
        }
        Operation::SendStreamingMessage(params) => {
            let key = send_idempotency_key(headers)?;
            Answer::Stream(service.send_streaming_with_key(agent, caller, params, key.as_deref()).await?)
        }
        Operation::GetTask(params) => Answer::Task(service.get_task(agent, caller, params).await?),
        Operation::ListTasks(params) => Answer::Tasks(service.list_tasks(agent, caller, params).await?),
        Operation::CancelTask(params) => Answer::Task(service.cancel_task(agent, caller, params).await?),
        Operation::SubscribeToTask(params) => {
            A2aError::check(params.violations())?;
            let last_event_id = sse::last_event_id(headers)?;
            Answer::Stream(service.subscribe(agent, caller, &params.id, last_event_id).await?)
        }
        Operation::CreatePushConfig(config) => {
            Answer::PushConfig(service.create_push_config(agent, caller, config).await?)
        }
        Operation::GetPushConfig(params) => Answer::PushConfig(service.get_push_config(agent, caller, params).await?),
        Operation::ListPushConfigs(params) => {
            Answer::PushConfigs(service.list_push_configs(agent, caller, params).await?)
        }
        Operation::DeletePushConfig(params) => {
            service.delete_push_config(agent, caller, params).await?;
            Answer::Deleted
        }
        Operation::GetExtendedAgentCard => {
            let executor = service.agent(agent).ok_or_else(|| A2aError::MethodNotFound(agent.to_owned()))?;
            let workspace = caller.principal.as_ref().map(|principal| principal.workspace_id);
            match cards::extended_card_of(state, executor.as_ref(), workspace) {
                Some(card) => Answer::Card(cards::card_json(&card, version)?),
                None => Answer::Unauthenticated,
            }
        }
    })
}

fn to_value(value: &impl serde::Serialize) -> Result<Value, A2aError> {
    serde_json::to_value(value).map_err(|error| A2aError::Internal(format!("cannot serialize the answer: {error}")))
}

/// The JSON-RPC `result` of an answer that is not a stream, in `version`'s form.
pub(super) fn encode(version: ProtocolVersion, answer: &Answer) -> Result<Value, A2aError> {
    match (version, answer) {
        (_, Answer::Stream(_) | Answer::Unauthenticated) => {
            Err(A2aError::Internal("a stream or a refusal has no JSON result".into()))
        }
        (_, Answer::Card(card)) => Ok(card.clone()),
        (ProtocolVersion::V1_0, Answer::Sent(sent)) => to_value(sent),
        (ProtocolVersion::V1_0, Answer::Task(task)) => to_value(task),
        (_, Answer::Tasks(page)) => to_value(page),
        (ProtocolVersion::V1_0, Answer::PushConfig(config)) => to_value(config),
        (ProtocolVersion::V1_0, Answer::PushConfigs(list)) => to_value(list),
        (ProtocolVersion::V1_0, Answer::Deleted) => Ok(json!({})),
        (ProtocolVersion::V0_3, Answer::Sent(SendMessageResponse::Task(task))) => {
            to_value(&v03::model::Task::from(task))
        }
        (ProtocolVersion::V0_3, Answer::Sent(SendMessageResponse::Message(message))) => {
            to_value(&v03::model::Message::from(message))
        }
        (ProtocolVersion::V0_3, Answer::Task(task)) => to_value(&v03::model::Task::from(task)),
        (ProtocolVersion::V0_3, Answer::PushConfig(config)) => to_value(&TaskPushNotificationConfig03::from(config)),
        (ProtocolVersion::V0_3, Answer::PushConfigs(list)) => {
            let configs: Vec<_> = list.configs.iter().map(TaskPushNotificationConfig03::from).collect();
            to_value(&configs)
        }
        (ProtocolVersion::V0_3, Answer::Deleted) => Ok(Value::Null),
    }
}

/// One stream event in `version`'s JSON-RPC form (1.0 oneof, or 0.3 `kind`-tagged object).
pub(super) fn encode_event(version: ProtocolVersion, event: &StreamResponse) -> Value {
    let value = match version {
        ProtocolVersion::V1_0 => serde_json::to_value(event),
        ProtocolVersion::V0_3 => serde_json::to_value(v03::model::Event::from(event)),
    };
    value.unwrap_or(Value::Null)
}

/// One stream event in `version`'s REST form: 1.0 `StreamResponse`, or the 0.3 proto oneof.
pub(super) fn encode_rest_event(version: ProtocolVersion, event: &StreamResponse) -> Value {
    match version {
        ProtocolVersion::V1_0 => encode_event(version, event),
        ProtocolVersion::V0_3 => v03::rest::event_to_proto(encode_event(version, event)),
    }
}
