//! Accounts (unique emails, setters, pages) and the workspace administration
//! that goes with them: listing, renaming, disabling, and creating a workspace
//! with its owner all or nothing.

use agentdeck_domain::page::PageRequest;
use agentdeck_domain::records::{Account, ActivityAction, ActivityEntry, Member, MemberRole, TargetKind, Workspace};
use agentdeck_storage::StoreError;
use uuid::Uuid;

use crate::TestDb;
use crate::fixtures::{at, read_all_pages};

/// An account (not stored) with a made-up hash, created at `T0 + offset_ms`.
fn account(email: &str, offset_ms: i64) -> Account {
    Account {
        id: Uuid::now_v7(),
        email: email.into(),
        display_name: format!("Person {email}"),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into()),
        disabled: false,
        instance_admin: false,
        created_at: at(offset_ms),
        updated_at: at(offset_ms),
    }
}

fn workspace(name: &str, offset_ms: i64) -> Workspace {
    Workspace { id: Uuid::now_v7(), name: name.into(), disabled: false, created_at: at(offset_ms) }
}

/// The owner member of `workspace` for `account`, and the entry that records it.
fn owner_of(workspace: &Workspace, account: &Account) -> (Member, ActivityEntry) {
    let member = Member {
        id: Uuid::now_v7(),
        workspace_id: workspace.id,
        user_id: account.id.to_string(),
        display_name: account.display_name.clone(),
        email: Some(account.email.clone()),
        role: MemberRole::Owner,
        weekly_capacity_hours: 40.0,
        created_at: workspace.created_at,
        updated_at: workspace.created_at,
        revision: 1,
    };
    let entry = ActivityEntry {
        id: Uuid::now_v7(),
        workspace_id: workspace.id,
        project_id: None,
        actor: account.id.to_string(),
        action: ActivityAction::MemberAdded,
        target_kind: TargetKind::Member,
        target_id: member.id,
        target_name: member.display_name.clone(),
        details: serde_json::json!({}),
        at: workspace.created_at,
    };
    (member, entry)
}

pub async fn account_round_trip_and_unique_email(db: &TestDb) -> anyhow::Result<()> {
    let accounts = &db.stores.accounts;
    let ada = account("ada@example.org", 0);
    accounts.insert_account(&ada).await?;
    assert_eq!(accounts.get_account(ada.id).await?, Some(ada.clone()));
    assert_eq!(accounts.find_account_by_email("ada@example.org").await?, Some(ada.clone()));
    assert_eq!(accounts.find_account_by_email("bob@example.org").await?, None);
    assert_eq!(accounts.get_account(Uuid::now_v7()).await?, None);

    let mut twin = account("ada@example.org", 5);
    twin.password_hash = None;
    let result = accounts.insert_account(&twin).await;
    assert!(matches!(&result, Err(StoreError::Duplicate { path }) if path == "/email"), "{result:?}");
    assert_eq!(accounts.get_account(twin.id).await?, None, "nothing of the refused account is stored");

    // No password is a state of its own, kept as such.
    let mut sso_only = account("sso@example.org", 10);
    sso_only.password_hash = None;
    accounts.insert_account(&sso_only).await?;
    assert_eq!(accounts.get_account(sso_only.id).await?.and_then(|stored| stored.password_hash), None);

    let bad = account("nul\u{0}@example.org", 20);
    let result = accounts.insert_account(&bad).await;
    assert!(matches!(&result, Err(StoreError::InvalidText { path }) if path == "/email"), "{result:?}");
    Ok(())
}

pub async fn account_setters_change_one_field(db: &TestDb) -> anyhow::Result<()> {
    let accounts = &db.stores.accounts;
    let ada = account("ada@example.org", 0);
    let bob = account("bob@example.org", 1);
    accounts.insert_account(&ada).await?;
    accounts.insert_account(&bob).await?;

    accounts.set_account_instance_admin(ada.id, true, at(100)).await?;
    accounts.set_account_disabled(ada.id, true, at(200)).await?;
    accounts.set_account_password_hash(ada.id, Some("$argon2id$new"), at(300)).await?;
    let stored = accounts.get_account(ada.id).await?.unwrap();
    let expected = Account {
        instance_admin: true,
        disabled: true,
        password_hash: Some("$argon2id$new".into()),
        updated_at: at(300),
        ..ada.clone()
    };
    assert_eq!(stored, expected);
    assert_eq!(accounts.get_account(bob.id).await?, Some(bob.clone()), "the other account is untouched");

    accounts.set_account_instance_admin(ada.id, false, at(400)).await?;
    accounts.set_account_disabled(ada.id, false, at(400)).await?;
    accounts.set_account_password_hash(ada.id, None, at(400)).await?;
    let stored = accounts.get_account(ada.id).await?.unwrap();
    assert!(!stored.instance_admin && !stored.disabled && stored.password_hash.is_none(), "{stored:?}");

    let missing = Uuid::now_v7();
    assert!(matches!(accounts.set_account_instance_admin(missing, true, at(0)).await, Err(StoreError::NotFound)));
    assert!(matches!(accounts.set_account_disabled(missing, true, at(0)).await, Err(StoreError::NotFound)));
    assert!(matches!(accounts.set_account_password_hash(missing, None, at(0)).await, Err(StoreError::NotFound)));
    Ok(())
}

pub async fn account_pagination_serves_each_item_once(db: &TestDb) -> anyhow::Result<()> {
    let mut created = Vec::new();
    for index in 0..7 {
        // Two share a creation time, so the id breaks the tie.
        let offset = if index == 3 { 2 } else { index };
        let account = account(&format!("user{index}@example.org"), offset);
        db.stores.accounts.insert_account(&account).await?;
        created.push(account);
    }
    let (listed, pages) = read_all_pages(3, |page| db.stores.accounts.list_accounts(page)).await?;
    assert_eq!(pages, 3);
    created.sort_by_key(|account| std::cmp::Reverse((account.created_at, account.id)));
    assert_eq!(listed, created, "newest first, each once");
    Ok(())
}

pub async fn workspaces_list_rename_and_disable(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.stores.workspaces;
    let mut created = Vec::new();
    for index in 0..5 {
        let workspace = workspace(&format!("Team {index}"), index);
        store.insert_workspace(&workspace).await?;
        created.push(workspace);
    }
    let (listed, pages) = read_all_pages(2, |page| store.list_workspaces(page)).await?;
    assert_eq!(pages, 3);
    let names: Vec<_> = listed.iter().map(|workspace| workspace.name.as_str()).collect();
    assert_eq!(names, ["Team 4", "Team 3", "Team 2", "Team 1", "Team 0"]);

    let target = &created[1];
    store.rename_workspace(target.id, "Renamed — ünïcode").await?;
    store.set_workspace_disabled(target.id, true).await?;
    let stored = store.get_workspace(target.id).await?.unwrap();
    assert_eq!(stored, Workspace { name: "Renamed — ünïcode".into(), disabled: true, ..target.clone() });
    assert_eq!(store.get_workspace(created[2].id).await?, Some(created[2].clone()), "others untouched");
    let listed = store.list_workspaces(PageRequest::first(10)).await?.items;
    assert!(listed.iter().any(|workspace| workspace.id == target.id && workspace.disabled), "disabled ones are listed");

    store.set_workspace_disabled(target.id, false).await?;
    assert!(!store.get_workspace(target.id).await?.unwrap().disabled);

    let missing = Uuid::now_v7();
    assert!(matches!(store.rename_workspace(missing, "x").await, Err(StoreError::NotFound)));
    assert!(matches!(store.set_workspace_disabled(missing, true).await, Err(StoreError::NotFound)));
    let result = store.rename_workspace(target.id, "bad\u{0}name").await;
    assert!(matches!(&result, Err(StoreError::InvalidText { path }) if path == "/name"), "{result:?}");
    Ok(())
}

pub async fn workspace_with_owner_is_all_or_nothing(db: &TestDb) -> anyhow::Result<()> {
    let stores = &db.stores;
    // A new owner: account, workspace, member and entry together.
    let ada = account("ada@example.org", 0);
    let first = workspace("Acme", 0);
    let (owner, entry) = owner_of(&first, &ada);
    stores.workspaces.insert_workspace_with_owner(&first, Some(&ada), &owner, &entry).await?;
    assert_eq!(stores.accounts.get_account(ada.id).await?, Some(ada.clone()));
    assert_eq!(stores.workspaces.get_workspace(first.id).await?, Some(first.clone()));
    let member = stores.members.find_member_by_user(first.id, &ada.id.to_string()).await?;
    assert_eq!(member, Some(owner.clone()));
    let log = stores.activity.list_activity(first.id, &Default::default(), PageRequest::first(10)).await?.items;
    assert_eq!(log, [entry]);

    let counts = stores.workspaces.count_members(&[first.id, Uuid::now_v7()]).await?;
    assert_eq!(counts, [(first.id, 1)].into_iter().collect(), "a workspace that does not exist is absent");
    assert!(stores.workspaces.count_members(&[]).await?.is_empty());

    // The same person owns a second workspace: one account, two member records.
    let second = workspace("Globex", 10);
    let (owner_again, entry) = owner_of(&second, &ada);
    stores.workspaces.insert_workspace_with_owner(&second, None, &owner_again, &entry).await?;
    assert_eq!(stores.members.find_member_by_user(second.id, &ada.id.to_string()).await?, Some(owner_again));
    assert_eq!(stores.accounts.list_accounts(PageRequest::first(10)).await?.items.len(), 1);

    // A taken email fails the whole creation: no workspace, no member, no entry.
    let twin = account("ada@example.org", 20);
    let third = workspace("Initech", 20);
    let (twin_owner, entry) = owner_of(&third, &twin);
    let result = stores.workspaces.insert_workspace_with_owner(&third, Some(&twin), &twin_owner, &entry).await;
    assert!(matches!(&result, Err(StoreError::Duplicate { path }) if path == "/email"), "{result:?}");
    assert_eq!(stores.workspaces.get_workspace(third.id).await?, None);
    assert_eq!(stores.workspaces.count_workspaces().await?, 2);
    assert!(
        stores.activity.list_activity(third.id, &Default::default(), PageRequest::first(10)).await?.items.is_empty()
    );

    // A failure after the account's row (a bad member) leaves no account either.
    let carol = account("carol@example.org", 30);
    let fourth = workspace("Hooli", 30);
    let (mut bad_owner, entry) = owner_of(&fourth, &carol);
    bad_owner.workspace_id = Uuid::now_v7(); // a workspace that does not exist: the foreign key refuses it
    let result = stores.workspaces.insert_workspace_with_owner(&fourth, Some(&carol), &bad_owner, &entry).await;
    assert!(result.is_err(), "{result:?}");
    assert_eq!(stores.accounts.find_account_by_email("carol@example.org").await?, None);
    assert_eq!(stores.workspaces.get_workspace(fourth.id).await?, None);
    Ok(())
}
