//! Rate limits per route class, keyed by workspace (else client address).
//!
//! Every decision is GCRA over a window ([`Quotas::window`], one minute unless
//! configured otherwise): a class allows `limit` requests per window per key,
//! in bursts of up to `limit`, one slot freeing every `window / limit`. Embedded mode decides in process ([`MemoryLimiter`],
//! the `governor` crate); cluster mode runs the same algorithm as one atomic
//! Redis script per decision ([`RedisLimiter`]), so the limit holds across
//! nodes and they share Redis's clock.
//!
//! # Failing open, fast
//!
//! A limiter that cannot decide lets the request through: an outage of the
//! limiter must not become an outage of the server, least of all of the agent
//! calls, which need only the records database. The Redis limiter waits for
//! an answer only briefly ([`RedisLimiterOptions::timeout`], 100 ms by
//! default), and after a failure its circuit skips Redis for a
//! while ([`RedisLimiterOptions::cooldown`]): checks then answer
//! [`LimiterError::Skipped`] at once, and one request per cooldown probes
//! whether Redis is back. Opening and closing the circuit each log one line.

mod circuit;
mod memory;
mod redis;

use std::time::Duration;

use async_trait::async_trait;

pub use self::redis::{RedisLimiter, RedisLimiterOptions};
pub use memory::MemoryLimiter;

/// Which limit a route falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteClass {
    /// A2A calls (`/a2a/{agent}…`).
    A2a,
    /// Agent cards and the agent index.
    Discovery,
    /// `/health` and `/ready`.
    Health,
    /// Sign-in attempts (`POST /api/auth/login`), always keyed by client address.
    SignIn,
}

impl RouteClass {
    /// Every class.
    pub const ALL: [RouteClass; 4] = [Self::A2a, Self::Discovery, Self::Health, Self::SignIn];

    /// Short name (Redis key part, logs).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::A2a => "a2a",
            Self::Discovery => "discovery",
            Self::Health => "health",
            Self::SignIn => "sign_in",
        }
    }
}

/// Requests per window (a minute by default) of each class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// A2A calls (default 100).
    pub a2a: u32,
    /// Discovery (default 30).
    pub discovery: u32,
    /// Health (default 300).
    pub health: u32,
    /// Sign-in attempts per client address (default 20).
    pub sign_in: u32,
    /// The window the limits count over (default a minute); a longer one refills more slowly.
    pub window: Duration,
}

impl Default for Quotas {
    fn default() -> Self {
        Self { a2a: 100, discovery: 30, health: 300, sign_in: 20, window: Duration::from_secs(60) }
    }
}

impl Quotas {
    /// The limit of a class (at least 1).
    pub fn of(&self, class: RouteClass) -> u32 {
        match class {
            RouteClass::A2a => self.a2a,
            RouteClass::Discovery => self.discovery,
            RouteClass::Health => self.health,
            RouteClass::SignIn => self.sign_in,
        }
        .max(1)
    }

    /// GCRA's slot: the time one request's worth of a class's quota takes to come back.
    pub(crate) fn emission_interval(&self, class: RouteClass) -> Duration {
        (self.window / self.of(class)).max(Duration::from_micros(1))
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// The request may go on.
    pub allowed: bool,
    /// Requests per window (`X-RateLimit-Limit`).
    pub limit: u32,
    /// Requests left right now (`X-RateLimit-Remaining`).
    pub remaining: u32,
    /// Until the key is back to its full burst (`X-RateLimit-Reset`, seconds).
    pub reset_after: Duration,
    /// When refused: until the next request would be allowed (`Retry-After`).
    pub retry_after: Option<Duration>,
}

/// Why a decision could not be made; the request goes on unlimited either way.
#[derive(Debug, thiserror::Error)]
pub enum LimiterError {
    /// The limiter's store failed or did not answer in time.
    #[error("rate limiter unavailable: {0}")]
    Unavailable(String),
    /// The store failed recently, so it was not asked (the circuit is open).
    #[error("rate limiter skipped while its store recovers")]
    Skipped,
}

/// Decides whether a request of a class from a key may go on now.
#[async_trait]
pub trait RateLimiter: Send + Sync + 'static {
    /// Takes one request's worth of the key's quota, or refuses.
    async fn check(&self, class: RouteClass, key: &str) -> Result<Decision, LimiterError>;
}
