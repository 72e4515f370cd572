//! The `data` payloads of the feed, board and chart widgets: `TeamActivity`,
//! `KanbanBoard`, `GanttChart` and `BurndownChart`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::data::{MAX_DATE_TIME_CHARS, MAX_ID_CHARS, MAX_ITEMS, MAX_NAME_CHARS, MAX_TEXT_CHARS};

/// One entry of a `TeamActivity` feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ActivityItem {
    /// The entry's id.
    #[schemars(length(min = 1, max = MAX_ID_CHARS))]
    pub id: String,
    /// Who acted, by display name.
    #[schemars(length(min = 1, max = MAX_NAME_CHARS))]
    pub user: String,
    /// What they did, such as `completed`.
    #[schemars(length(min = 1, max = MAX_NAME_CHARS))]
    pub action: String,
    /// What they did it to, such as a task title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = MAX_NAME_CHARS))]
    pub target: Option<String>,
    /// When (RFC 3339 date-time).
    #[schemars(length(max = MAX_DATE_TIME_CHARS), extend("format" = "date-time"))]
    pub time: String,
}

/// `TeamActivity`: a feed of what people did, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TeamActivityData {
    /// The entries.
    #[schemars(length(max = MAX_ITEMS))]
    pub activities: Vec<ActivityItem>,
}

/// One card on a `KanbanBoard`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KanbanCard {
    /// The card's id.
    #[schemars(length(min = 1, max = MAX_ID_CHARS))]
    pub id: String,
    /// The card's title.
    #[schemars(length(min = 1, max = MAX_NAME_CHARS))]
    pub title: String,
    /// More detail, as plain text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_TEXT_CHARS))]
    pub description: Option<String>,
    /// Who owns it, by display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = MAX_NAME_CHARS))]
    pub assignee: Option<String>,
}

/// One column of a `KanbanBoard`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KanbanColumn {
    /// The column's id.
    #[schemars(length(min = 1, max = MAX_ID_CHARS))]
    pub id: String,
    /// The column's heading.
    #[schemars(length(min = 1, max = MAX_NAME_CHARS))]
    pub title: String,
    /// The cards, top to bottom.
    #[schemars(length(max = MAX_ITEMS))]
    pub cards: Vec<KanbanCard>,
}

/// `KanbanBoard`: cards in columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KanbanBoardData {
    /// The columns, left to right.
    #[schemars(length(max = 50))]
    pub columns: Vec<KanbanColumn>,
}

/// One bar of a `GanttChart`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GanttTask {
    /// The task's id, which `dependencies` refer to.
    #[schemars(length(min = 1, max = MAX_ID_CHARS))]
    pub id: String,
    /// The task's title.
    #[schemars(length(min = 1, max = MAX_NAME_CHARS))]
    pub title: String,
    /// When it starts (RFC 3339 date-time).
    #[schemars(length(max = MAX_DATE_TIME_CHARS), extend("format" = "date-time"))]
    pub start: String,
    /// When it ends (RFC 3339 date-time).
    #[schemars(length(max = MAX_DATE_TIME_CHARS), extend("format" = "date-time"))]
    pub end: String,
    /// Percent complete, 0 to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub progress: Option<f64>,
    /// Ids of the tasks that must finish first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 100), inner(length(min = 1, max = MAX_ID_CHARS)))]
    pub dependencies: Option<Vec<String>>,
}

/// `GanttChart`: tasks on a timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GanttChartData {
    /// The bars, top to bottom.
    #[schemars(length(max = MAX_ITEMS))]
    pub tasks: Vec<GanttTask>,
}

/// One day of a `BurndownChart`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BurndownPoint {
    /// The day (RFC 3339 date-time).
    #[schemars(length(max = MAX_DATE_TIME_CHARS), extend("format" = "date-time"))]
    pub date: String,
    /// Work that should remain on the ideal line.
    #[schemars(range(min = 0))]
    pub ideal: f64,
    /// Work that actually remains.
    #[schemars(range(min = 0))]
    pub actual: f64,
}

/// `BurndownChart`: remaining work over a sprint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BurndownChartData {
    /// The sprint's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = MAX_NAME_CHARS))]
    pub sprint_name: Option<String>,
    /// When the sprint starts (RFC 3339 date-time).
    #[schemars(length(max = MAX_DATE_TIME_CHARS), extend("format" = "date-time"))]
    pub start_date: String,
    /// When the sprint ends (RFC 3339 date-time).
    #[schemars(length(max = MAX_DATE_TIME_CHARS), extend("format" = "date-time"))]
    pub end_date: String,
    /// The days, in order.
    #[schemars(length(max = MAX_ITEMS))]
    pub points: Vec<BurndownPoint>,
}
