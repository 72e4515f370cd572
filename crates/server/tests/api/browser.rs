//! The browser sync client (`/assets/sync-client.js`) in headless Chromium,
//! driven over WebDriver: two tabs of the demo user see each other's changes,
//! a disconnected tab catches up, and state rendered with `textContent` stays inert.
//!
//! Each test starts its own `chromedriver` and browsers; when they are not
//! installed the test fails (run `scripts/test`, which installs them).

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::spawn_app;
use crate::web::support::{Driver, Page};

/// A browser on the start page running a sync client as `window.sync`.
async fn tab(driver: &Driver, app: &crate::helpers::TestApp) -> Tab {
    let page = driver.page(app).await;
    let tab = Tab { page };
    tab.run(SETUP, json!({})).await;
    tab
}

/// One browser session running a sync client as `window.sync`.
struct Tab {
    page: Page,
}

/// Signs in as the demo user, imports the module and starts a client.
const SETUP: &str = r#"
const done = arguments[arguments.length - 1];
(async () => {
  // Counts binary (compressed) frames the page receives.
  const Native = window.WebSocket;
  window.binaryFrames = 0;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        if (typeof event.data !== "string") window.binaryFrames += 1;
      });
    }
  };
  const login = await fetch("/api/dev/login", { method: "POST" });
  const { token } = await login.json();
  const { createSyncClient } = await import(location.origin + "/assets/sync-client.js");
  window.statuses = [];
  window.rejects = [];
  window.sync = createSyncClient({
    baseUrl: location.origin,
    getToken: () => token,
    onStatus: (status, detail) => window.statuses.push({ status, detail }),
    onReject: (frame) => window.rejects.push(frame),
  });
  const deadline = Date.now() + 10000;
  while (!(window.sync.live && window.sync.state) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return window.sync.live ? "ok" : "not live: " + JSON.stringify(window.statuses);
})().then(done, (error) => done("error: " + error));
"#;

impl Tab {
    /// Runs an async script whose body ends by calling `done(result)`; `arg` is `arguments[0]`.
    async fn run(&self, body: &str, arg: Value) -> Value {
        let result = self.page.client.execute_async(body, vec![arg]).await.expect("script runs");
        if let Some(text) = result.as_str() {
            assert!(!text.starts_with("error") && !text.starts_with("not live"), "{text}");
        }
        result
    }

    /// Sends `ops` through the client and waits for the ack.
    async fn patch(&self, ops: Value) -> Value {
        self.run(
            r#"const done = arguments[arguments.length - 1];
               window.sync.patch(arguments[0]).then((ack) => done(ack), (error) => done("error: " + error));"#,
            ops,
        )
        .await
    }

    /// `{state, version, live}` of the client.
    async fn snapshot(&self) -> Value {
        self.run(
            r#"const done = arguments[arguments.length - 1];
               done({ state: window.sync.state, version: window.sync.version, live: window.sync.live,
                      lastSubscribed: window.sync.lastSubscribed });"#,
            json!(null),
        )
        .await
    }

    /// Polls until `check` holds for the client's snapshot (at most 10 s).
    async fn wait_for(&self, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        for _ in 0..100 {
            last = self.snapshot().await;
            if check(&last) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{what} did not happen within 10 s; last client view: {last}");
    }

    async fn quit(self) {
        self.page.quit().await;
    }
}

#[tokio::test]
async fn two_tabs_see_each_others_changes_and_a_disconnected_tab_catches_up() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let a = tab(&driver, &app).await;
    let b = tab(&driver, &app).await;

    // (a) A's change reaches B.
    a.patch(json!([{ "op": "replace", "path": "/preferences/theme", "value": "dark" }])).await;
    b.wait_for("B seeing A's theme", |view| view["state"]["preferences"]["theme"] == "dark").await;
    let b_tab = b.run("arguments[arguments.length - 1](window.sync.tab);", json!(null)).await;
    let a_tab = a.run("arguments[arguments.length - 1](window.sync.tab);", json!(null)).await;
    assert_ne!(a_tab, b_tab, "each tab has its own id");

    // (b) B goes offline, A writes twice, B reconnects and recovers from its epoch/v.
    let before = b.snapshot().await;
    b.run("window.sync.disconnect(); arguments[arguments.length - 1](null);", json!(null)).await;
    a.patch(json!([{ "op": "replace", "path": "/preferences/theme", "value": "light" }])).await;
    a.patch(json!([{ "op": "replace", "path": "/preferences/theme", "value": "dark" }])).await;
    let a_view = a.snapshot().await;
    assert!(a_view["version"].as_u64() > before["version"].as_u64(), "{a_view}");
    assert_eq!(b.snapshot().await["version"], before["version"], "B stayed offline");
    b.run("window.sync.reconnectNow(); arguments[arguments.length - 1](null);", json!(null)).await;
    let b_view = b.wait_for("B catching up", |view| view["live"] == true && view["version"] == a_view["version"]).await;
    assert_eq!(b_view["state"], a_view["state"]);
    assert_eq!(b_view["lastSubscribed"]["wasRecovering"], true, "{b_view}");
    assert_eq!(b_view["lastSubscribed"]["recovered"], true, "B got the missed changes replayed: {b_view}");

    a.quit().await;
    b.quit().await;
}

#[tokio::test]
async fn a_large_snapshot_arrives_compressed_and_is_inflated_in_order() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let a = tab(&driver, &app).await;
    // 50 alerts of ~300 bytes: a document well above the 8 KiB compression threshold.
    let ops: Vec<Value> = (0..50)
        .map(|n| {
            let message = format!("Alert {n}: the release checklist item {n} is overdue; {}", "details ".repeat(30));
            json!({ "op": "add", "path": "/alerts/-", "value": {
                "id": format!("big-{n}"), "severity": "warning", "message": message, "createdAt": "2026-11-22T10:00:00Z" } })
        })
        .collect();
    let ack = a.patch(Value::Array(ops)).await;
    assert!(ack["v"].is_u64(), "{ack}");
    let a_view = a.snapshot().await;

    // A new tab's first snapshot is large: it comes as a gzip binary frame and is inflated.
    let b = tab(&driver, &app).await;
    let b_view = b.snapshot().await;
    assert_eq!(b_view["state"], a_view["state"]);
    assert_eq!(b_view["version"], a_view["version"]);
    let binary = b.run("arguments[arguments.length - 1](window.binaryFrames);", json!(null)).await;
    assert!(binary.as_u64() >= Some(1), "the snapshot came compressed: {binary} binary frames");

    // Deltas after it still apply in order.
    a.patch(json!([{ "op": "replace", "path": "/preferences/theme", "value": "dark" }])).await;
    b.wait_for("B seeing A's theme", |view| view["state"]["preferences"]["theme"] == "dark").await;
    a.quit().await;
    b.quit().await;
}

#[tokio::test]
async fn markup_in_state_rendered_with_text_content_stays_inert() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let a = tab(&driver, &app).await;
    let payload = r#"<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">"#;

    let alert = json!({ "id": "xss", "severity": "info", "message": payload, "createdAt": "2026-01-01T00:00:00Z" });
    let ack = a.patch(json!([{ "op": "add", "path": "/alerts/-", "value": alert }])).await;
    assert!(ack["v"].is_u64(), "the patch was acknowledged: {ack}");
    let rendered = a
        .run(
            r#"const done = arguments[arguments.length - 1];
               const out = document.createElement("p");
               out.id = "alert";
               document.body.append(out);
               const render = (state) => { out.textContent = state.alerts[state.alerts.length - 1].message; };
               window.sync.subscribe(render);
               render(window.sync.state);
               // Give an injected handler (image error, script) time to run if it could.
               setTimeout(() => done({ text: out.textContent, children: out.childElementCount,
                                       pwned: window.__pwned ?? null }), 500);"#,
            json!(null),
        )
        .await;
    assert_eq!(rendered["text"], payload, "{rendered}");
    assert_eq!(rendered["children"], 0, "no elements were created: {rendered}");
    assert_eq!(rendered["pwned"], Value::Null, "no injected script ran: {rendered}");

    a.quit().await;
}

#[tokio::test]
async fn the_module_is_served_as_javascript_and_writes_no_html() {
    let app = spawn_app().await;
    let response = app.client.get(format!("{}/assets/sync-client.js", app.address)).send().await.expect("request");
    assert_eq!(response.status(), 200);
    let content_type = response.headers().get("content-type").and_then(|value| value.to_str().ok()).map(str::to_owned);
    assert_eq!(content_type.as_deref(), Some("text/javascript; charset=utf-8"));
    let body = response.text().await.expect("body");
    assert!(body.contains("export function createSyncClient"), "the module itself is served");
    for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("] {
        assert!(!body.contains(sink), "the sync client must not use {sink}");
    }
}

/// RFC 6902 cases for the module's own applier, including pointer escapes and `-`.
const PATCH_CASES: &str = r#"
const done = arguments[arguments.length - 1];
(async () => {
  const { applyPatch } = await import(location.origin + "/assets/sync-client.js");
  const results = [];
  const check = (name, doc, ops, expected) => {
    let got;
    try { got = applyPatch(doc, ops); } catch (error) { got = "error"; }
    results.push({ name, ok: JSON.stringify(got) === JSON.stringify(expected), got });
  };
  check("add member", { a: 1 }, [{ op: "add", path: "/b", value: 2 }], { a: 1, b: 2 });
  check("add ~1 and ~0", {}, [{ op: "add", path: "/a~1b", value: 1 }, { op: "add", path: "/c~0d", value: 2 },
                              { op: "add", path: "/~01", value: 3 }], { "a/b": 1, "c~d": 2, "~1": 3 });
  check("append with -", { l: [1] }, [{ op: "add", path: "/l/-", value: 2 }], { l: [1, 2] });
  check("insert at index", { l: [1, 3] }, [{ op: "add", path: "/l/1", value: 2 }], { l: [1, 2, 3] });
  check("index past end", { l: [1] }, [{ op: "add", path: "/l/2", value: 2 }], "error");
  check("leading zero index", { l: [1, 2] }, [{ op: "remove", path: "/l/01" }], "error");
  check("remove", { a: 1, b: 2 }, [{ op: "remove", path: "/a" }], { b: 2 });
  check("remove missing", { a: 1 }, [{ op: "remove", path: "/x" }], "error");
  check("replace", { a: [1, 2] }, [{ op: "replace", path: "/a/0", value: 9 }], { a: [9, 2] });
  check("replace missing", { a: 1 }, [{ op: "replace", path: "/x", value: 1 }], "error");
  check("replace root", { a: 1 }, [{ op: "replace", path: "", value: [1] }], [1]);
  check("move", { a: { b: 1 }, c: {} }, [{ op: "move", from: "/a/b", path: "/c/d" }], { a: {}, c: { d: 1 } });
  check("move into child", { a: { b: 1 } }, [{ op: "move", from: "/a", path: "/a/b/c" }], "error");
  check("copy is deep", { a: { b: 1 } }, [{ op: "copy", from: "/a", path: "/c" },
                                          { op: "replace", path: "/c/b", value: 2 }], { a: { b: 1 }, c: { b: 2 } });
  check("test passes", { a: { b: [1] } }, [{ op: "test", path: "/a", value: { b: [1] } }], { a: { b: [1] } });
  check("test fails, nothing applied", { a: 1 }, [{ op: "add", path: "/b", value: 1 },
                                                  { op: "test", path: "/a", value: 2 }], "error");
  check("__proto__ is a plain member", {}, [{ op: "add", path: "/__proto__", value: { polluted: true } }],
        JSON.parse('{"__proto__":{"polluted":true}}'));
  results.push({ name: "no pollution", ok: ({}).polluted === undefined });
  const original = { a: 1 };
  applyPatch(original, [{ op: "add", path: "/b", value: 2 }]);
  results.push({ name: "input untouched", ok: JSON.stringify(original) === '{"a":1}' });
  return results;
})().then(done, (error) => done("error: " + error));
"#;

#[tokio::test]
async fn the_json_patch_applier_follows_rfc_6902() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let a = tab(&driver, &app).await;
    let results = a.run(PATCH_CASES, json!(null)).await;
    let cases = results.as_array().expect("results");
    assert!(cases.len() >= 19, "{results}");
    let failed: Vec<&Value> = cases.iter().filter(|case| case["ok"] != true).collect();
    assert!(failed.is_empty(), "failing RFC 6902 cases: {failed:?}");
    a.quit().await;
}
