//! `Caller`: the authenticated principal of a request.

use std::ops::Deref;

use agentdeck_domain::auth::Principal;
use agentdeck_services::auth::AuthError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use uuid::Uuid;

use crate::http::error::{ApiError, ErrorCode};
use crate::http::session;
use crate::state::AppState;

/// The principal a request acts as: from its `Authorization: Bearer` token,
/// else from its session cookie ([`crate::http::session`]).
///
/// A request with an `Authorization` header never falls back to the cookie.
/// Missing, garbled, expired or wrongly signed tokens, tokens naming a
/// workspace that does not exist or a disabled account, and unknown or ended
/// sessions are answered 401 before a handler runs; a disabled workspace is
/// 403, and so is a cookie-authenticated write that fails the CSRF check.
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
    /// The session cookie of a signed-in person.
    Session {
        /// The session (not its secret).
        session_id: Uuid,
        /// The signed-in account (the principal's subject).
        account_id: Uuid,
    },
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
        if parts.headers.contains_key(header::AUTHORIZATION) {
            let token = bearer_token(&parts.headers).ok_or(AuthError::Missing)?;
            return caller_of_token(state, token).await;
        }
        match session::cookie_secret(state, &parts.headers) {
            Some(secret) => session::caller_of_session(state, &parts.method, &parts.headers, secret).await,
            None => Err(AuthError::Missing.into()),
        }
    }
}

/// Verifies a bearer token and checks its workspace exists and is not disabled,
/// and that an account its subject names is not disabled (also used by the WebSocket and A2A edges).
pub(crate) async fn caller_of_token(state: &AppState, token: &str) -> Result<Caller, ApiError> {
    let principal = state.tokens.verify(token)?;
    state.check_workspace(principal.workspace_id).await?;
    // Only a subject that is a uuid can be an account id: service names cost no query.
    if let Ok(account_id) = Uuid::parse_str(&principal.subject)
        && let Some(account) = state.stores.accounts.get_account(account_id).await?
        && account.disabled
    {
        return Err(ApiError::new(ErrorCode::Unauthorized, "this account is disabled"));
    }
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
