//! The widget catalog: the one definition of what an agent may answer with.
//!
//! An agent answers with *widgets*: small JSON documents such as a project's
//! status or a kanban board, which the browser draws. Each widget is an
//! envelope `{"type", "id"?, "title"?, "timestamp"?, "source"?, "data"}` whose
//! `type` (one of [`WidgetType::ALL`]) decides the shape of `data`; `source`
//! is the question that produced it ([`WidgetSource`]).
//!
//! # One schema, three users
//!
//! 1. The Rust types in this module ([`Widget`], [`WidgetData`] and one
//!    `…Data` struct per type) are the source: constraints (lengths, ranges,
//!    patterns, date-time formats) are `schemars` attributes on them.
//! 2. `schema/widgets.schema.json` (draft 2020-12) is generated from those
//!    types ([`generate_schema_text`]) and committed. A test fails when the
//!    file and the types drift apart; `UPDATE_WIDGET_SCHEMA=1 cargo test -p
//!    agentdeck-domain widgets` rewrites it.
//! 3. [`WidgetCatalog`] compiles the *committed* file once and checks every
//!    widget before it leaves the server; the browser fetches the same file
//!    from `GET /api/schema/widgets.json` ([`WidgetCatalog::schema_json`]).
//!
//! Failures come back as [`WidgetError`]: an unknown type, or field errors
//! whose paths are JSON Pointers to the failing value. [`Widget::error_for`]
//! turns one into an `Error` widget the browser can show instead.
//!
//! Strings in widgets are data, never HTML: the browser renders them as text,
//! so nothing here sanitises them. The one exception is a link target, which is
//! limited to relative links and `https://` URLs ([`HREF_PATTERN`]).

mod boards;
mod catalog;
mod data;
mod messages;
mod schema_file;
mod types;

pub use boards::{
    ActivityItem, BurndownChartData, BurndownPoint, GanttChartData, GanttTask, KanbanBoardData, KanbanCard,
    KanbanColumn, TeamActivityData,
};
pub use catalog::{CatalogError, WidgetCatalog, WidgetError, catalog};
pub use data::{
    AlertAction, AlertData, AlertSeverity, ChangeDirection, ErrorData, HREF_PATTERN, LoadingData, MAX_COUNT,
    MAX_DATE_TIME_CHARS, MAX_ID_CHARS, MAX_ITEMS, MAX_NAME_CHARS, MAX_TEXT_CHARS, Metric, MetricChange, MetricStatus,
    MetricValue, MetricsData, ProjectHealth, ProjectStatusData, TaskItem, TaskItemPriority, TaskItemStatus,
    TaskListData,
};
pub use messages::MAX_REPORTED_ERRORS;
pub use schema_file::{SCHEMA_JSON, SCHEMA_PATH, generate_schema, generate_schema_text};
pub use types::{MAX_QUESTION_CHARS, Widget, WidgetData, WidgetSource, WidgetType};

#[cfg(test)]
mod tests;
