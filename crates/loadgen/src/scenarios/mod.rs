//! The scenarios, what they share (where the server is, who connects, the
//! patch payload) and the report every run prints.

mod a2a;
mod idle;
mod rooms;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

pub use a2a::{A2aConfig, A2aReport, AskLoad, run_a2a};
pub use idle::{IdleConfig, run_idle};
pub use rooms::{RoomsConfig, StormPlan, Transport, run_rooms};

use crate::auth::TokenMinter;
use crate::process_stats::CpuUse;
use crate::stats::{LatencySummary, TimelineSecond};
use crate::target::Target;

/// What every scenario needs to reach the server.
#[derive(Clone)]
pub struct Common {
    /// The server (loopback only).
    pub target: Target,
    /// Signs the load users' tokens (dash.v1 only).
    pub minter: Option<TokenMinter>,
    /// Room `n` is user `<prefix>-<n>`.
    pub user_prefix: String,
    /// Connections being opened at once.
    pub concurrency: usize,
    /// The server's pid, to read its memory and CPU from `/proc`.
    pub server_pid: Option<u32>,
}

impl Common {
    /// The user (and so the room) number `room`.
    pub fn user(&self, room: usize) -> String {
        format!("{}-{room}", self.user_prefix)
    }

    /// A token for `user`.
    pub fn token(&self, user: &str) -> anyhow::Result<String> {
        match &self.minter {
            Some(minter) => minter.mint(user),
            None => anyhow::bail!("a JWT secret is needed for dash.v1 (--secret or AGENTDECK_AUTH__JWT_SECRET)"),
        }
    }
}

/// Largest metric label the dashboard accepts.
const MAX_LABEL_CHARS: usize = 200;

/// The patch a publisher sends: `/metrics` replaced by two metrics, the publish time
/// (µs on the generator's clock) and the sequence number, padded to about `bytes` of JSON.
pub fn patch_ops(room: usize, seq: u64, ts_us: u64, bytes: usize) -> Value {
    let prefix = format!("publish time of load room {room} ");
    // `[{"op":"add","path":"/metrics","value":[{"label":"","value":…,"unit":"us"},{"label":"seq","value":…}]}]`
    let frame_bytes = 100 + prefix.len();
    let padding = bytes.saturating_sub(frame_bytes).min(MAX_LABEL_CHARS.saturating_sub(prefix.len()));
    let label = format!("{prefix}{}", "x".repeat(padding));
    json!([{ "op": "add", "path": "/metrics", "value": [
        { "label": label, "value": ts_us, "unit": "us" },
        { "label": "seq", "value": seq },
    ]}])
}

/// The publish time and sequence number inside [`patch_ops`].
pub fn stamp_of(ops: &Value) -> Option<(u64, u64)> {
    let metrics = ops.get(0)?.get("value")?;
    let ts = metrics.get(0)?.get("value")?.as_u64()?;
    let seq = metrics.get(1)?.get("value")?.as_u64()?;
    Some((ts, seq))
}

/// Memory and CPU of the `idle` scenario.
#[derive(Debug, Clone, Serialize, Default)]
pub struct IdleSection {
    /// How long the connections were held.
    pub hold_secs: f64,
    /// Server RSS before connecting, KiB.
    pub server_rss_before_kb: Option<u64>,
    /// Server RSS at the end of the hold, KiB.
    pub server_rss_after_kb: Option<u64>,
    /// (after − before) / connections, bytes.
    pub server_rss_per_conn_bytes: Option<f64>,
    /// Server peak RSS, KiB.
    pub server_hwm_kb: Option<u64>,
    /// Server CPU over the hold, percent of one core.
    pub server_cpu_percent: Option<f64>,
    /// This generator's RSS per connection, bytes.
    pub loadgen_rss_per_conn_bytes: Option<f64>,
    /// Pings answered during the hold.
    pub pongs: u64,
}

/// Throughput, latency and correctness of `rooms`, `hot` and `storm`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct RoomsSection {
    /// Rooms.
    pub rooms: usize,
    /// Subscribed tabs per room.
    pub tabs: usize,
    /// Patches per second per room.
    pub rate_per_room: f64,
    /// Deliveries per second the schedule asks for (rooms × tabs × rate).
    pub offered_deliveries_per_sec: f64,
    /// Length of the measured window (after warm-up), seconds.
    pub measured_secs: f64,
    /// Deltas received by tabs in the measured window.
    pub deliveries: u64,
    /// Measured deliveries per second (until the last of them arrived).
    pub deliveries_per_sec: f64,
    /// Patches sent by publishers (all).
    pub sent: u64,
    /// Acks received (all).
    pub commits: u64,
    /// Acks of patches sent in the measured window, per second.
    pub commits_per_sec: f64,
    /// Publish → delivery, measured window, coordinated-omission corrected.
    pub latency: LatencySummary,
    /// Patch sent → ack.
    pub commit_latency: LatencySummary,
    /// How late publishers sent against their schedule (the generator's own lag).
    pub publish_lag: LatencySummary,
    /// Rejects by code.
    pub rejects: BTreeMap<String, u64>,
    /// Versions skipped.
    pub gaps: u64,
    /// Versions received twice.
    pub duplicates: u64,
    /// Snapshots after the first subscription.
    pub snapshots: u64,
    /// Reconnects.
    pub reconnects: u64,
    /// Tabs that did not end at their room's last committed version.
    pub incomplete_tabs: u64,
    /// Pings answered.
    pub pongs: u64,
    /// Per second of the measured window: worst latency, slow deliveries.
    pub timeline: Vec<TimelineSecond>,
}

/// Recovery of the `storm` scenario.
#[derive(Debug, Clone, Serialize, Default)]
pub struct StormSection {
    /// Tabs that dropped.
    pub clients: u64,
    /// Window the reconnects were spread over, seconds.
    pub window_secs: f64,
    /// Tabs that got `subscribed` again.
    pub reconnected: u64,
    /// Of those, `subscribed.recovered == true`.
    pub recovered: u64,
    /// recovered / clients.
    pub recovered_ratio: f64,
    /// Answered with a snapshot instead.
    pub snapshots: u64,
    /// Deltas replayed in batches.
    pub replayed: u64,
    /// TCP connect start → `subscribed` (caught up).
    pub catch_up: LatencySummary,
}

/// What a run measured and whether it passed.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Report {
    /// `idle`, `rooms`, `hot`, `storm`.
    pub scenario: String,
    /// `dash.v1` or `socket.io`.
    pub protocol: String,
    /// No gap, duplicate, lost delivery or error.
    pub ok: bool,
    /// Why not, when not.
    pub failures: Vec<String>,
    /// Connections opened.
    pub connections: usize,
    /// Connections that could not be opened.
    pub connect_failures: u64,
    /// Connections the server called busy (503, 4029, `unavailable`) and that were tried again.
    pub connect_retries: u64,
    /// Time to open them all, seconds.
    pub connect_secs: f64,
    /// Connections opened per second.
    pub connects_per_sec: f64,
    /// CPU of the server and the generator over the measured window.
    pub cpu: Vec<CpuUse>,
    /// `idle` results.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle: Option<IdleSection>,
    /// `rooms`, `hot`, `storm` results.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rooms: Option<RoomsSection>,
    /// `storm` results.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storm: Option<StormSection>,
    /// Errors seen (connections, timeouts, unexpected closes).
    pub error_count: u64,
    /// The first of them, word for word.
    pub errors: Vec<String>,
}

impl Report {
    /// Sets `ok` from the failures found.
    pub fn conclude(&mut self) {
        if self.connect_failures > 0 {
            self.failures.push(format!("{} connections failed", self.connect_failures));
        }
        if self.error_count > 0 {
            self.failures.push(format!("{} errors", self.error_count));
        }
        if let Some(rooms) = &self.rooms {
            if rooms.gaps > 0 {
                self.failures.push(format!("{} gaps", rooms.gaps));
            }
            if rooms.duplicates > 0 {
                self.failures.push(format!("{} duplicates", rooms.duplicates));
            }
            if rooms.incomplete_tabs > 0 {
                self.failures.push(format!("{} tabs missed their room's last version", rooms.incomplete_tabs));
            }
        }
        if let Some(storm) = &self.storm
            && storm.reconnected < storm.clients
        {
            self.failures.push(format!(
                "{} of {} tabs did not reconnect",
                storm.clients - storm.reconnected,
                storm.clients
            ));
        }
        self.ok = self.failures.is_empty();
    }

    /// A few lines for people.
    pub fn describe(&self) -> String {
        let mut lines = vec![format!(
            "{} ({}): {} connections in {:.1} s ({:.0}/s), {} failed, {} retried when busy",
            self.scenario,
            self.protocol,
            self.connections,
            self.connect_secs,
            self.connects_per_sec,
            self.connect_failures,
            self.connect_retries
        )];
        if let Some(idle) = &self.idle {
            let kb = |value: Option<u64>| value.map_or("?".to_owned(), |kb| format!("{:.1} MiB", kb as f64 / 1024.0));
            lines.push(format!(
                "  server RSS {} -> {} (peak {}), {} per connection; server CPU over {:.0} s hold: {}; pongs {}",
                kb(idle.server_rss_before_kb),
                kb(idle.server_rss_after_kb),
                kb(idle.server_hwm_kb),
                idle.server_rss_per_conn_bytes.map_or("?".to_owned(), |b| format!("{:.0} B", b)),
                idle.hold_secs,
                idle.server_cpu_percent.map_or("?".to_owned(), |p| format!("{p:.2} %")),
                idle.pongs,
            ));
        }
        if let Some(rooms) = &self.rooms {
            lines.push(format!(
                "  {} rooms x {} tabs at {}/s: {:.0} deliveries/s (offered {:.0}), {:.0} commits/s, {} sent, {} acked",
                rooms.rooms,
                rooms.tabs,
                rooms.rate_per_room,
                rooms.deliveries_per_sec,
                rooms.offered_deliveries_per_sec,
                rooms.commits_per_sec,
                rooms.sent,
                rooms.commits
            ));
            lines.push(format!("  delivery latency: {}", rooms.latency.describe()));
            lines.push(format!("  commit latency:   {}", rooms.commit_latency.describe()));
            lines.push(format!("  publisher lag:    {}", rooms.publish_lag.describe()));
            lines.push(format!(
                "  gaps {} duplicates {} incomplete {} snapshots {} reconnects {} rejects {:?}",
                rooms.gaps, rooms.duplicates, rooms.incomplete_tabs, rooms.snapshots, rooms.reconnects, rooms.rejects
            ));
        }
        if let Some(storm) = &self.storm {
            lines.push(format!(
                "  storm: {} tabs dropped, {} back within {:.1} s, recovered {} ({:.4}), snapshots {}, replayed {}",
                storm.clients,
                storm.reconnected,
                storm.window_secs,
                storm.recovered,
                storm.recovered_ratio,
                storm.snapshots,
                storm.replayed
            ));
            lines.push(format!("  connect -> caught up: {}", storm.catch_up.describe()));
        }
        let cpu: Vec<String> = self.cpu.iter().map(|use_| format!("{} {:.1} %", use_.process, use_.percent)).collect();
        if !cpu.is_empty() {
            lines.push(format!("  CPU (of one core) over the measured window: {}", cpu.join(", ")));
        }
        for error in &self.errors {
            lines.push(format!("  error: {error}"));
        }
        lines.push(if self.ok { "  PASS".to_owned() } else { format!("  FAIL: {}", self.failures.join("; ")) });
        lines.join("\n")
    }
}

/// Seconds as a float, rounded to milliseconds.
fn secs(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_is_about_the_size_asked_and_carries_its_stamp() {
        let ops = patch_ops(4999, 17, 123_456_789, 300);
        let len = ops.to_string().len();
        assert!((280..=320).contains(&len), "{len} bytes: {ops}");
        assert_eq!(stamp_of(&ops), Some((123_456_789, 17)));
        let label = ops[0]["value"][0]["label"].as_str().map(str::len);
        assert!(label.is_some_and(|len| len <= MAX_LABEL_CHARS), "{label:?}");
    }
}
