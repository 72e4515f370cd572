//! Accounts of people: instance-wide, not scoped to a workspace (a person's
//! membership in one is a member record whose `userId` is the account id).

use agentdeck_domain::page::{Page, PageRequest};
use agentdeck_domain::records::Account;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::StoreError;

/// Accounts, unique by their (normalised) email.
///
/// The setters change one field and `updated_at`; an id that does not exist is
/// [`StoreError::NotFound`].
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// Creates an account; an email already taken is [`StoreError::Duplicate`] at `/email`.
    async fn insert_account(&self, account: &Account) -> Result<(), StoreError>;

    /// Reads an account.
    async fn get_account(&self, id: Uuid) -> Result<Option<Account>, StoreError>;

    /// Finds the account with this email, compared exactly: pass it normalised
    /// ([`agentdeck_domain::records::normalize_email`]).
    async fn find_account_by_email(&self, email: &str) -> Result<Option<Account>, StoreError>;

    /// Replaces the password hash (`None`: no password sign-in).
    async fn set_account_password_hash(
        &self,
        id: Uuid,
        password_hash: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Disables or re-enables an account.
    async fn set_account_disabled(&self, id: Uuid, disabled: bool, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Grants or revokes the instance admin flag.
    async fn set_account_instance_admin(&self, id: Uuid, admin: bool, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Lists accounts, newest first.
    async fn list_accounts(&self, page: PageRequest) -> Result<Page<Account>, StoreError>;
}
