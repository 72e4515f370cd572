//! `POST /api/dev/login`: one-click sign-in as the demo user (dev mode only).
//!
//! Mounted only when `auth.dev_login` is on, which production mode refuses, so
//! in production the route does not exist at all (404).
//!
//! It hands a token to anyone who can reach it, so it answers only requests whose
//! `Host` names this server (the public URL's host or a loopback name) and whose
//! `Origin`, if any, is trusted ([`crate::http::origin`]): a DNS-rebinding page
//! (`Host: evil.example:8080`) is refused with 403.

use agentdeck_domain::auth::{Principal, Role};
use agentdeck_services::seed::{DEMO_USER_ID, DEMO_WORKSPACE_ID};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::state::AppState;

/// Routes of this module.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(dev_login))
}

/// A token for the demo user and who that is.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DevLogin {
    /// Bearer token for `Authorization: Bearer …`.
    token: String,
    /// When the token expires.
    expires_at: DateTime<Utc>,
    /// The demo user.
    user: DevUser,
    /// The demo workspace.
    workspace: DevWorkspace,
}

/// The demo user.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DevUser {
    /// Token subject.
    id: String,
    /// Member id in the workspace.
    member_id: Uuid,
    /// Name shown to people.
    display_name: String,
    /// Role in the workspace.
    role: Role,
}

/// The demo workspace.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DevWorkspace {
    /// Workspace id.
    id: Uuid,
    /// Workspace name.
    name: String,
}

/// Signs in as the demo user of the demo workspace.
#[utoipa::path(post, path = "/api/dev/login", tag = "dev",
    responses((status = 200, description = "OK", body = DevLogin),
        (status = 403, description = "`Host` or `Origin` does not name this server (DNS rebinding)", body = ErrorBody),
        (status = 404, description = "The demo workspace was not seeded", body = ErrorBody)))]
async fn dev_login(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<DevLogin>, ApiError> {
    check_host_and_origin(&state, &headers)?;
    let not_seeded = || ApiError::new(ErrorCode::NotFound, "the demo workspace was not seeded (auth.seed_demo is off)");
    let workspace = state.stores.workspaces.get_workspace(DEMO_WORKSPACE_ID).await?.ok_or_else(not_seeded)?;
    let member =
        state.stores.members.find_member_by_user(DEMO_WORKSPACE_ID, DEMO_USER_ID).await?.ok_or_else(not_seeded)?;
    let principal = Principal { subject: member.user_id.clone(), workspace_id: workspace.id, role: member.role.into() };
    let now = Utc::now();
    let ttl = state.settings.token_ttl();
    let token = state.tokens.issue(&principal, ttl, now).map_err(|error| ApiError::internal().with_cause(error))?;
    let expires_at = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(12));
    Ok(Json(DevLogin {
        token,
        expires_at,
        user: DevUser {
            id: member.user_id,
            member_id: member.id,
            display_name: member.display_name,
            role: principal.role,
        },
        workspace: DevWorkspace { id: workspace.id, name: workspace.name },
    }))
}

/// Refuses a request whose `Host` is not this server's name, or whose `Origin` is untrusted.
fn check_host_and_origin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let host = headers.get(header::HOST).and_then(|value| value.to_str().ok()).unwrap_or_default();
    if !state.origins.allows_host(host) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "dev login answers only this server's own name (public_url or a loopback name) in Host",
        ));
    }
    if let Some(origin) = headers.get(header::ORIGIN)
        && !origin.to_str().is_ok_and(|origin| state.origins.allows_origin(origin))
    {
        return Err(ApiError::new(ErrorCode::Forbidden, "dev login does not answer pages of this Origin"));
    }
    Ok(())
}
