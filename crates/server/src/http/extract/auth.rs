//! `Caller`: the authenticated principal of a request.

use std::ops::Deref;

use agentdeck_domain::auth::Principal;
use agentdeck_services::auth::AuthError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use crate::http::error::ApiError;
use crate::state::AppState;

/// The principal a request acts as, from its `Authorization: Bearer` token.
///
/// Missing, garbled, expired or wrongly signed tokens, and tokens naming a
/// workspace that does not exist, are answered 401 before a handler runs; a
/// disabled workspace is 403.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who the request acts as.
    pub principal: Principal,
    /// How the request proved it.
    pub credential: Credential,
}

/// How a request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A bearer JWT signed with the server's keys (service-to-service use, `agentdeck token`, dev login).
    Jwt,
}

impl Deref for Caller {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.principal
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers).ok_or(AuthError::Missing)?;
        caller_of_token(state, token).await
    }
}

/// Verifies a bearer token and checks its workspace exists and is not disabled (also used by the WebSocket and A2A edges).
pub(crate) async fn caller_of_token(state: &AppState, token: &str) -> Result<Caller, ApiError> {
    let principal = state.tokens.verify(token)?;
    state.check_workspace(principal.workspace_id).await?;
    tracing::Span::current().record("workspace", tracing::field::display(principal.workspace_id));
    Ok(Caller { principal, credential: Credential::Jwt })
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
