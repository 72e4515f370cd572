//! The dashboard document (DESIGN §5.1) as JSON Schema, for the API description.
//!
//! The server checks a document with [`DashboardDocument::from_value`](agentdeck_domain::dashboard::document::DashboardDocument::from_value);
//! this schema states the rules JSON Schema can express — the members, their
//! types, `schemaVersion` — and names the rest in descriptions: widgets are
//! checked against the widget catalog (`GET /api/schema/widgets.json`) and the
//! layout must name existing widgets, which a 422 reports with the paths.

use std::borrow::Cow;

use agentdeck_domain::dashboard::document::{
    CURRENT_SCHEMA_VERSION, MAX_ANSWER_TEXT_CHARS, MAX_WIDGET_COLUMNS, MAX_WIDGET_ROWS,
};
use agentdeck_domain::widgets::MAX_QUESTION_CHARS;
use serde_json::json;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{Object, Schema};

/// The document of `PUT /api/dashboard/state` and of every state answer.
pub(crate) struct DashboardDocument;

impl utoipa::PartialSchema for DashboardDocument {
    fn schema() -> RefOr<Schema> {
        // A literal reads like the document it describes; the unit test below proves it converts.
        serde_json::from_value(document_schema()).unwrap_or_else(|_| RefOr::T(Schema::Object(Object::new())))
    }
}

impl utoipa::ToSchema for DashboardDocument {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("DashboardDocument")
    }
}

fn document_schema() -> serde_json::Value {
    let strings = json!({"type": "array", "items": {"type": "string"}});
    let objects = |description: &str| json!({"type": "array", "items": {"type": "object"}, "description": description});
    json!({
        "type": "object",
        "description": "One user's dashboard; every member but schemaVersion may be left out and reads as empty",
        "required": ["schemaVersion"],
        "additionalProperties": false,
        "properties": {
            "schemaVersion": {"type": "integer", "enum": [CURRENT_SCHEMA_VERSION],
                "description": "The format; this server reads and writes only its current one"},
            "widgets": {"type": "object", "additionalProperties": {"type": "object"},
                "description": "Widgets by id (1–200 characters), each valid against the widget catalog"},
            "layout": {"type": "array", "items": {"type": "string"},
                "description": "Widget ids in screen order; each names a widget, none twice"},
            "activeProject": {"type": ["string", "null"], "minLength": 1, "maxLength": 200,
                "description": "The project the user is looking at"},
            "activeTasks": objects("Long agent runs and their progress, oldest first (at most 20 kept)"),
            "alerts": objects("Alerts, oldest first (at most 50 kept)"),
            "activeAlerts": strings,
            "metrics": objects("Key figures, oldest first (at most 50 kept)"),
            "activity": objects("What people and agents did, oldest first (at most 100 kept)"),
            "preferences": {"type": "object", "description": "How the user likes the dashboard shown"},
            "widgetSizes": {"type": "object",
                "description": "How big the user made each widget, by widget id; sizes of widgets not in widgets are dropped on write",
                "additionalProperties": {"type": "object", "required": ["columns", "rows"], "additionalProperties": false,
                    "properties": {
                        "columns": {"type": "integer", "minimum": 1, "maximum": MAX_WIDGET_COLUMNS},
                        "rows": {"type": "integer", "minimum": 1, "maximum": MAX_WIDGET_ROWS},
                    }}},
            "lastAnswer": {"type": ["object", "null"],
                "description": "The Dashboard Agent's latest answer to this user (POST /api/ask), so every tab shows its text",
                "required": ["question", "text", "askedAt"], "additionalProperties": false,
                "properties": {
                    "question": {"type": "string", "minLength": 1, "maxLength": MAX_QUESTION_CHARS},
                    "projectId": {"type": "string", "format": "uuid"},
                    "text": {"type": "string", "maxLength": MAX_ANSWER_TEXT_CHARS},
                    "askedAt": {"type": "string", "format": "date-time"},
                }},
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_converts_and_names_the_current_version() {
        let converted: RefOr<Schema> = serde_json::from_value(document_schema()).expect("a schema");
        let back = serde_json::to_value(&converted).expect("serializes");
        assert_eq!(back["properties"]["schemaVersion"]["enum"], json!([CURRENT_SCHEMA_VERSION]));
        assert_eq!(back["required"], json!(["schemaVersion"]));
        assert_eq!(back["properties"]["widgetSizes"]["additionalProperties"]["properties"]["columns"]["maximum"], 3);
        assert_eq!(back["properties"]["lastAnswer"]["properties"]["text"]["maxLength"], 4000);
    }
}
