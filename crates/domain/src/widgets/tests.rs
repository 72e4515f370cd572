//! Unit tests of the catalog; per-type fixtures live in `crates/domain/tests/widgets.rs`.

use std::path::Path;

use serde_json::{Value, json};

use super::*;

/// The drift check: the committed schema must be exactly what the types generate.
#[test]
fn widgets_schema_file_matches_the_rust_types() {
    let generated = generate_schema_text();
    if std::env::var("UPDATE_WIDGET_SCHEMA").is_ok_and(|v| v == "1") {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(SCHEMA_PATH);
        std::fs::write(&path, &generated).unwrap();
        eprintln!("rewrote {}", path.display());
        return;
    }
    if SCHEMA_JSON != generated {
        let first_difference = SCHEMA_JSON
            .lines()
            .zip(generated.lines())
            .position(|(committed, fresh)| committed != fresh)
            .map_or_else(|| "in the length".to_owned(), |line| format!("at line {}", line + 1));
        panic!(
            "{SCHEMA_PATH} is out of date with the Rust types in crates/domain/src/widgets \
             (first difference {first_difference}).\nRegenerate it with \
             `UPDATE_WIDGET_SCHEMA=1 cargo test -p agentdeck-domain widgets` and commit the result."
        );
    }
}

#[test]
fn schema_has_a_definition_per_data_and_item_type() {
    let schema: Value = serde_json::from_str(SCHEMA_JSON).unwrap();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    let defs = schema["$defs"].as_object().unwrap();
    for widget_type in WidgetType::ALL {
        assert!(defs.contains_key(&widget_type.data_definition()), "{widget_type}");
    }
    for item in [
        "TaskItem",
        "Metric",
        "MetricChange",
        "MetricValue",
        "AlertAction",
        "ActivityItem",
        "KanbanColumn",
        "KanbanCard",
        "GanttTask",
        "BurndownPoint",
    ] {
        assert!(defs.contains_key(item), "{item}");
    }
    // The touch-ups of `schema_file`: no `null`, no non-standard formats.
    assert!(!SCHEMA_JSON.contains("\"null\""));
    assert!(!SCHEMA_JSON.contains("uint32") && !SCHEMA_JSON.contains("double"));
    assert!(SCHEMA_JSON.ends_with("}\n"));
}

#[test]
fn the_catalog_compiles() {
    let catalog = WidgetCatalog::new().unwrap();
    assert_eq!(catalog.schema_json(), SCHEMA_JSON);
    assert!(std::ptr::eq(super::catalog(), super::catalog()));
}

#[test]
fn widget_types_parse_their_own_names_only() {
    assert_eq!(WidgetType::ALL.len(), 10);
    for widget_type in WidgetType::ALL {
        assert_eq!(WidgetType::parse(widget_type.as_str()), Some(*widget_type));
        let wire = serde_json::to_value(widget_type).unwrap();
        assert_eq!(wire, widget_type.as_str());
    }
    assert_eq!(WidgetType::parse("projectstatus"), None);
    assert_eq!(WidgetType::parse("Chart"), None);
}

fn project_status() -> Value {
    json!({
        "type": "ProjectStatus",
        "id": "w-1",
        "title": "Apollo",
        "timestamp": "2025-03-01T12:00:00Z",
        "data": {
            "projectId": "p-1",
            "projectName": "Apollo",
            "status": "at_risk",
            "progress": 62.5,
            "tasksCompleted": 5,
            "tasksTotal": 8
        }
    })
}

#[test]
fn a_valid_envelope_comes_back_typed() {
    let widget = catalog().validate_widget(&project_status()).unwrap();
    assert_eq!(widget.widget_type(), WidgetType::ProjectStatus);
    assert_eq!(widget.title.as_deref(), Some("Apollo"));
    let WidgetData::ProjectStatus(data) = &widget.data else { panic!("{widget:?}") };
    assert_eq!(data.status, ProjectHealth::AtRisk);
    assert_eq!(serde_json::to_value(&widget).unwrap(), project_status());
}

#[test]
fn a_source_names_the_question_and_is_checked_at_its_paths() {
    let mut widget = project_status();
    widget["source"] = json!({"question": "how is Apollo doing", "projectId": "0190a1b2-c3d4-7e5f-8071-8293a4b5c6d7"});
    let typed = catalog().validate_widget(&widget).unwrap();
    let source = typed.source.clone().unwrap();
    assert_eq!(source.question, "how is Apollo doing");
    assert_eq!(source.project_id.as_deref(), Some("0190a1b2-c3d4-7e5f-8071-8293a4b5c6d7"));
    assert_eq!(serde_json::to_value(&typed).unwrap(), widget, "round-trips");
    widget["source"] = json!({"question": "overview"});
    assert!(catalog().validate_widget(&widget).is_ok(), "the project is optional");

    let too_long = "q".repeat(MAX_QUESTION_CHARS as usize + 1);
    for (source, path) in [
        (json!({"question": ""}), "/source/question"),
        (json!({"question": too_long}), "/source/question"),
        (json!({"question": "q", "projectId": "p-1"}), "/source/projectId"),
        (json!({"question": "q", "extra": 1}), "/source/extra"),
        (json!({"projectId": "0190a1b2-c3d4-7e5f-8071-8293a4b5c6d7"}), "/source"),
    ] {
        widget["source"] = source.clone();
        let error = catalog().validate_widget(&widget).unwrap_err();
        let WidgetError::Invalid { errors, .. } = &error else { panic!("{error}") };
        assert_eq!(errors.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(), [path], "{source}: {errors:?}");
    }
}

#[test]
fn envelope_errors_point_into_the_envelope() {
    let mut widget = project_status();
    widget["data"]["progress"] = json!(101);
    widget["title"] = json!("");
    widget["timestamp"] = json!("noon");
    widget["colour"] = json!("red");
    let error = catalog().validate_widget(&widget).unwrap_err();
    let WidgetError::Invalid { widget_type, errors } = &error else { panic!("{error}") };
    assert_eq!(*widget_type, Some(WidgetType::ProjectStatus));
    let mut paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["/colour", "/data/progress", "/timestamp", "/title"], "{errors:?}");
}

#[test]
fn envelope_without_type_or_data_is_invalid_not_unknown() {
    let error = catalog().validate_widget(&json!({"data": {}})).unwrap_err();
    assert_eq!(
        error,
        WidgetError::Invalid {
            widget_type: None,
            errors: vec![crate::validation::FieldError::new("", "must have the required property \"type\"")],
        }
    );
    let error = catalog().validate_widget(&json!({"type": "Loading"})).unwrap_err();
    assert!(error.to_string().contains("\"data\""), "{error}");
    let error = catalog().validate_widget(&json!({"type": 7, "data": {}})).unwrap_err();
    assert!(matches!(&error, WidgetError::Invalid { errors, .. } if errors[0].path == "/type"));
    let error = catalog().validate_widget(&json!([1, 2])).unwrap_err();
    assert!(error.to_string().contains("must be an object"), "{error}");
}

#[test]
fn unknown_type_lists_every_known_type() {
    let error = catalog().validate_data("Chart", &json!({})).unwrap_err();
    let message = error.to_string();
    for widget_type in WidgetType::ALL {
        assert!(message.contains(widget_type.as_str()), "{message}");
    }
    assert!(message.starts_with("unknown widget type \"Chart\""), "{message}");
    let envelope = json!({"type": "Chart", "data": {}});
    assert_eq!(catalog().validate_widget(&envelope).unwrap_err(), error);
}

#[test]
fn integral_floats_fit_integer_fields() {
    let mut widget = project_status();
    widget["data"]["tasksCompleted"] = json!(5.0);
    let widget = catalog().validate_widget(&widget).unwrap();
    let WidgetData::ProjectStatus(data) = widget.data else { panic!() };
    assert_eq!(data.tasks_completed, 5);
}

#[test]
fn error_widget_names_the_failing_paths_and_is_itself_valid() {
    let mut widget = project_status();
    widget["data"]["progress"] = json!(101);
    widget["data"]["status"] = json!("done");
    let error = catalog().validate_widget(&widget).unwrap_err();
    let shown = Widget::error_for(Some("ProjectStatus"), &error);
    let WidgetData::Error(data) = &shown.data else { panic!() };
    assert!(!data.retryable);
    assert_eq!(data.widget_type.as_deref(), Some("ProjectStatus"));
    assert!(data.message.contains("/data/progress") && data.message.contains("/data/status"));
    let wire = serde_json::to_value(&shown).unwrap();
    assert_eq!(wire["type"], "Error");
    catalog().validate_widget(&wire).unwrap();
}

#[test]
fn error_widget_stays_within_the_schema_for_any_error() {
    let huge = "x".repeat(5000);
    let unknown = catalog().validate_data(&huge, &json!({})).unwrap_err();
    let shown = serde_json::to_value(Widget::error_for(None, &unknown)).unwrap();
    catalog().validate_widget(&shown).unwrap();
    assert_eq!(shown["data"]["widgetType"].as_str().unwrap().chars().count(), 200);

    let tasks: Vec<Value> = (0..300).map(|i| json!({"id": i})).collect();
    let many = catalog().validate_data("TaskList", &json!({"tasks": tasks})).unwrap_err();
    let WidgetError::Invalid { errors, .. } = &many else { panic!() };
    assert_eq!(errors.len(), MAX_REPORTED_ERRORS);
    let shown = serde_json::to_value(Widget::error_for(Some(""), &many)).unwrap();
    catalog().validate_widget(&shown).unwrap();
    assert!(shown["data"]["message"].as_str().unwrap().contains("more)"));
    assert_eq!(shown["data"]["widgetType"], "TaskList");
}

#[test]
fn messages_are_lower_case_sentences() {
    let data = json!({"metrics": [{"label": "", "value": "", "change": {"value": 1, "direction": "sideways"}}]});
    let WidgetError::Invalid { errors, .. } = catalog().validate_data("Metrics", &data).unwrap_err() else { panic!() };
    let messages: Vec<(&str, &str)> = errors.iter().map(|e| (e.path.as_str(), e.message.as_str())).collect();
    assert!(messages.contains(&("/metrics/0/label", "must not be empty")), "{messages:?}");
    assert!(messages.contains(&("/metrics/0/value", "must be a number, or must not be empty")), "{messages:?}");
    assert!(
        messages.contains(&("/metrics/0/change/direction", "must be one of \"up\", \"down\", \"stable\"")),
        "{messages:?}"
    );
    for error in &errors {
        assert!(!error.message.starts_with(char::is_uppercase), "{error:?}");
    }
}
