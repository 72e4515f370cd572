//! Memory and CPU of a process, read from `/proc/<pid>/status` and `/proc/<pid>/stat`.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;

/// Clock ticks per second of `/proc/<pid>/stat` times, from `getconf CLK_TCK` (100 when unknown).
pub fn clock_ticks_per_sec() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .filter(|ticks| *ticks > 0)
        .unwrap_or(100)
}

/// One reading of a process.
#[derive(Debug, Clone, Copy)]
pub struct ProcSample {
    /// Resident set size, KiB.
    pub rss_kb: u64,
    /// Peak resident set size, KiB.
    pub hwm_kb: u64,
    /// User plus system CPU time, in clock ticks.
    pub cpu_ticks: u64,
    /// When it was read.
    pub at: Instant,
}

impl ProcSample {
    /// Reads process `pid` now.
    pub fn read(pid: u32) -> Result<Self> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .with_context(|| format!("reading /proc/{pid}/status (is the server pid right?)"))?;
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|value| value.parse().ok())
                .unwrap_or(0)
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .with_context(|| format!("reading /proc/{pid}/stat"))?;
        // The command name is in parentheses and may hold spaces: count fields after the last ')'.
        let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
        let fields: Vec<&str> = after.split_whitespace().collect();
        // Fields 14 (utime) and 15 (stime) of proc(5); `after` starts at field 3.
        let tick = |index: usize| fields.get(index).and_then(|value| value.parse::<u64>().ok()).unwrap_or(0);
        Ok(Self {
            rss_kb: field("VmRSS:"),
            hwm_kb: field("VmHWM:"),
            cpu_ticks: tick(11) + tick(12),
            at: Instant::now(),
        })
    }
}

/// CPU used between two samples, as a share of one core (100.0 = one core busy).
pub fn cpu_percent(before: &ProcSample, after: &ProcSample, ticks_per_sec: u64) -> f64 {
    let wall = after.at.saturating_duration_since(before.at).max(Duration::from_millis(1)).as_secs_f64();
    let cpu = after.cpu_ticks.saturating_sub(before.cpu_ticks) as f64 / ticks_per_sec.max(1) as f64;
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
    ticks: u64,
}

impl CpuWatch {
    /// Starts watching now.
    pub fn start(server_pid: Option<u32>) -> Self {
        let server = server_pid.and_then(|pid| ProcSample::read(pid).ok().map(|sample| (pid, sample)));
        Self { server, own: ProcSample::read(std::process::id()).ok(), ticks: clock_ticks_per_sec() }
    }

    /// CPU of each watched process since the start.
    pub fn stop(&self) -> Vec<CpuUse> {
        let mut uses = Vec::new();
        if let Some((pid, before)) = &self.server
            && let Ok(after) = ProcSample::read(*pid)
        {
            uses.push(CpuUse { process: "server".into(), percent: round2(cpu_percent(before, &after, self.ticks)) });
        }
        if let Some(before) = &self.own
            && let Ok(after) = ProcSample::read(std::process::id())
        {
            uses.push(CpuUse { process: "loadgen".into(), percent: round2(cpu_percent(before, &after, self.ticks)) });
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
}
