use agentdeck_domain::validation::{CONTROL_CHARACTER_MESSAGE, FieldError, ValidationErrors};
use agentdeck_storage::StoreError;
use uuid::Uuid;

/// Why a project-data operation failed, in terms the edge maps to HTTP.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No such record in the caller's workspace (404, also for other workspaces' ids).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The input breaks a rule (422 with field paths).
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// The caller's role may not do this (403).
    #[error("{0}")]
    Forbidden(&'static str),
    /// A unique value is taken (409).
    #[error("{path} is already taken")]
    Duplicate {
        /// JSON Pointer of the input field.
        path: String,
    },
    /// The record kept changing under us; the client may retry (409).
    #[error("the record was changed concurrently; read it again and retry")]
    Conflict,
    /// The database cannot be reached (503).
    #[error("storage unavailable")]
    Unavailable(#[source] StoreError),
    /// Anything else the store reported (500).
    #[error("storage failure")]
    Store(#[source] StoreError),
}

impl ServiceError {
    /// Translates a store error for a record of `kind` ("project", "task", "member").
    pub(crate) fn from_store(kind: &'static str, error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ServiceError::NotFound(kind),
            StoreError::Conflict => ServiceError::Conflict,
            StoreError::Duplicate { path } => ServiceError::Duplicate { path },
            StoreError::UnknownReference { path, id } => {
                ServiceError::Invalid(ValidationErrors(vec![FieldError::new(
                    path,
                    format!("refers to {id}, which does not exist in this workspace"),
                )]))
            }
            StoreError::DependencyCycle { cycle } => ServiceError::Invalid(ValidationErrors(vec![FieldError::new(
                "/blockedBy",
                format!("would form a cycle: {}", describe_cycle(&cycle)),
            )])),
            StoreError::InvalidText { path } => {
                ServiceError::Invalid(ValidationErrors(vec![FieldError::new(path, CONTROL_CHARACTER_MESSAGE)]))
            }
            StoreError::Unavailable(_) => ServiceError::Unavailable(error),
            other => ServiceError::Store(other),
        }
    }
}

fn describe_cycle(cycle: &[Uuid]) -> String {
    cycle.iter().map(Uuid::to_string).collect::<Vec<_>>().join(" → ")
}
