//! The owner task of one room: everything the room does, one step at a time.
//!
//! # Layout
//!
//! - here: the owner, its loop, joins and leaves, and answers to `sub` and `resync`;
//! - `writes`: a socket's `patch`, and placing committed changes after what was sent;
//! - `catch_up`: bringing subscribers up to the store (history, else a snapshot), lagging tabs;
//! - `fanout`: queueing frames for members, encoded once and shared.

mod catch_up;
mod fanout;
mod writes;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Weak};
use std::time::Duration;

use agentdeck_domain::auth::Principal;
use agentdeck_domain::dashboard::version::StateVersion;
use agentdeck_storage::{RoomKey, RoomWatch};
use agentdeck_sync_protocol::{DeltaEntry, RejectCode, ServerFrame, close};
use serde_json::json;
use tokio::sync::{Notify, mpsc, oneshot};

use self::catch_up::{delta_entry, next_signal};
use self::fanout::{SnapshotFrames, encode, kick};
use self::writes::patch_code;
use super::budget::PatchBudget;
use super::outbox::{Kind, Outbox};
use super::{Change, Command, HubSettings, Inner, Joining, PatchRequest, SubRequest};
use crate::dashboard::{DashboardError, DashboardService};

/// How often the owner looks for connections that vanished without a `Leave`.
const SWEEP_INTERVAL: Duration = Duration::from_secs(5);
/// Rounds of coalescing after one command before lagging connections are dropped instead.
const MAX_COALESCE_ROUNDS: usize = 3;

/// One connection of the room.
struct Member {
    principal: Principal,
    outbox: Arc<Outbox>,
    /// Takes large snapshots gzip-compressed (binary frames).
    gzip: bool,
    kick: Option<oneshot::Sender<u16>>,
    /// Gets deltas only after its `sub` was answered.
    subscribed: bool,
}

/// The owner of one room.
pub(super) struct Owner {
    key: RoomKey,
    generation: u64,
    hub: Weak<Inner>,
    service: DashboardService,
    /// Whose room this is (every member shares workspace and subject).
    principal: Principal,
    members: HashMap<u64, Member>,
    /// The last version sent to subscribers; `None` until first read.
    known: Option<StateVersion>,
    /// Patches this user may still send (the room is the user's, so this is per user).
    budget: PatchBudget,
    /// Commits made on other nodes (cluster mode); `None` on a single node.
    watch: Option<RoomWatch>,
    settings: HubSettings,
    /// Connections whose state frames were dropped: they get nothing but a replacement snapshot next.
    lagging: BTreeSet<u64>,
    /// Raised by the hub when a commit notice for this room could not be queued.
    missed: Arc<Notify>,
}

/// How an owner hears of changes it did not commit itself.
pub(super) struct OutsideChanges {
    /// Commits made on other nodes (cluster mode); `None` on a single node.
    pub(super) watch: Option<RoomWatch>,
    /// Raised by the hub when a notice of this node's commit could not be queued.
    pub(super) missed: Arc<Notify>,
}

impl Owner {
    pub(super) fn new(
        key: RoomKey,
        generation: u64,
        hub: Weak<Inner>,
        service: DashboardService,
        principal: Principal,
        settings: HubSettings,
        outside: OutsideChanges,
    ) -> Self {
        let OutsideChanges { watch, missed } = outside;
        let budget = PatchBudget::new(settings.patches_per_minute);
        Self {
            key,
            generation,
            hub,
            service,
            principal,
            members: HashMap::new(),
            known: None,
            budget,
            watch,
            settings,
            lagging: BTreeSet::new(),
            missed,
        }
    }

    /// Serves the room until its last connection has left.
    pub(super) async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let mut sweep = tokio::time::interval(SWEEP_INTERVAL);
        let missed = Arc::clone(&self.missed);
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    // Boxed: an idle room's task then holds only the small waiting state; the
                    // large state of handling a command lives on the heap while it runs.
                    Some(command) => Box::pin(self.handle(command)).await,
                    None => return,
                },
                _ = sweep.tick() => self.members.retain(|_, member| !member.outbox.reader_gone()),
                () = missed.notified() => Box::pin(self.catch_up(None)).await,
                signal = next_signal(&mut self.watch) => match signal {
                    Some(signal) => Box::pin(self.on_signal(signal)).await,
                    None => {
                        tracing::warn!("dashboard change feed stopped; this room now hears only its own node");
                        self.watch = None;
                    }
                },
            }
            if !self.lagging.is_empty() {
                Box::pin(self.coalesce()).await;
            }
            if self.members.is_empty() && self.try_stop(&commands) {
                return;
            }
        }
    }

    /// Removes this owner from the registry unless a command (a join) is waiting.
    fn try_stop(&self, commands: &mpsc::Receiver<Command>) -> bool {
        let Some(hub) = self.hub.upgrade() else { return true };
        let mut rooms = hub.rooms();
        // Joins are queued under this same lock, so nothing can slip in after this check.
        if !commands.is_empty() {
            return false;
        }
        if rooms.get(&self.key).is_some_and(|entry| entry.generation == self.generation) {
            rooms.remove(&self.key);
        }
        true
    }

    async fn handle(&mut self, command: Command) {
        match command {
            Command::Join(joining) => {
                let Joining { conn, principal, outbox, gzip, kick } = *joining;
                let member = Member { principal, outbox, gzip, kick: Some(kick), subscribed: false };
                self.members.insert(conn, member);
            }
            Command::Leave { conn } => {
                if let Some(member) = self.members.remove(&conn) {
                    member.outbox.close();
                }
            }
            Command::Sub(request) => {
                let SubRequest { conn, epoch, v } = *request;
                self.subscribe(conn, epoch, v).await;
            }
            Command::Resync { conn } => self.resync(conn).await,
            Command::Patch(request) => {
                let PatchRequest { conn, op, base, ops, tab } = *request;
                self.patch(conn, op, base, ops, tab).await;
            }
            Command::Committed(change) => match *change {
                Change::Patched { version, ops } => self.advance(version, ops, None, None).await,
                // Sent already: the room read (and so migrated) the state itself.
                Change::Replaced { version } if self.known.as_ref() == Some(&version) => {}
                Change::Replaced { .. } | Change::Deleted => self.snapshot_all(true).await,
            },
        }
    }

    /// Answers `sub`: nothing missed, the missed deltas, or a snapshot — then `subscribed`.
    async fn subscribe(&mut self, conn: u64, epoch: Option<String>, v: Option<u64>) {
        let was_recovering = epoch.is_some() || v.is_some();
        if let (Some(epoch), Some(v)) = (epoch, v)
            && !epoch.is_empty()
            && self.recover(conn, epoch, v).await
        {
            return;
        }
        let (current, document) = match self.load().await {
            Ok(loaded) => loaded,
            Err(error) => return self.cannot_position(conn, &error),
        };
        let snapshot = SnapshotFrames::new(&current, &document, self.settings.compress_above_bytes);
        self.send_snapshot(conn, &snapshot, Kind::State);
        self.send_subscribed(conn, &current, was_recovering, false, 0);
    }

    /// Recovers a client holding `(epoch, v)` without reading the document: nothing (it holds what
    /// the room last sent, and later changes reach it as deltas) or the missed changes from the
    /// history as one `batch`. `false` when only a snapshot can help.
    ///
    /// This keeps a reconnect storm cheap: no document is read, decoded or validated.
    async fn recover(&mut self, conn: u64, epoch: String, v: u64) -> bool {
        if let Some(known) = &self.known
            && known.epoch == epoch
            && known.version == v
        {
            let current = known.clone();
            self.send_subscribed(conn, &current, true, true, 0);
            return true;
        }
        let principal = self.principal_of(conn);
        let entries = match self.service.history_after(&principal, &epoch, v).await {
            Ok(Some(entries)) => entries,
            Ok(None) => return false,
            Err(error) => {
                tracing::warn!(%error, "sync history unavailable; answering with a snapshot");
                return false;
            }
        };
        // The history holds every version after `v` up to the current one.
        let current = StateVersion { epoch: epoch.clone(), version: v + entries.len() as u64 };
        if self.known.as_ref().is_some_and(|known| *known != current) {
            // The room is behind the store: its subscribers get what they missed first.
            self.catch_up(None).await;
            if self.known.as_ref() != Some(&current) {
                return false; // the store moved on meanwhile: a snapshot is simpler than chasing it
            }
        }
        if self.known.is_none() {
            self.known = Some(current.clone());
        }
        if entries.is_empty() {
            self.send_subscribed(conn, &current, true, true, 0);
            return true;
        }
        let deltas: Vec<DeltaEntry> = entries.into_iter().map(|entry| delta_entry(&principal, entry)).collect();
        let replayed = u32::try_from(deltas.len()).unwrap_or(u32::MAX);
        let batch = ServerFrame::Batch { epoch, base: v, v: current.version, deltas };
        if let Some(frame) = encode(&batch) {
            self.send_to(conn, frame, Kind::State);
        }
        self.send_subscribed(conn, &current, true, true, replayed);
        true
    }

    /// Answers `resync` with a snapshot.
    async fn resync(&mut self, conn: u64) {
        match self.load().await {
            Ok((current, document)) => {
                let snapshot = SnapshotFrames::new(&current, &document, self.settings.compress_above_bytes);
                self.send_snapshot(conn, &snapshot, Kind::State);
                if let Some(member) = self.members.get_mut(&conn) {
                    member.subscribed = true;
                }
            }
            Err(error) => self.cannot_position(conn, &error),
        }
    }

    /// Refuses a `sub` or `resync` the room cannot answer (the store is down), then lets the
    /// connection go with 4010: the client reconnects with backoff and subscribes again, instead
    /// of waiting on an open socket that will never get its state.
    fn cannot_position(&mut self, conn: u64, error: &DashboardError) {
        self.reject(conn, None, error);
        self.lagging.remove(&conn);
        if let Some(mut member) = self.members.remove(&conn) {
            kick(&mut member, close::INSUFFICIENT_STATE);
        }
    }

    fn principal_of(&self, conn: u64) -> Principal {
        self.members.get(&conn).map_or_else(|| self.principal.clone(), |member| member.principal.clone())
    }

    fn send_subscribed(
        &mut self,
        conn: u64,
        current: &StateVersion,
        was_recovering: bool,
        recovered: bool,
        replayed: u32,
    ) {
        let frame = ServerFrame::Subscribed {
            epoch: current.epoch.clone(),
            v: current.version,
            was_recovering,
            recovered,
            replayed,
        };
        if let Some(frame) = encode(&frame) {
            self.send_to(conn, frame, Kind::Control);
        }
        if let Some(member) = self.members.get_mut(&conn) {
            member.subscribed = true;
        }
    }

    fn reject(&mut self, conn: u64, op: Option<String>, error: &DashboardError) {
        let (code, v) = match error {
            DashboardError::Conflict { current, .. } => (RejectCode::Conflict, Some(current.version)),
            DashboardError::PreconditionFailed { current } => {
                (RejectCode::Conflict, current.as_ref().map(|current| current.version))
            }
            DashboardError::NotFound | DashboardError::Unreadable => (RejectCode::Conflict, None),
            DashboardError::Rejected(patch) => (patch_code(patch.code()), None),
            DashboardError::Unavailable(_) | DashboardError::Storage(_) => (RejectCode::Unavailable, None),
        };
        let v = v.or_else(|| self.known.as_ref().map(|known| known.version));
        let frame = ServerFrame::Reject { op, code, v, detail: Some(json!({ "message": error.to_string() })) };
        if let Some(frame) = encode(&frame) {
            self.send_to(conn, frame, Kind::Control);
        }
    }
}
