//! Interop with an A2A implementation we did not write, the Python a2a-sdk
//! (PyPI), in both directions and both protocol versions: 1.x (pinned in
//! `tests/interop/requirements.txt`, speaking A2A 1.0) and the newest 0.3.x
//! (`requirements-0.3.txt`, speaking A2A 0.3). Its clients drive our server
//! (card resolution, send, get, list, cancel, stream, subscribe, multi-turn;
//! 0.3: push config set/get and the `agent.json` card too), and our client
//! calls its servers (send, stream, get, errors, identity and trace headers;
//! 0.3: the 0.3 method names and paths on the wire), over JSON-RPC and REST.
//! Each SDK is installed into its own virtualenv under the target dir on
//! first use (pip, from PyPI) and reused afterwards.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use agentdeck_a2a_protocol::client::{AgentClient, Binding, ClientError, ClientOptions};
use agentdeck_a2a_protocol::version::ProtocolVersion;
use agentdeck_a2a_protocol::{
    A2aError, CancelTaskRequest, GetTaskRequest, Message, SendMessageRequest, SendMessageResponse, StreamResponse,
    TaskState,
};
use futures::StreamExt;
use tokio::sync::OnceCell;

use crate::helpers::spawn_app;

/// The interop files of this crate.
fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// A Python with the pinned a2a-sdk 1.x; made once per target dir.
async fn a2a_sdk_python() -> PathBuf {
    static PYTHON: OnceCell<PathBuf> = OnceCell::const_new();
    PYTHON.get_or_init(|| python_with("a2a-sdk-venv", "requirements.txt")).await.clone()
}

/// A Python with the pinned a2a-sdk 0.3.x, in a venv of its own.
pub(crate) async fn a2a_sdk03_python() -> PathBuf {
    static PYTHON: OnceCell<PathBuf> = OnceCell::const_new();
    PYTHON.get_or_init(|| python_with("a2a-sdk03-venv", "requirements-0.3.txt")).await.clone()
}

/// A virtualenv under the target dir holding `requirements` (a file of
/// `tests/interop`), made on first use and remade when the file changes.
async fn python_with(venv_name: &str, requirements: &str) -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join(venv_name);
    let python = venv.join("bin/python");
    let requirements = interop_dir().join(requirements);
    let marker = venv.join(".installed");
    let wanted = std::fs::read_to_string(&requirements).expect("requirements file");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(wanted.as_str()) {
        return python;
    }
    run("python3", &["-m", "venv", &venv.to_string_lossy()]).await;
    let pip = venv.join("bin/pip");
    run(
        &pip.to_string_lossy(),
        &["install", "-q", "--disable-pip-version-check", "-r", &requirements.to_string_lossy()],
    )
    .await;
    std::fs::write(&marker, wanted).expect("marker written");
    python
}

async fn run(program: &str, args: &[&str]) {
    let output = tokio::process::Command::new(program).args(args).output().await;
    let output = output.unwrap_or_else(|error| panic!("cannot run {program}: {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs the SDK 1.x client script against a fresh server over one binding.
async fn sdk_client_passes(binding: &str) {
    script_passes(a2a_sdk_python().await, "a2a_sdk_client.py", binding).await;
}

/// Runs a client script of `python` against a fresh server over one binding.
async fn script_passes(python: PathBuf, script: &str, binding: &str) {
    let app = spawn_app().await;
    let script = interop_dir().join(script);
    let url = format!("{}/a2a/conformance", app.address);
    let child = tokio::process::Command::new(&python)
        .arg(&script)
        .arg(&url)
        .arg(binding)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the SDK client starts");
    let output = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("the SDK client finished within 2 minutes")
        .expect("the SDK client's output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("all checks passed"),
        "{} against {url} over {binding}:\n{stdout}\n{}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn the_python_a2a_sdk_client_runs_every_operation_over_json_rpc() {
    sdk_client_passes("JSONRPC").await;
}

#[tokio::test]
async fn the_python_a2a_sdk_client_runs_every_operation_over_rest() {
    sdk_client_passes("HTTP+JSON").await;
}

#[tokio::test]
async fn the_python_a2a_sdk_0_3_client_runs_every_operation_over_json_rpc() {
    script_passes(a2a_sdk03_python().await, "a2a_sdk03_client.py", "JSONRPC").await;
}

#[tokio::test]
async fn the_python_a2a_sdk_0_3_client_runs_every_operation_over_rest() {
    script_passes(a2a_sdk03_python().await, "a2a_sdk03_client.py", "HTTP+JSON").await;
}

/// The SDK's echo agent, running on a free port until dropped.
struct SdkAgent {
    url: String,
    _child: tokio::process::Child,
}

async fn sdk_agent() -> SdkAgent {
    agent_of(a2a_sdk_python().await, "a2a_sdk_server.py").await
}

/// An agent script of `python`, on a free port, once its card is served.
async fn agent_of(python: PathBuf, script: &str) -> SdkAgent {
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    let child = tokio::process::Command::new(&python)
        .arg(interop_dir().join(script))
        .arg(port.to_string())
        .kill_on_drop(true)
        .spawn()
        .expect("the SDK agent starts");
    let url = format!("http://127.0.0.1:{port}");
    agentdeck_services::outbound::install_crypto_provider();
    let client = reqwest::Client::new();
    for _ in 0..150 {
        if client.get(format!("{url}/.well-known/agent-card.json")).send().await.is_ok_and(|r| r.status().is_success())
        {
            return SdkAgent { url, _child: child };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the SDK agent did not come up at {url}");
}

/// Our client against the SDK's agent over one binding: send, stream, get,
/// cancel's error, and the caller's identity and trace context on the wire.
async fn our_client_talks_to_the_sdk_agent(binding: Binding) {
    let agent = sdk_agent().await;
    let options = ClientOptions {
        prefer: Some(binding),
        bearer: Some("caller-token".into()),
        traceparent: Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into()),
        ..ClientOptions::default()
    };
    let client = AgentClient::connect(reqwest::Client::new(), &agent.url, options).await.expect("card fetched");
    assert_eq!(client.endpoint().binding, binding);
    assert_eq!(client.card().name, "Echo");
    let sent = client.send(&SendMessageRequest::new(Message::user_text(format!("m-{binding:?}"), "hello"))).await;
    let task = match sent.expect("send") {
        SendMessageResponse::Task(task) => task,
        SendMessageResponse::Message(message) => panic!("expected a task, got {message:?}"),
    };
    assert_eq!(task.status.state, TaskState::Completed);
    assert_eq!(task.artifacts[0].parts[0].as_text(), Some("echo: hello"));
    let headers: serde_json::Value =
        reqwest::get(format!("{}/last-headers", agent.url)).await.expect("headers").json().await.expect("JSON");
    assert_eq!(headers["authorization"], "Bearer caller-token");
    assert_eq!(headers["traceparent"], "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    assert_eq!(headers["a2a-version"], "1.0");
    let got = client.get_task(&GetTaskRequest { id: task.id.clone(), ..Default::default() }).await.expect("get");
    assert_eq!(got.id, task.id);
    let cancel = client.cancel_task(&CancelTaskRequest { id: task.id.clone(), ..Default::default() }).await;
    assert!(matches!(cancel, Err(ClientError::Remote(A2aError::TaskNotCancelable { .. }))), "{cancel:?}");
    let missing = client.get_task(&GetTaskRequest { id: "no-such-task".into(), ..Default::default() }).await;
    assert!(matches!(missing, Err(ClientError::Remote(A2aError::TaskNotFound(_)))), "{missing:?}");
    let stream =
        client.stream(&SendMessageRequest::new(Message::user_text(format!("s-{binding:?}"), "streamed"))).await;
    let events: Vec<_> =
        tokio::time::timeout(Duration::from_secs(20), stream.expect("stream opened").collect::<Vec<_>>())
            .await
            .expect("the stream ended");
    let kinds: Vec<&str> = events
        .iter()
        .map(|event| match event.as_ref().map(|item| &item.event) {
            Ok(StreamResponse::Task(_)) => "task",
            Ok(StreamResponse::Message(_)) => "message",
            Ok(StreamResponse::StatusUpdate(_)) => "status",
            Ok(StreamResponse::ArtifactUpdate(_)) => "artifact",
            Err(_) => "error",
        })
        .collect();
    assert_eq!(kinds.first(), Some(&"task"), "{events:?}");
    assert!(kinds.contains(&"artifact"), "{events:?}");
    let last = events.last().and_then(|e| e.as_ref().ok()).map(|item| &item.event);
    assert!(
        matches!(last, Some(StreamResponse::StatusUpdate(update)) if update.status.state == TaskState::Completed),
        "{events:?}"
    );
}

#[tokio::test]
async fn our_client_calls_the_python_a2a_sdk_agent_over_json_rpc() {
    our_client_talks_to_the_sdk_agent(Binding::JsonRpc).await;
}

#[tokio::test]
async fn our_client_calls_the_python_a2a_sdk_agent_over_rest() {
    our_client_talks_to_the_sdk_agent(Binding::Rest).await;
}

/// Our client against the SDK 0.3 agent over one binding: the card says 0.3,
/// so the client speaks 0.3 (method names, `/v1` paths, shapes, no
/// `A2A-Version`) and hands back 1.0 types: send, get, stream.
async fn our_client_talks_to_the_sdk_0_3_agent(binding: Binding) {
    let agent = agent_of(a2a_sdk03_python().await, "a2a_sdk03_server.py").await;
    let options = ClientOptions { prefer: Some(binding), ..ClientOptions::default() };
    let client = AgentClient::connect(reqwest::Client::new(), &agent.url, options).await.expect("card fetched");
    assert_eq!((client.endpoint().binding, client.endpoint().version), (binding, ProtocolVersion::V0_3));
    let sent = client.send(&SendMessageRequest::new(Message::user_text(format!("m03-{binding:?}"), "hello"))).await;
    let task = match sent.expect("send") {
        SendMessageResponse::Task(task) => task,
        SendMessageResponse::Message(message) => panic!("expected a task, got {message:?}"),
    };
    assert_eq!(task.status.state, TaskState::Completed);
    assert_eq!(task.artifacts[0].parts[0].as_text(), Some("echo: hello"));
    let call: serde_json::Value =
        reqwest::get(format!("{}/last-call", agent.url)).await.expect("last call").json().await.expect("JSON");
    assert_eq!(call["a2a-version"], serde_json::Value::Null, "0.3 calls carry no A2A-Version: {call}");
    match binding {
        Binding::JsonRpc => assert_eq!(call["method"], "message/send", "{call}"),
        Binding::Rest => assert_eq!(call["path"], "/rest/v1/message:send", "{call}"),
    }
    let got = client.get_task(&GetTaskRequest { id: task.id.clone(), ..Default::default() }).await.expect("get");
    assert_eq!((got.id.as_str(), got.status.state), (task.id.as_str(), TaskState::Completed));
    let listed = client.list_tasks(&Default::default()).await;
    assert!(matches!(listed, Err(ClientError::Remote(A2aError::UnsupportedOperation(_)))), "{listed:?}");
    let stream =
        client.stream(&SendMessageRequest::new(Message::user_text(format!("s03-{binding:?}"), "streamed"))).await;
    let events: Vec<_> =
        tokio::time::timeout(Duration::from_secs(20), stream.expect("stream opened").collect::<Vec<_>>())
            .await
            .expect("the stream ended");
    let events: Vec<StreamResponse> = events.into_iter().map(|e| e.expect("event").event).collect();
    assert!(matches!(events.first(), Some(StreamResponse::Task(_))), "{events:?}");
    assert!(
        events.iter().any(|e| matches!(e, StreamResponse::ArtifactUpdate(u) if u.artifact.parts[0].as_text() == Some("echo: streamed"))),
        "{events:?}"
    );
    assert!(
        matches!(events.last(), Some(StreamResponse::StatusUpdate(u)) if u.status.state == TaskState::Completed),
        "{events:?}"
    );
}

#[tokio::test]
async fn our_client_calls_the_python_a2a_sdk_0_3_agent_over_json_rpc() {
    our_client_talks_to_the_sdk_0_3_agent(Binding::JsonRpc).await;
}

#[tokio::test]
async fn our_client_calls_the_python_a2a_sdk_0_3_agent_over_rest() {
    our_client_talks_to_the_sdk_0_3_agent(Binding::Rest).await;
}
