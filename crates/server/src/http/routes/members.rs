//! `/api/members`: the people of the workspace and their weekly capacity.

use agentdeck_domain::page::Page;
use agentdeck_domain::records::{Member, MemberChanges, NewMember};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::paging::page_request;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiQuery, Caller, IdPath};
use crate::http::reauth::EndedCredential;
use crate::state::AppState;

/// Routes of this module.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_members, create_member)).routes(routes!(
        get_member,
        update_member,
        delete_member
    ))
}

/// Query parameters of `GET /api/members`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListMembersParams {
    /// Items per page (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// `nextCursor` of the previous page.
    cursor: Option<String>,
}

/// Lists the workspace's members, newest first.
#[utoipa::path(get, path = "/api/members", tag = "members", params(ListMembersParams),
    security(("bearer" = [])),
    responses((status = 200, description = "OK", body = Page<Member>), (status = 401, description = "Missing, invalid or expired bearer token", body = ErrorBody)))]
async fn list_members(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListMembersParams>,
) -> Result<Json<Page<Member>>, ApiError> {
    let page = page_request(params.limit, params.cursor.as_deref())?;
    Ok(Json(state.projects.list_members(&caller, page).await?))
}

/// Adds a member (owners and admins).
#[utoipa::path(post, path = "/api/members", tag = "members", request_body = NewMember,
    security(("bearer" = [])),
    responses((status = 201, description = "Created", body = Member), (status = 403, description = "The caller's role may not do this", body = ErrorBody), (status = 409, description = "Conflicts with the current state", body = ErrorBody),
        (status = 422, description = "Validation failed; details list the failing paths", body = ErrorBody)))]
async fn create_member(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<NewMember>,
) -> Result<impl IntoResponse, ApiError> {
    let member = state.projects.create_member(&caller, input).await?;
    let location = format!("/api/members/{}", member.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(member)))
}

/// Reads a member.
#[utoipa::path(get, path = "/api/members/{id}", tag = "members", params(("id" = uuid::Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "OK", body = Member), (status = 404, description = "No such record in the caller's workspace", body = ErrorBody)))]
async fn get_member(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> Result<Json<Member>, ApiError> {
    Ok(Json(state.projects.get_member(&caller, id).await?))
}

/// Changes a member (owners and admins; the last owner stays an owner).
#[utoipa::path(patch, path = "/api/members/{id}", tag = "members", params(("id" = uuid::Uuid, Path)),
    request_body = MemberChanges, security(("bearer" = [])),
    responses((status = 200, description = "OK", body = Member), (status = 403, description = "The caller's role may not do this", body = ErrorBody), (status = 404, description = "No such record in the caller's workspace", body = ErrorBody),
        (status = 422, description = "Validation failed; details list the failing paths", body = ErrorBody)))]
async fn update_member(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ApiJson(changes): ApiJson<MemberChanges>,
) -> Result<Json<Member>, ApiError> {
    Ok(Json(state.projects.update_member(&caller, id, changes).await?))
}

/// Removes a member; their tasks become unassigned.
#[utoipa::path(delete, path = "/api/members/{id}", tag = "members", params(("id" = uuid::Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted"), (status = 403, description = "The caller's role may not do this", body = ErrorBody), (status = 404, description = "No such record in the caller's workspace", body = ErrorBody),
        (status = 422, description = "The workspace's last owner cannot be removed", body = ErrorBody)))]
async fn delete_member(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    let removed = state.projects.delete_member(&caller, id).await?;
    // A person's member record names their account: their open sockets in this workspace end now.
    if let Ok(account_id) = uuid::Uuid::parse_str(&removed.user_id) {
        state.credential_events.announce(EndedCredential::Account { account_id });
    }
    Ok(StatusCode::NO_CONTENT)
}
