//! `POST /api/ask`: a question answered with widgets by the Dashboard Agent,
//! which also puts them on the caller's dashboard.

use agentdeck_services::gateway::AskRequest;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, Caller, bearer_token};
use crate::state::AppState;

/// Routes of this module.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ask))
}

/// The body of `POST /api/ask`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct AskBody {
    /// The question ("workspace overview", "how is Website Redesign doing").
    question: String,
    /// A project to narrow to.
    #[serde(default)]
    project_id: Option<uuid::Uuid>,
}

/// Answers a question with widgets from Navigator, Vitals and Activity (called over A2A, in parallel).
#[utoipa::path(post, path = "/api/ask", tag = "dashboard", security(("bearer" = [])), request_body = AskBody,
    responses((status = 200, description = "`{text, widgets, agents}`: the answer, the widgets (checked against the catalog; failed agents become Alert widgets), and per agent `{ok, ms, error?}`"),
        (status = 401, description = "No valid bearer token"), (status = 422, description = "Empty or overlong question")))]
async fn ask(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<AskBody>,
) -> Result<Response, ApiError> {
    let token = bearer_token(&headers).ok_or(agentdeck_services::auth::AuthError::Missing)?;
    let traceparent = headers.get("traceparent").and_then(|v| v.to_str().ok());
    let request = AskRequest { question: body.question, project_id: body.project_id };
    let answer = state.gateway.ask(&caller, token, traceparent, &request).await?;
    Ok(Json(answer).into_response())
}
