//! `/api/dashboard/state`: versions and ETags, conditional requests, rebasing,
//! idempotency, the checks of a patch, and one room per user.

use agentdeck_domain::auth::{Principal, Role};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, error_code, spawn_app, spawn_app_on_postgres, spawn_app_on_postgres_and_redis, spawn_app_with,
};

const STATE: &str = "/api/dashboard/state";
const JSON_PATCH: &str = "application/json-patch+json";

/// A response: status, headers, JSON body (`Null` when empty).
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn etag(&self) -> &str {
        self.headers.get("etag").and_then(|value| value.to_str().ok()).unwrap_or("<no etag>")
    }
}

/// Sends a request to the state route with a token, extra headers and an optional raw body.
async fn send(
    app: &TestApp,
    method: Method,
    token: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, Vec<u8>)>,
) -> Answer {
    let mut request = app.client.request(method, format!("{}{STATE}", app.address)).bearer_auth(token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some((content_type, bytes)) = body {
        request = request.header("content-type", content_type).body(bytes);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("body read");
    let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("JSON body") };
    Answer { status, headers, body }
}

async fn get(app: &TestApp, token: &str, headers: &[(&str, &str)]) -> Answer {
    send(app, Method::GET, token, headers, None).await
}

async fn patch(app: &TestApp, token: &str, headers: &[(&str, &str)], ops: Value) -> Answer {
    send(app, Method::PATCH, token, headers, Some((JSON_PATCH, ops.to_string().into_bytes()))).await
}

async fn put(app: &TestApp, token: &str, headers: &[(&str, &str)], document: Value) -> Answer {
    send(app, Method::PUT, token, headers, Some(("application/json", document.to_string().into_bytes()))).await
}

fn alert(id: &str, message: &str) -> Value {
    json!({ "id": id, "severity": "info", "message": message, "createdAt": "2026-01-01T00:00:00Z" })
}

fn set_theme(theme: &str) -> Value {
    json!([{ "op": "replace", "path": "/preferences/theme", "value": theme }])
}

/// A token of another user in the demo workspace.
fn colleague(app: &TestApp, subject: &str) -> String {
    app.token_for(&Principal { subject: subject.into(), workspace_id: app.workspace_id, role: Role::Member })
}

#[tokio::test]
async fn a_first_patch_creates_version_1_and_get_returns_it_with_its_etag() {
    let app = spawn_app().await;
    let before = get(&app, &app.token, &[]).await;
    assert_eq!(before.status, StatusCode::NOT_FOUND, "{}", before.body);
    assert_eq!(error_code(&before.body), "not_found");

    let created = patch(&app, &app.token, &[], set_theme("dark")).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(created.body["version"], 1);
    let epoch = created.body["epoch"].as_str().expect("epoch").to_owned();
    assert_eq!(created.etag(), format!("\"{epoch}.1\""));
    assert_eq!(created.body["document"]["preferences"]["theme"], "dark");

    let read = get(&app, &app.token, &[]).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.etag(), created.etag());
    assert_eq!(read.body["version"], 1);
    assert_eq!(read.body["document"], created.body["document"]);
    assert!(read.body.get("degraded").is_none(), "{}", read.body);

    let unchanged = get(&app, &app.token, &[("if-none-match", created.etag())]).await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
    assert_eq!(unchanged.etag(), created.etag());
    assert_eq!(unchanged.body, Value::Null);

    let stale = get(&app, &app.token, &[("if-none-match", &format!("\"{epoch}.0\""))]).await;
    assert_eq!(stale.status, StatusCode::OK);
}

#[tokio::test]
async fn a_stale_if_match_rebases_disjoint_patches_and_refuses_overlapping_ones() {
    let app = spawn_app().await;
    let first = patch(&app, &app.token, &[], set_theme("dark")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let base = first.etag().to_owned();
    let second = patch(&app, &app.token, &[], json!([{ "op": "add", "path": "/activeProject", "value": "p1" }])).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_eq!(second.body["version"], 2);

    // Made against v1, writes only the alerts: applied on top of v2.
    let disjoint = json!([{ "op": "add", "path": "/alerts/-", "value": alert("a1", "disk almost full") }]);
    let rebased = patch(&app, &app.token, &[("if-match", &base)], disjoint).await;
    assert_eq!(rebased.status, StatusCode::OK, "{}", rebased.body);
    assert_eq!(rebased.body["version"], 3);
    assert_eq!(rebased.body["document"]["activeProject"], "p1", "the newer change is kept");
    assert_eq!(rebased.body["document"]["activeAlerts"], json!(["a1"]));

    // Made against v1, writes what v2 wrote: a conflict naming the current version.
    let overlapping = json!([{ "op": "add", "path": "/activeProject", "value": "p2" }]);
    let conflict = patch(&app, &app.token, &[("if-match", &base)], overlapping).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT, "{}", conflict.body);
    assert_eq!(error_code(&conflict.body), "conflict");
    let details = &conflict.body["error"]["details"];
    assert_eq!(details["epoch"], first.body["epoch"]);
    assert_eq!(details["version"], 3);
    assert_eq!(details["paths"], json!(["/activeProject"]));
    let read = get(&app, &app.token, &[]).await;
    assert_eq!(read.body["document"]["activeProject"], "p1");
}

#[tokio::test]
async fn if_match_of_another_epoch_is_a_failed_precondition() {
    let app = spawn_app().await;
    let created = patch(&app, &app.token, &[], set_theme("dark")).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let failed = patch(&app, &app.token, &[("if-match", "\"aaaaaaaaaaaaa.1\"")], set_theme("light")).await;
    assert_eq!(failed.status, StatusCode::PRECONDITION_FAILED, "{}", failed.body);
    assert_eq!(error_code(&failed.body), "precondition_failed");
    assert_eq!(failed.body["error"]["details"]["epoch"], created.body["epoch"]);
    assert_eq!(failed.body["error"]["details"]["version"], 1);

    let garbage = patch(&app, &app.token, &[("if-match", "not-a-tag")], set_theme("light")).await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST, "{}", garbage.body);

    // The current version applies.
    let current = patch(&app, &app.token, &[("if-match", created.etag())], set_theme("light")).await;
    assert_eq!(current.status, StatusCode::OK, "{}", current.body);
    assert_eq!(current.body["version"], 2);
}

#[tokio::test]
async fn an_idempotency_key_applies_a_patch_once() {
    let app = spawn_app().await;
    let ops = json!([{ "op": "add", "path": "/alerts/-", "value": alert("a1", "build failed") }]);
    let headers = [("idempotency-key", "client-1:op-1")];
    let first = patch(&app, &app.token, &headers, ops.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["version"], 1);
    assert!(first.body.get("replayed").is_none());

    let retry = patch(&app, &app.token, &headers, ops.clone()).await;
    assert_eq!(retry.status, StatusCode::OK, "{}", retry.body);
    assert_eq!(retry.body["version"], 1, "the first commit's version");
    assert_eq!(retry.body["replayed"], true);
    assert_eq!(retry.etag(), first.etag());

    let read = get(&app, &app.token, &[]).await;
    assert_eq!(read.body["version"], 1, "not bumped");
    assert_eq!(read.body["document"]["alerts"].as_array().map(Vec::len), Some(1));

    let too_long = "k".repeat(201);
    let refused = patch(&app, &app.token, &[("idempotency-key", &too_long)], set_theme("dark")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
}

#[tokio::test]
async fn a_patch_must_be_sent_as_json_patch() {
    let app = spawn_app().await;
    for content_type in ["application/json", "text/plain", "application/merge-patch+json"] {
        let body = set_theme("dark").to_string().into_bytes();
        let answer = send(&app, Method::PATCH, &app.token, &[], Some((content_type, body))).await;
        assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type}: {}", answer.body);
        assert_eq!(error_code(&answer.body), "unsupported_media_type");
    }
    assert_eq!(get(&app, &app.token, &[]).await.status, StatusCode::NOT_FOUND, "nothing was written");
}

#[tokio::test]
async fn forbidden_paths_are_refused_with_the_path() {
    let app = spawn_app().await;
    let cases = [
        json!([{ "op": "replace", "path": "/schemaVersion", "value": 9 }]),
        json!([{ "op": "add", "path": "/preferences/__proto__", "value": { "polluted": true } }]),
    ];
    for ops in cases {
        let answer = patch(&app, &app.token, &[], ops.clone()).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{ops}: {}", answer.body);
        assert_eq!(error_code(&answer.body), "validation_failed");
        assert_eq!(answer.body["error"]["details"][0]["path"], "/0/path", "{}", answer.body);
    }
    assert_eq!(get(&app, &app.token, &[]).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_failing_test_op_applies_nothing() {
    let app = spawn_app().await;
    let created = patch(&app, &app.token, &[], set_theme("dark")).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let ops = json!([
        { "op": "add", "path": "/activeProject", "value": "p1" },
        { "op": "test", "path": "/preferences/theme", "value": "light" },
    ]);
    let failed = patch(&app, &app.token, &[], ops).await;
    assert_eq!(failed.status, StatusCode::CONFLICT, "{}", failed.body);
    assert_eq!(failed.body["error"]["details"]["reason"], "test_failed");
    let read = get(&app, &app.token, &[]).await;
    assert_eq!(read.body["version"], 1);
    assert_eq!(read.body["document"]["activeProject"], Value::Null);
}

#[tokio::test]
async fn a_document_over_the_cap_is_413() {
    let app = spawn_app_with(|settings| settings.state.max_document_bytes = 600).await;
    let ops: Vec<Value> = (0..4)
        .map(
            |index| json!({ "op": "add", "path": "/alerts/-", "value": alert(&format!("a{index}"), &"x".repeat(150)) }),
        )
        .collect();
    let answer = patch(&app, &app.token, &[], Value::Array(ops)).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", answer.body);
    assert_eq!(error_code(&answer.body), "payload_too_large");
    assert_eq!(answer.body["error"]["details"]["limit"], 600);
    assert_eq!(get(&app, &app.token, &[]).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn script_strings_are_stored_and_returned_verbatim_as_data() {
    let app = spawn_app().await;
    let payload = "<script>alert(document.cookie)</script><img src=x onerror=alert(1)>";
    let ops = json!([{ "op": "add", "path": "/alerts/-", "value": alert("xss", payload) }]);
    let created = patch(&app, &app.token, &[], ops).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let read = get(&app, &app.token, &[]).await;
    assert_eq!(read.body["document"]["alerts"][0]["message"], payload);
    let content_type = read.headers.get("content-type").and_then(|value| value.to_str().ok()).unwrap_or("");
    assert!(content_type.starts_with("application/json"), "served as data, never HTML: {content_type}");
}

#[tokio::test]
async fn put_replaces_the_document_and_honours_if_match() {
    let app = spawn_app().await;
    let created = patch(&app, &app.token, &[], set_theme("dark")).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);

    let document = json!({ "schemaVersion": 2, "preferences": { "theme": "light" } });
    let mismatch = put(&app, &app.token, &[("if-match", "\"aaaaaaaaaaaaa.7\"")], document.clone()).await;
    assert_eq!(mismatch.status, StatusCode::PRECONDITION_FAILED, "{}", mismatch.body);
    assert_eq!(mismatch.body["error"]["details"]["version"], 1);

    let replaced = put(&app, &app.token, &[("if-match", created.etag())], document).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(replaced.body["document"]["preferences"]["theme"], "light");
    let read = get(&app, &app.token, &[]).await;
    assert_eq!(read.etag(), replaced.etag());

    let invalid = put(&app, &app.token, &[], json!({ "schemaVersion": 2, "nonsense": 1 })).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", invalid.body);
}

#[tokio::test]
async fn delete_removes_the_state() {
    let app = spawn_app().await;
    let created = patch(&app, &app.token, &[], set_theme("dark")).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let mismatch = send(&app, Method::DELETE, &app.token, &[("if-match", "\"aaaaaaaaaaaaa.1\"")], None).await;
    assert_eq!(mismatch.status, StatusCode::PRECONDITION_FAILED, "{}", mismatch.body);

    let deleted = send(&app, Method::DELETE, &app.token, &[], None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    assert_eq!(get(&app, &app.token, &[]).await.status, StatusCode::NOT_FOUND);
    let again = send(&app, Method::DELETE, &app.token, &[], None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.body);
}

#[tokio::test]
async fn every_user_has_a_room_of_their_own_and_other_workspaces_see_none() {
    let app = spawn_app().await;
    let ada = colleague(&app, "ada");
    let (_, intruder) = app.other_workspace().await;

    assert_eq!(patch(&app, &app.token, &[], set_theme("dark")).await.status, StatusCode::OK);
    assert_eq!(get(&app, &ada, &[]).await.status, StatusCode::NOT_FOUND, "a colleague starts empty");
    assert_eq!(patch(&app, &ada, &[], set_theme("light")).await.status, StatusCode::OK);

    let mine = get(&app, &app.token, &[]).await;
    let hers = get(&app, &ada, &[]).await;
    assert_eq!(mine.body["document"]["preferences"]["theme"], "dark");
    assert_eq!(hers.body["document"]["preferences"]["theme"], "light");

    let theirs = get(&app, &intruder, &[]).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.body);
    let deleted = send(&app, Method::DELETE, &intruder, &[], None).await;
    assert_eq!(deleted.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, &app.token, &[]).await.status, StatusCode::OK, "still there for its owner");
    assert_eq!(get(&app, &ada, &[]).await.status, StatusCode::OK);
}

#[tokio::test]
async fn cluster_mode_keeps_the_state_in_redis() {
    // `spawn_app_on_postgres` points `redis_url` at the test machine's Redis;
    // the server refuses to start (and this test fails) when it is unreachable.
    let app = spawn_app_on_postgres().await;
    assert_eq!(app.settings.redis_url, agentdeck_storage::testing::redis_url());
    let created = patch(&app, &app.token, &[], set_theme("dark")).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(created.body["version"], 1);
    let read = get(&app, &app.token, &[]).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.etag(), created.etag());
    assert_eq!(read.body["document"]["preferences"]["theme"], "dark");
    // Tests share the Redis server; leave nothing behind.
    assert_eq!(send(&app, Method::DELETE, &app.token, &[], None).await.status, StatusCode::NO_CONTENT);
}

/// Redis (owned by this test) crashes: reads and writes answer 503 with the
/// shared JSON error and nothing half-written; once Redis is back the same
/// server serves again without a restart, with exactly the state from before.
#[tokio::test]
async fn a_redis_outage_is_a_503_and_service_resumes_by_itself() {
    let mut redis = agentdeck_storage::testing::OwnedRedis::start().expect("a redis-server of this test");
    let app = spawn_app_on_postgres_and_redis(&redis.url()).await;
    let created = patch(&app, &app.token, &[], set_theme("dark")).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);

    redis.stop();
    let write = patch(&app, &app.token, &[], set_theme("light")).await;
    assert_eq!(
        (write.status, error_code(&write.body)),
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        "{}",
        write.body
    );
    let read = get(&app, &app.token, &[]).await;
    assert_eq!(read.status, StatusCode::SERVICE_UNAVAILABLE, "{}", read.body);
    // The records store is PostgreSQL and still fine: the rest of the API keeps working.
    assert_eq!(app.get("/api/projects").await.0, StatusCode::OK);

    redis.restart().expect("redis-server restarts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let recovered = loop {
        let read = get(&app, &app.token, &[]).await;
        if read.status != StatusCode::SERVICE_UNAVAILABLE || std::time::Instant::now() > deadline {
            break read;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(recovered.status, StatusCode::OK, "{}", recovered.body);
    assert_eq!(recovered.etag(), created.etag(), "nothing was written during the outage");
    assert_eq!(recovered.body["document"]["preferences"]["theme"], "dark");
    let after = patch(&app, &app.token, &[], set_theme("light")).await;
    assert_eq!((after.status, &after.body["version"]), (StatusCode::OK, &json!(2)), "{}", after.body);
}

/// 7.8: PATCHes without `If-Match` have no base to conflict with: from
/// concurrent writers on disjoint paths every one is applied (none answers
/// 409), and a 409 would name the conflicting paths, never none.
#[tokio::test]
async fn concurrent_patches_without_if_match_all_apply() {
    const WRITERS: usize = 8;
    const PATCHES: usize = 20;
    let app = std::sync::Arc::new(spawn_app().await);
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let app = app.clone();
        writers.push(tokio::spawn(async move {
            let mut refused = Vec::new();
            for n in 0..PATCHES {
                let widget = json!({ "type": "Loading", "data": {}, "title": format!("{writer}.{n}") });
                let ops = json!([{ "op": "add", "path": format!("/widgets/w{writer}"), "value": widget }]);
                let answer = patch(&app, &app.token, &[], ops).await;
                if answer.status == StatusCode::CONFLICT {
                    let paths = &answer.body["error"]["details"]["paths"];
                    assert!(
                        paths.as_array().is_some_and(|paths| !paths.is_empty()),
                        "a 409 without paths: {}",
                        answer.body
                    );
                }
                if answer.status != StatusCode::OK {
                    refused.push((answer.status, answer.body));
                }
            }
            refused
        }));
    }
    for writer in writers {
        let refused = writer.await.expect("writer");
        assert!(refused.is_empty(), "refused: {refused:?}");
    }
    let read = get(&app, &app.token, &[]).await;
    assert_eq!(read.body["version"], json!(WRITERS * PATCHES), "each patch committed once");
    for writer in 0..WRITERS {
        assert_eq!(
            read.body["document"]["widgets"][format!("w{writer}")]["title"],
            format!("{writer}.{}", PATCHES - 1)
        );
    }
}
