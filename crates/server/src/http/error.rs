//! One error type for the whole HTTP edge, mapped once to a status and the JSON
//! shape `{"error": {"code", "message", "details"?}}`.
//!
//! Handlers return `Result<_, ApiError>`; library errors convert into it here
//! and nowhere else. Server-side failures (5xx) are logged with their cause when
//! the response is built, inside the request's span, and their cause is never
//! shown to the client.

use std::sync::Arc;

use agentdeck_domain::dashboard::patch::PatchError;
use agentdeck_domain::dashboard::version::StateVersion;
use agentdeck_domain::errors::error_chain;
use agentdeck_domain::validation::{CONTROL_CHARACTER_MESSAGE, FieldError, ValidationErrors};
use agentdeck_services::auth::AuthError;
use agentdeck_services::dashboard::DashboardError;
use agentdeck_services::gateway::GatewayError;
use agentdeck_services::projects::ServiceError;
use agentdeck_services::sync::HubError;
use agentdeck_storage::StoreError;
use agentdeck_storage::tickets::TicketError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

/// Machine-readable error codes; each maps to exactly one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the request is malformed in a way not covered below.
    BadRequest,
    /// 400: the body is not valid JSON.
    InvalidJson,
    /// 400: the body nests deeper than allowed.
    JsonTooDeep,
    /// 401: no valid bearer token.
    Unauthorized,
    /// 403: authenticated, but the role may not do this.
    Forbidden,
    /// 404: no such route or record (records of other workspaces included).
    NotFound,
    /// 405: the route exists, the method does not.
    MethodNotAllowed,
    /// 408: the request took too long.
    RequestTimeout,
    /// 409: the change conflicts with the current state.
    Conflict,
    /// 412: a precondition (`If-Match`) failed.
    PreconditionFailed,
    /// 413: the body is larger than allowed.
    PayloadTooLarge,
    /// 415: the body is not JSON.
    UnsupportedMediaType,
    /// 422: well-formed input that breaks a rule; `details` lists the paths.
    ValidationFailed,
    /// 429: too many requests; see `Retry-After`.
    RateLimited,
    /// 500: a bug or an unexpected failure.
    Internal,
    /// 503: a dependency (the database) is unavailable; retry later.
    Unavailable,
}

impl ErrorCode {
    /// The HTTP status of this code.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::BadRequest | ErrorCode::InvalidJson | ErrorCode::JsonTooDeep => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::ValidationFailed => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The code that stands for a bare status (for responses made by layers).
    pub fn for_status(status: StatusCode) -> ErrorCode {
        match status {
            StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
            StatusCode::FORBIDDEN => ErrorCode::Forbidden,
            StatusCode::NOT_FOUND => ErrorCode::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
            StatusCode::REQUEST_TIMEOUT => ErrorCode::RequestTimeout,
            StatusCode::CONFLICT => ErrorCode::Conflict,
            StatusCode::PRECONDITION_FAILED => ErrorCode::PreconditionFailed,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::ValidationFailed,
            StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
            StatusCode::SERVICE_UNAVAILABLE => ErrorCode::Unavailable,
            status if status.is_server_error() => ErrorCode::Internal,
            _ => ErrorCode::BadRequest,
        }
    }
}

/// An error answer: code, human message, optional details, optional hidden cause.
#[derive(Debug, Clone)]
pub struct ApiError {
    code: ErrorCode,
    message: String,
    details: Option<Value>,
    cause: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable code.
    pub code: ErrorCode,
    /// Human-readable message.
    pub message: String,
    /// Left out when there is nothing to add; see [`ErrorDetails`].
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = ErrorDetails, required = false)]
    pub details: Option<Value>,
}

/// The shapes `details` takes (for the API description; built as JSON where the error is made).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ErrorDetails {
    /// `validation_failed` (422), and a taken unique value (409): the failing places as `{path, message}`.
    Fields(Vec<FieldError>),
    /// Other codes: facts about the error, such as the current version of a 409 or 412
    /// (`{epoch, version}`), the limit of a 413 or the position of `invalid_json`.
    Facts(std::collections::BTreeMap<String, Value>),
}

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), details: None, cause: None }
    }

    /// Attaches details shown to the client.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// Attaches a cause that is logged but never shown.
    pub fn with_cause(mut self, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.cause = Some(Arc::new(cause));
        self
    }

    /// 404 for a record kind.
    pub fn not_found(kind: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{kind} not found"))
    }

    /// 422 with field errors.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let message = ValidationErrors(errors.clone()).to_string();
        Self::new(ErrorCode::ValidationFailed, message).with_details(serde_json::json!(errors))
    }

    /// 500 without detail for the client.
    pub fn internal() -> Self {
        Self::new(ErrorCode::Internal, "internal server error")
    }

    /// The code of this error.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The details shown to the client, if any.
    pub fn details(&self) -> Option<&Value> {
        self.details.as_ref()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        if status.is_server_error() {
            let cause = self.cause.as_ref().map(|cause| error_chain(cause.as_ref()));
            tracing::error!(code = ?self.code, cause = cause.as_deref().unwrap_or("none"), "request failed");
        }
        let body = ErrorBody { error: ErrorDetail { code: self.code, message: self.message, details: self.details } };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"agentdeck\""));
        }
        response
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::NotFound(kind) => ApiError::not_found(kind),
            ServiceError::Invalid(errors) => ApiError::validation(errors.0),
            ServiceError::Forbidden(message) => ApiError::new(ErrorCode::Forbidden, message),
            ServiceError::Duplicate { ref path } => ApiError::new(ErrorCode::Conflict, error.to_string())
                .with_details(serde_json::json!([{ "path": path, "message": "is already taken" }])),
            ServiceError::Conflict => ApiError::new(ErrorCode::Conflict, error.to_string()),
            ServiceError::Unavailable(cause) => ApiError::from(cause),
            ServiceError::Store(cause) => ApiError::from(cause),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(_) => {
                ApiError::new(ErrorCode::Unavailable, "the database is unavailable; retry shortly").with_cause(error)
            }
            StoreError::NotFound => ApiError::not_found("record"),
            StoreError::InvalidText { path } => {
                ApiError::validation(vec![FieldError::new(path, CONTROL_CHARACTER_MESSAGE)])
            }
            other => ApiError::internal().with_cause(other),
        }
    }
}

impl From<DashboardError> for ApiError {
    /// Conflicts carry the current version in `details` (`{"epoch", "version"}`)
    /// so the client can re-read and retry; a failed `test` op is a conflict
    /// (409) like an overlapping write, since both mean "the state is not what
    /// you assumed"; an over-cap document is 413; every other rule is 422 with
    /// the failing paths.
    fn from(error: DashboardError) -> Self {
        let version =
            |version: &StateVersion| serde_json::json!({ "epoch": version.epoch, "version": version.version });
        match error {
            DashboardError::NotFound => ApiError::not_found("dashboard state"),
            DashboardError::PreconditionFailed { ref current } => {
                let details =
                    current.as_ref().map_or_else(|| serde_json::json!({ "epoch": null, "version": null }), version);
                ApiError::new(ErrorCode::PreconditionFailed, error.to_string()).with_details(details)
            }
            DashboardError::Conflict { ref current, ref paths } => {
                let mut details = version(current);
                details["paths"] = serde_json::json!(paths);
                ApiError::new(ErrorCode::Conflict, error.to_string()).with_details(details)
            }
            DashboardError::Rejected(rejected) => match rejected {
                PatchError::TooLarge { bytes, limit } => {
                    ApiError::new(ErrorCode::PayloadTooLarge, rejected.to_string())
                        .with_details(serde_json::json!({ "bytes": bytes, "limit": limit }))
                }
                PatchError::TestFailed { op, ref path } => ApiError::new(ErrorCode::Conflict, rejected.to_string())
                    .with_details(serde_json::json!({ "reason": rejected.code(), "op": op, "path": path })),
                other => ApiError::new(ErrorCode::ValidationFailed, other.to_string())
                    .with_details(serde_json::json!(other.field_errors())),
            },
            DashboardError::Unreadable => ApiError::new(
                ErrorCode::Conflict,
                "the stored dashboard state cannot be read by this server, so it is not overwritten; \
                 DELETE /api/dashboard/state resets it",
            ),
            DashboardError::Unavailable(_) => {
                ApiError::new(ErrorCode::Unavailable, "the dashboard state store is unavailable; retry shortly")
                    .with_cause(error)
            }
            DashboardError::Storage(_) => ApiError::internal().with_cause(error),
        }
    }
}

impl From<crate::state::WorkspaceRefusal> for ApiError {
    fn from(refusal: crate::state::WorkspaceRefusal) -> Self {
        match refusal {
            crate::state::WorkspaceRefusal::Auth(error) => error.into(),
            crate::state::WorkspaceRefusal::Store(error) => error.into(),
        }
    }
}

impl From<agentdeck_services::accounts::AccountError> for ApiError {
    /// Rules broken are 422 with their paths, an unknown workspace 404; the rest is the store's or a bug.
    fn from(error: agentdeck_services::accounts::AccountError) -> Self {
        use agentdeck_services::accounts::AccountError;
        match error {
            AccountError::Invalid(errors) => ApiError::validation(errors.0),
            AccountError::UnknownWorkspace(_) => ApiError::not_found("workspace"),
            AccountError::Store(error) => error.into(),
            other => ApiError::internal().with_cause(other),
        }
    }
}

impl From<agentdeck_services::accounts::sessions::SessionError> for ApiError {
    /// One 401 for every refused sign-in and ended session; 429 for a locked
    /// email (the route adds `Retry-After`); 404 for a workspace the account is
    /// not a member of; 403 for a disabled or missing usable workspace.
    fn from(error: agentdeck_services::accounts::sessions::SessionError) -> Self {
        use agentdeck_services::accounts::sessions::SessionError;
        match error {
            SessionError::SignInRefused | SessionError::NoSession => {
                ApiError::new(ErrorCode::Unauthorized, error.to_string())
            }
            SessionError::Locked { .. } => ApiError::new(ErrorCode::RateLimited, error.to_string()),
            SessionError::NotAMember => ApiError::not_found("workspace"),
            SessionError::WorkspaceDisabled | SessionError::NoUsableWorkspace => {
                ApiError::new(ErrorCode::Forbidden, error.to_string())
            }
            SessionError::Store(error) => error.into(),
            SessionError::Random(_) | SessionError::Password(_) => ApiError::internal().with_cause(error),
        }
    }
}

impl From<AuthError> for ApiError {
    /// 403 for a disabled workspace (the caller is known, the workspace may not be used); 401 otherwise.
    fn from(error: AuthError) -> Self {
        let code = match error {
            AuthError::WorkspaceDisabled => ErrorCode::Forbidden,
            _ => ErrorCode::Unauthorized,
        };
        ApiError::new(code, error.to_string())
    }
}

impl From<GatewayError> for ApiError {
    /// An empty or overlong question is 422 at `/question`; the rest is the store's or the dashboard's.
    fn from(error: GatewayError) -> Self {
        match error {
            GatewayError::InvalidQuestion(message) => ApiError::new(ErrorCode::ValidationFailed, message.clone())
                .with_details(serde_json::json!([{"path": "/question", "message": message}])),
            GatewayError::Store(error) => error.into(),
            GatewayError::Dashboard(error) => error.into(),
        }
    }
}

impl From<HubError> for ApiError {
    /// A socket over the connection caps is 429; a busy or stopping room is 503 (retry shortly).
    fn from(error: HubError) -> Self {
        let code = match error {
            HubError::TooManyConnections { .. } => ErrorCode::RateLimited,
            HubError::Busy | HubError::Closed => ErrorCode::Unavailable,
        };
        ApiError::new(code, error.to_string())
    }
}

impl From<TicketError> for ApiError {
    /// An unreachable or full ticket store is 503; a corrupt ticket is a bug (500).
    fn from(error: TicketError) -> Self {
        match error {
            TicketError::Unavailable(_) | TicketError::Full => {
                ApiError::new(ErrorCode::Unavailable, "tickets are unavailable; retry shortly").with_cause(error)
            }
            TicketError::Corrupt(_) => ApiError::internal().with_cause(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(error: ApiError) -> (StatusCode, Value) {
        let response = error.into_response();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn every_code_has_its_status_and_the_shared_shape() {
        let codes = [
            (ErrorCode::RateLimited, 429, "rate_limited"),
            (ErrorCode::PayloadTooLarge, 413, "payload_too_large"),
            (ErrorCode::UnsupportedMediaType, 415, "unsupported_media_type"),
            (ErrorCode::MethodNotAllowed, 405, "method_not_allowed"),
            (ErrorCode::ValidationFailed, 422, "validation_failed"),
            (ErrorCode::Unavailable, 503, "unavailable"),
        ];
        for (code, status, name) in codes {
            assert_eq!(ErrorCode::for_status(code.status()), code);
            let (actual, body) = body_of(ApiError::new(code, "boom")).await;
            assert_eq!(actual.as_u16(), status);
            assert_eq!(body["error"]["code"], name);
            assert_eq!(body["error"]["message"], "boom");
            assert!(body["error"].get("details").is_none());
        }
    }

    #[tokio::test]
    async fn dashboard_errors_map_to_one_status_each() {
        let current = StateVersion { epoch: "abc".into(), version: 4 };
        let conflict = DashboardError::Conflict { current: current.clone(), paths: vec!["/layout".into()] };
        let (status, body) = body_of(conflict.into()).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(body["error"]["details"], serde_json::json!({"epoch": "abc", "version": 4, "paths": ["/layout"]}));
        let (status, body) = body_of(DashboardError::PreconditionFailed { current: Some(current) }.into()).await;
        assert_eq!(status, StatusCode::PRECONDITION_FAILED);
        assert_eq!(body["error"]["details"], serde_json::json!({"epoch": "abc", "version": 4}));
        let too_large = DashboardError::Rejected(PatchError::TooLarge { bytes: 10, limit: 5 });
        assert_eq!(body_of(too_large.into()).await.0, StatusCode::PAYLOAD_TOO_LARGE);
        let test_failed = DashboardError::Rejected(PatchError::TestFailed { op: 0, path: "/layout".into() });
        assert_eq!(body_of(test_failed.into()).await.0, StatusCode::CONFLICT);
        let forbidden =
            DashboardError::Rejected(PatchError::Forbidden { errors: vec![FieldError::new("/0/path", "no")] });
        let (status, body) = body_of(forbidden.into()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["error"]["details"][0]["path"], "/0/path");
        let (status, body) = body_of(DashboardError::Unreadable.into()).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(body["error"]["message"].as_str().unwrap().contains("DELETE"));
        let down = DashboardError::Unavailable(agentdeck_storage::StateError::Unavailable("timed out".into()));
        assert_eq!(body_of(down.into()).await.0, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body_of(DashboardError::NotFound.into()).await.0, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn internal_causes_are_not_shown() {
        let error = ApiError::internal().with_cause(std::io::Error::other("disk on fire"));
        let (status, body) = body_of(error).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!body.to_string().contains("disk on fire"));
    }
}
