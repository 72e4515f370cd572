//! Every rule a dashboard document must satisfy, checked on a JSON value so
//! each failure can name its place: `/widgets/w1/data/progress`,
//! `/alerts/3/createdAt`, `/layout/2`.
//!
//! This file holds the walk over the members, the widgets, the layout and
//! the shared helpers; the lists and preferences are in `items.rs`. Widgets,
//! metrics, activity items and the display part of alerts are checked by the
//! widget catalog (the one JSON Schema of DESIGN §4), so the dashboard and the
//! widgets can never disagree on what a valid metric is.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::document::{CURRENT_SCHEMA_VERSION, DashboardDocument};
use super::items::{
    CatalogList, check_alerts, check_catalog_items, check_last_answer, check_preferences, check_tasks,
    check_widget_sizes,
};
use super::members::{MEMBERS, MemberSet};
use super::pointer::{child, escape};
use crate::validation::{FieldError, ValidationErrors};
use crate::widgets::{MAX_DATE_TIME_CHARS, MAX_ID_CHARS, MAX_REPORTED_ERRORS, Widget, WidgetError, catalog};

/// The one member a document must have: without it, its format is unknown.
/// Every other member may be left out and reads as empty (`null` for
/// `activeProject`, defaults for `preferences`), so a document from an older
/// format or a minimal `PUT` loads without inventing stand-in data.
const REQUIRED_MEMBERS: [&str; 1] = ["schemaVersion"];
/// Longest serde message kept: serde may quote the offending input, which can be huge.
const MAX_MESSAGE_CHARS: usize = 300;

/// Which members [`DashboardDocument::check_members`] checks.
#[derive(Clone, Copy)]
enum Recheck<'a> {
    /// Every member: a whole document sent or read.
    All,
    /// Only the members a patch wrote; the others are taken from `base`, the
    /// document the patch applied to, which passed every rule when it was stored.
    /// With `widgets` given, only those widgets are checked, the others kept.
    Written { base: &'a DashboardDocument, written: MemberSet, widgets: Option<&'a BTreeSet<String>> },
}

impl<'a> Recheck<'a> {
    /// The document to take `name` from unchecked, when it was not written.
    fn kept(self, name: &str) -> Option<&'a DashboardDocument> {
        match self {
            Self::Written { base, written, .. } if !written.contains(name) => Some(base),
            _ => None,
        }
    }

    /// The document the widgets not written are kept from, and the ids of those written.
    fn some_widgets(self) -> Option<(&'a DashboardDocument, &'a BTreeSet<String>)> {
        match self {
            Self::Written { base, widgets: Some(written), .. } => Some((base, written)),
            _ => None,
        }
    }
}

impl DashboardDocument {
    /// Checks every rule on a JSON document and returns it typed, with
    /// `activeAlerts` recomputed (any sent value is ignored once it is shown to
    /// be a list of strings). Bounds are not applied here: call
    /// [`DashboardDocument::normalize`] before storing.
    pub fn from_value(value: &Value) -> Result<Self, ValidationErrors> {
        let Some(members) = value.as_object() else {
            return Err(ValidationErrors(vec![FieldError::new("", "must be an object")]));
        };
        Self::check_members(members, Recheck::All)
    }

    /// Like [`DashboardDocument::from_value`] for a document a patch changed:
    /// `members` holds the patched members (at least those in `written`, which
    /// must include `layout` whenever it includes `widgets`), and every member
    /// not in `written` is taken from `self` as it is. With `widgets` given,
    /// `members` holds only the widgets named, and of those only the ids in
    /// `widgets` (those written) are checked; the other widgets are taken from `self`.
    pub(super) fn with_rechecked(
        &self,
        members: &Map<String, Value>,
        written: MemberSet,
        widgets: Option<&BTreeSet<String>>,
    ) -> Result<Self, ValidationErrors> {
        Self::check_members(members, Recheck::Written { base: self, written, widgets })
    }

    fn check_members(members: &Map<String, Value>, recheck: Recheck<'_>) -> Result<Self, ValidationErrors> {
        let mut errors = Errors::default();
        for name in members.keys().filter(|name| !MEMBERS.contains(&name.as_str())) {
            errors.push(child("", name), "is not a dashboard member");
        }
        if let Recheck::All = recheck {
            for name in REQUIRED_MEMBERS.iter().filter(|name| !members.contains_key(**name)) {
                errors.push(child("", name), "is required");
            }
            if let Some(version) = members.get("schemaVersion")
                && version.as_u64() != Some(u64::from(CURRENT_SCHEMA_VERSION))
            {
                errors.push("/schemaVersion", format!("must be {CURRENT_SCHEMA_VERSION}"));
            }
        }
        // A left-out `widgets` is empty, so the layout must be too; a malformed one
        // is reported on its own and the layout's ids are not checked against it.
        let no_widgets = Map::new();
        let sent_widgets = members.get("widgets").map_or(Some(&no_widgets), Value::as_object);
        let widget_exists = |id: &str| match (recheck.kept("widgets"), recheck.some_widgets()) {
            (Some(base), _) => Some(base.widgets.contains_key(id)),
            // Only the named widgets were copied: the others are where they were, unless removed.
            (None, Some((base, written))) => sent_widgets
                .map(|widgets| widgets.contains_key(id) || (!written.contains(id) && base.widgets.contains_key(id))),
            (None, None) => sent_widgets.map(|widgets| widgets.contains_key(id)),
        };
        let widgets = match (recheck.kept("widgets"), recheck.some_widgets()) {
            (Some(base), _) => Some(base.widgets.clone()),
            (None, Some((base, written))) => check_member(members, "widgets", &mut errors, |value, errors| {
                check_written_widgets(value, &base.widgets, written, errors)
            }),
            (None, None) => check_member(members, "widgets", &mut errors, check_widgets),
        };
        let layout = member(
            recheck,
            members,
            "layout",
            &mut errors,
            |kept| &kept.layout,
            |value, errors| check_layout(value, &widget_exists, errors),
        );
        let active_project =
            member(recheck, members, "activeProject", &mut errors, |kept| &kept.active_project, check_active_project);
        let active_tasks = member(recheck, members, "activeTasks", &mut errors, |kept| &kept.active_tasks, check_tasks);
        let alerts = member(recheck, members, "alerts", &mut errors, |kept| &kept.alerts, check_alerts);
        if recheck.kept("activeAlerts").is_none()
            && let Some(active_alerts) = members.get("activeAlerts")
        {
            check_string_list("/activeAlerts", active_alerts, &mut errors);
        }
        let metrics = member(
            recheck,
            members,
            "metrics",
            &mut errors,
            |kept| &kept.metrics,
            |value, errors| check_catalog_items(value, CatalogList::METRICS, errors),
        );
        let activity = member(
            recheck,
            members,
            "activity",
            &mut errors,
            |kept| &kept.activity,
            |value, errors| check_catalog_items(value, CatalogList::ACTIVITY, errors),
        );
        let preferences =
            member(recheck, members, "preferences", &mut errors, |kept| &kept.preferences, check_preferences);
        // Sizes of widgets not in `widgets` are not errors: `normalize` drops them.
        let widget_sizes =
            member(recheck, members, "widgetSizes", &mut errors, |kept| &kept.widget_sizes, check_widget_sizes);
        let last_answer =
            member(recheck, members, "lastAnswer", &mut errors, |kept| &kept.last_answer, check_last_answer);

        let (
            Some(widgets),
            Some(layout),
            Some(active_project),
            Some(active_tasks),
            Some(alerts),
            Some(metrics),
            Some(activity),
            Some(preferences),
            Some(widget_sizes),
            Some(last_answer),
        ) = (
            widgets,
            layout,
            active_project,
            active_tasks,
            alerts,
            metrics,
            activity,
            preferences,
            widget_sizes,
            last_answer,
        )
        else {
            return Err(errors.into_result_error());
        };
        if errors.count() > 0 {
            return Err(errors.into_result_error());
        }
        let mut document = Self {
            schema_version: CURRENT_SCHEMA_VERSION,
            widgets,
            layout,
            active_project,
            active_tasks,
            alerts,
            active_alerts: Vec::new(),
            metrics,
            activity,
            preferences,
            widget_sizes,
            last_answer,
        };
        document.active_alerts = document.derive_active_alerts();
        Ok(document)
    }
}

/// Collects field errors, keeping the first [`MAX_REPORTED_ERRORS`]: a reader
/// fixes the first ones first, and a long list could yield thousands.
#[derive(Default)]
pub(super) struct Errors {
    kept: Vec<FieldError>,
    /// Every error found, kept or not: checkers compare it before and after to learn whether they failed.
    count: usize,
}

impl Errors {
    pub(super) fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.count += 1;
        if self.kept.len() < MAX_REPORTED_ERRORS {
            self.kept.push(FieldError::new(path, message));
        }
    }

    /// Adds errors whose paths are relative to `prefix`.
    pub(super) fn extend_under(&mut self, prefix: &str, errors: Vec<FieldError>) {
        for error in errors {
            self.push(format!("{prefix}{}", error.path), error.message);
        }
    }

    pub(super) fn count(&self) -> usize {
        self.count
    }

    fn into_result_error(self) -> ValidationErrors {
        // A checker returned nothing without saying why: fail closed, never accept.
        if self.kept.is_empty() {
            return ValidationErrors(vec![FieldError::new("", "is not a valid dashboard document")]);
        }
        ValidationErrors(self.kept)
    }
}

/// A member taken as it is from the document `recheck` keeps it in, else checked with `check`.
fn member<T: Clone + Default>(
    recheck: Recheck<'_>,
    members: &Map<String, Value>,
    name: &str,
    errors: &mut Errors,
    kept: impl FnOnce(&DashboardDocument) -> &T,
    check: impl FnOnce(&Value, &mut Errors) -> Option<T>,
) -> Option<T> {
    match recheck.kept(name) {
        Some(base) => Some(kept(base).clone()),
        None => check_member(members, name, errors, check),
    }
}

/// Checks a member with `check`; a member left out reads as its default.
fn check_member<T: Default>(
    members: &Map<String, Value>,
    name: &str,
    errors: &mut Errors,
    check: impl FnOnce(&Value, &mut Errors) -> Option<T>,
) -> Option<T> {
    match members.get(name) {
        Some(value) => check(value, errors),
        None => Some(T::default()),
    }
}

/// The message for an id that is empty or too long, if it is.
pub(super) fn id_problem(id: &str) -> Option<String> {
    text_problem(id, 1, MAX_ID_CHARS as usize)
}

/// Length rules, with the catalog's wording so both read alike.
pub(super) fn text_problem(text: &str, min: usize, max: usize) -> Option<String> {
    let length = text.chars().count();
    if length < min {
        return Some(if min == 1 {
            "must not be empty".to_owned()
        } else {
            format!("must be at least {min} characters")
        });
    }
    (length > max).then(|| format!("must be at most {max} characters"))
}

pub(super) fn date_time_problem(text: &str) -> Option<String> {
    let valid =
        text.chars().count() <= MAX_DATE_TIME_CHARS as usize && chrono::DateTime::parse_from_rfc3339(text).is_ok();
    (!valid).then(|| "must be an rfc 3339 date-time such as 2025-01-31T09:00:00Z".to_owned())
}

/// Deserializes one item, reporting serde's complaint (cut short) at `path`.
pub(super) fn typed<T: DeserializeOwned>(path: &str, value: &Value, errors: &mut Errors) -> Option<T> {
    match serde_json::from_value(value.clone()) {
        Ok(item) => Some(item),
        Err(error) => {
            let message: String = error.to_string().chars().take(MAX_MESSAGE_CHARS).collect();
            errors.push(path, message);
            None
        }
    }
}

fn check_widgets(value: &Value, errors: &mut Errors) -> Option<BTreeMap<String, Widget>> {
    let Some(entries) = value.as_object() else {
        errors.push("/widgets", "must be an object of widgets by id");
        return None;
    };
    let mut widgets = BTreeMap::new();
    let mut all_valid = true;
    for (key, envelope) in entries {
        match check_widget(key, envelope, errors) {
            Some(widget) => _ = widgets.insert(key.clone(), widget),
            None => all_valid = false,
        }
    }
    all_valid.then_some(widgets)
}

/// The widgets of `kept` with those in `written` taken from `value` (which
/// holds the written ones that still exist) and checked; a written id missing
/// from `value` was removed.
fn check_written_widgets(
    value: &Value,
    kept: &BTreeMap<String, Widget>,
    written: &BTreeSet<String>,
    errors: &mut Errors,
) -> Option<BTreeMap<String, Widget>> {
    let Some(entries) = value.as_object() else {
        errors.push("/widgets", "must be an object of widgets by id");
        return None;
    };
    let mut widgets = kept.clone();
    let mut all_valid = true;
    for key in written.iter().filter(|key| !entries.contains_key(*key)) {
        widgets.remove(key);
    }
    // In the copy's order, as `check_widgets` reports them.
    for (key, envelope) in entries.iter().filter(|(key, _)| written.contains(*key)) {
        match check_widget(key, envelope, errors) {
            Some(widget) => _ = widgets.insert(key.clone(), widget),
            None => all_valid = false,
        }
    }
    all_valid.then_some(widgets)
}

/// One widget of `widgets`, under its key.
fn check_widget(key: &str, envelope: &Value, errors: &mut Errors) -> Option<Widget> {
    let path = child("/widgets", key);
    if let Some(problem) = id_problem(key) {
        errors.push(&path, format!("key {problem}"));
        return None;
    }
    let mut valid = true;
    if let Some(Value::String(id)) = envelope.get("id")
        && id != key
    {
        errors.push(format!("{path}/id"), "must equal the widget's key");
        valid = false;
    }
    match catalog().validate_widget(envelope) {
        Ok(widget) => valid.then_some(widget),
        Err(error @ WidgetError::UnknownType { .. }) => {
            errors.push(format!("{path}/type"), error.to_string());
            None
        }
        Err(WidgetError::Invalid { errors: found, .. }) => {
            errors.extend_under(&path, found);
            None
        }
    }
}

fn check_string_list(path: &str, value: &Value, errors: &mut Errors) -> Option<Vec<String>> {
    let Some(items) = value.as_array() else {
        errors.push(path, "must be an array of strings");
        return None;
    };
    let mut strings = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        match item.as_str() {
            Some(text) => strings.push(text.to_owned()),
            None => errors.push(format!("{path}/{index}"), "must be a string"),
        }
    }
    (strings.len() == items.len()).then_some(strings)
}

/// `widget_exists` says whether a widget has the id, or `None` when the widgets cannot be read.
fn check_layout(
    value: &Value,
    widget_exists: &dyn Fn(&str) -> Option<bool>,
    errors: &mut Errors,
) -> Option<Vec<String>> {
    let layout = check_string_list("/layout", value, errors)?;
    let mut seen = HashSet::new();
    let mut all_valid = true;
    for (index, id) in layout.iter().enumerate() {
        // Without a readable `widgets` object the ids cannot be checked; that error is reported there.
        if widget_exists(id) == Some(false) {
            errors.push(format!("/layout/{index}"), format!("names no widget: /widgets/{} does not exist", escape(id)));
            all_valid = false;
        }
        if !seen.insert(id.as_str()) {
            errors.push(format!("/layout/{index}"), "repeats a widget id already in the layout");
            all_valid = false;
        }
    }
    all_valid.then_some(layout)
}

fn check_active_project(value: &Value, errors: &mut Errors) -> Option<Option<String>> {
    match value {
        Value::Null => Some(None),
        Value::String(id) => match id_problem(id) {
            Some(problem) => {
                errors.push("/activeProject", problem);
                None
            }
            None => Some(Some(id.clone())),
        },
        _ => {
            errors.push("/activeProject", "must be a project id or null");
            None
        }
    }
}
