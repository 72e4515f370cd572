//! Memory and CPU of a process, read through the `procfs` crate (`/proc/<pid>/status` and
//! `/proc/<pid>/stat`, CPU ticks converted with the system's own tick rate).

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use procfs::process::Process;
use serde::Serialize;

/// One reading of a process.
#[derive(Debug, Clone, Copy)]
pub struct ProcSample {
    /// Resident set size, KiB.
    pub rss_kb: u64,
    /// Peak resident set size, KiB.
    pub hwm_kb: u64,
    /// User plus system CPU time, in seconds.
    pub cpu_secs: f64,
    /// When it was read.
    pub at: Instant,
}

impl ProcSample {
    /// Reads process `pid` now.
    pub fn read(pid: u32) -> Result<Self> {
        let process = i32::try_from(pid)
            .ok()
            .and_then(|pid| Process::new(pid).ok())
            .with_context(|| format!("no process {pid} in /proc (is the server pid right?)"))?;
        let status = process.status().with_context(|| format!("reading /proc/{pid}/status"))?;
        let stat = process.stat().with_context(|| format!("reading /proc/{pid}/stat"))?;
        let ticks_per_sec = procfs::ticks_per_second().max(1) as f64;
        Ok(Self {
            rss_kb: status.vmrss.unwrap_or(0),
            hwm_kb: status.vmhwm.unwrap_or(0),
            cpu_secs: (stat.utime + stat.stime) as f64 / ticks_per_sec,
            at: Instant::now(),
        })
    }
}

/// CPU used between two samples, as a share of one core (100.0 = one core busy).
pub fn cpu_percent(before: &ProcSample, after: &ProcSample) -> f64 {
    let wall = after.at.saturating_duration_since(before.at).max(Duration::from_millis(1)).as_secs_f64();
    let cpu = (after.cpu_secs - before.cpu_secs).max(0.0);
    100.0 * cpu / wall
}

/// CPU use of a process over a period, for reports.
#[derive(Debug, Clone, Serialize)]
pub struct CpuUse {
    /// Whose: `server` or `loadgen`.
    pub process: String,
    /// Percent of one core.
    pub percent: f64,
}

/// Samples the server (when its pid is known) and this process, to report CPU over a period.
pub struct CpuWatch {
    server: Option<(u32, ProcSample)>,
    own: Option<ProcSample>,
}

impl CpuWatch {
    /// Starts watching now.
    pub fn start(server_pid: Option<u32>) -> Self {
        let server = server_pid.and_then(|pid| ProcSample::read(pid).ok().map(|sample| (pid, sample)));
        Self { server, own: ProcSample::read(std::process::id()).ok() }
    }

    /// CPU of each watched process since the start.
    pub fn stop(&self) -> Vec<CpuUse> {
        let mut uses = Vec::new();
        if let Some((pid, before)) = &self.server
            && let Ok(after) = ProcSample::read(*pid)
        {
            uses.push(CpuUse { process: "server".into(), percent: round2(cpu_percent(before, &after)) });
        }
        if let Some(before) = &self.own
            && let Ok(after) = ProcSample::read(std::process::id())
        {
            uses.push(CpuUse { process: "loadgen".into(), percent: round2(cpu_percent(before, &after)) });
        }
        uses
    }
}

/// Rounds to two decimals, for readable reports.
pub fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let sample = ProcSample::read(std::process::id());
        assert!(sample.as_ref().is_ok_and(|sample| sample.rss_kb > 0 && sample.hwm_kb >= sample.rss_kb), "{sample:?}");
    }

    #[test]
    fn busy_work_shows_as_cpu_time() -> Result<()> {
        let before = ProcSample::read(std::process::id())?;
        // Spin until the process has used 50 ms more CPU (ticks are 10 ms on Linux), however busy the machine is.
        let give_up = Instant::now() + Duration::from_secs(30);
        let mut counter = 0u64;
        loop {
            for _ in 0..100_000 {
                counter = std::hint::black_box(counter.wrapping_add(1));
            }
            let after = ProcSample::read(std::process::id())?;
            if after.cpu_secs >= before.cpu_secs + 0.05 {
                assert!(cpu_percent(&before, &after) > 0.0);
                return Ok(());
            }
            anyhow::ensure!(Instant::now() < give_up, "30 s of spinning never showed as CPU time: {after:?}");
        }
    }

    #[test]
    fn an_unknown_pid_is_an_error() {
        assert!(ProcSample::read(u32::MAX).is_err());
    }
}
