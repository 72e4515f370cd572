//! Bringing subscribers up to the store: missed versions from the history, else one snapshot;
//! and one fresh snapshot for each tab that fell behind.

use agentdeck_domain::auth::Principal;
use agentdeck_domain::dashboard::document::DashboardDocument;
use agentdeck_domain::dashboard::version::StateVersion;
use agentdeck_storage::{HistoryEntry, RoomSignal, RoomWatch};
use agentdeck_sync_protocol::{DeltaEntry, Origin, ServerFrame, close};

use super::fanout::{SnapshotFrames, encode, kick};
use super::writes::SOCKET_KEY_SEPARATOR;
use super::{MAX_COALESCE_ROUNDS, Owner};
use crate::dashboard::DashboardError;
use crate::sync::outbox::Kind;

impl Owner {
    /// Handles a hint from the change feed: anything this room has not sent yet is caught up.
    pub(super) async fn on_signal(&mut self, signal: RoomSignal) {
        let Some(known) = &self.known else { return }; // never read: the next `sub` reads anyway
        if let RoomSignal::Committed { epoch, version } = &signal
            && *epoch == known.epoch
            && *version <= known.version
        {
            return; // this node's own commit, or already caught up
        }
        self.catch_up(None).await;
    }

    /// Sends subscribers every change committed after the last version they got (up to `until`),
    /// from the history when it holds them all, else as one snapshot.
    pub(super) async fn catch_up(&mut self, until: Option<u64>) {
        let Some(known) = self.known.clone() else { return };
        if !known.epoch.is_empty() {
            match self.service.history_after(&self.principal, &known.epoch, known.version).await {
                Ok(Some(entries)) if contiguous_after(&entries, known.version) => {
                    let entries =
                        entries.into_iter().take_while(|entry| until.is_none_or(|until| entry.version <= until));
                    for entry in entries {
                        let DeltaEntry { base, v, ops, origin } = delta_entry(&self.principal, entry);
                        let delta = ServerFrame::Delta { epoch: known.epoch.clone(), base, v, ops, origin };
                        self.known = Some(StateVersion { epoch: known.epoch.clone(), version: v });
                        if let Some(frame) = encode(&delta) {
                            self.broadcast(&frame, None);
                        }
                    }
                    return;
                }
                Ok(_) => {}
                Err(error) => {
                    // The feed signals again once the store is back (it resubscribes).
                    return tracing::warn!(%error, "sync room could not read its history; catching up later");
                }
            }
        }
        // The history could not bridge the gap: a snapshot does (no second history read).
        self.snapshot_all(false).await;
    }

    /// Re-reads the state and sends every subscriber a snapshot: when it moved past what they
    /// hold, or `always` (a replace or delete, whose version says nothing about the content).
    pub(super) async fn snapshot_all(&mut self, always: bool) {
        match self.read().await {
            Ok((current, document)) => {
                let moved = self.known.as_ref() != Some(&current);
                self.known = Some(current.clone());
                if always || moved {
                    let snapshot = SnapshotFrames::new(&current, &document, self.settings.compress_above_bytes);
                    self.broadcast_snapshot(&snapshot);
                }
            }
            Err(error) => tracing::warn!(%error, "sync room could not re-read its state"),
        }
    }

    /// Reads the room's state, first bringing subscribers up to it when it moved past what they
    /// were sent (so a reader never skips versions the others still need).
    pub(super) async fn load(&mut self) -> Result<(StateVersion, DashboardDocument), DashboardError> {
        let (current, document) = self.read().await?;
        if let Some(known) = self.known.clone()
            && known != current
        {
            self.bring_up(&known, &current, &document).await;
        }
        self.known = Some(current.clone());
        Ok((current, document))
    }

    /// Sends subscribers holding `known` what leads to `current`: the history, else a snapshot.
    pub(super) async fn bring_up(
        &mut self,
        known: &StateVersion,
        current: &StateVersion,
        document: &DashboardDocument,
    ) {
        if !known.epoch.is_empty() && known.epoch == current.epoch && known.version < current.version {
            let history = self.service.history_after(&self.principal, &known.epoch, known.version).await;
            if let Ok(Some(entries)) = history
                && covers(&entries, known.version, current.version)
            {
                for entry in entries {
                    let DeltaEntry { base, v, ops, origin } = delta_entry(&self.principal, entry);
                    let delta = ServerFrame::Delta { epoch: known.epoch.clone(), base, v, ops, origin };
                    if let Some(frame) = encode(&delta) {
                        self.broadcast(&frame, None);
                    }
                }
                return;
            }
        }
        let snapshot = SnapshotFrames::new(current, document, self.settings.compress_above_bytes);
        self.broadcast_snapshot(&snapshot);
    }

    /// Reads the room's state (an empty document at version 0 before the first write).
    pub(super) async fn read(&self) -> Result<(StateVersion, DashboardDocument), DashboardError> {
        Ok(match self.service.get(&self.principal).await? {
            Some(view) => (view.version, view.document),
            None => (StateVersion { epoch: String::new(), version: 0 }, DashboardDocument::default()),
        })
    }

    /// Gives every lagging connection one fresh snapshot in place of the state frames it lost.
    pub(super) async fn coalesce(&mut self) {
        for _ in 0..MAX_COALESCE_ROUNDS {
            if self.lagging.is_empty() {
                return;
            }
            // `load` may itself send (bringing the others up) and make more connections lag.
            let (current, document) = match self.load().await {
                Ok(loaded) => loaded,
                Err(error) => {
                    tracing::warn!(%error, "sync room could not read a snapshot for lagging connections");
                    break;
                }
            };
            let snapshot = SnapshotFrames::new(&current, &document, self.settings.compress_above_bytes);
            for conn in std::mem::take(&mut self.lagging) {
                self.send_snapshot(conn, &snapshot, Kind::Coalesced);
            }
        }
        // Still lagging after every round (the store is unreachable, or they lag again at once): let them go.
        for conn in std::mem::take(&mut self.lagging) {
            if let Some(mut member) = self.members.remove(&conn) {
                kick(&mut member, close::SLOW_CONSUMER);
            }
        }
    }
}

/// Waits for the next change-feed signal; never resolves without a feed.
pub(super) async fn next_signal(watch: &mut Option<RoomWatch>) -> Option<RoomSignal> {
    match watch {
        Some(watch) => watch.next().await,
        None => std::future::pending().await,
    }
}

/// Whether `entries` are the versions right after `from`, in order, without a gap.
pub(super) fn contiguous_after(entries: &[HistoryEntry], from: u64) -> bool {
    entries.iter().zip(from + 1..).all(|(entry, expected)| entry.version == expected)
}

/// Whether the history holds exactly the versions after `from` up to `to`, in order.
pub(super) fn covers(entries: &[HistoryEntry], from: u64, to: u64) -> bool {
    entries.len() as u64 == to - from
        && entries.iter().zip(from + 1..).all(|(entry, expected)| entry.version == expected)
}

/// A history entry as a `batch` member, its origin read back from a socket op key (see [`socket_op_key`]).
pub(super) fn delta_entry(principal: &Principal, entry: HistoryEntry) -> DeltaEntry {
    let origin = entry
        .op_key
        .as_deref()
        .and_then(|key| key.strip_prefix(principal.subject.as_str()))
        .and_then(|rest| rest.strip_prefix(':'))
        .and_then(|rest| rest.strip_prefix(SOCKET_KEY_SEPARATOR))
        .and_then(|rest| rest.split_once(SOCKET_KEY_SEPARATOR))
        .map(|(tab, op)| Origin { tab: tab.to_owned(), op: op.to_owned() });
    DeltaEntry { base: entry.version.saturating_sub(1), v: entry.version, ops: entry.ops, origin }
}
