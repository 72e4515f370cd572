//! Tickets in Redis (cluster mode): any node may issue, any node may redeem, once.

use std::time::Duration;

use async_trait::async_trait;
use redis::AsyncCommands;

use super::{Ticket, TicketError, TicketGrant, TicketStore, expiry, looks_like_ticket, new_ticket_value};
use crate::redis_connection::RedisConnection;

/// Tickets as `dash:ticket:<value>` keys that expire by themselves.
#[derive(Clone)]
pub struct RedisTicketStore {
    connection: RedisConnection,
    timeout: Duration,
}

fn unavailable(error: impl std::error::Error + Send + Sync + 'static) -> TicketError {
    TicketError::Unavailable(Box::new(error))
}

fn key(value: &str) -> String {
    format!("dash:ticket:{value}")
}

impl RedisTicketStore {
    /// Connects to Redis; every later call is bounded by `timeout`.
    pub async fn connect(url: &str, timeout: Duration) -> Result<Self, TicketError> {
        let connection = RedisConnection::connect(url, timeout).await.map_err(unavailable)?;
        Ok(Self { connection, timeout })
    }
}

#[async_trait]
impl TicketStore for RedisTicketStore {
    async fn issue(&self, grant: &TicketGrant, ttl: Duration) -> Result<Ticket, TicketError> {
        let value = new_ticket_value()?;
        let stored = serde_json::to_string(grant).map_err(|error| TicketError::Corrupt(error.to_string()))?;
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut connection = self.connection.clone();
        let options = redis::SetOptions::default()
            .conditional_set(redis::ExistenceCheck::NX)
            .with_expiration(redis::SetExpiry::PX(millis));
        let set: Option<String> =
            tokio::time::timeout(self.timeout, connection.set_options(key(&value), stored, options))
                .await
                .map_err(unavailable)?
                .map_err(unavailable)?;
        if set.is_none() {
            // 256 random bits collided with a live ticket: never in practice; refuse rather than share.
            return Err(TicketError::Corrupt("ticket value collision".into()));
        }
        Ok(Ticket { value, expires_at: expiry(ttl) })
    }

    async fn redeem(&self, value: &str) -> Result<Option<TicketGrant>, TicketError> {
        if !looks_like_ticket(value) {
            return Ok(None);
        }
        let mut connection = self.connection.clone();
        let stored: Option<String> = tokio::time::timeout(self.timeout, connection.get_del(key(value)))
            .await
            .map_err(unavailable)?
            .map_err(unavailable)?;
        stored
            .map(|text| serde_json::from_str(&text).map_err(|error| TicketError::Corrupt(error.to_string())))
            .transpose()
    }

    async fn ping(&self) -> Result<(), TicketError> {
        let mut connection = self.connection.clone();
        let _: String = tokio::time::timeout(self.timeout, redis::cmd("PING").query_async(&mut connection))
            .await
            .map_err(unavailable)?
            .map_err(unavailable)?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "redis"
    }
}
