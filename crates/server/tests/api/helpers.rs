//! `spawn_app()` and the typed helpers tests use.

use std::time::Duration;

use agentdeck_domain::auth::{Principal, Role};
use agentdeck_domain::records::NewProject;
use agentdeck_server::config::{Mode, Settings};
use agentdeck_server::startup::{Application, open_store};
use agentdeck_services::auth::TokenService;
use agentdeck_services::projects::ProjectService;
use agentdeck_storage::Stores;
use agentdeck_storage::testing::TestDatabase;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tempfile::TempDir;
use uuid::Uuid;

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// HTTP client.
    pub client: reqwest::Client,
    /// The settings the server runs with.
    pub settings: Settings,
    /// Token of the demo owner (from `POST /api/dev/login`).
    pub token: String,
    /// The demo workspace.
    pub workspace_id: Uuid,
    /// A second handle on the same database, for arranging data directly.
    pub stores: Stores,
    _data_dir: TempDir,
    /// The PostgreSQL database of a cluster-mode app, dropped (and removed) with it.
    database: Option<TestDatabase>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// The server's task: it ends once the server has shut down completely.
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _server_already_gone = stop.send(());
        }
    }
}

/// Starts a dev-mode server with the demo workspace, signed in as the demo owner.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a dev-mode server in cluster mode: records on a fresh PostgreSQL
/// database, dashboard state on the test machine's Redis (the server does not
/// start, and the test fails saying so, when Redis is unreachable).
pub async fn spawn_app_on_postgres() -> TestApp {
    spawn_app_on_postgres_and_redis(&agentdeck_storage::testing::redis_url()).await
}

/// Starts a dev-mode server in cluster mode on a fresh PostgreSQL database and the Redis at `redis_url`.
pub async fn spawn_app_on_postgres_and_redis(redis_url: &str) -> TestApp {
    spawn_app_on_postgres_with(redis_url, |_| {}).await
}

/// Like [`spawn_app_on_postgres_and_redis`], after `adjust` changed the settings.
pub async fn spawn_app_on_postgres_with(redis_url: &str, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let database = TestDatabase::postgres().await.expect("a PostgreSQL test database");
    let url = database.url.clone();
    let mut app = spawn_app_with(|settings| {
        settings.database_url = url;
        settings.redis_url = redis_url.to_owned();
        adjust(settings);
    })
    .await;
    app.database = Some(database);
    app
}

/// Starts a server after `adjust` changed its dev-mode settings.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    // The test's own reqwest clients need the rustls provider too (the server installs it only in build).
    agentdeck_services::outbound::install_crypto_provider();
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut settings = Settings {
        mode: Mode::Dev,
        bind: "127.0.0.1:0".parse().expect("address"),
        data_dir: data_dir.path().to_owned(),
        ..Settings::default()
    };
    settings.log.level = "warn".into();
    adjust(&mut settings);
    let application =
        Application::build(settings.clone()).await.unwrap_or_else(|error| panic!("server does not start: {error}"));
    let address = format!("http://{}", application.address());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    let (stores, _) = open_store(&settings).await.expect("second store handle");
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client");
    let mut app = TestApp {
        address,
        client,
        settings,
        token: String::new(),
        workspace_id: Uuid::nil(),
        stores,
        _data_dir: data_dir,
        database: None,
        stop: Some(stop),
        server: Some(server),
    };
    if app.settings.dev_login_enabled() {
        let (status, login) = app.request(Method::POST, "/api/dev/login", None, None).await;
        assert_eq!(status, StatusCode::OK, "{login}");
        app.token = login["token"].as_str().expect("token").to_owned();
        app.workspace_id = login["workspace"]["id"].as_str().expect("workspace id").parse().expect("uuid");
    }
    app
}

impl TestApp {
    /// Starts the server's shutdown (as SIGTERM would).
    pub fn stop_server(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _server_already_gone = stop.send(());
        }
    }

    /// Stops the server and waits until it has shut down completely (port closed,
    /// tasks ended, counts written), e.g. before another server opens its data dir.
    pub async fn stop_server_and_wait(&mut self) {
        self.stop_server();
        if let Some(server) = self.server.take() {
            let stopped = tokio::time::timeout(Duration::from_secs(30), server).await;
            let result = stopped.expect("the server stops within 30 s").expect("the server task does not panic");
            result.expect("the server shuts down cleanly");
        }
    }

    /// Stops the server, waits until it is down, and starts a new one with the
    /// same settings and data dir on the same port (the page's URL stays valid),
    /// as an operator's restart would.
    pub async fn restart(&mut self) {
        self.stop_server_and_wait().await;
        self.start_again().await;
    }

    /// Starts a new server with the same settings and data dir on the port the
    /// stopped one used; call after [`TestApp::stop_server_and_wait`].
    pub async fn start_again(&mut self) {
        assert!(self.server.is_none(), "the server is still running; stop it first");
        let mut settings = self.settings.clone();
        settings.bind = self.address.trim_start_matches("http://").parse().expect("the old address");
        // The port was closed a moment ago; give the kernel a few tries to hand it out again.
        let mut attempts = 0;
        let application = loop {
            match Application::build(settings.clone()).await {
                Ok(application) => break application,
                Err(_) if attempts < 50 => {
                    attempts += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("the server does not start again: {error}"),
            }
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        self.server = Some(tokio::spawn(application.run_until_stopped(async move {
            let _ = stopped.await;
        })));
        self.stop = Some(stop);
    }

    /// Polls `GetTask` on the agent at `path` until task `id` is in `state`, for
    /// at most 10 s; returns the state seen last.
    pub async fn await_task_state(&self, path: &str, token: Option<&str>, id: &str, state: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (_, _, got) = self.a2a_call(path, token, "GetTask", serde_json::json!({"id": id})).await;
            let seen = got["result"]["status"]["state"].as_str().unwrap_or_default().to_owned();
            if seen == state || tokio::time::Instant::now() >= deadline {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends a request with an optional bearer token and JSON body; returns status and JSON body.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let bytes = response.bytes().await.expect("body read");
        let json = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("JSON body") };
        (status, json)
    }

    /// GET as the demo owner.
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.request(Method::GET, path, Some(&self.token), None).await
    }

    /// POST JSON as the demo owner.
    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.request(Method::POST, path, Some(&self.token), Some(body)).await
    }

    /// PATCH JSON as the demo owner.
    pub async fn patch(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.request(Method::PATCH, path, Some(&self.token), Some(body)).await
    }

    /// Sends raw bytes with a content type as the demo owner.
    pub async fn send_raw(&self, method: Method, path: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, Value) {
        let response = self
            .client
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request sent");
        let status = response.status();
        let bytes = response.bytes().await.expect("body read");
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    /// A JSON-RPC call to an A2A agent (`path` = `/a2a/{name}`) with `A2A-Version: 1.0`
    /// and, when given, a bearer token; returns status, headers and the JSON body.
    pub async fn a2a_call(
        &self,
        path: &str,
        token: Option<&str>,
        method: &str,
        params: Value,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let body = serde_json::json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
        let mut request = self.client.post(format!("{}{path}", self.address)).header("A2A-Version", "1.0").json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request sent");
        let (status, headers) = (response.status(), response.headers().clone());
        (status, headers, response.json().await.unwrap_or(Value::Null))
    }

    /// Mints a token with the server's keys.
    pub fn token_for(&self, principal: &Principal) -> String {
        let keys = self.settings.token_keys().expect("keys");
        TokenService::new(keys).issue(principal, Duration::from_secs(600), chrono::Utc::now()).expect("token")
    }

    /// Creates another workspace as an operator would (`agentdeck workspace
    /// create`: an owner account and its member record) with one project, and
    /// returns a token of its owner (whose subject is the account id).
    pub async fn other_workspace(&self) -> (Uuid, String) {
        let input = agentdeck_services::accounts::NewWorkspace {
            name: "Other".into(),
            owner_email: format!("owner-{}@other.example", Uuid::now_v7()),
            owner_name: Some("Intruder".into()),
        };
        let created = agentdeck_services::accounts::create_workspace(&self.stores, input, || {
            Ok("a long enough passphrase".into())
        })
        .await
        .expect("workspace");
        let workspace = created.workspace;
        let owner = Principal { subject: created.owner.id.to_string(), workspace_id: workspace.id, role: Role::Owner };
        let input = NewProject {
            name: "Their project".into(),
            description: String::new(),
            start_date: None,
            due_date: None,
            archived: false,
        };
        ProjectService::new(self.stores.clone()).create_project(&owner, input).await.expect("project");
        (workspace.id, self.token_for(&owner))
    }
}

/// The `error.code` of an error body.
pub fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no error code>")
}

/// A WebSocket of `/api/sync`, as a test client sees it.
pub struct WsClient {
    stream: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    /// The subprotocol the server selected, if any.
    pub protocol: Option<String>,
}

/// How long a test waits for one frame before failing.
const WS_WAIT: Duration = Duration::from_secs(5);

impl TestApp {
    /// Asks `POST /api/ws-ticket` for a ticket as the demo owner.
    pub async fn ws_ticket(&self) -> String {
        let (status, body) = self.request(Method::POST, "/api/ws-ticket", Some(&self.token), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["ticket"].as_str().expect("ticket").to_owned()
    }

    /// Opens `/api/sync` with extra headers; the refusal's status and JSON body when the server says no.
    pub async fn ws_connect(&self, headers: &[(&str, &str)]) -> Result<WsClient, (u16, Value)> {
        self.ws_connect_to("/api/sync", headers).await
    }

    /// Opens the WebSocket at `path_and_query` with extra headers (see [`TestApp::ws_connect`]).
    pub async fn ws_connect_to(
        &self,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> Result<WsClient, (u16, Value)> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!("{}{path_and_query}", self.address.replacen("http://", "ws://", 1));
        let mut request = url.into_client_request().expect("ws request");
        for (name, value) in headers {
            let name: reqwest::header::HeaderName = name.parse().expect("header name");
            request.headers_mut().insert(name, value.parse().expect("header value"));
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((stream, response)) => {
                let protocol = response
                    .headers()
                    .get("sec-websocket-protocol")
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned);
                Ok(WsClient { stream, protocol })
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let body = response.body().as_deref().and_then(|bytes| serde_json::from_slice(bytes).ok());
                Err((response.status().as_u16(), body.unwrap_or(Value::Null)))
            }
            Err(error) => panic!("ws connect failed: {error}"),
        }
    }

    /// Opens `/api/sync` as the demo owner with a bearer token and reads `hello`.
    pub async fn ws_open(&self) -> WsClient {
        let bearer = format!("Bearer {}", self.token);
        let mut client = self.ws_connect(&[("authorization", &bearer)]).await.expect("ws connect");
        let hello = client.recv().await;
        assert_eq!(hello["t"], "hello", "{hello}");
        client
    }
}

impl WsClient {
    /// Sends a JSON frame.
    pub async fn send(&mut self, frame: &Value) {
        self.send_text(frame.to_string()).await;
    }

    /// Sends raw text.
    pub async fn send_text(&mut self, text: String) {
        use futures::SinkExt;
        use tokio_tungstenite::tungstenite::Message;
        self.stream.send(Message::text(text)).await.expect("ws send");
    }

    /// The next JSON frame other than `ping`.
    pub async fn recv(&mut self) -> Value {
        use futures::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let message = tokio::time::timeout(WS_WAIT, self.stream.next())
                .await
                .expect("a frame in time")
                .expect("socket open")
                .expect("frame read");
            match message {
                Message::Text(text) => {
                    let frame: Value = serde_json::from_str(text.as_str()).expect("JSON frame");
                    if frame["t"] != "ping" {
                        return frame;
                    }
                }
                Message::Close(frame) => panic!("socket closed: {frame:?}"),
                _ => {}
            }
        }
    }

    /// The next JSON frame other than `ping` if one arrives within `wait`; `None` if none does.
    pub async fn recv_within(&mut self, wait: Duration) -> Option<Value> {
        use futures::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let message = tokio::time::timeout_at(deadline, self.stream.next()).await.ok()?;
            match message.expect("socket open").expect("frame read") {
                Message::Text(text) => {
                    let frame: Value = serde_json::from_str(text.as_str()).expect("JSON frame");
                    if frame["t"] != "ping" {
                        return Some(frame);
                    }
                }
                Message::Close(frame) => panic!("socket closed: {frame:?}"),
                _ => {}
            }
        }
    }

    /// Reads until the server closes; returns the close code.
    pub async fn close_code(&mut self) -> u16 {
        use futures::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let message = tokio::time::timeout(WS_WAIT, self.stream.next()).await.expect("a close in time");
            match message {
                Some(Ok(Message::Close(Some(frame)))) => return u16::from(frame.code),
                Some(Ok(Message::Close(None))) | None => panic!("closed without a code"),
                Some(Ok(_)) => {}
                Some(Err(error)) => panic!("socket error before close: {error}"),
            }
        }
    }
}
