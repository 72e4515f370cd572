//! The dashboard document: its typed shape, its bounds and its derived values.
//!
//! One document per (workspace, user) holds everything the dashboard shows:
//!
//! ```json
//! { "schemaVersion": 2,
//!   "widgets": { "w1": { "type": "ProjectStatus", "data": { … } } },
//!   "layout": ["w1"],
//!   "activeProject": "p-1",
//!   "activeTasks": [ { "taskId": "t1", "taskName": "Plan", "status": "running",
//!                      "currentStep": 2, "totalSteps": 5 } ],
//!   "alerts": [ { "id": "a1", "severity": "warning", "message": "Late",
//!                 "createdAt": "2025-03-01T12:00:00Z", "dismissed": false } ],
//!   "activeAlerts": ["a1"],
//!   "metrics": [ { "label": "Velocity", "value": 21 } ],
//!   "activity": [ { "id": "e1", "user": "Ada", "action": "completed",
//!                   "time": "2025-03-01T12:00:00Z" } ],
//!   "preferences": { "theme": "system" },
//!   "widgetSizes": { "w1": { "columns": 2, "rows": 1 } },
//!   "lastAnswer": { "question": "workspace overview", "text": "4 projects…",
//!                   "askedAt": "2025-03-01T12:00:00Z" } }
//! ```
//!
//! `widgetSizes` and `lastAnswer` came after format 2 was fixed; like every
//! member but `schemaVersion` they may be left out (a document stored before
//! them loads unchanged, reading them as empty), so adding them needed no
//! migration and no new `schemaVersion`.
//!
//! Three kinds of rule keep it healthy:
//!
//! - **Shape and content** — checked by [`DashboardDocument::from_value`] (in
//!   `rules.rs`), which reports every failure as a JSON Pointer into the
//!   document. Widgets, metrics and activity items are checked by the widget
//!   catalog, so the dashboard and the widgets can never disagree on what a
//!   valid metric is.
//! - **Bounds** — the feeds (`alerts`, `activity`, `metrics`, `activeTasks`)
//!   only ever grow at the end, so [`DashboardDocument::normalize`] drops their
//!   oldest items (the front) past their bound instead of refusing a write: an
//!   agent appending its 101st activity entry should succeed, not fail.
//! - **Derived values** — `activeAlerts` is recomputed by `normalize` on every
//!   write, so readers never filter and clients can never make it lie; and
//!   `normalize` drops the `widgetSizes` of widgets no longer in `widgets`, so
//!   removing a widget never fails a write for the size it leaves behind.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::widgets::{ActivityItem, AlertAction, AlertSeverity, Metric, Widget};

/// The `schemaVersion` this build reads and writes; older documents are migrated first.
pub const CURRENT_SCHEMA_VERSION: u32 = 2;
/// Most alerts kept; older ones are dropped first.
pub const MAX_ALERTS: usize = 50;
/// Most activity entries kept; older ones are dropped first.
pub const MAX_ACTIVITY: usize = 100;
/// Most metrics kept; older ones are dropped first.
pub const MAX_METRICS: usize = 50;
/// Most task runs kept; finished ones are dropped before running ones.
pub const MAX_ACTIVE_TASKS: usize = 20;
/// Widest a widget may be made, in grid columns.
pub const MAX_WIDGET_COLUMNS: u8 = 3;
/// Tallest a widget may be made, in grid rows.
pub const MAX_WIDGET_ROWS: u8 = 2;
/// Longest `lastAnswer.text`, in characters.
pub const MAX_ANSWER_TEXT_CHARS: usize = 4000;
/// Default cap on the serialized document, in bytes (1 MiB).
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;
/// Default cap on nesting: the root object is level 1.
pub const MAX_DEPTH: usize = 32;
/// Default cap on the operations of one patch.
pub const MAX_PATCH_OPS: usize = 100;

/// Limits the server may configure; every check that takes a number takes it from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateLimits {
    /// Most operations in one patch.
    pub max_ops: usize,
    /// Largest serialized document, in bytes.
    pub max_document_bytes: usize,
    /// Deepest nesting of the document and of any operation's value.
    pub max_depth: usize,
}

impl Default for StateLimits {
    fn default() -> Self {
        Self { max_ops: MAX_PATCH_OPS, max_document_bytes: MAX_DOCUMENT_BYTES, max_depth: MAX_DEPTH }
    }
}

/// The dashboard state of one user in one workspace.
///
/// `Deserialize` only checks the shape (and rejects unknown members); use
/// [`DashboardDocument::from_value`] to check every rule and get paths for
/// what failed. Every member but `schemaVersion` may be left out and reads as
/// empty, so a document from an older format or a minimal `PUT` loads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DashboardDocument {
    /// Format of the document; always [`CURRENT_SCHEMA_VERSION`] once loaded.
    pub schema_version: u32,
    /// Widgets by id; each passes the widget catalog and carries no other id.
    #[serde(default)]
    pub widgets: BTreeMap<String, Widget>,
    /// Widget ids in screen order; each names a widget, none twice.
    #[serde(default)]
    pub layout: Vec<String>,
    /// The project the user is looking at, if any.
    #[serde(default)]
    pub active_project: Option<String>,
    /// Long agent runs and their progress, oldest first.
    #[serde(default)]
    pub active_tasks: Vec<TaskProgress>,
    /// Alerts, oldest first.
    #[serde(default)]
    pub alerts: Vec<Alert>,
    /// Derived: ids of the alerts not dismissed, in alert order.
    #[serde(default)]
    pub active_alerts: Vec<String>,
    /// Key figures, oldest first.
    #[serde(default)]
    pub metrics: Vec<Metric>,
    /// What people and agents did, oldest first.
    #[serde(default)]
    pub activity: Vec<ActivityItem>,
    /// How the user likes the dashboard shown.
    #[serde(default)]
    pub preferences: Preferences,
    /// How big the user made each widget, by widget id; only widgets in `widgets`.
    #[serde(default)]
    pub widget_sizes: BTreeMap<String, WidgetSize>,
    /// The gateway's latest answer, so every tab shows its text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_answer: Option<LastAnswer>,
}

impl Default for DashboardDocument {
    fn default() -> Self {
        Self {
            schema_version: CURRENT_SCHEMA_VERSION,
            widgets: BTreeMap::new(),
            layout: Vec::new(),
            active_project: None,
            active_tasks: Vec::new(),
            alerts: Vec::new(),
            active_alerts: Vec::new(),
            metrics: Vec::new(),
            activity: Vec::new(),
            preferences: Preferences::default(),
            widget_sizes: BTreeMap::new(),
            last_answer: None,
        }
    }
}

/// How many grid cells a widget spans, as the user sized it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WidgetSize {
    /// Columns, 1 to [`MAX_WIDGET_COLUMNS`].
    pub columns: u8,
    /// Rows, 1 to [`MAX_WIDGET_ROWS`].
    pub rows: u8,
}

/// The gateway's latest answer to this user (`POST /api/ask`), kept so that
/// every open tab, not only the one that asked, shows its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LastAnswer {
    /// The question, as asked (1 to 500 characters, like a widget's `source`).
    pub question: String,
    /// The project the question was narrowed to (a UUID), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// The answer's text (at most [`MAX_ANSWER_TEXT_CHARS`] characters).
    pub text: String,
    /// When it was asked (RFC 3339 date-time).
    pub asked_at: String,
}

/// Where a long agent run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskRunStatus {
    /// Queued, not started.
    Pending,
    /// Working.
    Running,
    /// Finished successfully.
    Completed,
    /// Finished with an error.
    Failed,
    /// Stopped before finishing.
    Cancelled,
}

impl TaskRunStatus {
    /// Whether the run is over (completed, failed or cancelled).
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

/// Progress of one long agent run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskProgress {
    /// The run's id; unique within `activeTasks`.
    pub task_id: String,
    /// What the run does, for display.
    pub task_name: String,
    /// Where it stands.
    pub status: TaskRunStatus,
    /// Steps done so far; at most `totalSteps` when that is known (non-zero).
    pub current_step: u32,
    /// Steps in all; `0` when not known.
    pub total_steps: u32,
    /// Percent complete, 0 to 100, when the agent reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<f64>,
    /// When it started (RFC 3339 date-time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When it finished (RFC 3339 date-time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// Why it failed, for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A message for the user that stays until dismissed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Alert {
    /// The alert's id; unique within `alerts`.
    pub id: String,
    /// How serious it is.
    pub severity: AlertSeverity,
    /// A short heading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The message itself.
    pub message: String,
    /// When it was raised (RFC 3339 date-time).
    pub created_at: String,
    /// Whether the user dismissed it; dismissed alerts leave `activeAlerts`.
    #[serde(default)]
    pub dismissed: bool,
    /// A link to act on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<AlertAction>,
}

/// Colour scheme of the dashboard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Light background.
    Light,
    /// Dark background.
    Dark,
    /// Follow the operating system.
    #[default]
    System,
}

/// Spacing of the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Density {
    /// Roomy, the default look.
    Comfortable,
    /// More on screen.
    Compact,
}

/// The user's display preferences: a closed set, so a typo is an error, not a silent no-op.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Preferences {
    /// Colour scheme; `system` when not set.
    #[serde(default)]
    pub theme: Theme,
    /// Spacing; the browser's default when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub density: Option<Density>,
    /// Turn animations off; `None` follows the operating system's setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reduced_motion: Option<bool>,
}

/// What [`DashboardDocument::normalize`] dropped from each bounded collection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trimmed {
    /// Alerts dropped.
    pub alerts: usize,
    /// Activity entries dropped.
    pub activity: usize,
    /// Metrics dropped.
    pub metrics: usize,
    /// Task runs dropped, as their indices before the trim (ascending): finished
    /// runs go first, so they need not be the front.
    pub active_tasks: Vec<usize>,
}

impl Trimmed {
    /// Names of the members that lost items: their indices shifted, which
    /// matters to anyone who wrote into them by index.
    pub fn members(&self) -> Vec<&'static str> {
        [
            (self.alerts, "alerts"),
            (self.activity, "activity"),
            (self.metrics, "metrics"),
            (self.active_tasks.len(), "activeTasks"),
        ]
        .into_iter()
        .filter(|(dropped, _)| *dropped > 0)
        .map(|(_, pointer)| pointer)
        .collect()
    }
}

impl DashboardDocument {
    /// Enforces the bounds and recomputes the derived values; run on every write.
    ///
    /// Bounded collections drop their oldest items (the front) first;
    /// `activeTasks` drops finished runs before pending or running ones;
    /// `widgetSizes` keeps only the sizes of widgets in `widgets`.
    pub fn normalize(&mut self) -> Trimmed {
        let trimmed = Trimmed {
            alerts: drop_oldest(&mut self.alerts, MAX_ALERTS),
            activity: drop_oldest(&mut self.activity, MAX_ACTIVITY),
            metrics: drop_oldest(&mut self.metrics, MAX_METRICS),
            active_tasks: drop_oldest_tasks(&mut self.active_tasks, MAX_ACTIVE_TASKS),
        };
        self.active_alerts = self.derive_active_alerts();
        let widgets = &self.widgets;
        self.widget_sizes.retain(|id, _| widgets.contains_key(id));
        trimmed
    }

    /// Ids of the alerts not dismissed, in alert order: what `activeAlerts` must hold.
    pub fn derive_active_alerts(&self) -> Vec<String> {
        self.alerts.iter().filter(|alert| !alert.dismissed).map(|alert| alert.id.clone()).collect()
    }

    /// Length of the document serialized as compact JSON, without building the text.
    pub fn serialized_len(&self) -> usize {
        super::pointer::serialized_len(self)
    }
}

/// Drops items from the front until at most `max` remain; returns how many went.
fn drop_oldest<T>(items: &mut Vec<T>, max: usize) -> usize {
    let excess = items.len().saturating_sub(max);
    items.drain(..excess);
    excess
}

/// Like [`drop_oldest`], but finished runs go first: a running task is what
/// the user watches, while a finished one is only history.
fn drop_oldest_tasks(tasks: &mut Vec<TaskProgress>, max: usize) -> Vec<usize> {
    let excess = tasks.len().saturating_sub(max);
    if excess == 0 {
        return Vec::new();
    }
    let finished = tasks.iter().enumerate().filter(|(_, task)| task.status.is_finished());
    let mut dropped: Vec<usize> = finished.map(|(index, _)| index).take(excess).collect();
    // Not enough finished runs: the oldest unfinished ones make up the rest.
    let unfinished = (0..tasks.len()).filter(|index| !dropped.contains(index));
    let rest: Vec<usize> = unfinished.take(excess - dropped.len()).collect();
    dropped.extend(rest);
    dropped.sort_unstable();
    for &index in dropped.iter().rev() {
        tasks.remove(index);
    }
    dropped
}
