//! The auth log: sign-ins, failures, locks, sign-outs and the token,
//! invitation and identity events, instance-wide and newest first.

use agentdeck_domain::page::{Page, PageRequest};
use agentdeck_domain::records::AuthEvent;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::StoreError;

/// The auth log (append-only through this interface).
#[async_trait]
pub trait AuthLogStore: Send + Sync + 'static {
    /// Appends an entry.
    async fn append_auth_event(&self, event: &AuthEvent) -> Result<(), StoreError>;

    /// Lists entries, newest first.
    async fn list_auth_events(&self, page: PageRequest) -> Result<Page<AuthEvent>, StoreError>;

    /// Times of the `sign_in_failed` entries of `email` after `since` and after
    /// the email's latest `sign_in` (a success starts the count over), newest
    /// first, at most `limit`: what the per-account lockout counts.
    async fn recent_sign_in_failures(
        &self,
        email: &str,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DateTime<Utc>>, StoreError>;
}
