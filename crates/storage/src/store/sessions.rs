//! Signed-in sessions of people: found by the digest of the cookie's secret,
//! instance-wide (a session names its account and the workspace it acts in).

use agentdeck_domain::records::{Membership, Session, SessionLookup};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::StoreError;

/// Most memberships [`SessionStore::list_memberships`] returns.
pub const MAX_MEMBERSHIPS: u32 = 200;

/// Sessions, unique by digest.
///
/// Expiry is the caller's business: the store finds a session whatever its
/// times and deletes old ones only when asked ([`SessionStore::purge_sessions`]).
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// Stores `session`, deleting in the same transaction the session whose
    /// digest is `replaces` (the one the request's cookie named: rotation).
    /// A digest already taken is [`StoreError::Duplicate`] at `/digest`.
    async fn insert_session(&self, session: &Session, replaces: Option<&str>) -> Result<(), StoreError>;

    /// The session with this digest, with its account's disabled flag and the
    /// account's role in the session's workspace, in one query.
    async fn find_session(&self, digest: &str) -> Result<Option<SessionLookup>, StoreError>;

    /// Sets `last_seen_at` to `now` unless it is already at or after `not_before`
    /// (so busy sessions write at most once per interval); tells whether it wrote.
    async fn touch_session(&self, id: Uuid, now: DateTime<Utc>, not_before: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Deletes one session; tells whether it existed.
    async fn delete_session(&self, id: Uuid) -> Result<bool, StoreError>;

    /// Deletes every session of the account; returns how many there were.
    async fn delete_account_sessions(&self, account_id: Uuid) -> Result<u64, StoreError>;

    /// Deletes sessions past their absolute timeout (`expires_at <= now`) or idle
    /// since before `idle_before`; returns how many.
    async fn purge_sessions(&self, now: DateTime<Utc>, idle_before: DateTime<Utc>) -> Result<u64, StoreError>;

    /// The workspaces the account is a member of (its member records' `userId`
    /// is the account id), most recently joined first, at most [`MAX_MEMBERSHIPS`].
    async fn list_memberships(&self, account_id: Uuid) -> Result<Vec<Membership>, StoreError>;
}
