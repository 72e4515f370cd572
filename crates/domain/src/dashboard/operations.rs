//! The first stage of a write, which needs no document: reading a patch from
//! JSON and checking its operations — how many, where they write, how deep
//! their values nest. See `patch.rs` for the stages that follow.
//!
//! Errors point into the patch: `/3/path` is the `path` of operation 3.

use json_patch::PatchOperation;
use json_patch::jsonptr::{Pointer, PointerBuf};
use serde_json::Value;

use super::document::StateLimits;
use super::patch::PatchError;
use super::pointer::first_too_deep;
use crate::validation::FieldError;

/// The top-level members a patch may write.
pub const WRITABLE_MEMBERS: [&str; 10] = [
    "widgets",
    "layout",
    "activeProject",
    "activeTasks",
    "alerts",
    "metrics",
    "activity",
    "preferences",
    "widgetSizes",
    "lastAnswer",
];
/// Segments refused anywhere in a path: they reach into JavaScript prototypes.
pub const FORBIDDEN_SEGMENTS: [&str; 3] = ["__proto__", "constructor", "prototype"];
/// Longest serde message kept when an operation cannot be read.
const MAX_MESSAGE_CHARS: usize = 300;

/// A patch that passed every check that needs no document ([`check_operations`]).
///
/// [`apply_patch`](super::patch::apply_patch) takes only this, so the checks run
/// once per patch however many times a writer applies it (a write that lost a
/// race to another writer applies the same patch again to the newer document).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedPatch {
    ops: Vec<PatchOperation>,
}

impl CheckedPatch {
    /// Reads a patch from JSON ([`parse_patch`]) and checks it ([`check_operations`]).
    pub fn parse(value: &Value, limits: &StateLimits) -> Result<Self, PatchError> {
        Self::check(parse_patch(value, limits)?, limits)
    }

    /// Checks operations already read ([`check_operations`]).
    pub fn check(ops: Vec<PatchOperation>, limits: &StateLimits) -> Result<Self, PatchError> {
        check_operations(&ops, limits)?;
        Ok(Self { ops })
    }

    /// The operations, in order.
    pub fn ops(&self) -> &[PatchOperation] {
        &self.ops
    }
}

/// Reads a patch from JSON, checking the operation count before reading any
/// operation and reporting each unreadable one at `/<index>`.
pub fn parse_patch(value: &Value, limits: &StateLimits) -> Result<Vec<PatchOperation>, PatchError> {
    let Some(items) = value.as_array() else {
        return Err(PatchError::InvalidOp { errors: vec![FieldError::new("", "must be an array of operations")] });
    };
    if items.len() > limits.max_ops {
        return Err(PatchError::TooManyOps { count: items.len(), limit: limits.max_ops });
    }
    let mut ops = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (index, item) in items.iter().enumerate() {
        match serde_json::from_value::<PatchOperation>(item.clone()) {
            Ok(op) => ops.push(op),
            Err(error) => errors.push(unreadable_op(index, item, &error)),
        }
    }
    if !errors.is_empty() {
        return Err(PatchError::InvalidOp { errors });
    }
    Ok(ops)
}

/// Points at the bad pointer when that is what made an operation unreadable.
fn unreadable_op(index: usize, item: &Value, error: &serde_json::Error) -> FieldError {
    for member in ["path", "from"] {
        if let Some(Value::String(text)) = item.get(member)
            && let Err(problem) = PointerBuf::parse(text.as_str())
        {
            let message = format!("is not a JSON Pointer: {problem}");
            return FieldError::new(
                format!("/{index}/{member}"),
                message.chars().take(MAX_MESSAGE_CHARS).collect::<String>(),
            );
        }
    }
    let message: String = error.to_string().chars().take(MAX_MESSAGE_CHARS).collect();
    FieldError::new(format!("/{index}"), message)
}

/// The checks that need no document: operation count, allowed paths and value depth.
pub fn check_operations(ops: &[PatchOperation], limits: &StateLimits) -> Result<(), PatchError> {
    if ops.len() > limits.max_ops {
        return Err(PatchError::TooManyOps { count: ops.len(), limit: limits.max_ops });
    }
    let mut forbidden = Vec::new();
    let mut invalid = Vec::new();
    for (index, op) in ops.iter().enumerate() {
        let must_be_writable = !matches!(op, PatchOperation::Test(_));
        check_pointer(index, "path", op.path(), must_be_writable, &mut forbidden);
        if let Some(from) = from_of(op) {
            check_pointer(index, "from", from, true, &mut forbidden);
        }
        if let Some(value) = value_of(op)
            && let Some(deep) = first_too_deep(value, limits.max_depth)
        {
            invalid.push(FieldError::new(
                format!("/{index}/value{deep}"),
                format!("nests deeper than {} levels", limits.max_depth),
            ));
        }
    }
    if !forbidden.is_empty() {
        return Err(PatchError::Forbidden { errors: forbidden });
    }
    if !invalid.is_empty() {
        return Err(PatchError::InvalidOp { errors: invalid });
    }
    Ok(())
}

fn check_pointer(index: usize, member: &str, pointer: &Pointer, must_be_writable: bool, errors: &mut Vec<FieldError>) {
    let at = format!("/{index}/{member}");
    if let Some(segment) = pointer.tokens().find(|token| FORBIDDEN_SEGMENTS.contains(&token.decoded().as_ref())) {
        errors.push(FieldError::new(&at, format!("must not contain the segment {:?}", segment.decoded())));
        return;
    }
    if !must_be_writable {
        return;
    }
    match pointer.first() {
        None => errors.push(FieldError::new(at, "must not be the whole document; replace it with PUT instead")),
        Some(first) if !WRITABLE_MEMBERS.contains(&first.decoded().as_ref()) => errors.push(FieldError::new(
            at,
            format!("/{} is not writable; writable members: {}", first.encoded(), WRITABLE_MEMBERS.join(", ")),
        )),
        Some(_) => {}
    }
}

pub(super) fn from_of(op: &PatchOperation) -> Option<&Pointer> {
    match op {
        PatchOperation::Move(op) => Some(&op.from),
        PatchOperation::Copy(op) => Some(&op.from),
        _ => None,
    }
}

fn value_of(op: &PatchOperation) -> Option<&Value> {
    match op {
        PatchOperation::Add(op) => Some(&op.value),
        PatchOperation::Replace(op) => Some(&op.value),
        PatchOperation::Test(op) => Some(&op.value),
        _ => None,
    }
}
