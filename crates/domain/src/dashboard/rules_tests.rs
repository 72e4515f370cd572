//! Hand-written cases for the document's rules: shape, bounds, derived
//! values, layout integrity and the paths of what fails.

use serde_json::{Value, json};

use super::document::*;
use super::patch::*;
use super::tests::{activity, alert, metric, task, widget};
use super::tests::{apply, document, document_value, paths, places, refuse};

#[test]
fn the_default_document_is_empty_valid_and_camel_case() {
    let document = DashboardDocument::default();
    let wire = serde_json::to_value(&document).unwrap();
    assert_eq!(
        wire,
        json!({
            "schemaVersion": 2, "widgets": {}, "layout": [], "activeProject": null, "activeTasks": [],
            "alerts": [], "activeAlerts": [], "metrics": [], "activity": [], "preferences": {"theme": "system"},
            "widgetSizes": {}
        })
    );
    assert_eq!(replace_document(&wire, &StateLimits::default()), Ok(document));
}

#[test]
fn a_valid_document_round_trips() {
    let document = document();
    assert_eq!(document.active_alerts, ["a1", "a3"]);
    let wire = serde_json::to_value(&document).unwrap();
    assert_eq!(DashboardDocument::from_value(&wire).unwrap(), document);
    assert_eq!(serde_json::from_value::<DashboardDocument>(wire).unwrap(), document);
}

#[test]
fn bounded_collections_drop_the_oldest_first() {
    let mut value = document_value();
    value["alerts"] = Value::Array((0..MAX_ALERTS).map(|i| alert(&format!("a{i}"), false)).collect());
    value["activity"] = Value::Array((0..MAX_ACTIVITY).map(|i| activity(&format!("e{i}"))).collect());
    value["metrics"] = Value::Array((0..MAX_METRICS).map(|i| metric(&format!("m{i}"))).collect());
    let document = replace_document(&value, &StateLimits::default()).unwrap();
    let applied = apply(
        &document,
        json!([
            {"op": "add", "path": "/alerts/-", "value": alert("new", false)},
            {"op": "add", "path": "/activity/-", "value": activity("new")},
            {"op": "add", "path": "/metrics/-", "value": metric("new")}
        ]),
    )
    .unwrap();
    let next = &applied.document;
    assert_eq!((next.alerts.len(), next.activity.len(), next.metrics.len()), (MAX_ALERTS, MAX_ACTIVITY, MAX_METRICS));
    assert_eq!((next.alerts[0].id.as_str(), next.alerts[MAX_ALERTS - 1].id.as_str()), ("a1", "new"));
    assert_eq!((next.activity[0].id.as_str(), next.metrics[0].label.as_str()), ("e1", "m1"));
    assert_eq!(next.active_alerts.first().map(String::as_str), Some("a1"));
    // The trims shifted every index, and conflict checks must know.
    let (written, shifted) = places(&applied);
    assert_eq!(written, ["/activity/100", "/alerts/50", "/metrics/50"]);
    assert_eq!(shifted, ["/activity", "/alerts", "/metrics"]);
}

#[test]
fn active_tasks_drop_finished_runs_first() {
    let mut value = document_value();
    let statuses = ["running", "completed", "pending", "failed", "running", "cancelled"];
    let tasks: Vec<Value> =
        (0..MAX_ACTIVE_TASKS).map(|i| task(&format!("t{i}"), statuses[i % statuses.len()])).collect();
    value["activeTasks"] = Value::Array(tasks);
    let document = replace_document(&value, &StateLimits::default()).unwrap();
    let patch = json!([
        {"op": "add", "path": "/activeTasks/-", "value": task("n1", "running")},
        {"op": "add", "path": "/activeTasks/-", "value": task("n2", "pending")}
    ]);
    let next = apply(&document, patch).unwrap().document;
    let ids: Vec<&str> = next.active_tasks.iter().map(|task| task.task_id.as_str()).collect();
    assert_eq!(ids.len(), MAX_ACTIVE_TASKS);
    // t1 (completed) and t3 (failed) were the oldest finished runs.
    assert!(!ids.contains(&"t1") && !ids.contains(&"t3"), "{ids:?}");
    assert_eq!(&ids[..3], ["t0", "t2", "t4"]);
    assert_eq!(&ids[MAX_ACTIVE_TASKS - 2..], ["n1", "n2"]);

    // With no finished run left, the oldest running ones go.
    let mut value = document_value();
    value["activeTasks"] = Value::Array((0..MAX_ACTIVE_TASKS + 2).map(|i| task(&format!("t{i}"), "running")).collect());
    let document = replace_document(&value, &StateLimits::default()).unwrap();
    assert_eq!(document.active_tasks[0].task_id, "t2");
}

#[test]
fn active_alerts_are_derived_on_every_write() {
    let document = document();
    let applied = apply(&document, json!([{"op": "replace", "path": "/alerts/0/dismissed", "value": true}])).unwrap();
    assert_eq!(applied.document.active_alerts, ["a3"]);
    let applied =
        apply(&applied.document, json!([{"op": "add", "path": "/alerts/-", "value": alert("a4", false)}])).unwrap();
    assert_eq!(applied.document.active_alerts, ["a3", "a4"]);

    // A PUT's activeAlerts is read only to check its shape; the stored list is derived.
    let mut value = document_value();
    value["activeAlerts"] = json!(["a2", "ghost"]);
    assert_eq!(replace_document(&value, &StateLimits::default()).unwrap().active_alerts, ["a1", "a3"]);
    value["activeAlerts"] = json!("a1");
    let error = replace_document(&value, &StateLimits::default()).unwrap_err();
    assert_eq!(paths(&error), ["/activeAlerts"]);
}

#[test]
fn layout_must_name_existing_widgets_once() {
    let document = document();
    let error = refuse(&document, json!([{"op": "add", "path": "/layout/-", "value": "w9"}]));
    assert_eq!(paths(&error), ["/layout/2"]);
    assert!(error.to_string().contains("/widgets/w9 does not exist"), "{error}");
    let error = refuse(&document, json!([{"op": "add", "path": "/layout/0", "value": "w2"}]));
    assert_eq!(paths(&error), ["/layout/2"]);
    let error = refuse(&document, json!([{"op": "remove", "path": "/widgets/w1"}]));
    assert_eq!(paths(&error), ["/layout/0"]);
    let error = refuse(&document, json!([{"op": "remove", "path": "/widgets"}]));
    assert_eq!(paths(&error), ["/layout/0", "/layout/1"]);
    let removed =
        apply(&document, json!([{"op": "remove", "path": "/layout/0"}, {"op": "remove", "path": "/widgets/w1"}]));
    assert_eq!(removed.unwrap().document.layout, ["w2"]);
}

#[test]
fn widget_errors_point_into_the_document() {
    let document = document();
    let error = refuse(&document, json!([{"op": "replace", "path": "/widgets/w1/data/progress", "value": 101}]));
    assert_eq!(error.code(), "schema");
    assert_eq!(paths(&error), ["/widgets/w1/data/progress"]);
    let error = refuse(&document, json!([{"op": "add", "path": "/widgets/w3", "value": widget("w4", 1.0)}]));
    assert_eq!(paths(&error), ["/widgets/w3/id"]);
    let error =
        refuse(&document, json!([{"op": "add", "path": "/widgets/a~1b", "value": {"type": "Chart", "data": {}}}]));
    assert_eq!(paths(&error), ["/widgets/a~1b/type"]);
    assert!(error.to_string().contains("known types"), "{error}");
    let error = refuse(&document, json!([{"op": "add", "path": "/widgets/", "value": widget("w3", 1.0)}]));
    assert_eq!(paths(&error), ["/widgets/"]);
    // An `id` is optional; when present it must equal the key.
    let mut anonymous = widget("w3", 1.0);
    anonymous.as_object_mut().unwrap().remove("id");
    assert!(apply(&document, json!([{"op": "add", "path": "/widgets/w3", "value": anonymous}])).is_ok());
}

#[test]
fn document_members_are_a_closed_set() {
    let mut value = document_value();
    value["colour"] = json!("red");
    value.as_object_mut().unwrap().remove("schemaVersion");
    let error = replace_document(&value, &StateLimits::default()).unwrap_err();
    let mut found: Vec<(&str, &str)> =
        error.field_errors().iter().map(|error| (error.path.as_str(), error.message.as_str())).collect();
    found.sort_unstable();
    assert_eq!(found, [("/colour", "is not a dashboard member"), ("/schemaVersion", "is required")]);
    value["schemaVersion"] = json!(1);
    value.as_object_mut().unwrap().remove("colour");
    assert_eq!(paths(&replace_document(&value, &StateLimits::default()).unwrap_err()), ["/schemaVersion"]);
    assert_eq!(
        replace_document(&json!([]), &StateLimits::default()).unwrap_err().field_errors()[0].message,
        "must be an object"
    );
}

#[test]
fn members_left_out_read_as_empty() {
    let minimal = json!({"schemaVersion": 2});
    assert_eq!(replace_document(&minimal, &StateLimits::default()), Ok(DashboardDocument::default()));
    assert_eq!(serde_json::from_value::<DashboardDocument>(minimal).unwrap(), DashboardDocument::default());
    // Removing a collection empties it rather than breaking the document.
    let applied = apply(&document(), json!([{"op": "remove", "path": "/alerts"}])).unwrap();
    assert!(applied.document.alerts.is_empty() && applied.document.active_alerts.is_empty());
}

#[test]
fn migrated_documents_load_as_current_ones() {
    assert_eq!(super::migrations::LATEST_SCHEMA_VERSION, CURRENT_SCHEMA_VERSION);
    let first_format = json!({"widgets": [widget("w1", 10.0), widget("w2", 20.0)]});
    let migrated = super::migrations::migrate(first_format).unwrap();
    let document = replace_document(&migrated.document, &StateLimits::default()).unwrap();
    assert_eq!(document.layout, ["w1", "w2"]);
}

#[test]
fn items_are_checked_at_their_own_paths() {
    let document = document();
    let cases = [
        (
            json!({"op": "add", "path": "/alerts/-", "value": {"id": "a9", "severity": "loud", "message": "", "createdAt": "noon"}}),
            vec!["/alerts/3/createdAt", "/alerts/3/message", "/alerts/3/severity"],
        ),
        (
            json!({"op": "add", "path": "/alerts/0/action", "value": {"label": "Open", "href": "javascript:alert(1)"}}),
            vec!["/alerts/0/action/href"],
        ),
        (json!({"op": "replace", "path": "/alerts/1/id", "value": "a1"}), vec!["/alerts/1/id"]),
        (json!({"op": "add", "path": "/alerts/0/colour", "value": "red"}), vec!["/alerts/0/colour"]),
        (json!({"op": "replace", "path": "/metrics/0/label", "value": ""}), vec!["/metrics/0/label"]),
        (json!({"op": "replace", "path": "/activity/0/time", "value": "yesterday"}), vec!["/activity/0/time"]),
        (
            json!({"op": "replace", "path": "/activeTasks/0/currentStep", "value": 4}),
            vec!["/activeTasks/0/currentStep"],
        ),
        (json!({"op": "add", "path": "/activeTasks/0/percent", "value": 120}), vec!["/activeTasks/0/percent"]),
        (json!({"op": "add", "path": "/activeTasks/-", "value": task("t1", "pending")}), vec!["/activeTasks/1/taskId"]),
        (json!({"op": "replace", "path": "/activeTasks/0/status", "value": "paused"}), vec!["/activeTasks/0"]),
        (json!({"op": "replace", "path": "/activeProject", "value": 7}), vec!["/activeProject"]),
        (json!({"op": "add", "path": "/preferences/colour", "value": "red"}), vec!["/preferences/colour"]),
        (json!({"op": "replace", "path": "/preferences/theme", "value": "blue"}), vec!["/preferences/theme"]),
    ];
    for (op, expected) in cases {
        let error = refuse(&document, json!([op]));
        let mut found = paths(&error);
        found.sort_unstable();
        assert_eq!(found, expected, "{op}: {error}");
        assert_eq!(error.code(), "schema");
    }
}

#[test]
fn optional_preferences_may_be_cleared_with_null() {
    let document = document();
    let set = apply(&document, json!([{"op": "add", "path": "/preferences/density", "value": "compact"}])).unwrap();
    assert_eq!(set.document.preferences.density, Some(Density::Compact));
    let cleared =
        apply(&set.document, json!([{"op": "replace", "path": "/preferences/density", "value": null}])).unwrap();
    assert_eq!(cleared.document.preferences, Preferences { theme: Theme::Dark, density: None, reduced_motion: None });
}

#[test]
fn script_like_strings_are_stored_as_data() {
    let document = document();
    let payload = "<script>alert(1)</script>";
    let applied = apply(&document, json!([{"op": "replace", "path": "/alerts/0/message", "value": payload}])).unwrap();
    assert_eq!(applied.document.alerts[0].message, payload);
}

#[test]
fn widget_sizes_are_checked_at_their_paths_and_follow_the_widgets() {
    let document = document();
    let sized = apply(&document, json!([{"op": "add", "path": "/widgetSizes/w1", "value": {"columns": 3, "rows": 2}}]))
        .unwrap();
    assert_eq!(sized.document.widget_sizes.get("w1"), Some(&WidgetSize { columns: 3, rows: 2 }));
    let cases = [
        (json!({"columns": 4, "rows": 1}), vec!["/widgetSizes/w1/columns"]),
        (json!({"columns": 0, "rows": 3}), vec!["/widgetSizes/w1/columns", "/widgetSizes/w1/rows"]),
        (json!({"columns": 1.5, "rows": "1"}), vec!["/widgetSizes/w1/columns", "/widgetSizes/w1/rows"]),
        (json!({"columns": 2}), vec!["/widgetSizes/w1/rows"]),
        (json!({"columns": 2, "rows": 1, "depth": 1}), vec!["/widgetSizes/w1/depth"]),
        (json!([2, 1]), vec!["/widgetSizes/w1"]),
    ];
    for (size, expected) in cases {
        let error = refuse(&document, json!([{"op": "add", "path": "/widgetSizes/w1", "value": size}]));
        let mut found = paths(&error);
        found.sort_unstable();
        assert_eq!(found, expected, "{size}: {error}");
    }
    assert_eq!(
        paths(&refuse(&document, json!([{"op": "add", "path": "/widgetSizes", "value": []}]))),
        ["/widgetSizes"]
    );

    // Removing a widget never fails for its size: the size goes with it, and replicas hear of it.
    let removed =
        apply(&sized.document, json!([{"op": "remove", "path": "/layout/0"}, {"op": "remove", "path": "/widgets/w1"}]))
            .unwrap();
    assert!(!removed.document.widget_sizes.contains_key("w1"));
    assert!(removed.document.widget_sizes.contains_key("w2"), "other sizes stay");
    assert!(removed.effects.iter().any(|op| op.path().as_str() == "/widgetSizes/w1"), "{:?}", removed.effects);
    // A size for a widget that does not exist is dropped, not refused.
    let ghost =
        apply(&document, json!([{"op": "add", "path": "/widgetSizes/ghost", "value": {"columns": 1, "rows": 1}}]))
            .unwrap();
    assert!(!ghost.document.widget_sizes.contains_key("ghost"));
}

#[test]
fn the_last_answer_is_checked_at_its_paths() {
    let document = document();
    let answer = json!({"question": "workspace overview", "projectId": "0190a1b2-c3d4-7e5f-8071-8293a4b5c6d7",
        "text": "All good.", "askedAt": "2025-03-01T12:00:00Z"});
    let applied = apply(&document, json!([{"op": "add", "path": "/lastAnswer", "value": answer}])).unwrap();
    let stored = applied.document.last_answer.clone().unwrap();
    assert_eq!((stored.question.as_str(), stored.text.as_str()), ("workspace overview", "All good."));
    assert_eq!(serde_json::to_value(&applied.document).unwrap()["lastAnswer"], answer, "round-trips");
    let cleared = apply(&applied.document, json!([{"op": "replace", "path": "/lastAnswer", "value": null}])).unwrap();
    assert_eq!(cleared.document.last_answer, None);
    assert!(serde_json::to_value(&cleared.document).unwrap().get("lastAnswer").is_none(), "absent, not null");

    let long_text = "t".repeat(MAX_ANSWER_TEXT_CHARS + 1);
    let long_question = "q".repeat(501);
    let cases = [
        (json!({"question": "", "text": "", "askedAt": "2025-03-01T12:00:00Z"}), vec!["/lastAnswer/question"]),
        (
            json!({"question": long_question, "text": "", "askedAt": "2025-03-01T12:00:00Z"}),
            vec!["/lastAnswer/question"],
        ),
        (json!({"question": "q", "text": long_text, "askedAt": "2025-03-01T12:00:00Z"}), vec!["/lastAnswer/text"]),
        (json!({"question": "q", "text": "", "askedAt": "noon"}), vec!["/lastAnswer/askedAt"]),
        (
            json!({"question": "q", "text": "", "askedAt": "2025-03-01T12:00:00Z", "projectId": "p-1"}),
            vec!["/lastAnswer/projectId"],
        ),
        (
            json!({"question": "q", "askedAt": "2025-03-01T12:00:00Z", "colour": 1}),
            vec!["/lastAnswer/colour", "/lastAnswer/text"],
        ),
        (json!("overview"), vec!["/lastAnswer"]),
    ];
    for (value, expected) in cases {
        let error = refuse(&document, json!([{"op": "add", "path": "/lastAnswer", "value": value}]));
        let mut found = paths(&error);
        found.sort_unstable();
        assert_eq!(found, expected, "{value}: {error}");
    }
}

#[test]
fn a_document_stored_before_sizes_and_answers_loads_unchanged() {
    // What a build before `widgetSizes` and `lastAnswer` stored.
    let mut older = document_value();
    older.as_object_mut().unwrap().remove("widgetSizes");
    assert!(older.get("lastAnswer").is_none());
    let document = DashboardDocument::from_value(&older).unwrap();
    assert!(document.widget_sizes.is_empty() && document.last_answer.is_none());
    assert_eq!(document.widgets.len(), 2);
    assert_eq!(document.layout, ["w1", "w2"]);
}
