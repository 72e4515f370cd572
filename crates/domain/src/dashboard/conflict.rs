//! Conflict detection: may a patch made against an older version be applied
//! on top of the current one?
//!
//! Every committed change keeps the set of places it wrote ([`WrittenPaths`]).
//! A patch whose `base` is older than the current version is rebased (applied
//! on top) only if none of its operations touches a place written since `base`
//! (realtime-sync §3.4, "path-disjoint merge"). Places are JSON Pointers and
//! "touch" is segment-wise: `/widgets/a` overlaps `/widgets` (its parent),
//! `/widgets/a` itself and `/widgets/a/title` (its child), but not `/widgets/ab`.
//!
//! # Arrays
//!
//! An index path such as `/alerts/3/dismissed` names "the fourth alert", which
//! is a different alert after someone inserts, removes or trims in front of
//! it. So a change that shifts an array's items records the array in
//! [`WrittenPaths::shifted`]: any later index path into it conflicts, while an
//! append (`/alerts/-`, which names no existing item) still goes through —
//! otherwise two writers appending to a full feed (where every append trims the
//! oldest item) would conflict forever.
//!
//! # Lost history
//!
//! When the history no longer reaches back to `base`, nothing is known about
//! what changed, so the patch is a conflict unless it is an explicit
//! compare-and-set: every place it writes is guarded by an earlier `test` op
//! on the same place or an ancestor of it. `test` ops themselves never
//! conflict: they are checked against the current document when applied.

use std::collections::BTreeSet;

use json_patch::PatchOperation;
use json_patch::jsonptr::{Pointer, PointerBuf};
use serde::{Deserialize, Serialize};

/// The places one committed change wrote, kept per history entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrittenPaths {
    /// Values replaced, added or removed; overlapping any of these is a conflict.
    written: BTreeSet<PointerBuf>,
    /// Arrays whose items moved to other indices; an index path into one is a conflict.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    shifted: BTreeSet<PointerBuf>,
}

impl WrittenPaths {
    /// No places.
    pub fn new() -> Self {
        Self::default()
    }

    /// The whole document (`""`), as written by a `PUT`: overlaps every path.
    pub fn whole_document() -> Self {
        let mut paths = Self::new();
        paths.insert(PointerBuf::root());
        paths
    }

    /// The places a patch writes, read from the operations alone: every
    /// non-`test` op's `path`, plus `from` of a `move`. Without the document it
    /// cannot tell which arrays shifted; [`super::patch::apply_patch`] can, and
    /// returns the exact set.
    pub fn from_ops(ops: &[PatchOperation]) -> Self {
        let mut paths = Self::new();
        for op in ops {
            match op {
                PatchOperation::Test(_) => {}
                PatchOperation::Move(op) => {
                    paths.insert(op.from.clone());
                    paths.insert(op.path.clone());
                }
                other => paths.insert(other.path().to_buf()),
            }
        }
        paths
    }

    /// Records a written place.
    pub fn insert(&mut self, pointer: PointerBuf) {
        self.written.insert(pointer);
    }

    /// Records an array whose items moved to other indices.
    pub fn insert_shifted(&mut self, array: PointerBuf) {
        self.shifted.insert(array);
    }

    /// The written places, in pointer order.
    pub fn written(&self) -> impl Iterator<Item = &Pointer> {
        self.written.iter().map(|pointer| pointer.as_ptr())
    }

    /// The shifted arrays, in pointer order.
    pub fn shifted(&self) -> impl Iterator<Item = &Pointer> {
        self.shifted.iter().map(|pointer| pointer.as_ptr())
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.written.is_empty() && self.shifted.is_empty()
    }

    /// The first recorded place that `path` touches, if any.
    pub fn touched_by(&self, path: &Pointer) -> Option<&Pointer> {
        let written = self.written().find(|written| overlaps(path, written));
        written.or_else(|| self.shifted().find(|array| shift_affects(path, array)))
    }
}

/// Whether two places overlap: equal, or one is an ancestor of the other (segment-wise).
pub fn overlaps(left: &Pointer, right: &Pointer) -> bool {
    left.starts_with(right) || right.starts_with(left)
}

/// Whether a write at `path` depends on the indices of `array`, which shifted:
/// it replaces the array or an ancestor, or goes through one of its indices.
/// Only an append (`<array>/-`) is unaffected.
fn shift_affects(path: &Pointer, array: &Pointer) -> bool {
    if array.starts_with(path) {
        return true;
    }
    // `strip_prefix` compares strings, not segments: check the boundary first.
    if !path.starts_with(array) {
        return false;
    }
    path.strip_prefix(array).and_then(|rest| rest.first()).is_some_and(|token| !token.is_next())
}

/// Why a patch cannot be applied on top of the current version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// An operation touches a place written since the patch's base version.
    #[error("operation {op} touches {path}, which overlaps {written}, written since the base version")]
    Overlap {
        /// Index of the operation in the patch.
        op: usize,
        /// The place it touches (its `path` or `from`).
        path: String,
        /// The place written since the base version.
        written: String,
    },
    /// The history no longer reaches the base version and this write is not guarded by a `test`.
    #[error(
        "the base version is too old to check, and operation {op} writes {path} without an earlier test guarding it"
    )]
    Unguarded {
        /// Index of the operation in the patch.
        op: usize,
        /// The unguarded place.
        path: String,
    },
}

/// The places an operation writes or reads to write: its `path`, and the
/// `from` of a `move` or `copy` (a copy of a value changed since `base` would
/// silently copy something the writer never saw). Empty for `test`.
fn touched(op: &PatchOperation) -> Vec<&Pointer> {
    match op {
        PatchOperation::Test(_) => Vec::new(),
        PatchOperation::Move(op) => vec![&op.from, &op.path],
        PatchOperation::Copy(op) => vec![&op.from, &op.path],
        other => vec![other.path()],
    }
}

/// Decides whether `ops`, made against an older version, may be applied on
/// top of the current one.
///
/// `written_since_base` holds the [`WrittenPaths`] of every change after the
/// base version, or `None` when the history no longer reaches it. With `Some`,
/// a conflict is an operation touching a written place; with `None`, it is an
/// operation writing a place that no earlier `test` op guards (the same place
/// or an ancestor).
pub fn check_rebase(ops: &[PatchOperation], written_since_base: Option<&[WrittenPaths]>) -> Result<(), Conflict> {
    let Some(history) = written_since_base else { return check_guarded(ops) };
    for (index, op) in ops.iter().enumerate() {
        for path in touched(op) {
            if let Some(written) = history.iter().find_map(|change| change.touched_by(path)) {
                return Err(Conflict::Overlap { op: index, path: path.to_string(), written: written.to_string() });
            }
        }
    }
    Ok(())
}

fn check_guarded(ops: &[PatchOperation]) -> Result<(), Conflict> {
    let mut guards: Vec<&Pointer> = Vec::new();
    for (index, op) in ops.iter().enumerate() {
        if let PatchOperation::Test(test) = op {
            guards.push(&test.path);
            continue;
        }
        for path in touched(op) {
            if !guards.iter().any(|guard| path.starts_with(guard)) {
                return Err(Conflict::Unguarded { op: index, path: path.to_string() });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ops(value: serde_json::Value) -> Vec<PatchOperation> {
        serde_json::from_value(value).unwrap()
    }

    fn written(paths: &[&str]) -> WrittenPaths {
        let mut written = WrittenPaths::new();
        for path in paths {
            written.insert(PointerBuf::parse(*path).unwrap());
        }
        written
    }

    #[test]
    fn overlap_is_segment_wise() {
        let pointer = |text: &'static str| Pointer::from_static(text);
        assert!(overlaps(pointer("/widgets/a"), pointer("/widgets/a")));
        assert!(overlaps(pointer("/widgets/a"), pointer("/widgets")));
        assert!(overlaps(pointer("/widgets"), pointer("/widgets/a/title")));
        assert!(overlaps(pointer(""), pointer("/layout")));
        assert!(!overlaps(pointer("/widgets/a"), pointer("/widgets/ab")));
        assert!(!overlaps(pointer("/widgets/ab"), pointer("/widgets/a")));
        assert!(!overlaps(pointer("/alerts/1"), pointer("/alerts/10")));
    }

    #[test]
    fn disjoint_paths_rebase_and_overlapping_ones_conflict() {
        let history = [written(&["/widgets/a"]), written(&["/preferences/theme"])];
        let disjoint = ops(json!([
            {"op": "replace", "path": "/widgets/ab/title", "value": "x"},
            {"op": "add", "path": "/layout/-", "value": "ab"},
            {"op": "test", "path": "/widgets/a", "value": 1}
        ]));
        assert_eq!(check_rebase(&disjoint, Some(&history)), Ok(()));

        let child = ops(json!([{"op": "replace", "path": "/widgets/a/title", "value": "x"}]));
        let error = check_rebase(&child, Some(&history)).unwrap_err();
        assert_eq!(
            error,
            Conflict::Overlap { op: 0, path: "/widgets/a/title".to_owned(), written: "/widgets/a".to_owned() }
        );
        let parent =
            ops(json!([{"op": "add", "path": "/layout/-", "value": "a"}, {"op": "remove", "path": "/preferences"}]));
        assert!(matches!(check_rebase(&parent, Some(&history)), Err(Conflict::Overlap { op: 1, .. })));
        let copy_from = ops(json!([{"op": "copy", "from": "/widgets/a", "path": "/widgets/c"}]));
        assert!(check_rebase(&copy_from, Some(&history)).is_err());
    }

    #[test]
    fn a_whole_document_write_conflicts_with_everything() {
        let history = [WrittenPaths::whole_document()];
        let patch = ops(json!([{"op": "replace", "path": "/activeProject", "value": null}]));
        assert!(check_rebase(&patch, Some(&history)).is_err());
        assert_eq!(check_rebase(&[], Some(&history)), Ok(()));
    }

    #[test]
    fn shifted_arrays_conflict_with_index_paths_but_not_appends() {
        let mut trimmed = WrittenPaths::new();
        trimmed.insert_shifted(PointerBuf::parse("/alerts").unwrap());
        let history = [trimmed];
        let by_index = ops(json!([{"op": "replace", "path": "/alerts/3/dismissed", "value": true}]));
        assert!(check_rebase(&by_index, Some(&history)).is_err());
        let whole = ops(json!([{"op": "replace", "path": "/alerts", "value": []}]));
        assert!(check_rebase(&whole, Some(&history)).is_err());
        let append = ops(json!([{"op": "add", "path": "/alerts/-", "value": {}}]));
        assert_eq!(check_rebase(&append, Some(&history)), Ok(()));
        let sibling = ops(json!([{"op": "add", "path": "/activity/-", "value": {}}]));
        assert_eq!(check_rebase(&sibling, Some(&history)), Ok(()));
    }

    #[test]
    fn without_history_only_guarded_writes_pass() {
        let guarded = ops(json!([
            {"op": "test", "path": "/widgets/a", "value": {}},
            {"op": "replace", "path": "/widgets/a/title", "value": "x"},
            {"op": "test", "path": "/layout", "value": []},
            {"op": "move", "from": "/layout/0", "path": "/layout/1"}
        ]));
        assert_eq!(check_rebase(&guarded, None), Ok(()));
        let guard_after_write = ops(json!([
            {"op": "replace", "path": "/widgets/a/title", "value": "x"},
            {"op": "test", "path": "/widgets/a", "value": {}}
        ]));
        assert_eq!(
            check_rebase(&guard_after_write, None),
            Err(Conflict::Unguarded { op: 0, path: "/widgets/a/title".to_owned() })
        );
        let sibling_guard = ops(json!([
            {"op": "test", "path": "/widgets/a", "value": {}},
            {"op": "replace", "path": "/widgets/ab", "value": {}}
        ]));
        assert!(check_rebase(&sibling_guard, None).is_err());
        assert_eq!(check_rebase(&ops(json!([{"op": "test", "path": "/layout", "value": []}])), None), Ok(()));
    }

    #[test]
    fn from_ops_records_paths_and_move_sources() {
        let patch = ops(json!([
            {"op": "test", "path": "/layout", "value": []},
            {"op": "move", "from": "/widgets/a", "path": "/widgets/b"},
            {"op": "copy", "from": "/widgets/b", "path": "/widgets/c"},
            {"op": "remove", "path": "/alerts/0"}
        ]));
        let paths: Vec<String> = WrittenPaths::from_ops(&patch).written().map(ToString::to_string).collect();
        assert_eq!(paths, ["/alerts/0", "/widgets/a", "/widgets/b", "/widgets/c"]);
    }

    #[test]
    fn written_paths_round_trip_through_json() {
        let mut paths = written(&["/widgets/a~1b", "/layout"]);
        paths.insert_shifted(PointerBuf::parse("/alerts").unwrap());
        let wire = serde_json::to_value(&paths).unwrap();
        assert_eq!(wire, json!({"written": ["/layout", "/widgets/a~1b"], "shifted": ["/alerts"]}));
        assert_eq!(serde_json::from_value::<WrittenPaths>(wire).unwrap(), paths);
    }
}
