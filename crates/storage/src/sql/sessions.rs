//! Signed-in sessions: one row per session, found by the digest of its secret.

use agentdeck_domain::records::{MemberRole, Membership, Session, SessionLookup};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::errors::db_error_unique;
use super::{SqlStore, db_error, rows, text};
use crate::StoreError;
use crate::store::{MAX_MEMBERSHIPS, SessionStore};

/// JSON Pointer of the one field that must be unique among sessions.
const DIGEST_PATH: &str = "/digest";

/// Reads the session columns of a row (`s.*` of [`find`]).
fn session(row: &AnyRow) -> Result<Session, StoreError> {
    Ok(Session {
        id: rows::uuid(row, "id")?,
        digest: rows::get(row, "digest")?,
        account_id: rows::uuid(row, "account_id")?,
        workspace_id: rows::uuid(row, "workspace_id")?,
        created_at: rows::time(row, "created_at")?,
        last_seen_at: rows::time(row, "last_seen_at")?,
        expires_at: rows::time(row, "expires_at")?,
    })
}

/// Inserts a session, deleting the one it replaces in the same transaction.
async fn insert(store: &SqlStore, session: &Session, replaces: Option<&str>) -> Result<(), StoreError> {
    let mut tx = store.begin_write().await?;
    if let Some(digest) = replaces {
        sqlx::query("DELETE FROM sessions WHERE digest = $1").bind(digest).execute(&mut *tx).await.map_err(db_error)?;
    }
    sqlx::query(
        "INSERT INTO sessions (id, digest, account_id, workspace_id, created_at, last_seen_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(session.id.to_string())
    .bind(session.digest.as_str())
    .bind(session.account_id.to_string())
    .bind(session.workspace_id.to_string())
    .bind(rows::millis(session.created_at))
    .bind(rows::millis(session.last_seen_at))
    .bind(rows::millis(session.expires_at))
    .execute(&mut *tx)
    .await
    .map_err(|error| db_error_unique(error, DIGEST_PATH))?;
    tx.commit().await.map_err(db_error)
}

/// The session of a digest with its account's flag and membership role: one
/// query, since every cookie-authenticated request asks it.
async fn find(store: &SqlStore, digest: &str) -> Result<Option<SessionLookup>, StoreError> {
    let row = sqlx::query(
        "SELECT s.id, s.digest, s.account_id, s.workspace_id, s.created_at, s.last_seen_at, s.expires_at, \
         CASE WHEN a.disabled THEN 1 ELSE 0 END AS account_disabled, m.role AS role \
         FROM sessions s JOIN accounts a ON a.id = s.account_id \
         LEFT JOIN members m ON m.workspace_id = s.workspace_id AND m.user_id = s.account_id \
         WHERE s.digest = $1",
    )
    .bind(digest)
    .fetch_optional(&store.pool)
    .await
    .map_err(db_error)?;
    let Some(row) = row else { return Ok(None) };
    let role: Option<String> = rows::get(&row, "role")?;
    let role = match role {
        None => None,
        Some(name) => Some(
            MemberRole::parse(&name)
                .ok_or_else(|| StoreError::Corrupt(format!("column role: unknown value {name:?}")))?,
        ),
    };
    Ok(Some(SessionLookup { session: session(&row)?, account_disabled: rows::flag(&row, "account_disabled")?, role }))
}

/// Runs a write that changes rows and reports how many.
async fn write(
    store: &SqlStore,
    query: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
) -> Result<u64, StoreError> {
    let mut tx = store.begin_write().await?;
    let changed = query.execute(&mut *tx).await.map_err(db_error)?.rows_affected();
    tx.commit().await.map_err(db_error)?;
    Ok(changed)
}

/// The account's memberships, most recently joined first.
async fn memberships(store: &SqlStore, account_id: Uuid) -> Result<Vec<Membership>, StoreError> {
    let rows = sqlx::query(
        "SELECT w.id AS workspace_id, w.name AS workspace_name, \
         CASE WHEN w.disabled THEN 1 ELSE 0 END AS workspace_disabled, m.role AS role, m.created_at AS joined_at \
         FROM members m JOIN workspaces w ON w.id = m.workspace_id \
         WHERE m.user_id = $1 ORDER BY m.created_at DESC, w.id DESC LIMIT $2",
    )
    .bind(account_id.to_string())
    .bind(i64::from(MAX_MEMBERSHIPS))
    .fetch_all(&store.pool)
    .await
    .map_err(db_error)?;
    rows.iter()
        .map(|row| {
            Ok(Membership {
                workspace_id: rows::uuid(row, "workspace_id")?,
                workspace_name: rows::get(row, "workspace_name")?,
                workspace_disabled: rows::flag(row, "workspace_disabled")?,
                role: rows::wire_name(row, "role", MemberRole::parse)?,
                joined_at: rows::time(row, "joined_at")?,
            })
        })
        .collect()
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn insert_session(&self, session: &Session, replaces: Option<&str>) -> Result<(), StoreError> {
        text::storable(DIGEST_PATH, &session.digest)?;
        if let Some(digest) = replaces {
            text::storable(DIGEST_PATH, digest)?;
        }
        insert(self, session, replaces).await
    }

    async fn find_session(&self, digest: &str) -> Result<Option<SessionLookup>, StoreError> {
        text::storable(DIGEST_PATH, digest)?;
        find(self, digest).await
    }

    async fn touch_session(&self, id: Uuid, now: DateTime<Utc>, not_before: DateTime<Utc>) -> Result<bool, StoreError> {
        let query = sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $3")
            .bind(id.to_string())
            .bind(rows::millis(now))
            .bind(rows::millis(not_before));
        Ok(write(self, query).await? > 0)
    }

    async fn delete_session(&self, id: Uuid) -> Result<bool, StoreError> {
        let query = sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id.to_string());
        Ok(write(self, query).await? > 0)
    }

    async fn delete_account_sessions(&self, account_id: Uuid) -> Result<u64, StoreError> {
        write(self, sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(account_id.to_string())).await
    }

    async fn purge_sessions(&self, now: DateTime<Utc>, idle_before: DateTime<Utc>) -> Result<u64, StoreError> {
        let query = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2")
            .bind(rows::millis(now))
            .bind(rows::millis(idle_before));
        write(self, query).await
    }

    async fn list_memberships(&self, account_id: Uuid) -> Result<Vec<Membership>, StoreError> {
        memberships(self, account_id).await
    }
}
