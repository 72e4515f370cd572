//! The rules of the document's lists, preferences and view state: task runs,
//! alerts, metrics, activity, the closed set of preference keys, the widget
//! sizes and the last answer.
//!
//! Metrics and activity items are checked by the widget catalog (they are the
//! `Metrics` and `TeamActivity` item types), and so is the display part of an
//! alert (the `Alert` widget's data); what only the dashboard has — ids,
//! `createdAt`, `dismissed`, task progress — is checked here.

use std::collections::{BTreeMap, HashSet};

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::document::{
    Alert, Density, LastAnswer, MAX_ANSWER_TEXT_CHARS, MAX_WIDGET_COLUMNS, MAX_WIDGET_ROWS, Preferences, TaskProgress,
    Theme, WidgetSize,
};
use super::pointer::child;
use super::rules::{Errors, date_time_problem, id_problem, text_problem, typed};
use crate::widgets::{
    MAX_COUNT, MAX_ID_CHARS, MAX_ITEMS, MAX_NAME_CHARS, MAX_QUESTION_CHARS, MAX_TEXT_CHARS, WidgetError, catalog,
};

/// The keys of `preferences`.
const PREFERENCE_KEYS: [&str; 3] = ["theme", "density", "reducedMotion"];

pub(super) fn check_tasks(value: &Value, errors: &mut Errors) -> Option<Vec<TaskProgress>> {
    let Some(items) = value.as_array() else {
        errors.push("/activeTasks", "must be an array");
        return None;
    };
    let before = errors.count();
    let mut tasks = Vec::with_capacity(items.len());
    let mut ids = HashSet::new();
    for (index, item) in items.iter().enumerate() {
        let path = format!("/activeTasks/{index}");
        let Some(task) = typed::<TaskProgress>(&path, item, errors) else { continue };
        check_task(&path, &task, errors);
        if !ids.insert(task.task_id.clone()) {
            errors.push(format!("{path}/taskId"), "repeats the id of an earlier task");
        }
        tasks.push(task);
    }
    (tasks.len() == items.len() && errors.count() == before).then_some(tasks)
}

fn check_task(path: &str, task: &TaskProgress, errors: &mut Errors) {
    let texts = [
        ("taskId", Some(&task.task_id), MAX_ID_CHARS),
        ("taskName", Some(&task.task_name), MAX_NAME_CHARS),
        ("error", task.error.as_ref(), MAX_TEXT_CHARS),
    ];
    for (name, text, max) in texts {
        if let Some(problem) = text.and_then(|text| text_problem(text, 1, max as usize)) {
            errors.push(format!("{path}/{name}"), problem);
        }
    }
    for (name, time) in [("startedAt", &task.started_at), ("completedAt", &task.completed_at)] {
        if let Some(problem) = time.as_deref().and_then(date_time_problem) {
            errors.push(format!("{path}/{name}"), problem);
        }
    }
    for (name, count) in [("currentStep", task.current_step), ("totalSteps", task.total_steps)] {
        if count > MAX_COUNT {
            errors.push(format!("{path}/{name}"), format!("must be at most {MAX_COUNT}"));
        }
    }
    if task.total_steps > 0 && task.current_step > task.total_steps {
        errors.push(format!("{path}/currentStep"), "must not exceed totalSteps");
    }
    if let Some(percent) = task.percent
        && !(0.0..=100.0).contains(&percent)
    {
        errors.push(format!("{path}/percent"), "must be a number from 0 to 100");
    }
}

pub(super) fn check_alerts(value: &Value, errors: &mut Errors) -> Option<Vec<Alert>> {
    let Some(items) = value.as_array() else {
        errors.push("/alerts", "must be an array");
        return None;
    };
    let before = errors.count();
    let mut alerts = Vec::with_capacity(items.len());
    let mut ids = HashSet::new();
    for (index, item) in items.iter().enumerate() {
        let path = format!("/alerts/{index}");
        let Some(alert) = check_alert(&path, item, errors) else { continue };
        if !ids.insert(alert.id.clone()) {
            errors.push(format!("{path}/id"), "repeats the id of an earlier alert");
        }
        alerts.push(alert);
    }
    (alerts.len() == items.len() && errors.count() == before).then_some(alerts)
}

/// An alert is the catalog's `Alert` widget data plus `id`, `createdAt` and
/// `dismissed`: the catalog checks the shared part, so both stay alike.
fn check_alert(path: &str, item: &Value, errors: &mut Errors) -> Option<Alert> {
    let Some(fields) = item.as_object() else {
        errors.push(path, "must be an object");
        return None;
    };
    let before = errors.count();
    match fields.get("id") {
        Some(Value::String(id)) => {
            if let Some(problem) = id_problem(id) {
                errors.push(format!("{path}/id"), problem);
            }
        }
        Some(_) => errors.push(format!("{path}/id"), "must be a string"),
        None => errors.push(format!("{path}/id"), "is required"),
    }
    match fields.get("createdAt") {
        Some(Value::String(time)) => {
            if let Some(problem) = date_time_problem(time) {
                errors.push(format!("{path}/createdAt"), problem);
            }
        }
        Some(_) => errors.push(format!("{path}/createdAt"), "must be a string"),
        None => errors.push(format!("{path}/createdAt"), "is required"),
    }
    if fields.get("dismissed").is_some_and(|dismissed| !dismissed.is_boolean()) {
        errors.push(format!("{path}/dismissed"), "must be a boolean");
    }
    let mut display = fields.clone();
    for own in ["id", "createdAt", "dismissed"] {
        display.remove(own);
    }
    match catalog().validate_data("Alert", &Value::Object(display)) {
        Ok(()) => {}
        Err(WidgetError::Invalid { errors: found, .. }) => errors.extend_under(path, found),
        Err(error) => errors.push(path, error.to_string()),
    }
    if errors.count() != before {
        return None;
    }
    typed(path, item, errors)
}

/// A document list whose items are an item type of the widget catalog.
pub(super) struct CatalogList {
    /// The document member, such as `metrics`.
    member: &'static str,
    /// The widget type whose data holds a list of such items.
    widget_type: &'static str,
    /// The list's key inside that widget's data.
    data_key: &'static str,
}

impl CatalogList {
    pub(super) const METRICS: Self = Self { member: "metrics", widget_type: "Metrics", data_key: "metrics" };
    pub(super) const ACTIVITY: Self = Self { member: "activity", widget_type: "TeamActivity", data_key: "activities" };

    /// Maps `/metrics/7/label` inside a chunk starting at `offset` to the document's path.
    fn document_path(&self, data_path: &str, offset: usize) -> String {
        let fallback = format!("/{}", self.member);
        let Some(rest) = data_path.strip_prefix(&format!("/{}/", self.data_key)) else { return fallback };
        let (index, tail) = rest.split_once('/').map_or((rest, ""), |(index, tail)| (index, tail));
        let Ok(index) = index.parse::<usize>() else { return fallback };
        let separator = if tail.is_empty() { "" } else { "/" };
        format!("/{}/{}{separator}{tail}", self.member, offset + index)
    }
}

pub(super) fn check_catalog_items<T: DeserializeOwned>(
    value: &Value,
    list: CatalogList,
    errors: &mut Errors,
) -> Option<Vec<T>> {
    let Some(items) = value.as_array() else {
        errors.push(format!("/{}", list.member), "must be an array");
        return None;
    };
    let before = errors.count();
    // The catalog caps a widget's list at MAX_ITEMS; check longer lists in
    // chunks so each item is still checked (the bound is applied later).
    for (chunk_index, chunk) in items.chunks(MAX_ITEMS as usize).enumerate() {
        let data = json!({ list.data_key: chunk });
        match catalog().validate_data(list.widget_type, &data) {
            Ok(()) => {}
            Err(WidgetError::Invalid { errors: found, .. }) => {
                for error in found {
                    errors.push(list.document_path(&error.path, chunk_index * MAX_ITEMS as usize), error.message);
                }
            }
            Err(error) => errors.push(format!("/{}", list.member), error.to_string()),
        }
    }
    if errors.count() != before {
        return None;
    }
    let typed_items: Vec<T> = items
        .iter()
        .enumerate()
        .filter_map(|(index, item)| typed(&format!("/{}/{index}", list.member), item, errors))
        .collect();
    (typed_items.len() == items.len()).then_some(typed_items)
}

pub(super) fn check_preferences(value: &Value, errors: &mut Errors) -> Option<Preferences> {
    let Some(fields) = value.as_object() else {
        errors.push("/preferences", "must be an object");
        return None;
    };
    let unknown: Vec<&String> = fields.keys().filter(|key| !PREFERENCE_KEYS.contains(&key.as_str())).collect();
    for key in &unknown {
        errors.push(child("/preferences", key), format!("is not a preference (known: {})", PREFERENCE_KEYS.join(", ")));
    }
    let before = errors.count();
    // One key at a time, so a bad value is reported at its own path.
    let theme = optional::<Theme>("/preferences/theme", fields.get("theme"), errors);
    // `null` reads as "not set" for the optional keys, the way a form clears a choice.
    let density = optional::<Option<Density>>("/preferences/density", fields.get("density"), errors).flatten();
    let reduced_motion =
        optional::<Option<bool>>("/preferences/reducedMotion", fields.get("reducedMotion"), errors).flatten();
    if !unknown.is_empty() || errors.count() != before {
        return None;
    }
    Some(Preferences { theme: theme.unwrap_or_default(), density, reduced_motion })
}

/// Deserializes an optional member; a bad value is reported and read as absent.
fn optional<T: DeserializeOwned>(path: &str, value: Option<&Value>, errors: &mut Errors) -> Option<T> {
    typed(path, value?, errors)
}

/// The members of a widget size.
const SIZE_MEMBERS: [&str; 2] = ["columns", "rows"];
/// The members of the last answer.
const ANSWER_MEMBERS: [&str; 4] = ["question", "projectId", "text", "askedAt"];

/// `widgetSizes`: `{ <widget id>: {columns: 1..=3, rows: 1..=2} }`. Ids are
/// not checked against `widgets` here: sizes of widgets that are gone are
/// dropped by `normalize`, so removing a widget never fails for its size.
pub(super) fn check_widget_sizes(value: &Value, errors: &mut Errors) -> Option<BTreeMap<String, WidgetSize>> {
    let Some(entries) = value.as_object() else {
        errors.push("/widgetSizes", "must be an object of sizes by widget id");
        return None;
    };
    let before = errors.count();
    let mut sizes = BTreeMap::new();
    for (id, size) in entries {
        let path = child("/widgetSizes", id);
        if let Some(problem) = id_problem(id) {
            errors.push(&path, format!("key {problem}"));
            continue;
        }
        let Some(fields) = size.as_object() else {
            errors.push(&path, "must be an object {columns, rows}");
            continue;
        };
        unknown_members(&path, fields, &SIZE_MEMBERS, errors);
        let columns = small_count(&child(&path, "columns"), fields.get("columns"), MAX_WIDGET_COLUMNS, errors);
        let rows = small_count(&child(&path, "rows"), fields.get("rows"), MAX_WIDGET_ROWS, errors);
        if let (Some(columns), Some(rows)) = (columns, rows) {
            sizes.insert(id.clone(), WidgetSize { columns, rows });
        }
    }
    (errors.count() == before).then_some(sizes)
}

/// A required integer from 1 to `max`.
fn small_count(path: &str, value: Option<&Value>, max: u8, errors: &mut Errors) -> Option<u8> {
    let Some(value) = value else {
        errors.push(path, "is required");
        return None;
    };
    let count = value.as_u64().and_then(|count| u8::try_from(count).ok()).filter(|count| (1..=max).contains(count));
    if count.is_none() {
        errors.push(path, format!("must be an integer from 1 to {max}"));
    }
    count
}

/// Reports each member of `fields` not in `known`, at its own path.
fn unknown_members(path: &str, fields: &serde_json::Map<String, Value>, known: &[&str], errors: &mut Errors) {
    for name in fields.keys().filter(|name| !known.contains(&name.as_str())) {
        errors.push(child(path, name), format!("is not a member here (known: {})", known.join(", ")));
    }
}

/// `lastAnswer`: absent or `null`, or `{question, projectId?, text, askedAt}`.
pub(super) fn check_last_answer(value: &Value, errors: &mut Errors) -> Option<Option<LastAnswer>> {
    const PATH: &str = "/lastAnswer";
    if value.is_null() {
        return Some(None);
    }
    let Some(fields) = value.as_object() else {
        errors.push(PATH, "must be an object {question, projectId?, text, askedAt} or null");
        return None;
    };
    let before = errors.count();
    unknown_members(PATH, fields, &ANSWER_MEMBERS, errors);
    let text_member = |name: &str, min: usize, max: usize, errors: &mut Errors| -> Option<String> {
        let path = child(PATH, name);
        match fields.get(name) {
            Some(Value::String(text)) => match text_problem(text, min, max) {
                Some(problem) => {
                    errors.push(path, problem);
                    None
                }
                None => Some(text.clone()),
            },
            Some(_) => {
                errors.push(path, "must be a string");
                None
            }
            None => {
                errors.push(path, "is required");
                None
            }
        }
    };
    let question = text_member("question", 1, MAX_QUESTION_CHARS as usize, errors);
    let text = text_member("text", 0, MAX_ANSWER_TEXT_CHARS, errors);
    let asked_at = text_member("askedAt", 0, usize::MAX, errors);
    if let Some(problem) = asked_at.as_deref().and_then(date_time_problem) {
        errors.push(child(PATH, "askedAt"), problem);
    }
    let project_id = match fields.get("projectId") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) if uuid::Uuid::parse_str(id).is_ok() => Some(id.clone()),
        Some(_) => {
            errors.push(child(PATH, "projectId"), "must be a project id (a UUID)");
            None
        }
    };
    if errors.count() != before {
        return None;
    }
    Some(Some(LastAnswer { question: question?, project_id, text: text?, asked_at: asked_at? }))
}
