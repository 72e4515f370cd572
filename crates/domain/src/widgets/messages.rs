//! Turning `jsonschema` errors into [`FieldError`]s: a JSON Pointer and a short
//! lower-case sentence that does not echo the (possibly huge) offending value.

use jsonschema::JsonType;
use jsonschema::error::{TypeKind, ValidationError, ValidationErrorKind};
use serde_json::Value;

use super::data::HREF_PATTERN;
use crate::validation::FieldError;

/// Most errors reported for one widget; the rest are dropped, as a reader
/// fixes the first ones first and a 500-item list could yield thousands.
pub const MAX_REPORTED_ERRORS: usize = 50;

/// Collects up to [`MAX_REPORTED_ERRORS`] distinct field errors.
pub(crate) fn field_errors<'a>(errors: impl Iterator<Item = ValidationError<'a>>) -> Vec<FieldError> {
    let mut found: Vec<FieldError> = Vec::new();
    for error in errors {
        for field_error in to_field_errors(&error) {
            if found.len() == MAX_REPORTED_ERRORS {
                return found;
            }
            if !found.contains(&field_error) {
                found.push(field_error);
            }
        }
    }
    found
}

fn to_field_errors(error: &ValidationError<'_>) -> Vec<FieldError> {
    let path = error.instance_path().as_str();
    match error.kind() {
        // Point at the unknown property itself, so a form can highlight it.
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => unexpected
            .iter()
            .map(|name| FieldError::new(format!("{path}/{}", escape(name)), "is not an allowed property"))
            .collect(),
        kind => vec![FieldError::new(path, describe(kind))],
    }
}

/// Escapes one JSON Pointer segment (RFC 6901: `~` → `~0`, `/` → `~1`).
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn describe(kind: &ValidationErrorKind) -> String {
    match kind {
        ValidationErrorKind::Required { property } => {
            format!("must have the required property {}", json(property))
        }
        ValidationErrorKind::Type { kind } => match kind {
            TypeKind::Single(single) => format!("must be {}", type_name(*single)),
            TypeKind::Multiple(set) => {
                let names: Vec<_> = set.iter().map(type_name).collect();
                format!("must be {}", names.join(" or "))
            }
        },
        ValidationErrorKind::Enum { options } => match options.as_ref() {
            Value::Array(values) => {
                let values: Vec<_> = values.iter().map(json).collect();
                format!("must be one of {}", values.join(", "))
            }
            other => format!("must be one of {}", json(other)),
        },
        ValidationErrorKind::Constant { expected_value } => {
            format!("must be {}", json(expected_value))
        }
        ValidationErrorKind::Minimum { limit } => format!("must be at least {limit}"),
        ValidationErrorKind::Maximum { limit } => format!("must be at most {limit}"),
        ValidationErrorKind::ExclusiveMinimum { limit } => format!("must be greater than {limit}"),
        ValidationErrorKind::ExclusiveMaximum { limit } => format!("must be less than {limit}"),
        ValidationErrorKind::MinLength { limit: 1 } => "must not be empty".to_owned(),
        ValidationErrorKind::MinLength { limit } => format!("must be at least {limit} characters"),
        ValidationErrorKind::MaxLength { limit } => format!("must be at most {limit} characters"),
        ValidationErrorKind::MinItems { limit } => format!("must have at least {limit} items"),
        ValidationErrorKind::MaxItems { limit } => format!("must have at most {limit} items"),
        ValidationErrorKind::Format { format } if format == "date-time" => {
            "must be an rfc 3339 date-time such as 2025-01-31T09:00:00Z".to_owned()
        }
        ValidationErrorKind::Format { format } => format!("must be a valid {format}"),
        ValidationErrorKind::Pattern { pattern } if pattern == HREF_PATTERN => {
            "must be a relative link or an https:// url".to_owned()
        }
        ValidationErrorKind::Pattern { .. } => "does not match the required pattern".to_owned(),
        ValidationErrorKind::BacktrackLimitExceeded { .. } | ValidationErrorKind::RegexEngineFailure { .. } => {
            "could not be checked against its pattern".to_owned()
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            // Say what each alternative wanted: "must be a number, or must not be empty".
            let wanted: Vec<String> =
                context.iter().filter_map(|branch| branch.first()).map(|error| describe(error.kind())).collect();
            if wanted.is_empty() { "does not match any allowed form".to_owned() } else { wanted.join(", or ") }
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => "matches more than one allowed form".to_owned(),
        ValidationErrorKind::FalseSchema => "is not allowed".to_owned(),
        other => format!("breaks the `{}` rule", other.keyword()),
    }
}

fn type_name(json_type: JsonType) -> &'static str {
    match json_type {
        JsonType::Null => "null",
        JsonType::Boolean => "a boolean",
        JsonType::Integer => "an integer",
        JsonType::Number => "a number",
        JsonType::String => "a string",
        JsonType::Array => "an array",
        JsonType::Object => "an object",
    }
}

/// Renders a schema value (never the input) as compact JSON.
fn json(value: &Value) -> String {
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_pointer_segments() {
        assert_eq!(escape("a/b~c"), "a~1b~0c");
    }
}
