//! Sorting database failures into the store's errors.
//!
//! Callers react differently to "try again later" (the database is down, busy or
//! out of connections: [`StoreError::Unavailable`]) and to anything else, so the
//! transient cases are recognized here for both backends.

use sqlx::error::{DatabaseError, ErrorKind};
use sqlx::postgres::PgDatabaseError;
use sqlx::sqlite::SqliteError;

use crate::StoreError;

/// SQLite primary result codes that mean "not now" rather than "never" (the
/// state store's own connection sorts its errors by them too).
pub(crate) const SQLITE_TRANSIENT: [i32; 5] = [
    5,  // SQLITE_BUSY: another writer held the lock past the busy timeout
    6,  // SQLITE_LOCKED
    10, // SQLITE_IOERR
    13, // SQLITE_FULL
    14, // SQLITE_CANTOPEN
];

/// Maps a sqlx error to [`StoreError::Unavailable`] when it is transient, to
/// [`StoreError::Conflict`] when a record the write refers to vanished between the
/// store's checks and the write (a concurrent delete), else to [`StoreError::Database`].
pub(crate) fn db_error(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(database) = &error
        && database.kind() == ErrorKind::ForeignKeyViolation
    {
        return StoreError::Conflict;
    }
    if is_unstorable_text(&error) {
        // A text the guards of `text.rs` did not check (they name the field; this cannot).
        return StoreError::InvalidText { path: String::new() };
    }
    if is_transient(&error) { StoreError::Unavailable(error) } else { StoreError::Database(error) }
}

/// Like [`db_error`], but a unique violation becomes [`StoreError::Duplicate`] at
/// `path` (the one unique field the write can violate).
pub(crate) fn db_error_unique(error: sqlx::Error, path: &str) -> StoreError {
    match &error {
        sqlx::Error::Database(database) if database.kind() == ErrorKind::UniqueViolation => {
            StoreError::Duplicate { path: path.to_owned() }
        }
        _ => db_error(error),
    }
}

/// Tells whether PostgreSQL refused a text it cannot hold: 22021
/// (`character_not_in_repertoire`, a NUL byte) or 22P05 (`untranslatable_character`).
fn is_unstorable_text(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(database) = error else { return false };
    database.try_downcast_ref::<PgDatabaseError>().is_some_and(|postgres| matches!(postgres.code(), "22021" | "22P05"))
}

/// Tells whether retrying later may succeed.
fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(database) => is_transient_database(database.as_ref()),
        _ => false,
    }
}

/// Tells whether a server-reported error is transient, by backend-specific code.
fn is_transient_database(error: &dyn DatabaseError) -> bool {
    if let Some(postgres) = error.try_downcast_ref::<PgDatabaseError>() {
        let code = postgres.code();
        // 08: connection exception; 53: insufficient resources (e.g. too many
        // connections); 57P01–57P03: the server is shutting down or starting up.
        return code.starts_with("08") || code.starts_with("53") || code.starts_with("57P0");
    }
    if error.try_downcast_ref::<SqliteError>().is_some() {
        // Extended result codes carry the primary code in their low byte.
        let primary = error.code().and_then(|code| code.parse::<i32>().ok()).map(|code| code & 0xff);
        return primary.is_some_and(|code| SQLITE_TRANSIENT.contains(&code));
    }
    false
}
