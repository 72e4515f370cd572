use uuid::Uuid;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist in this workspace.
    #[error("record not found")]
    NotFound,
    /// The record changed since it was read (its revision moved on), or a record
    /// it refers to was deleted meanwhile; read again and retry.
    #[error("record was changed concurrently")]
    Conflict,
    /// A value that must be unique in the workspace is already taken.
    #[error("{path} is already taken")]
    Duplicate {
        /// JSON Pointer of the input field, e.g. `/userId`.
        path: String,
    },
    /// A referenced record does not exist in this workspace.
    #[error("{path} refers to {id}, which does not exist in this workspace")]
    UnknownReference {
        /// JSON Pointer of the input field, e.g. `/blockedBy/2`.
        path: String,
        /// The id that was not found.
        id: Uuid,
    },
    /// The blocked-by links would form a cycle; the cycle is given as task ids.
    #[error("blocked-by links would form a cycle")]
    DependencyCycle {
        /// The cycle, starting and ending at the task being written.
        cycle: Vec<Uuid>,
    },
    /// A text holds a character the store refuses on every backend (NUL, which
    /// PostgreSQL cannot hold, or another C0 control but tab and line breaks).
    #[error("{path} must not contain control characters")]
    InvalidText {
        /// JSON Pointer of the input field, e.g. `/name`; empty when the database itself refused it.
        path: String,
    },
    /// The database cannot be reached right now.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// Applying migrations failed.
    #[error("database migration failed")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be read back (a bug or a corrupted row).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// The URL names no supported database.
    #[error("unsupported database url (expected sqlite:… or postgres://…): {0}")]
    UnsupportedUrl(String),
    /// Any other database failure.
    #[error("database error")]
    Database(#[source] sqlx::Error),
}
