//! The `agentdeck` command: `serve`, `migrate`, `token`, `config`.
//!
//! Every subcommand reads the same configuration (flags, `AGENTDECK_*`
//! variables, the `--config` TOML file, defaults), so a token minted with
//! `agentdeck token` is accepted by `agentdeck serve` run with the same settings,
//! including the dev-mode secret kept in the data dir.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use agentdeck_domain::auth::{Principal, Role};
use agentdeck_server::config::{Mode, Overrides, Settings};
use agentdeck_server::startup::{Application, open_store, shutdown_signal};
use agentdeck_server::telemetry;
use agentdeck_services::auth::TokenService;
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use uuid::Uuid;

/// mimalloc instead of the system allocator: see the workspace manifest for why.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// agentdeck: one server where AI agents and people share a live dashboard.
#[derive(Debug, Parser)]
#[command(name = "agentdeck", version, about)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: Command,
}

/// Settings every subcommand reads.
#[derive(Debug, Args)]
struct CommonArgs {
    /// TOML configuration file.
    #[arg(long, global = true, env = "AGENTDECK_CONFIG")]
    config: Option<PathBuf>,
    /// `dev` (default) or `production`.
    #[arg(long, global = true, value_parser = parse_mode)]
    mode: Option<Mode>,
    /// Directory for the SQLite file and the dev-mode secret (default ./data).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// `postgres://…` for cluster mode (default: SQLite in the data dir).
    #[arg(long, global = true)]
    database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long)]
        bind: Option<SocketAddr>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print a bearer token for scripts and tests.
    Token {
        /// Workspace id the token is scoped to.
        #[arg(long)]
        workspace: Uuid,
        /// User id (token subject).
        #[arg(long)]
        user: String,
        /// owner, admin, member or service.
        #[arg(long, default_value = "member", value_parser = parse_role)]
        role: Role,
        /// Lifetime, e.g. 90s, 30m, 12h, 7d.
        #[arg(long, default_value = "1h", value_parser = parse_duration)]
        ttl: Duration,
    },
    /// Print the effective configuration (secrets redacted).
    Config,
}

fn parse_mode(text: &str) -> Result<Mode, String> {
    text.parse()
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| format!("unknown role {text:?} (expected owner, admin, member or service)"))
}

/// Parses `<number><unit>` with unit s, m, h or d (a bare number is seconds).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| format!("{text:?} is not a duration like 30m or 12h"))?;
    let seconds = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit {unit:?} in {text:?} (use s, m, h or d)")),
    };
    number
        .checked_mul(seconds)
        .filter(|seconds| *seconds > 0)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{text:?} must be positive and reasonable"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let bind = match &cli.command {
        Command::Serve { bind } => *bind,
        _ => None,
    };
    let overrides = Overrides {
        config_file: cli.common.config,
        mode: cli.common.mode,
        bind,
        data_dir: cli.common.data_dir,
        database_url: cli.common.database_url,
    };
    let settings = Settings::load(&overrides)?;
    match cli.command {
        Command::Serve { .. } => serve(settings).await,
        Command::Migrate => migrate(settings).await,
        Command::Token { workspace, user, role, ttl } => token(&settings, workspace, user, role, ttl),
        Command::Config => {
            print!("{}", toml::to_string(&settings.redacted()).context("cannot print configuration")?);
            Ok(())
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    telemetry::init(&settings);
    let application = Application::build(settings).await?;
    let stop = shutdown_signal();
    for line in application.startup_report() {
        println!("{line}");
    }
    tracing::info!(address = %application.address(), "listening");
    application.run_until_stopped(stop).await.context("server failed")?;
    tracing::info!("stopped");
    Ok(())
}

async fn migrate(settings: Settings) -> anyhow::Result<()> {
    telemetry::init(&settings);
    let (stores, applied) = open_store(&settings).await?;
    println!("{applied} migrations applied ({} database up to date)", stores.database.backend().as_str());
    Ok(())
}

fn token(settings: &Settings, workspace: Uuid, user: String, role: Role, ttl: Duration) -> anyhow::Result<()> {
    settings.check_production()?;
    let keys = settings.token_keys()?;
    let principal = Principal { subject: user, workspace_id: workspace, role };
    let token = TokenService::new(keys).issue(&principal, ttl, chrono::Utc::now())?;
    println!("{token}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        for bad in ["", "h", "0s", "5w", "-3m", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
