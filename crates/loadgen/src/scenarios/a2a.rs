//! The `a2a` scenario: closed-loop `SendMessage` calls to one A2A agent.
//!
//! `concurrency` workers each send JSON-RPC `SendMessage` (blocking, a fresh
//! `messageId` per call, `A2A-Version: 1.0`) and wait for the answer before
//! the next; every answer must be a completed task (or a message), else it
//! counts as an error and fails the run. The same run against agentdeck's
//! conformance agent (`tck-complete-task`) and against the a2a-sdk server
//! (`scripts/bench/a2a/sdk_agent.py`, an agent that does the same) compares
//! the two. Closed loop: latency is per call, with no coordinated-omission
//! correction, and throughput is what the server sustains at that concurrency.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::process_stats::{CpuUse, CpuWatch};
use crate::stats::{Latency, LatencySummary};

/// What to run.
#[derive(Debug, Clone)]
pub struct A2aConfig {
    /// The JSON-RPC interface URL.
    pub url: String,
    /// Calls in flight.
    pub concurrency: usize,
    /// Unmeasured start.
    pub warmup: Duration,
    /// Measured time.
    pub duration: Duration,
    /// `messageId` prefix (picks the conformance agent's behaviour).
    pub message_prefix: String,
    /// The server's pid, for its CPU.
    pub server_pid: Option<u32>,
    /// Ask the gateway instead: `POST {url}` (`/api/ask`) with this bearer token and question.
    pub ask: Option<AskLoad>,
}

/// The `ask` variant: questions to the Dashboard Agent.
#[derive(Debug, Clone)]
pub struct AskLoad {
    /// Bearer token of the asking user.
    pub token: String,
    /// The question.
    pub question: String,
    /// Subtracted from each latency for the `overhead` summary (the slowest agent's known delay).
    pub baseline: Duration,
}

/// What a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct A2aReport {
    /// `a2a`.
    pub scenario: &'static str,
    /// No errors.
    pub ok: bool,
    /// The URL called.
    pub url: String,
    /// Calls in flight.
    pub concurrency: usize,
    /// Measured seconds.
    pub measured_secs: f64,
    /// Completed calls in the measured window.
    pub requests: u64,
    /// Of those, per second.
    pub requests_per_sec: f64,
    /// Failed calls (transport, HTTP or protocol errors, unfinished tasks).
    pub errors: u64,
    /// The first error seen.
    pub first_error: Option<String>,
    /// Call latency.
    pub latency: LatencySummary,
    /// Latency minus the `ask` baseline (the gateway's own share), when asking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overhead: Option<LatencySummary>,
    /// CPU of the server and the generator over the measured window.
    pub cpu: Vec<CpuUse>,
}

impl A2aReport {
    /// A human summary.
    pub fn describe(&self) -> String {
        format!(
            "{} to {} at concurrency {}: {:.0} requests/s over {:.1} s, {} errors\n  latency: {}{}\n  CPU: {}",
            if self.scenario == "ask" { "POST /api/ask" } else { "a2a SendMessage" },
            self.url,
            self.concurrency,
            self.requests_per_sec,
            self.measured_secs,
            self.errors,
            self.latency.describe(),
            self.overhead
                .as_ref()
                .map(|o| format!("\n  overhead over the slowest agent: {}", o.describe()))
                .unwrap_or_default(),
            self.cpu.iter().map(|c| format!("{} {:.1} %", c.process, c.percent)).collect::<Vec<_>>().join(", ")
        )
    }
}

fn check_ask(answer: &Value) -> Result<(), String> {
    let agents = answer.get("agents").and_then(Value::as_object).ok_or("no agents in the answer")?;
    match agents.iter().find(|(_, report)| report.get("ok") != Some(&Value::Bool(true))) {
        Some((name, report)) => Err(format!("{name} failed: {report}")),
        None if agents.is_empty() => Err(format!("no agent was called: {answer}")),
        None => Ok(()),
    }
}

fn check(answer: &Value) -> Result<(), String> {
    if let Some(error) = answer.get("error") {
        return Err(format!("JSON-RPC error {error}"));
    }
    let result = answer.get("result").ok_or("no result")?;
    if result.get("message").is_some() {
        return Ok(());
    }
    let state = result.pointer("/task/status/state").and_then(Value::as_str).unwrap_or("none");
    if state == "TASK_STATE_COMPLETED" { Ok(()) } else { Err(format!("task ended {state}")) }
}

/// Runs the scenario.
pub async fn run_a2a(config: &A2aConfig) -> anyhow::Result<A2aReport> {
    // The workspace builds reqwest with rustls and no provider of its own, and a client cannot be built
    // without one even for plain http://: install ring's (ring lacks post-quantum key exchange, which a
    // loopback benchmark does not need).
    #[allow(deprecated)]
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder().pool_max_idle_per_host(config.concurrency).build()?;
    let latency = Arc::new(Latency::new(None)?);
    let overhead = Arc::new(Latency::new(None)?);
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let requests = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let first_error: Arc<std::sync::Mutex<Option<String>>> = Arc::default();
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..config.concurrency.max(1) {
        let (http, url, prefix) = (http.clone(), config.url.clone(), config.message_prefix.clone());
        let (latency, measuring, stop) = (latency.clone(), measuring.clone(), stop.clone());
        let (overhead, ask) = (overhead.clone(), config.ask.clone());
        let (requests, errors, first_error) = (requests.clone(), errors.clone(), first_error.clone());
        workers.spawn(async move {
            let mut call = 0u64;
            while !stop.load(Ordering::Relaxed) {
                call += 1;
                let request = match &ask {
                    Some(ask) => http.post(&url).bearer_auth(&ask.token).json(&json!({"question": ask.question})),
                    None => {
                        let body = json!({"jsonrpc": "2.0", "id": call, "method": "SendMessage", "params": {"message": {
                            "messageId": format!("{prefix}-{worker}-{call}-{}", Uuid::new_v4().simple()),
                            "role": "ROLE_USER", "parts": [{"text": "ping"}]}}});
                        http.post(&url).header("A2A-Version", "1.0").json(&body)
                    }
                };
                let started = Instant::now();
                let outcome = match request.send().await {
                    Ok(response) => match response.json::<Value>().await {
                        Ok(answer) if ask.is_some() => check_ask(&answer),
                        Ok(answer) => check(&answer),
                        Err(error) => Err(format!("unreadable answer: {error}")),
                    },
                    Err(error) => Err(format!("transport: {error}")),
                };
                if !measuring.load(Ordering::Relaxed) {
                    continue;
                }
                match outcome {
                    Ok(()) => {
                        let took = started.elapsed();
                        latency.record(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
                        if let Some(ask) = &ask {
                            let own = took.saturating_sub(ask.baseline);
                            overhead.record(u64::try_from(own.as_micros()).unwrap_or(u64::MAX));
                        }
                        requests.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(error) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        if let Ok(mut first) = first_error.lock() {
                            first.get_or_insert(error);
                        }
                    }
                }
            }
        });
    }
    tokio::time::sleep(config.warmup).await;
    let cpu = CpuWatch::start(config.server_pid);
    let started = Instant::now();
    measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(config.duration).await;
    measuring.store(false, Ordering::Relaxed);
    let measured_secs = started.elapsed().as_secs_f64();
    let cpu = cpu.stop();
    stop.store(true, Ordering::Relaxed);
    while workers.join_next().await.is_some() {}
    let requests = requests.load(Ordering::Relaxed);
    let errors = errors.load(Ordering::Relaxed);
    let first_error = first_error.lock().ok().and_then(|first| first.clone());
    Ok(A2aReport {
        scenario: if config.ask.is_some() { "ask" } else { "a2a" },
        overhead: config.ask.as_ref().map(|_| overhead.summary()),
        ok: errors == 0 && requests > 0,
        url: config.url.clone(),
        concurrency: config.concurrency,
        measured_secs: crate::process_stats::round2(measured_secs),
        requests,
        requests_per_sec: crate::process_stats::round2(requests as f64 / measured_secs.max(f64::EPSILON)),
        errors,
        first_error,
        latency: latency.summary(),
        cpu,
    })
}
