//! `GET /api/schema/widgets.json`: the widget catalog, the same file the server validates with.

use agentdeck_domain::widgets::catalog;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// Routes of this module.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(widget_schema))
}

/// Serves the widget JSON Schema (draft 2020-12).
#[utoipa::path(get, path = "/api/schema/widgets.json", tag = "schema",
    responses((status = 200, description = "The widget catalog as JSON Schema", content_type = "application/schema+json")))]
async fn widget_schema() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/schema+json"), (header::CACHE_CONTROL, "public, max-age=300")],
        catalog().schema_json(),
    )
}
