//! Hand-written cases for how patches are checked and applied, plus the
//! fixtures and helpers the other test files share. The document's own rules
//! are tested in `rules_tests.rs`, the properties in `proptests.rs`.

use json_patch::PatchOperation;
use serde_json::{Value, json};

use super::document::*;
use super::patch::*;

/// Fixtures shared with the property tests.
pub(super) mod fixtures {
    use serde_json::{Value, json};

    use super::super::document::DashboardDocument;

    pub fn widget(id: &str, progress: f64) -> Value {
        json!({
            "type": "ProjectStatus",
            "id": id,
            "data": {
                "projectId": "p-1", "projectName": "Apollo", "status": "on_track",
                "progress": progress, "tasksCompleted": 1, "tasksTotal": 4
            }
        })
    }

    pub fn alert(id: &str, dismissed: bool) -> Value {
        json!({
            "id": id, "severity": "warning", "message": "Sprint is late",
            "createdAt": "2025-03-01T12:00:00Z", "dismissed": dismissed
        })
    }

    pub fn task(id: &str, status: &str) -> Value {
        json!({"taskId": id, "taskName": "Plan the sprint", "status": status, "currentStep": 1, "totalSteps": 3})
    }

    pub fn metric(label: &str) -> Value {
        json!({"label": label, "value": 21, "unit": "pts"})
    }

    pub fn activity(id: &str) -> Value {
        json!({"id": id, "user": "Ada", "action": "completed", "target": "Plan", "time": "2025-03-01T12:00:00Z"})
    }

    /// A small valid document with a bit of everything.
    pub fn document_value() -> Value {
        json!({
            "schemaVersion": 2,
            "widgets": { "w1": widget("w1", 40.0), "w2": widget("w2", 60.0) },
            "layout": ["w1", "w2"],
            "activeProject": "p-1",
            "activeTasks": [task("t1", "running")],
            "alerts": [alert("a1", false), alert("a2", true), alert("a3", false)],
            "metrics": [metric("Velocity")],
            "activity": [activity("e1")],
            "preferences": { "theme": "dark" },
            "widgetSizes": { "w2": { "columns": 2, "rows": 1 } }
        })
    }

    pub fn document() -> DashboardDocument {
        let mut document = DashboardDocument::from_value(&document_value()).expect("the fixture is valid");
        document.normalize();
        document
    }
}

pub(super) use fixtures::*;

pub(super) fn ops(value: Value) -> Vec<PatchOperation> {
    serde_json::from_value(value).unwrap()
}

pub(super) fn apply(document: &DashboardDocument, patch: Value) -> Result<Applied, PatchError> {
    apply_ops(document, ops(patch), &StateLimits::default())
}

/// Checks operations, then applies them (the two stages a writer runs).
pub(super) fn apply_ops(
    document: &DashboardDocument,
    ops: Vec<PatchOperation>,
    limits: &StateLimits,
) -> Result<Applied, PatchError> {
    // The fixtures are valid documents, so the cases run the server's usual path (the property
    // tests compare it with the whole-document one).
    apply_patch_to_checked(document, &CheckedPatch::check(ops, limits)?, limits)
}

/// Applies a patch that must fail, checks the input did not change, and returns the error.
pub(super) fn refuse(document: &DashboardDocument, patch: Value) -> PatchError {
    let before = document.clone();
    let error = apply(document, patch).unwrap_err();
    assert_eq!(*document, before);
    error
}

pub(super) fn paths(error: &PatchError) -> Vec<&str> {
    error.field_errors().iter().map(|error| error.path.as_str()).collect()
}

/// The written and shifted places of a committed patch, as strings.
pub(super) fn places(applied: &Applied) -> (Vec<String>, Vec<String>) {
    (
        applied.written.written().map(ToString::to_string).collect(),
        applied.written.shifted().map(ToString::to_string).collect(),
    )
}

#[test]
fn only_writable_members_may_be_patched() {
    let document = document();
    for (path, member) in [("/schemaVersion", "schemaVersion"), ("/activeAlerts/0", "activeAlerts")] {
        let error = refuse(&document, json!([{"op": "replace", "path": path, "value": 3}]));
        assert_eq!(error.code(), "forbidden");
        assert_eq!(paths(&error), ["/0/path"]);
        assert!(error.field_errors()[0].message.contains(&format!("/{member} is not writable")), "{error}");
    }
    let root = refuse(
        &document,
        json!([{"op": "test", "path": "/layout", "value": ["w1", "w2"]}, {"op": "add", "path": "", "value": {}}]),
    );
    assert_eq!(paths(&root), ["/1/path"]);
    let from = refuse(&document, json!([{"op": "copy", "from": "/activeAlerts", "path": "/layout"}]));
    assert_eq!(paths(&from), ["/0/from"]);
    // A test may read anywhere, including the derived and read-only members.
    let read = json!([
        {"op": "test", "path": "/schemaVersion", "value": 2},
        {"op": "test", "path": "/activeAlerts", "value": ["a1", "a3"]},
        {"op": "replace", "path": "/activeProject", "value": null}
    ]);
    assert_eq!(apply(&document, read).unwrap().document.active_project, None);
}

#[test]
fn prototype_segments_are_refused_everywhere() {
    let document = document();
    let cases = [
        json!([{"op": "add", "path": "/widgets/__proto__", "value": {}}]),
        json!([{"op": "add", "path": "/preferences/constructor", "value": 1}]),
        json!([{"op": "remove", "path": "/widgets/w1/prototype"}]),
        json!([{"op": "test", "path": "/__proto__", "value": 1}]),
        json!([{"op": "move", "from": "/widgets/constructor", "path": "/widgets/w3"}]),
    ];
    for patch in cases {
        let error = refuse(&document, patch.clone());
        assert_eq!(error.code(), "forbidden", "{patch}");
        assert!(error.to_string().contains("must not contain the segment"), "{error}");
    }
    // A member that merely contains the word is fine.
    let fine = json!([{"op": "add", "path": "/widgets/my_prototype", "value": widget("my_prototype", 1.0)}]);
    assert!(apply(&document, fine).is_ok());
}

#[test]
fn a_failed_test_applies_nothing() {
    let document = document();
    let error = refuse(
        &document,
        json!([
            {"op": "replace", "path": "/activeProject", "value": "p-2"},
            {"op": "test", "path": "/preferences/theme", "value": "light"},
            {"op": "replace", "path": "/preferences/theme", "value": "system"}
        ]),
    );
    assert_eq!(error, PatchError::TestFailed { op: 1, path: "/preferences/theme".to_owned() });
    assert_eq!(error.code(), "test_failed");
    let missing = refuse(&document, json!([{"op": "test", "path": "/widgets/nope", "value": null}]));
    assert!(matches!(missing, PatchError::TestFailed { op: 0, .. }));
}

#[test]
fn test_compares_numbers_by_value() {
    let document = document();
    let patch = json!([
        {"op": "test", "path": "/widgets/w1/data/progress", "value": 40},
        {"op": "test", "path": "/widgets/w1/data/tasksTotal", "value": 4.0},
        {"op": "replace", "path": "/widgets/w1/data/progress", "value": 45}
    ]);
    assert!(apply(&document, patch).is_ok());
}

#[test]
fn a_failing_operation_is_reported_at_its_index() {
    let document = document();
    let error = refuse(
        &document,
        json!([{"op": "replace", "path": "/activeProject", "value": "p-2"}, {"op": "remove", "path": "/widgets/nope"}]),
    );
    assert_eq!(error.code(), "invalid_patch");
    assert_eq!(paths(&error), ["/1/path"]);
    let error = refuse(&document, json!([{"op": "move", "from": "/alerts/9", "path": "/alerts/0"}]));
    assert_eq!(paths(&error), ["/0/from"]);
}

#[test]
fn too_many_operations_are_refused_before_anything_else() {
    let document = document();
    let patch: Vec<Value> = (0..101).map(|_| json!({"op": "test", "path": "/__proto__", "value": 1})).collect();
    let error = refuse(&document, Value::Array(patch.clone()));
    assert_eq!(error, PatchError::TooManyOps { count: 101, limit: 100 });
    assert_eq!(parse_patch(&Value::Array(patch), &StateLimits::default()), Err(error));
}

#[test]
fn parse_patch_points_at_unreadable_operations() {
    let limits = StateLimits::default();
    let patch = json!([
        {"op": "add", "path": "/layout/-", "value": "w1"},
        {"op": "add", "path": "layout", "value": 1},
        {"op": "frobnicate", "path": "/layout"},
        {"op": "move", "from": "/a~2", "path": "/layout"}
    ]);
    let error = parse_patch(&patch, &limits).unwrap_err();
    assert_eq!(paths(&error), ["/1/path", "/2", "/3/from"]);
    assert!(error.field_errors()[0].message.starts_with("is not a JSON Pointer"), "{error}");
    assert_eq!(paths(&parse_patch(&json!({"op": "add"}), &limits).unwrap_err()), [""]);
    assert_eq!(parse_patch(&json!([{"op": "remove", "path": "/alerts/0"}]), &limits).unwrap().len(), 1);
}

#[test]
fn the_size_cap_is_a_distinct_error() {
    let document = document();
    let bytes = document.serialized_len();
    assert_eq!(bytes, serde_json::to_string(&document).unwrap().len());
    let tight = StateLimits { max_document_bytes: bytes + 10, ..StateLimits::default() };
    let patch = ops(json!([{"op": "replace", "path": "/activeProject", "value": "x".repeat(20)}]));
    let error = apply_ops(&document, patch, &tight).unwrap_err();
    assert!(matches!(error, PatchError::TooLarge { limit, .. } if limit == bytes + 10), "{error}");
    assert_eq!(error.code(), "too_large");
    let small = ops(json!([{"op": "replace", "path": "/activeProject", "value": "p-12"}]));
    assert_eq!(apply_ops(&document, small, &tight).unwrap().json.len(), bytes + 1);
    let value = serde_json::to_value(&document).unwrap();
    let limits = StateLimits { max_document_bytes: bytes - 1, ..StateLimits::default() };
    assert_eq!(replace_document(&value, &limits), Err(PatchError::TooLarge { bytes, limit: bytes - 1 }));
}

#[test]
fn copying_a_subtree_into_itself_cannot_blow_up() {
    let document = document();
    // Each copy doubles the list (it now holds itself); 100 of them would need
    // 2^100 bytes. The copy budget stops it long before memory runs out.
    let limits = StateLimits { max_document_bytes: 64 * 1024, ..StateLimits::default() };
    let doubling: Vec<Value> =
        (0..100).map(|_| json!({"op": "copy", "from": "/metrics", "path": "/metrics/0"})).collect();
    let error = apply_ops(&document, ops(Value::Array(doubling)), &limits).unwrap_err();
    assert!(matches!(error, PatchError::TooLarge { bytes, limit } if bytes > 2 * limit), "{error}");
}

#[test]
fn nesting_is_capped_in_values_placements_and_documents() {
    let document = document();
    let mut deep = json!("leaf");
    for _ in 0..33 {
        deep = json!({"a": deep});
    }
    let error = refuse(&document, json!([{"op": "add", "path": "/widgets/w9", "value": deep.clone()}]));
    assert_eq!(error.code(), "invalid_patch");
    assert!(paths(&error)[0].starts_with("/0/value/a/a"), "{error}");

    // Shallow enough alone, too deep where it is put.
    let mut thirty = json!("leaf");
    for _ in 0..30 {
        thirty = json!([thirty]);
    }
    let error = refuse(&document, json!([{"op": "add", "path": "/widgets/w1/data/extra", "value": thirty}]));
    assert_eq!(paths(&error), ["/0/path"]);
    assert!(error.to_string().contains("deeper than 32"), "{error}");

    let mut value = document_value();
    value["preferences"]["theme"] = deep;
    let error = replace_document(&value, &StateLimits::default()).unwrap_err();
    assert_eq!(error.code(), "schema");
    assert!(paths(&error)[0].starts_with("/preferences/theme/a"), "{error}");
}

#[test]
fn written_paths_follow_array_shifts() {
    let document = document();
    let applied = apply(
        &document,
        json!([
            {"op": "test", "path": "/layout", "value": ["w1", "w2"]},
            {"op": "add", "path": "/widgets/w1/title", "value": "Apollo"},
            {"op": "add", "path": "/alerts/-", "value": alert("a4", false)},
            {"op": "remove", "path": "/activeTasks/0"},
            {"op": "move", "from": "/layout/1", "path": "/layout/0"}
        ]),
    )
    .unwrap();
    let (written, shifted) = places(&applied);
    assert_eq!(written, ["/activeTasks/0", "/alerts/3", "/layout/0", "/layout/1", "/widgets/w1/title"]);
    assert_eq!(shifted, ["/layout"]);
    assert_eq!(applied.document.layout, ["w2", "w1"]);
    let inserted = apply(&document, json!([{"op": "add", "path": "/alerts/0", "value": alert("a0", false)}])).unwrap();
    assert_eq!(places(&inserted), (vec!["/alerts/0".to_owned()], vec!["/alerts".to_owned()]));
}

/// A full dashboard (every bounded list at its cap, a few widgets) as stored:
/// prints its size plain and compressed — the figure in docs/benchmarks.md —
/// and holds the ratio under a ceiling.
#[test]
fn a_full_dashboard_compresses_well() {
    use serde_json::json;

    use crate::dashboard::codec::{DEFAULT_COMPRESSION_THRESHOLD, Encoding, decode, encode};
    use crate::dashboard::document::DashboardDocument;

    let names = ["Priya Shah", "Marcus Chen", "Sofia Alvarez", "Jonas Weber", "Demo User"];
    let projects = ["Website Redesign", "Mobile App Launch", "Data Platform Migration", "Security Audit Q3"];
    let time =
        |minute: usize| format!("2026-11-{:02}T{:02}:{:02}:00.000Z", 1 + minute / 1440, minute / 60 % 24, minute % 60);
    let alerts: Vec<_> = (0..50)
        .map(|i| {
            json!({ "id": format!("alert-{i}"), "severity": (["info", "warning", "error", "success"][i % 4]),
                          "title": format!("{} needs attention", projects[i % 4]),
                          "message": format!("{} tasks are due within 48 hours in {}", i % 7 + 1, projects[i % 4]),
                          "createdAt": time(i * 37), "dismissed": i % 3 == 0 })
        })
        .collect();
    let activity: Vec<_> = (0..100)
        .map(|i| {
            json!({ "id": format!("activity-{i}"), "user": names[i % 5],
                          "action": (["completed", "updated", "created", "commented on"][i % 4]),
                          "target": format!("Task {} of {}", i, projects[i % 4]), "time": time(i * 13) })
        })
        .collect();
    let metrics: Vec<_> = (0..50)
        .map(|i| json!({ "label": format!("{} velocity", projects[i % 4]), "value": (i * 7 % 100) as f64,
                          "unit": "%", "change": { "value": (i % 9) as f64, "direction": (["up", "down", "stable"][i % 3]) },
                          "status": (["ok", "warning", "critical"][i % 3]) }))
        .collect();
    let mut widgets = serde_json::Map::new();
    let mut layout = Vec::new();
    for (i, project) in projects.iter().enumerate() {
        let id = format!("status-{i}");
        widgets.insert(
            id.clone(),
            json!({ "id": id, "type": "ProjectStatus", "title": project,
            "data": { "projectId": format!("p{i}"), "projectName": project, "status": "on_track",
                      "progress": 25.0 * i as f64, "tasksCompleted": i * 3, "tasksTotal": 12 } }),
        );
        layout.push(json!(id));
    }
    let document = json!({ "schemaVersion": 2, "widgets": widgets, "layout": layout, "activeProject": "p1",
                           "activeTasks": [], "alerts": alerts, "activity": activity, "metrics": metrics,
                           "preferences": { "theme": "dark" } });
    let document = DashboardDocument::from_value(&document).expect("a valid full dashboard");
    let json = serde_json::to_vec(&document).expect("serializes");

    let encoded = encode(&json, DEFAULT_COMPRESSION_THRESHOLD);
    println!(
        "full dashboard: {} bytes JSON, {} bytes stored ({:?}), ratio {:.3}",
        json.len(),
        encoded.bytes.len(),
        encoded.encoding,
        encoded.ratio()
    );
    assert_eq!(encoded.encoding, Encoding::Zstd);
    assert!(encoded.ratio() < 0.25, "ratio {}", encoded.ratio());
    assert_eq!(decode(&encoded.bytes, json.len()).expect("decodes"), json);
}

#[test]
fn appending_to_a_full_feed_is_sent_as_one_removal_not_a_rewrite_of_the_list() {
    use fixtures::alert;
    let full: Vec<Value> = (0..50).map(|n| alert(&format!("a{n}"), false)).collect();
    let document =
        apply(&fixtures::document(), json!([{ "op": "replace", "path": "/alerts", "value": full }])).unwrap().document;
    let ops = json!([{ "op": "add", "path": "/alerts/-", "value": alert("a50", false) }]);
    let applied = apply(&document, ops.clone()).unwrap();
    assert_eq!(applied.document.alerts.first().map(|alert| alert.id.as_str()), Some("a1"));
    let effects: Vec<Value> = applied.effects.iter().map(|effect| serde_json::to_value(effect).unwrap()).collect();
    assert_eq!(
        effects,
        [
            json!({ "op": "remove", "path": "/alerts/0" }),
            json!({ "op": "replace", "path": "/activeAlerts",
                    "value": applied.document.active_alerts.clone() }),
        ]
    );
    // A replica applying the committed ops holds the stored document.
    let mut replica = serde_json::to_value(&document).unwrap();
    let committed: Vec<PatchOperation> = serde_json::from_value(applied.committed_ops(&ops)).unwrap();
    json_patch::patch(&mut replica, &committed).unwrap();
    assert_eq!(replica, serde_json::to_value(&applied.document).unwrap());
}
