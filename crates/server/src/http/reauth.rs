//! Open sync sockets end when their credential does.
//!
//! A socket is authenticated once, at the upgrade; a socket open for hours
//! would otherwise outlive the session signed out of, the API token revoked,
//! the account disabled or removed from the workspace, the JWT expired. So
//! every socket keeps what its ticket (or bearer header) said about its
//! credential ([`TicketCredential`]) and re-checks it:
//!
//! - **periodically**, every `sync.reauth_interval_secs` at most: one store
//!   read (the session or the token by its digest, with the account's flag and
//!   membership, exactly as a request would be checked). Each wait is drawn at
//!   random between half the interval and the whole of it ([`next_wait`]), so
//!   sockets opened together (a reconnect storm after a restart) do not come
//!   back to the store in lockstep;
//! - **at once**, when this node ends a session, signs an account out
//!   everywhere or revokes a token: the route announces it on an in-process
//!   broadcast ([`CredentialEvents`]) and the sockets it concerns re-check now.
//!   Other nodes have no such push; they find out at their next periodic check;
//! - **at its expiry**, for a JWT (which no store can revoke).
//!
//! Each check also asks whether the socket's workspace is still usable (the
//! node's cache of usable workspaces, as every request does): a disabled
//! workspace ends its sockets too.
//!
//! When the credential no longer holds, the socket sends `goaway` with
//! `close::UNAUTHORIZED` (4001) and `reconnect: false`, and closes with 4001.
//! When the store cannot answer, the socket stays (logged at warn): a store
//! briefly down must not drop every socket of the instance at once.

use std::time::Duration;

use agentdeck_domain::auth::Principal;
use agentdeck_services::accounts::sessions::{self, SessionError, SessionPolicy};
use agentdeck_services::api_tokens::{self, TokenError};
use agentdeck_storage::tickets::TicketCredential;
use chrono::{DateTime, Utc};
use tokio::sync::broadcast;
use tokio::time::Instant;
use uuid::Uuid;

use crate::state::{AppState, WorkspaceRefusal};

/// Events the broadcast holds for a slow socket task before it lags (and then re-checks anyway).
const EVENT_BUFFER: usize = 256;
/// Longest a re-check may wait for the store before it counts as "store unavailable".
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// Shortest re-check interval, so a zero in the configuration cannot spin.
const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// A credential this node just ended (announced after the store write).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EndedCredential {
    /// The session whose secret has this digest ended (sign-out, rotation, workspace switch).
    Session {
        /// The digest of the session's secret.
        digest: String,
    },
    /// An API token was revoked.
    ApiToken {
        /// The token's id.
        token_id: Uuid,
    },
    /// Something about this account changed that may end its credentials (sign out everywhere).
    Account {
        /// The account's id (the subject of its principals).
        account_id: Uuid,
    },
}

/// The in-process broadcast of ended credentials (cheap to clone).
#[derive(Clone)]
pub(crate) struct CredentialEvents {
    sender: broadcast::Sender<EndedCredential>,
}

impl Default for CredentialEvents {
    fn default() -> Self {
        Self { sender: broadcast::Sender::new(EVENT_BUFFER) }
    }
}

impl CredentialEvents {
    /// Tells this node's open sockets that `ended` ended (none listening is fine).
    pub(crate) fn announce(&self, ended: EndedCredential) {
        let _no_socket_open = self.sender.send(ended);
    }

    /// A receiver of every announcement from now on.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<EndedCredential> {
        self.sender.subscribe()
    }
}

/// What a re-check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The credential still holds.
    Holds,
    /// It ended: close the socket with 4001.
    Ended,
    /// The store did not answer; keep the socket and try again next time.
    Unknown,
}

/// How one socket re-checks its credential.
pub(crate) struct CredentialCheck {
    /// The node's state: the stores, and its cache of usable workspaces.
    state: AppState,
    /// The socket's workspace.
    workspace_id: Uuid,
    policy: SessionPolicy,
    credential: TicketCredential,
    /// The principal's subject: an account id for sessions and personal tokens.
    subject: String,
    interval: Duration,
}

impl CredentialCheck {
    /// A check of `credential`, proved by `principal`, every `interval` at most.
    pub(crate) fn new(
        state: AppState,
        policy: SessionPolicy,
        credential: TicketCredential,
        principal: &Principal,
        interval: Duration,
    ) -> Self {
        let interval = interval.max(MIN_INTERVAL);
        let (workspace_id, subject) = (principal.workspace_id, principal.subject.clone());
        Self { state, workspace_id, policy, credential, subject, interval }
    }

    /// When to check next: after a random wait (see the module doc), or at a JWT's expiry if sooner.
    pub(crate) fn next_check(&self, now: Instant) -> Instant {
        let periodic = now + next_wait(self.interval);
        match &self.credential {
            TicketCredential::Jwt { expires_at } => periodic.min(instant_of(*expires_at, now)),
            TicketCredential::Session { .. } | TicketCredential::ApiToken { .. } => periodic,
        }
    }

    /// Whether an announcement may concern this socket (then it re-checks at once).
    pub(crate) fn concerns(&self, ended: &EndedCredential) -> bool {
        match (ended, &self.credential) {
            (EndedCredential::Session { digest }, TicketCredential::Session { digest: mine, .. }) => digest == mine,
            (EndedCredential::ApiToken { token_id }, TicketCredential::ApiToken { token_id: mine, .. }) => {
                token_id == mine
            }
            (EndedCredential::Account { account_id }, _) => self.subject == account_id.to_string(),
            _ => false,
        }
    }

    /// Checks the credential now, within [`CHECK_TIMEOUT`].
    pub(crate) async fn check(&self) -> Verdict {
        match tokio::time::timeout(CHECK_TIMEOUT, self.check_unbounded()).await {
            Ok(verdict) => verdict,
            Err(_) => {
                tracing::warn!(subject = %self.subject, "sync socket re-check timed out; the socket stays");
                Verdict::Unknown
            }
        }
    }

    async fn check_unbounded(&self) -> Verdict {
        match self.check_credential().await {
            Verdict::Holds => {}
            other => return other,
        }
        match self.state.check_workspace(self.workspace_id).await {
            Ok(()) => Verdict::Holds,
            Err(WorkspaceRefusal::Store(error)) => self.unavailable(&error),
            Err(WorkspaceRefusal::Auth(_)) => Verdict::Ended,
        }
    }

    async fn check_credential(&self) -> Verdict {
        let now = Utc::now();
        let stores = &self.state.stores;
        match &self.credential {
            TicketCredential::Session { digest, .. } => {
                match sessions::authenticate_digest(stores, &self.policy, digest, now).await {
                    Ok(_) => Verdict::Holds,
                    Err(SessionError::Store(error)) => self.unavailable(&error),
                    Err(_) => Verdict::Ended,
                }
            }
            TicketCredential::ApiToken { digest, .. } => match api_tokens::recheck(stores, digest, now).await {
                Ok(_) => Verdict::Holds,
                Err(TokenError::Store(error)) => self.unavailable(&error),
                Err(_) => Verdict::Ended,
            },
            TicketCredential::Jwt { expires_at } => {
                if now >= *expires_at {
                    return Verdict::Ended;
                }
                // A JWT names an account by its id, if at all; a disabled one is refused as at the upgrade.
                let Ok(account_id) = Uuid::parse_str(&self.subject) else { return Verdict::Holds };
                match stores.accounts.get_account(account_id).await {
                    Ok(Some(account)) if account.disabled => Verdict::Ended,
                    Ok(_) => Verdict::Holds,
                    Err(error) => self.unavailable(&error),
                }
            }
        }
    }

    fn unavailable(&self, error: &dyn std::error::Error) -> Verdict {
        tracing::warn!(subject = %self.subject, %error, "sync socket re-check could not reach the store; the socket stays");
        Verdict::Unknown
    }
}

/// A wait drawn uniformly between half of `interval` and all of it.
pub(crate) fn next_wait(interval: Duration) -> Duration {
    let half = interval / 2;
    let span = u64::try_from((interval - half).as_millis()).unwrap_or(u64::MAX);
    let mut bytes = [0u8; 8];
    let offset = match getrandom::fill(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes) % span.saturating_add(1),
        // No randomness: the whole interval (still within the bound, just not spread).
        Err(_) => span,
    };
    half + Duration::from_millis(offset)
}

/// The monotonic instant of a wall-clock time (now, if it has passed).
fn instant_of(at: DateTime<Utc>, now: Instant) -> Instant {
    now + (at - Utc::now()).to_std().unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_stay_between_half_the_interval_and_all_of_it_and_vary() {
        let interval = Duration::from_secs(30);
        let waits: Vec<_> = (0..200).map(|_| next_wait(interval)).collect();
        assert!(waits.iter().all(|wait| *wait >= interval / 2 && *wait <= interval), "{waits:?}");
        let distinct: std::collections::HashSet<_> = waits.iter().collect();
        assert!(distinct.len() > 50, "spread, not lockstep: {} distinct waits", distinct.len());
        assert_eq!(next_wait(Duration::ZERO), Duration::ZERO);
    }
}
