//! Invitations: an owner or admin asks a person, by email, to join a workspace
//! with a role.
//!
//! An invitation is a single-use, expiring secret. The clear token goes to the
//! invitee once (by mail or as a link the inviter passes on); the store keeps
//! only its SHA-256 digest, so a leaked database does not hold usable links.
//! An invitation is *pending* until it is accepted, revoked or expires; only a
//! pending one can be accepted, and accepting marks it used in the same
//! transaction that adds the member record.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::MemberRole;

/// An invitation to a workspace.
#[derive(Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    /// Invitation id (uuid v7).
    pub id: Uuid,
    /// The workspace the invitee joins.
    pub workspace_id: Uuid,
    /// The invitee's email, normalised; the account that accepts has this email.
    pub email: String,
    /// The role the invitee gets.
    pub role: MemberRole,
    /// SHA-256 of the token, lowercase hex. Never serialized.
    #[serde(skip)]
    pub token_digest: String,
    /// Subject of whoever invited (an account id, or a token's subject).
    pub invited_by: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// After this it cannot be accepted (a resend moves it).
    pub expires_at: DateTime<Utc>,
    /// When it was accepted.
    pub accepted_at: Option<DateTime<Utc>>,
    /// The account that accepted it.
    pub accepted_by: Option<Uuid>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

// By hand, so that the token's digest never reaches a log line.
impl std::fmt::Debug for Invitation {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Invitation")
            .field("id", &self.id)
            .field("workspace_id", &self.workspace_id)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("token_digest", &"<redacted>")
            .field("invited_by", &self.invited_by)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("accepted_at", &self.accepted_at)
            .field("accepted_by", &self.accepted_by)
            .field("revoked_at", &self.revoked_at)
            .finish()
    }
}

impl Invitation {
    /// Whether it can still be accepted at `now`: not accepted, not revoked, not expired.
    pub fn is_pending(&self, now: DateTime<Utc>) -> bool {
        self.accepted_at.is_none() && self.revoked_at.is_none() && self.expires_at > now
    }
}
