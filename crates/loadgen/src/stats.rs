//! Latency histograms and counters shared by the tasks of a run.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

/// Largest latency a histogram holds (60 s, in microseconds); larger values are clamped.
const MAX_LATENCY_US: u64 = 60_000_000;

/// Microseconds since this process's first call: the one clock publishers and receivers share.
pub fn now_us() -> u64 {
    static ANCHOR: OnceLock<Instant> = OnceLock::new();
    let anchor = *ANCHOR.get_or_init(Instant::now);
    u64::try_from(anchor.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// A latency histogram several tasks record into.
pub struct Latency {
    histogram: Mutex<Histogram<u64>>,
    /// The expected gap between samples of one stream, for coordinated-omission correction (0: none).
    expected_interval_us: u64,
}

impl Latency {
    /// An empty histogram (1 µs to 60 s, 3 significant digits); `expected_interval` corrects for coordinated omission.
    pub fn new(expected_interval: Option<Duration>) -> anyhow::Result<Self> {
        let histogram = Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)?;
        let expected_interval_us = expected_interval.map_or(0, |interval| interval.as_micros() as u64);
        Ok(Self { histogram: Mutex::new(histogram), expected_interval_us })
    }

    /// Records one latency in microseconds.
    pub fn record(&self, micros: u64) {
        let value = micros.clamp(1, MAX_LATENCY_US);
        let mut histogram = self.histogram.lock().unwrap_or_else(PoisonError::into_inner);
        let _clamped_above = if self.expected_interval_us > 0 {
            histogram.record_correct(value, self.expected_interval_us)
        } else {
            histogram.record(value)
        };
    }

    /// Percentiles of what was recorded.
    pub fn summary(&self) -> LatencySummary {
        let histogram = self.histogram.lock().unwrap_or_else(PoisonError::into_inner);
        LatencySummary::of(&histogram)
    }
}

/// Percentiles of a latency histogram, in milliseconds.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct LatencySummary {
    /// Samples (including coordinated-omission corrections).
    pub count: u64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Largest.
    pub max_ms: f64,
    /// Mean.
    pub mean_ms: f64,
}

impl LatencySummary {
    fn of(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return Self::default();
        }
        let ms = |micros: u64| (micros as f64 / 10.0).round() / 100.0;
        Self {
            count: histogram.len(),
            p50_ms: ms(histogram.value_at_quantile(0.50)),
            p90_ms: ms(histogram.value_at_quantile(0.90)),
            p99_ms: ms(histogram.value_at_quantile(0.99)),
            p999_ms: ms(histogram.value_at_quantile(0.999)),
            max_ms: ms(histogram.max()),
            mean_ms: (histogram.mean() / 10.0).round() / 100.0,
        }
    }

    /// `p50 1.2 ms, p90 …` for people.
    pub fn describe(&self) -> String {
        format!(
            "n={} p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
            self.count, self.p50_ms, self.p90_ms, self.p99_ms, self.p999_ms, self.max_ms
        )
    }
}

/// Latency above which a delivery counts as slow in the [`Timeline`] (the T2 target).
const SLOW_US: u64 = 20_000;

/// Per second of the measured window (by publish time): the worst latency and
/// how many deliveries were slow, so that a tail can be told apart as steady
/// (every second) or as a few stalls (a few seconds).
pub struct Timeline {
    seconds: Vec<(AtomicU64, AtomicU64)>,
}

/// One second of a [`Timeline`].
#[derive(Debug, Clone, Serialize)]
pub struct TimelineSecond {
    /// Seconds into the measured window.
    pub second: usize,
    /// Worst latency of a delta published in that second.
    pub max_ms: f64,
    /// Deliveries slower than 20 ms.
    pub slow: u64,
}

impl Timeline {
    /// A timeline of `seconds` seconds (later samples go to the last one).
    pub fn new(seconds: usize) -> Self {
        Self { seconds: (0..seconds.max(1)).map(|_| (AtomicU64::new(0), AtomicU64::new(0))).collect() }
    }

    /// Records a latency of a delta published `since_start_us` into the window.
    pub fn record(&self, since_start_us: u64, micros: u64) {
        let index = usize::try_from(since_start_us / 1_000_000).unwrap_or(usize::MAX).min(self.seconds.len() - 1);
        let (max, slow) = &self.seconds[index];
        max.fetch_max(micros, Ordering::Relaxed);
        if micros > SLOW_US {
            slow.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The seconds, in order.
    pub fn seconds(&self) -> Vec<TimelineSecond> {
        self.seconds
            .iter()
            .enumerate()
            .map(|(second, (max, slow))| TimelineSecond {
                second,
                max_ms: (max.load(Ordering::Relaxed) as f64 / 10.0).round() / 100.0,
                slow: slow.load(Ordering::Relaxed),
            })
            .collect()
    }
}

/// Counters every task of a run adds to.
#[derive(Default)]
pub struct Counters {
    /// Deltas received by tabs (all of them).
    pub deliveries: AtomicU64,
    /// Deltas received whose publish time was inside the measured window.
    pub measured_deliveries: AtomicU64,
    /// Patches sent by publishers.
    pub sent: AtomicU64,
    /// Patches acknowledged.
    pub commits: AtomicU64,
    /// Acks of patches sent inside the measured window.
    pub measured_commits: AtomicU64,
    /// Versions skipped (a delta whose base is past the version held).
    pub gaps: AtomicU64,
    /// Versions received twice (a delta at or below the version held).
    pub duplicates: AtomicU64,
    /// Snapshots received after the first subscription (each replaces the held state).
    pub snapshots: AtomicU64,
    /// Reconnects (storm, or after the server asked the client to go).
    pub reconnects: AtomicU64,
    /// Pings answered.
    pub pongs: AtomicU64,
    /// Microseconds (since [`now_us`]) of the last delivery.
    pub last_delivery_us: AtomicU64,
    rejects: Mutex<BTreeMap<String, u64>>,
    errors: Mutex<Vec<String>>,
    error_count: AtomicU64,
}

/// Errors kept word for word; later ones are only counted.
const KEPT_ERRORS: usize = 20;

impl Counters {
    /// Adds one to a counter.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a reject by its code.
    pub fn reject(&self, code: &str) {
        let mut rejects = self.rejects.lock().unwrap_or_else(PoisonError::into_inner);
        *rejects.entry(code.to_owned()).or_default() += 1;
    }

    /// Notes an error (a failed connection, an unexpected close, a timeout).
    pub fn error(&self, message: impl Into<String>) {
        self.error_count.fetch_add(1, Ordering::Relaxed);
        let mut errors = self.errors.lock().unwrap_or_else(PoisonError::into_inner);
        if errors.len() < KEPT_ERRORS {
            errors.push(message.into());
        }
    }

    /// Marks a delivery now.
    pub fn delivered(&self, measured: bool) {
        Self::bump(&self.deliveries);
        if measured {
            Self::bump(&self.measured_deliveries);
        }
        self.last_delivery_us.fetch_max(now_us(), Ordering::Relaxed);
    }

    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Rejects by code.
    pub fn rejects(&self) -> BTreeMap<String, u64> {
        self.rejects.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// How many errors were noted, and the first ones.
    pub fn errors(&self) -> (u64, Vec<String>) {
        let kept = self.errors.lock().unwrap_or_else(PoisonError::into_inner).clone();
        (self.error_count.load(Ordering::Relaxed), kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_out_in_milliseconds() -> anyhow::Result<()> {
        let latency = Latency::new(None)?;
        for micros in 1..=1000 {
            latency.record(micros * 10);
        }
        let summary = latency.summary();
        assert_eq!(summary.count, 1000);
        assert!((summary.p50_ms - 5.0).abs() < 0.01, "{summary:?}");
        assert!((summary.max_ms - 10.0).abs() < 0.01, "{summary:?}");
        Ok(())
    }

    #[test]
    fn coordinated_omission_adds_the_samples_a_stall_hid() -> anyhow::Result<()> {
        let latency = Latency::new(Some(Duration::from_millis(10)))?;
        latency.record(35_000);
        assert_eq!(latency.summary().count, 3, "35 ms at a 10 ms interval hides the 25 and 15 ms samples");
        Ok(())
    }
}
