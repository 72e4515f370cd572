//! Widget catalog tests against realistic fixtures: every type has a valid
//! example in `tests/fixtures/widgets/<Type>.json`, and each invalid case
//! changes one value of a fixture and names the exact path that must fail.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests and benches fail loudly on a broken fixture")]

use agentdeck_domain::validation::FieldError;
use agentdeck_domain::widgets::{Widget, WidgetData, WidgetError, WidgetType, catalog};
use proptest::prelude::*;
use serde_json::{Value, json};

fn fixture(widget_type: &str) -> Value {
    let path = format!("{}/tests/fixtures/widgets/{widget_type}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// JSON equality where numbers compare by value (`62` and `62.0` are one
/// number in JSON; serde writes an `f64` field back with a `.0`).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(xs), Value::Array(ys)) => xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same_json(x, y)),
        (Value::Object(xs), Value::Object(ys)) => {
            xs.len() == ys.len() && xs.iter().all(|(k, x)| ys.get(k).is_some_and(|y| same_json(x, y)))
        }
        _ => a == b,
    }
}

#[test]
fn every_type_has_a_valid_fixture_that_round_trips() {
    for widget_type in WidgetType::ALL {
        let name = widget_type.as_str();
        let data = fixture(name);
        catalog().validate_data(name, &data).unwrap_or_else(|e| panic!("{name}: {e}"));

        let envelope = json!({
            "type": name,
            "id": format!("w-{name}"),
            "title": "From the fixture",
            "timestamp": "2025-04-10T09:30:00.123+02:00",
            "data": data,
        });
        let widget = catalog().validate_widget(&envelope).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(widget.widget_type(), *widget_type);
        let back = serde_json::to_value(&widget).unwrap();
        assert!(same_json(&back, &envelope), "{name}:\n{back:#}\n!=\n{envelope:#}");

        // Plain serde agrees with the catalog on the typed shape.
        let direct: Widget = serde_json::from_value(envelope).unwrap();
        assert_eq!(direct, widget, "{name}");
    }
}

/// Sets (or with `None`, removes) the value at `pointer` in `data`.
fn edit(data: &mut Value, pointer: &str, value: Option<Value>) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = data.pointer_mut(parent).unwrap_or_else(|| panic!("no {parent}"));
    match (target, value) {
        (Value::Object(object), Some(value)) => {
            object.insert(key.to_owned(), value);
        }
        (Value::Object(object), None) => {
            object.remove(key).unwrap_or_else(|| panic!("no {pointer}"));
        }
        (Value::Array(items), Some(value)) => items[key.parse::<usize>().unwrap()] = value,
        (other, _) => panic!("cannot edit {pointer} in {other}"),
    }
}

/// Runs `validate_data` and returns the errors it must report.
fn errors_of(widget_type: &str, data: &Value) -> Vec<FieldError> {
    match catalog().validate_data(widget_type, data) {
        Err(WidgetError::Invalid { widget_type: Some(t), errors }) => {
            assert_eq!(t.as_str(), widget_type);
            errors
        }
        other => panic!("{widget_type} {data}: expected Invalid, got {other:?}"),
    }
}

/// Each case in `invalid.json` breaks one value of a valid fixture (`set` it
/// `to` something, or `remove` it) and names the one `path` that must fail
/// and a part of its `message`. Missing properties fail at their parent.
#[test]
fn every_invalid_case_fails_at_exactly_its_path() {
    let cases = fixture("invalid");
    let cases = cases.as_array().unwrap();
    for widget_type in WidgetType::ALL {
        let covered = cases.iter().any(|case| case["type"] == widget_type.as_str());
        assert!(covered, "no invalid case for {widget_type}");
    }
    for case in cases {
        let widget_type = case["type"].as_str().unwrap();
        let mut data = fixture(widget_type);
        match (case.get("set"), case.get("remove")) {
            (Some(Value::String(pointer)), None) => edit(&mut data, pointer, Some(case["to"].clone())),
            (None, Some(Value::String(pointer))) => edit(&mut data, pointer, None),
            _ => panic!("a case needs either `set` and `to`, or `remove`: {case}"),
        }
        let (path, message) = (&case["path"], case["message"].as_str().unwrap());
        let errors = errors_of(widget_type, &data);
        assert!(
            errors.iter().all(|e| e.path == *path) && errors.iter().any(|e| e.message.contains(message)),
            "{case}\ngot {errors:?}"
        );
    }
}

#[test]
fn alert_links_are_relative_or_https_only() {
    let alert = |href: &str| {
        let mut data = fixture("Alert");
        edit(&mut data, "/action/href", Some(json!(href)));
        data
    };
    for good in [
        "https://x.y/z",
        "/tasks/1",
        "?q=1",
        "#details",
        "tasks/1",
        "../reports/weekly",
        "/",
        "https://app.example.com:8443/p/1?tab=tasks#t-3",
    ] {
        catalog().validate_data("Alert", &alert(good)).unwrap_or_else(|e| panic!("{good}: {e}"));
    }
    for bad in [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "http://x.y/z",
        "data:text/html,<script>alert(1)</script>",
        "//evil.example/x",
        "/\\evil.example",
        "java\tscript:alert(1)",
        " https://x.y",
        "https://user@x.y/",
        "mailto:a@b.c",
        "vbscript:msgbox",
        "",
    ] {
        let errors = errors_of("Alert", &alert(bad));
        assert!(!errors.is_empty() && errors.iter().all(|e| e.path == "/action/href"), "{bad:?}: {errors:?}");
    }
    assert_eq!(
        errors_of("Alert", &alert("javascript:alert(1)"))[0].message,
        "must be a relative link or an https:// url"
    );
}

#[test]
fn loading_may_be_empty() {
    catalog().validate_data("Loading", &json!({})).unwrap();
}

#[test]
fn non_object_data_is_an_error_at_the_root() {
    for data in [json!(null), json!([]), json!("ProjectStatus"), json!(1e300)] {
        let errors = errors_of("ProjectStatus", &data);
        assert_eq!(errors, [FieldError::new("", "must be an object")], "{data}");
    }
}

#[test]
fn unknown_type_names_all_ten_known_types() {
    let error = catalog().validate_data("Chart", &json!({})).unwrap_err();
    let WidgetError::UnknownType { given, known } = &error else { panic!("{error}") };
    assert_eq!(given, "Chart");
    assert_eq!(known.len(), 10);
    assert_eq!(
        error.to_string(),
        "unknown widget type \"Chart\"; known types: ProjectStatus, TaskList, Metrics, Alert, \
         TeamActivity, KanbanBoard, GanttChart, BurndownChart, Error, Loading"
    );
    let shown = serde_json::to_value(Widget::error_for(Some("Chart"), &error)).unwrap();
    assert_eq!(shown["type"], "Error");
    assert_eq!(shown["data"]["widgetType"], "Chart");
    assert_eq!(shown["data"]["retryable"], false);
    catalog().validate_widget(&shown).unwrap();
}

#[test]
fn typed_widgets_serialize_to_valid_json() {
    let widget = Widget::new(WidgetData::Loading(agentdeck_domain::widgets::LoadingData { widget_type: None }));
    let wire = serde_json::to_value(&widget).unwrap();
    assert_eq!(wire, json!({"type": "Loading", "data": {}}));
    catalog().validate_widget(&wire).unwrap();
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-z_]{0,8}".prop_map(Value::from),
        "\\PC{0,300}".prop_map(Value::from),
        Just(json!("2025-04-10T09:15:00Z")),
        prop::sample::select(WidgetType::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>()).prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    "[a-zA-Z/~]{0,12}",
                    prop::sample::select(vec!["type", "data", "id", "title", "tasks", "metrics", "progress", "status"])
                        .prop_map(str::to_owned),
                ],
                inner,
                0..8,
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn the_validator_never_panics(type_name in "[A-Za-z]{0,16}", known in 0..WidgetType::ALL.len(), data in any_json()) {
        let known = WidgetType::ALL[known].as_str();
        let _ = catalog().validate_data(&type_name, &data);
        let _ = catalog().validate_data(known, &data);
        for envelope in [data.clone(), json!({"type": known, "data": data})] {
            match catalog().validate_widget(&envelope) {
                // Whatever is accepted serializes back to something accepted.
                Ok(widget) => {
                    let wire = serde_json::to_value(&widget).unwrap();
                    prop_assert!(catalog().validate_widget(&wire).is_ok());
                }
                // Whatever is rejected yields a valid `Error` widget.
                Err(error) => {
                    let shown = serde_json::to_value(Widget::error_for(Some(known), &error)).unwrap();
                    prop_assert!(catalog().validate_widget(&shown).is_ok());
                }
            }
        }
    }
}
