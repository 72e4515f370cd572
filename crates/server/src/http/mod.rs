//! The HTTP edge: routes, extractors, the one error type, and the layers around them.
//!
//! Layers, from the outside in (a request passes them in this order):
//!
//! 1. request id: `x-request-id` taken from the client or made up, echoed back;
//! 2. trace: one span per request with method, path, request id, status, latency;
//! 3. security headers on every response ([`security_headers`]: CSP, nosniff,
//!    referrer policy, no framing);
//! 4. panic catcher: a panicking handler becomes a logged JSON 500;
//! 5. JSON errors: any error answer a layer or axum made without a JSON body
//!    (405, 408, 413, …) gets the shared error shape;
//! 6. timeout (408) and body limit (413);
//! 7. rate limits (429) of the A2A, discovery and health routes ([`ratelimit`]);
//! 8. the routes, whose extractors reject bad input with [`error::ApiError`].

mod assets;
pub mod error;
pub mod extract;
mod layers;
pub mod origin;
mod ratelimit;
pub(crate) mod reauth;
mod routes;
pub mod security_headers;
pub(crate) mod session;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::get;
use tower_http::LatencyUnit;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::config::HttpSettings;
use crate::state::AppState;

/// Builds the whole application: routes, fallbacks and layers.
pub fn app(state: AppState) -> Router {
    let (api, mut openapi) = routes::api(state.settings.dev_login_enabled());
    routes::document_settings(&mut openapi, &state.settings);
    let openapi_json = openapi.to_pretty_json().unwrap_or_else(|_| "{}".to_owned());
    let settings = state.settings.clone();
    let router = api
        .merge(routes::a2a())
        .route(
            "/api/openapi.json",
            get(move || async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], openapi_json) }),
        )
        .route("/", get(assets::index))
        .route("/assets/{*path}", get(assets::asset))
        .fallback(layers::not_found)
        .method_not_allowed_fallback(layers::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), ratelimit::limit))
        .with_state(state);
    with_edge_layers(router, &settings.http)
}

/// Wraps a router in the edge layers (request id, trace, security headers, panic
/// catcher, JSON errors, timeout, body limit) configured by `http`.
pub fn with_edge_layers(router: Router, http: &HttpSettings) -> Router {
    // `Router::layer` wraps outside what is there, so these go from the inside out.
    // The body limit is RequestBodyLimitLayer's; axum's own 2 MiB default would override it.
    let mut router = router
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(http.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(http.request_timeout_secs),
        ))
        .layer(axum::middleware::map_response(layers::json_error_body))
        .layer(CatchPanicLayer::custom(layers::panic_response));
    // Outside the panic catcher, so even its 500 carries them.
    for (name, value) in security_headers::headers() {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    router
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(layers::request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(LatencyUnit::Millis)),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    async fn call(router: Router, path: &str) -> (StatusCode, serde_json::Value) {
        let response = router.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn a_panicking_handler_becomes_a_json_500() {
        async fn boom() -> &'static str {
            panic!("handler bug")
        }
        let router = with_edge_layers(Router::new().route("/boom", get(boom)), &HttpSettings::default());
        let (status, body) = call(router, "/boom").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"]["code"], "internal");
        assert!(!body.to_string().contains("handler bug"));
    }

    #[tokio::test]
    async fn every_answer_carries_the_security_headers_even_a_panic() {
        async fn boom() -> &'static str {
            panic!("handler bug")
        }
        let router = with_edge_layers(Router::new().route("/boom", get(boom)), &HttpSettings::default());
        let response = router.oneshot(Request::get("/boom").body(Body::empty()).unwrap()).await.unwrap();
        for (name, value) in security_headers::headers() {
            assert_eq!(response.headers().get(&name), Some(&value), "{name}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_handler_times_out_with_a_json_408() {
        async fn slow() -> &'static str {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            "late"
        }
        let http = HttpSettings { request_timeout_secs: 5, ..HttpSettings::default() };
        let router = with_edge_layers(Router::new().route("/slow", get(slow)), &http);
        let (status, body) = call(router, "/slow").await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
        assert_eq!(body["error"]["code"], "request_timeout");
    }
}
