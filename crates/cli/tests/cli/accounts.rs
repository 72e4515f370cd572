//! `agentdeck workspace …` and `agentdeck account …`, run as the real binary on
//! SQLite (the data dir's file) and on PostgreSQL (`AGENTDECK_DATABASE_URL`), with
//! what they stored read back through the store.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use agentdeck_storage::testing::TestDatabase;
use agentdeck_storage::{ConnectOptions, Stores, connect, sqlite_url};
use uuid::Uuid;

use super::{agentdeck, run};

const PASSWORD: &str = "correct horse battery staple";

/// Where a test's commands keep their data.
struct Setup {
    data_dir: tempfile::TempDir,
    /// `None`: the SQLite file in the data dir.
    database: Option<TestDatabase>,
}

impl Setup {
    fn sqlite() -> Self {
        Self { data_dir: tempfile::tempdir().unwrap(), database: None }
    }

    async fn postgres() -> Self {
        Self { data_dir: tempfile::tempdir().unwrap(), database: Some(TestDatabase::postgres().await.unwrap()) }
    }

    fn command(&self) -> Command {
        let mut command = agentdeck(self.data_dir.path());
        if let Some(database) = &self.database {
            command.env("AGENTDECK_DATABASE_URL", &database.url);
        }
        command
    }

    /// The stores the commands wrote to (the CLI migrated them).
    async fn stores(&self) -> Stores {
        let url = match &self.database {
            Some(database) => database.url.clone(),
            None => sqlite_url(&self.data_dir.path().join("agentdeck.sqlite")),
        };
        connect(&url, &ConnectOptions::default()).await.unwrap()
    }

    fn password_file(&self, content: &str) -> std::path::PathBuf {
        let path = self.data_dir.path().join(format!("password-{}", Uuid::now_v7()));
        std::fs::write(&path, content).unwrap();
        path
    }
}

/// Runs `command` with `input` on standard input.
fn run_with_stdin(command: &mut Command, input: &str) -> Output {
    let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The workspace id a successful `workspace create` printed (its only stdout line).
fn created_id(output: &Output) -> Uuid {
    assert!(output.status.success(), "stderr: {}", stderr(output));
    Uuid::parse_str(stdout(output).trim()).unwrap_or_else(|_| panic!("not a workspace id: {:?}", stdout(output)))
}

fn create(setup: &Setup, name: &str, email: &str) -> Command {
    let mut command = setup.command();
    command.args(["workspace", "create", "--name", name, "--owner-email", email]);
    command
}

async fn the_commands_create_list_and_administer(setup: Setup) {
    // With a password file (its first line; the line break is not part of it).
    let file = setup.password_file(&format!("{PASSWORD}\nignored second line\n"));
    let output = run(create(&setup, "Acme", "Ada@Example.org")
        .args(["--owner-name", "Ada Lovelace"])
        .arg("--owner-password-file")
        .arg(&file));
    let acme = created_id(&output);
    assert!(stderr(&output).contains("created account ada@example.org"), "{}", stderr(&output));

    let stores = setup.stores().await;
    let ada = stores.accounts.find_account_by_email("ada@example.org").await.unwrap().expect("the account");
    assert_eq!(ada.display_name, "Ada Lovelace");
    let hash = ada.password_hash.clone().expect("a password hash");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(agentdeck_services::accounts::password::verify_password(PASSWORD.into(), hash.clone()).await.unwrap());
    let owner = stores.members.find_member_by_user(acme, &ada.id.to_string()).await.unwrap().expect("owner member");
    assert_eq!(owner.role.as_str(), "owner");

    // With standard input, for a second person.
    let output = run_with_stdin(&mut create(&setup, "Initech", "bob@example.org"), &format!("{PASSWORD}-bob\n"));
    let initech = created_id(&output);
    let bob = stores.accounts.find_account_by_email("bob@example.org").await.unwrap().expect("bob's account");
    assert_eq!(bob.display_name, "bob");
    let bob_hash = bob.password_hash.expect("a password hash");
    assert!(
        agentdeck_services::accounts::password::verify_password(format!("{PASSWORD}-bob"), bob_hash).await.unwrap()
    );

    // The same owner email again: the account is reused, its password untouched and not asked for.
    let output = run_with_stdin(&mut create(&setup, "Globex", "ADA@example.org "), "");
    let globex = created_id(&output);
    assert!(stderr(&output).contains("existing account ada@example.org"), "{}", stderr(&output));
    let again = stores.accounts.find_account_by_email("ada@example.org").await.unwrap().unwrap();
    assert_eq!((again.id, again.password_hash), (ada.id, Some(hash)));
    let owner = stores.members.find_member_by_user(globex, &ada.id.to_string()).await.unwrap();
    assert_eq!(owner.map(|member| member.role.as_str()), Some("owner"), "one account, a member record in each");

    // The list shows all three, newest first.
    let output = run(setup.command().args(["workspace", "list"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let listing = stdout(&output);
    let position = |id: Uuid| listing.find(&id.to_string()).unwrap_or_else(|| panic!("{id} not in {listing}"));
    assert!(position(globex) < position(initech) && position(initech) < position(acme), "{listing}");
    let acme_line = listing.lines().find(|line| line.contains(&acme.to_string())).unwrap();
    let columns: Vec<&str> = acme_line.split_whitespace().collect();
    assert_eq!((columns[1], columns[2], columns[columns.len() - 1]), ("active", "1", "Acme"), "{listing}");

    // Disable and enable.
    let output = run(setup.command().args(["workspace", "disable", "--id", &acme.to_string()]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stores.workspaces.get_workspace(acme).await.unwrap().unwrap().disabled);
    let listing = stdout(&run(setup.command().args(["workspace", "list"])));
    assert!(listing.lines().any(|line| line.contains(&acme.to_string()) && line.contains("disabled")), "{listing}");
    let output = run(setup.command().args(["workspace", "disable", "--enable", "--id", &acme.to_string()]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stores.workspaces.get_workspace(acme).await.unwrap().unwrap().disabled);

    // The instance admin flag, set and revoked.
    let output = run(setup.command().args(["account", "admin", "--email", "Ada@example.org"]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stores.accounts.get_account(ada.id).await.unwrap().unwrap().instance_admin);
    assert!(!stores.accounts.get_account(bob.id).await.unwrap().unwrap().instance_admin);
    let output = run(setup.command().args(["account", "admin", "--email", "ada@example.org", "--revoke"]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stores.accounts.get_account(ada.id).await.unwrap().unwrap().instance_admin);
}

async fn bad_input_fails_and_creates_nothing(setup: Setup) {
    // A short password, from a file and from standard input.
    let file = setup.password_file("too short\n");
    let output = run(create(&setup, "Acme", "ada@example.org").arg("--owner-password-file").arg(&file));
    assert!(!output.status.success());
    assert!(stderr(&output).contains("password must be at least 12 characters"), "{}", stderr(&output));
    let output = run_with_stdin(&mut create(&setup, "Acme", "ada@example.org"), "aaaaaaaaaaaaaaaa\n");
    assert!(!output.status.success());
    assert!(stderr(&output).contains("must not be one character repeated"), "{}", stderr(&output));
    // No password at all, a missing file, a bad email, a blank name.
    let output = run_with_stdin(&mut create(&setup, "Acme", "ada@example.org"), "");
    assert!(!output.status.success());
    assert!(stderr(&output).contains("no password on standard input"), "{}", stderr(&output));
    let missing = setup.data_dir.path().join("no such file");
    let output = run(create(&setup, "Acme", "ada@example.org").arg("--owner-password-file").arg(&missing));
    assert!(!output.status.success());
    assert!(stderr(&output).contains("no such file"), "{}", stderr(&output));
    let output = run_with_stdin(&mut create(&setup, "  ", "not-an-email"), &format!("{PASSWORD}\n"));
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("--name must not be empty") && message.contains("email must be an email"), "{message}");
    // Unknown ids and emails.
    let output = run(setup.command().args(["workspace", "disable", "--id", &Uuid::now_v7().to_string()]));
    assert!(!output.status.success());
    assert!(stderr(&output).contains("no workspace has the id"), "{}", stderr(&output));
    let output = run(setup.command().args(["account", "admin", "--email", "nobody@example.org"]));
    assert!(!output.status.success());
    assert!(stderr(&output).contains("no account has the email nobody@example.org"), "{}", stderr(&output));
    // The password is never an argument.
    let output = run(create(&setup, "Acme", "ada@example.org").args(["--owner-password", PASSWORD]));
    assert!(!output.status.success());

    let listing = stdout(&run(setup.command().args(["workspace", "list"])));
    assert_eq!(listing.lines().count(), 1, "only the header: {listing}");
    let stores = setup.stores().await;
    assert_eq!(stores.workspaces.count_workspaces().await.unwrap(), 0);
    assert!(stores.accounts.find_account_by_email("ada@example.org").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_workspace_and_account_commands() {
    the_commands_create_list_and_administer(Setup::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_workspace_and_account_commands() {
    the_commands_create_list_and_administer(Setup::postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_bad_input_creates_nothing() {
    bad_input_fails_and_creates_nothing(Setup::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_bad_input_creates_nothing() {
    bad_input_fails_and_creates_nothing(Setup::postgres().await).await;
}
