//! Driving the web page in Debian's headless Chromium over WebDriver
//! (chromedriver + fantoccini): one [`Driver`] per test, a [`Page`] per tab.
//!
//! Every page records the browser's console; [`Page::console_errors`] returns
//! what was logged at level SEVERE (uncaught exceptions, failed loads, CSP
//! refusals), so a flow can end with [`Page::assert_no_console_errors`].
//! [`Page::axe`] injects axe-core (installed from npm by scripts/test into
//! `target/test-tools`) and returns the serious and critical violations.
//!
//! Each test starts its own `chromedriver`; when Chromium is not installed the
//! test fails saying so (run `scripts/test`, which installs it). Set
//! `AGENTDECK_BROWSER_VISIBLE=1` (with a display) to see the browsers instead of
//! running them headless.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::helpers::TestApp;

/// Width and height of every browser window, so layouts and screenshots repeat.
pub const WINDOW: (u32, u32) = (1280, 900);

/// A `chromedriver` process in its own process group, which is killed on drop
/// with every browser it started (also when a test panics before closing them).
pub struct Driver {
    child: Child,
    /// `http://127.0.0.1:PORT` of chromedriver.
    pub url: String,
}

impl Driver {
    /// Starts chromedriver on a free port and waits until it answers.
    pub async fn start() -> Driver {
        for binary in ["chromedriver", "chromium"] {
            let found = Command::new("which").arg(binary).stdout(Stdio::null()).status().is_ok_and(|s| s.success());
            assert!(
                found,
                "`{binary}` is not installed; run scripts/test, which installs chromium and chromium-driver"
            );
        }
        let port = TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("address").port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts; run scripts/test, which installs chromium-driver");
        let driver = Driver { child, url: format!("http://127.0.0.1:{port}") };
        let status = format!("{}/status", driver.url);
        for _ in 0..100 {
            if reqwest::get(&status).await.is_ok_and(|response| response.status().is_success()) {
                return driver;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not come up on {}", driver.url);
    }

    /// A new headless Chromium session with a fresh profile, not yet on any page.
    pub async fn browser(&self) -> Page {
        self.browser_with(&[]).await
    }

    /// Like [`Driver::browser`] with extra Chromium flags (e.g. `--force-dark-mode`).
    pub async fn browser_with(&self, extra: &[&str]) -> Page {
        let profile = tempfile::tempdir().expect("profile dir");
        // `AGENTDECK_BROWSER_VISIBLE=1` opens real windows (needs a display) to watch a flow or debug it.
        let visible =
            std::env::var_os("AGENTDECK_BROWSER_VISIBLE").is_some_and(|value| value != "0" && !value.is_empty());
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--font-render-hinting=none",
            "--disable-lcd-text",
            "--lang=en-US",
        ]
        .iter()
        .chain(extra)
        .filter(|arg| !(visible && **arg == "--headless=new"))
        .map(|arg| (*arg).to_owned())
        .chain([
            format!("--user-data-dir={}", profile.path().display()),
            format!("--window-size={},{}", WINDOW.0, WINDOW.1),
        ])
        .collect::<Vec<_>>();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert("goog:chromeOptions".into(), json!({ "binary": "/usr/bin/chromium", "args": args }));
        capabilities.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a Chromium session (run scripts/test, which installs chromium)");
        let _sized = client.set_window_size(WINDOW.0, WINDOW.1).await;
        Page { client, driver_url: self.url.clone(), console: Vec::new(), _profile: profile }
    }

    /// A browser on `app`'s dashboard page (`/`), so the page's Origin is the server's own.
    pub async fn page(&self, app: &TestApp) -> Page {
        let page = self.browser().await;
        page.goto(app, "/").await;
        page
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The browsers are chromedriver's children in its group: `kill -- -pgid` ends them all.
        let group = format!("-{}", self.child.id());
        let _already_gone = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _reaped = self.child.wait();
    }
}

/// One browser window.
pub struct Page {
    /// The WebDriver session (find elements, click, screenshots).
    pub client: Client,
    driver_url: String,
    console: Vec<Value>,
    _profile: TempDir,
}

impl Page {
    /// Waits for the dashboard's first render (after a sign-in or a reload of a signed-in tab).
    pub async fn wait_ready(&self) {
        self.run(
            r#"const done = arguments[arguments.length - 1];
               const deadline = Date.now() + 15000;
               (async () => {
                 while (!window.agentdeck?.ready && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
                 if (!window.agentdeck?.ready) return "error: window.agentdeck.ready never appeared";
                 await window.agentdeck.ready;
                 return "ok";
               })().then(done, (e) => done("error: " + e));"#,
            Value::Null,
        )
        .await;
    }

    /// Opens `path` of `app`.
    pub async fn goto(&self, app: &TestApp, path: &str) {
        self.client.goto(&format!("{}{path}", app.address)).await.expect("page loads");
    }

    /// Runs a synchronous script (`return …;`); `arg` is `arguments[0]`.
    pub async fn eval(&self, body: &str, arg: Value) -> Value {
        self.client.execute(body, vec![arg]).await.unwrap_or_else(|error| panic!("script failed: {error}\n{body}"))
    }

    /// Runs an async script whose body ends by calling `done(result)` (the last
    /// argument); `arg` is `arguments[0]`. A result string starting with
    /// `error` fails the test.
    pub async fn run(&self, body: &str, arg: Value) -> Value {
        let result = self.client.execute_async(body, vec![arg]).await.expect("script runs");
        if let Some(text) = result.as_str() {
            assert!(!text.starts_with("error"), "{text}");
        }
        result
    }

    /// Polls `expression` (a JS expression) until it is truthy, for at most
    /// `seconds`; returns its last value. Fails the test naming `what` otherwise.
    pub async fn wait_for(&self, what: &str, expression: &str, seconds: u64) -> Value {
        let script = format!("return ({expression});");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
        let mut last = Value::Null;
        while tokio::time::Instant::now() < deadline {
            match self.client.execute(&script, vec![]).await {
                Ok(value) => {
                    let truthy = match &value {
                        Value::Null => false,
                        Value::Bool(b) => *b,
                        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
                        Value::String(s) => !s.is_empty(),
                        _ => true,
                    };
                    if truthy {
                        return value;
                    }
                    last = value;
                }
                Err(error) => last = Value::String(format!("script error: {error}")),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{what} did not happen within {seconds} s; last value of `{expression}`: {last}");
    }

    /// The console entries logged since the last call (`{level, message}`), kept for [`Page::console_errors`].
    pub async fn console_log(&mut self) -> Vec<Value> {
        let Ok(Some(session)) = self.client.session_id().await else { return Vec::new() };
        let url = format!("{}/session/{session}/se/log", self.driver_url);
        let response = reqwest::Client::new().post(url).json(&json!({ "type": "browser" })).send().await;
        let entries = match response {
            Ok(response) => response.json::<Value>().await.ok().and_then(|body| body["value"].as_array().cloned()),
            Err(_) => None,
        }
        .unwrap_or_default();
        self.console.extend(entries.iter().cloned());
        entries
    }

    /// Every SEVERE console entry of this page so far.
    pub async fn console_errors(&mut self) -> Vec<String> {
        self.console_log().await;
        self.console
            .iter()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Fails the test when the page logged an error, except messages containing one of `allowed`
    /// (e.g. a refused WebSocket while the server is down on purpose).
    pub async fn assert_no_console_errors(&mut self, allowed: &[&str]) {
        let errors: Vec<String> = self
            .console_errors()
            .await
            .into_iter()
            .filter(|message| !allowed.iter().any(|allowed| message.contains(allowed)))
            .collect();
        assert!(errors.is_empty(), "console errors: {errors:#?}");
    }

    /// The serious and critical axe-core violations of the page as it is now
    /// (`[{id, impact, help, nodes: [selector…]}]`).
    pub async fn axe(&self) -> Vec<Value> {
        let source = std::fs::read_to_string(axe_path()).unwrap_or_else(|error| {
            panic!("axe-core is not installed at {} ({error}); run scripts/test", axe_path().display())
        });
        self.eval(&format!("{source}\nreturn typeof axe;"), Value::Null).await;
        let result = self
            .run(
                r#"const done = arguments[arguments.length - 1];
                   axe.run(document, { resultTypes: ["violations"] }).then((results) => done(
                     results.violations
                       .filter((v) => v.impact === "serious" || v.impact === "critical")
                       .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.map((n) => n.target.join(" ")) }))),
                     (error) => done("error: " + error));"#,
                Value::Null,
            )
            .await;
        result.as_array().cloned().unwrap_or_default()
    }

    /// A PNG of the whole window.
    pub async fn screenshot(&self) -> Vec<u8> {
        self.client.screenshot().await.expect("screenshot")
    }

    /// A PNG of the first element matching `selector`.
    pub async fn element_screenshot(&self, selector: &str) -> Vec<u8> {
        let element = self.client.find(fantoccini::Locator::Css(selector)).await.expect("element to screenshot");
        element.screenshot().await.expect("element screenshot")
    }

    /// Closes the browser.
    pub async fn quit(self) {
        let _browser_already_gone = self.client.close().await;
    }
}

/// Where scripts/test installs axe-core: `$AGENTDECK_TEST_TOOLS` or `target/test-tools`.
fn axe_path() -> PathBuf {
    let tools = std::env::var_os("AGENTDECK_TEST_TOOLS").map(PathBuf::from).unwrap_or_else(|| {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
        target.join("test-tools")
    });
    tools.join("node_modules/axe-core/axe.min.js")
}

/// Signs the page in with the dev-mode button and waits for the dashboard's first render.
pub async fn sign_in(page: &Page) {
    page.wait_for("the dev sign-in button", r#"document.querySelector('[data-action="dev-login"]')"#, 10).await;
    page.eval(r#"document.querySelector('[data-action="dev-login"]').click(); return null;"#, Value::Null).await;
    page.run(
        r#"const done = arguments[arguments.length - 1];
           const deadline = Date.now() + 15000;
           (async () => {
             while (!(window.agentdeck && window.agentdeck.ready) && Date.now() < deadline) {
               await new Promise((resolve) => setTimeout(resolve, 50));
             }
             if (!window.agentdeck?.ready) return "error: window.agentdeck.ready never appeared";
             await window.agentdeck.ready;
             return "ok";
           })().then(done, (error) => done("error: " + error));"#,
        Value::Null,
    )
    .await;
}
