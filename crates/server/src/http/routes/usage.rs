//! `GET /api/usage`: the caller's workspace's token usage, per UTC day.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::ApiError;
use crate::http::extract::Caller;
use crate::state::AppState;

/// Days a usage answer covers, today included.
const DAYS: u32 = 30;

/// Routes of this module.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(usage))
}

/// One day's counts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UsageDayBody {
    /// `YYYY-MM-DD` (UTC).
    day: String,
    /// Tokens of messages sent to the hosted agents.
    tokens_in: i64,
    /// Tokens of their answers.
    tokens_out: i64,
}

/// The answer of `GET /api/usage`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UsageBody {
    /// The workspace.
    workspace_id: String,
    /// The tokenizer vocabulary counted with (`cl100k_base`).
    encoding: &'static str,
    /// Today's counts (zero when nothing was sent).
    today: UsageDayBody,
    /// The last 30 days with counts, oldest first.
    days: Vec<UsageDayBody>,
    /// Tokens (in and out) the workspace may use per UTC day (`metering.daily_quota_tokens`); 0: no quota.
    daily_quota_tokens: u64,
}

/// Tokens the workspace's agent messages carried, in and out, per day.
#[utoipa::path(get, path = "/api/usage", tag = "dashboard", security(("bearer" = [])),
    responses((status = 200, description = "Token usage of the caller's workspace", body = UsageBody),
        (status = 401, description = "No valid bearer token")))]
async fn usage(State(state): State<AppState>, caller: Caller) -> Result<Json<UsageBody>, ApiError> {
    let workspace = caller.workspace_id.to_string();
    let days = state.meter.usage(&workspace, DAYS).await?;
    let today_key = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let body = |day: &agentdeck_storage::usage::UsageDay| UsageDayBody {
        day: day.day.clone(),
        tokens_in: day.tokens_in,
        tokens_out: day.tokens_out,
    };
    let today = days
        .iter()
        .find(|day| day.day == today_key)
        .map_or(UsageDayBody { day: today_key.clone(), tokens_in: 0, tokens_out: 0 }, body);
    Ok(Json(UsageBody {
        workspace_id: workspace,
        encoding: state.meter.encoding().as_str(),
        today,
        days: days.iter().map(body).collect(),
        daily_quota_tokens: state.settings.metering.daily_quota_tokens,
    }))
}
