//! `/api/activity`: the append-only log every change writes (read-only here).

use agentdeck_domain::page::Page;
use agentdeck_domain::records::{ActivityEntry, ActivityFilter};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::paging::page_request;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiQuery, Caller};
use crate::state::AppState;

/// Routes of this module.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_activity))
}

/// Query parameters of `GET /api/activity`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListActivityParams {
    /// Items per page (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// `nextCursor` of the previous page.
    cursor: Option<String>,
    /// Only entries about this project.
    project_id: Option<Uuid>,
    /// Only entries by this actor (token subject).
    actor: Option<String>,
    /// Only entries at or after this time (RFC 3339).
    since: Option<DateTime<Utc>>,
}

/// Lists activity entries, newest first.
#[utoipa::path(get, path = "/api/activity", tag = "activity", params(ListActivityParams),
    security(("bearer" = [])),
    responses((status = 200, description = "OK", body = Page<ActivityEntry>), (status = 401, description = "Missing, invalid or expired bearer token", body = ErrorBody), (status = 422, description = "Validation failed; details list the failing paths", body = ErrorBody)))]
async fn list_activity(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListActivityParams>,
) -> Result<Json<Page<ActivityEntry>>, ApiError> {
    let page = page_request(params.limit, params.cursor.as_deref())?;
    let filter = ActivityFilter { project_id: params.project_id, actor: params.actor, since: params.since };
    Ok(Json(state.projects.list_activity(&caller, &filter, page).await?))
}
