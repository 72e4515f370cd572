//! The circuit breaker of the Redis limiter: after a failure, skip the store
//! for a cooldown, then let one call probe it.
//!
//! Hand-written rather than taken from a crate: it is a few lines over one
//! mutex, and it reads tokio's clock, which tests pause and advance.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// Closed (calls go through) or open until a moment (calls are skipped).
pub(crate) struct Circuit {
    cooldown: Duration,
    /// `Some`: open, calls skipped until then.
    open_until: Mutex<Option<Instant>>,
}

/// What a reported outcome changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transition {
    /// The circuit was closed and opened now.
    Opened,
    /// The circuit was open (a probe failed) and stays open.
    StillOpen,
    /// The circuit was open and closed now (a probe succeeded).
    Closed,
    /// Nothing changed.
    None,
}

impl Circuit {
    /// A closed circuit that stays open for `cooldown` after each failure.
    pub(crate) fn new(cooldown: Duration) -> Self {
        Self { cooldown, open_until: Mutex::new(None) }
    }

    fn state(&self) -> MutexGuard<'_, Option<Instant>> {
        // Every update is one assignment: a panic cannot leave it half-done.
        self.open_until.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a call may go to the store now. While open, no; once the
    /// cooldown is over, the first caller may (the probe) and the circuit
    /// stays open for everyone else until the probe reports.
    pub(crate) fn admit(&self) -> bool {
        let now = Instant::now();
        let mut open_until = self.state();
        match *open_until {
            None => true,
            Some(until) if now < until => false,
            Some(_) => {
                *open_until = Some(now + self.cooldown);
                true
            }
        }
    }

    /// Reports a call that succeeded.
    pub(crate) fn succeeded(&self) -> Transition {
        if self.state().take().is_some() { Transition::Closed } else { Transition::None }
    }

    /// Reports a call that failed: the circuit opens (again) for the cooldown.
    pub(crate) fn failed(&self) -> Transition {
        let was_open = self.state().replace(Instant::now() + self.cooldown).is_some();
        if was_open { Transition::StillOpen } else { Transition::Opened }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_failure_skips_calls_for_the_cooldown_then_one_probe_goes_through() {
        let circuit = Circuit::new(Duration::from_secs(5));
        assert!(circuit.admit());
        assert_eq!(circuit.failed(), Transition::Opened);
        assert!(!circuit.admit(), "open right after the failure");
        tokio::time::advance(Duration::from_millis(4_999)).await;
        assert!(!circuit.admit(), "still open within the cooldown");
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(circuit.admit(), "the probe");
        assert!(!circuit.admit(), "only one probe at a time");
        assert_eq!(circuit.failed(), Transition::StillOpen);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(circuit.admit());
        assert_eq!(circuit.succeeded(), Transition::Closed);
        assert!(circuit.admit() && circuit.admit(), "closed again");
        assert_eq!(circuit.succeeded(), Transition::None);
    }
}
