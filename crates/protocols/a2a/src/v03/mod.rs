//! A2A 0.3, the legacy version many deployed agents and clients still speak,
//! served beside 1.0 on the same endpoints (a2a.md §3).
//!
//! The task service speaks 1.0 only; 0.3 lives at the edges. A 0.3 request
//! is read into the same [`Operation`](crate::Operation) a 1.0 request
//! becomes, and its answer is written back in 0.3 form:
//!
//! - [`Method`]: the slash method names (`message/send`, `tasks/resubscribe`,
//!   `tasks/pushNotificationConfig/set`, …) and their 1.0 counterparts.
//! - [`model`]: the JSON-RPC wire form — `kind`-tagged objects, lowercase
//!   enums, `final` on status updates.
//! - [`convert`]: 1.0 ⇄ 0.3, lossless for what both can say.
//! - [`requests`]: 0.3 params into 1.0 operations (keeping 0.3 meaning:
//!   `blocking`, `historyLength: 0`, one push config per task).
//! - [`rest`]: the HTTP+JSON binding of 0.3, which is not the JSON-RPC form
//!   but the ProtoJSON of the 0.3 `a2a.v1` proto (`content` for parts,
//!   `TASK_STATE_CANCELLED`, resource names such as `tasks/{id}`).
//! - [`card`]: the 0.3 card fields, merged into a 1.0 card to make the dual
//!   card both kinds of client read.
//!
//! Our client uses the same pieces the other way round when the card of a
//! peer says 0.3.

pub mod card;
pub mod convert;
pub mod model;
pub mod requests;
pub mod rest;

pub use convert::ConversionError;

use crate::jsonrpc::Method as CurrentMethod;

/// The A2A 0.3 JSON-RPC methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `message/send`.
    MessageSend,
    /// `message/stream`.
    MessageStream,
    /// `tasks/get`.
    TasksGet,
    /// `tasks/cancel`.
    TasksCancel,
    /// `tasks/resubscribe`.
    TasksResubscribe,
    /// `tasks/pushNotificationConfig/set`.
    PushConfigSet,
    /// `tasks/pushNotificationConfig/get`.
    PushConfigGet,
    /// `tasks/pushNotificationConfig/list`.
    PushConfigList,
    /// `tasks/pushNotificationConfig/delete`.
    PushConfigDelete,
    /// `agent/getAuthenticatedExtendedCard`.
    GetAuthenticatedExtendedCard,
}

impl Method {
    /// Every 0.3 method.
    pub const ALL: [Method; 10] = [
        Self::MessageSend,
        Self::MessageStream,
        Self::TasksGet,
        Self::TasksCancel,
        Self::TasksResubscribe,
        Self::PushConfigSet,
        Self::PushConfigGet,
        Self::PushConfigList,
        Self::PushConfigDelete,
        Self::GetAuthenticatedExtendedCard,
    ];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Self::MessageSend => "message/send",
            Self::MessageStream => "message/stream",
            Self::TasksGet => "tasks/get",
            Self::TasksCancel => "tasks/cancel",
            Self::TasksResubscribe => "tasks/resubscribe",
            Self::PushConfigSet => "tasks/pushNotificationConfig/set",
            Self::PushConfigGet => "tasks/pushNotificationConfig/get",
            Self::PushConfigList => "tasks/pushNotificationConfig/list",
            Self::PushConfigDelete => "tasks/pushNotificationConfig/delete",
            Self::GetAuthenticatedExtendedCard => "agent/getAuthenticatedExtendedCard",
        }
    }

    /// Looks a 0.3 method up by its wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|method| method.name() == name)
    }

    /// The 1.0 method that does the same.
    pub fn current(self) -> CurrentMethod {
        match self {
            Self::MessageSend => CurrentMethod::SendMessage,
            Self::MessageStream => CurrentMethod::SendStreamingMessage,
            Self::TasksGet => CurrentMethod::GetTask,
            Self::TasksCancel => CurrentMethod::CancelTask,
            Self::TasksResubscribe => CurrentMethod::SubscribeToTask,
            Self::PushConfigSet => CurrentMethod::CreateTaskPushNotificationConfig,
            Self::PushConfigGet => CurrentMethod::GetTaskPushNotificationConfig,
            Self::PushConfigList => CurrentMethod::ListTaskPushNotificationConfigs,
            Self::PushConfigDelete => CurrentMethod::DeleteTaskPushNotificationConfig,
            Self::GetAuthenticatedExtendedCard => CurrentMethod::GetExtendedAgentCard,
        }
    }

    /// The 0.3 method of a 1.0 one; `None` for `ListTasks`, which 0.3 lacks.
    pub fn of(method: CurrentMethod) -> Option<Self> {
        Self::ALL.into_iter().find(|legacy| legacy.current() == method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_0_3_method_has_one_1_0_counterpart_and_back() {
        for method in Method::ALL {
            assert_eq!(Method::from_name(method.name()), Some(method));
            assert_eq!(Method::of(method.current()), Some(method));
        }
        assert_eq!(Method::of(CurrentMethod::ListTasks), None);
        assert_eq!(Method::from_name("SendMessage"), None);
    }
}
