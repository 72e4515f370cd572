//! [`DashboardService`]: the read, check, apply and commit cycle of one room,
//! and the one place that commits and announces dashboard changes.

use std::sync::{Arc, Weak};
use std::time::Duration;

use agentdeck_domain::auth::Principal;
use agentdeck_domain::dashboard::codec;
use agentdeck_domain::dashboard::conflict::{WrittenPaths, check_rebase};
use agentdeck_domain::dashboard::document::{DashboardDocument, StateLimits};
use agentdeck_domain::dashboard::patch::{CheckedPatch, apply_patch, apply_patch_to_checked, replace_document};
use agentdeck_domain::dashboard::version::{Precondition, StateVersion, new_epoch};
use agentdeck_storage::{CommitOutcome, CommitRequest, HistoryEntry, RoomKey, StateError, StateStore};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::error::DashboardError;
use super::listener::{CommitListener, CommittedChange, Listeners};
use super::stored::{conflict_paths, decode_written, encode_written, read_document, written_by};

/// Longest a write keeps retrying when other writers commit first (a request's deadline may cut it shorter).
pub const DEFAULT_RETRY_BUDGET: Duration = Duration::from_secs(10);

/// Epoch of an op key probe's expected version: not base32, so no room is ever at it.
const PROBE_EPOCH: &str = "-";

/// Bytes of documents (as compact JSON) the write cache keeps at most.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;
/// How long a room's cached document and write turn live without a write.
const CACHE_IDLE: Duration = Duration::from_secs(10 * 60);
/// Rooms whose write turn is remembered at most.
const MAX_WRITE_TURNS: u64 = 100_000;

/// Reads and writes each principal's dashboard document (cheap to clone).
#[derive(Clone)]
pub struct DashboardService {
    store: Arc<dyn StateStore>,
    limits: StateLimits,
    compression_threshold: usize,
    /// How long a write retries after losing races to other writers.
    retry_budget: Duration,
    /// The last document this service wrote per room, as the base of the next patch.
    ///
    /// Only documents this service wrote go in, so each passed every rule: a
    /// patch applied to one checks only what it writes.
    ///
    /// A patch applied to it is committed with its version as the expected
    /// one, so the store's own version check says whether it was still
    /// current; when it was not (another node or process wrote), the patch runs
    /// again from a fresh read. A hit saves the read and decode of the whole
    /// stored document on the hot write path.
    written: moka::future::Cache<RoomKey, Arc<CachedState>>,
    /// One writer at a time per room in this process: writers of one node
    /// never race each other through the store, only writers of other nodes do.
    turns: moka::sync::Cache<RoomKey, Arc<tokio::sync::Mutex<()>>>,
    /// Told of every commit (the sync hub).
    listeners: Listeners,
}

/// A document with the version it was stored under.
struct CachedState {
    version: StateVersion,
    document: DashboardDocument,
    /// Size of the document as compact JSON (its weight in the cache).
    bytes: usize,
}

/// A dashboard document as read, with its version.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardView {
    /// The stored version (the ETag).
    pub version: StateVersion,
    /// The document.
    pub document: DashboardDocument,
    /// The stored document could not be read: `document` is an empty stand-in
    /// and writes other than `DELETE` are refused.
    pub degraded: bool,
}

/// The result of a write.
#[derive(Debug, Clone, PartialEq)]
pub struct Committed {
    /// The version the write produced (for a replay: the version of the first commit).
    pub version: StateVersion,
    /// The document now stored.
    pub document: DashboardDocument,
    /// The idempotency key was seen before: nothing was applied this time.
    pub replayed: bool,
    /// The change as committed: the patch's operations followed by what the
    /// rules changed besides (trims, derived values) — what other replicas
    /// apply. The whole document for a replace; empty for a replay.
    pub ops: Value,
}

/// How one patch attempt ended.
enum Attempt {
    /// Committed, or replayed (boxed: the document is large next to a version).
    Done(Box<Committed>),
    /// Another writer committed first; the room is now at this version.
    Raced(Option<(String, u64)>),
}

/// What a room holds, as far as a write needs to know.
enum Current {
    /// No state yet (or it expired).
    Absent,
    /// A document that can be read (boxed: it is large next to the other variants).
    Readable { version: StateVersion, document: Box<DashboardDocument> },
    /// Stored bytes that cannot be decoded or migrated.
    Unreadable { version: StateVersion },
}

impl DashboardService {
    /// A service over `store`; documents above `compression_threshold` bytes are stored compressed.
    pub fn new(store: Arc<dyn StateStore>, limits: StateLimits, compression_threshold: usize) -> Self {
        let written = moka::future::Cache::builder()
            .max_capacity(CACHE_BYTES)
            .weigher(|_, state: &Arc<CachedState>| u32::try_from(state.bytes).unwrap_or(u32::MAX))
            .time_to_idle(CACHE_IDLE)
            .build();
        let turns = moka::sync::Cache::builder().max_capacity(MAX_WRITE_TURNS).time_to_idle(CACHE_IDLE).build();
        Self {
            store,
            limits,
            compression_threshold,
            retry_budget: DEFAULT_RETRY_BUDGET,
            written,
            turns,
            listeners: Listeners::default(),
        }
    }

    /// The same service retrying lost races for at most `budget` (the HTTP edge passes its request timeout).
    pub fn with_retry_budget(mut self, budget: Duration) -> Self {
        self.retry_budget = budget;
        self
    }

    /// The limits every write is checked against.
    pub fn limits(&self) -> &StateLimits {
        &self.limits
    }

    /// Tells `listener` about every change committed from now on, until it is dropped.
    pub fn listen(&self, listener: Weak<dyn CommitListener>) {
        self.listeners.add(listener);
    }

    /// The principal's dashboard, `None` before the first write.
    pub async fn get(&self, principal: &Principal) -> Result<Option<DashboardView>, DashboardError> {
        let view = match self.read_current(&room_of(principal)).await? {
            Current::Absent => None,
            Current::Readable { version, document } => {
                Some(DashboardView { version, document: *document, degraded: false })
            }
            Current::Unreadable { version } => {
                Some(DashboardView { version, document: DashboardDocument::default(), degraded: true })
            }
        };
        Ok(view)
    }

    /// Applies an RFC 6902 patch (see the module documentation for `If-Match` and retries).
    pub async fn patch(
        &self,
        principal: &Principal,
        ops: &Value,
        precondition: Option<Precondition>,
        op_key: Option<String>,
    ) -> Result<Committed, DashboardError> {
        // Checked once, before any I/O: a malformed or forbidden patch never costs a read.
        let patch = CheckedPatch::parse(ops, &self.limits)?;
        let room = room_of(principal);
        // Every patch commits with an op key, the caller's or one made here: a
        // commit the store runs twice (a Redis reply lost to a reset connection,
        // sent again by storage's `redis_connection`) is then answered as the
        // replay it is, instead of failing its version check and being applied
        // a second time from a fresh read.
        let op_key = op_key.unwrap_or_else(server_op_key);
        let turn = self.turn(&room);
        let _turn = turn.lock().await;
        let write = PatchWrite {
            room: &room,
            ops,
            patch: &patch,
            precondition: precondition.as_ref(),
            op_key: Some(op_key.as_str()),
        };
        // First from the cached document; anything but a commit from it is tried again from the store.
        if let Some(cached) = self.written.get(&room).await {
            if let Ok(Attempt::Done(committed)) =
                self.try_patch(&write, Some((&cached.version, &cached.document))).await
            {
                return Ok(*committed);
            }
            self.written.invalidate(&room).await;
        }
        let deadline = Instant::now() + self.retry_budget;
        loop {
            match self.try_patch(&write, None).await {
                Ok(Attempt::Done(committed)) => return Ok(*committed),
                Ok(Attempt::Raced(current)) => {
                    if Instant::now() >= deadline {
                        return Err(lost_races(current, written_by(patch.ops())));
                    }
                }
                Err(error) => {
                    // A retry of a write that was committed may no longer apply
                    // (an `add` of the same id, a stale If-Match): it must still
                    // be answered as the replay it is, not as a refusal.
                    if let Some(key) = write.op_key
                        && is_refusal(&error)
                        && let Some(first) = self.committed_before(&room, key).await?
                    {
                        return self.replayed(&room, first).await;
                    }
                    return Err(error);
                }
            }
        }
    }

    /// One read-check-apply-commit cycle of a patch, from `base` when given, else from a fresh read.
    async fn try_patch(
        &self,
        write: &PatchWrite<'_>,
        base: Option<(&StateVersion, &DashboardDocument)>,
    ) -> Result<Attempt, DashboardError> {
        let (read, empty);
        let (current, document) = match base {
            Some((version, document)) => (Some(version.clone()), document),
            None => {
                read = self.read_current(write.room).await?;
                match &read {
                    Current::Absent => {
                        empty = DashboardDocument::default();
                        (None, &empty)
                    }
                    Current::Readable { version, document } => (Some(version.clone()), &**document),
                    Current::Unreadable { .. } => return Err(DashboardError::Unreadable),
                }
            }
        };
        if let Some(precondition) = write.precondition {
            self.check_base(write.room, precondition, current.as_ref(), write.patch).await?;
        }
        // The cached document came out of this service's last write, so it passes every rule and only
        // what the patch writes needs checking; one read from the store may have been written by
        // another version or by hand, so the whole result is checked.
        let applied = match base {
            Some(_) => apply_patch_to_checked(document, write.patch, &self.limits)?,
            None => apply_patch(document, write.patch, &self.limits)?,
        };
        let committed_ops = applied.committed_ops(write.ops);
        let request = CommitRequest {
            expected: current.as_ref().map(|version| (version.epoch.clone(), version.version)),
            op_key: write.op_key.map(str::to_owned),
            document: self.compress(&applied.json),
            ops: committed_ops.clone(),
            written_paths: encode_written(&applied.written),
            new_epoch: current.is_none().then(new_epoch),
        };
        match self.store.commit(write.room, request).await? {
            CommitOutcome::Committed { epoch, version } => {
                let version = StateVersion { epoch, version };
                self.listeners
                    .announce(write.room, CommittedChange::Patched { version: &version, ops: &committed_ops });
                self.remember(write.room, &version, &applied.document, applied.json.len()).await;
                let document = applied.document;
                Ok(Attempt::Done(Box::new(Committed { version, document, replayed: false, ops: committed_ops })))
            }
            CommitOutcome::Duplicate { epoch, version } => {
                Ok(Attempt::Done(Box::new(self.replayed(write.room, StateVersion { epoch, version }).await?)))
            }
            CommitOutcome::VersionMismatch { current } => Ok(Attempt::Raced(current)),
        }
    }

    /// The room's write turn: one writer at a time per room in this process.
    fn turn(&self, room: &RoomKey) -> Arc<tokio::sync::Mutex<()>> {
        self.turns.get_with_by_ref(room, || Arc::new(tokio::sync::Mutex::new(())))
    }

    /// Keeps `document` as the room's base for its next patch.
    async fn remember(&self, room: &RoomKey, version: &StateVersion, document: &DashboardDocument, bytes: usize) {
        let state = CachedState { version: version.clone(), document: document.clone(), bytes };
        self.written.insert(room.clone(), Arc::new(state)).await;
    }

    /// The version an op key was committed at, if it was.
    ///
    /// The store checks op keys before versions and writes nothing on a
    /// version mismatch, so a commit that expects a version no room can be at
    /// is a read-only lookup. It carries the current document anyway, so
    /// that even a backend breaking that contract could not lose data.
    async fn committed_before(&self, room: &RoomKey, op_key: &str) -> Result<Option<StateVersion>, DashboardError> {
        let Some(stored) = self.store.load(room).await? else {
            return Ok(None);
        };
        let probe = CommitRequest {
            expected: Some((PROBE_EPOCH.to_owned(), u64::MAX)),
            op_key: Some(op_key.to_owned()),
            document: stored.document,
            ops: json!([]),
            written_paths: Vec::new(),
            new_epoch: None,
        };
        match self.store.commit(room, probe).await? {
            CommitOutcome::Duplicate { epoch, version } => Ok(Some(StateVersion { epoch, version })),
            CommitOutcome::VersionMismatch { .. } => Ok(None),
            CommitOutcome::Committed { epoch, version } => {
                tracing::error!(%epoch, version, "an op key probe was committed; the state store ignores expected versions");
                Ok(None)
            }
        }
    }

    /// Replaces the whole document; `If-Match`, when given, must name the current version exactly.
    ///
    /// A replace starts a new epoch (the store's contract): it is not a delta a
    /// client could replay, so every client takes a fresh snapshot.
    pub async fn replace(
        &self,
        principal: &Principal,
        document: &Value,
        precondition: Option<Precondition>,
    ) -> Result<Committed, DashboardError> {
        let document = replace_document(document, &self.limits)?;
        let room = room_of(principal);
        let turn = self.turn(&room);
        let _turn = turn.lock().await;
        let deadline = Instant::now() + self.retry_budget;
        loop {
            let current = match self.read_current(&room).await? {
                Current::Absent => None,
                Current::Readable { version, .. } => Some(version),
                Current::Unreadable { .. } => return Err(DashboardError::Unreadable),
            };
            if let Some(precondition) = &precondition
                && !precondition.if_match_passes(current.as_ref())
            {
                return Err(DashboardError::PreconditionFailed { current });
            }
            match self.commit_whole(&room, current.as_ref(), &document).await? {
                CommitOutcome::Committed { epoch, version } | CommitOutcome::Duplicate { epoch, version } => {
                    let version = StateVersion { epoch, version };
                    let bytes = serde_json::to_vec(&document).map_or(usize::MAX, |json| json.len());
                    self.remember(&room, &version, &document, bytes).await;
                    let value = serde_json::to_value(&document).map_err(|error| storage_bug(&error))?;
                    let ops = json!([{ "op": "replace", "path": "", "value": value }]);
                    return Ok(Committed { version, document, replayed: false, ops });
                }
                CommitOutcome::VersionMismatch { current } => {
                    // The version checked above is gone: with If-Match that is a failed precondition.
                    if precondition.is_some() {
                        return Err(DashboardError::PreconditionFailed { current: current.map(state_version) });
                    }
                    if Instant::now() >= deadline {
                        return Err(lost_races(current, vec![String::new()]));
                    }
                }
            }
        }
    }

    /// Removes the principal's dashboard (also the way out of a degraded one).
    ///
    /// The store has no conditional delete, so a write of another node that
    /// lands between the `If-Match` check and the delete is removed with the rest.
    pub async fn delete(
        &self,
        principal: &Principal,
        precondition: Option<Precondition>,
    ) -> Result<(), DashboardError> {
        let room = room_of(principal);
        let turn = self.turn(&room);
        let _turn = turn.lock().await;
        if let Some(precondition) = precondition {
            // Only the version matters here, so the document is not decoded.
            let Some(stored) = self.store.load(&room).await? else {
                return Err(DashboardError::NotFound);
            };
            let current = StateVersion { epoch: stored.epoch, version: stored.version };
            if !precondition.if_match_passes(Some(&current)) {
                return Err(DashboardError::PreconditionFailed { current: Some(current) });
            }
        }
        self.written.invalidate(&room).await;
        if !self.store.delete(&room).await? {
            return Err(DashboardError::NotFound);
        }
        self.listeners.announce(&room, CommittedChange::Deleted);
        Ok(())
    }

    /// The committed changes after `version` of `epoch`, oldest first; `None`
    /// when the epoch is not the room's or the history no longer holds them all.
    pub async fn history_after(
        &self,
        principal: &Principal,
        epoch: &str,
        version: u64,
    ) -> Result<Option<Vec<HistoryEntry>>, DashboardError> {
        Ok(self.store.history_after(&room_of(principal), epoch, version).await?)
    }

    /// Loads and decodes the room's document, migrating an older format.
    async fn read_current(&self, room: &RoomKey) -> Result<Current, DashboardError> {
        let Some(stored) = self.store.load(room).await? else {
            return Ok(Current::Absent);
        };
        let version = StateVersion { epoch: stored.epoch, version: stored.version };
        let (document, applied) = match read_document(&stored.document, &self.limits) {
            Ok(read) => read,
            Err(reason) => {
                tracing::error!(
                    workspace_id = %room.workspace_id,
                    user = %room.user_id,
                    version = %version,
                    %reason,
                    "stored dashboard state cannot be read; serving it degraded and refusing writes until DELETE"
                );
                return Ok(Current::Unreadable { version });
            }
        };
        if applied.is_empty() {
            return Ok(Current::Readable { version, document: Box::new(document) });
        }
        tracing::info!(
            workspace_id = %room.workspace_id,
            user = %room.user_id,
            steps = ?applied,
            "dashboard state migrated; storing it under a new epoch"
        );
        // The migrated document differs from the stored one without a patch
        // that says how, so clients must take a snapshot: a new epoch.
        match self.commit_whole(room, Some(&version), &document).await? {
            CommitOutcome::Committed { epoch, version } | CommitOutcome::Duplicate { epoch, version } => {
                Ok(Current::Readable { version: StateVersion { epoch, version }, document: Box::new(document) })
            }
            // Someone else wrote (or migrated) first; serve ours, a write will re-read.
            CommitOutcome::VersionMismatch { .. } => Ok(Current::Readable { version, document: Box::new(document) }),
        }
    }

    /// `If-Match` for a patch: `Ok` to go on (current, or rebased), or the error to answer.
    async fn check_base(
        &self,
        room: &RoomKey,
        precondition: &Precondition,
        current: Option<&StateVersion>,
        patch: &CheckedPatch,
    ) -> Result<(), DashboardError> {
        if precondition.if_match_passes(current) {
            return Ok(());
        }
        let Some(current) = current else {
            return Err(DashboardError::PreconditionFailed { current: None });
        };
        let failed = || DashboardError::PreconditionFailed { current: Some(current.clone()) };
        let Precondition::Tags(tags) = precondition else { return Err(failed()) };
        // The newest strong tag of this epoch that is behind: the base to rebase from.
        let base = tags
            .iter()
            .filter(|tag| !tag.weak && tag.version.epoch == current.epoch && tag.version.version < current.version)
            .map(|tag| tag.version.version)
            .max()
            .ok_or_else(failed)?;
        let history = self.store.history_after(room, &current.epoch, base).await?;
        let written: Option<Vec<WrittenPaths>> =
            history.map(|entries| entries.iter().map(|entry| decode_written(&entry.written_paths)).collect());
        check_rebase(patch.ops(), written.as_deref())
            .map_err(|conflict| DashboardError::Conflict { current: current.clone(), paths: conflict_paths(conflict) })
    }

    /// The answer to a replayed write: the first commit's version with the current document.
    async fn replayed(&self, room: &RoomKey, first: StateVersion) -> Result<Committed, DashboardError> {
        let document = match self.read_current(room).await? {
            Current::Readable { document, .. } => *document,
            Current::Absent | Current::Unreadable { .. } => DashboardDocument::default(),
        };
        Ok(Committed { version: first, document, replayed: true, ops: json!([]) })
    }

    /// Commits a whole document under a new epoch (a replace or a migration) and announces it.
    async fn commit_whole(
        &self,
        room: &RoomKey,
        expected: Option<&StateVersion>,
        document: &DashboardDocument,
    ) -> Result<CommitOutcome, DashboardError> {
        let value = serde_json::to_value(document).map_err(|error| storage_bug(&error))?;
        let request = CommitRequest {
            expected: expected.map(|version| (version.epoch.clone(), version.version)),
            op_key: None,
            document: self.encode(document)?,
            ops: json!([{ "op": "replace", "path": "", "value": value }]),
            written_paths: encode_written(&WrittenPaths::whole_document()),
            new_epoch: Some(new_epoch()),
        };
        let outcome = self.store.commit(room, request).await?;
        if let CommitOutcome::Committed { epoch, version } = &outcome {
            let version = StateVersion { epoch: epoch.clone(), version: *version };
            self.listeners.announce(room, CommittedChange::Replaced { version: &version });
        }
        Ok(outcome)
    }

    /// A document as stored: compact JSON, compressed above the threshold.
    fn encode(&self, document: &DashboardDocument) -> Result<Vec<u8>, DashboardError> {
        let json = serde_json::to_vec(document).map_err(|error| storage_bug(&error))?;
        Ok(self.compress(&json))
    }

    /// A document's compact JSON as stored: compressed above the threshold.
    fn compress(&self, json: &[u8]) -> Vec<u8> {
        codec::encode(json, self.compression_threshold).bytes
    }
}

/// One patch request, as every attempt at it needs it.
struct PatchWrite<'a> {
    room: &'a RoomKey,
    /// The operations as sent (the committed change starts with them).
    ops: &'a Value,
    patch: &'a CheckedPatch,
    precondition: Option<&'a Precondition>,
    op_key: Option<&'a str>,
}

/// The room of a principal: its own dashboard in its own workspace.
pub(crate) fn room_of(principal: &Principal) -> RoomKey {
    RoomKey::new(principal.workspace_id, principal.subject.clone())
}

fn state_version((epoch, version): (String, u64)) -> StateVersion {
    StateVersion { epoch, version }
}

/// The answer after other writers kept committing first for the whole retry budget:
/// a conflict naming the places the write would have written.
fn lost_races(last_seen: Option<(String, u64)>, paths: Vec<String>) -> DashboardError {
    match last_seen {
        Some(current) => DashboardError::Conflict { current: state_version(current), paths },
        // The room vanished under us each time (deleted concurrently).
        None => DashboardError::PreconditionFailed { current: None },
    }
}

/// A document that cannot be serialized is a bug, reported as a store error (500).
fn storage_bug(error: &serde_json::Error) -> DashboardError {
    DashboardError::Storage(StateError::Corrupt(format!("dashboard document cannot be serialized: {error}")))
}

/// Refusals a replayed write may legitimately run into (its own first commit changed the state).
/// An op key for a patch whose writer gave none (unique per call).
fn server_op_key() -> String {
    format!("server:{}", uuid::Uuid::now_v7().simple())
}

fn is_refusal(error: &DashboardError) -> bool {
    matches!(
        error,
        DashboardError::Rejected(_) | DashboardError::Conflict { .. } | DashboardError::PreconditionFailed { .. }
    )
}
