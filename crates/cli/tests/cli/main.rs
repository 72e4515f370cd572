//! End-to-end tests of the `agentdeck` binary: the commands a newcomer and a
//! script run, against a real server process.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests and benches fail loudly on a broken fixture")]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod a2a;
mod accounts;
mod cluster;
mod cluster_a2a;

const BINARY: &str = env!("CARGO_BIN_EXE_agentdeck");
/// A JWT secret production accepts (as `openssl rand -hex 32` makes one).
const PRODUCTION_SECRET: &str = "7c029c598b6cc7a0dc8e02c95a0e8a9ba67f7e9b82230ad504817a7e2e309c7a";

/// A command with a clean environment: no `AGENTDECK_*` from the caller leaks in.
fn agentdeck(data_dir: &Path) -> Command {
    let mut command = Command::new(BINARY);
    for (name, _) in std::env::vars() {
        if name.starts_with("AGENTDECK_") {
            command.env_remove(name);
        }
    }
    command.arg("--data-dir").arg(data_dir).env("RUST_LOG", "warn");
    command
}

fn run(command: &mut Command) -> Output {
    command.output().expect("agentdeck runs")
}

/// A server process; killed when dropped.
struct Server {
    child: Child,
    url: String,
    stdout_lines: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _already_exited = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `agentdeck serve` on a free port and waits for the URL it prints.
fn serve(data_dir: &Path) -> Server {
    serve_with(agentdeck(data_dir))
}

/// Starts `command` with `serve --bind 127.0.0.1:0` appended and waits for its
/// startup report, which opens with the URL and ends with how to stop it.
fn serve_with(mut command: Command) -> Server {
    let mut child = command
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    let stdout = child.stdout.take().expect("stdout");
    // Owned by the guard from here on, so a failed assertion still kills the process.
    let mut server = Server { child, url: String::new(), stdout_lines: Vec::new() };
    // A reader thread keeps draining stdout, so waiting can time out instead of blocking.
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = lines_rx.recv_timeout(left) else {
            panic!("no complete startup report within 60 s: {:?}", server.stdout_lines);
        };
        if let Some(url) = line.trim().strip_prefix("open") {
            server.url = url.trim().trim_end_matches('/').to_owned();
        }
        let last = line.trim_start().starts_with("stop");
        server.stdout_lines.push(line);
        if last {
            break;
        }
    }
    assert!(!server.url.is_empty(), "no URL in the report: {:?}", server.stdout_lines);
    server
}

fn http() -> reqwest::blocking::Client {
    // reqwest is built with rustls and no provider of its own: install ring's.
    agentdeck_services::outbound::install_crypto_provider();
    reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().expect("client")
}

#[test]
fn serve_prints_the_url_and_the_demo_is_reachable() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = serve(data_dir.path());
    assert!(server.url.starts_with("http://127.0.0.1:"), "{:?}", server.stdout_lines);
    let report = server.stdout_lines.join("\n");
    assert!(report.contains("dev mode"), "{report}");
    assert!(report.contains("/api/dev/login"), "{report}");
    assert!(report.contains("seeded"), "{report}");

    let client = http();
    let health = client.get(format!("{}/health", server.url)).send().unwrap();
    assert_eq!(health.status(), 200);

    let login: Value = client.post(format!("{}/api/dev/login", server.url)).send().unwrap().json().unwrap();
    let token = login["token"].as_str().expect("a token");
    let projects: Value =
        client.get(format!("{}/api/projects", server.url)).bearer_auth(token).send().unwrap().json().unwrap();
    let names: Vec<&str> = projects["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(names.contains(&"Mobile App Launch"));
}

#[test]
fn token_command_output_is_accepted_by_the_server() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = serve(data_dir.path());
    let client = http();
    let login: Value = client.post(format!("{}/api/dev/login", server.url)).send().unwrap().json().unwrap();
    let workspace = login["workspace"]["id"].as_str().unwrap();

    let output = run(agentdeck(data_dir.path()).args([
        "token",
        "--workspace",
        workspace,
        "--user",
        "priya",
        "--role",
        "admin",
        "--ttl",
        "10m",
    ]));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let token = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");

    let response = client.get(format!("{}/api/members", server.url)).bearer_auth(&token).send().unwrap();
    assert_eq!(response.status(), 200);
    // The token acts as priya: her change is logged under her name.
    let project: Value = client
        .post(format!("{}/api/projects", server.url))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "Made by a script"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let activity: Value = client
        .get(format!("{}/api/activity?projectId={}", server.url, project["id"].as_str().unwrap()))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(activity["items"][0]["actor"], "priya");

    // A token from another data dir (another dev secret) is refused.
    let elsewhere = tempfile::tempdir().unwrap();
    let output = run(agentdeck(elsewhere.path()).args(["token", "--workspace", workspace, "--user", "priya"]));
    let foreign = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let response = client.get(format!("{}/api/members", server.url)).bearer_auth(&foreign).send().unwrap();
    assert_eq!(response.status(), 401);
}

#[test]
fn token_with_a_configured_secret_matches_the_server() {
    let data_dir = tempfile::tempdir().unwrap();
    let secret = "s".repeat(40);
    let output = run(agentdeck(data_dir.path()).env("AGENTDECK_AUTH__JWT_SECRET", &secret).args([
        "token",
        "--workspace",
        "00000000-0000-7000-8000-000000000001",
        "--user",
        "demo",
        "--role",
        "owner",
    ]));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(!data_dir.path().join("dev-jwt-secret").exists(), "a configured secret needs no generated one");
}

#[test]
fn production_without_a_jwt_secret_refuses_to_start() {
    let data_dir = tempfile::tempdir().unwrap();
    let output = run(agentdeck(data_dir.path()).args(["--mode", "production", "serve", "--bind", "127.0.0.1:0"]));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("AGENTDECK_AUTH__JWT_SECRET"), "{stderr}");
    assert!(stderr.contains("auth.jwt_secret"), "{stderr}");
}

#[test]
fn production_with_a_secret_starts_without_dev_conveniences() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut command = agentdeck(data_dir.path());
    command.env("AGENTDECK_MODE", "production").env("AGENTDECK_AUTH__JWT_SECRET", PRODUCTION_SECRET);
    let server = serve_with(command);
    let report = server.stdout_lines.join("\n");
    assert!(report.contains("production mode"), "{report}");
    assert!(!report.contains("dev login"), "{report}");
    let client = http();
    assert_eq!(client.post(format!("{}/api/dev/login", server.url)).send().unwrap().status(), 404);
    assert_eq!(client.get(format!("{}/ready", server.url)).send().unwrap().status(), 200);
}

#[test]
fn sigterm_shuts_down_gracefully() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut server = serve(data_dir.path());
    let pid = server.child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            assert!(exit.success(), "clean exit after SIGTERM: {exit:?}");
            break;
        }
        assert!(Instant::now() < deadline, "server did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn config_prints_effective_settings_with_secrets_redacted() {
    let data_dir = tempfile::tempdir().unwrap();
    let output = run(agentdeck(data_dir.path())
        .env("AGENTDECK_AUTH__JWT_SECRET", "super-secret-value-that-is-long-enough")
        .env("AGENTDECK_HTTP__MAX_JSON_DEPTH", "16")
        .arg("config"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed = String::from_utf8(output.stdout).unwrap();
    assert!(!printed.contains("super-secret-value"), "{printed}");
    assert!(printed.contains("<redacted>"));
    assert!(printed.contains("max_json_depth = 16"), "{printed}");
    assert!(printed.contains(&format!("data_dir = \"{}\"", data_dir.path().display())), "{printed}");
}

#[test]
fn migrate_applies_then_finds_nothing_to_do() {
    let data_dir = tempfile::tempdir().unwrap();
    let first = run(agentdeck(data_dir.path()).arg("migrate"));
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let first = String::from_utf8(first.stdout).unwrap();
    assert!(!first.starts_with("0 "), "{first}");
    let second = String::from_utf8(run(agentdeck(data_dir.path()).arg("migrate")).stdout).unwrap();
    assert!(second.starts_with("0 migrations applied"), "{second}");
    assert!(data_dir.path().join("agentdeck.sqlite").exists());
}

#[test]
fn bad_flags_are_explained() {
    let data_dir = tempfile::tempdir().unwrap();
    let output = run(agentdeck(data_dir.path()).args(["--mode", "staging", "config"]));
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown mode"));
    let output = run(agentdeck(data_dir.path()).args(["token", "--workspace", "nope", "--user", "x"]));
    assert!(!output.status.success());
}
