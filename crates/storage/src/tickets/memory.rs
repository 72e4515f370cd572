//! Tickets in process memory (embedded mode).

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::{Ticket, TicketError, TicketGrant, TicketStore, expiry, looks_like_ticket, new_ticket_value};

/// Outstanding tickets allowed at once; each lives seconds, so this is only
/// reached under abuse, and then issuing fails instead of memory growing.
const MAX_OUTSTANDING: usize = 100_000;

/// Tickets in a map guarded by a mutex; expired ones are dropped as new ones come.
#[derive(Default)]
pub struct MemoryTicketStore {
    tickets: Mutex<HashMap<String, (TicketGrant, Instant)>>,
}

impl MemoryTicketStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl TicketStore for MemoryTicketStore {
    async fn issue(&self, grant: &TicketGrant, ttl: Duration) -> Result<Ticket, TicketError> {
        let value = new_ticket_value()?;
        let now = Instant::now();
        let mut tickets = self.tickets.lock().await;
        if tickets.len() >= MAX_OUTSTANDING {
            tickets.retain(|_, (_, expires)| *expires > now);
            if tickets.len() >= MAX_OUTSTANDING {
                return Err(TicketError::Full);
            }
        }
        tickets.insert(value.clone(), (grant.clone(), now + ttl));
        Ok(Ticket { value, expires_at: expiry(ttl) })
    }

    async fn redeem(&self, value: &str) -> Result<Option<TicketGrant>, TicketError> {
        if !looks_like_ticket(value) {
            return Ok(None);
        }
        let taken = self.tickets.lock().await.remove(value);
        Ok(taken.filter(|(_, expires)| *expires > Instant::now()).map(|(grant, _)| grant))
    }

    async fn ping(&self) -> Result<(), TicketError> {
        // Process memory is there while the process is.
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}

#[cfg(test)]
mod tests {
    use agentdeck_domain::auth::{Principal, Role};
    use uuid::Uuid;

    use super::*;

    fn grant() -> TicketGrant {
        let principal = Principal { subject: "ada".into(), workspace_id: Uuid::now_v7(), role: Role::Member };
        TicketGrant::new(principal, super::super::TicketCredential::Jwt { expires_at: chrono::Utc::now() })
    }

    #[tokio::test(start_paused = true)]
    async fn a_ticket_works_once_and_only_in_time() {
        let store = MemoryTicketStore::new();
        let who = grant();
        let ticket = store.issue(&who, Duration::from_secs(30)).await.unwrap();
        assert_eq!(ticket.value.len(), 43);
        assert_eq!(store.redeem(&ticket.value).await.unwrap(), Some(who.clone()));
        assert_eq!(store.redeem(&ticket.value).await.unwrap(), None, "single use");

        let late = store.issue(&who, Duration::from_secs(30)).await.unwrap();
        tokio::time::advance(Duration::from_secs(31)).await;
        assert_eq!(store.redeem(&late.value).await.unwrap(), None, "expired");
        assert_eq!(store.redeem("not-a-ticket").await.unwrap(), None);
    }
}
