//! The cluster limiter: GCRA as one Lua script per decision, on Redis's clock.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;

use super::{Decision, LimiterError, Quotas, RateLimiter, RouteClass, emission_interval};

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

/// Rate limits shared by every node on one Redis.
pub struct RedisLimiter {
    connection: ConnectionManager,
    quotas: Quotas,
    prefix: String,
    script: redis::Script,
    timeout: Duration,
}

impl RedisLimiter {
    /// Connects to `url`; keys are `<prefix>:<class>:<key>`.
    pub async fn connect(url: &str, quotas: Quotas, prefix: &str, timeout: Duration) -> Result<Self, LimiterError> {
        let client = redis::Client::open(url).map_err(|e| LimiterError(e.to_string()))?;
        let connection = tokio::time::timeout(timeout, ConnectionManager::new(client))
            .await
            .map_err(|_| LimiterError(format!("Redis at {url} did not answer within {timeout:?}")))?
            .map_err(|e| LimiterError(e.to_string()))?;
        Ok(Self { connection, quotas, prefix: prefix.to_owned(), script: redis::Script::new(GCRA), timeout })
    }
}

#[async_trait]
impl RateLimiter for RedisLimiter {
    async fn check(&self, class: RouteClass, key: &str) -> Result<Decision, LimiterError> {
        let limit = self.quotas.of(class);
        let interval = emission_interval(limit);
        let interval_us = u64::try_from(interval.as_micros()).unwrap_or(u64::MAX);
        let redis_key = format!("{}:{}:{key}", self.prefix, class.as_str());
        let mut connection = self.connection.clone();
        let mut invocation = self.script.key(redis_key);
        invocation.arg(limit).arg(interval_us);
        let call = invocation.invoke_async::<(i64, i64, i64, i64)>(&mut connection);
        let (allowed, remaining, retry_us, reset_us) = tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| LimiterError(format!("no answer from Redis within {:?}", self.timeout)))?
            .map_err(|e| LimiterError(e.to_string()))?;
        let micros = |value: i64| Duration::from_micros(u64::try_from(value.max(0)).unwrap_or(0));
        Ok(Decision {
            allowed: allowed == 1,
            limit,
            remaining: u32::try_from(remaining.max(0)).unwrap_or(0),
            reset_after: micros(reset_us),
            retry_after: (allowed != 1).then(|| micros(retry_us).max(Duration::from_millis(1))),
        })
    }
}
