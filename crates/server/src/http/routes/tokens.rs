//! API tokens for scripts and agents (see [`agentdeck_services::api_tokens`]):
//!
//! - `/api/tokens`: the personal access tokens of the signed-in account —
//!   list, create (the text is answered once), revoke.
//! - `/api/workspace/service-tokens`: the workspace's service tokens, for its
//!   owners and admins.
//!
//! Only a person creates tokens: a request authenticated by an API token may
//! list and revoke, never create (403), so a leaked token cannot mint itself
//! successors. A token of another account or workspace is 404, like any
//! foreign id.

use agentdeck_domain::api_tokens::{ApiToken, Scope, Scopes};
use agentdeck_domain::page::Page;
use agentdeck_services::api_tokens::{self, CreatedToken, NewApiToken};
use agentdeck_storage::TokenOwner;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::paging::page_request;
use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::{ApiJson, ApiQuery, Caller, ClientAddress, Credential, IdPath};
use crate::http::reauth::EndedCredential;
use crate::http::session::client_info;
use crate::state::AppState;

/// Routes of this module.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_personal_tokens, create_personal_token))
        .routes(routes!(revoke_personal_token))
        .routes(routes!(list_service_tokens, create_service_token))
        .routes(routes!(revoke_service_token))
}

/// Body of `POST /api/tokens` and `POST /api/workspace/service-tokens`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct NewTokenBody {
    /// A name to tell the token apart (1–200 characters, trimmed).
    #[schema(schema_with = agentdeck_domain::records::wire_schema::name)]
    name: String,
    /// What it may be used for: `read` (GET on /api), `write` (other methods on /api), `agents` (/a2a and the sync socket).
    #[schema(min_items = 1)]
    scopes: Vec<Scope>,
    /// Days until it expires (1 to `tokens.max_lifetime_days`, default `tokens.default_lifetime_days`).
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "whole_days")]
    expires_in_days: Option<u32>,
}

/// Reads a day count that JSON may spell `30` or `30.0` (both are the integer
/// 30 to JSON Schema); a fraction or a negative number is refused, and a count
/// past `u32` reads as `u32::MAX`, which the lifetime check refuses with 400.
fn whole_days<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    use serde::de::Error;
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else { return Ok(None) };
    let whole = match (number.as_u64(), number.as_f64()) {
        (Some(whole), _) => whole,
        (None, Some(float)) if float >= 0.0 && float.fract() == 0.0 => float as u64,
        _ => return Err(D::Error::custom("must be a whole number of days, at least 1")),
    };
    Ok(Some(u32::try_from(whole).unwrap_or(u32::MAX)))
}

/// Writes the configured `tokens.max_lifetime_days` into the API description as
/// the maximum of `expiresInDays`, so the document states the limit the server applies.
pub(crate) fn document_max_lifetime(openapi: &mut utoipa::openapi::OpenApi, max_days: u32) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::Schema;
    let Some(components) = openapi.components.as_mut() else { return };
    let Some(RefOr::T(Schema::Object(body))) = components.schemas.get_mut("NewTokenBody") else { return };
    if let Some(RefOr::T(Schema::Object(days))) = body.properties.get_mut("expiresInDays") {
        days.maximum = Some(utoipa::Number::UInt(max_days.max(1) as usize));
    }
}

impl From<NewTokenBody> for NewApiToken {
    fn from(body: NewTokenBody) -> Self {
        NewApiToken {
            name: body.name,
            scopes: body.scopes.into_iter().collect::<Scopes>(),
            expires_in_days: body.expires_in_days,
        }
    }
}

/// A token just created: its text, shown this once, and what lists show of it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreatedTokenBody {
    /// The token: send it as `Authorization: Bearer <token>`. It is not stored and cannot be shown again.
    token: String,
    /// The token as lists show it.
    api_token: ApiToken,
}

impl From<CreatedToken> for CreatedTokenBody {
    fn from(created: CreatedToken) -> Self {
        Self { token: created.token, api_token: created.record }
    }
}

/// Query parameters of the token lists.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListTokensParams {
    /// Items per page (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// `nextCursor` of the previous page.
    cursor: Option<String>,
}

/// The account of a person calling (a JWT or session of an account, or a
/// personal token); 403 for a service, whose subject is no account.
fn person_account(caller: &Caller) -> Result<Uuid, ApiError> {
    let refused = || ApiError::new(ErrorCode::Forbidden, "personal access tokens belong to the account of a person");
    if matches!(caller.credential, Credential::ApiToken { kind: agentdeck_domain::api_tokens::TokenKind::Service, .. })
    {
        return Err(refused());
    }
    Uuid::parse_str(&caller.subject).map_err(|_| refused())
}

/// Refuses a request authenticated by an API token: only people create tokens.
fn refuse_token_credential(caller: &Caller) -> Result<(), ApiError> {
    if matches!(caller.credential, Credential::ApiToken { .. }) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "an API token cannot create tokens; sign in, or use a JWT of a person",
        ));
    }
    Ok(())
}

/// The personal access tokens of the caller's account (in every workspace), newest first; revoked ones are left out.
#[utoipa::path(get, path = "/api/tokens", tag = "tokens", params(ListTokensParams), security(("bearer" = [])),
    responses((status = 200, description = "OK; never the token texts", body = Page<ApiToken>),
        (status = 403, description = "The caller is not a person's account (a service)", body = ErrorBody)))]
async fn list_personal_tokens(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListTokensParams>,
) -> Result<Json<Page<ApiToken>>, ApiError> {
    let account = person_account(&caller)?;
    let page = page_request(params.limit, params.cursor.as_deref())?;
    Ok(Json(state.stores.api_tokens.list_api_tokens(TokenOwner::Account(account), page).await?))
}

/// Creates a personal access token acting as the caller's account in the caller's current workspace.
#[utoipa::path(post, path = "/api/tokens", tag = "tokens", request_body = NewTokenBody, security(("bearer" = [])),
    responses((status = 201, description = "Created; the token text is in this answer only", body = CreatedTokenBody),
        (status = 400, description = "expiresInDays is above tokens.max_lifetime_days (the message names it)", body = ErrorBody),
        (status = 403, description = "The request is authenticated by an API token, or not by a person who is a member", body = ErrorBody),
        (status = 409, description = "The account already holds the most usable tokens allowed", body = ErrorBody)))]
async fn create_personal_token(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientAddress,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewTokenBody>,
) -> Result<impl IntoResponse, ApiError> {
    refuse_token_credential(&caller)?;
    let account = person_account(&caller)?;
    let lifetimes = state.settings.tokens.lifetimes();
    let client = client_info(&headers, &client);
    let workspace = caller.workspace_id;
    let created =
        api_tokens::create_personal(&state.stores, lifetimes, account, workspace, body.into(), &client).await?;
    Ok((StatusCode::CREATED, Json(CreatedTokenBody::from(created))))
}

/// Revokes one of the caller's personal access tokens, at once on every node.
#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "tokens", params(("id" = uuid::Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "Revoked"),
        (status = 403, description = "The caller is not a person's account (a service)", body = ErrorBody),
        (status = 404, description = "No such token of this account (or already revoked)", body = ErrorBody)))]
async fn revoke_personal_token(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientAddress,
    headers: HeaderMap,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    let account = person_account(&caller)?;
    let client = client_info(&headers, &client);
    api_tokens::revoke(&state.stores, TokenOwner::Account(account), id, &caller.subject, &client)
        .await
        .map_err(not_found_as_token)?;
    state.credential_events.announce(EndedCredential::ApiToken { token_id: id });
    Ok(StatusCode::NO_CONTENT)
}

/// The workspace's service tokens, newest first; revoked ones are left out (owners and admins).
#[utoipa::path(get, path = "/api/workspace/service-tokens", tag = "tokens", params(ListTokensParams),
    security(("bearer" = [])),
    responses((status = 200, description = "OK; never the token texts", body = Page<ApiToken>),
        (status = 403, description = "The caller's role may not manage service tokens", body = ErrorBody)))]
async fn list_service_tokens(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListTokensParams>,
) -> Result<Json<Page<ApiToken>>, ApiError> {
    api_tokens::require_token_manager(&caller)?;
    let page = page_request(params.limit, params.cursor.as_deref())?;
    let owner = TokenOwner::WorkspaceServices(caller.workspace_id);
    Ok(Json(state.stores.api_tokens.list_api_tokens(owner, page).await?))
}

/// Creates a service token of the workspace, acting as role `service` there (owners and admins).
#[utoipa::path(post, path = "/api/workspace/service-tokens", tag = "tokens", request_body = NewTokenBody,
    security(("bearer" = [])),
    responses((status = 201, description = "Created; the token text is in this answer only", body = CreatedTokenBody),
        (status = 400, description = "expiresInDays is above tokens.max_lifetime_days (the message names it)", body = ErrorBody),
        (status = 403, description = "The request is authenticated by an API token, or the role may not manage service tokens", body = ErrorBody),
        (status = 409, description = "The workspace already holds the most usable service tokens allowed", body = ErrorBody)))]
async fn create_service_token(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientAddress,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewTokenBody>,
) -> Result<impl IntoResponse, ApiError> {
    refuse_token_credential(&caller)?;
    let lifetimes = state.settings.tokens.lifetimes();
    let client = client_info(&headers, &client);
    let created = api_tokens::create_service(&state.stores, lifetimes, &caller, body.into(), &client).await?;
    Ok((StatusCode::CREATED, Json(CreatedTokenBody::from(created))))
}

/// Revokes a service token of the workspace, at once on every node (owners and admins).
#[utoipa::path(delete, path = "/api/workspace/service-tokens/{id}", tag = "tokens", params(("id" = uuid::Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "Revoked"),
        (status = 403, description = "The caller's role may not manage service tokens", body = ErrorBody),
        (status = 404, description = "No such service token in this workspace (or already revoked)", body = ErrorBody)))]
async fn revoke_service_token(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientAddress,
    headers: HeaderMap,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    api_tokens::require_token_manager(&caller)?;
    let owner = TokenOwner::WorkspaceServices(caller.workspace_id);
    let client = client_info(&headers, &client);
    api_tokens::revoke(&state.stores, owner, id, &caller.subject, &client).await.map_err(not_found_as_token)?;
    state.credential_events.announce(EndedCredential::ApiToken { token_id: id });
    Ok(StatusCode::NO_CONTENT)
}

/// Names the record of a 404: "token not found" rather than "record not found".
fn not_found_as_token(error: api_tokens::TokenError) -> ApiError {
    match error {
        api_tokens::TokenError::Store(agentdeck_storage::StoreError::NotFound) => ApiError::not_found("token"),
        other => other.into(),
    }
}
