//! Field errors: what is wrong with an input, and where (a JSON Pointer).
//!
//! # Control characters
//!
//! Every stored text refuses the C0 control characters (U+0000–U+001F) except
//! tab, line feed and carriage return ([`has_forbidden_control`]). NUL is the
//! one PostgreSQL cannot hold at all (SQLite would store it, so the backends
//! would disagree); the others have no meaning in a name, title or
//! description, show as nothing or garbage, and can forge terminal escape
//! sequences in CLI output and logs. Tab and line breaks are ordinary text in
//! descriptions, so they stay allowed.

use serde::Serialize;

/// One failed rule at one place of an input document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON Pointer (RFC 6901) to the offending value, `""` for the whole document.
    pub path: String,
    /// What is wrong, in lower case without trailing punctuation.
    pub message: String,
}

impl FieldError {
    /// Builds an error at `path` (a JSON Pointer such as `/tasks/0/title`).
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { path: path.into(), message: message.into() }
    }
}

/// A non-empty list of field errors, returned when an input breaks any rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("validation failed: {}", summary(.0))]
pub struct ValidationErrors(pub Vec<FieldError>);

/// Lists errors on one line as `path message; path message` (`/` for the root).
pub fn summary(errors: &[FieldError]) -> String {
    errors.iter().map(|error| format!("{} {}", display_path(&error.path), error.message)).collect::<Vec<_>>().join("; ")
}

fn display_path(path: &str) -> &str {
    if path.is_empty() { "/" } else { path }
}

/// What a field with a forbidden control character is told.
pub const CONTROL_CHARACTER_MESSAGE: &str = "must not contain control characters (only tab and line breaks)";

/// Whether `value` holds a control character no stored text may hold: a C0
/// control (U+0000–U+001F) other than tab, line feed and carriage return.
pub fn has_forbidden_control(value: &str) -> bool {
    value.chars().any(|character| {
        character.is_ascii_control() && character != '\u{7f}' && !matches!(character, '\t' | '\n' | '\r')
    })
}

/// Collects field errors while checking an input; turns into `Err` if any were found.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    /// Starts with no errors.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an error at `path`.
    pub fn error(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(path, message));
    }

    /// Checks that a text, once trimmed, is between `min` and `max` characters
    /// long and holds no forbidden control character.
    pub fn text(&mut self, path: &str, value: &str, min: usize, max: usize) {
        let length = value.trim().chars().count();
        if has_forbidden_control(value) {
            self.error(path, CONTROL_CHARACTER_MESSAGE);
        } else if length < min {
            if min == 1 {
                self.error(path, "must not be empty");
            } else {
                self.error(path, format!("must be at least {min} characters"));
            }
        } else if value.chars().count() > max {
            self.error(path, format!("must be at most {max} characters"));
        }
    }

    /// Checks that a number is finite and within `min..=max`.
    pub fn number(&mut self, path: &str, value: f64, min: f64, max: f64) {
        if !value.is_finite() || value < min || value > max {
            self.error(path, format!("must be a number from {min} to {max}"));
        }
    }

    /// Returns `Ok` when no rule failed, otherwise every error found.
    pub fn finish(self) -> Result<(), ValidationErrors> {
        if self.errors.is_empty() { Ok(()) } else { Err(ValidationErrors(self.errors)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_failed_rule() {
        let mut validator = Validator::new();
        validator.text("/name", "   ", 1, 10);
        validator.text("/description", "abcdefghijk", 0, 10);
        validator.number("/estimateHours", f64::NAN, 0.0, 1000.0);
        validator.number("/weeklyCapacityHours", 40.0, 0.0, 168.0);
        let errors = validator.finish().unwrap_err().0;
        let paths: Vec<_> = errors.iter().map(|error| error.path.as_str()).collect();
        assert_eq!(paths, ["/name", "/description", "/estimateHours"]);
        assert_eq!(errors[0].message, "must not be empty");
    }

    #[test]
    fn control_characters_are_refused_but_tab_and_line_breaks() {
        for bad in ["a\u{0}b", "\u{1b}[31mred", "bell\u{7}"] {
            assert!(has_forbidden_control(bad), "{bad:?}");
            let mut validator = Validator::new();
            validator.text("/name", bad, 1, 100);
            assert_eq!(validator.finish().unwrap_err().0, [FieldError::new("/name", CONTROL_CHARACTER_MESSAGE)]);
        }
        for good in ["line one\nline two\r\n\tindented", "Ünïcødé ✓", "del\u{7f}"] {
            assert!(!has_forbidden_control(good), "{good:?}");
        }
    }

    #[test]
    fn no_errors_is_ok() {
        let mut validator = Validator::new();
        validator.text("/name", "Apollo", 1, 10);
        assert!(validator.finish().is_ok());
    }
}
