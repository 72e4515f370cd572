//! Session cookies at the HTTP edge: reading and writing the cookie, the CSRF
//! rule for cookie-authenticated writes, and starting sessions (for sign-in by
//! password here, by invitation and single sign-on elsewhere).
//!
//! # The cookie
//!
//! `__Host-agentdeck_session=<secret>; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=<absolute timeout>`.
//! `__Host-` makes browsers refuse the cookie unless it is `Secure`, has
//! `Path=/` and no `Domain`, so a sibling subdomain cannot plant or shadow it.
//! Dev mode serves plain `http://`, where browsers drop `Secure` cookies, so it
//! uses `agentdeck_session` without `Secure` instead. `HttpOnly` keeps the
//! secret from scripts; `SameSite=Lax` keeps browsers from sending it with
//! cross-site subrequests and form posts (the CSRF check below does not rely on that).
//!
//! # CSRF
//!
//! A browser attaches the cookie to any request for this server, including one
//! a page of another site makes it send. So a cookie-authenticated request
//! with an unsafe method (anything but GET, HEAD, OPTIONS) must show both
//!
//! 1. a trusted `Origin` ([`TrustedOrigins`](crate::http::origin::TrustedOrigins)),
//!    or without one a `Referer` whose origin is trusted — a cross-site form
//!    post carries the other site's origin; and
//! 2. `X-CSRF-Token` equal (compared in constant time) to the session's token,
//!    which a page learns only from `GET /api/me` or the sign-in answer — a
//!    custom header another site's page cannot set without CORS allowing it.
//!
//! Refusals are 403 `forbidden` naming what is missing, before the handler runs
//! (so nothing is written). Bearer-authenticated requests are exempt: browsers
//! never attach a bearer header on their own. Sign-in, which sets the cookie
//! but has no session yet, checks the `Origin` rule alone (login CSRF: another
//! site must not sign a visitor into the attacker's account).

use agentdeck_domain::auth::{Principal, Role};
use agentdeck_domain::records::{Account, MemberRole};
use agentdeck_services::accounts::sessions::{
    self as sessions, ActiveSession, ClientInfo, NewSession, SessionError, csrf_token_of, digest_of, is_secret_shaped,
    tokens_match,
};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::config::Mode;
use crate::http::error::{ApiError, ErrorCode};
use crate::http::extract::{Caller, ClientAddress, Credential};
use crate::http::reauth::EndedCredential;
use crate::state::AppState;

/// The cookie's name outside dev mode (needs `Secure`, hence HTTPS).
pub(crate) const SECURE_COOKIE: &str = "__Host-agentdeck_session";
/// The cookie's name in dev mode (plain HTTP, no `Secure`).
pub(crate) const DEV_COOKIE: &str = "agentdeck_session";
/// The header a cookie-authenticated write carries its CSRF token in.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";
/// Longest `User-Agent` read for the auth log (it keeps 200 characters).
const MAX_USER_AGENT_BYTES: usize = 1024;

/// The session cookie's name in this mode.
pub(crate) fn cookie_name(state: &AppState) -> &'static str {
    if state.settings.mode == Mode::Dev { DEV_COOKIE } else { SECURE_COOKIE }
}

/// The value of the session cookie the request carries, if any (the first one named so).
pub(crate) fn cookie_secret<'h>(state: &AppState, headers: &'h HeaderMap) -> Option<&'h str> {
    let name = cookie_name(state);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// The `Set-Cookie` value that stores `secret` until the session's absolute end
/// (`Max-Age` in whole seconds, rounded up: never shorter than the session).
pub(crate) fn set_cookie(
    state: &AppState,
    secret: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<HeaderValue, ApiError> {
    let max_age_secs = u64::try_from((expires_at - now).num_milliseconds()).unwrap_or(0).div_ceil(1000);
    let secure = if state.settings.mode == Mode::Dev { "" } else { "; Secure" };
    let value =
        format!("{}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}", cookie_name(state), max_age_secs);
    HeaderValue::from_str(&value).map_err(|error| ApiError::internal().with_cause(error))
}

/// The `Set-Cookie` value that removes the session cookie.
pub(crate) fn clear_cookie(state: &AppState) -> HeaderValue {
    let secure = if state.settings.mode == Mode::Dev { "" } else { "; Secure" };
    let value = format!("{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}", cookie_name(state));
    // The name and attributes are fixed ASCII.
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("agentdeck_session=; Max-Age=0"))
}

/// What the auth log records of the client.
pub(crate) fn client_info(headers: &HeaderMap, client: &ClientAddress) -> ClientInfo {
    let user_agent = headers
        .get(header::USER_AGENT)
        .filter(|value| value.len() <= MAX_USER_AGENT_BYTES)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    ClientInfo { address: Some(client.as_str().to_owned()), user_agent }
}

/// Refuses a request whose `Origin` (or, without one, `Referer`) is not a trusted origin.
pub(crate) fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        return match origin.to_str() {
            Ok(origin) if state.origins.allows_origin(origin) => Ok(()),
            _ => Err(ApiError::new(ErrorCode::Forbidden, "the Origin of this request is not trusted (CSRF check)")),
        };
    }
    let referer = headers.get(header::REFERER).and_then(|value| value.to_str().ok());
    let referer_origin = referer.and_then(|referer| url::Url::parse(referer).ok()).map(|url| url.origin());
    match referer_origin {
        Some(origin) if origin.is_tuple() && state.origins.allows_origin(&origin.ascii_serialization()) => Ok(()),
        Some(_) => Err(ApiError::new(ErrorCode::Forbidden, "the Referer of this request is not trusted (CSRF check)")),
        None => Err(ApiError::new(
            ErrorCode::Forbidden,
            "a cookie-authenticated write needs an Origin or Referer header naming this site (CSRF check)",
        )),
    }
}

/// The CSRF rule of a cookie-authenticated request with method `method` (see the module doc).
pub(crate) fn check_csrf(state: &AppState, method: &Method, headers: &HeaderMap, secret: &str) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    check_origin(state, headers)?;
    let Some(given) = headers.get(CSRF_HEADER) else {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "a cookie-authenticated write needs the X-CSRF-Token header (csrfToken of GET /api/me)",
        ));
    };
    let given = given.to_str().unwrap_or_default();
    if !tokens_match(given, &csrf_token_of(secret)) {
        return Err(ApiError::new(ErrorCode::Forbidden, "the X-CSRF-Token header does not match this session"));
    }
    Ok(())
}

/// The caller of a request authenticated by the session cookie `secret`:
/// CSRF first (no store access for a refused write), then the session, then its workspace.
pub(crate) async fn caller_of_session(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    secret: &str,
) -> Result<Caller, ApiError> {
    check_csrf(state, method, headers, secret)?;
    let ActiveSession { session, role } =
        sessions::authenticate(&state.stores, &state.settings.session_policy(), secret, Utc::now()).await?;
    state.check_workspace(session.workspace_id).await?;
    tracing::Span::current().record("workspace", tracing::field::display(session.workspace_id));
    let principal = Principal { subject: session.account_id.to_string(), workspace_id: session.workspace_id, role };
    Ok(Caller { principal, credential: Credential::Session { session_id: session.id, account_id: session.account_id } })
}

/// What `GET /api/me` answers: who the caller is, where, and how it signed in.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Me {
    /// The principal's subject: the account id for people, a service name for JWT services.
    pub(crate) subject: String,
    /// The workspace the request acts in.
    pub(crate) workspace_id: Uuid,
    /// The role there.
    pub(crate) role: Role,
    /// How the request proved who it is: `session`, `jwt` or `api_token`.
    pub(crate) credential: String,
    /// The account, when the caller is a person with one.
    pub(crate) account: Option<MeAccount>,
    /// The account's workspaces (empty without an account), most recently joined first.
    pub(crate) workspaces: Vec<MeWorkspace>,
    /// For session callers: the `X-CSRF-Token` value of cookie-authenticated writes.
    pub(crate) csrf_token: Option<String>,
    /// For session callers: when the session ends at the latest (the absolute timeout).
    pub(crate) session_expires_at: Option<DateTime<Utc>>,
}

/// The signed-in person.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MeAccount {
    /// Account id (the `userId` of its member records).
    pub(crate) id: Uuid,
    /// Normalised email.
    pub(crate) email: String,
    /// Name shown to people.
    pub(crate) display_name: String,
    /// May administer every workspace of the instance.
    pub(crate) instance_admin: bool,
}

/// A workspace of the signed-in person.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MeWorkspace {
    /// Workspace id.
    pub(crate) id: Uuid,
    /// Its name.
    pub(crate) name: String,
    /// The person's role there.
    pub(crate) role: MemberRole,
    /// Disabled workspaces are listed but cannot be switched to.
    pub(crate) disabled: bool,
}

/// The account behind a caller: the session's, or a JWT's whose subject is an account id.
pub(crate) async fn caller_account(state: &AppState, caller: &Caller) -> Result<Option<Account>, ApiError> {
    let id = match &caller.credential {
        Credential::Session { account_id, .. } => *account_id,
        // A personal API token's subject is its account id; a service token's (`svc:…`) is no uuid.
        Credential::Jwt | Credential::ApiToken { .. } => match Uuid::parse_str(&caller.subject) {
            Ok(id) => id,
            Err(_) => return Ok(None),
        },
    };
    Ok(state.stores.accounts.get_account(id).await?)
}

/// Builds `GET /api/me`'s answer for a caller (`secret`: the session cookie, for the CSRF token).
pub(crate) async fn me_of(
    state: &AppState,
    principal: &Principal,
    credential: &Credential,
    account: Option<&Account>,
    secret: Option<&str>,
    session_expires_at: Option<DateTime<Utc>>,
) -> Result<Me, ApiError> {
    let workspaces = match account {
        Some(account) => state
            .stores
            .sessions
            .list_memberships(account.id)
            .await?
            .into_iter()
            .map(|membership| MeWorkspace {
                id: membership.workspace_id,
                name: membership.workspace_name,
                role: membership.role,
                disabled: membership.workspace_disabled,
            })
            .collect(),
        None => Vec::new(),
    };
    let credential = match credential {
        Credential::Session { .. } => "session",
        Credential::Jwt => "jwt",
        Credential::ApiToken { .. } => "api_token",
    };
    Ok(Me {
        subject: principal.subject.clone(),
        workspace_id: principal.workspace_id,
        role: principal.role,
        credential: credential.to_owned(),
        account: account.map(|account| MeAccount {
            id: account.id,
            email: account.email.clone(),
            display_name: account.display_name.clone(),
            instance_admin: account.instance_admin,
        }),
        workspaces,
        csrf_token: secret.map(csrf_token_of),
        session_expires_at,
    })
}

/// Starts a session for `account` in `workspace_id` (a workspace it is a member of), writes an
/// auth-log entry `sign_in` with `method` ("password" | "invitation" | "oidc:<provider>"),
/// ends the session the request's cookie names (rotation), and returns the Set-Cookie header
/// value plus what `GET /api/me` would answer.
pub(crate) async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    client: &ClientAddress,
    account: &Account,
    workspace_id: Option<Uuid>,
    method: &str,
) -> Result<(HeaderValue, Me), ApiError> {
    let replaces = cookie_secret(state, headers).filter(|secret| is_secret_shaped(secret)).map(digest_of);
    let policy = state.settings.session_policy();
    let now = Utc::now();
    let new = NewSession { account, workspace_id, replaces: replaces.as_deref(), method };
    let started = sessions::start(&state.stores, &policy, new, &client_info(headers, client), now).await?;
    if let Some(digest) = replaces {
        // Rotation ended the session the browser had; a socket it opened ends with it.
        state.credential_events.announce(EndedCredential::Session { digest });
    }
    // Sign-ins are rare (and rate limited): a good moment to drop ended sessions.
    if let Err(error) = sessions::purge_ended(&state.stores, &policy, now).await {
        tracing::warn!(%error, "could not purge ended sessions");
    }
    let cookie = set_cookie(state, &started.secret.secret, started.session.expires_at, now)?;
    let principal = Principal {
        subject: account.id.to_string(),
        workspace_id: started.membership.workspace_id,
        role: started.membership.role.into(),
    };
    let credential = Credential::Session { session_id: started.session.id, account_id: account.id };
    let me = me_of(
        state,
        &principal,
        &credential,
        Some(account),
        Some(&started.secret.secret),
        Some(started.session.expires_at),
    )
    .await?;
    Ok((cookie, me))
}

/// The signed-in account of the request's session cookie, if any (no CSRF check; for GET flows).
#[allow(dead_code, reason = "for the invitation and single sign-on flows, which link to the signed-in account")]
pub(crate) async fn session_account(state: &AppState, headers: &HeaderMap) -> Result<Option<Account>, ApiError> {
    let Some(secret) = cookie_secret(state, headers) else { return Ok(None) };
    match sessions::authenticate(&state.stores, &state.settings.session_policy(), secret, Utc::now()).await {
        Ok(active) => Ok(state.stores.accounts.get_account(active.session.account_id).await?),
        Err(SessionError::NoSession) => Ok(None),
        Err(other) => Err(other.into()),
    }
}
