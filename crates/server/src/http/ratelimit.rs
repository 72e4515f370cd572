//! The rate-limit layer: route classes limited per workspace (else client
//! address), with `X-RateLimit-*` headers on every limited response and
//! `Retry-After` on 429 — a JSON-RPC error on A2A JSON-RPC routes, a
//! `google.rpc.Status` on A2A REST routes, the shared JSON error elsewhere.
//!
//! A limiter that cannot decide (Redis down) lets the request through: an
//! outage of the limiter must not become an outage of the server. The limiter
//! logs when it starts and stops failing (see `agentdeck_storage::ratelimit`),
//! so this layer logs each such request only at debug level.

use agentdeck_storage::ratelimit::{Decision, RouteClass};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::http::error::{ApiError, ErrorCode};
use crate::http::extract::{ClientAddress, bearer_token};
use crate::state::AppState;

/// The class of a request, if it is limited.
pub(crate) fn classify(method: &Method, path: &str) -> Option<RouteClass> {
    let discovery = path.ends_with("/.well-known/agent-card.json") || path == "/.well-known/agents.json";
    if discovery && method == Method::GET {
        return Some(RouteClass::Discovery);
    }
    if path.starts_with("/a2a/") {
        return Some(RouteClass::A2a);
    }
    matches!(path, "/health" | "/ready").then_some(RouteClass::Health)
}

/// Who a request counts against: its token's workspace, else its client address.
fn key_of(state: &AppState, request: &Request) -> String {
    if let Some(principal) = bearer_token(request.headers()).and_then(|token| state.tokens.verify(token).ok()) {
        return format!("ws:{}", principal.workspace_id);
    }
    format!("ip:{}", ClientAddress::of(&state.settings, request.headers(), request.extensions()))
}

/// Takes one request of `class` from the client address's quota (for routes
/// limited in their handler, such as sign-in); the 429 answer when refused.
/// A limiter that cannot decide lets the request through, as the layer does.
pub(crate) async fn limit_address(state: &AppState, class: RouteClass, client: &ClientAddress) -> Option<Response> {
    let limiter = state.limiter.as_ref()?;
    let key = format!("ip:{client}");
    match limiter.check(class, &key).await {
        Ok(decision) if !decision.allowed => {
            tracing::info!(class = class.as_str(), key, "rate limited");
            let mut response = refusal("/api", &decision);
            set_headers(response.headers_mut(), &decision);
            Some(response)
        }
        Ok(_) => None,
        Err(error) => {
            tracing::debug!(%error, class = class.as_str(), "rate limiter could not decide; request let through");
            None
        }
    }
}

fn set_headers(headers: &mut HeaderMap, decision: &Decision) {
    let reset = decision.reset_after.as_secs_f64().ceil() as u64;
    for (name, value) in [
        ("x-ratelimit-limit", decision.limit.to_string()),
        ("x-ratelimit-remaining", decision.remaining.to_string()),
        ("x-ratelimit-reset", reset.to_string()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    if let Some(retry) = decision.retry_after {
        let secs = retry.as_secs_f64().ceil().max(1.0) as u64;
        if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
            headers.insert(header::RETRY_AFTER, value);
        }
    }
}

fn refusal(path: &str, decision: &Decision) -> Response {
    let message = format!(
        "rate limit exceeded: {} requests per minute; retry in {} s",
        decision.limit,
        decision.retry_after.map_or(1, |r| r.as_secs_f64().ceil().max(1.0) as u64)
    );
    let error_info = json!({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "RATE_LIMITED",
        "domain": "agentdeck", "metadata": {"limit": decision.limit.to_string()}});
    let segments = path.trim_matches('/').split('/').count();
    if path.starts_with("/a2a/") && path.contains("/rest/") {
        let body = json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": message, "details": [error_info]}});
        return (StatusCode::TOO_MANY_REQUESTS, [(header::CONTENT_TYPE, "application/json")], body.to_string())
            .into_response();
    }
    if path.starts_with("/a2a/") && segments == 2 {
        let body =
            json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32000, "message": message, "data": [error_info]}});
        return (StatusCode::TOO_MANY_REQUESTS, [(header::CONTENT_TYPE, "application/json")], body.to_string())
            .into_response();
    }
    ApiError::new(ErrorCode::RateLimited, message).into_response()
}

/// The layer's function.
pub(crate) async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (Some(limiter), Some(class)) = (state.limiter.clone(), classify(request.method(), request.uri().path())) else {
        return next.run(request).await;
    };
    let key = key_of(&state, &request);
    let decision = match limiter.check(class, &key).await {
        Ok(decision) => decision,
        Err(error) => {
            tracing::debug!(%error, class = class.as_str(), "rate limiter could not decide; request let through");
            return next.run(request).await;
        }
    };
    let mut response = if decision.allowed {
        next.run(request).await
    } else {
        tracing::info!(class = class.as_str(), key, "rate limited");
        refusal(request.uri().path(), &decision)
    };
    set_headers(response.headers_mut(), &decision);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_fall_into_their_classes() {
        assert_eq!(classify(&Method::POST, "/a2a/navi"), Some(RouteClass::A2a));
        assert_eq!(classify(&Method::GET, "/a2a/navi/rest/tasks"), Some(RouteClass::A2a));
        assert_eq!(classify(&Method::GET, "/a2a/navi/.well-known/agent-card.json"), Some(RouteClass::Discovery));
        assert_eq!(classify(&Method::GET, "/.well-known/agent-card.json"), Some(RouteClass::Discovery));
        assert_eq!(classify(&Method::GET, "/.well-known/agents.json"), Some(RouteClass::Discovery));
        assert_eq!(classify(&Method::GET, "/health"), Some(RouteClass::Health));
        assert_eq!(classify(&Method::GET, "/api/projects"), None);
    }
}
