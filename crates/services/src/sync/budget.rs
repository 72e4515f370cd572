//! The patch budget of a room: at most N patches per minute, with bursts up to N.
//!
//! A token bucket owned by the room's task, so it needs no lock and no shared
//! map. Written here rather than with `governor` because it reads tokio's clock,
//! which tests pause and advance; governor's clock is the system's.

use std::time::Duration;

use tokio::time::Instant;

/// Refills `per_minute` tokens a minute, holding at most `per_minute`.
#[derive(Debug)]
pub(super) struct PatchBudget {
    per_minute: u32,
    tokens: f64,
    refilled_at: Instant,
}

impl PatchBudget {
    /// A full bucket; `per_minute == 0` means unlimited.
    pub(super) fn new(per_minute: u32) -> Self {
        Self { per_minute, tokens: f64::from(per_minute), refilled_at: Instant::now() }
    }

    /// Takes one token; `Err(wait)` says how long until the next one.
    pub(super) fn take(&mut self) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let per_second = f64::from(self.per_minute) / 60.0;
        let earned = now.duration_since(self.refilled_at).as_secs_f64() * per_second;
        self.tokens = (self.tokens + earned).min(f64::from(self.per_minute));
        self.refilled_at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        Err(Duration::from_secs_f64((1.0 - self.tokens) / per_second))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn bursts_to_the_limit_then_refills_with_time() {
        let mut budget = PatchBudget::new(100);
        for _ in 0..100 {
            assert!(budget.take().is_ok());
        }
        let wait = budget.take().unwrap_err();
        assert!((wait.as_millis() as i64 - 600).abs() <= 1, "one token every 0.6 s: {wait:?}");
        tokio::time::advance(Duration::from_millis(600)).await;
        assert!(budget.take().is_ok());
        assert!(budget.take().is_err());
        tokio::time::advance(Duration::from_secs(3600)).await;
        for _ in 0..100 {
            assert!(budget.take().is_ok(), "refills to the cap, not beyond");
        }
        assert!(budget.take().is_err());
    }

    #[test]
    fn zero_means_unlimited() {
        let mut budget = PatchBudget { per_minute: 0, tokens: 0.0, refilled_at: Instant::now() };
        assert!((0..10_000).all(|_| budget.take().is_ok()));
    }
}
