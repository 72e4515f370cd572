//! Health, readiness, routing fallbacks, the OpenAPI document and the widget schema.

use reqwest::{Method, StatusCode};

use agentdeck_storage::testing::OwnedRedis;

use crate::helpers::{error_code, spawn_app, spawn_app_on_postgres, spawn_app_on_postgres_and_redis};

#[tokio::test]
async fn health_and_ready_answer() {
    let app = spawn_app().await;
    let (status, body) = app.request(Method::GET, "/health", None, None).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (status, body) = app.request(Method::GET, "/ready", None, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ready");
    let checks = &body["checks"];
    for (dependency, backend) in [("records", "sqlite"), ("state", "sqlite"), ("tickets", "memory")] {
        assert_eq!(checks[dependency]["status"], "ok", "{body}");
        assert_eq!(checks[dependency]["backend"], backend, "{body}");
    }
    assert!(checks.get("changeFeed").is_none(), "one node needs no feed: {body}");
    assert!(checks.get("bus").is_none(), "one node needs no bus: {body}");
}

/// Cluster mode on a Redis the test owns: when it stops, `/ready` answers 503
/// naming every dependency it held (the dashboard state, tickets, the change
/// feed and the bus) while the records database stays ok; when it is back, ready again.
#[tokio::test]
async fn ready_names_each_dependency_and_fails_while_redis_is_down() {
    let mut redis = OwnedRedis::start().expect("a redis-server of our own");
    let app = spawn_app_on_postgres_and_redis(&redis.url()).await;
    let (status, body) = app.get("/ready").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (dependency, backend) in
        [("records", "postgres"), ("state", "redis"), ("tickets", "redis"), ("changeFeed", "redis"), ("bus", "redis")]
    {
        assert_eq!(body["checks"][dependency]["status"], "ok", "{body}");
        assert_eq!(body["checks"][dependency]["backend"], backend, "{body}");
    }

    redis.stop();
    let (status, body) = app.get("/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "the state store pings Redis itself: {body}");
    assert_eq!(body["status"], "unavailable");
    // The feed learns of the loss from its connection closing (or its next ping): wait for that.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let body = loop {
        let (status, body) = app.get("/ready").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        if body["checks"]["changeFeed"]["status"] == "unavailable" && body["checks"]["bus"]["status"] == "unavailable" {
            break body;
        }
        assert!(std::time::Instant::now() < deadline, "the feed still says ok: {body}");
    };
    assert_eq!(body["checks"]["records"]["status"], "ok", "{body}");
    for dependency in ["state", "tickets", "changeFeed", "bus"] {
        assert_eq!(body["checks"][dependency]["status"], "unavailable", "{dependency}: {body}");
        assert!(body["checks"][dependency]["error"].is_string(), "{dependency}: {body}");
    }

    redis.restart().expect("redis back");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (status, body) = app.get("/ready").await;
        if status == StatusCode::OK {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not ready 20 s after Redis came back: {body}");
    }
}

#[tokio::test]
async fn request_ids_are_made_up_or_echoed() {
    let app = spawn_app().await;
    let response = app.client.get(format!("{}/health", app.address)).send().await.unwrap();
    let made_up = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(made_up.len(), 36, "a UUID: {made_up}");
    let response =
        app.client.get(format!("{}/health", app.address)).header("x-request-id", "trace-me-42").send().await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-42");
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let app = spawn_app().await;
    let (status, body) = app.get("/api/nothing-here").await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "not_found"));

    let response = app.client.put(format!("{}/health", app.address)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "method_not_allowed");
}

#[tokio::test]
async fn openapi_document_lists_every_route() {
    let app = spawn_app().await;
    let (status, document) = app.request(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/health",
        "/ready",
        "/api/projects",
        "/api/projects/{id}",
        "/api/tasks",
        "/api/tasks/{id}",
        "/api/members",
        "/api/members/{id}",
        "/api/activity",
        "/api/schema/widgets.json",
        "/api/dev/login",
    ] {
        assert!(paths.contains_key(path), "{path} missing from the OpenAPI document");
    }
    assert!(paths["/api/tasks/{id}"].get("patch").is_some());
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn widget_schema_is_served() {
    let app = spawn_app().await;
    let response = app.client.get(format!("{}/api/schema/widgets.json", app.address)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/schema+json");
    let schema: serde_json::Value = response.json().await.unwrap();
    let defs = schema["$defs"].as_object().unwrap();
    for widget in agentdeck_domain::widgets::WidgetType::ALL.iter().map(|widget_type| widget_type.as_str()) {
        assert!(defs.keys().any(|name| name.starts_with(widget)), "{widget} missing from $defs");
    }
}

#[tokio::test]
async fn start_page_is_served() {
    let app = spawn_app().await;
    let response = app.client.get(format!("{}/", app.address)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("Sign in as the demo user"));
}

#[tokio::test]
async fn html_and_json_answers_carry_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/", "/health", "/api/projects", "/no-such-route", "/assets/app/main.js"] {
        let response = app.client.get(format!("{}{path}", app.address)).send().await.unwrap();
        let headers = response.headers();
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"), "{path}: {policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{path}: {policy}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
    }
}

#[tokio::test]
async fn the_start_page_has_no_inline_script_or_style() {
    let app = spawn_app().await;
    let page = app.client.get(format!("{}/", app.address)).send().await.unwrap().text().await.unwrap();
    let inline_script =
        page.match_indices("<script").any(|(at, _)| !page[at..].split('>').next().unwrap().contains("src="));
    assert!(!inline_script, "{page}");
    assert!(!page.contains("<style") && !page.contains(" style=") && !page.contains(" onclick="), "{page}");
    for (asset, content_type) in [("/assets/app/main.js", "text/javascript"), ("/assets/css/base.css", "text/css")] {
        let response = app.client.get(format!("{}{asset}", app.address)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with(content_type), "{asset}");
    }
}

#[tokio::test]
async fn cluster_mode_serves_the_same_api_on_postgres() {
    let app = spawn_app_on_postgres().await;
    let (status, body) = app.request(Method::GET, "/ready", None, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["checks"]["records"]["backend"], "postgres");

    let (status, projects) = app.get("/api/projects").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(projects["items"].as_array().unwrap().len(), 4);

    let (_, intruder) = app.other_workspace().await;
    let demo_project = projects["items"][0]["id"].as_str().unwrap();
    let (status, _) = app.request(Method::GET, &format!("/api/projects/{demo_project}"), Some(&intruder), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, error) = app.post("/api/tasks", &serde_json::json!({"projectId": demo_project, "title": 7})).await;
    assert_eq!((status, error_code(&error)), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"));
}

/// Validates the OpenAPI document with `openapi-spec-validator` (PyPI), which
/// `scripts/test` installs and names in `AGENTDECK_TEST_PYTHON`.
#[tokio::test]
async fn openapi_document_passes_an_independent_validator() {
    let app = spawn_app().await;
    let (_, document) = app.request(Method::GET, "/api/openapi.json", None, None).await;
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), document.to_string()).unwrap();
    let python = std::env::var("AGENTDECK_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let script = "import json, sys\n\
                  from openapi_spec_validator import validate\n\
                  validate(json.load(open(sys.argv[1])))\n";
    let output =
        std::process::Command::new(&python).args(["-c", script]).arg(file.path()).output().unwrap_or_else(|error| {
            panic!("{python} cannot run ({error}); run scripts/test, which installs the validator")
        });
    assert!(
        output.status.success(),
        "openapi-spec-validator rejected the document (or is missing: run scripts/test):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
