//! The owner task of one room: everything the room does, one step at a time.

use std::collections::HashMap;
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
use super::{Change, Command, FrameText, Inner};
use crate::dashboard::{DashboardError, DashboardService};

/// How often the owner looks for connections that vanished without a `Leave`.
const SWEEP_INTERVAL: Duration = Duration::from_secs(5);

/// One connection of the room.
struct Member {
    principal: Principal,
    outbound: mpsc::Sender<FrameText>,
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
}

impl Owner {
    pub(super) fn new(
        key: RoomKey,
        generation: u64,
        hub: Weak<Inner>,
        service: DashboardService,
        principal: Principal,
        patches_per_minute: u32,
        watch: Option<RoomWatch>,
    ) -> Self {
        let budget = PatchBudget::new(patches_per_minute);
        Self { key, generation, hub, service, principal, members: HashMap::new(), known: None, budget, watch }
    }

    /// Serves the room until its last connection has left.
    pub(super) async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let mut sweep = tokio::time::interval(SWEEP_INTERVAL);
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.handle(command).await,
                    None => return,
                },
                _ = sweep.tick() => self.members.retain(|_, member| !member.outbound.is_closed()),
                signal = next_signal(&mut self.watch) => match signal {
                    Some(signal) => self.on_signal(signal).await,
                    None => {
                        tracing::warn!("dashboard change feed stopped; this room now hears only its own node");
                        self.watch = None;
                    }
                },
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
            Command::Join { conn, principal, outbound, kick } => {
                self.members.insert(conn, Member { principal, outbound, kick: Some(kick), subscribed: false });
            }
            Command::Leave { conn } => {
                self.members.remove(&conn);
            }
            Command::Sub { conn, epoch, v } => self.subscribe(conn, epoch, v).await,
            Command::Resync { conn } => self.resync(conn).await,
            Command::Patch { conn, op, base, ops, tab } => self.patch(conn, op, base, ops, tab).await,
            Command::Committed(Change::Patched { version, ops }) => self.advance(version, ops, None, None).await,
            Command::Committed(Change::Reset) => self.snapshot_all().await,
        }
    }

    /// Answers `sub`: nothing missed, the missed deltas, or a snapshot — then `subscribed`.
    async fn subscribe(&mut self, conn: u64, epoch: Option<String>, v: Option<u64>) {
        let (current, document) = match self.load().await {
            Ok(loaded) => loaded,
            Err(error) => return self.reject(conn, None, &error),
        };
        let was_recovering = epoch.is_some() || v.is_some();
        if let (Some(epoch), Some(v)) = (epoch, v)
            && !current.epoch.is_empty()
            && epoch == current.epoch
            && v <= current.version
        {
            if v == current.version {
                self.send_subscribed(conn, &current, true, true, 0);
                return;
            }
            let principal = self.principal_of(conn);
            match self.service.history_after(&principal, &epoch, v).await {
                Ok(Some(entries)) if covers(&entries, v, current.version) => {
                    let deltas: Vec<DeltaEntry> =
                        entries.into_iter().map(|entry| delta_entry(&principal, entry)).collect();
                    let replayed = u32::try_from(deltas.len()).unwrap_or(u32::MAX);
                    let batch =
                        ServerFrame::Batch { epoch: current.epoch.clone(), base: v, v: current.version, deltas };
                    if let Some(text) = encode(&batch) {
                        self.send_to(conn, text);
                    }
                    self.send_subscribed(conn, &current, true, true, replayed);
                    return;
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "sync history unavailable; answering with a snapshot"),
            }
        }
        if let Some(text) = encode(&snapshot(&current, &document)) {
            self.send_to(conn, text);
        }
        self.send_subscribed(conn, &current, was_recovering, false, 0);
    }

    /// Answers `resync` with a snapshot.
    async fn resync(&mut self, conn: u64) {
        match self.load().await {
            Ok((current, document)) => {
                if let Some(text) = encode(&snapshot(&current, &document)) {
                    self.send_to(conn, text);
                }
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
            if let Some(text) = encode(&frame) {
                self.send_to(conn, text);
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
        let op_key = format!("{}:{tab}:{op}", principal.subject);
        let committed = match self.service.patch(&principal, &ops, precondition, Some(op_key)).await {
            Ok(committed) => committed,
            Err(error) => return self.reject(conn, Some(op), &error),
        };
        let version = committed.version;
        if committed.replayed {
            let ack = ServerFrame::Ack { op, base, v: version.version };
            if let Some(text) = encode(&ack) {
                self.send_to(conn, text);
            }
            return;
        }
        // Commits of other nodes (or REST) landed in between: subscribers get them first, in order.
        if let Some(known) = &self.known
            && known.epoch == version.epoch
            && known.version + 1 < version.version
        {
            self.catch_up(Some(version.version - 1)).await;
        }
        // The ack names the version the change really followed (a rebased patch moves past `base`).
        let ack_base = match &self.known {
            Some(known) if known.epoch == version.epoch && known.version + 1 == version.version => known.version,
            _ => base,
        };
        if let Some(text) = encode(&ServerFrame::Ack { op: op.clone(), base: ack_base, v: version.version }) {
            self.send_to(conn, text);
        }
        self.advance(version, ops, Some(Origin { tab, op }), Some(conn)).await;
    }

    /// Sends subscribers what moved the room to `version`: a delta when it is the next one, else a snapshot.
    async fn advance(&mut self, version: StateVersion, ops: Value, origin: Option<Origin>, writer: Option<u64>) {
        match &self.known {
            Some(known) if known.epoch == version.epoch && known.version + 1 == version.version => {
                let delta = ServerFrame::Delta {
                    epoch: version.epoch.clone(),
                    base: known.version,
                    v: version.version,
                    ops,
                    origin,
                };
                self.known = Some(version);
                if let Some(text) = encode(&delta) {
                    self.broadcast(&text, writer);
                }
            }
            // Already sent: the owner's own commit overtook this notification.
            Some(known) if known.epoch == version.epoch && version.version <= known.version => {}
            // A gap: the history fills it (else a snapshot).
            Some(known) if known.epoch == version.epoch => self.catch_up(None).await,
            // A new epoch: only a snapshot puts everyone right.
            _ => self.snapshot_all().await,
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
                        if let Some(text) = encode(&delta) {
                            self.broadcast(&text, None);
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
        self.refresh().await;
    }

    /// Re-reads the state and sends every subscriber a snapshot when it moved.
    async fn refresh(&mut self) {
        let before = self.known.clone();
        match self.load().await {
            Ok((current, _)) if Some(&current) == before.as_ref() => {}
            Ok((current, document)) => {
                if let Some(text) = encode(&snapshot(&current, &document)) {
                    self.broadcast(&text, None);
                }
            }
            Err(error) => tracing::warn!(%error, "sync room could not re-read its state"),
        }
    }

    /// Re-reads the state and sends every subscriber a snapshot.
    async fn snapshot_all(&mut self) {
        match self.load().await {
            Ok((current, document)) => {
                if let Some(text) = encode(&snapshot(&current, &document)) {
                    self.broadcast(&text, None);
                }
            }
            Err(error) => tracing::warn!(%error, "sync room could not re-read its state"),
        }
    }

    /// Reads the room's state (an empty document at version 0 before the first write).
    async fn load(&mut self) -> Result<(StateVersion, DashboardDocument), DashboardError> {
        let (version, document) = match self.service.get(&self.principal).await? {
            Some(view) => (view.version, view.document),
            None => (StateVersion { epoch: String::new(), version: 0 }, DashboardDocument::default()),
        };
        self.known = Some(version.clone());
        Ok((version, document))
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
        if let Some(text) = encode(&frame) {
            self.send_to(conn, text);
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
        if let Some(text) = encode(&frame) {
            self.send_to(conn, text);
        }
    }

    /// Queues a frame for one connection, dropping the connection when it cannot keep up.
    fn send_to(&mut self, conn: u64, text: FrameText) {
        let Some(member) = self.members.get_mut(&conn) else { return };
        if !offer(member, text) {
            self.members.remove(&conn);
        }
    }

    /// Queues one shared frame for every subscriber but `except`.
    fn broadcast(&mut self, text: &FrameText, except: Option<u64>) {
        self.members.retain(|conn, member| {
            if !member.subscribed || Some(*conn) == except {
                return true;
            }
            offer(member, Arc::clone(text))
        });
    }
}

/// Queues a frame; `false` when the member must go (gone, or too slow: told to close with 4008).
fn offer(member: &mut Member, text: FrameText) -> bool {
    match member.outbound.try_send(text) {
        Ok(()) => true,
        Err(mpsc::error::TrySendError::Full(_)) => {
            if let Some(kick) = member.kick.take() {
                let _already_gone = kick.send(close::SLOW_CONSUMER);
            }
            false
        }
        Err(mpsc::error::TrySendError::Closed(_)) => false,
    }
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

/// A history entry as a `batch` member, its origin read back from the op key `<subject>:<tab>:<op>`.
fn delta_entry(principal: &Principal, entry: HistoryEntry) -> DeltaEntry {
    let origin = entry
        .op_key
        .as_deref()
        .and_then(|key| key.strip_prefix(principal.subject.as_str()))
        .and_then(|rest| rest.strip_prefix(':'))
        .and_then(|rest| rest.split_once(':'))
        .map(|(tab, op)| Origin { tab: tab.to_owned(), op: op.to_owned() });
    DeltaEntry { base: entry.version.saturating_sub(1), v: entry.version, ops: entry.ops, origin }
}

fn snapshot(version: &StateVersion, document: &DashboardDocument) -> ServerFrame {
    let state = serde_json::to_value(document).unwrap_or_else(|error| {
        tracing::error!(%error, "dashboard document does not serialise");
        Value::Null
    });
    ServerFrame::Snapshot { epoch: version.epoch.clone(), v: version.version, schema: document.schema_version, state }
}

/// Encodes a frame once; every connection it goes to shares the text.
fn encode(frame: &ServerFrame) -> Option<FrameText> {
    match serde_json::to_string(frame) {
        Ok(text) => Some(Arc::from(text)),
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
