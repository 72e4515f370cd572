//! `IdPath`: a record id from the URL path.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use uuid::Uuid;

use crate::http::error::{ApiError, ErrorCode};

/// The `{id}` segment of a route, which must be a UUID (400 otherwise).
#[derive(Debug, Clone, Copy)]
pub struct IdPath(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::new(ErrorCode::BadRequest, "the path must end with one record id"))?;
        raw.parse()
            .map(IdPath)
            .map_err(|_| ApiError::new(ErrorCode::BadRequest, format!("{raw:?} is not a record id (a UUID)")))
    }
}
