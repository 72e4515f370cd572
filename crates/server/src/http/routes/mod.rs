//! Every route of the HTTP API, one module per area, gathered into one OpenAPI document.

mod a2a;
mod activity;
mod admin;
mod agents;
mod ask;
mod auth;
mod dashboard;
mod dashboard_document;
mod dev;
mod health;
mod invitations;
mod members;
mod openapi;
mod paging;
mod projects;
mod schema;
mod sso;
mod sync;
mod tasks;
mod tokens;
mod usage;
mod workspace;

use axum::Router;
use openapi::BearerAuth;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "agentdeck", description = "Agents and people sharing a live dashboard: project data, widgets, auth."),
    modifiers(&BearerAuth),
    tags(
        (name = "projects", description = "Projects of the workspace"),
        (name = "dashboard", description = "Each user's dashboard state, written with JSON Patch"),
        (name = "sync", description = "Real-time sync of the dashboard over WebSocket (/api/sync)"),
        (name = "tasks", description = "Tasks, with blocked-by links"),
        (name = "members", description = "People and their weekly capacity"),
        (name = "workspace", description = "The caller's workspace"),
        (name = "invitations", description = "Inviting people to the workspace, and accepting an invitation"),
        (name = "auth", description = "Sign-in of people: sessions, sign-out, the caller (/api/me), single sign-on with OpenID Connect, linked identities"),
        (name = "tokens", description = "API tokens for scripts and agents: personal access and service tokens"),
        (name = "admin", description = "The instance's workspaces, for instance admins"),
        (name = "activity", description = "The append-only activity log"),
        (name = "schema", description = "The widget catalog"),
        (name = "operations", description = "Liveness and readiness"),
        (name = "dev", description = "Dev-mode conveniences"),
    )
)]
struct ApiDoc;

/// States the configured maximum token lifetime in the API description.
pub(crate) fn document_settings(openapi: &mut utoipa::openapi::OpenApi, settings: &crate::config::Settings) {
    tokens::document_max_lifetime(openapi, settings.tokens.max_lifetime_days);
}

/// The A2A routes (their contract is the A2A specification, not the OpenAPI document).
pub(crate) fn a2a() -> Router<AppState> {
    a2a::router()
}

/// Builds the API routes and the OpenAPI document that describes them.
pub(crate) fn api(dev_login: bool) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let mut router = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .merge(projects::router())
        .merge(tasks::router())
        .merge(members::router())
        .merge(activity::router())
        .merge(schema::router())
        .merge(dashboard::router())
        .merge(ask::router())
        .merge(usage::router())
        .merge(agents::router())
        .merge(workspace::router())
        .merge(admin::router())
        .merge(invitations::router())
        .merge(auth::router())
        .merge(tokens::router())
        .merge(sync::router())
        .merge(sso::router());
    if dev_login {
        router = router.merge(dev::router());
    }
    let (router, mut openapi) = router.split_for_parts();
    openapi.info.version = env!("CARGO_PKG_VERSION").to_owned();
    openapi::complete(&mut openapi);
    (router, openapi)
}
