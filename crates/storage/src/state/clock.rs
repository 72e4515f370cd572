//! The time a state store stamps and expires rooms by: the system's wall
//! clock, or in tests a clock moved by hand.
//!
//! The SQLite store's expiry is ours (an `expires_at` column compared with
//! "now"), so a test of it moves a [`StateClock::manual`] clock past the TTL
//! at once instead of sleeping through it. Redis keys expire on Redis's own
//! clock, which no test can move: there the clock only stamps the history.
//!
//! Hand-written rather than taken from a crate: a shared millisecond counter
//! is all it takes, and the clock crates (`mock_instant`, `governor`'s fake
//! clocks) model monotonic instants, not the wall-clock milliseconds the rows
//! store.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::Utc;

/// Where a state store reads the time (the system clock unless a test says otherwise).
#[derive(Clone, Default)]
pub struct StateClock {
    /// Milliseconds since the Unix epoch of a manual clock; `None` for the system clock.
    manual: Option<Arc<AtomicI64>>,
}

impl StateClock {
    /// The system's wall clock (the default).
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that stands at the current time until [`StateClock::advance`] moves it.
    pub fn manual() -> Self {
        Self { manual: Some(Arc::new(AtomicI64::new(Utc::now().timestamp_millis()))) }
    }

    /// Moves a manual clock (and every clone of it) forward; the system clock moves by itself, so
    /// for it this does nothing.
    pub fn advance(&self, by: Duration) {
        if let Some(millis) = &self.manual {
            millis.fetch_add(i64::try_from(by.as_millis()).unwrap_or(i64::MAX), Ordering::SeqCst);
        }
    }

    /// Milliseconds since the Unix epoch, the precision both backends keep.
    pub fn now_millis(&self) -> i64 {
        match &self.manual {
            Some(millis) => millis.load(Ordering::SeqCst),
            None => Utc::now().timestamp_millis(),
        }
    }
}

impl std::fmt::Debug for StateClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.manual {
            Some(millis) => write!(f, "StateClock::manual({})", millis.load(Ordering::SeqCst)),
            None => f.write_str("StateClock::system()"),
        }
    }
}

/// Two clocks are equal when they read the same source: both the system's, or one manual clock.
impl PartialEq for StateClock {
    fn eq(&self, other: &Self) -> bool {
        match (&self.manual, &other.manual) {
            (None, None) => true,
            (Some(mine), Some(theirs)) => Arc::ptr_eq(mine, theirs),
            _ => false,
        }
    }
}

impl Eq for StateClock {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced_and_its_clones_with_it() {
        let clock = StateClock::manual();
        let clone = clock.clone();
        let start = clock.now_millis();
        clone.advance(Duration::from_millis(1_500));
        assert_eq!(clock.now_millis(), start + 1_500);
        assert_eq!(clock, clone);
        assert_ne!(clock, StateClock::manual());
        assert_eq!(StateClock::system(), StateClock::default());
    }
}
