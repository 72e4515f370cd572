//! `/api/ws-ticket` and `/api/sync`: authentication before the upgrade, the
//! room's ordering (ack to the writer, one delta to the others), REST writes
//! reaching sockets, recovery after a reconnect, and refusals.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, WsClient, error_code, spawn_app, spawn_app_on_postgres_and_redis, spawn_app_with};

const STATE: &str = "/api/dashboard/state";

/// Gives the demo owner a dashboard at version 1 over REST, so sockets see deltas from then on.
async fn with_state(app: &TestApp) {
    let response = app
        .client
        .patch(format!("{}{STATE}", app.address))
        .bearer_auth(&app.token)
        .header("content-type", "application/json-patch+json")
        .body(json!([{ "op": "replace", "path": "/preferences/theme", "value": "dark" }]).to_string())
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status(), StatusCode::OK);
}

/// Sends `sub` and reads the answer up to `subscribed`: (frames before it, subscribed).
async fn subscribe(client: &mut WsClient, sub: Value) -> (Vec<Value>, Value) {
    client.send(&sub).await;
    let mut before = Vec::new();
    loop {
        let frame = client.recv().await;
        if frame["t"] == "subscribed" {
            return (before, frame);
        }
        before.push(frame);
    }
}

fn alert_patch(op: &str, base: u64, id: &str, message: &str) -> Value {
    let alert = json!({ "id": id, "severity": "info", "message": message, "createdAt": "2026-01-01T00:00:00Z" });
    json!({ "t": "patch", "op": op, "base": base, "tab": "tab-a",
            "ops": [{ "op": "add", "path": "/alerts/-", "value": alert }] })
}

#[tokio::test]
async fn a_ticket_opens_one_socket_once_and_the_server_echoes_only_dash_v1() {
    let app = spawn_app().await;
    let (status, body) = app.request(Method::POST, "/api/ws-ticket", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = app.request(Method::POST, "/api/ws-ticket", Some(&app.token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["expiresAt"].is_string(), "{body}");
    let ticket = body["ticket"].as_str().expect("ticket").to_owned();

    let offer = format!("dash.v1, dash.ticket.{ticket}");
    let mut client = app.ws_connect(&[("sec-websocket-protocol", &offer)]).await.expect("ticket accepted");
    assert_eq!(client.protocol.as_deref(), Some("dash.v1"));
    let hello = client.recv().await;
    assert_eq!(hello["t"], "hello", "hello comes first: {hello}");
    assert_eq!(hello["proto"], "dash.v1");
    assert_eq!(hello["limits"]["maxFrameBytes"], 65_536);
    assert!(hello["sid"].is_string() && hello["serverTime"].is_string() && hello["heartbeatMs"].is_u64(), "{hello}");

    let (status, body) = app.ws_connect(&[("sec-websocket-protocol", &offer)]).await.err().expect("single use");
    assert_eq!(status, 401);
    assert_eq!(error_code(&body), "unauthorized");
}

#[tokio::test]
async fn a_bearer_header_opens_a_socket_and_no_credentials_do_not() {
    let app = spawn_app().await;
    app.ws_open().await;
    let (status, body) = app.ws_connect(&[]).await.err().expect("refused");
    assert_eq!(status, 401, "{body}");
    assert_eq!(error_code(&body), "unauthorized");
    let (status, _) = app.ws_connect(&[("authorization", "Bearer nonsense")]).await.err().expect("refused");
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_client_may_ask_for_gzip_frames_and_nothing_else() {
    let app = spawn_app().await;
    let bearer = format!("Bearer {}", app.token);
    let (status, body) =
        app.ws_connect_to("/api/sync?compress=brotli", &[("authorization", &bearer)]).await.err().expect("refused");
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["details"][0]["path"], "/compress", "{body}");
    let mut client =
        app.ws_connect_to("/api/sync?compress=gzip", &[("authorization", &bearer)]).await.expect("gzip accepted");
    assert_eq!(client.recv().await["t"], "hello");
}

#[tokio::test]
async fn only_the_servers_own_or_listed_origins_may_connect() {
    let app = spawn_app_with(|settings| settings.http.allowed_origins = vec!["https://app.example".into()]).await;
    let ticket = app.ws_ticket().await;
    let offer = format!("dash.v1, dash.ticket.{ticket}");
    let (status, body) = app
        .ws_connect(&[("sec-websocket-protocol", &offer), ("origin", "https://evil.example")])
        .await
        .err()
        .expect("foreign origin refused");
    assert_eq!(status, 403, "{body}");
    assert_eq!(error_code(&body), "forbidden");

    // The refusal came before the ticket was redeemed: it still works from the page's own origin.
    let own = app.address.clone();
    app.ws_connect(&[("sec-websocket-protocol", &offer), ("origin", &own)]).await.expect("own origin");
    let bearer = format!("Bearer {}", app.token);
    app.ws_connect(&[("authorization", &bearer), ("origin", "https://app.example")]).await.expect("listed origin");
}

#[tokio::test]
async fn a_dns_rebound_page_may_not_open_the_socket() {
    let app = spawn_app().await;
    let port = app.address.rsplit(':').next().expect("a port");
    let bearer = format!("Bearer {}", app.token);
    // The attacker's name resolves to this server: Host and Origin agree, and both are the attacker's.
    let host = format!("evil.example:{port}");
    let origin = format!("http://{host}");
    let (status, body) = app
        .ws_connect(&[("authorization", &bearer), ("host", &host), ("origin", &origin)])
        .await
        .err()
        .expect("rebound origin refused");
    assert_eq!(status, 403, "{body}");
    assert_eq!(error_code(&body), "forbidden");

    // Dev mode trusts loopback names on any port (a UI dev server, another tab on localhost).
    app.ws_connect(&[("authorization", &bearer), ("origin", "http://localhost:5173")]).await.expect("loopback");
}

#[tokio::test]
async fn a_patch_is_acked_to_its_writer_and_sent_once_to_the_other_tab() {
    let app = spawn_app().await;
    with_state(&app).await;
    let mut a = app.ws_open().await;
    let mut b = app.ws_open().await;
    for client in [&mut a, &mut b] {
        let (before, subscribed) = subscribe(client, json!({ "t": "sub" })).await;
        assert_eq!(before.len(), 1, "{before:?}");
        assert_eq!(before[0]["t"], "snapshot");
        assert_eq!(before[0]["v"], 1);
        assert_eq!(before[0]["state"]["preferences"]["theme"], "dark");
        assert_eq!(subscribed["recovered"], false, "{subscribed}");
        assert_eq!(subscribed["wasRecovering"], false);
    }

    // Data, never markup: the text arrives exactly as written.
    let script = "<script>alert(1)</script>";
    a.send(&alert_patch("op-1", 1, "a1", script)).await;
    let ack = a.recv().await;
    assert_eq!((&ack["t"], &ack["op"], &ack["base"], &ack["v"]), (&json!("ack"), &json!("op-1"), &json!(1), &json!(2)));
    // The rules did more than the patch said (a default filled in, `activeAlerts` derived):
    // the ack carries the whole committed change, and so does the delta.
    let effects = json!([{ "op": "replace", "path": "/activeAlerts", "value": ["a1"] },
                         { "op": "add", "path": "/alerts/0/dismissed", "value": false }]);
    assert_eq!(ack["ops"].as_array().map(|ops| &ops[1..]), effects.as_array().map(Vec::as_slice), "{ack}");
    let delta = b.recv().await;
    assert_eq!(delta["ops"], ack["ops"], "{delta}");
    assert_eq!(delta["t"], "delta", "{delta}");
    assert_eq!((delta["base"].as_u64(), delta["v"].as_u64()), (Some(1), Some(2)));
    assert_eq!(delta["origin"], json!({ "tab": "tab-a", "op": "op-1" }));
    assert_eq!(delta["ops"][0]["value"]["message"], script);

    // The writer got no echo: the next thing it hears is the snapshot it asks for.
    a.send(&json!({ "t": "resync" })).await;
    let snapshot = a.recv().await;
    assert_eq!(snapshot["t"], "snapshot", "{snapshot}");
    assert_eq!(snapshot["v"], 2);

    // A REST write reaches both sockets as a delta without origin.
    let (status, body) = app
        .send_raw(
            Method::PATCH,
            STATE,
            "application/json-patch+json",
            json!([{ "op": "replace", "path": "/preferences/theme", "value": "light" }]).to_string().into_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for client in [&mut a, &mut b] {
        let delta = client.recv().await;
        assert_eq!(delta["t"], "delta", "{delta}");
        assert_eq!((delta["base"].as_u64(), delta["v"].as_u64()), (Some(2), Some(3)));
        assert!(delta.get("origin").is_none(), "{delta}");
        assert_eq!(delta["ops"][0]["value"], "light");
    }
}

#[tokio::test]
async fn a_reconnecting_tab_gets_exactly_the_missed_deltas_or_a_snapshot() {
    let app = spawn_app().await;
    with_state(&app).await;
    let mut a = app.ws_open().await;
    subscribe(&mut a, json!({ "t": "sub" })).await;
    let mut b = app.ws_open().await;
    let (before, _) = subscribe(&mut b, json!({ "t": "sub" })).await;
    let epoch = before[0]["epoch"].as_str().expect("epoch").to_owned();
    drop(b);

    for (index, op) in ["op-1", "op-2"].into_iter().enumerate() {
        let base = 1 + index as u64;
        a.send(&alert_patch(op, base, &format!("a{index}"), "missed")).await;
        assert_eq!(a.recv().await["t"], "ack");
    }

    let mut b = app.ws_open().await;
    let (before, subscribed) = subscribe(&mut b, json!({ "t": "sub", "epoch": epoch, "v": 1 })).await;
    assert_eq!(before.len(), 1, "{before:?}");
    let batch = &before[0];
    assert_eq!(batch["t"], "batch", "{batch}");
    assert_eq!((batch["base"].as_u64(), batch["v"].as_u64()), (Some(1), Some(3)));
    let deltas = batch["deltas"].as_array().expect("deltas");
    assert_eq!(deltas.len(), 2);
    assert_eq!((deltas[0]["base"].as_u64(), deltas[0]["v"].as_u64()), (Some(1), Some(2)));
    assert_eq!((deltas[1]["base"].as_u64(), deltas[1]["v"].as_u64()), (Some(2), Some(3)));
    assert_eq!(deltas[1]["origin"], json!({ "tab": "tab-a", "op": "op-2" }));
    assert_eq!(
        subscribed,
        json!({ "t": "subscribed", "epoch": epoch, "v": 3, "wasRecovering": true, "recovered": true, "replayed": 2 })
    );

    // Nothing missed: nothing replayed.
    let (before, subscribed) = subscribe(&mut b, json!({ "t": "sub", "epoch": epoch, "v": 3 })).await;
    assert!(before.is_empty(), "{before:?}");
    assert_eq!((subscribed["recovered"].as_bool(), subscribed["replayed"].as_u64()), (Some(true), Some(0)));

    // A log that no longer exists: a snapshot.
    let (before, subscribed) = subscribe(&mut b, json!({ "t": "sub", "epoch": "foreign", "v": 1 })).await;
    assert_eq!(before.len(), 1);
    assert_eq!(before[0]["t"], "snapshot");
    assert_eq!(before[0]["v"], 3);
    assert_eq!(subscribed["wasRecovering"], true);
    assert_eq!(subscribed["recovered"], false);
}

#[tokio::test]
async fn refusals_go_to_the_writer_only_and_bad_frames_are_named() {
    let app = spawn_app().await;
    with_state(&app).await;
    let mut a = app.ws_open().await;
    let mut b = app.ws_open().await;
    subscribe(&mut a, json!({ "t": "sub" })).await;
    subscribe(&mut b, json!({ "t": "sub" })).await;

    let forbidden = json!({ "t": "patch", "op": "bad-1", "base": 1, "tab": "tab-a",
                            "ops": [{ "op": "add", "path": "/preferences/__proto__", "value": { "polluted": true } }] });
    a.send(&forbidden).await;
    let reject = a.recv().await;
    assert_eq!(reject["t"], "reject", "{reject}");
    assert_eq!(reject["op"], "bad-1");
    assert_eq!(reject["v"], 1);
    assert!(reject["code"] == "forbidden" || reject["code"] == "invalid_patch", "{reject}");
    // B heard nothing: its next frame is the snapshot it asks for, still at version 1.
    b.send(&json!({ "t": "resync" })).await;
    let snapshot = b.recv().await;
    assert_eq!((snapshot["t"].as_str(), snapshot["v"].as_u64()), (Some("snapshot"), Some(1)));

    let stale_epoch_base = json!({ "t": "patch", "op": "bad-2", "base": 9, "tab": "tab-a",
                                   "ops": [{ "op": "replace", "path": "/preferences/theme", "value": "light" }] });
    a.send(&stale_epoch_base).await;
    let reject = a.recv().await;
    assert_eq!((reject["t"].as_str(), reject["code"].as_str()), (Some("reject"), Some("conflict")), "{reject}");

    a.send_text("{not json".into()).await;
    let reject = a.recv().await;
    assert_eq!((reject["t"].as_str(), reject["code"].as_str()), (Some("reject"), Some("bad_frame")), "{reject}");
    a.send(&json!({ "t": "explode" })).await;
    assert_eq!(a.recv().await["code"], "bad_frame");

    let oversized = json!({ "t": "sub", "epoch": "x".repeat(70_000) }).to_string();
    a.send_text(oversized).await;
    assert_eq!(a.close_code().await, 4009);
    // Far over the limit: refused by the transport, with the same close code.
    let mut c = app.ws_open().await;
    c.send_text(json!({ "t": "sub", "epoch": "x".repeat(300_000) }).to_string()).await;
    assert_eq!(c.close_code().await, 4009);
}

#[tokio::test]
async fn a_silent_client_is_closed_after_two_missed_pongs() {
    let app = spawn_app_with(|settings| settings.sync.heartbeat_ms = 100).await;
    let bearer = format!("Bearer {}", app.token);
    let mut client = app.ws_connect(&[("authorization", &bearer)]).await.expect("connect");
    assert_eq!(client.close_code().await, 4012);
}

#[tokio::test]
async fn a_stopping_server_says_goaway_with_a_jittered_retry() {
    let mut app = spawn_app().await;
    let mut client = app.ws_open().await;
    subscribe(&mut client, json!({ "t": "sub" })).await;
    app.stop_server();
    let goaway = client.recv().await;
    assert_eq!((goaway["t"].as_str(), goaway["code"].as_u64()), (Some("goaway"), Some(4011)), "{goaway}");
    assert_eq!(goaway["reconnect"], true);
    assert!(goaway["retryAfterMs"].as_u64().is_some_and(|ms| ms <= 5_000), "{goaway}");
    assert_eq!(client.close_code().await, 4011);
}

#[tokio::test]
async fn patches_past_the_per_user_limit_are_rejected_as_rate_limited() {
    let app = spawn_app_with(|settings| settings.sync.patches_per_minute = 3).await;
    with_state(&app).await;
    let bearer = format!("Bearer {}", app.token);
    let mut a = app.ws_connect(&[("authorization", &bearer)]).await.expect("ws connect");
    let hello = a.recv().await;
    assert_eq!(hello["limits"]["patchesPerMinute"], 3, "{hello}");
    let (_, subscribed) = subscribe(&mut a, json!({ "t": "sub" })).await;
    let mut version = subscribed["v"].as_u64().unwrap();
    for index in 0..3 {
        a.send(&alert_patch(&format!("ok-{index}"), version, &format!("alert-{index}"), "fine")).await;
        let ack = a.recv().await;
        assert_eq!(ack["t"], "ack", "{ack}");
        version = ack["v"].as_u64().unwrap();
    }
    a.send(&alert_patch("too-many", version, "alert-x", "one too many")).await;
    let reject = a.recv().await;
    assert_eq!((reject["t"].as_str(), reject["code"].as_str()), (Some("reject"), Some("rate_limited")), "{reject}");
    assert_eq!(reject["op"], "too-many");
    assert!(reject["detail"]["retryAfterMs"].as_u64().is_some_and(|wait| wait > 0 && wait <= 20_000), "{reject}");
    // Nothing was applied: the state is still at the last acked version.
    let (status, body) = app.get(STATE).await;
    assert_eq!((status, body["version"].as_u64()), (StatusCode::OK, Some(version)));
}

#[tokio::test]
async fn sockets_past_the_per_user_and_per_workspace_caps_are_refused_with_429() {
    let app = spawn_app_with(|settings| {
        settings.sync.max_connections_per_user = 2;
        settings.sync.max_connections_per_workspace = 3;
    })
    .await;
    let demo = format!("Bearer {}", app.token);
    let first = app.ws_open().await;
    let _second = app.ws_open().await;
    let refused = app.ws_connect(&[("authorization", &demo)]).await;
    let Err((status, body)) = refused else { panic!("a third socket of one user is refused") };
    assert_eq!((status, error_code(&body)), (429, "rate_limited"), "{body}");

    drop(first);
    // The slot frees when the server sees the socket end.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let _replacement = loop {
        match app.ws_connect(&[("authorization", &demo)]).await {
            Ok(client) => break client,
            Err(_) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await
            }
            Err((status, body)) => panic!("slot not freed: {status} {body}"),
        }
    };

    let colleague = app.token_for(&agentdeck_domain::auth::Principal {
        subject: "priya".into(),
        workspace_id: app.workspace_id,
        role: agentdeck_domain::auth::Role::Admin,
    });
    let colleague = format!("Bearer {colleague}");
    let _third_in_workspace = app.ws_connect(&[("authorization", &colleague)]).await.expect("third in workspace");
    let refused = app.ws_connect(&[("authorization", &colleague)]).await;
    let Err((status, _)) = refused else { panic!("a fourth socket in the workspace is refused") };
    assert_eq!(status, 429);
}

/// 7.3: a `sub` the server cannot answer while Redis is down is refused and the
/// socket closed with 4010 (insufficient state), on which the browser client
/// reconnects — instead of staying open and never getting the state. Once Redis
/// is back, the reconnect gets it.
#[tokio::test]
async fn a_sub_refused_in_an_outage_closes_the_socket_and_a_reconnect_gets_the_state() {
    let mut redis = agentdeck_storage::testing::OwnedRedis::start().expect("a redis-server of this test");
    let app = spawn_app_on_postgres_and_redis(&redis.url()).await;
    with_state(&app).await;
    let mut client = app.ws_open().await;

    redis.stop();
    client.send(&json!({ "t": "sub" })).await;
    let reject = client.recv().await;
    assert_eq!((reject["t"].as_str(), reject["code"].as_str()), (Some("reject"), Some("unavailable")), "{reject}");
    assert_eq!(client.close_code().await, agentdeck_sync_protocol::close::INSUFFICIENT_STATE);

    redis.restart().expect("redis-server restarts");
    // What the client does on 4010: reconnect (with backoff) and subscribe again, until the store answers.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let answer = loop {
        let mut client = app.ws_open().await;
        client.send(&json!({ "t": "sub" })).await;
        let answer = client.recv().await;
        if answer["t"] != "reject" || std::time::Instant::now() > deadline {
            break answer;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(answer["t"], "snapshot", "{answer}");
    assert_eq!(answer["state"]["preferences"]["theme"], "dark");
}
