//! The text rules of record inputs spelled as JSON Schema, for the API description.
//!
//! [`Validator::text`](crate::validation::Validator::text) counts the minimum on
//! the trimmed text and the maximum on the text as sent, and trims with Rust's
//! notion of whitespace (Unicode `White_Space`). JSON Schema has no "trimmed
//! length", but "at least one character that is not whitespace" is a pattern,
//! so each input field's schema below admits exactly what its rule does. The
//! unit tests hold every pattern and its rule to the same answers.

use utoipa::openapi::Object;
use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};

use super::{MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS};

/// One character that `char::is_whitespace` rejects (Unicode `White_Space`),
/// spelled out because `\s` means different sets in ECMA-262, Python and Rust.
pub const NOT_WHITESPACE: &str = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

/// One character the text rules admit: anything but the C0 control characters
/// other than tab, line feed and carriage return
/// ([`has_forbidden_control`](crate::validation::has_forbidden_control)).
pub const NOT_CONTROL: &str = r"[^\u0000-\u0008\u000b\u000c\u000e-\u001f]";

/// One character that is neither whitespace nor a C0 control character.
const NOT_WHITESPACE_OR_CONTROL: &str =
    r"[^\u0000-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

/// Longest e-mail address, in characters.
pub const MAX_EMAIL_CHARS: usize = 320;
/// Fewest characters of an e-mail address once trimmed.
pub const MIN_EMAIL_CHARS: usize = 3;

/// A text that is not empty once trimmed: it holds a character that is not whitespace.
pub fn non_blank_pattern() -> String {
    NOT_WHITESPACE.to_owned()
}

/// A stored text: no control character but tab and line breaks, anywhere.
pub fn text_pattern() -> String {
    format!("^{NOT_CONTROL}*$")
}

/// A stored name or title: a text holding a character that is not whitespace.
pub fn name_pattern() -> String {
    format!("^{NOT_CONTROL}*{NOT_WHITESPACE_OR_CONTROL}{NOT_CONTROL}*$")
}

/// An e-mail address as the member rules take it: a text that holds an `@`, and
/// is at least three characters once trimmed (the `@` is one of them: it is
/// first, last or between).
pub fn email_pattern() -> String {
    let any = NOT_CONTROL;
    let nw = NOT_WHITESPACE_OR_CONTROL;
    format!("^{any}*(?:{nw}{any}*@{any}*{nw}|@{any}+{nw}|{nw}{any}+@){any}*$")
}

/// The email of an account as [`normalize_email`](super::normalize_email) takes
/// it: optional surrounding whitespace (trimmed), then one `@` with at least
/// one character on each side, none of them whitespace or a control character
/// (C0, DEL, C1).
pub fn account_email_pattern() -> String {
    let space = r"[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
    let part = r"[^\u0000-\u001f\u007f-\u009f \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000@]";
    format!("^{space}*{part}+@{part}+{space}*$")
}

/// The email of an account (an invitation's, a sign-in's): up to 254 characters.
pub fn account_email() -> Object {
    let description = "An email address: one `@` with something on each side, no spaces or control characters, \
                       at most 254 characters; trimmed and lowercased";
    text(description, super::MAX_ACCOUNT_EMAIL_CHARS, Some(account_email_pattern()), false)
}

fn text(description: &str, max_chars: usize, pattern: Option<String>, nullable: bool) -> Object {
    let schema_type = if nullable { SchemaType::from_iter([Type::String, Type::Null]) } else { Type::String.into() };
    ObjectBuilder::new()
        .schema_type(schema_type)
        .description(Some(description))
        .max_length(Some(max_chars))
        .pattern(pattern)
        .build()
}

/// A name or title: 1–200 characters, not only whitespace (stored trimmed).
pub fn name() -> Object {
    text(
        "1–200 characters, not only whitespace, no control characters but tab and line breaks; stored trimmed",
        MAX_NAME_CHARS,
        Some(name_pattern()),
        false,
    )
}

/// A new name or title of a change; `null` leaves it unchanged.
pub fn name_change() -> Object {
    text(
        "New name: 1–200 characters, not only whitespace, no control characters but tab and line breaks; `null` leaves it",
        MAX_NAME_CHARS,
        Some(name_pattern()),
        true,
    )
}

/// Free text of up to 10 000 characters.
pub fn description() -> Object {
    let description = "Free text, up to 10 000 characters, no control characters but tab and line breaks";
    text(description, MAX_DESCRIPTION_CHARS, Some(text_pattern()), false)
}

/// New free text of a change; `null` leaves it unchanged.
pub fn description_change() -> Object {
    let description =
        "New free text, up to 10 000 characters, no control characters but tab and line breaks; `null` leaves it";
    text(description, MAX_DESCRIPTION_CHARS, Some(text_pattern()), true)
}

/// An e-mail address or `null`.
pub fn email() -> Object {
    let description = "Contact address: holds an `@`, 3–320 characters (at least 3 once trimmed); `null` for none";
    text(description, MAX_EMAIL_CHARS, Some(email_pattern()), true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::Validator;

    fn admits(pattern: &str, text: &str) -> bool {
        let schema = serde_json::json!({"type": "string", "pattern": pattern});
        jsonschema::validator_for(&schema).expect("a valid pattern").is_valid(&serde_json::json!(text))
    }

    const SAMPLES: [&str; 23] = [
        "",
        " ",
        "\t\n",
        "\u{3000}\u{85}\u{a0}",
        "\u{feff}",
        "a",
        " a ",
        "\u{2003}x",
        "@",
        "a@",
        "@b",
        " a@ ",
        "a@b",
        "a @",
        "a\u{0}b",
        "\u{0}",
        "\u{1}@x",
        "a@b\u{1b}[31m",
        "\u{1f}",
        "\u{b}a",
        "a\u{c}",
        "\u{7f}",
        "line one\r\nline\ttwo",
    ];

    #[test]
    fn the_name_pattern_is_the_rule_of_names() {
        for text in SAMPLES {
            let mut validator = Validator::new();
            validator.text("/name", text, 1, MAX_NAME_CHARS);
            assert_eq!(admits(&name_pattern(), text), validator.finish().is_ok(), "{text:?}");
        }
    }

    #[test]
    fn the_text_pattern_is_the_rule_of_free_text() {
        for text in SAMPLES {
            let mut validator = Validator::new();
            validator.text("/description", text, 0, MAX_DESCRIPTION_CHARS);
            assert_eq!(admits(&text_pattern(), text), validator.finish().is_ok(), "{text:?}");
        }
    }

    #[test]
    fn non_blank_is_not_only_whitespace() {
        for text in SAMPLES {
            assert_eq!(admits(&non_blank_pattern(), text), !text.trim().is_empty(), "{text:?}");
        }
    }

    #[test]
    fn the_account_email_pattern_is_the_rule_of_accounts() {
        let more =
            ["ada@example.org", " Ada@Example.org\t", "a@b@c", "a\u{85}@b", "a@b\u{9f}", "\u{3000}a@b", "ä@ö.de"];
        for text in SAMPLES.iter().copied().chain(more) {
            let rule = super::super::normalize_email(text).is_ok();
            assert_eq!(admits(&account_email_pattern(), text), rule, "{text:?}");
        }
    }

    #[test]
    fn the_email_pattern_is_the_rule_of_members() {
        for text in SAMPLES {
            let mut validator = Validator::new();
            validator.text("/email", text, MIN_EMAIL_CHARS, MAX_EMAIL_CHARS);
            let rule = validator.finish().is_ok() && text.contains('@');
            assert_eq!(admits(&email_pattern(), text), rule, "{text:?}");
        }
    }
}
