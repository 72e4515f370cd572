//! Single-use WebSocket tickets.
//!
//! Browsers cannot send an `Authorization` header with `new WebSocket()`, and a
//! token in the URL ends up in proxy logs. So a signed-in page asks for a ticket
//! (`POST /api/ws-ticket`), a random value that stands for its principal for a
//! few seconds and can be redeemed exactly once, and offers it in the
//! `Sec-WebSocket-Protocol` header of the upgrade.
//!
//! In embedded mode tickets live in process memory; in cluster mode in Redis
//! (`SET … NX PX` to issue, `GETDEL` to redeem, both atomic), so a ticket issued
//! by one node is accepted by another and still only once.
//!
//! A ticket stands for more than a principal: it also carries how the caller
//! proved who it is ([`TicketCredential`]: the digest of its session or API
//! token, or a JWT's expiry), so the socket it opens can re-check that the
//! credential still holds and end when it does not (sign-out, revocation).
//!
//! # Stored format
//!
//! The stored JSON is the principal's fields with an optional `credential`
//! beside them. A ticket written before credentials were carried reads back
//! with none, and an older node reads a new ticket as a plain principal
//! (unknown fields are ignored). A ticket lives 30 s, so only tickets issued
//! during a rolling upgrade ever cross versions; such a socket is not
//! re-checked, as before.

mod memory;
mod redis;

use std::time::Duration;

use agentdeck_domain::auth::Principal;
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use self::memory::MemoryTicketStore;
pub use self::redis::RedisTicketStore;

/// How long a ticket is valid unless configured otherwise.
pub const DEFAULT_TICKET_TTL: Duration = Duration::from_secs(30);

/// A ticket just issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// The value to offer as `dash.ticket.<value>` (base64url, 43 characters).
    pub value: String,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// What a ticket stands for: who opens the socket and how they proved it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketGrant {
    /// Who the socket acts as.
    #[serde(flatten)]
    pub principal: Principal,
    /// How the caller authenticated; `None` only for tickets of an older node (see the module doc).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<TicketCredential>,
}

impl TicketGrant {
    /// A grant for `principal` proved by `credential`.
    pub fn new(principal: Principal, credential: TicketCredential) -> Self {
        Self { principal, credential: Some(credential) }
    }
}

/// How a ticket's caller authenticated: enough to re-check it later, never a secret.
///
/// Digests are the hex SHA-256 the records store already keys these
/// credentials by; they cannot be turned back into a cookie or a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TicketCredential {
    /// A session cookie.
    Session {
        /// The session's id.
        session_id: uuid::Uuid,
        /// The digest of the cookie's secret.
        digest: String,
    },
    /// An API token (personal or service).
    ApiToken {
        /// The token's id.
        token_id: uuid::Uuid,
        /// The digest of the token's text.
        digest: String,
    },
    /// A bearer JWT, which holds until it expires.
    Jwt {
        /// The token's `exp`.
        expires_at: DateTime<Utc>,
    },
}

/// Why a ticket could not be issued or redeemed.
#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    /// The backing store cannot be reached; retry later (503).
    #[error("ticket store unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Too many tickets outstanding (memory store bound); retry shortly (503).
    #[error("too many outstanding tickets")]
    Full,
    /// A stored ticket could not be read back.
    #[error("stored ticket is invalid: {0}")]
    Corrupt(String),
}

/// Issues and redeems single-use tickets.
#[async_trait]
pub trait TicketStore: Send + Sync + 'static {
    /// Issues a ticket standing for `grant` for `ttl`.
    async fn issue(&self, grant: &TicketGrant, ttl: Duration) -> Result<Ticket, TicketError>;

    /// Redeems a ticket: its grant the first time within its lifetime, `None`
    /// afterwards, after expiry, or for a value never issued.
    async fn redeem(&self, value: &str) -> Result<Option<TicketGrant>, TicketError>;

    /// Checks that the backing store answers (for `/ready`).
    async fn ping(&self) -> Result<(), TicketError>;

    /// Short name of the backend, for `/ready`.
    fn backend(&self) -> &'static str;
}

/// A fresh ticket value: 256 random bits, base64url without padding.
fn new_ticket_value() -> Result<String, TicketError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|error| TicketError::Unavailable(Box::new(std::io::Error::other(error.to_string()))))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Whether a value has the shape of a ticket (cheap check before any lookup).
fn looks_like_ticket(value: &str) -> bool {
    value.len() == 43 && value.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

fn expiry(ttl: Duration) -> DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::seconds(30))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly on a broken fixture")]

    use agentdeck_domain::auth::Role;
    use uuid::Uuid;

    use super::*;

    fn principal() -> Principal {
        Principal { subject: "ada".into(), workspace_id: Uuid::now_v7(), role: Role::Member }
    }

    #[test]
    fn stored_grants_read_across_versions() {
        let who = principal();
        // A ticket an older node stored: the bare principal.
        let old = serde_json::to_string(&who).unwrap();
        let read: TicketGrant = serde_json::from_str(&old).unwrap();
        assert_eq!(read, TicketGrant { principal: who.clone(), credential: None });

        // A new ticket reads back whole, and an older node reads it as its principal.
        let credential = TicketCredential::Session { session_id: Uuid::now_v7(), digest: "ab".repeat(32) };
        let grant = TicketGrant::new(who.clone(), credential);
        let new = serde_json::to_string(&grant).unwrap();
        assert_eq!(serde_json::from_str::<TicketGrant>(&new).unwrap(), grant);
        assert_eq!(serde_json::from_str::<Principal>(&new).unwrap(), who);
    }
}
