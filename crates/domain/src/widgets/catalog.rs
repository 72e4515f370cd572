//! The validator: the committed schema compiled once, checking widgets and
//! their `data` and turning failures into field errors or an `Error` widget.

use std::sync::LazyLock;

use jsonschema::{PatternOptions, ValidatorMap};
use serde_json::Value;

use super::data::{ErrorData, MAX_NAME_CHARS, MAX_TEXT_CHARS};
use super::messages::field_errors;
use super::schema_file::SCHEMA_JSON;
use super::types::{Widget, WidgetData, WidgetType};
use crate::validation::{FieldError, summary};

/// Why a widget or its data was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WidgetError {
    /// The `type` is not one of the catalog's widget types.
    #[error("unknown widget type {given:?}; known types: {}", .known.join(", "))]
    UnknownType {
        /// The type that was asked for (cut to 200 characters).
        given: String,
        /// Every known type, in catalog order.
        known: Vec<&'static str>,
    },
    /// The widget breaks the schema; each error points at the failing value.
    #[error("invalid {}: {}", type_label(*.widget_type), summary(.errors))]
    Invalid {
        /// The widget's type, when the input named a known one.
        widget_type: Option<WidgetType>,
        /// What failed where (JSON Pointers relative to what was validated).
        errors: Vec<FieldError>,
    },
}

impl WidgetError {
    fn unknown_type(given: &str) -> Self {
        Self::UnknownType {
            given: truncate(given, MAX_NAME_CHARS as usize),
            known: WidgetType::ALL.iter().map(|t| t.as_str()).collect(),
        }
    }
}

fn type_label(widget_type: Option<WidgetType>) -> String {
    widget_type.map_or_else(|| "widget".to_owned(), |t| format!("{t} widget"))
}

/// The embedded schema failed to load; a build bug, never caused by input.
#[derive(Debug, thiserror::Error)]
#[error("the embedded widget schema is broken: {0}")]
pub struct CatalogError(String);

/// The widget schema, compiled once; validates widgets and widget data.
pub struct WidgetCatalog {
    /// One compiled validator per subschema, keyed by pointer (`#`, `#/$defs/…`).
    validators: ValidatorMap,
}

impl std::fmt::Debug for WidgetCatalog {
    // The compiled validators are large and say nothing useful in a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WidgetCatalog").field("compiled_subschemas", &self.validators.len()).finish()
    }
}

/// The process-wide catalog, compiled on first use.
///
/// Panics on first use if the embedded schema does not compile: that file is
/// part of the build and checked by this crate's tests, so a failure here is a
/// build bug, not something input can cause.
#[allow(clippy::expect_used, reason = "the schema is a build input checked by this crate's tests, never user input")]
pub fn catalog() -> &'static WidgetCatalog {
    static CATALOG: LazyLock<WidgetCatalog> =
        LazyLock::new(|| WidgetCatalog::new().expect("the embedded widget schema compiles (see the crate's tests)"));
    &CATALOG
}

impl WidgetCatalog {
    /// Compiles the committed schema, with format checks on and no remote references.
    pub fn new() -> Result<Self, CatalogError> {
        let schema: Value = serde_json::from_str(SCHEMA_JSON).map_err(|e| CatalogError(e.to_string()))?;
        let validators = jsonschema::draft202012::options()
            .should_validate_formats(true)
            // An unknown format would be silently skipped; make it a build error.
            .should_ignore_unknown_formats(false)
            // The schema's patterns need no look-arounds: take the linear-time engine.
            .with_pattern_options(PatternOptions::regex())
            .build_map(&schema)
            .map_err(|e| CatalogError(e.to_string()))?;
        for pointer in std::iter::once("#".to_owned()).chain(WidgetType::ALL.iter().map(|t| data_pointer(*t))) {
            if !validators.contains_key(&pointer) {
                return Err(CatalogError(format!("no schema at {pointer}")));
            }
        }
        Ok(Self { validators })
    }

    /// The schema file's text, as served at `GET /api/schema/widgets.json`.
    pub fn schema_json(&self) -> &'static str {
        SCHEMA_JSON
    }

    /// Checks a widget's `data` against its type's schema; error paths are
    /// relative to `data` (`/progress`, `/tasks/0/status`).
    pub fn validate_data(&self, widget_type: &str, data: &Value) -> Result<(), WidgetError> {
        let known = WidgetType::parse(widget_type).ok_or_else(|| WidgetError::unknown_type(widget_type))?;
        self.check(&data_pointer(known), Some(known), data)
    }

    /// Checks a whole envelope and returns it typed; error paths are relative
    /// to the envelope (`/data/progress`, `/title`).
    pub fn validate_widget(&self, widget: &Value) -> Result<Widget, WidgetError> {
        let widget_type = match widget.get("type") {
            Some(Value::String(name)) => Some(WidgetType::parse(name).ok_or_else(|| WidgetError::unknown_type(name))?),
            // A missing or non-string type is reported by the schema, at its path.
            _ => None,
        };
        self.check("#", widget_type, widget)?;
        // The schema accepts `5.0` where the Rust type has an integer.
        let mut normalized = widget.clone();
        integral_floats_to_integers(&mut normalized);
        serde_json::from_value(normalized).map_err(|error| WidgetError::Invalid {
            widget_type,
            // Only reachable if the schema and the Rust types drift apart.
            errors: vec![FieldError::new("", format!("does not fit the widget types: {error}"))],
        })
    }

    fn check(&self, pointer: &str, widget_type: Option<WidgetType>, instance: &Value) -> Result<(), WidgetError> {
        let Some(validator) = self.validators.get(pointer) else {
            // `new` checked every pointer; fail closed rather than panic.
            return Err(WidgetError::Invalid {
                widget_type,
                errors: vec![FieldError::new("", format!("no schema at {pointer}"))],
            });
        };
        // The common case first: a yes/no check stops at nothing and allocates no errors.
        if validator.is_valid(instance) {
            return Ok(());
        }
        let errors = field_errors(validator.iter_errors(instance));
        if errors.is_empty() { Ok(()) } else { Err(WidgetError::Invalid { widget_type, errors }) }
    }
}

fn data_pointer(widget_type: WidgetType) -> String {
    format!("#/$defs/{}", widget_type.data_definition())
}

/// Rewrites numbers such as `5.0` as `5`, so they deserialize into integers.
/// Only called on schema-checked values, whose depth the schema bounds.
fn integral_floats_to_integers(value: &mut Value) {
    match value {
        Value::Number(number) if number.is_f64() => {
            if let Some(float) = number.as_f64() {
                // Past 2^53 floats are not exact integers anyway; leave them.
                if float.fract() == 0.0 && float.abs() < 9_007_199_254_740_992.0 {
                    *value = Value::from(float as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_to_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_floats_to_integers),
        _ => {}
    }
}

/// Most failing places an `Error` widget's message lists before "and N more".
const MAX_LISTED_ERRORS: usize = 5;

impl Widget {
    /// Builds the `Error` widget shown in place of a rejected one: its message
    /// names the failing paths, and it is not retryable (the same input would
    /// fail again).
    pub fn error_for(widget_type: Option<&str>, error: &WidgetError) -> Widget {
        let (named_type, message) = match error {
            WidgetError::UnknownType { given, known } => {
                (Some(given.clone()), format!("Unknown widget type {given:?}. Known types: {}.", known.join(", ")))
            }
            WidgetError::Invalid { widget_type, errors } => {
                let label = widget_type.map_or("widget", WidgetType::as_str);
                let listed = summary(&errors[..errors.len().min(MAX_LISTED_ERRORS)]);
                let mut message = format!("The {label} data is invalid: {listed}");
                if errors.len() > MAX_LISTED_ERRORS {
                    message.push_str(&format!(" (and {} more)", errors.len() - MAX_LISTED_ERRORS));
                }
                (widget_type.map(|t| t.as_str().to_owned()), message)
            }
        };
        // A blank caller-given type falls back to the one the error names.
        let widget_type = widget_type
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
            .or(named_type)
            .map(|name| truncate(name.trim(), MAX_NAME_CHARS as usize))
            .filter(|name| !name.is_empty());
        Widget::new(WidgetData::Error(ErrorData {
            message: truncate(&message, MAX_TEXT_CHARS as usize),
            widget_type,
            retryable: false,
        }))
    }
}

/// Cuts `text` to at most `max` characters, ending with `…` when cut.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}
