//! `/api/admin/workspaces`: every workspace of the instance, for instance
//! admins (accounts flagged with `agentdeck account admin`): list them with
//! their member counts, disable and enable them.
//!
//! An instance admin is recognised by the account behind the token: its
//! subject is the account's id, and the account must be flagged and not
//! disabled. Everyone else gets 403, whatever their role in a workspace.

use agentdeck_domain::page::Page;
use agentdeck_domain::records::{Account, Workspace};
use agentdeck_services::accounts;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::paging::page_request;
use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::{ApiJson, ApiQuery, Caller, IdPath};
use crate::state::AppState;

/// Routes of this module.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_workspaces)).routes(routes!(change_workspace))
}

/// A workspace as an instance admin sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AdminWorkspace {
    /// Workspace id.
    id: Uuid,
    /// Name shown to people.
    name: String,
    /// Whether it is disabled (every request acting in it is refused).
    disabled: bool,
    /// When it was created.
    created_at: DateTime<Utc>,
    /// How many member records it has.
    members: u64,
}

impl AdminWorkspace {
    fn new(workspace: Workspace, members: u64) -> Self {
        Self {
            id: workspace.id,
            name: workspace.name,
            disabled: workspace.disabled,
            created_at: workspace.created_at,
            members,
        }
    }
}

/// Query parameters of `GET /api/admin/workspaces`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListWorkspacesParams {
    /// Items per page (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// `nextCursor` of the previous page.
    cursor: Option<String>,
}

/// Body of `PATCH /api/admin/workspaces/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct AdminWorkspaceChanges {
    /// Disable (`true`) or enable (`false`) the workspace.
    disabled: bool,
}

/// The caller's account when it is an enabled instance admin; 403 otherwise.
pub(super) async fn instance_admin(state: &AppState, caller: &Caller) -> Result<Account, ApiError> {
    let refused = || ApiError::new(ErrorCode::Forbidden, "only an instance admin may do this");
    let Ok(id) = Uuid::parse_str(&caller.subject) else { return Err(refused()) };
    match state.stores.accounts.get_account(id).await? {
        Some(account) if account.instance_admin && !account.disabled => Ok(account),
        _ => Err(refused()),
    }
}

/// Every workspace of the instance, newest first, with its member count (instance admins).
#[utoipa::path(get, path = "/api/admin/workspaces", tag = "admin", params(ListWorkspacesParams),
    security(("bearer" = [])),
    responses((status = 200, description = "OK", body = Page<AdminWorkspace>),
        (status = 403, description = "The caller is not an instance admin", body = ErrorBody)))]
async fn list_workspaces(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListWorkspacesParams>,
) -> Result<Json<Page<AdminWorkspace>>, ApiError> {
    instance_admin(&state, &caller).await?;
    let request = page_request(params.limit, params.cursor.as_deref())?;
    let page = accounts::workspace_summaries(&state.stores, request).await?;
    let items = page.items.into_iter().map(|summary| AdminWorkspace::new(summary.workspace, summary.members)).collect();
    Ok(Json(Page { items, next_cursor: page.next_cursor }))
}

/// Disables or enables a workspace (instance admins). Disabling takes effect
/// at once on this node and within a minute on the others.
#[utoipa::path(patch, path = "/api/admin/workspaces/{id}", tag = "admin", params(("id" = uuid::Uuid, Path)),
    request_body = AdminWorkspaceChanges, security(("bearer" = [])),
    responses((status = 200, description = "OK", body = Workspace),
        (status = 403, description = "The caller is not an instance admin", body = ErrorBody),
        (status = 404, description = "No such workspace", body = ErrorBody),
        (status = 422, description = "Validation failed; details list the failing paths", body = ErrorBody)))]
async fn change_workspace(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ApiJson(changes): ApiJson<AdminWorkspaceChanges>,
) -> Result<Json<Workspace>, ApiError> {
    let admin = instance_admin(&state, &caller).await?;
    let workspace = accounts::set_workspace_disabled(&state.stores, id, changes.disabled).await?;
    state.forget_workspace(id).await;
    tracing::info!(workspace = %id, disabled = changes.disabled, admin = %admin.id, "workspace disabled flag changed");
    Ok(Json(workspace))
}
