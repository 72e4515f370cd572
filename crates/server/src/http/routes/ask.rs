//! `POST /api/ask`: a question answered with widgets by the Dashboard Agent,
//! which also puts them on the caller's dashboard.

use agentdeck_domain::records::wire_schema;
use agentdeck_services::gateway::{AskRequest, AskResponse, MAX_QUESTION_CHARS};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, Caller, Credential, bearer_token};
use crate::state::AppState;

/// How long the JWT minted for the agent calls of an API token or session caller lives: as long
/// as the gateway re-asks the question on live refresh, so the refreshes of the answer keep working.
const AGENT_CALL_TOKEN_TTL: std::time::Duration = agentdeck_services::gateway::LIVE_REFRESH_HORIZON;

/// The header carrying how long the answer's steps took.
const SERVER_TIMING: HeaderName = HeaderName::from_static("server-timing");

/// Routes of this module.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ask))
}

/// The body of `POST /api/ask`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct AskBody {
    /// The question ("workspace overview", "how is Website Redesign doing").
    #[schema(schema_with = question_schema)]
    question: String,
    /// A project to narrow to.
    #[serde(default)]
    project_id: Option<uuid::Uuid>,
}

/// `question`: at most [`MAX_QUESTION_CHARS`] characters, not only whitespace (the gateway's rule).
fn question_schema() -> utoipa::openapi::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .description(Some(format!("The question: 1–{MAX_QUESTION_CHARS} characters, not only whitespace")))
        .max_length(Some(MAX_QUESTION_CHARS))
        .pattern(Some(wire_schema::non_blank_pattern()))
        .build()
}

/// The answer of `POST /api/ask` (for the API description; the gateway builds it).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct AskAnswer {
    /// A short text.
    text: String,
    /// The widgets, each `{id, type, title?, source, data}`, checked against the catalog
    /// (`/api/schema/widgets.json`); `source` is this question; an agent that failed or
    /// was late becomes a retryable Error widget `gateway-unavailable-<agent>`.
    #[schema(value_type = Vec<Object>)]
    widgets: Vec<serde_json::Value>,
    /// Per agent called.
    agents: std::collections::BTreeMap<String, AgentReportBody>,
}

/// How one agent call went.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct AgentReportBody {
    /// Whether it answered.
    ok: bool,
    /// How long it took, in milliseconds.
    ms: u64,
    /// Why it did not answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    error: Option<String>,
}

/// Answers a question with widgets from Navigator, Vitals and Activity (called over A2A, in parallel).
#[utoipa::path(post, path = "/api/ask", tag = "dashboard", security(("bearer" = [])), request_body = AskBody,
    responses((status = 200, description = "The answer, its widgets, and how each agent call went", body = AskAnswer,
            headers(("Server-Timing" = String, description = "How long each agent call took (`agent-navi;dur=21.4`, in milliseconds) and the whole answer (`ask;dur=…`): what the gateway added over the slowest agent is their difference"))),
        (status = 409, description = "The dashboard could not take the answer: other writers kept committing, or the stored document is unreadable (DELETE /api/dashboard/state resets it)", body = ErrorBody),
        (status = 413, description = "The dashboard with the answer would be larger than the cap", body = ErrorBody),
        (status = 422, description = "Empty or overlong question, or a body that breaks a rule; details list the failing paths", body = ErrorBody)))]
async fn ask(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<AskBody>,
) -> Result<Response, ApiError> {
    let token = bearer_for_agents(&state, &caller, &headers)?;
    let traceparent = headers.get("traceparent").and_then(|v| v.to_str().ok());
    let request = AskRequest { question: body.question, project_id: body.project_id };
    let started = std::time::Instant::now();
    let answer = state.gateway.ask(&caller, &token, traceparent, &request).await?;
    let timing = server_timing(&answer, started.elapsed());
    let mut response = Json(answer).into_response();
    if let Ok(value) = HeaderValue::from_str(&timing) {
        response.headers_mut().insert(SERVER_TIMING, value);
    }
    Ok(response)
}

/// The `Server-Timing` header (W3C Server Timing) of an answer: each agent
/// call, then the whole answer, in milliseconds with microseconds.
fn server_timing(answer: &AskResponse, took: std::time::Duration) -> String {
    let millis = |duration: std::time::Duration| duration.as_secs_f64() * 1000.0;
    let mut metrics: Vec<String> =
        answer.agents.iter().map(|(agent, report)| format!("agent-{agent};dur={:.3}", millis(report.took))).collect();
    metrics.push(format!("ask;dur={:.3}", millis(took)));
    metrics.join(", ")
}

/// The bearer the gateway's agent calls carry: a JWT caller's own token; for
/// an API token (whose `write` scope allowed the ask, but which may lack
/// `agents`) or a session (which has no bearer at all), a short-lived JWT of
/// the same principal, when this server can sign one (else the API token itself).
fn bearer_for_agents(state: &AppState, caller: &Caller, headers: &HeaderMap) -> Result<String, ApiError> {
    if !matches!(caller.credential, Credential::Jwt)
        && let Ok(minted) = state.tokens.issue(caller, AGENT_CALL_TOKEN_TTL, chrono::Utc::now())
    {
        return Ok(minted);
    }
    let own = bearer_token(headers).ok_or(agentdeck_services::auth::AuthError::Missing)?;
    Ok(own.to_owned())
}
