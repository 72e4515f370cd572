//! `[sync]`: limits of the real-time sync sockets on `/api/sync` (DESIGN §5.4).

use serde::{Deserialize, Serialize};

/// Real-time sync over `/api/sync` (DESIGN §5.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyncSettings {
    /// Largest inbound WebSocket frame, in bytes; a larger one closes the socket with 4009.
    pub max_frame_bytes: usize,
    /// How often the server pings, in milliseconds; two missed pongs close the socket with 4012.
    pub heartbeat_ms: u64,
    /// Patches one user may send per minute over sockets (bursts up to this many); 0 means unlimited.
    pub patches_per_minute: u32,
    /// Open sockets one user may hold on this node (0: unlimited).
    pub max_connections_per_user: usize,
    /// Open sockets one workspace may hold on this node (0: unlimited).
    pub max_connections_per_workspace: usize,
    /// Bytes queued for one socket above which its pending deltas are replaced by one snapshot.
    pub outbound_high_water_bytes: usize,
    /// Bytes queued for one socket above which it is closed with 4008 (slow consumer).
    pub outbound_limit_bytes: usize,
    /// Snapshots larger than this go gzip-compressed to sockets that opened with `?compress=gzip`.
    pub compress_snapshots_above_bytes: usize,
    /// Longest time, in seconds, between two re-checks of an open socket's session or API token
    /// (each wait is drawn between half of this and all of it); an ended credential closes the socket with 4001.
    pub reauth_interval_secs: u64,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            max_frame_bytes: 64 * 1024,
            heartbeat_ms: 25_000,
            patches_per_minute: 100,
            max_connections_per_user: 5,
            max_connections_per_workspace: 100,
            outbound_high_water_bytes: 256 * 1024,
            outbound_limit_bytes: 1024 * 1024,
            compress_snapshots_above_bytes: 8 * 1024,
            reauth_interval_secs: 30,
        }
    }
}
