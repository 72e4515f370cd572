//! The owner task of one room: everything the room does, one step at a time.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Weak};
use std::time::Duration;

use agentdeck_domain::auth::Principal;
use agentdeck_domain::dashboard::document::DashboardDocument;
use agentdeck_domain::dashboard::version::{EntityTag, Precondition, StateVersion};
use agentdeck_storage::{HistoryEntry, RoomKey, RoomSignal, RoomWatch};
use agentdeck_sync_protocol::{DeltaEntry, Origin, RejectCode, ServerFrame, close};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use super::budget::PatchBudget;
use super::outbox::{Kind, Level, OutFrame, Outbox};
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
}

impl Owner {
    pub(super) fn new(
        key: RoomKey,
        generation: u64,
        hub: Weak<Inner>,
        service: DashboardService,
        principal: Principal,
        settings: HubSettings,
        watch: Option<RoomWatch>,
    ) -> Self {
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
        }
    }

    /// Serves the room until its last connection has left.
    pub(super) async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let mut sweep = tokio::time::interval(SWEEP_INTERVAL);
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    // Boxed: an idle room's task then holds only the small waiting state; the
                    // large state of handling a command lives on the heap while it runs.
                    Some(command) => Box::pin(self.handle(command)).await,
                    None => return,
                },
                _ = sweep.tick() => self.members.retain(|_, member| !member.outbox.reader_gone()),
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
                Change::Reset => self.snapshot_all(true).await,
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
            Err(error) => return self.reject(conn, None, &error),
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
            Err(error) => self.reject(conn, None, &error),
        }
    }

    /// Commits a patch: `ack` to the writer, one `delta` to everyone else, or `reject` to the writer.
    async fn patch(&mut self, conn: u64, op: String, base: u64, ops: Value, tab: String) {
        if let Err(wait) = self.budget.take() {
            let v = self.known.as_ref().map(|known| known.version);
            let detail = json!({ "message": "too many patches; slow down", "retryAfterMs": wait.as_millis() as u64 });
            let frame = ServerFrame::Reject { op: Some(op), code: RejectCode::RateLimited, v, detail: Some(detail) };
            if let Some(frame) = encode(&frame) {
                self.send_to(conn, frame, Kind::Control);
            }
            return;
        }
        if self.known.is_none()
            && let Err(error) = self.load().await
        {
            return self.reject(conn, Some(op), &error);
        }
        let principal = self.principal_of(conn);
        // `base` counts versions of the epoch the room is in; with no state yet there is nothing to name.
        let precondition = self.known.as_ref().filter(|known| !known.epoch.is_empty()).map(|known| {
            Precondition::Tags(vec![EntityTag {
                weak: false,
                version: StateVersion { epoch: known.epoch.clone(), version: base },
            }])
        });
        // Scoped to the user and tab, so a retry of this op id is applied once and no other tab collides.
        let op_key = socket_op_key(&principal, &tab, &op);
        let committed = match self.service.patch(&principal, &ops, precondition, Some(op_key)).await {
            Ok(committed) => committed,
            Err(error) => return self.reject(conn, Some(op), &error),
        };
        let version = committed.version;
        if committed.replayed {
            let ack = ServerFrame::Ack { op, base, v: version.version, ops: None };
            if let Some(frame) = encode(&ack) {
                self.send_to(conn, frame, Kind::Control);
            }
            return;
        }
        // Commits of other nodes (or REST) landed in between: subscribers get them first, in order.
        if let Some(known) = &self.known
            && known.epoch == version.epoch
            && known.next().version < version.version
        {
            self.catch_up(Some(version.version - 1)).await;
        }
        // The ack names the version the change really followed (a rebased patch moves past `base`).
        let ack_base = match &self.known {
            Some(known) if known.next() == version => known.version,
            _ => base,
        };
        // The writer applies its own ops on `ack`; when the rules changed more, it gets the whole change.
        let changed_more = (committed.ops != ops).then(|| committed.ops.clone());
        let ack = ServerFrame::Ack { op: op.clone(), base: ack_base, v: version.version, ops: changed_more };
        if let Some(frame) = encode(&ack) {
            self.send_to(conn, frame, Kind::Control);
        }
        self.advance(version, committed.ops, Some(Origin { tab, op }), Some(conn)).await;
    }

    /// Sends subscribers what moved the room to `version`: a delta when it is the next one, else a snapshot.
    async fn advance(&mut self, version: StateVersion, ops: Value, origin: Option<Origin>, writer: Option<u64>) {
        match &self.known {
            Some(known) if known.next() == version => {
                let delta = ServerFrame::Delta {
                    epoch: version.epoch.clone(),
                    base: known.version,
                    v: version.version,
                    ops,
                    origin,
                };
                self.known = Some(version);
                if let Some(frame) = encode(&delta) {
                    self.broadcast(&frame, writer);
                }
            }
            // Already sent: the owner's own commit overtook this notification.
            Some(known) if known.epoch == version.epoch && version.version <= known.version => {}
            // A gap: the history fills it (else a snapshot).
            Some(known) if known.epoch == version.epoch => self.catch_up(None).await,
            // A new epoch: only a snapshot puts everyone right.
            _ => self.snapshot_all(true).await,
        }
    }

    /// Handles a hint from the change feed: anything this room has not sent yet is caught up.
    async fn on_signal(&mut self, signal: RoomSignal) {
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
    async fn catch_up(&mut self, until: Option<u64>) {
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
    async fn snapshot_all(&mut self, always: bool) {
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
    async fn load(&mut self) -> Result<(StateVersion, DashboardDocument), DashboardError> {
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
    async fn bring_up(&mut self, known: &StateVersion, current: &StateVersion, document: &DashboardDocument) {
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
    async fn read(&self) -> Result<(StateVersion, DashboardDocument), DashboardError> {
        Ok(match self.service.get(&self.principal).await? {
            Some(view) => (view.version, view.document),
            None => (StateVersion { epoch: String::new(), version: 0 }, DashboardDocument::default()),
        })
    }

    /// Gives every lagging connection one fresh snapshot in place of the state frames it lost.
    async fn coalesce(&mut self) {
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
                kick(&mut member);
            }
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

    /// Queues a frame for one connection (see [`Owner::offer`]).
    fn send_to(&mut self, conn: u64, frame: OutFrame, kind: Kind) {
        let Some(member) = self.members.get_mut(&conn) else { return };
        if !offer(member, frame, kind, &self.settings, &mut self.lagging, conn) {
            self.members.remove(&conn);
        }
    }

    /// Queues a snapshot for one connection, compressed when it takes that.
    fn send_snapshot(&mut self, conn: u64, snapshot: &SnapshotFrames, kind: Kind) {
        let Some(member) = self.members.get(&conn) else { return };
        let frame = snapshot.for_member(member.gzip);
        self.send_to(conn, frame, kind);
    }

    /// Queues one shared state frame for every subscriber but `except`.
    fn broadcast(&mut self, frame: &OutFrame, except: Option<u64>) {
        let (settings, lagging) = (&self.settings, &mut self.lagging);
        self.members.retain(|conn, member| {
            if !member.subscribed || Some(*conn) == except {
                return true;
            }
            offer(member, frame.clone(), Kind::State, settings, lagging, *conn)
        });
    }

    /// Queues one snapshot for every subscriber, each in the encoding it takes.
    fn broadcast_snapshot(&mut self, snapshot: &SnapshotFrames) {
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
fn offer(
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
                kick(member);
                return false;
            }
            lagging.insert(conn);
            true
        }
        Level::Full => {
            kick(member);
            false
        }
    }
}

/// Tells a member's socket to close with 4008 (slow consumer) and stops its queue.
fn kick(member: &mut Member) {
    if let Some(kick) = member.kick.take() {
        let _already_gone = kick.send(close::SLOW_CONSUMER);
    }
    member.outbox.close();
}

/// Waits for the next change-feed signal; never resolves without a feed.
async fn next_signal(watch: &mut Option<RoomWatch>) -> Option<RoomSignal> {
    match watch {
        Some(watch) => watch.next().await,
        None => std::future::pending().await,
    }
}

/// Whether `entries` are the versions right after `from`, in order, without a gap.
fn contiguous_after(entries: &[HistoryEntry], from: u64) -> bool {
    entries.iter().zip(from + 1..).all(|(entry, expected)| entry.version == expected)
}

/// Whether the history holds exactly the versions after `from` up to `to`, in order.
fn covers(entries: &[HistoryEntry], from: u64, to: u64) -> bool {
    entries.len() as u64 == to - from
        && entries.iter().zip(from + 1..).all(|(entry, expected)| entry.version == expected)
}

/// Separates the parts of a socket patch's op key. A control character: REST idempotency keys
/// (`<subject>:<key>`, visible ASCII) can never contain it, so they are never read as an origin.
const SOCKET_KEY_SEPARATOR: char = '\u{1f}';

/// The op key of a socket patch: `<subject>:␟<tab>␟<op>`.
fn socket_op_key(principal: &Principal, tab: &str, op: &str) -> String {
    format!("{}:{SOCKET_KEY_SEPARATOR}{tab}{SOCKET_KEY_SEPARATOR}{op}", principal.subject)
}

/// A history entry as a `batch` member, its origin read back from a socket op key (see [`socket_op_key`]).
fn delta_entry(principal: &Principal, entry: HistoryEntry) -> DeltaEntry {
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

/// One snapshot, encoded once: JSON text for everyone, gzip for connections that take it.
struct SnapshotFrames {
    text: Arc<str>,
    compress_above: usize,
    /// Compressed on first need (only a connection that takes gzip asks), then shared;
    /// `None` inside when the text is small or does not shrink.
    gzip: std::sync::OnceLock<Option<OutFrame>>,
}

impl SnapshotFrames {
    fn new(version: &StateVersion, document: &DashboardDocument, compress_above: usize) -> Self {
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

    fn for_member(&self, gzip: bool) -> OutFrame {
        let compressed = gzip.then(|| self.gzip.get_or_init(|| self.compress())).and_then(Option::as_ref);
        compressed.cloned().unwrap_or_else(|| OutFrame::Text(Arc::clone(&self.text)))
    }

    fn compress(&self) -> Option<OutFrame> {
        if self.text.len() <= self.compress_above {
            return None;
        }
        let compressed = super::gzip_frame(self.text.as_bytes())?;
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
fn encode(frame: &ServerFrame) -> Option<OutFrame> {
    match serde_json::to_string(frame) {
        Ok(text) => Some(OutFrame::Text(Arc::from(text))),
        Err(error) => {
            tracing::error!(%error, "server frame does not serialise");
            None
        }
    }
}

/// The reject code of a [`PatchError`](agentdeck_domain::dashboard::patch::PatchError) code.
fn patch_code(code: &str) -> RejectCode {
    match code {
        "forbidden" => RejectCode::Forbidden,
        "test_failed" => RejectCode::TestFailed,
        "schema" => RejectCode::Schema,
        "too_large" => RejectCode::TooLarge,
        _ => RejectCode::InvalidPatch,
    }
}
