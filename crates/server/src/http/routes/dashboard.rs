//! `/api/dashboard/state`: the caller's own dashboard document (DESIGN §5.3).
//!
//! The version travels as the ETag `"<epoch>.<version>"`: `GET` answers 304
//! when `If-None-Match` names it, and every write may name the version it was
//! made against in `If-Match` (see [`agentdeck_services::dashboard`] for what
//! a stale one means). Patches must say they are patches
//! (`Content-Type: application/json-patch+json`), so a client that meant to
//! send a whole document never has it read as operations, or the reverse.
//!
//! The dashboard service announces every committed write to the user's open
//! sockets (see [`agentdeck_services::sync`]): a patch as a delta, a replace
//! or delete as a fresh snapshot. Nothing here has to remember to.

use agentdeck_domain::dashboard::version::{Precondition, StateVersion};
use agentdeck_services::dashboard::{Committed, DashboardView};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::dashboard_document::DashboardDocument;
use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::{ApiJson, Caller, idempotency_key};
use crate::state::AppState;

/// The one media type `PATCH` accepts (RFC 6902).
const JSON_PATCH: &str = "application/json-patch+json";
/// Revalidate every time: the ETag makes that cheap, and a stale dashboard is worse than a round trip.
const CACHE_CONTROL_VALUE: &str = "private, no-cache";

/// Routes of this module.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_state, replace_state, patch_state, delete_state))
}

/// The dashboard state with its version, as every successful read and write answers it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DashboardState {
    /// Id of the room's current log; a new one means "take a fresh snapshot".
    epoch: String,
    /// Committed changes in this epoch.
    version: u64,
    /// The document (see DESIGN §5.1 for its members).
    #[schema(value_type = DashboardDocument)]
    document: Value,
    /// Present and `true` when the stored document cannot be read by this
    /// server: `document` is an empty stand-in, writes are refused until `DELETE`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    degraded: bool,
    /// Present and `true` when the `Idempotency-Key` was committed before:
    /// nothing was applied, `version` is the first commit's.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    replayed: bool,
}

/// One RFC 6902 operation (for the API description; the body is read as raw JSON).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct PatchOperation {
    /// What to do.
    op: PatchOp,
    /// JSON Pointer into the document (a writable member or below it).
    #[schema(pattern = "^(/([^~/]|~[01])*)*$")]
    path: String,
    /// The value of `add`, `replace` and `test`: any JSON.
    #[schema(required = false)]
    value: Value,
    /// The source of `move` and `copy` (a JSON Pointer).
    #[schema(pattern = "^(/([^~/]|~[01])*)*$")]
    from: Option<String>,
}

/// The operations of RFC 6902.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[allow(dead_code, reason = "only described in the API document; patches are read as raw JSON")]
#[serde(rename_all = "lowercase")]
pub(crate) enum PatchOp {
    /// Adds a value (or inserts into an array).
    Add,
    /// Removes a value.
    Remove,
    /// Replaces a value.
    Replace,
    /// Moves a value from `from`.
    Move,
    /// Copies a value from `from`.
    Copy,
    /// Checks a value; the whole patch fails (409) when it differs.
    Test,
}

/// Reads the caller's dashboard.
#[utoipa::path(get, path = "/api/dashboard/state", tag = "dashboard",
    params(("If-None-Match" = Option<String>, Header, description = "An ETag read before; 304 when it is still current")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The document with its version; the ETag header is \"<epoch>.<version>\"", body = DashboardState),
        (status = 304, description = "Not modified: If-None-Match names the current version"),
        (status = 400, description = "If-None-Match is not an entity tag", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired bearer token", body = ErrorBody),
        (status = 404, description = "No dashboard state yet (or it expired)", body = ErrorBody),
        (status = 503, description = "The state store is unavailable; retry shortly", body = ErrorBody)))]
async fn get_state(State(state): State<AppState>, caller: Caller, headers: HeaderMap) -> Result<Response, ApiError> {
    let if_none_match = precondition(&headers, &header::IF_NONE_MATCH)?;
    let Some(view) = state.dashboard.get(&caller).await? else {
        return Err(ApiError::not_found("dashboard state"));
    };
    if let Some(if_none_match) = if_none_match
        && !if_none_match.if_none_match_passes(Some(&view.version))
    {
        return Ok((StatusCode::NOT_MODIFIED, version_headers(&view.version)).into_response());
    }
    let headers = version_headers(&view.version);
    Ok((headers, Json(DashboardState::from_view(view)?)).into_response())
}

/// Replaces the whole document (starts a new epoch).
#[utoipa::path(put, path = "/api/dashboard/state", tag = "dashboard",
    params(("If-Match" = Option<String>, Header, description = "The version the document replaces; 412 unless it is current")),
    request_body(content = DashboardDocument, description = "The whole document"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Stored; the body and ETag carry the new version", body = DashboardState),
        (status = 400, description = "If-Match is not an entity tag, or the body is not JSON", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired bearer token", body = ErrorBody),
        (status = 409, description = "Other writers kept committing, or the stored document is unreadable (DELETE resets it)", body = ErrorBody),
        (status = 412, description = "If-Match does not name the current version; details hold it", body = ErrorBody),
        (status = 413, description = "The document is larger than the cap", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "The document breaks a rule; details list the failing paths", body = ErrorBody),
        (status = 503, description = "The state store is unavailable; retry shortly", body = ErrorBody)))]
async fn replace_state(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(document): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let if_match = precondition(&headers, &header::IF_MATCH)?;
    let committed = state.dashboard.replace(&caller, &document, if_match).await?;
    committed_response(committed)
}

/// Applies an RFC 6902 JSON Patch, all operations or none.
#[utoipa::path(patch, path = "/api/dashboard/state", tag = "dashboard",
    params(
        ("If-Match" = Option<String>, Header, description = "The version the patch was made against; an older one of the same epoch is rebased when its paths are disjoint"),
        ("Idempotency-Key" = Option<String>, Header, description = "At most 200 characters; a retry with the same key is applied once")),
    request_body(content = Vec<PatchOperation>, content_type = "application/json-patch+json", description = "RFC 6902 operations"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Applied (or replayed); the body and ETag carry the version", body = DashboardState),
        (status = 400, description = "A header is malformed, or the body is not JSON", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired bearer token", body = ErrorBody),
        (status = 409, description = "Conflict: the patch overlaps changes made since its base (details hold the current version and the conflicting paths, never none), a test op failed, or the stored document is unreadable", body = ErrorBody),
        (status = 412, description = "If-Match names another epoch; details hold the current version", body = ErrorBody),
        (status = 413, description = "The resulting document is larger than the cap", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json-patch+json", body = ErrorBody),
        (status = 422, description = "The patch or its result breaks a rule; details list the failing paths", body = ErrorBody),
        (status = 503, description = "The state store is unavailable; retry shortly", body = ErrorBody)))]
async fn patch_state(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(ops): ApiJson<Value>,
) -> Result<Response, ApiError> {
    // ApiJson takes any `application/*+json`; a patch must say it is one.
    if !is_json_patch(&headers) {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!("a dashboard patch must be sent as Content-Type: {JSON_PATCH}"),
        ));
    }
    let if_match = precondition(&headers, &header::IF_MATCH)?;
    // Scoped to the caller, so one user's key can never replay another's write.
    let op_key = idempotency_key(&headers)?.map(|key| format!("{}:{key}", caller.subject));
    let committed = state.dashboard.patch(&caller, &ops, if_match, op_key).await?;
    committed_response(committed)
}

/// Deletes the caller's dashboard (also resets one the server cannot read).
#[utoipa::path(delete, path = "/api/dashboard/state", tag = "dashboard",
    params(("If-Match" = Option<String>, Header, description = "Delete only at this version")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "If-Match is not an entity tag", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired bearer token", body = ErrorBody),
        (status = 404, description = "No dashboard state", body = ErrorBody),
        (status = 412, description = "If-Match does not name the current version; details hold it", body = ErrorBody),
        (status = 503, description = "The state store is unavailable; retry shortly", body = ErrorBody)))]
async fn delete_state(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let if_match = precondition(&headers, &header::IF_MATCH)?;
    state.dashboard.delete(&caller, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

impl DashboardState {
    fn from_view(view: DashboardView) -> Result<Self, ApiError> {
        Ok(Self {
            epoch: view.version.epoch,
            version: view.version.version,
            document: document_value(&view.document)?,
            degraded: view.degraded,
            replayed: false,
        })
    }
}

fn committed_response(committed: Committed) -> Result<Response, ApiError> {
    let headers = version_headers(&committed.version);
    let body = DashboardState {
        document: document_value(&committed.document)?,
        epoch: committed.version.epoch,
        version: committed.version.version,
        degraded: false,
        replayed: committed.replayed,
    };
    Ok((headers, Json(body)).into_response())
}

fn document_value(document: &impl Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(document).map_err(|error| ApiError::internal().with_cause(error))
}

/// The ETag and cache headers of a versioned answer.
fn version_headers(version: &StateVersion) -> [(HeaderName, String); 2] {
    [(header::ETAG, version.etag()), (header::CACHE_CONTROL, CACHE_CONTROL_VALUE.to_owned())]
}

/// Reads `If-Match` or `If-None-Match`; a malformed one is 400, never ignored.
fn precondition(headers: &HeaderMap, name: &HeaderName) -> Result<Option<Precondition>, ApiError> {
    let Some(value) = headers.get(name) else { return Ok(None) };
    let bad = |message: String| ApiError::new(ErrorCode::BadRequest, format!("{name}: {message}"));
    let text = value.to_str().map_err(|_| bad("must be visible ASCII".to_owned()))?;
    Precondition::parse(text).map(Some).map_err(|error| bad(error.to_string()))
}

/// Whether `Content-Type` is exactly `application/json-patch+json` (parameters such as `charset` allowed).
fn is_json_patch(headers: &HeaderMap) -> bool {
    let Some(mime) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<mime::Mime>().ok())
    else {
        return false;
    };
    mime.type_() == mime::APPLICATION
        && mime.subtype().as_str().eq_ignore_ascii_case("json-patch")
        && mime.suffix() == Some(mime::JSON)
}
