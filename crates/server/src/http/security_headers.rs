//! Security headers on every response (HTML and JSON alike), set by
//! `tower-http`'s `SetResponseHeaderLayer` in [`super::with_edge_layers`] unless a
//! handler set its own.
//!
//! - `Content-Security-Policy`: scripts, styles, fetches and sockets from this
//!   origin only — no inline script or style (the page loads
//!   `/assets/app/main.js` and `/assets/css/*.css`), no `eval`, no plugins, no
//!   `<base>` rewriting, and no framing (`frame-ancestors 'none'`). `connect-src
//!   'self'` covers this origin's `ws:`/`wss:` too, so the sync socket works.
//! - `X-Content-Type-Options: nosniff`: a JSON body is never run as a script.
//! - `Referrer-Policy: no-referrer`: URLs (which may hold ids) do not leak to links.
//! - `X-Frame-Options: DENY`: `frame-ancestors` for browsers that predate CSP 2.

use axum::http::HeaderValue;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, HeaderName, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};

/// The policy: this origin only, nothing inline, never framed.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// Every header this module adds, with its value.
pub fn headers() -> [(HeaderName, HeaderValue); 4] {
    [
        (CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE)),
        (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    ]
}
