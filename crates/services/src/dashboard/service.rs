//! [`DashboardService`]: the read, check, apply and commit cycle of one room.

use std::sync::Arc;
use std::time::Duration;

use agentdeck_domain::auth::Principal;
use agentdeck_domain::dashboard::codec;
use agentdeck_domain::dashboard::conflict::{Conflict, WrittenPaths, check_rebase};
use agentdeck_domain::dashboard::document::{DashboardDocument, StateLimits};
use agentdeck_domain::dashboard::migrations;
use agentdeck_domain::dashboard::patch::{apply_patch, check_operations, parse_patch, replace_document};
use agentdeck_domain::dashboard::version::{Precondition, StateVersion, new_epoch};
use agentdeck_storage::{CommitOutcome, CommitRequest, HistoryEntry, RoomKey, StateError, StateStore};
use json_patch::PatchOperation;
use json_patch::jsonptr::PointerBuf;
use serde_json::{Value, json};

use super::error::DashboardError;

/// How many times a write runs its read-check-apply-commit cycle when other
/// writers keep committing in between, before it answers a conflict.
pub const MAX_ATTEMPTS: usize = 3;

/// Marks a shifted array in the stored written paths. A JSON Pointer is empty
/// or starts with `/`, so a marked entry can never be mistaken for one.
const SHIFTED_PREFIX: &str = "shifted:";

/// Epoch of an op key probe's expected version: not base32, so no room is ever at it.
const PROBE_EPOCH: &str = "-";

/// Bytes of documents (as compact JSON) the write cache keeps at most.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;
/// How long a room's cached document lives without a write.
const CACHE_IDLE: Duration = Duration::from_secs(10 * 60);

/// Reads and writes each principal's dashboard document (cheap to clone).
#[derive(Clone)]
pub struct DashboardService {
    store: Arc<dyn StateStore>,
    limits: StateLimits,
    compression_threshold: usize,
    /// The last document this service wrote or read per room, as the base of the next patch.
    ///
    /// A patch applied to it is committed with its version as the expected
    /// one, so the store's own version check says whether it was still
    /// current; when it was not (another node or process wrote), the patch runs
    /// again from a fresh read. A hit saves the read, decode and validation of
    /// the whole stored document on the hot write path.
    written: moka::future::Cache<RoomKey, Arc<CachedState>>,
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
    /// A document that passed every rule.
    Readable { version: StateVersion, document: DashboardDocument },
    /// Stored bytes that cannot be decoded, migrated or validated.
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
        Self { store, limits, compression_threshold, written }
    }

    /// The limits every write is checked against.
    pub fn limits(&self) -> &StateLimits {
        &self.limits
    }

    /// The principal's dashboard, `None` before the first write.
    pub async fn get(&self, principal: &Principal) -> Result<Option<DashboardView>, DashboardError> {
        let view = match self.read_current(&room_of(principal)).await? {
            Current::Absent => None,
            Current::Readable { version, document } => Some(DashboardView { version, document, degraded: false }),
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
        // Checked before any I/O: a malformed or forbidden patch never costs a read.
        let parsed = parse_patch(ops, &self.limits)?;
        check_operations(&parsed, &self.limits)?;
        let room = room_of(principal);
        // First from the cached document; anything but a commit from it is tried again from the store.
        if let Some(cached) = self.written.get(&room).await {
            let base = Some((&cached.version, &cached.document));
            let attempt = self.try_patch(&room, base, ops, &parsed, precondition.as_ref(), op_key.as_deref()).await;
            if let Ok(Attempt::Done(committed)) = attempt {
                return Ok(*committed);
            }
            self.written.invalidate(&room).await;
        }
        let mut last_seen = None;
        for _ in 0..MAX_ATTEMPTS {
            let attempt = self.try_patch(&room, None, ops, &parsed, precondition.as_ref(), op_key.as_deref()).await;
            match attempt {
                Ok(Attempt::Done(committed)) => return Ok(*committed),
                Ok(Attempt::Raced(current)) => last_seen = current,
                Err(error) => {
                    // A retry of a write that was committed may no longer apply
                    // (an `add` of the same id, a stale If-Match): it must still
                    // be answered as the replay it is, not as a refusal.
                    if let Some(key) = op_key.as_deref()
                        && is_refusal(&error)
                        && let Some(first) = self.committed_before(&room, key).await?
                    {
                        return self.replayed(&room, first).await;
                    }
                    return Err(error);
                }
            }
        }
        Err(lost_races(last_seen))
    }

    /// One read-check-apply-commit cycle of a patch, from `base` when given, else from a fresh read.
    async fn try_patch(
        &self,
        room: &RoomKey,
        base: Option<(&StateVersion, &DashboardDocument)>,
        ops: &Value,
        parsed: &[PatchOperation],
        precondition: Option<&Precondition>,
        op_key: Option<&str>,
    ) -> Result<Attempt, DashboardError> {
        let (read, empty);
        let (current, document) = match base {
            Some((version, document)) => (Some(version.clone()), document),
            None => {
                read = self.read_current(room).await?;
                match &read {
                    Current::Absent => {
                        empty = DashboardDocument::default();
                        (None, &empty)
                    }
                    Current::Readable { version, document } => (Some(version.clone()), document),
                    Current::Unreadable { .. } => return Err(DashboardError::Unreadable),
                }
            }
        };
        if let Some(precondition) = precondition {
            self.check_base(room, precondition, current.as_ref(), parsed).await?;
        }
        let applied = apply_patch(document, parsed, &self.limits)?;
        let committed_ops = applied.committed_ops(ops);
        let request = CommitRequest {
            expected: current.as_ref().map(|version| (version.epoch.clone(), version.version)),
            op_key: op_key.map(str::to_owned),
            document: self.compress(&applied.json),
            ops: committed_ops.clone(),
            written_paths: encode_written(&applied.written),
            new_epoch: current.is_none().then(new_epoch),
        };
        match self.store.commit(room, request).await? {
            CommitOutcome::Committed { epoch, version } => {
                let version = StateVersion { epoch, version };
                self.remember(room, &version, &applied.document, applied.json.len()).await;
                let document = applied.document;
                Ok(Attempt::Done(Box::new(Committed { version, document, replayed: false, ops: committed_ops })))
            }
            CommitOutcome::Duplicate { epoch, version } => {
                Ok(Attempt::Done(Box::new(self.replayed(room, StateVersion { epoch, version }).await?)))
            }
            CommitOutcome::VersionMismatch { current } => Ok(Attempt::Raced(current)),
        }
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
        let mut last_seen = None;
        for _ in 0..MAX_ATTEMPTS {
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
                    last_seen = current;
                }
            }
        }
        Err(lost_races(last_seen))
    }

    /// Removes the principal's dashboard (also the way out of a degraded one).
    ///
    /// The store has no conditional delete, so a write that lands between the
    /// `If-Match` check and the delete is removed with the rest.
    pub async fn delete(
        &self,
        principal: &Principal,
        precondition: Option<Precondition>,
    ) -> Result<(), DashboardError> {
        let room = room_of(principal);
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
        if self.store.delete(&room).await? { Ok(()) } else { Err(DashboardError::NotFound) }
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

    /// Loads, decodes, migrates and checks the room's document.
    async fn read_current(&self, room: &RoomKey) -> Result<Current, DashboardError> {
        let Some(stored) = self.store.load(room).await? else {
            return Ok(Current::Absent);
        };
        let version = StateVersion { epoch: stored.epoch, version: stored.version };
        let (document, applied) = match self.read_document(&stored.document) {
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
            return Ok(Current::Readable { version, document });
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
                Ok(Current::Readable { version: StateVersion { epoch, version }, document })
            }
            // Someone else wrote (or migrated) first; serve ours, a write will re-read.
            CommitOutcome::VersionMismatch { .. } => Ok(Current::Readable { version, document }),
        }
    }

    /// Stored bytes to a checked document and the migration steps that ran.
    fn read_document(&self, stored: &[u8]) -> Result<(DashboardDocument, Vec<&'static str>), String> {
        // Twice the cap: a document stored under a larger cap still loads, a bomb does not.
        let max_len = self.limits.max_document_bytes.saturating_mul(2);
        let json = codec::decode(stored, max_len).map_err(|error| error.to_string())?;
        let value: Value = serde_json::from_slice(&json).map_err(|error| format!("not JSON: {error}"))?;
        let migrated = migrations::migrate(value).map_err(|error| error.to_string())?;
        let mut document = DashboardDocument::from_value(&migrated.document).map_err(|error| error.to_string())?;
        document.normalize();
        Ok((document, migrated.applied))
    }

    /// `If-Match` for a patch: `Ok` to go on (current, or rebased), or the error to answer.
    async fn check_base(
        &self,
        room: &RoomKey,
        precondition: &Precondition,
        current: Option<&StateVersion>,
        ops: &[PatchOperation],
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
        check_rebase(ops, written.as_deref())
            .map_err(|conflict| DashboardError::Conflict { current: current.clone(), paths: conflict_paths(conflict) })
    }

    /// The answer to a replayed write: the first commit's version with the current document.
    async fn replayed(&self, room: &RoomKey, first: StateVersion) -> Result<Committed, DashboardError> {
        let document = match self.read_current(room).await? {
            Current::Readable { document, .. } => document,
            Current::Absent | Current::Unreadable { .. } => DashboardDocument::default(),
        };
        Ok(Committed { version: first, document, replayed: true, ops: json!([]) })
    }

    /// Commits a whole document under a new epoch (a replace or a migration).
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
        Ok(self.store.commit(room, request).await?)
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

/// The room of a principal: its own dashboard in its own workspace.
pub(crate) fn room_of(principal: &Principal) -> RoomKey {
    RoomKey::new(principal.workspace_id, principal.subject.clone())
}

fn state_version((epoch, version): (String, u64)) -> StateVersion {
    StateVersion { epoch, version }
}

/// The answer after every attempt lost a race to another writer.
fn lost_races(last_seen: Option<(String, u64)>) -> DashboardError {
    match last_seen {
        Some(current) => DashboardError::Conflict { current: state_version(current), paths: Vec::new() },
        // The room vanished under us each time (deleted concurrently).
        None => DashboardError::PreconditionFailed { current: None },
    }
}

/// A document that cannot be serialized is a bug, reported as a store error (500).
fn storage_bug(error: &serde_json::Error) -> DashboardError {
    DashboardError::Storage(StateError::Corrupt(format!("dashboard document cannot be serialized: {error}")))
}

/// Refusals a replayed write may legitimately run into (its own first commit changed the state).
fn is_refusal(error: &DashboardError) -> bool {
    matches!(
        error,
        DashboardError::Rejected(_) | DashboardError::Conflict { .. } | DashboardError::PreconditionFailed { .. }
    )
}

/// The places of a conflict to show the client.
fn conflict_paths(conflict: Conflict) -> Vec<String> {
    match conflict {
        Conflict::Overlap { path, .. } | Conflict::Unguarded { path, .. } => vec![path],
    }
}

/// Written places as the store keeps them: pointers, and shifted arrays marked with [`SHIFTED_PREFIX`].
fn encode_written(written: &WrittenPaths) -> Vec<String> {
    let places = written.written().map(ToString::to_string);
    let shifted = written.shifted().map(|array| format!("{SHIFTED_PREFIX}{array}"));
    places.chain(shifted).collect()
}

/// Reads back [`encode_written`]; anything unreadable counts as the whole
/// document, so a bad entry can only cause a conflict, never a lost update.
fn decode_written(paths: &[String]) -> WrittenPaths {
    let mut written = WrittenPaths::new();
    for path in paths {
        match path.strip_prefix(SHIFTED_PREFIX) {
            Some(array) => match PointerBuf::parse(array) {
                Ok(array) => written.insert_shifted(array),
                Err(_) => written.insert(PointerBuf::root()),
            },
            None => written.insert(PointerBuf::parse(path.as_str()).unwrap_or_else(|_| PointerBuf::root())),
        }
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_paths_round_trip_through_the_store_form() {
        let mut written = WrittenPaths::new();
        written.insert(PointerBuf::parse("/widgets/a").unwrap());
        written.insert_shifted(PointerBuf::parse("/alerts").unwrap());
        let stored = encode_written(&written);
        assert_eq!(stored, ["/widgets/a", "shifted:/alerts"]);
        assert_eq!(decode_written(&stored), written);
        assert_eq!(decode_written(&["nonsense".to_owned()]), WrittenPaths::whole_document());
    }
}
