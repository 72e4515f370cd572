//! Single sign-on: identities unique by (issuer, subject), unlinking that never
//! removes an account's last way in, and pending logins taken once.

use std::sync::Arc;

use agentdeck_domain::records::{Account, Identity, PendingOidcLogin};
use agentdeck_storage::{IdentityDeletion, MAX_IDENTITIES_PER_ACCOUNT, StoreError};
use chrono::Duration;
use uuid::Uuid;

use crate::TestDb;
use crate::fixtures::at;

/// Stores an account, with a password hash or without.
async fn account(db: &TestDb, email: &str, password: bool) -> anyhow::Result<Account> {
    let account = Account {
        id: Uuid::now_v7(),
        email: email.into(),
        display_name: email.into(),
        password_hash: password.then(|| "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned()),
        disabled: false,
        instance_admin: false,
        created_at: at(0),
        updated_at: at(0),
    };
    db.stores.accounts.insert_account(&account).await?;
    Ok(account)
}

fn identity(account_id: Uuid, issuer: &str, subject: &str, offset_ms: i64) -> Identity {
    Identity {
        id: Uuid::now_v7(),
        account_id,
        provider: "corp".into(),
        issuer: issuer.into(),
        subject: subject.into(),
        email: Some("ada@example.org".into()),
        created_at: at(offset_ms),
        last_used_at: None,
    }
}

fn login(state_digest: &str, offset_ms: i64) -> PendingOidcLogin {
    PendingOidcLogin {
        state_digest: state_digest.into(),
        provider: "corp".into(),
        pkce_verifier: "verifier-verifier-verifier-verifier-verifier".into(),
        nonce: "nonce".into(),
        link_account_id: None,
        return_path: "/".into(),
        created_at: at(offset_ms),
        expires_at: at(offset_ms) + Duration::minutes(10),
    }
}

pub async fn identity_round_trip_unique_by_issuer_and_subject(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.stores.identities;
    let ada = account(db, "ada@example.org", true).await?;
    let bob = account(db, "bob@example.org", true).await?;
    let first = identity(ada.id, "https://id.example.org", "248289761001", 0);
    store.insert_identity(&first).await?;
    assert_eq!(store.find_identity("https://id.example.org", "248289761001").await?, Some(first.clone()));
    assert_eq!(store.find_identity("https://id.example.org/", "248289761001").await?, None, "compared exactly");
    assert_eq!(store.find_identity("https://other.example.org", "248289761001").await?, None, "scoped by issuer");

    // The same subject at another issuer is another person.
    let second = identity(ada.id, "https://other.example.org", "248289761001", 5);
    store.insert_identity(&second).await?;
    // One (issuer, subject) belongs to one account.
    let stolen = identity(bob.id, "https://id.example.org", "248289761001", 10);
    let result = store.insert_identity(&stolen).await;
    assert!(matches!(&result, Err(StoreError::Duplicate { path }) if path == "/subject"), "{result:?}");
    assert_eq!(store.list_identities(ada.id).await?, vec![first.clone(), second], "oldest first");
    assert_eq!(store.list_identities(bob.id).await?, vec![]);

    store.mark_identity_used(first.id, at(1000)).await?;
    let used = store.find_identity(&first.issuer, &first.subject).await?.unwrap();
    assert_eq!(used.last_used_at, Some(at(1000)));
    assert!(matches!(store.mark_identity_used(Uuid::now_v7(), at(0)).await, Err(StoreError::NotFound)));

    let orphan = identity(Uuid::now_v7(), "https://id.example.org", "nobody", 0);
    assert!(matches!(store.insert_identity(&orphan).await, Err(StoreError::Conflict)), "no such account");
    let nul = identity(ada.id, "https://id.example.org", "a\u{0}b", 0);
    let result = store.insert_identity(&nul).await;
    assert!(matches!(&result, Err(StoreError::InvalidText { path }) if path == "/subject"), "{result:?}");
    Ok(())
}

pub async fn identities_per_account_are_capped(db: &TestDb) -> anyhow::Result<()> {
    let ada = account(db, "ada@example.org", true).await?;
    for index in 0..MAX_IDENTITIES_PER_ACCOUNT {
        db.stores
            .identities
            .insert_identity(&identity(ada.id, "https://id.example.org", &format!("s{index}"), 0))
            .await?;
    }
    let result = db.stores.identities.insert_identity(&identity(ada.id, "https://id.example.org", "one-more", 0)).await;
    assert!(matches!(&result, Err(StoreError::Duplicate { path }) if path == "/accountId"), "{result:?}");
    assert_eq!(db.stores.identities.list_identities(ada.id).await?.len(), MAX_IDENTITIES_PER_ACCOUNT);
    Ok(())
}

pub async fn unlinking_keeps_the_last_way_in(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.stores.identities;
    let with_password = account(db, "ada@example.org", true).await?;
    let without = account(db, "sso@example.org", false).await?;
    let only = identity(with_password.id, "https://id.example.org", "ada", 0);
    store.insert_identity(&only).await?;
    // Another account's identity id is not found, exactly like a missing one.
    assert!(matches!(store.delete_identity(without.id, only.id).await, Err(StoreError::NotFound)));
    assert_eq!(
        store.delete_identity(with_password.id, only.id).await?,
        IdentityDeletion::Deleted,
        "the password stays"
    );
    assert!(matches!(store.delete_identity(with_password.id, only.id).await, Err(StoreError::NotFound)));

    let first = identity(without.id, "https://id.example.org", "sso-1", 0);
    let second = identity(without.id, "https://other.example.org", "sso-1", 1);
    store.insert_identity(&first).await?;
    store.insert_identity(&second).await?;
    assert_eq!(store.delete_identity(without.id, first.id).await?, IdentityDeletion::Deleted);
    assert_eq!(store.delete_identity(without.id, second.id).await?, IdentityDeletion::LastWayIn);
    assert_eq!(store.list_identities(without.id).await?, vec![second]);
    Ok(())
}

pub async fn concurrent_unlinks_cannot_remove_the_last_way_in(db: &TestDb) -> anyhow::Result<()> {
    let without = account(db, "sso@example.org", false).await?;
    let first = identity(without.id, "https://id.example.org", "sso-1", 0);
    let second = identity(without.id, "https://other.example.org", "sso-1", 1);
    db.stores.identities.insert_identity(&first).await?;
    db.stores.identities.insert_identity(&second).await?;
    let store = Arc::clone(&db.stores.identities);
    let other = Arc::clone(&db.stores.identities);
    let (a, b) =
        tokio::join!(store.delete_identity(without.id, first.id), other.delete_identity(without.id, second.id));
    let mut outcomes = vec![a?, b?];
    outcomes.sort_by_key(|outcome| *outcome == IdentityDeletion::Deleted);
    assert_eq!(outcomes, vec![IdentityDeletion::LastWayIn, IdentityDeletion::Deleted]);
    assert_eq!(db.stores.identities.list_identities(without.id).await?.len(), 1);
    Ok(())
}

pub async fn pending_logins_are_taken_once_and_expire(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.stores.identities;
    let mut linking = login("digest-a", 0);
    let ada = account(db, "ada@example.org", true).await?;
    linking.link_account_id = Some(ada.id);
    linking.return_path = "/#members".into();
    store.insert_oidc_login(&linking).await?;
    let result = store.insert_oidc_login(&linking).await;
    assert!(matches!(&result, Err(StoreError::Duplicate { path }) if path == "/state"), "{result:?}");
    assert_eq!(store.take_oidc_login("digest-a", at(1000)).await?, Some(linking.clone()));
    assert_eq!(store.take_oidc_login("digest-a", at(1000)).await?, None, "a state is consumed once");
    assert_eq!(store.take_oidc_login("never-issued", at(1000)).await?, None);

    // Expired: read as nothing, and gone.
    store.insert_oidc_login(&login("digest-b", 0)).await?;
    assert_eq!(store.take_oidc_login("digest-b", at(10 * 60 * 1000)).await?, None);
    store.insert_oidc_login(&login("digest-b", 0)).await?;

    // Starting a login purges the abandoned ones.
    store.insert_oidc_login(&login("digest-c", 0)).await?;
    store.insert_oidc_login(&login("digest-d", 11 * 60 * 1000)).await?;
    assert_eq!(store.take_oidc_login("digest-c", at(0)).await?, None, "purged by the later insert");
    assert!(store.take_oidc_login("digest-d", at(11 * 60 * 1000)).await?.is_some());

    // Two callbacks racing for one state: one wins.
    store.insert_oidc_login(&login("digest-e", 0)).await?;
    let other = Arc::clone(&db.stores.identities);
    let (a, b) = tokio::join!(store.take_oidc_login("digest-e", at(1)), other.take_oidc_login("digest-e", at(1)));
    assert_eq!(usize::from(a?.is_some()) + usize::from(b?.is_some()), 1);
    Ok(())
}
