//! `ApiJson<T>`: a JSON body with content-type, size, depth and shape checks.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::field_error;
use crate::http::error::{ApiError, ErrorCode};

/// Limits applied to JSON bodies (from `[http]` settings).
#[derive(Debug, Clone, Copy)]
pub struct JsonLimits {
    /// Deepest nesting of arrays and objects accepted.
    pub max_depth: usize,
}

/// A request body parsed as JSON into `T`.
///
/// - not `application/json` (or `application/*+json`) → 415 `unsupported_media_type`
/// - larger than the body limit → 413 `payload_too_large`
/// - nested deeper than the limit → 400 `json_too_deep`
/// - not JSON → 400 `invalid_json` (with line and column)
/// - wrong types, missing or unknown fields → 422 `validation_failed` with paths
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
    JsonLimits: axum::extract::FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let limits = <JsonLimits as axum::extract::FromRef<S>>::from_ref(state);
        if !has_json_content_type(&request) {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "request body must be JSON (Content-Type: application/json)",
            ));
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(ErrorCode::PayloadTooLarge, "request body is larger than the server accepts")
            } else {
                ApiError::new(ErrorCode::BadRequest, "request body could not be read")
            }
        })?;
        parse(&bytes, limits).map(ApiJson)
    }
}

fn has_json_content_type(request: &Request) -> bool {
    let Some(value) = request.headers().get(header::CONTENT_TYPE) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let Ok(mime) = value.parse::<mime::Mime>() else {
        return false;
    };
    mime.type_() == mime::APPLICATION && (mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON))
}

/// Parses a JSON document into `T`, enforcing the depth limit first.
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8], limits: JsonLimits) -> Result<T, ApiError> {
    if let Some(message) = too_deep(bytes, limits.max_depth) {
        return Err(ApiError::new(ErrorCode::JsonTooDeep, message));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let inner = error.inner();
        if inner.is_data() {
            ApiError::validation(vec![field_error(error.path(), &inner.to_string())])
        } else {
            invalid_json(inner)
        }
    })?;
    deserializer.end().map_err(|error| invalid_json(&error))?;
    Ok(value)
}

fn invalid_json(error: &serde_json::Error) -> ApiError {
    ApiError::new(ErrorCode::InvalidJson, format!("request body is not valid JSON: {error}"))
        .with_details(json!({ "line": error.line(), "column": error.column() }))
}

/// Why a JSON text is refused for its nesting, or `None` when it is within `max_depth`.
///
/// One text for every body the server reads (REST API and both A2A
/// bindings), naming the limit and the setting that raises it.
pub fn too_deep(bytes: &[u8], max_depth: usize) -> Option<String> {
    nesting_exceeds(bytes, max_depth)
        .then(|| format!("JSON nesting is deeper than {max_depth} levels (http.max_json_depth)"))
}

/// Tells whether a JSON text nests arrays/objects deeper than `max_depth`.
///
/// Written by hand because serde_json's own recursion guard is fixed at 128
/// levels (it can only be disabled, not lowered); this scan is linear, needs no
/// allocation, and runs before any parsing so a hostile body costs nothing more.
pub fn nesting_exceeds(bytes: &[u8], max_depth: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in bytes {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max_depth {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    const LIMITS: JsonLimits = JsonLimits { max_depth: 32 };

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Input {
        name: String,
        tasks: Vec<Item>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        hours: f64,
    }

    fn nested(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn depth_counts_arrays_and_objects_but_not_strings() {
        assert!(!nesting_exceeds(nested(32).as_bytes(), 32));
        assert!(nesting_exceeds(nested(33).as_bytes(), 32));
        assert!(nesting_exceeds(nested(64).as_bytes(), 32));
        let in_string = format!("{{\"a\": \"{}\\\"{}\"}}", "[".repeat(100), "{".repeat(100));
        assert!(!nesting_exceeds(in_string.as_bytes(), 32));
    }

    #[test]
    fn too_deep_names_the_limit_and_the_setting() {
        assert_eq!(too_deep(nested(8).as_bytes(), 8), None);
        assert_eq!(
            too_deep(nested(9).as_bytes(), 8).as_deref(),
            Some("JSON nesting is deeper than 8 levels (http.max_json_depth)")
        );
    }

    #[test]
    fn syntax_errors_are_invalid_json() {
        for body in ["{\"name\": ", "{\"name\": \"a\", \"tasks\": []} trailing", "", "nul"] {
            assert_eq!(parse::<Input>(body.as_bytes(), LIMITS).unwrap_err().code(), ErrorCode::InvalidJson, "{body}");
        }
    }

    #[test]
    fn shape_errors_name_the_field() {
        let cases = [
            (r#"{"tasks": []}"#, "/name", "is required"),
            (r#"{"name": 5, "tasks": []}"#, "/name", "invalid type"),
            (r#"{"name": "a", "tasks": [{"hours": "x"}]}"#, "/tasks/0/hours", "invalid type"),
            (r#"{"name": "a", "tasks": [], "owner": 1}"#, "/owner", "is not a known field"),
        ];
        for (body, path, message) in cases {
            let error = parse::<Input>(body.as_bytes(), LIMITS).unwrap_err();
            assert_eq!(error.code(), ErrorCode::ValidationFailed, "{body}");
            let details = error.details().expect("field errors");
            assert_eq!(details[0]["path"], path, "{body}: {details}");
            assert!(details[0]["message"].as_str().unwrap().contains(message), "{body}: {details}");
        }
    }

    #[test]
    fn too_deep_is_refused_before_parsing() {
        assert_eq!(
            parse::<serde_json::Value>(nested(64).as_bytes(), LIMITS).unwrap_err().code(),
            ErrorCode::JsonTooDeep
        );
    }
}
