//! `Caller`: the authenticated principal of a request.
//!
//! A bearer token that starts with `adk_` is an API token (personal or
//! service; see [`agentdeck_services::api_tokens`]); anything else is a JWT.
//! An API token carries scopes, checked here against the request: `read` for
//! `GET`/`HEAD` on `/api/*`, `write` for the other methods (`POST /api/ask`
//! included), `agents` for `/a2a/*` and the sync socket (`/api/sync` and the
//! ticket that opens it, `POST /api/ws-ticket`). A JWT has no scopes: it may
//! do whatever its role may.

use std::ops::Deref;

use agentdeck_domain::api_tokens::{Scope, Scopes, TOKEN_MARKER, TokenKind};
use agentdeck_domain::auth::Principal;
use agentdeck_services::api_tokens::{self, TokenCaller};
use agentdeck_services::auth::AuthError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
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
    /// An API token (`adk_pat_…` or `adk_svc_…`), looked up on every request.
    ApiToken {
        /// The token's id.
        token_id: Uuid,
        /// Personal or service.
        kind: TokenKind,
        /// What it may be used for.
        scopes: Scopes,
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
            return caller_of_token(state, token, required_scope(&parts.method, parts.uri.path())).await;
        }
        match session::cookie_secret(state, &parts.headers) {
            Some(secret) => session::caller_of_session(state, &parts.method, &parts.headers, secret).await,
            None => Err(AuthError::Missing.into()),
        }
    }
}

/// The scope an API token needs for a request (see the module doc).
pub(crate) fn required_scope(method: &Method, path: &str) -> Scope {
    if path.starts_with("/a2a/") || matches!(path, "/api/sync" | "/api/ws-ticket") {
        Scope::Agents
    } else if method == Method::GET || method == Method::HEAD {
        Scope::Read
    } else {
        Scope::Write
    }
}

/// Verifies a bearer token (a JWT, or an API token holding `scope`) and checks
/// its workspace exists and is not disabled, and that an account a JWT's
/// subject names is not disabled (also used by the WebSocket and A2A edges).
pub(crate) async fn caller_of_token(state: &AppState, token: &str, scope: Scope) -> Result<Caller, ApiError> {
    if token.starts_with(TOKEN_MARKER) {
        return caller_of_api_token(state, token, scope).await;
    }
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

/// Looks an API token up (no cache: a revocation applies to the next request
/// on every node) and checks that it holds `scope`.
async fn caller_of_api_token(state: &AppState, token: &str, scope: Scope) -> Result<Caller, ApiError> {
    let TokenCaller { principal, token } = api_tokens::authenticate(&state.stores, token, chrono::Utc::now()).await?;
    if !token.scopes.contains(scope) {
        return Err(ApiError::new(ErrorCode::Forbidden, format!("this API token lacks the `{scope}` scope")));
    }
    state.check_workspace(principal.workspace_id).await?;
    tracing::Span::current().record("workspace", tracing::field::display(principal.workspace_id));
    let credential = Credential::ApiToken { token_id: token.id, kind: token.kind, scopes: token.scopes };
    Ok(Caller { principal, credential })
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
