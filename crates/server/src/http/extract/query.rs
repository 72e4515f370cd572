//! `ApiQuery<T>`: query-string parameters with field paths in errors.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use agentdeck_domain::validation::{CONTROL_CHARACTER_MESSAGE, FieldError, has_forbidden_control};

use super::field_error;
use crate::http::error::ApiError;

/// Query parameters parsed into `T`; a bad value is a 422 naming the parameter
/// (e.g. `/status`), never axum's plain-text 400. A value with a control
/// character no stored text may hold (`?actor=a%00b`) is refused the same way,
/// for every parameter, before it can reach the store.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let controls: Vec<FieldError> = form_urlencoded::parse(query.as_bytes())
            .filter(|(name, value)| has_forbidden_control(name) || has_forbidden_control(value))
            .map(|(name, _)| {
                FieldError::new(format!("/{}", name.replace('~', "~0").replace('/', "~1")), CONTROL_CHARACTER_MESSAGE)
            })
            .collect();
        if !controls.is_empty() {
            return Err(ApiError::validation(controls));
        }
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ApiQuery)
            .map_err(|error| ApiError::validation(vec![field_error(error.path(), &error.inner().to_string())]))
    }
}
