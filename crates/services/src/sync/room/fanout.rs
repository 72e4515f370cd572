//! Queueing frames for the room's members: encoded once, shared by every
//! connection they go to, and bounded per connection (see the hub's back-pressure).

use std::collections::BTreeSet;
use std::sync::Arc;

use agentdeck_domain::dashboard::document::DashboardDocument;
use agentdeck_domain::dashboard::version::StateVersion;
use agentdeck_sync_protocol::{ServerFrame, close};
use serde_json::Value;

use super::{Member, Owner};
use crate::sync::HubSettings;
use crate::sync::outbox::{Kind, Level, OutFrame};

impl Owner {
    /// Queues a frame for one connection (see [`Owner::offer`]).
    pub(super) fn send_to(&mut self, conn: u64, frame: OutFrame, kind: Kind) {
        let Some(member) = self.members.get_mut(&conn) else { return };
        if !offer(member, frame, kind, &self.settings, &mut self.lagging, conn) {
            self.members.remove(&conn);
        }
    }

    /// Queues a snapshot for one connection, compressed when it takes that.
    pub(super) fn send_snapshot(&mut self, conn: u64, snapshot: &SnapshotFrames, kind: Kind) {
        let Some(member) = self.members.get(&conn) else { return };
        let frame = snapshot.for_member(member.gzip);
        self.send_to(conn, frame, kind);
    }

    /// Queues one shared state frame for every subscriber but `except`.
    pub(super) fn broadcast(&mut self, frame: &OutFrame, except: Option<u64>) {
        let (settings, lagging) = (&self.settings, &mut self.lagging);
        self.members.retain(|conn, member| {
            if !member.subscribed || Some(*conn) == except {
                return true;
            }
            offer(member, frame.clone(), Kind::State, settings, lagging, *conn)
        });
    }

    /// Queues one snapshot for every subscriber, each in the encoding it takes.
    pub(super) fn broadcast_snapshot(&mut self, snapshot: &SnapshotFrames) {
        let (settings, lagging) = (&self.settings, &mut self.lagging);
        self.members.retain(|conn, member| {
            if !member.subscribed {
                return true;
            }
            offer(member, snapshot.for_member(member.gzip), Kind::State, settings, lagging, *conn)
        });
    }
}

/// Queues a frame for a member; `false` when the member must go (gone, or too slow: told to close with 4008).
///
/// Past the high-water mark its queued state frames are dropped and it joins `lagging`, to get one
/// snapshot when the current command is done; a member that still had such a replacement queued
/// and unsent, or whose queue would pass the hard limit, is dropped.
pub(super) fn offer(
    member: &mut Member,
    frame: OutFrame,
    kind: Kind,
    settings: &HubSettings,
    lagging: &mut BTreeSet<u64>,
    conn: u64,
) -> bool {
    if member.outbox.reader_gone() {
        return false;
    }
    if lagging.contains(&conn) && kind == Kind::State {
        return true; // superseded by the snapshot it is about to get
    }
    match member.outbox.push(frame, kind, settings.queue) {
        Level::Normal => true,
        // A replacement snapshot or a control frame may stand above the mark; the next state frame decides.
        Level::High if kind != Kind::State => true,
        Level::High => {
            if member.outbox.drop_state_frames() {
                kick(member, close::SLOW_CONSUMER);
                return false;
            }
            lagging.insert(conn);
            true
        }
        Level::Full => {
            kick(member, close::SLOW_CONSUMER);
            false
        }
    }
}

/// Tells a member's socket to close with `code` once it has written what is queued, and stops its queue.
pub(super) fn kick(member: &mut Member, code: u16) {
    if let Some(kick) = member.kick.take() {
        let _already_gone = kick.send(code);
    }
    member.outbox.close();
}

/// One snapshot, encoded once: JSON text for everyone, gzip for connections that take it.
pub(super) struct SnapshotFrames {
    text: Arc<str>,
    compress_above: usize,
    /// Compressed on first need (only a connection that takes gzip asks), then shared;
    /// `None` inside when the text is small or does not shrink.
    gzip: std::sync::OnceLock<Option<OutFrame>>,
}

impl SnapshotFrames {
    pub(super) fn new(version: &StateVersion, document: &DashboardDocument, compress_above: usize) -> Self {
        let state = serde_json::to_value(document).unwrap_or_else(|error| {
            tracing::error!(%error, "dashboard document does not serialise");
            Value::Null
        });
        let frame = ServerFrame::Snapshot {
            epoch: version.epoch.clone(),
            v: version.version,
            schema: document.schema_version,
            state,
        };
        let text = serde_json::to_string(&frame).unwrap_or_else(|error| {
            tracing::error!(%error, "server frame does not serialise");
            String::new()
        });
        Self { text: Arc::from(text), compress_above, gzip: std::sync::OnceLock::new() }
    }

    pub(super) fn for_member(&self, gzip: bool) -> OutFrame {
        let compressed = gzip.then(|| self.gzip.get_or_init(|| self.compress())).and_then(Option::as_ref);
        compressed.cloned().unwrap_or_else(|| OutFrame::Text(Arc::clone(&self.text)))
    }

    fn compress(&self) -> Option<OutFrame> {
        if self.text.len() <= self.compress_above {
            return None;
        }
        let compressed = crate::sync::gzip_frame(self.text.as_bytes())?;
        tracing::debug!(
            json_bytes = self.text.len(),
            gzip_bytes = compressed.len(),
            ratio = compressed.len() as f64 / self.text.len() as f64,
            "snapshot compressed"
        );
        Some(OutFrame::Binary(Arc::from(compressed)))
    }
}

/// Encodes a frame once; every connection it goes to shares the text.
pub(super) fn encode(frame: &ServerFrame) -> Option<OutFrame> {
    match serde_json::to_string(frame) {
        Ok(text) => Some(OutFrame::Text(Arc::from(text))),
        Err(error) => {
            tracing::error!(%error, "server frame does not serialise");
            None
        }
    }
}
