//! Handlers and hooks the layers of [`super::app`] use.

use std::any::Any;

use axum::body::Body;
use axum::http::{Request, header};
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, ErrorCode};

/// The span every request runs in.
pub(super) fn request_span(request: &Request<Body>) -> tracing::Span {
    let request_id = request.headers().get("x-request-id").and_then(|value| value.to_str().ok()).unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id,
        workspace = tracing::field::Empty,
    )
}

/// Turns a handler panic into a logged JSON 500; the connection stays usable.
pub(super) fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic payload");
    tracing::error!(panic = message, "handler panicked");
    ApiError::internal().into_response()
}

/// Gives error answers made by layers or by axum itself (405 from the method
/// router, 408 from the timeout, 413 from the body limit, …) the shared JSON
/// shape, keeping their other headers (`Allow`, `Retry-After`).
pub(super) async fn json_error_body(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(&response) {
        return response;
    }
    let code = ErrorCode::for_status(status);
    let message = match code {
        ErrorCode::MethodNotAllowed => "this route does not support the request method".to_owned(),
        ErrorCode::RequestTimeout => "the request took too long and was abandoned".to_owned(),
        ErrorCode::PayloadTooLarge => "request body is larger than the server accepts".to_owned(),
        _ => status.canonical_reason().unwrap_or("request failed").to_lowercase(),
    };
    let (mut parts, _) = response.into_parts();
    let replacement = ApiError::new(code, message).into_response();
    let (new_parts, body) = replacement.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in new_parts.headers.iter() {
        parts.headers.insert(name.clone(), value.clone());
    }
    parts.status = status;
    Response::from_parts(parts, body)
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<mime::Mime>().ok())
        .is_some_and(|media_type| {
            media_type.type_() == mime::APPLICATION
                && (media_type.subtype() == mime::JSON || media_type.suffix() == Some(mime::JSON))
        })
}

/// 404 for every path no route matches.
pub(super) async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such route")
}

/// 405 for a known path with an unsupported method.
pub(super) async fn method_not_allowed() -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, "this route does not support the request method")
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;

    #[tokio::test]
    async fn plain_error_bodies_become_json_and_keep_headers() {
        let plain = Response::builder()
            .status(StatusCode::METHOD_NOT_ALLOWED)
            .header(header::ALLOW, "GET,HEAD")
            .body(Body::from("nope"))
            .unwrap();
        let response = json_error_body(plain).await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[header::ALLOW], "GET,HEAD");
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["error"]["code"], "method_not_allowed");
    }

    #[tokio::test]
    async fn success_and_json_errors_pass_untouched() {
        let ok = Response::builder().status(StatusCode::OK).body(Body::from("fine")).unwrap();
        let response = json_error_body(ok).await;
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        assert_eq!(&bytes[..], b"fine");
    }
}
