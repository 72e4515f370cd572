//! PLACEHOLDER for H1's sessions module (issue 14): the signatures of the
//! contract, so single sign-on compiles before sessions land. Replaced
//! wholesale by H1's `session.rs` at merge.

use std::net::IpAddr;

use agentdeck_domain::records::Account;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use uuid::Uuid;

use crate::http::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// The client's address.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddress(#[allow(dead_code, reason = "placeholder until H1 lands")] pub(crate) Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(_parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self(None))
    }
}

/// What `GET /api/me` answers.
#[derive(Debug)]
pub(crate) struct Me;

/// Starts a session (placeholder: sessions are not built on this branch).
pub(crate) async fn start_session(
    _state: &AppState,
    _headers: &HeaderMap,
    _client: &ClientAddress,
    _account: &Account,
    _workspace_id: Option<Uuid>,
    _method: &str,
) -> Result<(HeaderValue, Me), ApiError> {
    Err(ApiError::new(ErrorCode::Unavailable, "sessions are not built on this branch"))
}

/// The signed-in account of the request's session cookie (placeholder: none).
pub(crate) async fn session_account(_state: &AppState, _headers: &HeaderMap) -> Result<Option<Account>, ApiError> {
    Ok(None)
}
