//! Frames in both directions, their codes, and parsing of client input.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where a delta came from, so a tab can tell its own changes from others'.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The browser tab (from its sessionStorage) that wrote it.
    pub tab: String,
    /// The writer's op id.
    pub op: String,
}

/// One committed change inside a `batch`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeltaEntry {
    /// Version the change applies to.
    pub base: u64,
    /// Version after it.
    pub v: u64,
    /// The RFC 6902 operations.
    pub ops: Value,
    /// Who wrote it, when a tab did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

/// Limits the server enforces on this connection, announced in `hello`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    /// Largest inbound frame, in bytes.
    pub max_frame_bytes: u64,
    /// Most operations in one patch.
    pub max_ops: u32,
    /// Patches allowed per minute per user.
    pub patches_per_minute: u32,
}

/// Why a patch was refused (`reject.code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectCode {
    /// It touches paths changed since its base; re-read and retry.
    Conflict,
    /// A `test` operation did not hold; nothing was applied.
    TestFailed,
    /// Not a valid patch (syntax, pointer, allow-list).
    InvalidPatch,
    /// The result would exceed the document size cap.
    TooLarge,
    /// A path the client may not write.
    Forbidden,
    /// Too many patches; slow down.
    RateLimited,
    /// The result breaks the document or widget schema.
    Schema,
    /// The frame itself could not be understood.
    BadFrame,
    /// The server could not commit now (storage unavailable); retry later.
    Unavailable,
}

/// Frames the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "camelCase")]
pub enum ServerFrame {
    /// First frame after the upgrade.
    #[serde(rename_all = "camelCase")]
    Hello {
        /// Connection id, for logs and support.
        sid: String,
        /// Protocol version (`dash.v1`).
        proto: String,
        /// How often the server pings.
        heartbeat_ms: u64,
        /// What the server enforces.
        limits: Limits,
        /// Server clock (RFC 3339), to spot skewed clients.
        server_time: String,
    },
    /// The whole state, replacing whatever the client had.
    Snapshot {
        /// Epoch of the room's log.
        epoch: String,
        /// Version of this state.
        v: u64,
        /// Format version of `state` (`schemaVersion`).
        schema: u32,
        /// The document.
        state: Value,
    },
    /// One committed change; apply only when `base` equals the local version.
    Delta {
        /// Epoch of the room's log.
        epoch: String,
        /// Version it applies to.
        base: u64,
        /// Version after it.
        v: u64,
        /// The RFC 6902 operations.
        ops: Value,
        /// Who wrote it, when a tab did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        origin: Option<Origin>,
    },
    /// Missed changes replayed in order after a reconnect.
    Batch {
        /// Epoch of the room's log.
        epoch: String,
        /// Version the first change applies to.
        base: u64,
        /// Version after the last.
        v: u64,
        /// The changes, oldest first.
        deltas: Vec<DeltaEntry>,
    },
    /// The writer's own patch was committed (sent instead of its echo).
    Ack {
        /// The writer's op id.
        op: String,
        /// Version it applied to.
        base: u64,
        /// Version after it.
        v: u64,
        /// Present when the server's rules changed more than the patch said
        /// (oldest items trimmed, `activeAlerts` recomputed): the change as
        /// committed, to apply instead of the patch's own operations.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ops: Option<Value>,
    },
    /// A patch (or frame) was refused; nothing was applied.
    Reject {
        /// The writer's op id, when the frame had one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        op: Option<String>,
        /// Why.
        code: RejectCode,
        /// The room's current version.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        v: Option<u64>,
        /// Human-readable detail (failing paths and the like).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<Value>,
    },
    /// Subscription is live; tells whether missed changes were recovered.
    #[serde(rename_all = "camelCase")]
    Subscribed {
        /// Epoch of the room's log.
        epoch: String,
        /// Current version.
        v: u64,
        /// The client asked to recover from a position.
        was_recovering: bool,
        /// It got every missed change (`batch`), not a snapshot.
        recovered: bool,
        /// How many changes were replayed.
        replayed: u32,
    },
    /// Heartbeat; the client answers `pong`.
    Ping {
        /// Server time in milliseconds since the Unix epoch.
        ts: u64,
    },
    /// The server is about to close the connection.
    #[serde(rename_all = "camelCase")]
    Goaway {
        /// The close code that follows (see [`close`]).
        code: u16,
        /// Whether reconnecting makes sense.
        reconnect: bool,
        /// Suggested wait before reconnecting.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
}

/// Frames a client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "camelCase")]
pub enum ClientFrame {
    /// Start (or recover) the subscription; `epoch` and `v` are what the client holds.
    Sub {
        /// The epoch the client holds, if any.
        #[serde(default)]
        epoch: Option<String>,
        /// The version the client holds, if any.
        #[serde(default)]
        v: Option<u64>,
    },
    /// A change made against version `base`.
    Patch {
        /// Client-chosen op id (unique per tab); a retry with the same id is applied once.
        op: String,
        /// Version the patch was made against.
        base: u64,
        /// The RFC 6902 operations.
        ops: Value,
        /// The writing tab.
        tab: String,
    },
    /// Answer to `ping`.
    Pong {
        /// Echo of the ping's `ts`, if the client keeps it.
        #[serde(default)]
        ts: Option<u64>,
    },
    /// The client lost track (a `base` mismatch); send a snapshot.
    Resync,
}

/// WebSocket close codes of the protocol (the 4000–4999 application range).
pub mod close {
    /// Not signed in, or the ticket was bad; do not reconnect without a new one.
    pub const UNAUTHORIZED: u16 = 4001;
    /// Signed in, but not allowed.
    pub const FORBIDDEN: u16 = 4003;
    /// The client read too slowly; reconnect and recover.
    pub const SLOW_CONSUMER: u16 = 4008;
    /// An inbound frame was over the size limit.
    pub const FRAME_TOO_LARGE: u16 = 4009;
    /// The server could not position the client; reconnect and recover.
    pub const INSUFFICIENT_STATE: u16 = 4010;
    /// The server is restarting; reconnect after the suggested jitter.
    pub const SERVER_RESTART: u16 = 4011;
    /// No `pong` in time.
    pub const NO_PONG: u16 = 4012;
    /// The client's format is too old; reload the app.
    pub const SCHEMA_TOO_OLD: u16 = 4026;
    /// Too many connections or frames; back off.
    pub const RATE_LIMITED: u16 = 4029;
}

/// Why an inbound frame could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Larger than the limit.
    #[error("frame of {bytes} bytes is over the {limit}-byte limit")]
    TooLarge {
        /// Size of the frame.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// Not JSON, not an object with a known `t`, or with wrong members.
    #[error("malformed frame: {0}")]
    Malformed(String),
}

/// Parses a text frame from a client, refusing frames over `max_bytes`.
pub fn parse_client_frame(text: &str, max_bytes: usize) -> Result<ClientFrame, FrameError> {
    if text.len() > max_bytes {
        return Err(FrameError::TooLarge { bytes: text.len(), limit: max_bytes });
    }
    serde_json::from_str(text).map_err(|error| {
        let message = error.to_string();
        // serde names the variants it expected; keep that, it tells the client what exists.
        FrameError::Malformed(message)
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn server_frames_carry_their_type_in_t() {
        let delta = ServerFrame::Delta {
            epoch: "e1".into(),
            base: 4,
            v: 5,
            ops: json!([{"op": "add", "path": "/alerts/-", "value": {"id": "a"}}]),
            origin: Some(Origin { tab: "tab-1".into(), op: "op-9".into() }),
        };
        assert_eq!(
            serde_json::to_value(&delta).unwrap(),
            json!({"t": "delta", "epoch": "e1", "base": 4, "v": 5,
                   "ops": [{"op": "add", "path": "/alerts/-", "value": {"id": "a"}}],
                   "origin": {"tab": "tab-1", "op": "op-9"}})
        );
        let subscribed =
            ServerFrame::Subscribed { epoch: "e1".into(), v: 5, was_recovering: true, recovered: false, replayed: 0 };
        assert_eq!(
            serde_json::to_value(&subscribed).unwrap(),
            json!({"t": "subscribed", "epoch": "e1", "v": 5, "wasRecovering": true, "recovered": false, "replayed": 0})
        );
        let reject =
            ServerFrame::Reject { op: Some("o".into()), code: RejectCode::TestFailed, v: Some(5), detail: None };
        assert_eq!(
            serde_json::to_value(&reject).unwrap(),
            json!({"t": "reject", "op": "o", "code": "test_failed", "v": 5})
        );
    }

    #[test]
    fn every_server_frame_round_trips() {
        let frames = [
            ServerFrame::Hello {
                sid: "s".into(),
                proto: crate::SUBPROTOCOL.into(),
                heartbeat_ms: 25_000,
                limits: Limits { max_frame_bytes: 65_536, max_ops: 100, patches_per_minute: 100 },
                server_time: "2026-11-22T04:00:00.000Z".into(),
            },
            ServerFrame::Snapshot { epoch: "e".into(), v: 1, schema: 2, state: json!({"schemaVersion": 2}) },
            ServerFrame::Batch {
                epoch: "e".into(),
                base: 1,
                v: 3,
                deltas: vec![
                    DeltaEntry { base: 1, v: 2, ops: json!([]), origin: None },
                    DeltaEntry { base: 2, v: 3, ops: json!([]), origin: None },
                ],
            },
            ServerFrame::Ack { op: "o".into(), base: 3, v: 4, ops: None },
            ServerFrame::Ack {
                op: "o".into(),
                base: 4,
                v: 5,
                ops: Some(json!([{ "op": "remove", "path": "/alerts/0" }])),
            },
            ServerFrame::Ping { ts: 1 },
            ServerFrame::Goaway { code: close::SERVER_RESTART, reconnect: true, retry_after_ms: Some(1200) },
        ];
        for frame in frames {
            let text = serde_json::to_string(&frame).unwrap();
            assert_eq!(serde_json::from_str::<ServerFrame>(&text).unwrap(), frame, "{text}");
        }
    }

    #[test]
    fn client_frames_parse() {
        assert_eq!(parse_client_frame(r#"{"t":"sub"}"#, 1024), Ok(ClientFrame::Sub { epoch: None, v: None }));
        assert_eq!(
            parse_client_frame(r#"{"t":"sub","epoch":"e1","v":7}"#, 1024),
            Ok(ClientFrame::Sub { epoch: Some("e1".into()), v: Some(7) })
        );
        assert_eq!(
            parse_client_frame(r#"{"t":"patch","op":"o1","base":7,"ops":[],"tab":"t1"}"#, 1024),
            Ok(ClientFrame::Patch { op: "o1".into(), base: 7, ops: json!([]), tab: "t1".into() })
        );
        assert_eq!(parse_client_frame(r#"{"t":"resync"}"#, 1024), Ok(ClientFrame::Resync));
        assert_eq!(parse_client_frame(r#"{"t":"pong","ts":3}"#, 1024), Ok(ClientFrame::Pong { ts: Some(3) }));
    }

    #[test]
    fn bad_client_frames_are_errors_that_explain() {
        let unknown = parse_client_frame(r#"{"t":"explode"}"#, 1024).unwrap_err();
        assert!(unknown.to_string().contains("sub"), "names the known types: {unknown}");
        for text in ["", "[]", "{}", r#"{"t":"patch","op":"o"}"#, r#"{"t":"sub","v":-1}"#, "not json"] {
            assert!(matches!(parse_client_frame(text, 1024), Err(FrameError::Malformed(_))), "{text}");
        }
        let big = format!(r#"{{"t":"sub","epoch":"{}"}}"#, "x".repeat(100));
        assert_eq!(parse_client_frame(&big, 64), Err(FrameError::TooLarge { bytes: big.len(), limit: 64 }));
    }
}
