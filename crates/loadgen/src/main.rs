//! `agentdeck-loadgen`: runs one scenario against a loopback server, prints a
//! summary and, last, one JSON line; exits 1 when a check failed (gap,
//! duplicate, lost delivery, error) and 2 when the run could not be made.

use std::process::ExitCode;
use std::time::Duration;

use agentdeck_loadgen::auth::{DEMO_WORKSPACE, TokenMinter};
use agentdeck_loadgen::scenarios::{
    A2aConfig, AskLoad, Common, IdleConfig, RoomsConfig, Transport, run_a2a, run_idle, run_rooms,
};
use agentdeck_loadgen::target::Target;
use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};
use uuid::Uuid;

#[derive(Parser)]
#[command(name = "agentdeck-loadgen", about = "Load generator and correctness check for agentdeck's /api/sync")]
struct Cli {
    /// The server (loopback only): http://127.0.0.1:PORT.
    #[arg(long, env = "AGENTDECK_LOADGEN_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The server's HS256 secret, to mint the load users' tokens (dash.v1).
    #[arg(long, env = "AGENTDECK_AUTH__JWT_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// Workspace of the load users (the dev-mode demo workspace by default).
    #[arg(long, default_value = DEMO_WORKSPACE)]
    workspace: Uuid,
    /// Which server speaks at `--url`.
    #[arg(long, value_enum, default_value_t = TargetKind::Dash)]
    target: TargetKind,
    /// Connections opened at once.
    #[arg(long, default_value_t = 200)]
    concurrency: usize,
    /// Loopback source addresses to spread connections over (127.0.0.1 … 127.0.0.N).
    #[arg(long, default_value_t = 4)]
    source_ips: u8,
    /// The server's pid, for its memory and CPU from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Room n is user `<prefix>-<n>` (default: `load`, `load-idle`, `load-hot`, `load-storm` by scenario).
    #[arg(long)]
    user_prefix: Option<String>,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Clone, Copy, ValueEnum)]
enum TargetKind {
    /// agentdeck's /api/sync.
    Dash,
    /// scripts/bench/socketio/server.js (rooms only).
    Socketio,
}

#[derive(Subcommand)]
enum Scenario {
    /// Hold N subscribed sockets, answering pings; server RSS per connection and CPU.
    Idle {
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
        #[arg(long, default_value_t = 30)]
        hold_secs: u64,
        /// Sockets sharing one room (1: every socket its own room).
        #[arg(long, default_value_t = 1)]
        per_room: usize,
    },
    /// R rooms × T tabs, one ~300-byte patch per second per room; latency, throughput, gaps.
    Rooms {
        #[arg(long, default_value_t = 5_000)]
        rooms: usize,
        #[arg(long, default_value_t = 2)]
        tabs: usize,
        /// Patches per second per room.
        #[arg(long, default_value_t = 1.0)]
        rate: f64,
        #[arg(long, default_value_t = 20)]
        duration_secs: u64,
        #[command(flatten)]
        tuning: Tuning,
    },
    /// One room, many subscribers, one publisher at a fixed rate.
    Hot {
        #[arg(long, default_value_t = 1_000)]
        subscribers: usize,
        #[arg(long, default_value_t = 100.0)]
        rate: f64,
        #[arg(long, default_value_t = 10)]
        duration_secs: u64,
        #[command(flatten)]
        tuning: Tuning,
    },
    /// Closed-loop A2A `SendMessage` calls to one agent (`--url` is its JSON-RPC interface); `--concurrency` calls in flight.
    A2a {
        #[arg(long, default_value_t = 10)]
        duration_secs: u64,
        #[arg(long, default_value_t = 2.0)]
        warmup_secs: f64,
        /// `messageId` prefix (agentdeck's conformance agent completes `tck-complete-task…` at once).
        #[arg(long, default_value = "tck-complete-task")]
        message_prefix: String,
    },
    /// Closed-loop `POST /api/ask` (`--url` is the server): the Dashboard Agent's latency, and
    /// its overhead over the slowest agent (`--baseline-ms`, e.g. the largest injected delay).
    Ask {
        #[arg(long, default_value_t = 10)]
        duration_secs: u64,
        #[arg(long, default_value_t = 2.0)]
        warmup_secs: f64,
        #[arg(long, default_value = "workspace overview")]
        question: String,
        #[arg(long, default_value_t = 0)]
        baseline_ms: u64,
        /// The asking user (of `--workspace`).
        #[arg(long, default_value = "demo")]
        user: String,
    },
    /// Every tab drops at once and reconnects within a window, recovering from history.
    Storm {
        #[arg(long, default_value_t = 5_000)]
        rooms: usize,
        #[arg(long, default_value_t = 2)]
        tabs: usize,
        #[arg(long, default_value_t = 2.0)]
        window_secs: f64,
        /// Patches per second per room meanwhile.
        #[arg(long, default_value_t = 0.25)]
        rate: f64,
        #[command(flatten)]
        tuning: Tuning,
    },
}

/// Knobs shared by the publishing scenarios.
#[derive(clap::Args)]
struct Tuning {
    /// Unmeasured start of the run, seconds.
    #[arg(long)]
    warmup_secs: Option<f64>,
    /// Approximate JSON size of each patch.
    #[arg(long, default_value_t = 300)]
    payload_bytes: usize,
    /// Longest wait for every tab to catch up after the schedule, seconds.
    #[arg(long, default_value_t = 10)]
    drain_secs: u64,
}

impl Tuning {
    fn apply(&self, config: &mut RoomsConfig) {
        if let Some(warmup) = self.warmup_secs {
            config.warmup = Duration::from_secs_f64(warmup.max(0.0)).min(config.duration);
        }
        config.payload_bytes = self.payload_bytes;
        config.drain = Duration::from_secs(self.drain_secs);
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("agentdeck-loadgen: cannot start the runtime: {error}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("agentdeck-loadgen: {error:#}");
            println!("{}", serde_json::json!({ "ok": false, "error": format!("{error:#}") }));
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> Result<bool> {
    if let Some(config) = a2a_config(&cli)? {
        let report = run_a2a(&config).await?;
        print_report(&report.describe(), &report)?;
        return Ok(report.ok);
    }
    let transport = match cli.target {
        TargetKind::Dash => Transport::Dash,
        TargetKind::Socketio => Transport::SocketIo,
    };
    let common = common(&cli, transport)?;
    let report = match &cli.scenario {
        Scenario::Idle { connections, hold_secs, per_room } => {
            if transport != Transport::Dash {
                anyhow::bail!("idle speaks dash.v1 only");
            }
            let config =
                IdleConfig { per_room: *per_room, ..IdleConfig::new(*connections, Duration::from_secs(*hold_secs)) };
            run_idle(&common, &config).await?
        }
        Scenario::Rooms { rooms, tabs, rate, duration_secs, tuning } => {
            let mut config = RoomsConfig::rooms(*rooms, *tabs, Duration::from_secs(*duration_secs));
            config.rate = *rate;
            config.transport = transport;
            tuning.apply(&mut config);
            run_rooms(&common, &config).await?
        }
        Scenario::Hot { subscribers, rate, duration_secs, tuning } => {
            let mut config = RoomsConfig::hot(*subscribers, *rate, Duration::from_secs(*duration_secs));
            config.transport = transport;
            tuning.apply(&mut config);
            run_rooms(&common, &config).await?
        }
        Scenario::Storm { rooms, tabs, window_secs, rate, tuning } => {
            let mut config = RoomsConfig::storm(*rooms, *tabs, Duration::from_secs_f64(window_secs.max(0.0)));
            config.rate = *rate;
            tuning.apply(&mut config);
            run_rooms(&common, &config).await?
        }
        Scenario::A2a { .. } | Scenario::Ask { .. } => anyhow::bail!("this scenario ran above"),
    };
    print_report(&report.describe(), &report)?;
    Ok(report.ok)
}

/// Prints a report's summary, then its one JSON line.
fn print_report(summary: &str, report: &impl serde::Serialize) -> Result<()> {
    println!("{summary}");
    println!("{}", serde_json::to_string(report)?);
    Ok(())
}

/// The load of the `a2a` and `ask` scenarios (on loopback servers only);
/// `None` for the socket scenarios.
fn a2a_config(cli: &Cli) -> Result<Option<A2aConfig>> {
    if !matches!(cli.scenario, Scenario::A2a { .. } | Scenario::Ask { .. }) {
        return Ok(None);
    }
    let host = reqwest::Url::parse(&cli.url)?.host_str().unwrap_or_default().to_owned();
    if !matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]") {
        anyhow::bail!("the load generator runs against loopback servers only, not {host}");
    }
    let config = |url: String, warmup_secs: f64, duration_secs: u64, message_prefix: String, ask| A2aConfig {
        url,
        concurrency: cli.concurrency,
        warmup: Duration::from_secs_f64(warmup_secs.max(0.0)),
        duration: Duration::from_secs(duration_secs),
        message_prefix,
        server_pid: cli.server_pid,
        ask,
    };
    match &cli.scenario {
        Scenario::Ask { duration_secs, warmup_secs, question, baseline_ms, user } => {
            let secret = cli
                .secret
                .as_deref()
                .ok_or_else(|| anyhow::anyhow!("pass --secret or set AGENTDECK_AUTH__JWT_SECRET"))?;
            let token = TokenMinter::new(secret.as_bytes(), cli.workspace)?.mint(user)?;
            let server = cli.url.trim_end_matches('/');
            let baseline = Duration::from_millis(*baseline_ms);
            let floor_url = format!("{server}/api/dashboard/state");
            let ask = AskLoad { token, question: question.clone(), baseline, floor_url };
            let url = format!("{server}/api/ask");
            Ok(Some(config(url, *warmup_secs, *duration_secs, String::new(), Some(ask))))
        }
        Scenario::A2a { duration_secs, warmup_secs, message_prefix } => {
            Ok(Some(config(cli.url.clone(), *warmup_secs, *duration_secs, message_prefix.clone(), None)))
        }
        _ => Ok(None),
    }
}

/// What every socket scenario needs: the target, the token minter and the users' prefix.
fn common(cli: &Cli, transport: Transport) -> Result<Common> {
    let target = Target::parse(&cli.url)?.with_source_ips(cli.source_ips);
    let minter = match (&cli.secret, transport) {
        (Some(secret), _) => Some(TokenMinter::new(secret.as_bytes(), cli.workspace)?),
        (None, Transport::SocketIo) => None,
        (None, Transport::Dash) => anyhow::bail!("pass --secret or set AGENTDECK_AUTH__JWT_SECRET"),
    };
    let default_prefix = match &cli.scenario {
        Scenario::Idle { .. } => "load-idle",
        Scenario::Rooms { .. } => "load",
        Scenario::Hot { .. } => "load-hot",
        Scenario::Storm { .. } | Scenario::A2a { .. } | Scenario::Ask { .. } => "load-storm",
    };
    Ok(Common {
        target,
        minter,
        user_prefix: cli.user_prefix.clone().unwrap_or_else(|| default_prefix.to_owned()),
        concurrency: cli.concurrency,
        server_pid: cli.server_pid,
    })
}
