//! The cluster limiter: GCRA as one Lua script per decision, on Redis's clock,
//! behind a short timeout and a circuit breaker (see [`super`]).

use std::time::Duration;

use async_trait::async_trait;

use super::circuit::{Circuit, Transition};
use super::{Decision, LimiterError, Quotas, RateLimiter, RouteClass, emission_interval};
use crate::redis_connection::RedisConnection;

/// GCRA: the key holds the theoretical arrival time (TAT, µs on Redis's clock).
/// A request is allowed when `max(TAT, now) + T - limit·T <= now`; it then
/// moves TAT on by `T` and the key expires when TAT passes. Integers only:
/// Lua would truncate floats on the way back.
const GCRA: &str = r"
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tat = tonumber(redis.call('GET', key) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - limit * interval
if allow_at > now then
  return {0, 0, allow_at - now, tat - now}
end
redis.call('SET', key, new_tat, 'PX', math.ceil((new_tat - now) / 1000))
local remaining = math.floor((now - allow_at) / interval)
return {1, remaining, 0, new_tat - now}
";

/// How the Redis limiter talks to Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisLimiterOptions {
    /// Keys are `<prefix>:<class>:<key>`.
    pub prefix: String,
    /// Longest wait for one decision (connecting included) before the request
    /// is let through; short, so an unreachable Redis costs requests little.
    pub timeout: Duration,
    /// How long after a failure Redis is skipped (requests go through unlimited).
    pub cooldown: Duration,
}

impl Default for RedisLimiterOptions {
    fn default() -> Self {
        Self { prefix: "agentdeck:rl".into(), timeout: Duration::from_millis(100), cooldown: Duration::from_secs(5) }
    }
}

/// Rate limits shared by every node on one Redis; fails open, fast (see the module docs).
pub struct RedisLimiter {
    connection: RedisConnection,
    quotas: Quotas,
    options: RedisLimiterOptions,
    script: redis::Script,
    circuit: Circuit,
}

impl RedisLimiter {
    /// A limiter on the Redis at `url`. It connects on its first check, so an
    /// unreachable Redis never holds up startup; only a malformed URL fails here.
    pub fn new(url: &str, quotas: Quotas, options: RedisLimiterOptions) -> Result<Self, LimiterError> {
        let connection = RedisConnection::lazy(url, options.timeout)
            .map_err(|error| LimiterError::Unavailable(error.to_string()))?;
        let circuit = Circuit::new(options.cooldown);
        Ok(Self { connection, quotas, options, script: redis::Script::new(GCRA), circuit })
    }

    /// One decision by the script, without the timeout and the circuit.
    async fn decide(&self, class: RouteClass, key: &str) -> redis::RedisResult<Decision> {
        let limit = self.quotas.of(class);
        let interval = emission_interval(limit);
        let interval_us = u64::try_from(interval.as_micros()).unwrap_or(u64::MAX);
        let redis_key = format!("{}:{}:{key}", self.options.prefix, class.as_str());
        let mut connection = self.connection.clone();
        let mut invocation = self.script.key(redis_key);
        invocation.arg(limit).arg(interval_us);
        let (allowed, remaining, retry_us, reset_us) =
            invocation.invoke_async::<(i64, i64, i64, i64)>(&mut connection).await?;
        let micros = |value: i64| Duration::from_micros(u64::try_from(value.max(0)).unwrap_or(0));
        Ok(Decision {
            allowed: allowed == 1,
            limit,
            remaining: u32::try_from(remaining.max(0)).unwrap_or(0),
            reset_after: micros(reset_us),
            retry_after: (allowed != 1).then(|| micros(retry_us).max(Duration::from_millis(1))),
        })
    }

    /// Opens the circuit after a failed decision; logs when it opens.
    fn failed(&self, reason: String) -> LimiterError {
        match self.circuit.failed() {
            Transition::Opened => tracing::warn!(
                reason,
                cooldown_ms = self.options.cooldown.as_millis() as u64,
                "rate limiter cannot reach Redis; requests go through unlimited until it answers again"
            ),
            _ => tracing::debug!(reason, "rate limiter still cannot reach Redis"),
        }
        LimiterError::Unavailable(reason)
    }
}

#[async_trait]
impl RateLimiter for RedisLimiter {
    async fn check(&self, class: RouteClass, key: &str) -> Result<Decision, LimiterError> {
        if !self.circuit.admit() {
            return Err(LimiterError::Skipped);
        }
        match tokio::time::timeout(self.options.timeout, self.decide(class, key)).await {
            Ok(Ok(decision)) => {
                if self.circuit.succeeded() == Transition::Closed {
                    tracing::info!("rate limiter reaches Redis again; limits apply");
                }
                Ok(decision)
            }
            Ok(Err(error)) => Err(self.failed(error.to_string())),
            Err(_) => Err(self.failed(format!("no answer within {:?}", self.options.timeout))),
        }
    }
}
