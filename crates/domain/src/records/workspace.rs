use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

/// A tenant: every other record belongs to exactly one workspace.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    /// Workspace id.
    pub id: Uuid,
    /// Name shown to people.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}
