//! Accounts of people and the administration of workspaces: what the
//! `agentdeck workspace …` and `agentdeck account …` commands do (and, later,
//! the API of an owner or an instance admin).
//!
//! A person's membership in a workspace is a member record whose `userId` is
//! the account id; creating a workspace makes its owner that way, so the
//! members pages, assignments and capacity planning see the owner like anyone
//! else. [`password`] hashes and verifies passwords; [`sessions`] signs people
//! in and keeps their sessions and the auth log.

pub mod password;
pub mod sessions;

use agentdeck_domain::page::{MAX_PAGE_LIMIT, PageRequest};
use agentdeck_domain::records::{
    Account, ActivityAction, ActivityEntry, DEFAULT_WEEKLY_CAPACITY_HOURS, MAX_NAME_CHARS, Member, MemberRole,
    NewAccount, TargetKind, Workspace, check_password, normalize_email, stored_precision,
};
use agentdeck_domain::validation::{FieldError, ValidationErrors, Validator};
use agentdeck_storage::{StoreError, Stores};
use chrono::Utc;
use uuid::Uuid;

use self::password::PasswordError;

/// Why an account or workspace operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The input breaks a rule (email, name, password policy).
    #[error("{0}")]
    Invalid(#[from] ValidationErrors),
    /// No account has this email.
    #[error("no account has the email {0}")]
    UnknownAccount(String),
    /// No workspace has this id.
    #[error("no workspace has the id {0}")]
    UnknownWorkspace(Uuid),
    /// The owner's password could not be read.
    #[error("cannot read the password")]
    PasswordInput(#[source] std::io::Error),
    /// Hashing the password failed.
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What [`create_workspace`] made.
#[derive(Debug, Clone)]
pub struct CreatedWorkspace {
    /// The new workspace.
    pub workspace: Workspace,
    /// The owner's account.
    pub owner: Account,
    /// Whether the account was created now (else an existing one was reused, its password unchanged).
    pub account_created: bool,
}

/// Input of [`create_workspace`].
#[derive(Debug, Clone)]
pub struct NewWorkspace {
    /// Name of the workspace (1–200 characters).
    pub name: String,
    /// Email of the owner; normalised.
    pub owner_email: String,
    /// Display name of a new owner account; defaults to the part of the email before the `@`.
    pub owner_name: Option<String>,
}

/// Creates a workspace owned by the account with `owner_email`, creating the
/// account if no account has that email (an existing one is reused and its
/// password left as it is).
///
/// `read_password` is called only for a new account, after the rest of the input
/// was checked; its password must pass the policy. Everything is checked before
/// anything is written, and the account, workspace and owner member are stored
/// in one transaction: a failure leaves nothing behind.
pub async fn create_workspace(
    stores: &Stores,
    input: NewWorkspace,
    read_password: impl FnOnce() -> std::io::Result<String>,
) -> Result<CreatedWorkspace, AccountError> {
    let now = stored_precision(Utc::now());
    let workspace = Workspace::new(&input.name, now);
    let email = normalize_email(&input.owner_email);
    let mut errors = workspace.validate().err().map(|errors| errors.0).unwrap_or_default();
    if let Err(error) = &email {
        errors.push(error.clone());
    }
    if !errors.is_empty() {
        return Err(ValidationErrors(errors).into());
    }
    let email = email.map_err(|error| ValidationErrors(vec![error]))?;

    let (owner, account_created) = match stores.accounts.find_account_by_email(&email).await? {
        Some(existing) => (existing, false),
        None => {
            let display_name = input.owner_name.clone().unwrap_or_else(|| default_display_name(&email));
            let new_account = NewAccount { email: email.clone(), display_name };
            // Check the name before asking for a password, so a typo costs no typing.
            new_account.clone().into_account(None, now)?;
            let password = read_password().map_err(AccountError::PasswordInput)?;
            check_password(&password)?;
            let hash = password::hash_password(password).await?;
            (new_account.into_account(Some(hash), now)?, true)
        }
    };

    let member = Member {
        id: Uuid::now_v7(),
        workspace_id: workspace.id,
        user_id: owner.id.to_string(),
        display_name: owner.display_name.clone(),
        email: Some(owner.email.clone()),
        role: MemberRole::Owner,
        weekly_capacity_hours: DEFAULT_WEEKLY_CAPACITY_HOURS,
        created_at: now,
        updated_at: now,
        revision: 1,
    };
    member.validate()?;
    let entry = ActivityEntry {
        id: Uuid::now_v7(),
        workspace_id: workspace.id,
        project_id: None,
        actor: owner.id.to_string(),
        action: ActivityAction::MemberAdded,
        target_kind: TargetKind::Member,
        target_id: member.id,
        target_name: member.display_name.clone(),
        details: serde_json::json!({ "role": MemberRole::Owner.as_str() }),
        at: now,
    };
    let new_account = account_created.then_some(&owner);
    stores.workspaces.insert_workspace_with_owner(&workspace, new_account, &member, &entry).await.map_err(|error| {
        match error {
            // Another process created the account between the lookup and the write.
            StoreError::Duplicate { path } if path == "/email" => {
                AccountError::Invalid(ValidationErrors(vec![FieldError::new(
                    "/email",
                    "an account with this email was created meanwhile; run the command again",
                )]))
            }
            other => other.into(),
        }
    })?;
    Ok(CreatedWorkspace { workspace, owner, account_created })
}

/// The name a new account gets when none is given: the email's local part.
fn default_display_name(email: &str) -> String {
    email.split('@').next().unwrap_or(email).to_owned()
}

/// Grants (`admin = true`) or revokes the instance admin flag of the account with `email`.
pub async fn set_instance_admin(stores: &Stores, email: &str, admin: bool) -> Result<Account, AccountError> {
    let email = normalize_email(email).map_err(|error| ValidationErrors(vec![error]))?;
    let account =
        stores.accounts.find_account_by_email(&email).await?.ok_or_else(|| AccountError::UnknownAccount(email))?;
    let now = stored_precision(Utc::now());
    stores.accounts.set_account_instance_admin(account.id, admin, now).await?;
    Ok(Account { instance_admin: admin, updated_at: now, ..account })
}

/// Disables or re-enables a workspace.
pub async fn set_workspace_disabled(stores: &Stores, id: Uuid, disabled: bool) -> Result<Workspace, AccountError> {
    match stores.workspaces.set_workspace_disabled(id, disabled).await {
        Err(StoreError::NotFound) => Err(AccountError::UnknownWorkspace(id)),
        Err(other) => Err(other.into()),
        Ok(()) => stores.workspaces.get_workspace(id).await?.ok_or(AccountError::UnknownWorkspace(id)),
    }
}

/// Renames a workspace (the name is trimmed and must be 1–200 characters).
pub async fn rename_workspace(stores: &Stores, id: Uuid, name: &str) -> Result<Workspace, AccountError> {
    let name = name.trim();
    let mut validator = Validator::new();
    validator.text("/name", name, 1, MAX_NAME_CHARS);
    validator.finish()?;
    match stores.workspaces.rename_workspace(id, name).await {
        Err(StoreError::NotFound) => Err(AccountError::UnknownWorkspace(id)),
        Err(other) => Err(other.into()),
        Ok(()) => stores.workspaces.get_workspace(id).await?.ok_or(AccountError::UnknownWorkspace(id)),
    }
}

/// A workspace with how many members it has.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkspaceSummary {
    /// The workspace.
    pub workspace: Workspace,
    /// How many member records it has.
    pub members: u64,
}

/// One page of workspaces with their member counts, newest first.
pub async fn workspace_summaries(
    stores: &Stores,
    request: PageRequest,
) -> Result<agentdeck_domain::page::Page<WorkspaceSummary>, AccountError> {
    let page = stores.workspaces.list_workspaces(request).await?;
    let ids: Vec<Uuid> = page.items.iter().map(|workspace| workspace.id).collect();
    let counts = stores.workspaces.count_members(&ids).await?;
    let items = page
        .items
        .into_iter()
        .map(|workspace| {
            let members = counts.get(&workspace.id).copied().unwrap_or(0);
            WorkspaceSummary { workspace, members }
        })
        .collect();
    Ok(agentdeck_domain::page::Page { items, next_cursor: page.next_cursor })
}

/// Every workspace with its member count, newest first (read page by page).
pub async fn all_workspaces(stores: &Stores) -> Result<Vec<WorkspaceSummary>, AccountError> {
    let mut workspaces = Vec::new();
    let mut request = PageRequest::first(MAX_PAGE_LIMIT);
    loop {
        let page = workspace_summaries(stores, request).await?;
        workspaces.extend(page.items);
        let Some(cursor) = page.next_cursor else { return Ok(workspaces) };
        let after = agentdeck_domain::page::Cursor::decode(&cursor)
            .map_err(|error| StoreError::Corrupt(format!("page cursor: {error}")))?;
        request = PageRequest { limit: request.limit, after: Some(after) };
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on a broken fixture")]

    use agentdeck_storage::testing::TestDatabase;
    use agentdeck_storage::{ConnectOptions, connect};

    use super::*;

    const PASSWORD: &str = "a long enough passphrase";

    async fn stores(database: &TestDatabase) -> Stores {
        let stores = connect(&database.url, &ConnectOptions::default()).await.unwrap();
        stores.database.migrate().await.unwrap();
        stores
    }

    fn input(name: &str, email: &str) -> NewWorkspace {
        NewWorkspace { name: name.into(), owner_email: email.into(), owner_name: None }
    }

    fn no_password() -> std::io::Result<String> {
        panic!("the password must not be asked for")
    }

    #[tokio::test]
    async fn a_new_owner_gets_an_account_a_workspace_and_an_owner_member() {
        let database = TestDatabase::sqlite().unwrap();
        let stores = stores(&database).await;
        let created =
            create_workspace(&stores, input(" Acme ", " Ada@Example.org"), || Ok(PASSWORD.into())).await.unwrap();
        assert!(created.account_created);
        assert_eq!(created.workspace.name, "Acme");
        assert_eq!(created.owner.email, "ada@example.org");
        assert_eq!(created.owner.display_name, "ada", "the email's local part when no name is given");
        let stored = stores.accounts.get_account(created.owner.id).await.unwrap().unwrap();
        let hash = stored.password_hash.unwrap();
        assert!(password::verify_password(PASSWORD.into(), hash).await.unwrap());
        let member =
            stores.members.find_member_by_user(created.workspace.id, &created.owner.id.to_string()).await.unwrap();
        assert_eq!(member.map(|member| member.role), Some(MemberRole::Owner));

        // The same email again: the account is reused, the password is not asked for.
        let second = create_workspace(&stores, input("Globex", "ADA@example.org"), no_password).await.unwrap();
        assert!(!second.account_created);
        assert_eq!(second.owner.id, created.owner.id);
        assert_eq!(all_workspaces(&stores).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn bad_input_is_refused_before_anything_is_written() {
        let database = TestDatabase::sqlite().unwrap();
        let stores = stores(&database).await;
        let error = create_workspace(&stores, input(" ", "nope"), no_password).await.unwrap_err();
        let AccountError::Invalid(errors) = error else { panic!("{error:?}") };
        let paths: Vec<_> = errors.0.iter().map(|error| error.path.as_str()).collect();
        assert_eq!(paths, ["/name", "/email"]);

        let error =
            create_workspace(&stores, input("Acme", "ada@example.org"), || Ok("too short".into())).await.unwrap_err();
        assert!(error.to_string().contains("/password must be at least 12 characters"), "{error}");
        let error = create_workspace(&stores, input("Acme", "ada@example.org"), || {
            Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "no input"))
        })
        .await
        .unwrap_err();
        assert!(matches!(error, AccountError::PasswordInput(_)), "{error:?}");
        assert_eq!(stores.workspaces.count_workspaces().await.unwrap(), 0);
        assert!(stores.accounts.find_account_by_email("ada@example.org").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn admin_flag_disabling_and_renaming() {
        let database = TestDatabase::sqlite().unwrap();
        let stores = stores(&database).await;
        let created =
            create_workspace(&stores, input("Acme", "ada@example.org"), || Ok(PASSWORD.into())).await.unwrap();
        let admin = set_instance_admin(&stores, " ADA@example.org ", true).await.unwrap();
        assert!(admin.instance_admin);
        assert!(stores.accounts.get_account(admin.id).await.unwrap().unwrap().instance_admin);
        assert!(!set_instance_admin(&stores, "ada@example.org", false).await.unwrap().instance_admin);
        let error = set_instance_admin(&stores, "bob@example.org", true).await.unwrap_err();
        assert!(matches!(&error, AccountError::UnknownAccount(email) if email == "bob@example.org"), "{error:?}");

        let id = created.workspace.id;
        assert!(set_workspace_disabled(&stores, id, true).await.unwrap().disabled);
        assert!(!set_workspace_disabled(&stores, id, false).await.unwrap().disabled);
        assert_eq!(rename_workspace(&stores, id, "  Acme Corp ").await.unwrap().name, "Acme Corp");
        assert!(matches!(rename_workspace(&stores, id, "   ").await, Err(AccountError::Invalid(_))));
        let missing = Uuid::now_v7();
        assert!(matches!(set_workspace_disabled(&stores, missing, true).await, Err(AccountError::UnknownWorkspace(_))));
        assert!(matches!(rename_workspace(&stores, missing, "x").await, Err(AccountError::UnknownWorkspace(_))));
    }
}
