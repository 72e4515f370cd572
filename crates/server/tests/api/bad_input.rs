//! Bad input of every kind gets its 4xx JSON error, never a 500, and changes nothing.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{error_code, spawn_app, spawn_app_with};

fn nested(depth: usize) -> String {
    format!("{{\"name\": {}1{}}}", "[".repeat(depth), "]".repeat(depth))
}

#[tokio::test]
async fn each_kind_of_bad_body_has_its_error() {
    let app = spawn_app().await;
    let (_, before) = app.get("/api/projects?archived=any&limit=200").await;
    let cases: Vec<(&str, &str, Vec<u8>, StatusCode, &str)> = vec![
        ("malformed JSON", "application/json", b"{\"name\": ".to_vec(), StatusCode::BAD_REQUEST, "invalid_json"),
        (
            "trailing garbage",
            "application/json",
            b"{\"name\": \"x\"} {}".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        ("empty body", "application/json", Vec::new(), StatusCode::BAD_REQUEST, "invalid_json"),
        (
            "wrong type",
            "application/json",
            br#"{"name": 42}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "missing field",
            "application/json",
            br#"{"description": "no name"}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "unknown field",
            "application/json",
            br#"{"name": "x", "owner": "me"}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "rule broken",
            "application/json",
            br#"{"name": "   "}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        ("64-deep nesting", "application/json", nested(64).into_bytes(), StatusCode::BAD_REQUEST, "json_too_deep"),
        (
            "text body",
            "text/plain",
            br#"{"name": "x"}"#.to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "form body",
            "application/x-www-form-urlencoded",
            b"name=x".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "invalid UTF-8",
            "application/json",
            b"{\"name\": \"\xff\xfe\"}".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
    ];
    for (name, content_type, body, status, code) in cases {
        let (actual, error) = app.send_raw(Method::POST, "/api/projects", content_type, body).await;
        assert_eq!((actual, error_code(&error)), (status, code), "{name}: {error}");
        assert!(error["error"]["message"].as_str().is_some_and(|message| !message.is_empty()), "{name}");
    }
    let (_, after) = app.get("/api/projects?archived=any&limit=200").await;
    assert_eq!(before, after, "no bad request changed anything");
}

#[tokio::test]
async fn field_errors_carry_json_paths() {
    let app = spawn_app().await;
    let (_, error) = app.post("/api/projects", &json!({"description": "no name"})).await;
    assert_eq!(error["error"]["details"], json!([{"path": "/name", "message": "is required"}]));
    let (_, error) = app.post("/api/projects", &json!({"name": 42})).await;
    assert_eq!(error["error"]["details"][0]["path"], "/name");
    let (_, error) = app
        .post("/api/tasks", &json!({"projectId": uuid::Uuid::now_v7(), "title": "x", "blockedBy": ["not-a-uuid"]}))
        .await;
    assert_eq!(error["error"]["details"][0]["path"], "/blockedBy/0");
    let (_, error) = app
        .post(
            "/api/projects",
            &json!({"name": "x", "startDate": "2030-02-01T00:00:00Z", "dueDate": "2030-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(error["error"]["details"][0]["path"], "/dueDate");
}

#[tokio::test]
async fn nesting_at_the_limit_is_parsed_normally() {
    let app = spawn_app().await;
    // 31 arrays inside the top-level object: depth 32, allowed; the shape is then wrong (422, not 400).
    let (status, error) =
        app.send_raw(Method::POST, "/api/projects", "application/json", nested(31).into_bytes()).await;
    assert_eq!((status, error_code(&error)), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"));
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = spawn_app_with(|settings| settings.http.max_body_bytes = 4096).await;
    let big = json!({"name": "x", "description": "y".repeat(10_000)}).to_string().into_bytes();
    let (status, error) = app.send_raw(Method::POST, "/api/projects", "application/json", big).await;
    assert_eq!((status, error_code(&error)), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"));

    // Without a Content-Length (chunked), the limit still holds.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..10).map(|_| Ok(vec![b' '; 1000])).collect();
    let response = app
        .client
        .post(format!("{}/api/projects", app.address))
        .bearer_auth(&app.token)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util_stream(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "payload_too_large");
}

fn futures_util_stream(
    chunks: Vec<Result<Vec<u8>, std::io::Error>>,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    futures::stream::iter(chunks)
}

#[tokio::test]
async fn bad_query_and_path_parameters() {
    let app = spawn_app().await;
    let cases = [
        ("/api/tasks?status=sideways", StatusCode::UNPROCESSABLE_ENTITY, "/status"),
        ("/api/tasks?limit=0", StatusCode::UNPROCESSABLE_ENTITY, "/limit"),
        ("/api/tasks?limit=5000", StatusCode::UNPROCESSABLE_ENTITY, "/limit"),
        ("/api/tasks?limit=many", StatusCode::UNPROCESSABLE_ENTITY, "/limit"),
        ("/api/tasks?cursor=bogus", StatusCode::UNPROCESSABLE_ENTITY, "/cursor"),
        ("/api/tasks?dueBefore=tomorrow", StatusCode::UNPROCESSABLE_ENTITY, "/dueBefore"),
        ("/api/tasks?colour=blue", StatusCode::UNPROCESSABLE_ENTITY, "/colour"),
        ("/api/projects?archived=maybe", StatusCode::UNPROCESSABLE_ENTITY, "/archived"),
    ];
    for (path, status, field) in cases {
        let (actual, error) = app.get(path).await;
        assert_eq!(actual, status, "{path}: {error}");
        assert_eq!(error["error"]["details"][0]["path"], field, "{path}: {error}");
    }
    let (status, error) = app.get("/api/tasks/not-a-uuid").await;
    assert_eq!((status, error_code(&error)), (StatusCode::BAD_REQUEST, "bad_request"));
}
