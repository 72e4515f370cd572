//! `/api/workspace`: the caller's own workspace — read it (any role), rename it (its owners).

use agentdeck_domain::auth::Role;
use agentdeck_domain::records::Workspace;
use agentdeck_services::accounts;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::{ApiJson, Caller};
use crate::state::AppState;

/// Routes of this module.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_workspace, rename_workspace))
}

/// Body of `PATCH /api/workspace`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct WorkspaceChanges {
    /// The new name (1–200 characters, trimmed).
    #[schema(min_length = 1, max_length = 200)]
    name: String,
}

/// The caller's workspace.
#[utoipa::path(get, path = "/api/workspace", tag = "workspace", security(("bearer" = [])),
    responses((status = 200, description = "OK", body = Workspace),
        (status = 401, description = "Missing, invalid or expired bearer token", body = ErrorBody)))]
async fn get_workspace(State(state): State<AppState>, caller: Caller) -> Result<Json<Workspace>, ApiError> {
    let workspace = state.stores.workspaces.get_workspace(caller.workspace_id).await?;
    workspace.map(Json).ok_or_else(|| ApiError::not_found("workspace"))
}

/// Renames the caller's workspace (its owners only).
#[utoipa::path(patch, path = "/api/workspace", tag = "workspace", request_body = WorkspaceChanges,
    security(("bearer" = [])),
    responses((status = 200, description = "OK", body = Workspace),
        (status = 403, description = "The caller's role may not do this", body = ErrorBody),
        (status = 422, description = "Validation failed; details list the failing paths", body = ErrorBody)))]
async fn rename_workspace(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(changes): ApiJson<WorkspaceChanges>,
) -> Result<Json<Workspace>, ApiError> {
    if caller.role != Role::Owner {
        return Err(ApiError::new(ErrorCode::Forbidden, "only an owner of the workspace may rename it"));
    }
    let workspace = accounts::rename_workspace(&state.stores, caller.workspace_id, &changes.name).await?;
    Ok(Json(workspace))
}
