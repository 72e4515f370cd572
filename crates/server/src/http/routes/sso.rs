//! Single sign-on with OpenID Connect: the provider list for the sign-in form,
//! the two legs of the authorization code flow, and a person's linked identities.
//!
//! `start` and `callback` are browser navigations, not API calls: they answer
//! with redirects (303), never JSON, and every failure lands the browser on
//! `/#sso-error=<code>`, where the page shows a message for the code. `start`
//! binds the login to the browser with a short-lived cookie holding the
//! `state` (HttpOnly, SameSite=Lax so it comes back with the provider's
//! top-level redirect; `__Host-` and `Secure` outside dev mode); the callback
//! refuses a `state` that is not the cookie's, so a callback URL made in
//! another browser (login CSRF: signing the victim in as the attacker) does
//! nothing. The flow itself is [`agentdeck_services::sso`].

use agentdeck_domain::records::{Account, AuthEventKind, Identity};
use agentdeck_services::accounts::sessions;
use agentdeck_services::sso::{Callback, Resolution, Sso, SsoError, safe_return_path};
use agentdeck_storage::IdentityDeletion;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::config::Mode;
use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::{ApiQuery, Caller, ClientAddress, IdPath};
use crate::http::session::{client_info, session_account, start_session};
use crate::state::AppState;

/// Longest `code` or `state` read from a callback; longer ones are refused as garbled.
const MAX_CALLBACK_PARAM_BYTES: usize = 4096;
/// How long the browser keeps the `state` cookie: the pending login's lifetime.
const STATE_COOKIE_MAX_AGE_SECS: u64 = 600;

/// Routes of this module.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(providers))
        .routes(routes!(start))
        .routes(routes!(callback))
        .routes(routes!(list_identities))
        .routes(routes!(delete_identity))
}

/// The cookie that binds a login to the browser that started it.
fn state_cookie_name(state: &AppState) -> &'static str {
    if state.settings.mode == Mode::Dev { "agentdeck_oidc" } else { "__Host-agentdeck_oidc" }
}

/// `Set-Cookie` for the state cookie: `value` for `max_age` seconds (0 clears it).
fn state_cookie(state: &AppState, value: &str, max_age: u64) -> Option<HeaderValue> {
    let secure = if state.settings.mode == Mode::Dev { "" } else { "; Secure" };
    let name = state_cookie_name(state);
    HeaderValue::from_str(&format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")).ok()
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

/// A 303 to `location` that no cache keeps, with extra `Set-Cookie` headers.
fn redirect(location: &str, cookies: impl IntoIterator<Item = HeaderValue>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, location);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for cookie in cookies {
        headers.append(header::SET_COOKIE, cookie);
    }
    response
}

/// Sends the browser to the page with an error code it shows a message for.
fn error_redirect(code: &str, cookies: impl IntoIterator<Item = HeaderValue>) -> Response {
    redirect(&format!("/#sso-error={code}"), cookies)
}

/// The sign-in service, or "unknown provider" when none is configured.
fn sso<'s>(state: &'s AppState, provider: &str) -> Result<&'s Sso, SsoError> {
    state.sso.as_ref().ok_or_else(|| SsoError::UnknownProvider(provider.chars().take(64).collect()))
}

/// Appends `identity_linked` or `identity_unlinked` to the auth log; a failure
/// to write it is logged and does not undo what was done.
async fn auth_event(
    state: &AppState,
    kind: AuthEventKind,
    account: &Account,
    detail: String,
    headers: &HeaderMap,
    client: &ClientAddress,
) {
    let mut event = sessions::event(kind, &client_info(headers, client), chrono::Utc::now());
    event.account_id = Some(account.id);
    event.email = Some(account.email.clone());
    event.detail = Some(detail);
    if let Err(error) = sessions::log_event(&state.stores, event).await {
        tracing::warn!(error = %error, %kind, account = %account.id, "auth event not stored");
    }
}

/// A provider people may sign in with.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProviderEntry {
    /// Provider id.
    id: String,
    /// Name to show ("Sign in with <name>").
    name: String,
    /// Where the sign-in button leads (`GET`, a browser navigation).
    start_url: String,
}

/// The providers of the sign-in form.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Providers {
    /// In configuration order; empty when single sign-on is not configured.
    providers: Vec<ProviderEntry>,
}

/// Lists the OpenID Connect providers people may sign in with (no authentication).
#[utoipa::path(get, path = "/api/auth/providers", tag = "auth",
    responses((status = 200, description = "OK", body = Providers)))]
async fn providers(State(state): State<AppState>) -> Json<Providers> {
    let providers = state
        .sso
        .as_ref()
        .map(Sso::providers)
        .unwrap_or_default()
        .into_iter()
        .map(|provider| ProviderEntry {
            start_url: format!("/api/auth/oidc/{}/start", provider.id),
            id: provider.id,
            name: provider.name,
        })
        .collect();
    Json(Providers { providers })
}

/// Query of `start`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct StartQuery {
    /// `true`: link the identity to the signed-in account instead of signing in.
    link: Option<bool>,
    /// Path of this server to return to afterwards (default `/`).
    return_to: Option<String>,
}

/// Sends the browser to the provider to sign in (or, with `link=true`, to link an identity to the signed-in account).
#[utoipa::path(get, path = "/api/auth/oidc/{provider}/start", tag = "auth",
    params(("provider" = String, Path, description = "Provider id"), StartQuery),
    responses((status = 303, description = "To the provider's authorization page; on failure to `/#sso-error=<code>`"),
        (status = 422, description = "A parameter is malformed (not a boolean, a control character)", body = ErrorBody)))]
async fn start(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    ApiQuery(query): ApiQuery<StartQuery>,
    headers: HeaderMap,
) -> Response {
    let return_to = safe_return_path(query.return_to.as_deref().unwrap_or("/")).to_owned();
    let link = if query.link == Some(true) {
        match session_account(&state, &headers).await {
            Ok(Some(account)) => Some(account.id),
            Ok(None) => return error_redirect("not_signed_in", []),
            Err(error) => {
                tracing::warn!(error = ?error, "session not read for linking");
                return error_redirect("unavailable", []);
            }
        }
    } else {
        None
    };
    let started = match sso(&state, &provider) {
        Ok(sso) => sso.start(&provider, link, &return_to).await,
        Err(error) => Err(error),
    };
    match started {
        Ok(started) => {
            redirect(started.authorize_url.as_str(), state_cookie(&state, &started.state, STATE_COOKIE_MAX_AGE_SECS))
        }
        Err(error) => {
            tracing::warn!(provider = %provider.chars().take(64).collect::<String>(), error = %error, "sign-in not started");
            error_redirect(error.code(), [])
        }
    }
}

/// What a provider sends back.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CallbackQuery {
    /// The authorization code.
    code: Option<String>,
    /// The `state` `start` made.
    state: Option<String>,
    /// Set when the provider refused (e.g. `access_denied`).
    error: Option<String>,
}

/// Where the provider returns the browser: checks its answer, then signs in (or links) and redirects.
#[utoipa::path(get, path = "/api/auth/oidc/{provider}/callback", tag = "auth",
    params(("provider" = String, Path, description = "Provider id"), CallbackQuery),
    responses((status = 303, description = "Signed in (session cookie set) or linked: to the return path; \
        otherwise to `/#sso-error=<code>` with no session"),
        (status = 422, description = "A parameter holds a control character", body = ErrorBody)))]
async fn callback(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    ApiQuery(query): ApiQuery<CallbackQuery>,
    client: ClientAddress,
    headers: HeaderMap,
) -> Response {
    let bounded = |value: Option<String>| value.filter(|value| value.len() <= MAX_CALLBACK_PARAM_BYTES);
    let callback = Callback { code: bounded(query.code), state: bounded(query.state), error: bounded(query.error) };
    // The state cookie has served its purpose whatever happens next.
    let clear = state_cookie(&state, "", 0);
    let browser_state = cookie(&headers, state_cookie_name(&state));
    let finished = match sso(&state, &provider) {
        Ok(sso) => sso.finish(&provider, callback, browser_state).await,
        Err(error) => Err(error),
    };
    let finished = match finished {
        Ok(finished) => finished,
        Err(error) => {
            tracing::info!(provider = %provider.chars().take(64).collect::<String>(), code = error.code(), error = %error, "sign-in refused");
            return error_redirect(error.code(), clear);
        }
    };
    let method = format!("oidc:{}", finished.identity.provider);
    if finished.resolution != Resolution::SignIn {
        auth_event(&state, AuthEventKind::IdentityLinked, &finished.account, method.clone(), &headers, &client).await;
    }
    if finished.resolution == Resolution::Linked {
        let location = if finished.return_path.contains('#') {
            finished.return_path.clone()
        } else {
            format!("{}#sso-linked={}", finished.return_path, finished.identity.provider)
        };
        return redirect(&location, clear);
    }
    match start_session(&state, &headers, &client, &finished.account, None, &method).await {
        Ok((session_cookie, _me)) => redirect(&finished.return_path, clear.into_iter().chain([session_cookie])),
        Err(error) => {
            let code = match error.code() {
                ErrorCode::NotFound | ErrorCode::Forbidden => "no_workspace",
                _ => "unavailable",
            };
            tracing::warn!(error = ?error, account = %finished.account.id, "session not started after single sign-on");
            error_redirect(code, clear)
        }
    }
}

/// The account behind the caller: its subject must be an account id (sessions, personal tokens).
async fn caller_account(state: &AppState, caller: &Caller) -> Result<Account, ApiError> {
    let not_a_person = || ApiError::new(ErrorCode::Forbidden, "only a person's account has linked identities");
    let id: Uuid = caller.subject.parse().map_err(|_| not_a_person())?;
    state.stores.accounts.get_account(id).await?.ok_or_else(not_a_person)
}

/// The signed-in account's linked identities.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Identities {
    /// Oldest first.
    identities: Vec<Identity>,
}

/// Lists the identities linked to the caller's account.
#[utoipa::path(get, path = "/api/me/identities", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "OK", body = Identities),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The caller is not a person's account (a service)", body = ErrorBody)))]
async fn list_identities(State(state): State<AppState>, caller: Caller) -> Result<Json<Identities>, ApiError> {
    let account = caller_account(&state, &caller).await?;
    Ok(Json(Identities { identities: state.stores.identities.list_identities(account.id).await? }))
}

/// Unlinks one of the caller's identities; refused when it is the account's last way to sign in.
#[utoipa::path(delete, path = "/api/me/identities/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Identity id")),
    responses((status = 204, description = "Unlinked"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The caller is not a person's account (a service)", body = ErrorBody),
        (status = 404, description = "No such identity of this account", body = ErrorBody),
        (status = 409, description = "The account has no password and no other identity", body = ErrorBody)))]
async fn delete_identity(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    client: ClientAddress,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let account = caller_account(&state, &caller).await?;
    let identities = state.stores.identities.list_identities(account.id).await?;
    let provider = identities.iter().find(|identity| identity.id == id).map(|identity| identity.provider.clone());
    match state.stores.identities.delete_identity(account.id, id).await {
        Ok(IdentityDeletion::Deleted) => {
            let detail = format!("oidc:{}", provider.unwrap_or_default());
            auth_event(&state, AuthEventKind::IdentityUnlinked, &account, detail, &headers, &client).await;
            Ok(StatusCode::NO_CONTENT)
        }
        Ok(IdentityDeletion::LastWayIn) => Err(ApiError::new(
            ErrorCode::Conflict,
            "this identity is the account's last way to sign in: set a password or link another identity first",
        )),
        Err(agentdeck_storage::StoreError::NotFound) => Err(ApiError::not_found("identity")),
        Err(other) => Err(other.into()),
    }
}
