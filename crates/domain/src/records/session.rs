//! Signed-in sessions of people and the auth log that records sign-ins.
//!
//! A session is what the `agentdeck_session` cookie names: the cookie holds a
//! random secret, the store only its SHA-256 digest, so a copy of the database
//! cannot be replayed as cookies. A session belongs to one account and acts in
//! one workspace (switching rotates it); it ends when idle for too long, when
//! its absolute lifetime is over, on sign-out, or at once when its account is
//! disabled. The auth log ([`AuthEvent`]) keeps who signed in, failed, was
//! locked out or signed out, instance-wide.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::MemberRole;

/// Longest user agent an auth-log entry keeps, in characters.
pub const MAX_USER_AGENT_CHARS: usize = 200;
/// Longest `detail` of an auth-log entry, in characters.
pub const MAX_AUTH_DETAIL_CHARS: usize = 200;

/// A signed-in session, as stored (the secret itself never is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Session id (uuid v7); not secret, used to name the session in logs.
    pub id: Uuid,
    /// Hex SHA-256 of the cookie's secret.
    pub digest: String,
    /// Whose session it is.
    pub account_id: Uuid,
    /// The workspace the session acts in.
    pub workspace_id: Uuid,
    /// When it started (a workspace switch keeps the original time).
    pub created_at: DateTime<Utc>,
    /// When a request last used it (kept to within about a minute).
    pub last_seen_at: DateTime<Utc>,
    /// When it ends whatever its use (the absolute timeout).
    pub expires_at: DateTime<Utc>,
}

/// A session found by its digest, with what a request needs to trust it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionLookup {
    /// The session.
    pub session: Session,
    /// Whether its account is disabled (then the session no longer works).
    pub account_disabled: bool,
    /// The account's role in the session's workspace; `None` when no longer a member.
    pub role: Option<MemberRole>,
}

/// One workspace an account is a member of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The workspace id.
    pub workspace_id: Uuid,
    /// Its name.
    pub workspace_name: String,
    /// Whether it is disabled (then it cannot be used).
    pub workspace_disabled: bool,
    /// The account's role there.
    pub role: MemberRole,
    /// When the account joined it (its member record's creation).
    pub joined_at: DateTime<Utc>,
}

/// What an auth-log entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthEventKind {
    /// A session started (password, invitation or single sign-on).
    SignIn,
    /// A sign-in was refused (`detail` says why, never to the client).
    SignInFailed,
    /// Too many failures: sign-ins for the email are refused for a while.
    Locked,
    /// A session ended by sign-out.
    SignOut,
    /// Every session of an account ended ("sign out everywhere").
    SignOutAll,
    /// A session moved to another workspace (and was rotated).
    WorkspaceSwitch,
    /// An API token was created.
    TokenCreated,
    /// An API token was revoked.
    TokenRevoked,
    /// An invitation was created.
    InvitationCreated,
    /// An invitation was accepted.
    InvitationAccepted,
    /// An invitation was revoked.
    InvitationRevoked,
    /// A single sign-on identity was linked to an account.
    IdentityLinked,
    /// A single sign-on identity was unlinked.
    IdentityUnlinked,
}

impl AuthEventKind {
    /// Every kind.
    pub const ALL: [AuthEventKind; 13] = [
        Self::SignIn,
        Self::SignInFailed,
        Self::Locked,
        Self::SignOut,
        Self::SignOutAll,
        Self::WorkspaceSwitch,
        Self::TokenCreated,
        Self::TokenRevoked,
        Self::InvitationCreated,
        Self::InvitationAccepted,
        Self::InvitationRevoked,
        Self::IdentityLinked,
        Self::IdentityUnlinked,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::SignInFailed => "sign_in_failed",
            Self::Locked => "locked",
            Self::SignOut => "sign_out",
            Self::SignOutAll => "sign_out_all",
            Self::WorkspaceSwitch => "workspace_switch",
            Self::TokenCreated => "token_created",
            Self::TokenRevoked => "token_revoked",
            Self::InvitationCreated => "invitation_created",
            Self::InvitationAccepted => "invitation_accepted",
            Self::InvitationRevoked => "invitation_revoked",
            Self::IdentityLinked => "identity_linked",
            Self::IdentityUnlinked => "identity_unlinked",
        }
    }

    /// Parses a stored name; `None` for anything else.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl std::fmt::Display for AuthEventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of the auth log (never holds a secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthEvent {
    /// Entry id (uuid v7).
    pub id: Uuid,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened.
    pub kind: AuthEventKind,
    /// The account concerned, when known.
    pub account_id: Option<Uuid>,
    /// The workspace concerned, when there is one.
    pub workspace_id: Option<Uuid>,
    /// The normalised email, also of a failure for an email without an account.
    pub email: Option<String>,
    /// The client's address.
    pub client_address: Option<String>,
    /// The client's `User-Agent` (at most 200 characters).
    pub user_agent: Option<String>,
    /// Short text: why a sign-in failed, which method signed in (never a secret).
    pub detail: Option<String>,
}

impl AuthEvent {
    /// An entry of `kind` at `at` with a new id and nothing else known yet.
    pub fn new(kind: AuthEventKind, at: DateTime<Utc>) -> Self {
        Self {
            id: Uuid::now_v7(),
            at,
            kind,
            account_id: None,
            workspace_id: None,
            email: None,
            client_address: None,
            user_agent: None,
            detail: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip_and_match_serde() {
        for kind in AuthEventKind::ALL {
            assert_eq!(AuthEventKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).ok(), Some(serde_json::json!(kind.as_str())));
        }
        assert_eq!(AuthEventKind::parse("root"), None);
    }
}
