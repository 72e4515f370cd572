//! `/api/tasks`: create, read, update, delete and list tasks.

use agentdeck_domain::page::Page;
use agentdeck_domain::records::{NewTask, Task, TaskChanges, TaskFilter, TaskStatus};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::paging::page_request;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiQuery, Caller, IdPath};
use crate::state::AppState;

/// Routes of this module.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_tasks, create_task)).routes(routes!(get_task, update_task, delete_task))
}

/// Query parameters of `GET /api/tasks`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListTasksParams {
    /// Items per page (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// `nextCursor` of the previous page.
    cursor: Option<String>,
    /// Only tasks of this project.
    project_id: Option<Uuid>,
    /// Only tasks in this status.
    status: Option<TaskStatus>,
    /// Only tasks assigned to this member.
    assignee_id: Option<Uuid>,
    /// Only tasks due before this time (RFC 3339).
    due_before: Option<DateTime<Utc>>,
    /// Only tasks due after this time (RFC 3339).
    due_after: Option<DateTime<Utc>>,
}

/// Lists the workspace's tasks, newest first, filtered.
#[utoipa::path(get, path = "/api/tasks", tag = "tasks", params(ListTasksParams),
    security(("bearer" = [])),
    responses((status = 200, description = "OK", body = Page<Task>), (status = 401, description = "Missing, invalid or expired bearer token", body = ErrorBody), (status = 422, description = "Validation failed; details list the failing paths", body = ErrorBody)))]
async fn list_tasks(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListTasksParams>,
) -> Result<Json<Page<Task>>, ApiError> {
    let page = page_request(params.limit, params.cursor.as_deref())?;
    let filter = TaskFilter {
        project_id: params.project_id,
        status: params.status,
        assignee_id: params.assignee_id,
        due_before: params.due_before,
        due_after: params.due_after,
    };
    Ok(Json(state.projects.list_tasks(&caller, &filter, page).await?))
}

/// Creates a task; blocked-by links that would form a cycle are refused (422).
#[utoipa::path(post, path = "/api/tasks", tag = "tasks", request_body = NewTask,
    security(("bearer" = [])),
    responses((status = 201, description = "Created", body = Task), (status = 401, description = "Missing, invalid or expired bearer token", body = ErrorBody), (status = 422, description = "Validation failed; details list the failing paths", body = ErrorBody)))]
async fn create_task(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<NewTask>,
) -> Result<impl IntoResponse, ApiError> {
    let task = state.projects.create_task(&caller, input).await?;
    let location = format!("/api/tasks/{}", task.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(task)))
}

/// Reads a task.
#[utoipa::path(get, path = "/api/tasks/{id}", tag = "tasks", params(("id" = uuid::Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "OK", body = Task), (status = 404, description = "No such record in the caller's workspace", body = ErrorBody)))]
async fn get_task(State(state): State<AppState>, caller: Caller, IdPath(id): IdPath) -> Result<Json<Task>, ApiError> {
    Ok(Json(state.projects.get_task(&caller, id).await?))
}

/// Changes a task: absent fields stay, `null` clears; `done` records completion.
#[utoipa::path(patch, path = "/api/tasks/{id}", tag = "tasks", params(("id" = uuid::Uuid, Path)),
    request_body = TaskChanges, security(("bearer" = [])),
    responses((status = 200, description = "OK", body = Task), (status = 404, description = "No such record in the caller's workspace", body = ErrorBody), (status = 422, description = "Validation failed; details list the failing paths", body = ErrorBody)))]
async fn update_task(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ApiJson(changes): ApiJson<TaskChanges>,
) -> Result<Json<Task>, ApiError> {
    Ok(Json(state.projects.update_task(&caller, id, changes).await?))
}

/// Deletes a task and every link to or from it.
#[utoipa::path(delete, path = "/api/tasks/{id}", tag = "tasks", params(("id" = uuid::Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such record in the caller's workspace", body = ErrorBody)))]
async fn delete_task(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    state.projects.delete_task(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
