//! The in-process limiter (embedded mode): one keyed `governor` GCRA per class.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter as Governor};

use super::{Decision, LimiterError, Quotas, RateLimiter, RouteClass};

type Keyed = Governor<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// Rate limits of this process.
pub struct MemoryLimiter {
    quotas: Quotas,
    limiters: HashMap<RouteClass, Arc<Keyed>>,
    clock: DefaultClock,
}

impl MemoryLimiter {
    /// Limiters for `quotas`.
    pub fn new(quotas: Quotas) -> Self {
        let clock = DefaultClock::default();
        let limiters = RouteClass::ALL
            .into_iter()
            .map(|class| {
                let limit = NonZeroU32::new(quotas.of(class)).unwrap_or(NonZeroU32::MIN);
                let quota = Quota::with_period(quotas.emission_interval(class))
                    .unwrap_or_else(|| Quota::per_minute(limit))
                    .allow_burst(limit);
                let limiter =
                    Governor::dashmap_with_clock(quota, clock.clone()).with_middleware::<StateInformationMiddleware>();
                (class, Arc::new(limiter))
            })
            .collect();
        Self { quotas, limiters, clock }
    }

    /// Drops the state of keys that are back to a full burst (bounds memory; call now and then).
    pub fn forget_idle(&self) {
        for limiter in self.limiters.values() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

#[async_trait]
impl RateLimiter for MemoryLimiter {
    async fn check(&self, class: RouteClass, key: &str) -> Result<Decision, LimiterError> {
        let limit = self.quotas.of(class);
        let limiter =
            self.limiters.get(&class).ok_or_else(|| LimiterError::Unavailable(format!("no limiter for {class:?}")))?;
        let interval = self.quotas.emission_interval(class);
        match limiter.check_key(&key.to_owned()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                Ok(Decision {
                    allowed: true,
                    limit,
                    remaining,
                    reset_after: interval * (limit - remaining),
                    retry_after: None,
                })
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Ok(Decision {
                    allowed: false,
                    limit,
                    remaining: 0,
                    reset_after: interval * limit,
                    retry_after: Some(wait.max(Duration::from_millis(1))),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_limit_plus_one_is_refused_and_keys_are_separate() -> Result<(), LimiterError> {
        // 100 an hour: no slot comes back while the test runs, however slow the machine.
        let hour = Duration::from_secs(3600);
        let limiter = MemoryLimiter::new(Quotas { a2a: 100, discovery: 3, health: 300, sign_in: 20, window: hour });
        for expected_remaining in (0..100).rev() {
            let decision = limiter.check(RouteClass::A2a, "ws:a").await?;
            assert!(decision.allowed);
            assert_eq!((decision.limit, decision.remaining), (100, expected_remaining));
        }
        let refused = limiter.check(RouteClass::A2a, "ws:a").await?;
        assert!(!refused.allowed);
        // One slot comes back every 36 s.
        assert!(refused.retry_after.is_some_and(|wait| wait <= Duration::from_secs(36)), "{refused:?}");
        assert!(refused.reset_after == hour, "an hour until the full burst: {refused:?}");
        assert!(limiter.check(RouteClass::A2a, "ws:b").await?.allowed, "another workspace is unaffected");
        assert!(limiter.check(RouteClass::Discovery, "ws:a").await?.allowed, "another class is unaffected");
        Ok(())
    }
}
