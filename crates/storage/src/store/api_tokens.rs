//! API tokens of scripts and agents: personal access tokens of an account and
//! service tokens of a workspace. Stored by the SHA-256 digest of their text
//! (the clear text never reaches the store).

use std::time::Duration;

use agentdeck_domain::api_tokens::ApiToken;
use agentdeck_domain::page::{Page, PageRequest};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::StoreError;

/// Whose tokens a list, count or revocation covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenOwner {
    /// The personal tokens of an account (in every workspace).
    Account(Uuid),
    /// The service tokens of a workspace.
    WorkspaceServices(Uuid),
}

/// API tokens, unique by digest.
///
/// Lookups by digest see every token, revoked and expired ones included (the
/// caller decides and can say why); lists and counts leave revoked tokens out.
#[async_trait]
pub trait ApiTokenStore: Send + Sync + 'static {
    /// Stores a new token with the hex SHA-256 `digest` of its text; a digest
    /// already stored is [`StoreError::Duplicate`] at `/digest`, an unknown
    /// workspace or account [`StoreError::Conflict`].
    async fn insert_api_token(&self, token: &ApiToken, digest: &str) -> Result<(), StoreError>;

    /// The token whose text has this digest, if any.
    async fn find_api_token_by_digest(&self, digest: &str) -> Result<Option<ApiToken>, StoreError>;

    /// The owner's tokens that are not revoked (expired ones included), newest first.
    async fn list_api_tokens(&self, owner: TokenOwner, page: PageRequest) -> Result<Page<ApiToken>, StoreError>;

    /// How many of the owner's tokens are usable at `now` (neither revoked nor expired).
    async fn count_usable_api_tokens(&self, owner: TokenOwner, now: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Revokes one of the owner's tokens and returns it; a token of another
    /// owner, an unknown id or one already revoked is [`StoreError::NotFound`].
    async fn revoke_api_token(&self, owner: TokenOwner, id: Uuid, now: DateTime<Utc>) -> Result<ApiToken, StoreError>;

    /// Records a use at `now`, unless one was recorded less than `min_interval`
    /// ago (so a busy script does not write on every request); returns whether
    /// it wrote. Unknown ids write nothing.
    async fn touch_api_token(&self, id: Uuid, now: DateTime<Utc>, min_interval: Duration) -> Result<bool, StoreError>;
}
