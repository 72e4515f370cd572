//! The widget envelope, the closed set of widget types, and the JSON Schema of
//! the envelope.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use super::boards::{BurndownChartData, GanttChartData, KanbanBoardData, TeamActivityData};
use super::data::{
    AlertData, ErrorData, LoadingData, MAX_DATE_TIME_CHARS, MAX_ID_CHARS, MAX_NAME_CHARS, MetricsData,
    ProjectStatusData, TaskListData,
};

/// Declares `WidgetType`, its wire names and the `WidgetData` enum in one place,
/// so a new widget type cannot be added to one and forgotten in the other.
macro_rules! widget_types {
    ($($variant:ident($data:ty) => $doc:literal),+ $(,)?) => {
        /// The kind of a widget; its wire name is the variant name (`ProjectStatus`, …).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum WidgetType {
            $(#[doc = $doc] $variant,)+
        }

        impl WidgetType {
            /// Every widget type, in catalog order.
            pub const ALL: &'static [WidgetType] = &[$(WidgetType::$variant),+];

            /// Returns the wire name, such as `"ProjectStatus"`.
            pub fn as_str(self) -> &'static str {
                match self { $(WidgetType::$variant => stringify!($variant)),+ }
            }

            /// Parses a wire name (exact, case-sensitive); `None` for anything else.
            pub fn parse(name: &str) -> Option<Self> {
                match name { $(stringify!($variant) => Some(WidgetType::$variant),)+ _ => None }
            }

            /// The schema of this type's `data` (a `$ref` into `$defs`).
            fn data_schema(self, generator: &mut SchemaGenerator) -> Schema {
                match self { $(WidgetType::$variant => generator.subschema_for::<$data>()),+ }
            }
        }

        /// A widget's type together with its typed `data`; serialized as
        /// `"type": …, "data": {…}` inside the [`Widget`] envelope.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type", content = "data", deny_unknown_fields)]
        pub enum WidgetData {
            $(#[doc = $doc] $variant($data),)+
        }

        impl WidgetData {
            /// The type of this payload.
            pub fn widget_type(&self) -> WidgetType {
                match self { $(WidgetData::$variant(_) => WidgetType::$variant),+ }
            }
        }
    };
}

widget_types! {
    ProjectStatus(ProjectStatusData) => "One project's health and progress.",
    TaskList(TaskListData) => "A list of tasks.",
    Metrics(MetricsData) => "A row of key figures.",
    Alert(AlertData) => "A message that needs the reader's attention.",
    TeamActivity(TeamActivityData) => "A feed of what people did.",
    KanbanBoard(KanbanBoardData) => "Cards in columns.",
    GanttChart(GanttChartData) => "Tasks on a timeline.",
    BurndownChart(BurndownChartData) => "Remaining work over a sprint.",
    Error(ErrorData) => "Shown in place of a widget that could not be produced.",
    Loading(LoadingData) => "Shown while a widget is being produced.",
}

impl WidgetType {
    /// The `$defs` key of this type's `data` schema, such as `"ProjectStatusData"`.
    pub fn data_definition(self) -> String {
        format!("{}Data", self.as_str())
    }
}

impl std::fmt::Display for WidgetType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl JsonSchema for WidgetType {
    fn schema_name() -> Cow<'static, str> {
        "WidgetType".into()
    }

    // Hand-written so the schema is a plain `enum` (what a derive with
    // documented variants would turn into a harder-to-read `oneOf`).
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = WidgetType::ALL.iter().map(|t| t.as_str()).collect();
        json_schema!({
            "description": "The kind of a widget; decides the shape of `data`.",
            "type": "string",
            "enum": names,
        })
    }
}

/// Longest question a widget's [`WidgetSource`] may carry, in characters.
pub const MAX_QUESTION_CHARS: u32 = 500;

/// The `/api/ask` request that produced a widget, so a client can ask it again
/// (the retry of an `Error` widget) or show what was asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WidgetSource {
    /// The question, as asked.
    pub question: String,
    /// The project the question was narrowed to (a UUID), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
}

impl WidgetSource {
    /// The JSON Schema of `source` (hand-written beside the envelope's, whose members it follows).
    fn json_schema() -> Schema {
        json_schema!({
            "description": "The `/api/ask` request that produced the widget, so it can be asked again.",
            "type": "object",
            "properties": {
                "question": {
                    "description": "The question, as asked.",
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_QUESTION_CHARS,
                },
                "projectId": {
                    "description": "The project the question was narrowed to.",
                    "type": "string",
                    "format": "uuid",
                },
            },
            "required": ["question"],
            "additionalProperties": false,
        })
    }
}

/// What an agent answers with: a typed payload plus optional display metadata.
///
/// On the wire: `{"type": "ProjectStatus", "id"?, "title"?, "timestamp"?, "source"?, "data": {…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Widget {
    /// A stable id, so a client can replace a widget it already shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// A heading shown above the widget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// When the data was read (RFC 3339 date-time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// The request that produced the widget (set by the gateway).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<WidgetSource>,
    /// The type and its payload (`type` and `data` on the wire).
    #[serde(flatten)]
    pub data: WidgetData,
}

impl Widget {
    /// Wraps a payload in an envelope without metadata.
    pub fn new(data: WidgetData) -> Self {
        Self { id: None, title: None, timestamp: None, source: None, data }
    }

    /// The widget's type.
    pub fn widget_type(&self) -> WidgetType {
        self.data.widget_type()
    }
}

impl From<WidgetData> for Widget {
    fn from(data: WidgetData) -> Self {
        Self::new(data)
    }
}

impl JsonSchema for Widget {
    fn schema_name() -> Cow<'static, str> {
        "Widget".into()
    }

    // Hand-written because the envelope is a discriminated union: one
    // `if type = X then data: $defs/XData` rule per type. Unlike a `oneOf`,
    // this reports a bad field at its own path (`/data/progress`) instead of
    // "matched none of 10 alternatives".
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let rules: Vec<Schema> = WidgetType::ALL
            .iter()
            .map(|&widget_type| {
                json_schema!({
                    "if": {
                        "properties": { "type": { "const": widget_type.as_str() } },
                        "required": ["type"],
                    },
                    "then": {
                        "properties": { "data": widget_type.data_schema(generator) },
                    },
                })
            })
            .collect();
        json_schema!({
            "description": "What an agent answers with: a typed payload plus optional display metadata.",
            "type": "object",
            "properties": {
                "type": generator.subschema_for::<WidgetType>(),
                "id": {
                    "description": "A stable id, so a client can replace a widget it already shows.",
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_ID_CHARS,
                },
                "title": {
                    "description": "A heading shown above the widget.",
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_NAME_CHARS,
                },
                "timestamp": {
                    "description": "When the data was read (RFC 3339 date-time).",
                    "type": "string",
                    "format": "date-time",
                    "maxLength": MAX_DATE_TIME_CHARS,
                },
                "source": WidgetSource::json_schema(),
                "data": {
                    "description": "The payload; its shape is `$defs/<type>Data`, chosen by `type`.",
                },
            },
            "required": ["type", "data"],
            "additionalProperties": false,
            "allOf": rules,
        })
    }
}
