//! Interop with an A2A implementation we did not write: the Python a2a-sdk
//! (PyPI, pinned in `tests/interop/requirements.txt`) drives our server as
//! its client — card resolution, send, get, list, cancel, stream, subscribe,
//! multi-turn. The SDK is installed into a virtualenv under the target dir on
//! first use (pip, from PyPI) and reused afterwards.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::sync::OnceCell;

use crate::helpers::spawn_app;

/// The interop files of this crate.
fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// A Python with the pinned a2a-sdk; made once per target dir.
async fn a2a_sdk_python() -> PathBuf {
    static PYTHON: OnceCell<PathBuf> = OnceCell::const_new();
    PYTHON
        .get_or_init(|| async {
            let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("a2a-sdk-venv");
            let python = venv.join("bin/python");
            let requirements = interop_dir().join("requirements.txt");
            let marker = venv.join(".installed");
            let wanted = std::fs::read_to_string(&requirements).expect("requirements.txt");
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
        })
        .await
        .clone()
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

/// Runs the SDK client script against a fresh server over one binding.
async fn sdk_client_passes(binding: &str) {
    let python = a2a_sdk_python().await;
    let app = spawn_app().await;
    let script = interop_dir().join("a2a_sdk_client.py");
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
        "a2a-sdk client against {url} over {binding}:\n{stdout}\n{}",
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
