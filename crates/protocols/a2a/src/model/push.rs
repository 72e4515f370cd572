//! Push notification configuration (`lf.a2a.v1.TaskPushNotificationConfig`).

use serde::{Deserialize, Serialize};

/// How the server authenticates to the webhook (`lf.a2a.v1.AuthenticationInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationInfo {
    /// The HTTP auth scheme (`Bearer`).
    #[serde(default)]
    pub scheme: String,
    /// The credentials; never returned on reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
}

/// Where to POST a task's events.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskPushNotificationConfig {
    /// Optional tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The config's id (server-assigned when absent).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// The task it belongs to.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[serde(alias = "task_id")]
    pub task_id: String,
    /// The webhook URL; required.
    #[serde(default)]
    pub url: String,
    /// A token the receiver can check; never returned on reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// How to authenticate to the webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<AuthenticationInfo>,
}

impl TaskPushNotificationConfig {
    /// The config as reads return it: the token and credentials left out.
    pub fn redacted(&self) -> Self {
        let authentication = self
            .authentication
            .as_ref()
            .map(|auth| AuthenticationInfo { scheme: auth.scheme.clone(), credentials: None });
        Self { token: None, authentication, ..self.clone() }
    }
}
