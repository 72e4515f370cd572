//! The stored form of a room: documents as bytes, written places as strings.

use agentdeck_domain::dashboard::codec;
use agentdeck_domain::dashboard::conflict::{Conflict, WrittenPaths};
use agentdeck_domain::dashboard::document::{CURRENT_SCHEMA_VERSION, DashboardDocument, StateLimits};
use agentdeck_domain::dashboard::migrations;
use json_patch::PatchOperation;
use json_patch::jsonptr::PointerBuf;
use serde_json::Value;

/// Marks a shifted array in the stored written paths. A JSON Pointer is empty
/// or starts with `/`, so a marked entry can never be mistaken for one.
const SHIFTED_PREFIX: &str = "shifted:";

/// Stored bytes to a document and the migration steps that ran.
///
/// A document in the current format passed every rule when it was written, so
/// reading it only decodes it (serde still checks its shape). An older one is
/// migrated and then checked by every rule, because the migration rewrote it
/// without a patch.
pub(super) fn read_document(
    stored: &[u8],
    limits: &StateLimits,
) -> Result<(DashboardDocument, Vec<&'static str>), String> {
    // Twice the cap: a document stored under a larger cap still loads, a bomb does not.
    let max_len = limits.max_document_bytes.saturating_mul(2);
    let json = codec::decode(stored, max_len).map_err(|error| error.to_string())?;
    if let Ok(document) = serde_json::from_slice::<DashboardDocument>(&json)
        && document.schema_version == CURRENT_SCHEMA_VERSION
    {
        return Ok((document, Vec::new()));
    }
    let value: Value = serde_json::from_slice(&json).map_err(|error| format!("not JSON: {error}"))?;
    let migrated = migrations::migrate(value).map_err(|error| error.to_string())?;
    let mut document = DashboardDocument::from_value(&migrated.document).map_err(|error| error.to_string())?;
    document.normalize();
    Ok((document, migrated.applied))
}

/// Written places as the store keeps them: pointers, and shifted arrays marked with [`SHIFTED_PREFIX`].
pub(super) fn encode_written(written: &WrittenPaths) -> Vec<String> {
    let places = written.written().map(ToString::to_string);
    let shifted = written.shifted().map(|array| format!("{SHIFTED_PREFIX}{array}"));
    places.chain(shifted).collect()
}

/// Reads back [`encode_written`]; anything unreadable counts as the whole
/// document, so a bad entry can only cause a conflict, never a lost update.
pub(super) fn decode_written(paths: &[String]) -> WrittenPaths {
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

/// The places of a conflict to show the client.
pub(super) fn conflict_paths(conflict: Conflict) -> Vec<String> {
    match conflict {
        Conflict::Overlap { path, .. } | Conflict::Unguarded { path, .. } => vec![path],
    }
}

/// The places a patch writes (`path`, and `from` of a `move`), for a conflict
/// that is about the whole patch; never empty (a patch that writes nothing
/// names the root).
pub(super) fn written_by(ops: &[PatchOperation]) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    for op in ops {
        let places = match op {
            PatchOperation::Test(_) => continue,
            PatchOperation::Move(moved) => vec![moved.from.to_string(), moved.path.to_string()],
            other => vec![other.path().to_string()],
        };
        for place in places {
            if !paths.contains(&place) {
                paths.push(place);
            }
        }
    }
    if paths.is_empty() {
        paths.push(String::new());
    }
    paths
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

    #[test]
    fn a_patch_always_names_what_it_writes() {
        let ops: Vec<PatchOperation> = serde_json::from_value(serde_json::json!([
            {"op": "test", "path": "/layout", "value": []},
            {"op": "add", "path": "/alerts/-", "value": 1},
            {"op": "move", "from": "/metrics/0", "path": "/metrics/-"},
            {"op": "replace", "path": "/alerts/-", "value": 2}
        ]))
        .unwrap();
        assert_eq!(written_by(&ops), ["/alerts/-", "/metrics/0", "/metrics/-"]);
        assert_eq!(written_by(&ops[..1]), [""], "a test-only patch names the root");
    }

    #[test]
    fn a_current_document_is_read_without_its_rules_an_older_one_with_them() {
        let limits = StateLimits::default();
        let stored = |value: serde_json::Value| codec::encode(value.to_string().as_bytes(), usize::MAX).bytes;
        // Breaks a rule (the layout names no widget) that only a full check would notice.
        let current = serde_json::json!({"schemaVersion": CURRENT_SCHEMA_VERSION, "layout": ["ghost"]});
        let (document, steps) = read_document(&stored(current), &limits).unwrap();
        assert_eq!((document.layout, steps.len()), (vec!["ghost".to_owned()], 0));
        let newer = serde_json::json!({"schemaVersion": CURRENT_SCHEMA_VERSION + 1});
        assert!(read_document(&stored(newer), &limits).is_err());
    }
}
