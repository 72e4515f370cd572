//! The web dashboard's files: `crates/server/web/`, served at `/` (the page)
//! and `/assets/{path}` (its modules, styles and vendored libraries).
//!
//! The files are embedded in release builds, so the binary needs nothing
//! beside it; a debug build reads them from the source tree on each request,
//! so a change to the page shows on reload without rebuilding the server
//! (`rust-embed` does both). Every file is revalidated on use (`no-cache`)
//! against an `ETag` made from its SHA-256: the page changes with the server,
//! and a 304 costs one round trip, not the file.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

use super::error::{ApiError, ErrorCode};

/// The files under `crates/server/web/`.
#[derive(Embed)]
#[folder = "web/"]
struct WebFiles;

/// `GET /`: the dashboard page.
pub(super) async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

/// `GET /assets/{*path}`: one of the page's files.
pub(super) async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    // The page itself lives at `/`; a second address for it would be a second cache entry.
    if path == "index.html" {
        return ApiError::new(ErrorCode::NotFound, "no such asset").into_response();
    }
    serve(&path, &headers)
}

fn serve(path: &str, headers: &HeaderMap) -> Response {
    // Debug builds read from the source tree: never leave it.
    if path.split('/').any(|segment| segment.is_empty() || segment == "." || segment == "..") {
        return ApiError::new(ErrorCode::NotFound, "no such asset").into_response();
    }
    let Some(content_type) = content_type(path) else {
        return ApiError::new(ErrorCode::NotFound, "no such asset").into_response();
    };
    let Some(file) = WebFiles::get(path) else {
        return ApiError::new(ErrorCode::NotFound, "no such asset").into_response();
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let cache = [(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))];
    let etag_value = HeaderValue::from_str(&etag).unwrap_or_else(|_| HeaderValue::from_static("\"\""));
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*"));
    if unchanged {
        return (StatusCode::NOT_MODIFIED, cache, [(header::ETAG, etag_value)]).into_response();
    }
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::ETAG, etag_value),
    ];
    (headers, file.data.into_owned()).into_response()
}

/// The media type of a served file by its extension; files of other kinds
/// (notes, licences without an extension) are not served.
fn content_type(path: &str) -> Option<&'static str> {
    let extension = path.rsplit_once('.').map(|(_, extension)| extension)?;
    Some(match extension {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_and_the_sync_client_are_embedded() {
        assert!(WebFiles::get("index.html").is_some());
        assert!(WebFiles::get("sync-client.js").is_some());
    }

    #[test]
    fn media_types_follow_the_extension_and_unknown_kinds_are_not_served() {
        assert_eq!(content_type("app/main.js"), Some("text/javascript; charset=utf-8"));
        assert_eq!(content_type("index.css"), Some("text/css; charset=utf-8"));
        assert_eq!(content_type("vendor/LICENSE"), None);
        assert_eq!(content_type("secret.rs"), None);
    }

    #[tokio::test]
    async fn a_matching_etag_is_answered_304() {
        let first = serve("sync-client.js", &HeaderMap::new());
        assert_eq!(first.status(), StatusCode::OK);
        let etag = first.headers().get(header::ETAG).cloned().unwrap_or_else(|| HeaderValue::from_static("none"));
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, etag);
        assert_eq!(serve("sync-client.js", &headers).status(), StatusCode::NOT_MODIFIED);
        assert_eq!(serve("nope.js", &HeaderMap::new()).status(), StatusCode::NOT_FOUND);
    }
}
