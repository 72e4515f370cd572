//! The `data` payloads of the status, list, metric, alert, error and loading
//! widgets (the boards and charts are in `boards.rs`), and the limits all share.
//!
//! These types are the code-first source of the widget schema: every
//! constraint a browser or the server must enforce is written here as a
//! `schemars` attribute, and `schema/widgets.schema.json` is generated from
//! them. The Rust types do not re-check ranges or lengths themselves; the
//! catalog validates the JSON against the schema before it is deserialized.
//!
//! Date-times are kept as `String` (with `format: date-time` in the schema) so
//! a widget round-trips byte-for-byte: chrono would rewrite `Z` as `+00:00`
//! and drop or add fractional seconds.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Longest id, in characters.
pub const MAX_ID_CHARS: u32 = 200;
/// Longest name, title or label, in characters.
pub const MAX_NAME_CHARS: u32 = 200;
/// Longest message or description, in characters.
pub const MAX_TEXT_CHARS: u32 = 2000;
/// Longest RFC 3339 date-time string, in characters.
pub const MAX_DATE_TIME_CHARS: u32 = 64;
/// Most items in any list inside a widget.
pub const MAX_ITEMS: u32 = 500;
/// Largest task count a widget may report.
pub const MAX_COUNT: u32 = 1_000_000;

/// Links an alert action may carry: a relative reference (`/tasks/1`,
/// `?q=1`, `#top`, `tasks/1`) or an absolute `https://` URL. Anything with
/// another scheme (`javascript:`, `http:`, `data:`), a protocol-relative
/// `//host`, backslashes (browsers read `/\host` as `//host`), whitespace or
/// control characters fails. Written without look-arounds so it means the same
/// in ECMAScript and in Rust's linear-time `regex`.
pub const HREF_PATTERN: &str = r"^(?:https://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?(?:[/?#][^\s\\\x00-\x1f\x7f]*)?|/(?:[^\s\\/\x00-\x1f\x7f][^\s\\\x00-\x1f\x7f]*)?|[?#][^\s\\\x00-\x1f\x7f]*|[^\s\\:/?#\x00-\x1f\x7f]+(?:[/?#][^\s\\\x00-\x1f\x7f]*)?)$";

/// How a project is doing overall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProjectHealth {
    /// Expected to finish on time.
    OnTrack,
    /// Might slip without action.
    AtRisk,
    /// Already late.
    Behind,
    /// Done.
    Completed,
}

/// `ProjectStatus`: one project's health and progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProjectStatusData {
    /// The project's id.
    #[schemars(length(min = 1, max = MAX_ID_CHARS))]
    pub project_id: String,
    /// The project's name.
    #[schemars(length(min = 1, max = MAX_NAME_CHARS))]
    pub project_name: String,
    /// Overall health.
    pub status: ProjectHealth,
    /// Percent complete, 0 to 100.
    #[schemars(range(min = 0, max = 100))]
    pub progress: f64,
    /// When the project is due (RFC 3339 date-time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_DATE_TIME_CHARS), extend("format" = "date-time"))]
    pub due_date: Option<String>,
    /// Tasks finished so far.
    #[schemars(range(max = MAX_COUNT))]
    pub tasks_completed: u32,
    /// Tasks in the project.
    #[schemars(range(max = MAX_COUNT))]
    pub tasks_total: u32,
}

/// Where a task in a `TaskList` stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskItemStatus {
    /// Not started.
    Todo,
    /// Being worked on.
    InProgress,
    /// Finished.
    Done,
    /// Cannot proceed.
    Blocked,
}

/// How urgent a task in a `TaskList` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskItemPriority {
    /// Can wait.
    Low,
    /// The default.
    Medium,
    /// Soon.
    High,
    /// Now.
    Urgent,
}

/// One task shown in a `TaskList`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskItem {
    /// The task's id.
    #[schemars(length(min = 1, max = MAX_ID_CHARS))]
    pub id: String,
    /// The task's title.
    #[schemars(length(min = 1, max = MAX_NAME_CHARS))]
    pub title: String,
    /// Where the task stands.
    pub status: TaskItemStatus,
    /// How urgent it is.
    pub priority: TaskItemPriority,
    /// Who works on it, by display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = MAX_NAME_CHARS))]
    pub assignee: Option<String>,
    /// When it is due (RFC 3339 date-time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_DATE_TIME_CHARS), extend("format" = "date-time"))]
    pub due_date: Option<String>,
}

/// `TaskList`: a list of tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskListData {
    /// The tasks, in display order.
    #[schemars(length(max = MAX_ITEMS))]
    pub tasks: Vec<TaskItem>,
    /// How many tasks to show before "show more".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = MAX_ITEMS))]
    pub limit: Option<u32>,
}

/// A metric's value: a number, or a preformatted text such as `"3h 20m"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum MetricValue {
    /// A plain number.
    Number(f64),
    /// A value already formatted for display.
    Text(#[schemars(length(min = 1, max = MAX_NAME_CHARS))] String),
}

/// Which way a metric moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeDirection {
    /// Went up.
    Up,
    /// Went down.
    Down,
    /// Stayed the same.
    Stable,
}

/// How a metric moved since the last period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricChange {
    /// The size of the move, in the metric's unit or in percent.
    pub value: f64,
    /// Which way it moved.
    pub direction: ChangeDirection,
}

/// Whether a metric needs attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MetricStatus {
    /// Fine.
    Ok,
    /// Worth a look.
    Warning,
    /// Needs action now.
    Critical,
}

/// One figure in a `Metrics` widget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Metric {
    /// What is measured.
    #[schemars(length(min = 1, max = MAX_NAME_CHARS))]
    pub label: String,
    /// The current value.
    pub value: MetricValue,
    /// The unit, such as `h` or `%`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 50))]
    pub unit: Option<String>,
    /// The move since the last period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<MetricChange>,
    /// Whether it needs attention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<MetricStatus>,
}

/// `Metrics`: a row of key figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricsData {
    /// The figures, in display order.
    #[schemars(length(max = MAX_ITEMS))]
    pub metrics: Vec<Metric>,
}

/// How serious an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertSeverity {
    /// For information.
    Info,
    /// Something may go wrong.
    Warning,
    /// Something went wrong.
    Error,
    /// Something went well.
    Success,
}

/// A link button under an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlertAction {
    /// The button's text.
    #[schemars(length(min = 1, max = MAX_NAME_CHARS))]
    pub label: String,
    /// Where it leads: a relative link (`/tasks/1`, `?q=1`) or an `https://` URL.
    #[schemars(length(min = 1, max = MAX_TEXT_CHARS), pattern(HREF_PATTERN))]
    pub href: String,
}

/// `Alert`: a message that needs the reader's attention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlertData {
    /// How serious it is.
    pub severity: AlertSeverity,
    /// A short heading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = MAX_NAME_CHARS))]
    pub title: Option<String>,
    /// The message itself.
    #[schemars(length(min = 1, max = MAX_TEXT_CHARS))]
    pub message: String,
    /// A link to act on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<AlertAction>,
}

/// `Error`: shown in place of a widget that could not be produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ErrorData {
    /// What went wrong, for the reader.
    #[schemars(length(min = 1, max = MAX_TEXT_CHARS))]
    pub message: String,
    /// The widget type that failed, if known (any text, as agents may name unknown types).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = MAX_NAME_CHARS))]
    pub widget_type: Option<String>,
    /// Whether asking again may succeed.
    pub retryable: bool,
}

/// `Loading`: shown while a widget is being produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadingData {
    /// The widget type being produced, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = MAX_NAME_CHARS))]
    pub widget_type: Option<String>,
}
