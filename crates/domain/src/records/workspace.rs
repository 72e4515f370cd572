use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::MAX_NAME_CHARS;
use crate::validation::{ValidationErrors, Validator};

/// A tenant: every other record belongs to exactly one workspace.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    /// Workspace id.
    pub id: Uuid,
    /// Name shown to people.
    pub name: String,
    /// A disabled workspace is kept but cannot be used (set by an instance admin).
    pub disabled: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl Workspace {
    /// A new, enabled workspace named `name` (trimmed), created at `now`.
    pub fn new(name: &str, now: DateTime<Utc>) -> Self {
        Self { id: Uuid::now_v7(), name: name.trim().to_owned(), disabled: false, created_at: now }
    }

    /// Checks the rules every stored workspace obeys.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut validator = Validator::new();
        validator.text("/name", &self.name, 1, MAX_NAME_CHARS);
        validator.finish()
    }
}
