//! `/api/projects`: create, read, update, delete and list projects.

use agentdeck_domain::page::Page;
use agentdeck_domain::records::{NewProject, Project, ProjectChanges, ProjectFilter};
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
use crate::state::AppState;

/// Routes of this module.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_projects, create_project)).routes(routes!(
        get_project,
        update_project,
        delete_project
    ))
}

/// Which projects to list by archive state.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ArchivedFilter {
    /// Active projects only (the default).
    #[default]
    False,
    /// Archived projects only.
    True,
    /// Both.
    Any,
}

/// Query parameters of `GET /api/projects`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListProjectsParams {
    /// Items per page (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// `nextCursor` of the previous page.
    cursor: Option<String>,
    /// `false` (default), `true` or `any`.
    #[param(inline)]
    archived: Option<ArchivedFilter>,
}

/// Lists the workspace's projects, newest first.
#[utoipa::path(get, path = "/api/projects", tag = "projects", params(ListProjectsParams),
    security(("bearer" = [])),
    responses((status = 200, description = "OK", body = Page<Project>), (status = 401, description = "Missing, invalid or expired bearer token", body = ErrorBody), (status = 422, description = "Validation failed; details list the failing paths", body = ErrorBody)))]
async fn list_projects(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListProjectsParams>,
) -> Result<Json<Page<Project>>, ApiError> {
    let page = page_request(params.limit, params.cursor.as_deref())?;
    let archived = match params.archived.unwrap_or_default() {
        ArchivedFilter::False => Some(false),
        ArchivedFilter::True => Some(true),
        ArchivedFilter::Any => None,
    };
    let projects = state.projects.list_projects(&caller, &ProjectFilter { archived }, page).await?;
    Ok(Json(projects))
}

/// Creates a project.
#[utoipa::path(post, path = "/api/projects", tag = "projects", request_body = NewProject,
    security(("bearer" = [])),
    responses((status = 201, description = "Created", body = Project), (status = 401, description = "Missing, invalid or expired bearer token", body = ErrorBody), (status = 422, description = "Validation failed; details list the failing paths", body = ErrorBody)))]
async fn create_project(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<NewProject>,
) -> Result<impl IntoResponse, ApiError> {
    let project = state.projects.create_project(&caller, input).await?;
    let location = format!("/api/projects/{}", project.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(project)))
}

/// Reads a project.
#[utoipa::path(get, path = "/api/projects/{id}", tag = "projects", params(("id" = uuid::Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "OK", body = Project), (status = 404, description = "No such record in the caller's workspace", body = ErrorBody)))]
async fn get_project(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> Result<Json<Project>, ApiError> {
    Ok(Json(state.projects.get_project(&caller, id).await?))
}

/// Changes a project: absent fields stay, `null` clears.
#[utoipa::path(patch, path = "/api/projects/{id}", tag = "projects", params(("id" = uuid::Uuid, Path)),
    request_body = ProjectChanges, security(("bearer" = [])),
    responses((status = 200, description = "OK", body = Project), (status = 404, description = "No such record in the caller's workspace", body = ErrorBody), (status = 422, description = "Validation failed; details list the failing paths", body = ErrorBody)))]
async fn update_project(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ApiJson(changes): ApiJson<ProjectChanges>,
) -> Result<Json<Project>, ApiError> {
    Ok(Json(state.projects.update_project(&caller, id, changes).await?))
}

/// Deletes a project with its tasks (owners and admins).
#[utoipa::path(delete, path = "/api/projects/{id}", tag = "projects", params(("id" = uuid::Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted"), (status = 403, description = "The caller's role may not do this", body = ErrorBody), (status = 404, description = "No such record in the caller's workspace", body = ErrorBody)))]
async fn delete_project(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    state.projects.delete_project(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
