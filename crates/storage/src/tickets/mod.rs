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

mod memory;
mod redis;

use std::time::Duration;

use agentdeck_domain::auth::Principal;
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};

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
    /// Issues a ticket standing for `principal` for `ttl`.
    async fn issue(&self, principal: &Principal, ttl: Duration) -> Result<Ticket, TicketError>;

    /// Redeems a ticket: the principal the first time within its lifetime, `None`
    /// afterwards, after expiry, or for a value never issued.
    async fn redeem(&self, value: &str) -> Result<Option<Principal>, TicketError>;

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
