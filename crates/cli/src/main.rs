//! The `agentdeck` command: `serve`, `migrate`, `token`, `config`, and the
//! administration of workspaces and accounts (`workspace …`, `account …`).
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
use agentdeck_services::accounts::{self, AccountError};
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
    /// Create, list, rename, disable workspaces.
    Workspace {
        #[command(subcommand)]
        command: WorkspaceCommand,
    },
    /// Administer accounts of people.
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
}

#[derive(Debug, Subcommand)]
enum WorkspaceCommand {
    /// Create a workspace and its owner; prints the workspace id.
    ///
    /// The owner's account is created when no account has the email, with the
    /// password read from --owner-password-file or else from standard input (never
    /// from an argument, which other users of the machine could see); an existing
    /// account is reused and its password left unchanged.
    Create {
        /// Name of the workspace.
        #[arg(long)]
        name: String,
        /// Email of the owner (the account to create or reuse).
        #[arg(long)]
        owner_email: String,
        /// Display name of a new owner account (default: the part of the email before the @).
        #[arg(long)]
        owner_name: Option<String>,
        /// File whose first line is the new owner's password (default: read it from standard input).
        #[arg(long)]
        owner_password_file: Option<PathBuf>,
    },
    /// List every workspace, newest first.
    List,
    /// Rename a workspace.
    Rename {
        /// Workspace id.
        #[arg(long)]
        id: Uuid,
        /// New name.
        #[arg(long)]
        name: String,
    },
    /// Disable a workspace (kept, but unusable), or re-enable it with --enable.
    Disable {
        /// Workspace id.
        #[arg(long)]
        id: Uuid,
        /// Re-enable the workspace instead.
        #[arg(long)]
        enable: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AccountCommand {
    /// Make an account an instance admin (may list and disable every workspace), or --revoke it.
    Admin {
        /// Email of the account.
        #[arg(long)]
        email: String,
        /// Clear the flag instead.
        #[arg(long)]
        revoke: bool,
    },
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
        Command::Workspace { command } => workspace(&settings, command).await,
        Command::Account { command } => account(&settings, command).await,
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

async fn workspace(settings: &Settings, command: WorkspaceCommand) -> anyhow::Result<()> {
    telemetry::init(settings);
    let (stores, _) = open_store(settings).await?;
    match command {
        WorkspaceCommand::Create { name, owner_email, owner_name, owner_password_file } => {
            let input = accounts::NewWorkspace { name, owner_email, owner_name };
            let read_password = || match &owner_password_file {
                Some(path) => read_password_file(path),
                None => read_password_stdin(),
            };
            let created = accounts::create_workspace(&stores, input, read_password).await.map_err(cli_error)?;
            let email = &created.owner.email;
            if created.account_created {
                eprintln!("created account {email} ({})", created.owner.id);
            } else {
                eprintln!("using the existing account {email}; its password is unchanged");
                if created.owner.disabled {
                    eprintln!("note: the account {email} is disabled");
                }
            }
            eprintln!("created workspace {:?} owned by {email}", created.workspace.name);
            println!("{}", created.workspace.id);
        }
        WorkspaceCommand::List => {
            let workspaces = accounts::all_workspaces(&stores).await.map_err(cli_error)?;
            println!("{:<36}  {:<8}  {:>7}  {:<20}  NAME", "ID", "STATUS", "MEMBERS", "CREATED");
            for accounts::WorkspaceSummary { workspace, members } in workspaces {
                let status = if workspace.disabled { "disabled" } else { "active" };
                let created = workspace.created_at.format("%Y-%m-%d %H:%M:%SZ");
                println!("{}  {status:<8}  {members:>7}  {created:<20}  {}", workspace.id, workspace.name);
            }
        }
        WorkspaceCommand::Rename { id, name } => {
            let workspace = accounts::rename_workspace(&stores, id, &name).await.map_err(cli_error)?;
            println!("renamed workspace {id} to {:?}", workspace.name);
        }
        WorkspaceCommand::Disable { id, enable } => {
            let workspace = accounts::set_workspace_disabled(&stores, id, !enable).await.map_err(cli_error)?;
            let state = if workspace.disabled { "disabled" } else { "enabled" };
            println!("workspace {id} ({:?}) is {state}", workspace.name);
        }
    }
    Ok(())
}

async fn account(settings: &Settings, command: AccountCommand) -> anyhow::Result<()> {
    telemetry::init(settings);
    let (stores, _) = open_store(settings).await?;
    match command {
        AccountCommand::Admin { email, revoke } => {
            let account = accounts::set_instance_admin(&stores, &email, !revoke).await.map_err(cli_error)?;
            let state =
                if account.instance_admin { "is now an instance admin" } else { "is no longer an instance admin" };
            println!("{} {state}", account.email);
        }
    }
    Ok(())
}

/// Names input errors by the flag the value came from, not the field's JSON Pointer.
fn cli_error(error: AccountError) -> anyhow::Error {
    match error {
        AccountError::Invalid(errors) => {
            let described: Vec<String> = errors
                .0
                .iter()
                .map(|error| {
                    let source = match error.path.as_str() {
                        "/name" => "--name",
                        "/email" => "the email",
                        "/displayName" => "--owner-name",
                        "/password" => "the password",
                        other => other,
                    };
                    format!("{source} {}", error.message)
                })
                .collect();
            anyhow::anyhow!("invalid input: {}; nothing was changed", described.join("; "))
        }
        other => anyhow::Error::new(other),
    }
}

/// Reads a password: the first line of the file, without its line break.
fn read_password_file(path: &std::path::Path) -> std::io::Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| std::io::Error::new(error.kind(), format!("{}: {error}", path.display())))?;
    first_line(&text)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{} is empty", path.display())))
}

/// Reads a password from the first line of standard input; at a terminal, asks
/// twice without echoing what is typed.
fn read_password_stdin() -> std::io::Result<String> {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let password = rpassword::prompt_password("Password of the new owner account: ")?;
        let again = rpassword::prompt_password("The same password again: ")?;
        if password != again {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "the two passwords differ"));
        }
        return first_line(&password)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "the password is empty"));
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    first_line(&line).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "no password on standard input (pipe one in, or pass --owner-password-file)",
        )
    })
}

/// The first line of `text` without its line break (`\n` or `\r\n`); `None` when empty.
fn first_line(text: &str) -> Option<String> {
    let line = text.split('\n').next().unwrap_or_default();
    let line = line.strip_suffix('\r').unwrap_or(line);
    (!line.is_empty()).then(|| line.to_owned())
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
    fn a_password_is_the_first_line_without_its_break() {
        assert_eq!(first_line("secret pass phrase\n").as_deref(), Some("secret pass phrase"));
        assert_eq!(first_line("secret pass phrase\r\nsecond line").as_deref(), Some("secret pass phrase"));
        assert_eq!(first_line("  spaces kept  ").as_deref(), Some("  spaces kept  "));
        assert_eq!(first_line(""), None);
        assert_eq!(first_line("\nsecond"), None);
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
