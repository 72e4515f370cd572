//! `Idempotency-Key` (IETF draft `httpapi-idempotency-key-header`): the one
//! parser of the header for every route that reads it — `PATCH /api/dashboard`
//! and the A2A send methods — so they agree on what a valid key is.

use axum::http::{HeaderMap, HeaderName};

use crate::http::error::{ApiError, ErrorCode};

/// The header's name.
pub(crate) const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// Longest key a client may send (the A2A service holds the same rule).
pub(crate) const MAX_IDEMPOTENCY_KEY_CHARS: usize = agentdeck_services::a2a::MAX_IDEMPOTENCY_KEY_CHARS;

/// Why an `Idempotency-Key` header was refused (the message follows the header's name).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum IdempotencyKeyError {
    /// Not a header value of visible ASCII (with spaces and tabs).
    #[error("must be visible ASCII")]
    NotVisibleAscii,
    /// Only spaces, or nothing.
    #[error("must not be empty")]
    Empty,
    /// Longer than [`MAX_IDEMPOTENCY_KEY_CHARS`].
    #[error("must be at most {MAX_IDEMPOTENCY_KEY_CHARS} characters")]
    TooLong,
}

impl From<IdempotencyKeyError> for ApiError {
    fn from(error: IdempotencyKeyError) -> Self {
        ApiError::new(ErrorCode::BadRequest, format!("Idempotency-Key {error}"))
    }
}

/// Reads `Idempotency-Key`: 1 to 200 visible ASCII characters once the
/// spaces around them are trimmed; absent is `None`, malformed is an error, never ignored.
pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, IdempotencyKeyError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else { return Ok(None) };
    let key = value.to_str().map_err(|_| IdempotencyKeyError::NotVisibleAscii)?.trim();
    if key.is_empty() {
        return Err(IdempotencyKeyError::Empty);
    }
    if key.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS {
        return Err(IdempotencyKeyError::TooLong);
    }
    Ok(Some(key.to_owned()))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn read(value: HeaderValue) -> Result<Option<String>, IdempotencyKeyError> {
        let mut headers = HeaderMap::new();
        headers.insert(IDEMPOTENCY_KEY, value);
        idempotency_key(&headers)
    }

    #[test]
    fn keys_are_trimmed_visible_ascii_of_at_most_200_characters() {
        assert_eq!(idempotency_key(&HeaderMap::new()), Ok(None));
        assert_eq!(read(HeaderValue::from_static("  retry-1 ")), Ok(Some("retry-1".into())));
        assert_eq!(read(HeaderValue::from_static("   ")), Err(IdempotencyKeyError::Empty));
        let non_ascii = HeaderValue::from_bytes("naïve".as_bytes()).unwrap_or(HeaderValue::from_static(""));
        assert_eq!(read(non_ascii), Err(IdempotencyKeyError::NotVisibleAscii));
        let longest = "k".repeat(MAX_IDEMPOTENCY_KEY_CHARS);
        assert_eq!(read(HeaderValue::from_str(&longest).unwrap_or(HeaderValue::from_static(""))), Ok(Some(longest)));
        let too_long = "k".repeat(MAX_IDEMPOTENCY_KEY_CHARS + 1);
        let too_long = HeaderValue::from_str(&too_long).unwrap_or(HeaderValue::from_static(""));
        assert_eq!(read(too_long), Err(IdempotencyKeyError::TooLong));
    }
}
