//! Invitations to a workspace, found by the digest of their token.

use agentdeck_domain::page::{Page, PageRequest};
use agentdeck_domain::records::{Account, ActivityEntry, Invitation, Member};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::StoreError;

/// Invitations, scoped to their workspace except where a token's digest finds one.
///
/// *Pending* means not accepted, not revoked and `expires_at` after the `now`
/// passed in. Writes that need a pending invitation change no row when it is not
/// one, and say so with [`StoreError::NotFound`] — the same answer as an unknown
/// id or digest, on purpose (a used token and a made-up one look alike).
#[async_trait]
pub trait InvitationStore: Send + Sync + 'static {
    /// Stores a new invitation; a digest already stored is [`StoreError::Duplicate`] at `/token`.
    async fn insert_invitation(&self, invitation: &Invitation) -> Result<(), StoreError>;

    /// Reads an invitation of the workspace (in any state).
    async fn get_invitation(&self, workspace_id: Uuid, id: Uuid) -> Result<Option<Invitation>, StoreError>;

    /// Finds the invitation whose token has this digest (in any state; the caller checks it is pending).
    async fn find_invitation_by_digest(&self, token_digest: &str) -> Result<Option<Invitation>, StoreError>;

    /// The workspace's pending invitation for this (normalised) email, if any.
    async fn find_pending_invitation(
        &self,
        workspace_id: Uuid,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Invitation>, StoreError>;

    /// Whether the workspace has a member with this (normalised) email: a member
    /// record with that email (compared lowercased), or one of the account that has it.
    async fn is_member_email(&self, workspace_id: Uuid, email: &str) -> Result<bool, StoreError>;

    /// Lists the workspace's pending invitations, newest first.
    async fn list_pending_invitations(
        &self,
        workspace_id: Uuid,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> Result<Page<Invitation>, StoreError>;

    /// Revokes an invitation not yet accepted nor revoked (an expired one may be revoked too).
    async fn revoke_invitation(&self, workspace_id: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Gives an invitation not yet accepted nor revoked a new token digest and
    /// expiry (a resend): the old token stops working at once.
    async fn renew_invitation(
        &self,
        workspace_id: Uuid,
        id: Uuid,
        token_digest: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Accepts the pending invitation with this digest in `member.workspace_id`,
    /// in one transaction: marks it accepted by `account_id` at `now` (a
    /// conditional update: of two concurrent accepts exactly one succeeds, the
    /// other gets [`StoreError::NotFound`]), stores `new_account` when given, adds
    /// `member` and appends `entry`. All of it or nothing: a member already there
    /// is [`StoreError::Duplicate`] at `/userId`, a taken email at `/email`, and
    /// either leaves the invitation pending. Returns the invitation as accepted.
    async fn accept_invitation(
        &self,
        token_digest: &str,
        now: DateTime<Utc>,
        account_id: Uuid,
        new_account: Option<&Account>,
        member: &Member,
        entry: &ActivityEntry,
    ) -> Result<Invitation, StoreError>;
}
