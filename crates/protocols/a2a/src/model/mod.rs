//! The A2A 1.0 data model in its ProtoJSON form (`lf.a2a.v1`, a2a.md §2.5–§2.7).

mod card;
mod message;
mod part;
mod push;
mod requests;
mod task;

pub use card::{
    AgentCapabilities, AgentCard, AgentExtension, AgentInterface, AgentProvider, AgentSkill, ApiKeySecurityScheme,
    HttpAuthSecurityScheme, MutualTlsSecurityScheme, OpenIdConnectSecurityScheme, PROTOCOL_BINDING_HTTP_JSON,
    PROTOCOL_BINDING_JSONRPC, SecurityRequirement, SecurityScheme, StringList,
};
pub use message::{Message, Role};
pub use part::{Part, PartContent};
pub use push::{AuthenticationInfo, TaskPushNotificationConfig};
pub use requests::{
    CancelTaskRequest, DeleteTaskPushNotificationConfigRequest, GetExtendedAgentCardRequest,
    GetTaskPushNotificationConfigRequest, GetTaskRequest, ListTaskPushNotificationConfigsRequest,
    ListTaskPushNotificationConfigsResponse, ListTasksRequest, ListTasksResponse, SendMessageConfiguration,
    SendMessageRequest, SubscribeToTaskRequest,
};
pub use task::{
    Artifact, SendMessageResponse, StreamResponse, Task, TaskArtifactUpdateEvent, TaskState, TaskStatus,
    TaskStatusUpdateEvent,
};

/// A `google.protobuf.Struct`: a JSON object.
pub type Metadata = serde_json::Map<String, serde_json::Value>;

/// For `skip_serializing_if`: ProtoJSON leaves out `false`.
pub(crate) fn is_false(value: &bool) -> bool {
    !*value
}
