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
    /// Read after the run for the `floor` summary: the asking user's dashboard (`GET /api/dashboard/state`).
    pub floor_url: String,
}

/// Most reads of the `floor` summary, each after a pause as long as the baseline.
const FLOOR_SAMPLES: u64 = 150;

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
    /// Latency minus the `ask` baseline (the slowest agent's injected delay), when asking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overhead: Option<LatencySummary>,
    /// Latency minus the slowest agent call as the server timed it (its
    /// `Server-Timing` header), when asking: what the gateway added over its
    /// slowest agent, that agent's own work (its task writes, its reads) excluded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overhead_over_agents: Option<LatencySummary>,
    /// The same inside the server, when asking: the answer's `Server-Timing`
    /// `ask` minus its slowest agent call — what the gateway itself added,
    /// without the HTTP round trip and the client (see `floor`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overhead_in_server: Option<LatencySummary>,
    /// When asking, measured after the run: an authenticated `GET` of the
    /// user's dashboard (a body the size of an answer) after a pause as long as
    /// the baseline, so the client has gone idle as it does while an answer is
    /// awaited. What any API call costs on this machine and client (the HTTP
    /// round trip, waking the idle client, the edge's token check, reading the
    /// body), which `overhead_over_agents` includes too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub floor: Option<LatencySummary>,
    /// CPU of the server and the generator over the measured window.
    pub cpu: Vec<CpuUse>,
}

impl A2aReport {
    /// A human summary.
    pub fn describe(&self) -> String {
        format!(
            "{} to {} at concurrency {}: {:.0} requests/s over {:.1} s, {} errors\n  latency: {}{}{}{}{}\n  CPU: {}",
            if self.scenario == "ask" { "POST /api/ask" } else { "a2a SendMessage" },
            self.url,
            self.concurrency,
            self.requests_per_sec,
            self.measured_secs,
            self.errors,
            self.latency.describe(),
            self.overhead
                .as_ref()
                .map(|o| format!("\n  overhead over the baseline (the slowest agent's delay): {}", o.describe()))
                .unwrap_or_default(),
            self.overhead_over_agents
                .as_ref()
                .map(|o| format!("\n  overhead over the slowest agent's call (Server-Timing): {}", o.describe()))
                .unwrap_or_default(),
            self.overhead_in_server
                .as_ref()
                .map(|o| format!(
                    "\n  the same inside the server (Server-Timing ask - slowest agent): {}",
                    o.describe()
                ))
                .unwrap_or_default(),
            self.floor
                .as_ref()
                .map(|o| format!("\n  floor (GET of the dashboard after the same pause): {}", o.describe()))
                .unwrap_or_default(),
            self.cpu.iter().map(|c| format!("{} {:.1} %", c.process, c.percent)).collect::<Vec<_>>().join(", ")
        )
    }
}

/// What an answer's `Server-Timing` header says: its slowest agent call and the whole answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ServerTiming {
    slowest_agent: Option<Duration>,
    ask: Option<Duration>,
}

impl ServerTiming {
    fn parse(header: Option<&str>) -> Self {
        Self { slowest_agent: slowest_agent(header), ask: metric(header, "ask") }
    }

    /// The answer's time inside the server minus its slowest agent call.
    fn over_agents(&self) -> Option<Duration> {
        Some(self.ask?.saturating_sub(self.slowest_agent?))
    }
}

/// The `dur` of the metric `name` in a `Server-Timing` header.
fn metric(server_timing: Option<&str>, name: &str) -> Option<Duration> {
    server_timing?.split(',').find_map(|metric| {
        let mut params = metric.trim().split(';');
        if params.next()? != name {
            return None;
        }
        let millis = params.find_map(|param| param.trim().strip_prefix("dur="))?.parse::<f64>().ok()?;
        (millis.is_finite() && millis >= 0.0).then(|| Duration::from_secs_f64(millis / 1000.0))
    })
}

/// The longest agent call in an answer's `Server-Timing` header (`agent-navi;dur=21.4, …`).
fn slowest_agent(server_timing: Option<&str>) -> Option<Duration> {
    server_timing?
        .split(',')
        .filter_map(|metric| {
            let mut params = metric.trim().split(';');
            params.next()?.strip_prefix("agent-")?;
            params.find_map(|param| param.trim().strip_prefix("dur="))?.parse::<f64>().ok()
        })
        .filter(|millis| millis.is_finite() && *millis >= 0.0)
        .map(|millis| Duration::from_secs_f64(millis / 1000.0))
        .max()
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

/// What the workers count, shared with the run.
struct Tally {
    latency: Latency,
    /// Latency minus the `ask` baseline.
    overhead: Latency,
    /// Latency minus the slowest agent call.
    overhead_over_agents: Latency,
    /// The answer's time in the server minus the slowest agent call.
    overhead_in_server: Latency,
    /// Inside the measured window: calls that end now are counted.
    measuring: AtomicBool,
    stop: AtomicBool,
    requests: AtomicU64,
    errors: AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
}

impl Tally {
    /// Counts one call that took `took`, if it ended inside the measured window.
    fn record(&self, outcome: Result<ServerTiming, String>, took: Duration, ask: Option<&AskLoad>) {
        if !self.measuring.load(Ordering::Relaxed) {
            return;
        }
        match outcome {
            Ok(timing) => {
                let micros = |duration: Duration| u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
                self.latency.record(micros(took));
                if let Some(ask) = ask {
                    self.overhead.record(micros(took.saturating_sub(ask.baseline)));
                }
                if let Some(slowest) = timing.slowest_agent {
                    self.overhead_over_agents.record(micros(took.saturating_sub(slowest)));
                }
                if let Some(in_server) = timing.over_agents() {
                    self.overhead_in_server.record(micros(in_server));
                }
                self.requests.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut first) = self.first_error.lock() {
                    first.get_or_insert(error);
                }
            }
        }
    }
}

/// Runs the scenario.
pub async fn run_a2a(config: &A2aConfig) -> anyhow::Result<A2aReport> {
    // The workspace builds reqwest with rustls and no provider of its own, and a client cannot be built
    // without one even for plain http://: install ring's (ring lacks post-quantum key exchange, which a
    // loopback benchmark does not need).
    #[allow(deprecated)]
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder().pool_max_idle_per_host(config.concurrency).build()?;
    let tally = Arc::new(Tally {
        latency: Latency::new(None)?,
        overhead: Latency::new(None)?,
        overhead_over_agents: Latency::new(None)?,
        overhead_in_server: Latency::new(None)?,
        measuring: AtomicBool::new(false),
        stop: AtomicBool::new(false),
        requests: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        first_error: std::sync::Mutex::new(None),
    });
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..config.concurrency.max(1) {
        workers.spawn(call_until_stopped(http.clone(), config.clone(), worker, tally.clone()));
    }
    tokio::time::sleep(config.warmup).await;
    let cpu = CpuWatch::start(config.server_pid);
    let started = Instant::now();
    tally.measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(config.duration).await;
    tally.measuring.store(false, Ordering::Relaxed);
    let measured_secs = started.elapsed().as_secs_f64();
    let cpu = cpu.stop();
    tally.stop.store(true, Ordering::Relaxed);
    while workers.join_next().await.is_some() {}
    let requests = tally.requests.load(Ordering::Relaxed);
    let errors = tally.errors.load(Ordering::Relaxed);
    let first_error = tally.first_error.lock().ok().and_then(|first| first.clone());
    let floor = match &config.ask {
        Some(ask) => Some(measure_floor(&http, ask, requests.min(FLOOR_SAMPLES)).await?),
        None => None,
    };
    Ok(A2aReport {
        floor,
        scenario: if config.ask.is_some() { "ask" } else { "a2a" },
        overhead: config.ask.as_ref().map(|_| tally.overhead.summary()),
        overhead_over_agents: config.ask.as_ref().map(|_| tally.overhead_over_agents.summary()),
        overhead_in_server: config.ask.as_ref().map(|_| tally.overhead_in_server.summary()),
        ok: errors == 0 && requests > 0,
        url: config.url.clone(),
        concurrency: config.concurrency,
        measured_secs: crate::process_stats::round2(measured_secs),
        requests,
        requests_per_sec: crate::process_stats::round2(requests as f64 / measured_secs.max(f64::EPSILON)),
        errors,
        first_error,
        latency: tally.latency.summary(),
        cpu,
    })
}

/// The `floor` summary: `samples` reads of the dashboard, each after a pause of the baseline.
async fn measure_floor(http: &reqwest::Client, ask: &AskLoad, samples: u64) -> anyhow::Result<LatencySummary> {
    let latency = Latency::new(None)?;
    for _ in 0..samples {
        tokio::time::sleep(ask.baseline).await;
        let started = Instant::now();
        let response = http.get(&ask.floor_url).bearer_auth(&ask.token).send().await?.error_for_status()?;
        response.json::<Value>().await?;
        latency.record(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
    }
    Ok(latency.summary())
}

/// One worker: calls, waits for the answer and checks it, again and again until stopped.
async fn call_until_stopped(http: reqwest::Client, config: A2aConfig, worker: usize, tally: Arc<Tally>) {
    let url = &config.url;
    let mut call = 0u64;
    while !tally.stop.load(Ordering::Relaxed) {
        call += 1;
        let request = match &config.ask {
            Some(ask) => http.post(url).bearer_auth(&ask.token).json(&json!({"question": ask.question})),
            None => {
                let message_id = format!("{}-{worker}-{call}-{}", config.message_prefix, Uuid::new_v4().simple());
                let body = json!({"jsonrpc": "2.0", "id": call, "method": "SendMessage", "params": {"message": {
                    "messageId": message_id, "role": "ROLE_USER", "parts": [{"text": "ping"}]}}});
                http.post(url).header("A2A-Version", "1.0").json(&body)
            }
        };
        let started = Instant::now();
        let outcome = match request.send().await {
            Ok(response) => {
                let timing = response.headers().get("server-timing").and_then(|v| v.to_str().ok());
                let timing = ServerTiming::parse(timing);
                match response.json::<Value>().await {
                    Ok(answer) if config.ask.is_some() => check_ask(&answer).map(|()| timing),
                    Ok(answer) => check(&answer).map(|()| ServerTiming::default()),
                    Err(error) => Err(format!("unreadable answer: {error}")),
                }
            }
            Err(error) => Err(format!("transport: {error}")),
        };
        tally.record(outcome, started.elapsed(), config.ask.as_ref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slowest_agent_is_read_from_server_timing() {
        let header = "agent-herald;dur=80.125, agent-navi;dur=20.5, agent-pulse;dur=50.0, ask;dur=81.9";
        assert_eq!(slowest_agent(Some(header)), Some(Duration::from_micros(80_125)));
        assert_eq!(slowest_agent(Some("ask;dur=3.0")), None);
        assert_eq!(slowest_agent(Some("agent-navi;dur=oops")), None);
        assert_eq!(slowest_agent(None), None);
        let timing = ServerTiming::parse(Some(header));
        assert_eq!(timing.ask, Some(Duration::from_micros(81_900)));
        assert_eq!(timing.over_agents(), Some(Duration::from_micros(1_775)));
        assert_eq!(ServerTiming::parse(Some("agent-navi;dur=2.0")).over_agents(), None);
    }
}
