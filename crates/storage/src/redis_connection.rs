//! The one way storage talks to Redis: a connection that answers after
//! reconnecting, not with the error of the connection it lost.
//!
//! # Why a command is sent again, once
//!
//! redis' [`ConnectionManager`] keeps one multiplexed connection. When a
//! command finds it broken, the manager starts a new connection in the
//! background but still hands the caller the error it found. After a long
//! outage that error is stale: the reconnection attempted while Redis was down
//! failed ("Connection refused"), the failed attempt stays cached, and the
//! first command after Redis is back gets its error although the next command
//! would succeed. So the first request per component per node after an outage
//! answered 503. [`RedisConnection`] sends a command again, once, when it
//! failed with a dropped or refused connection: by then the manager has
//! started a fresh connection, and the second attempt waits for it. Every
//! component (state store, tickets, rate limiter) goes through it, so none has
//! to know this. (The change feed does not use a manager: it opens a fresh
//! pub/sub connection on every reconnection, so it has no stale error to hand out.)
//!
//! A connection that broke (broken pipe, reset) may have carried the command
//! before it broke. The commands sent through here tolerate running twice:
//! reads and the limiter's GCRA step are harmless, a state commit is guarded by
//! its expected version and op key, and a ticket is issued with `SET NX` and
//! redeemed with `GETDEL`, which answer "taken" or "absent" the second time
//! rather than doing anything twice.
//!
//! The manager's own reconnection tries once more after 100 ms and then gives
//! up (its default is six tries over several seconds): every call is bounded
//! by its caller's timeout and retried here, so a long background
//! reconnection would only keep callers waiting while Redis is down.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, Pipeline, RedisError, RedisFuture, Value};

/// How many times the manager tries again to connect before it reports the failure.
const CONNECTION_RETRIES: usize = 1;

/// A Redis connection shared by the clones of one component; reconnects by itself.
#[derive(Clone)]
pub(crate) struct RedisConnection {
    manager: ConnectionManager,
}

impl RedisConnection {
    /// Connects to `url` now; each connection attempt (now and later) and each
    /// reply are bounded by `timeout`, and so is the whole of this call.
    pub(crate) async fn connect(url: &str, timeout: Duration) -> Result<Self, RedisError> {
        let client = redis::Client::open(url)?;
        let manager = tokio::time::timeout(timeout, ConnectionManager::new_with_config(client, config(timeout)))
            .await
            .map_err(|_| timed_out(timeout))??;
        Ok(Self { manager })
    }

    /// A connection to `url` that connects on its first command (no wait, no
    /// failure now but for a malformed URL); bounds as for [`RedisConnection::connect`].
    pub(crate) fn lazy(url: &str, timeout: Duration) -> Result<Self, RedisError> {
        let client = redis::Client::open(url)?;
        Ok(Self { manager: ConnectionManager::new_lazy_with_config(client, config(timeout))? })
    }
}

fn config(timeout: Duration) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_number_of_retries(CONNECTION_RETRIES)
}

/// The error of a call that ran out of time (reads as a timeout: `is_timeout()`).
pub(crate) fn timed_out(timeout: Duration) -> RedisError {
    RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!("Redis did not answer within {timeout:?}"),
    ))
}

/// Whether a command failed because its connection was gone (and so a fresh
/// one, which the manager is now opening, may succeed).
fn lost_connection(error: &RedisError) -> bool {
    error.is_connection_dropped() || error.is_connection_refusal()
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            match self.manager.send_packed_command(cmd).await {
                Err(error) if lost_connection(&error) => {
                    tracing::debug!(%error, "Redis connection was lost; sending again on a new one");
                    self.manager.send_packed_command(cmd).await
                }
                result => result,
            }
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            match self.manager.send_packed_commands(pipeline, offset, count).await {
                Err(error) if lost_connection(&error) => {
                    tracing::debug!(%error, "Redis connection was lost; sending again on a new one");
                    self.manager.send_packed_commands(pipeline, offset, count).await
                }
                result => result,
            }
        })
    }

    fn get_db(&self) -> i64 {
        self.manager.get_db()
    }
}

/// A pub/sub connection split into its command and message halves, made within `timeout`
/// (the change feed and the bus each follow their channels on one).
pub(crate) async fn connect_pubsub(
    client: &redis::Client,
    timeout: Duration,
) -> Result<(redis::aio::PubSubSink, redis::aio::PubSubStream), String> {
    let pubsub = tokio::time::timeout(timeout, client.get_async_pubsub())
        .await
        .map_err(|_| "connecting timed out".to_owned())?
        .map_err(|error| error.to_string())?;
    Ok(pubsub.split())
}
