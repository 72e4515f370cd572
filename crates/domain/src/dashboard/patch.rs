//! Writes: RFC 6902 JSON Patches applied all-or-nothing, and whole-document replaces.
//!
//! [`apply_patch`] runs in three stages, and a patch must pass all three:
//!
//! 1. **Before applying** ([`check_operations`], once per patch: [`apply_patch`]
//!    takes a [`CheckedPatch`], which only exists after the check): at most `max_ops`
//!    operations; every `path` (and `from` of `move`/`copy`) starts with a
//!    writable member ([`WRITABLE_MEMBERS`]) — so `schemaVersion`, the derived
//!    `activeAlerts` and the root are refused, except that a `test` may read
//!    anywhere; no segment is `__proto__`, `constructor` or `prototype` (the
//!    browser merges this JSON into JavaScript objects); no value nests deeper
//!    than `max_depth`.
//! 2. **Applying**, one operation at a time on a copy (of the whole document,
//!    or with [`apply_patch_to_checked`] of the members the patch names): `test` ops compare
//!    numbers by value (`5 == 5.0`, as RFC 6902 says), a failed `test` (or one
//!    of a missing place) is a distinct [`PatchError::TestFailed`], no
//!    operation may nest the copy deeper than `max_depth`, and every `copy` is
//!    budgeted so a patch cannot grow the working copy exponentially by
//!    copying a subtree into itself.
//! 3. **After applying**: the result passes every document rule
//!    ([`DashboardDocument::from_value`]; with [`apply_patch_to_checked`], only
//!    what the patch wrote, the layout whenever the widgets change), then
//!    [`DashboardDocument::normalize`] applies the bounds and derived values,
//!    then the serialized size must fit `max_document_bytes`.
//!
//! The input document is borrowed and never changed, so a failure anywhere
//! leaves nothing behind: atomicity comes from working on a copy.
//!
//! # Error paths
//!
//! Errors about an operation point into the *patch*: `/3/path` is the `path`
//! of operation 3, `/0/value/a` a place inside operation 0's value. Errors
//! about the result ([`PatchError::Invalid`]) point into the *document*:
//! `/widgets/w1/data/progress`.

use json_patch::jsonptr::{Pointer, PointerBuf};
use json_patch::{PatchErrorKind, PatchOperation};
use serde_json::Value;

use super::conflict::WrittenPaths;
use super::document::{DashboardDocument, StateLimits, Trimmed};
use super::operations::from_of;
pub use super::operations::{CheckedPatch, FORBIDDEN_SEGMENTS, WRITABLE_MEMBERS, check_operations, parse_patch};
use super::pointer::{first_too_deep, json_equal, serialized_len};
use super::scope::{MemberScope, Scope};
use crate::validation::{FieldError, ValidationErrors, summary};

/// How much bigger than the size cap the working copy may grow by `copy` ops
/// while a patch is applied (later `remove`s and trims may shrink it again).
const COPY_GROWTH_FACTOR: usize = 2;

/// A committed patch: the new document and where it wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The document after the patch, normalized.
    pub document: DashboardDocument,
    /// The places written, for conflict checks of later patches.
    pub written: WrittenPaths,
    /// `document` serialized as compact JSON (what a store keeps; its length
    /// is the size checked against the cap).
    pub json: Vec<u8>,
    /// What the server's rules changed beyond the patch's own operations
    /// (oldest items trimmed, `activeAlerts` recomputed, defaults filled in), as
    /// operations that follow the patch's: a replica applying the patch and then
    /// these holds exactly the stored document.
    pub effects: Vec<PatchOperation>,
}

impl Applied {
    /// The patch's operations followed by the [`effects`](Applied::effects): the
    /// change as committed, for other replicas and the history.
    pub fn committed_ops(&self, ops: &Value) -> Value {
        if self.effects.is_empty() {
            return ops.clone();
        }
        let mut all = ops.as_array().cloned().unwrap_or_default();
        all.extend(self.effects.iter().filter_map(|effect| serde_json::to_value(effect).ok()));
        Value::Array(all)
    }
}

/// Why a patch or a replacement document was refused; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// More operations than the limit.
    #[error("the patch has {count} operations; at most {limit} are allowed")]
    TooManyOps {
        /// Operations sent.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// An operation targets a place no patch may write (paths point into the patch: `/3/path`).
    #[error("the patch writes where it may not: {}", summary(.errors))]
    Forbidden {
        /// What was refused, at `/<op index>/path` or `/<op index>/from`.
        errors: Vec<FieldError>,
    },
    /// An operation is malformed or cannot be applied (paths point into the patch: `/3/value`).
    #[error("the patch cannot be applied: {}", summary(.errors))]
    InvalidOp {
        /// What failed, at `/<op index>/<member>`.
        errors: Vec<FieldError>,
    },
    /// A `test` operation did not match.
    #[error("test operation {op} failed at {path}")]
    TestFailed {
        /// Index of the `test` operation.
        op: usize,
        /// The place it tested (a pointer into the document).
        path: String,
    },
    /// The resulting document breaks a rule (paths point into the document).
    #[error("the resulting document is invalid: {0}")]
    Invalid(ValidationErrors),
    /// The resulting document is over the size cap.
    #[error("the document would be {bytes} bytes; at most {limit} are allowed")]
    TooLarge {
        /// Size of the serialized document (or of the working copy, for runaway copies).
        bytes: usize,
        /// The cap.
        limit: usize,
    },
}

impl PatchError {
    /// The sync protocol's `reject` code for this error (realtime-sync §3.2).
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooManyOps { .. } | Self::InvalidOp { .. } => "invalid_patch",
            Self::Forbidden { .. } => "forbidden",
            Self::TestFailed { .. } => "test_failed",
            Self::Invalid(_) => "schema",
            Self::TooLarge { .. } => "too_large",
        }
    }

    /// The field errors to show the client (empty for errors that are not about a place).
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            Self::Forbidden { errors } | Self::InvalidOp { errors } => errors,
            Self::Invalid(errors) => &errors.0,
            Self::TooManyOps { .. } | Self::TestFailed { .. } | Self::TooLarge { .. } => &[],
        }
    }
}

/// Applies `ops` to `document` atomically and returns the new, normalized
/// document with the places written; on any error nothing is returned and the
/// input is untouched. The whole result is checked: use this for a document
/// whose validity is not known (one read from the store, which another version
/// or a hand may have written).
pub fn apply_patch(
    document: &DashboardDocument,
    patch: &CheckedPatch,
    limits: &StateLimits,
) -> Result<Applied, PatchError> {
    apply_in_scope(document, patch.ops(), Scope::Whole, limits)
}

/// [`apply_patch`] for a document known to pass every rule (one that came out
/// of [`apply_patch`], this function or [`replace_document`]): only what the
/// patch writes is copied and checked again (see `scope.rs`), which gives the
/// same result at a fraction of the cost.
pub fn apply_patch_to_checked(
    document: &DashboardDocument,
    patch: &CheckedPatch,
    limits: &StateLimits,
) -> Result<Applied, PatchError> {
    apply_in_scope(document, patch.ops(), Scope::of(patch.ops()), limits)
}

/// A patch applied within `scope`: the steps are the same either way, on the
/// whole document or on the members in scope.
fn apply_in_scope(
    document: &DashboardDocument,
    ops: &[PatchOperation],
    scope: Scope,
    limits: &StateLimits,
) -> Result<Applied, PatchError> {
    let mut working = scope.working_copy(document).map_err(unserializable)?;
    let mut written = WrittenPaths::new();
    let copy_budget = limits.max_document_bytes.saturating_mul(COPY_GROWTH_FACTOR);
    // The whole document's size, counted only when a `copy` needs it.
    let mut working_bytes = None;
    for (index, op) in ops.iter().enumerate() {
        if let PatchOperation::Test(test) = op {
            let matches = working.pointer(test.path.as_str()).is_some_and(|found| json_equal(found, &test.value));
            if !matches {
                return Err(PatchError::TestFailed { op: index, path: test.path.to_string() });
            }
            continue;
        }
        check_placement(index, op, &working, limits)?;
        if let PatchOperation::Copy(copy) = op {
            let bytes = working_bytes.get_or_insert_with(|| document.serialized_len());
            *bytes += working.pointer(copy.from.as_str()).map_or(0, serialized_len::<Value>);
            if *bytes > copy_budget {
                return Err(PatchError::TooLarge { bytes: *bytes, limit: limits.max_document_bytes });
            }
        }
        record_write(&working, op, &mut written);
        json_patch::patch_unsafe(&mut working, std::slice::from_ref(op))
            .map_err(|error| PatchError::InvalidOp { errors: vec![describe_failure(index, op, &error.kind)] })?;
    }
    let mut next = match &scope {
        Scope::Whole => validated(&working, limits)?,
        Scope::Members(members) => rechecked(document, &working, members, limits)?,
    };
    let trimmed = next.normalize();
    for member in trimmed.members() {
        written.insert_shifted(PointerBuf::from_tokens([member]));
    }
    let json = serde_json::to_vec(&next).map_err(unserializable)?;
    if json.len() > limits.max_document_bytes {
        return Err(PatchError::TooLarge { bytes: json.len(), limit: limits.max_document_bytes });
    }
    // Replicas apply the client's operations; these make their copy equal the stored one.
    let stored = match &scope {
        Scope::Whole => serde_json::to_value(&next),
        Scope::Members(members) => members.stored_copy(document, &next, &mut working),
    }
    .map_err(unserializable)?;
    let effects = rule_effects(working, &trimmed, &stored);
    Ok(Applied { document: next, written, json, effects })
}

/// The patched members checked again (depth first, as [`validated`] does), the rest kept.
fn rechecked(
    document: &DashboardDocument,
    working: &Value,
    scope: &MemberScope,
    limits: &StateLimits,
) -> Result<DashboardDocument, PatchError> {
    if let Some(deep) = first_too_deep(working, limits.max_depth) {
        let message = format!("nests deeper than {} levels", limits.max_depth);
        return Err(PatchError::Invalid(ValidationErrors(vec![FieldError::new(deep, message)])));
    }
    let Some(members) = working.as_object() else {
        return Err(PatchError::Invalid(ValidationErrors(vec![FieldError::new("", "must be an object")])));
    };
    document.with_rechecked(members, scope.written, scope.written_widgets()).map_err(PatchError::Invalid)
}

/// A document that cannot be serialized (a bug, reported as an invalid result).
fn unserializable(error: serde_json::Error) -> PatchError {
    PatchError::Invalid(ValidationErrors(vec![FieldError::new("", format!("cannot be serialized: {error}"))]))
}

/// Checks and types a whole document sent to replace the current one (`PUT`).
///
/// The rules are those of a patch result: `schemaVersion` must be current
/// (older documents are migrated before they get here), bounds are applied and
/// `activeAlerts` is recomputed — a sent `activeAlerts` must be a list of
/// strings, but its content is ignored, so a client may send back what it read.
/// A replace writes everywhere: record it as [`WrittenPaths::whole_document`].
pub fn replace_document(new: &Value, limits: &StateLimits) -> Result<DashboardDocument, PatchError> {
    let mut document = validated(new, limits)?;
    document.normalize();
    checked_size(&document, limits)?;
    Ok(document)
}

/// Depth first (so nothing below walks a hostile value deeper than the cap), then every rule.
fn validated(value: &Value, limits: &StateLimits) -> Result<DashboardDocument, PatchError> {
    if let Some(deep) = first_too_deep(value, limits.max_depth) {
        let message = format!("nests deeper than {} levels", limits.max_depth);
        return Err(PatchError::Invalid(ValidationErrors(vec![FieldError::new(deep, message)])));
    }
    DashboardDocument::from_value(value).map_err(PatchError::Invalid)
}

/// What the rules changed between the patched copy (`working`) and the stored document, as
/// operations: the items trims dropped, `activeAlerts` whole when it changed, then whatever else
/// differs (defaults filled in). Built from what the rules did rather than by diffing the lists,
/// because an index-by-index diff of a list that lost its front item rewrites every item after it.
fn rule_effects(mut working: Value, trimmed: &Trimmed, stored: &Value) -> Vec<PatchOperation> {
    let mut effects = Vec::new();
    let front = |count: usize| (0..count).collect::<Vec<_>>();
    let dropped = [
        ("alerts", front(trimmed.alerts)),
        ("activity", front(trimmed.activity)),
        ("metrics", front(trimmed.metrics)),
        ("activeTasks", trimmed.active_tasks.clone()),
    ];
    for (member, indices) in dropped {
        let Some(Value::Array(items)) = working.get_mut(member) else { continue };
        // Highest first, so each index still names the item it named before the trim.
        let count = items.len();
        for &index in indices.iter().rev().filter(|&&index| index < count) {
            items.remove(index);
            let path = PointerBuf::from_tokens([member.to_owned(), index.to_string()]);
            effects.push(PatchOperation::Remove(json_patch::RemoveOperation { path }));
        }
    }
    if let (Some(derived), Some(held)) = (stored.get("activeAlerts"), working.get_mut("activeAlerts"))
        && derived != held
    {
        *held = derived.clone();
        let path = PointerBuf::from_tokens(["activeAlerts"]);
        effects.push(PatchOperation::Replace(json_patch::ReplaceOperation { path, value: derived.clone() }));
    }
    effects.extend(json_patch::diff(&working, stored).0);
    effects
}

fn checked_size(document: &DashboardDocument, limits: &StateLimits) -> Result<usize, PatchError> {
    let bytes = serialized_len(document);
    if bytes > limits.max_document_bytes {
        return Err(PatchError::TooLarge { bytes, limit: limits.max_document_bytes });
    }
    Ok(bytes)
}

/// Refuses an operation that would nest the working copy deeper than the cap,
/// so the working copy stays as shallow as a valid document at every step.
fn check_placement(index: usize, op: &PatchOperation, working: &Value, limits: &StateLimits) -> Result<(), PatchError> {
    let placed = match op {
        PatchOperation::Add(op) => Some(&op.value),
        PatchOperation::Replace(op) => Some(&op.value),
        PatchOperation::Move(op) => working.pointer(op.from.as_str()),
        PatchOperation::Copy(op) => working.pointer(op.from.as_str()),
        PatchOperation::Remove(_) | PatchOperation::Test(_) => None,
    };
    let Some(placed) = placed else { return Ok(()) };
    // The value's outermost container sits one level below its parent.
    let room = limits.max_depth.saturating_sub(op.path().count());
    if first_too_deep(placed, room).is_none() {
        return Ok(());
    }
    Err(PatchError::InvalidOp {
        errors: vec![FieldError::new(
            format!("/{index}/path"),
            format!("would nest the document deeper than {} levels", limits.max_depth),
        )],
    })
}

/// Records where `op` writes, looking at the working copy *before* it applies.
///
/// Writing into an array by index shifts the items after it, so such writes
/// record the array as shifted (see [`WrittenPaths`]); an append, or removing
/// the last item, shifts nothing and records just the item.
fn record_write(working: &Value, op: &PatchOperation, written: &mut WrittenPaths) {
    match op {
        PatchOperation::Test(_) => {}
        PatchOperation::Replace(op) => written.insert(op.path.clone()),
        PatchOperation::Add(op) => record_array_aware(working, &op.path, ArrayChange::Insert, written),
        PatchOperation::Copy(op) => record_array_aware(working, &op.path, ArrayChange::Insert, written),
        PatchOperation::Remove(op) => record_array_aware(working, &op.path, ArrayChange::Remove, written),
        PatchOperation::Move(op) => {
            // Both ends may shift items; keeping it simple, any array end shifts its array.
            record_array_aware(working, &op.from, ArrayChange::Move, written);
            record_array_aware(working, &op.path, ArrayChange::Move, written);
        }
    }
}

#[derive(Clone, Copy)]
enum ArrayChange {
    Insert,
    Remove,
    Move,
}

fn record_array_aware(working: &Value, path: &Pointer, change: ArrayChange, written: &mut WrittenPaths) {
    let Some((parent, last)) = path.split_back() else {
        written.insert(path.to_buf());
        return;
    };
    let Some(Value::Array(items)) = working.pointer(parent.as_str()) else {
        written.insert(path.to_buf());
        return;
    };
    let index = match last.to_index() {
        Ok(json_patch::jsonptr::index::Index::Num(index)) => Some(index),
        Ok(json_patch::jsonptr::index::Index::Next) => Some(items.len()),
        Err(_) => None,
    };
    let at_end = match change {
        ArrayChange::Insert => index == Some(items.len()),
        ArrayChange::Remove => items.len().checked_sub(1).is_some_and(|last| index == Some(last)),
        ArrayChange::Move => false,
    };
    match (at_end, index) {
        // Record the concrete index, so `/alerts/-` from another writer stays disjoint.
        (true, Some(index)) => written.insert(parent.with_trailing_token(index)),
        _ => {
            written.insert(path.to_buf());
            written.insert_shifted(parent.to_buf());
        }
    }
}

/// Says why json-patch refused operation `index`, at the member that is wrong.
fn describe_failure(index: usize, op: &PatchOperation, kind: &PatchErrorKind) -> FieldError {
    let path = op.path();
    match (kind, op) {
        (PatchErrorKind::InvalidFromPointer, _) => {
            let from = from_of(op).map_or_else(String::new, |from| from.to_string());
            FieldError::new(format!("/{index}/from"), format!("there is no value at {from}"))
        }
        (PatchErrorKind::CannotMoveInsideItself, _) => {
            FieldError::new(format!("/{index}/path"), "cannot move a value inside itself")
        }
        (_, PatchOperation::Add(_) | PatchOperation::Copy(_) | PatchOperation::Move(_)) => FieldError::new(
            format!("/{index}/path"),
            format!("cannot add at {path}: the parent does not exist or the index is out of range"),
        ),
        _ => FieldError::new(format!("/{index}/path"), format!("there is no value at {path}")),
    }
}
