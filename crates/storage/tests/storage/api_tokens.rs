//! API tokens: found by digest, listed per owner without revoked ones, revoked
//! once and only by their owner, last use written at most once per interval.

use std::time::Duration;

use agentdeck_domain::api_tokens::{ApiToken, Scope, Scopes, TokenKind};
use agentdeck_domain::page::PageRequest;
use agentdeck_domain::records::{Account, Workspace};
use agentdeck_storage::{StoreError, TokenOwner};
use uuid::Uuid;

use crate::TestDb;
use crate::fixtures::{at, read_all_pages};

/// A workspace and an account in it (as far as tokens care: both exist).
async fn workspace_and_account(db: &TestDb, email: &str) -> anyhow::Result<(Uuid, Uuid)> {
    let workspace = Workspace { id: Uuid::now_v7(), name: "Acme".into(), disabled: false, created_at: at(0) };
    db.stores.workspaces.insert_workspace(&workspace).await?;
    let account = Account {
        id: Uuid::now_v7(),
        email: email.into(),
        display_name: "Ada".into(),
        password_hash: None,
        disabled: false,
        instance_admin: false,
        created_at: at(0),
        updated_at: at(0),
    };
    db.stores.accounts.insert_account(&account).await?;
    Ok((workspace.id, account.id))
}

/// A token record (not stored) created at `T0 + offset_ms`, expiring a day later.
fn token(kind: TokenKind, workspace_id: Uuid, account_id: Option<Uuid>, offset_ms: i64) -> ApiToken {
    ApiToken {
        id: Uuid::now_v7(),
        kind,
        workspace_id,
        account_id,
        name: format!("token at {offset_ms}"),
        scopes: [Scope::Read, Scope::Agents].into_iter().collect(),
        prefix: format!("{}AbC1…", kind.prefix()),
        created_by: account_id.map_or_else(|| "svc-maker".to_owned(), |id| id.to_string()),
        created_at: at(offset_ms),
        expires_at: at(offset_ms + 86_400_000),
        last_used_at: None,
        revoked_at: None,
    }
}

fn digest(seed: &str) -> String {
    format!("{seed:0>64}")
}

pub async fn api_token_round_trip_by_digest(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.stores.api_tokens;
    let (ws, ada) = workspace_and_account(db, "ada@example.org").await?;
    let personal = token(TokenKind::Personal, ws, Some(ada), 0);
    store.insert_api_token(&personal, &digest("a1")).await?;
    assert_eq!(store.find_api_token_by_digest(&digest("a1")).await?, Some(personal.clone()));
    assert_eq!(store.find_api_token_by_digest(&digest("b2")).await?, None);

    let mut service = token(TokenKind::Service, ws, None, 10);
    service.scopes = Scopes::NONE;
    store.insert_api_token(&service, &digest("c3")).await?;
    assert_eq!(store.find_api_token_by_digest(&digest("c3")).await?, Some(service));

    let twin = token(TokenKind::Personal, ws, Some(ada), 20);
    let result = store.insert_api_token(&twin, &digest("a1")).await;
    assert!(matches!(&result, Err(StoreError::Duplicate { path }) if path == "/digest"), "{result:?}");

    let orphan = token(TokenKind::Personal, Uuid::now_v7(), Some(ada), 30);
    let result = store.insert_api_token(&orphan, &digest("d4")).await;
    assert!(matches!(result, Err(StoreError::Conflict)), "an unknown workspace is refused: {result:?}");
    Ok(())
}

pub async fn api_tokens_list_and_count_per_owner(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.stores.api_tokens;
    let (ws, ada) = workspace_and_account(db, "ada@example.org").await?;
    let (other_ws, bob) = workspace_and_account(db, "bob@example.org").await?;
    let mut ada_tokens = Vec::new();
    for index in 0..5 {
        let created = token(TokenKind::Personal, ws, Some(ada), index * 1000);
        store.insert_api_token(&created, &digest(&format!("ada{index}"))).await?;
        ada_tokens.push(created);
    }
    store.insert_api_token(&token(TokenKind::Personal, other_ws, Some(bob), 0), &digest("bob")).await?;
    let service = token(TokenKind::Service, ws, None, 500);
    store.insert_api_token(&service, &digest("svc")).await?;
    store.insert_api_token(&token(TokenKind::Service, other_ws, None, 600), &digest("svc2")).await?;

    let (listed, pages) = read_all_pages(2, |page| store.list_api_tokens(TokenOwner::Account(ada), page)).await?;
    ada_tokens.reverse();
    assert_eq!(listed, ada_tokens, "newest first, each once, only the account's personal tokens");
    assert_eq!(pages, 3);
    let services = store.list_api_tokens(TokenOwner::WorkspaceServices(ws), PageRequest::first(50)).await?;
    assert_eq!(services.items, vec![service.clone()]);

    // Usable: created and not yet expired (the first expires at T0 + 1 day).
    assert_eq!(store.count_usable_api_tokens(TokenOwner::Account(ada), at(0)).await?, 5);
    assert_eq!(store.count_usable_api_tokens(TokenOwner::Account(ada), at(86_400_000 + 1500)).await?, 3);
    assert_eq!(store.count_usable_api_tokens(TokenOwner::WorkspaceServices(ws), at(0)).await?, 1);
    assert_eq!(store.count_usable_api_tokens(TokenOwner::Account(Uuid::now_v7()), at(0)).await?, 0);

    store.revoke_api_token(TokenOwner::WorkspaceServices(ws), service.id, at(700)).await?;
    assert!(store.list_api_tokens(TokenOwner::WorkspaceServices(ws), PageRequest::first(50)).await?.items.is_empty());
    assert_eq!(store.count_usable_api_tokens(TokenOwner::WorkspaceServices(ws), at(0)).await?, 0);
    Ok(())
}

pub async fn api_token_revocation_is_scoped_and_once(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.stores.api_tokens;
    let (ws, ada) = workspace_and_account(db, "ada@example.org").await?;
    let (other_ws, bob) = workspace_and_account(db, "bob@example.org").await?;
    let personal = token(TokenKind::Personal, ws, Some(ada), 0);
    store.insert_api_token(&personal, &digest("p")).await?;
    let service = token(TokenKind::Service, ws, None, 10);
    store.insert_api_token(&service, &digest("s")).await?;

    // Another account, another workspace, or the wrong kind of owner: not found, nothing changed.
    for (owner, id) in [
        (TokenOwner::Account(bob), personal.id),
        (TokenOwner::WorkspaceServices(ws), personal.id),
        (TokenOwner::WorkspaceServices(other_ws), service.id),
        (TokenOwner::Account(ada), service.id),
        (TokenOwner::Account(ada), Uuid::now_v7()),
    ] {
        let result = store.revoke_api_token(owner, id, at(100)).await;
        assert!(matches!(result, Err(StoreError::NotFound)), "{owner:?} {id}: {result:?}");
    }
    assert_eq!(store.find_api_token_by_digest(&digest("p")).await?.and_then(|token| token.revoked_at), None);

    let revoked = store.revoke_api_token(TokenOwner::Account(ada), personal.id, at(100)).await?;
    assert_eq!(revoked.revoked_at, Some(at(100)));
    let found = store.find_api_token_by_digest(&digest("p")).await?.expect("kept after revocation");
    assert_eq!(found.revoked_at, Some(at(100)));
    assert!(!found.usable_at(at(50)));
    let again = store.revoke_api_token(TokenOwner::Account(ada), personal.id, at(200)).await;
    assert!(matches!(again, Err(StoreError::NotFound)), "a token is revoked once: {again:?}");
    Ok(())
}

pub async fn api_token_last_use_is_throttled(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.stores.api_tokens;
    let (ws, ada) = workspace_and_account(db, "ada@example.org").await?;
    let personal = token(TokenKind::Personal, ws, Some(ada), 0);
    store.insert_api_token(&personal, &digest("p")).await?;
    let minute = Duration::from_secs(60);
    let last_used = || async {
        Ok::<_, anyhow::Error>(store.find_api_token_by_digest(&digest("p")).await?.and_then(|t| t.last_used_at))
    };

    assert!(store.touch_api_token(personal.id, at(1000), minute).await?, "the first use is written");
    assert_eq!(last_used().await?, Some(at(1000)));
    assert!(!store.touch_api_token(personal.id, at(30_000), minute).await?, "30 s later: not written");
    assert_eq!(last_used().await?, Some(at(1000)));
    assert!(store.touch_api_token(personal.id, at(61_000), minute).await?, "a minute later: written");
    assert_eq!(last_used().await?, Some(at(61_000)));
    assert!(!store.touch_api_token(Uuid::now_v7(), at(200_000), minute).await?, "unknown ids write nothing");
    Ok(())
}
