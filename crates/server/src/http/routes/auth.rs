//! Sign-in of people: `/api/auth/login`, `/api/auth/logout`,
//! `/api/auth/logout-all`, `/api/auth/workspace`, `GET /api/me`, and the auth
//! log for instance admins (`GET /api/admin/auth-log`).
//!
//! Sign-in answers one 401 for every refusal (unknown email, wrong password,
//! disabled account) after the same work, 429 with `Retry-After` while the
//! email is locked or the client address is over its limit, and on success
//! sets the session cookie (rotating any session the browser had) and answers
//! like `GET /api/me`. What the cookie and the CSRF rule are:
//! [`crate::http::session`]; how sign-in and the lockout work:
//! [`agentdeck_services::accounts::sessions`].

use agentdeck_domain::page::Page;
use agentdeck_domain::records::AuthEvent;
use agentdeck_services::accounts::sessions::{self as sessions, SessionError};
use agentdeck_storage::ratelimit::RouteClass;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::admin::instance_admin;
use super::paging::page_request;
use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::{ApiJson, ApiQuery, Caller, ClientAddress, Credential};
use crate::http::ratelimit::limit_address;
use crate::http::reauth::EndedCredential;
use crate::http::session::{self, Me, caller_account, client_info, me_of};
use crate::state::AppState;

/// Routes of this module.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(logout_all))
        .routes(routes!(switch_workspace))
        .routes(routes!(me))
        .routes(routes!(auth_log))
}

/// Body of `POST /api/auth/login`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct LoginRequest {
    /// The account's email (compared normalised: trimmed, lowercased).
    #[schema(max_length = 254)]
    email: String,
    /// The password.
    #[schema(max_length = 1024)]
    password: String,
    /// The workspace to act in; default: the most recently joined usable one.
    workspace_id: Option<Uuid>,
}

/// Body of `POST /api/auth/workspace`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SwitchWorkspace {
    /// A workspace the signed-in account is a member of.
    workspace_id: Uuid,
}

/// Query parameters of `GET /api/admin/auth-log`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuthLogParams {
    /// Items per page (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// `nextCursor` of the previous page.
    cursor: Option<String>,
}

/// A 429 for a locked email, with `Retry-After`.
fn locked(error: SessionError) -> Response {
    let retry_after = match &error {
        SessionError::Locked { retry_after } => retry_after.as_secs().max(1),
        _ => 1,
    };
    let mut response = ApiError::from(error).into_response();
    if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The session cookie of a caller that signed in with one; 403 for other
/// credentials (a token is revoked where it was made, not signed out).
fn session_of<'h>(state: &AppState, caller: &Caller, headers: &'h HeaderMap) -> Result<&'h str, ApiError> {
    match (&caller.credential, session::cookie_secret(state, headers)) {
        (Credential::Session { .. }, Some(secret)) => Ok(secret),
        _ => Err(ApiError::new(ErrorCode::Forbidden, "this request is not signed in with a session cookie")),
    }
}

/// Signs in with email and password: sets the session cookie and answers like `GET /api/me`.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, description = "Signed in; Set-Cookie carries the session", body = Me),
        (status = 401, description = "The email or password is wrong (one answer for every reason)", body = ErrorBody),
        (status = 403, description = "Untrusted Origin/Referer (login CSRF), or no usable workspace", body = ErrorBody),
        (status = 404, description = "The account is not a member of workspaceId", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address or for this email; see Retry-After", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry shortly", body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    client: ClientAddress,
    headers: HeaderMap,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    session::check_origin(&state, &headers)?;
    if let Some(refusal) = limit_address(&state, RouteClass::SignIn, &client).await {
        return Ok(refusal);
    }
    let info = client_info(&headers, &client);
    let policy = state.settings.session_policy();
    let account =
        match sessions::sign_in(&state.stores, &policy, &request.email, request.password, &info, Utc::now()).await {
            Ok(account) => account,
            Err(error @ SessionError::Locked { .. }) => return Ok(locked(error)),
            Err(error) => return Err(error.into()),
        };
    let (cookie, me) =
        session::start_session(&state, &headers, &client, &account, request.workspace_id, "password").await?;
    Ok(([(header::SET_COOKIE, cookie)], Json(me)).into_response())
}

/// Ends this session and removes the cookie.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", security(("session" = [])),
    responses((status = 204, description = "Signed out; Set-Cookie removes the cookie"),
        (status = 403, description = "Failed the CSRF check, or not signed in with a session cookie", body = ErrorBody)))]
async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientAddress,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let secret = session_of(&state, &caller, &headers)?;
    let lookup = state.stores.sessions.find_session(&sessions::digest_of(secret)).await?;
    if let Some(lookup) = lookup {
        let account = state.stores.accounts.get_account(lookup.session.account_id).await?;
        sessions::sign_out(
            &state.stores,
            &lookup.session,
            account.as_ref(),
            &client_info(&headers, &client),
            Utc::now(),
        )
        .await?;
        state.credential_events.announce(EndedCredential::Session { digest: lookup.session.digest });
    }
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, session::clear_cookie(&state))]).into_response())
}

/// Ends every session of the signed-in account, this one included ("sign out everywhere").
/// Takes the session cookie (with the CSRF rule) or a bearer token whose subject is an account.
#[utoipa::path(post, path = "/api/auth/logout-all", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Every session ended; Set-Cookie removes this one's cookie"),
        (status = 403, description = "Failed the CSRF check, or the caller is not a person with an account", body = ErrorBody)))]
async fn logout_all(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientAddress,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let account = caller_account(&state, &caller)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Forbidden, "the caller is not a person with an account"))?;
    let info = client_info(&headers, &client);
    sessions::sign_out_everywhere(&state.stores, &account, Some(caller.workspace_id), &info, Utc::now()).await?;
    state.credential_events.announce(EndedCredential::Account { account_id: account.id });
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, session::clear_cookie(&state))]).into_response())
}

/// Moves this session to another workspace of the account; the session is rotated (a new cookie).
#[utoipa::path(post, path = "/api/auth/workspace", tag = "auth", request_body = SwitchWorkspace,
    security(("session" = [])),
    responses((status = 200, description = "Switched; Set-Cookie carries the new session", body = Me),
        (status = 403, description = "Failed the CSRF check, not signed in with a session cookie, or the workspace is disabled", body = ErrorBody),
        (status = 404, description = "The account is not a member of this workspace", body = ErrorBody)))]
async fn switch_workspace(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientAddress,
    headers: HeaderMap,
    ApiJson(request): ApiJson<SwitchWorkspace>,
) -> Result<Response, ApiError> {
    let secret = session_of(&state, &caller, &headers)?;
    let no_session = || ApiError::from(SessionError::NoSession);
    let current = state.stores.sessions.find_session(&sessions::digest_of(secret)).await?.ok_or_else(no_session)?;
    let account = state.stores.accounts.get_account(current.session.account_id).await?.ok_or_else(no_session)?;
    let info = client_info(&headers, &client);
    let started =
        sessions::switch_workspace(&state.stores, &current.session, &account, request.workspace_id, &info, Utc::now())
            .await?;
    // The old session is gone; a socket it opened acts in the old workspace and ends.
    state.credential_events.announce(EndedCredential::Session { digest: current.session.digest.clone() });
    state.check_workspace(started.session.workspace_id).await?;
    let cookie = session::set_cookie(&state, &started.secret.secret, started.session.expires_at, Utc::now())?;
    let principal = agentdeck_domain::auth::Principal {
        subject: account.id.to_string(),
        workspace_id: started.membership.workspace_id,
        role: started.membership.role.into(),
    };
    let credential = Credential::Session { session_id: started.session.id, account_id: account.id };
    let expires_at = Some(started.session.expires_at);
    let me = me_of(&state, &principal, &credential, Some(&account), Some(&started.secret.secret), expires_at).await?;
    Ok(([(header::SET_COOKIE, cookie)], Json(me)).into_response())
}

/// Who the caller is: subject, workspace and role, the account and its workspaces, and for a session its CSRF token.
/// Takes the session cookie or a bearer token, like every route.
#[utoipa::path(get, path = "/api/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "OK", body = Me)))]
async fn me(State(state): State<AppState>, caller: Caller, headers: HeaderMap) -> Result<Json<Me>, ApiError> {
    let account = caller_account(&state, &caller).await?;
    let (secret, expires_at) = match &caller.credential {
        Credential::Session { .. } => {
            let secret = session::cookie_secret(&state, &headers);
            let lookup = match secret {
                Some(secret) => state.stores.sessions.find_session(&sessions::digest_of(secret)).await?,
                None => None,
            };
            (secret, lookup.map(|lookup| lookup.session.expires_at))
        }
        Credential::Jwt | Credential::ApiToken { .. } => (None, None),
    };
    Ok(Json(me_of(&state, &caller.principal, &caller.credential, account.as_ref(), secret, expires_at).await?))
}

/// The auth log of the instance, newest first (instance admins).
#[utoipa::path(get, path = "/api/admin/auth-log", tag = "admin", params(AuthLogParams),
    security(("bearer" = [])),
    responses((status = 200, description = "OK", body = Page<AuthEvent>),
        (status = 403, description = "The caller is not an instance admin", body = ErrorBody)))]
async fn auth_log(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<AuthLogParams>,
) -> Result<Json<Page<AuthEvent>>, ApiError> {
    instance_admin(&state, &caller).await?;
    let request = page_request(params.limit, params.cursor.as_deref())?;
    Ok(Json(state.stores.auth_log.list_auth_events(request).await?))
}
