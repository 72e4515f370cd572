//! Single sign-on: identities of accounts at OpenID Connect providers, and the
//! sign-ins in flight towards a provider (so a callback may land on any node).

use agentdeck_domain::records::{Identity, PendingOidcLogin};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::StoreError;

/// Most identities one account may have (and one list returns).
pub const MAX_IDENTITIES_PER_ACCOUNT: usize = 20;

/// What [`IdentityStore::delete_identity`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityDeletion {
    /// The identity is gone.
    Deleted,
    /// Refused: it is the account's last way to sign in (no password, no other identity).
    LastWayIn,
}

/// Identities, unique by (issuer, subject), and pending OpenID Connect logins.
#[async_trait]
pub trait IdentityStore: Send + Sync + 'static {
    /// Links an identity to its account; an (issuer, subject) linked already is
    /// [`StoreError::Duplicate`] at `/subject`, an account that does not exist
    /// [`StoreError::Conflict`], one holding [`MAX_IDENTITIES_PER_ACCOUNT`]
    /// already [`StoreError::Duplicate`] at `/accountId`.
    async fn insert_identity(&self, identity: &Identity) -> Result<(), StoreError>;

    /// The identity with this issuer and subject (compared exactly).
    async fn find_identity(&self, issuer: &str, subject: &str) -> Result<Option<Identity>, StoreError>;

    /// The account's identities, oldest first (at most [`MAX_IDENTITIES_PER_ACCOUNT`]).
    async fn list_identities(&self, account_id: Uuid) -> Result<Vec<Identity>, StoreError>;

    /// Records a sign-in with the identity.
    async fn mark_identity_used(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Unlinks one of the account's identities, unless the account would be left
    /// without a password and without another identity. An id that is not the
    /// account's is [`StoreError::NotFound`]. Two concurrent unlinks cannot
    /// together remove the last way in.
    async fn delete_identity(&self, account_id: Uuid, id: Uuid) -> Result<IdentityDeletion, StoreError>;

    /// Stores a pending login; expired ones are purged on the way.
    async fn insert_oidc_login(&self, login: &PendingOidcLogin) -> Result<(), StoreError>;

    /// Takes (reads and deletes) the pending login with this state digest; an
    /// expired one is deleted and reads as `None`, so is a second take.
    async fn take_oidc_login(
        &self,
        state_digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PendingOidcLogin>, StoreError>;
}
