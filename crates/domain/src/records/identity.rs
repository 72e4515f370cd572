//! Sign-in identities of accounts at OpenID Connect providers, and the logins
//! in flight towards one.
//!
//! An identity is the pair (issuer, subject) an ID token names: the provider's
//! own, stable id of the person (`sub`), scoped by the provider (`iss`). It is
//! never an email: an email can change hands or be claimed unverified at a
//! provider, so an account is found by this pair only, and linking by email is
//! an opt-in of the provider's settings, for verified addresses only.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

/// Longest issuer URL or subject stored, in bytes (OpenID Connect caps `sub` at 255 ASCII characters).
pub const MAX_IDENTITY_TEXT_BYTES: usize = 1024;

/// An account's identity at an OpenID Connect provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// Identity id (uuid v7).
    pub id: Uuid,
    /// The account it signs in to.
    pub account_id: Uuid,
    /// The configured provider it came through (`auth.oidc` `id`), for display.
    pub provider: String,
    /// The provider's issuer URL (`iss` of its ID tokens).
    pub issuer: String,
    /// The person's id at the provider (`sub`).
    pub subject: String,
    /// The email the provider gave when the identity was linked, if any (for display only).
    pub email: Option<String>,
    /// When it was linked.
    pub created_at: DateTime<Utc>,
    /// When it was last used to sign in.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A sign-in started at a provider and not finished yet: what the callback
/// needs to check the provider's answer. Found by the digest of its `state`
/// and consumed once.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingOidcLogin {
    /// SHA-256 of the `state` parameter, hex (the clear value only travels through the browser).
    pub state_digest: String,
    /// The configured provider (`auth.oidc` `id`).
    pub provider: String,
    /// The PKCE code verifier (secret until the code is exchanged).
    pub pkce_verifier: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The signed-in account that started the login to link an identity, if it did.
    pub link_account_id: Option<Uuid>,
    /// Where the page goes afterwards (a path of this server).
    pub return_path: String,
    /// When it was started.
    pub created_at: DateTime<Utc>,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

// By hand, so that the verifier and nonce never reach a log line.
impl std::fmt::Debug for PendingOidcLogin {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PendingOidcLogin")
            .field("state_digest", &self.state_digest)
            .field("provider", &self.provider)
            .field("pkce_verifier", &"<redacted>")
            .field("nonce", &"<redacted>")
            .field("link_account_id", &self.link_account_id)
            .field("return_path", &self.return_path)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}
