//! Extractors that turn every kind of bad input into an [`ApiError`](super::error::ApiError).
//!
//! axum's own extractors answer rejections in plain text with their own codes;
//! these wrap or replace them so a client always gets the shared JSON error,
//! with the JSON path of the failing field where there is one.

mod auth;
mod client;
mod idempotency;
mod json;
mod path;
mod query;

pub use auth::{Caller, Credential};
pub(crate) use auth::{bearer_token, caller_of_token};
pub use client::ClientAddress;
pub(crate) use idempotency::{MAX_IDEMPOTENCY_KEY_CHARS, idempotency_key};
pub use json::{ApiJson, JsonLimits, nesting_exceeds, too_deep};
pub use path::IdPath;
pub use query::ApiQuery;

use agentdeck_domain::validation::FieldError;

/// Converts a serde path (as tracked by `serde_path_to_error`) and its message
/// into a field error with a JSON Pointer, naming missing and unknown fields
/// at their own path rather than at their parent's.
pub(crate) fn field_error(path: &serde_path_to_error::Path, message: &str) -> FieldError {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        let part = match segment {
            Segment::Seq { index } => index.to_string(),
            Segment::Map { key } => key.replace('~', "~0").replace('/', "~1"),
            Segment::Enum { variant } => variant.clone(),
            Segment::Unknown => continue,
        };
        pointer.push('/');
        pointer.push_str(&part);
    }
    let message = strip_position(message);
    if let Some(name) = quoted_after(message, "missing field `") {
        return FieldError::new(format!("{pointer}/{name}"), "is required");
    }
    if let Some(name) = quoted_after(message, "unknown field `") {
        let expected = message.split_once(", expected").map(|(_, rest)| rest.trim()).unwrap_or("");
        let hint = if expected.is_empty() { String::new() } else { format!(" (expected {expected})") };
        // serde_path_to_error already records the unknown key as the last segment.
        let own_segment = format!("/{name}");
        let path = if pointer.ends_with(&own_segment) { pointer } else { format!("{pointer}{own_segment}") };
        return FieldError::new(path, format!("is not a known field{hint}"));
    }
    FieldError::new(pointer, message)
}

/// Drops serde_json's " at line 1 column 12" suffix: the path says where.
fn strip_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(index) => &message[..index],
        None => message,
    }
}

fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?;
    rest.split_once('`').map(|(name, _)| name)
}
