//! Invitations: found by digest, listed while pending, revoked and renewed, and
//! accepted exactly once — together with the account, the member record and
//! its activity entry, or not at all.

use std::sync::Arc;

use agentdeck_domain::page::PageRequest;
use agentdeck_domain::records::{Account, ActivityAction, ActivityEntry, Invitation, Member, MemberRole, TargetKind};
use agentdeck_storage::StoreError;
use uuid::Uuid;

use crate::TestDb;
use crate::fixtures::{Fx, at, read_all_pages};

/// A pending invitation of the fixture's workspace, created at `T0 + offset_ms`, valid for an hour.
fn invitation(fx: &Fx, email: &str, digest: &str, offset_ms: i64) -> Invitation {
    Invitation {
        id: Uuid::now_v7(),
        workspace_id: fx.ws,
        email: email.into(),
        role: MemberRole::Member,
        token_digest: digest.into(),
        invited_by: "owner-account".into(),
        created_at: at(offset_ms),
        expires_at: at(offset_ms + 3_600_000),
        accepted_at: None,
        accepted_by: None,
        revoked_at: None,
    }
}

fn account(email: &str) -> Account {
    Account {
        id: Uuid::now_v7(),
        email: email.into(),
        display_name: format!("Person {email}"),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into()),
        disabled: false,
        instance_admin: false,
        created_at: at(0),
        updated_at: at(0),
    }
}

/// The member record an accepted invitation adds for `account`, and its entry.
fn joining(invitation: &Invitation, account: &Account) -> (Member, ActivityEntry) {
    let member = Member {
        id: Uuid::now_v7(),
        workspace_id: invitation.workspace_id,
        user_id: account.id.to_string(),
        display_name: account.display_name.clone(),
        email: Some(account.email.clone()),
        role: invitation.role,
        weekly_capacity_hours: 40.0,
        created_at: at(1000),
        updated_at: at(1000),
        revision: 1,
    };
    let entry = ActivityEntry {
        id: Uuid::now_v7(),
        workspace_id: invitation.workspace_id,
        project_id: None,
        actor: account.id.to_string(),
        action: ActivityAction::MemberAdded,
        target_kind: TargetKind::Member,
        target_id: member.id,
        target_name: member.display_name.clone(),
        details: serde_json::json!({"invitation": invitation.id}),
        at: at(1000),
    };
    (member, entry)
}

pub async fn invitation_round_trip_and_pending_list(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let store = &db.stores.invitations;
    let ada = invitation(&fx, "ada@example.org", "digest-ada", 0);
    store.insert_invitation(&ada).await?;
    assert_eq!(store.get_invitation(fx.ws, ada.id).await?, Some(ada.clone()));
    assert_eq!(store.find_invitation_by_digest("digest-ada").await?, Some(ada.clone()));
    assert_eq!(store.find_invitation_by_digest("digest-nobody").await?, None);
    assert_eq!(store.find_pending_invitation(fx.ws, "ada@example.org", at(10)).await?, Some(ada.clone()));
    assert_eq!(store.find_pending_invitation(fx.ws, "bob@example.org", at(10)).await?, None);

    // Another workspace sees none of it.
    let other = Fx::new(db).await?;
    assert_eq!(store.get_invitation(other.ws, ada.id).await?, None);
    assert_eq!(store.find_pending_invitation(other.ws, "ada@example.org", at(10)).await?, None);
    assert!(store.list_pending_invitations(other.ws, at(10), PageRequest::first(10)).await?.items.is_empty());
    assert!(matches!(store.revoke_invitation(other.ws, ada.id, at(10)).await, Err(StoreError::NotFound)));

    // One digest, one invitation.
    let twin = invitation(&fx, "twin@example.org", "digest-ada", 5);
    let result = store.insert_invitation(&twin).await;
    assert!(matches!(&result, Err(StoreError::Duplicate { path }) if path == "/token"), "{result:?}");

    // Pending: neither expired, revoked nor accepted.
    let mut expected = vec![ada.clone()];
    for index in 1..6 {
        let pending = invitation(&fx, &format!("p{index}@example.org"), &format!("digest-{index}"), index);
        store.insert_invitation(&pending).await?;
        expected.push(pending);
    }
    let mut expired = invitation(&fx, "late@example.org", "digest-late", 10);
    expired.expires_at = at(20);
    store.insert_invitation(&expired).await?;
    let revoked = invitation(&fx, "gone@example.org", "digest-gone", 11);
    store.insert_invitation(&revoked).await?;
    store.revoke_invitation(fx.ws, revoked.id, at(12)).await?;
    let now = at(100);
    let (listed, pages) =
        read_all_pages(4, |page| db.stores.invitations.list_pending_invitations(fx.ws, now, page)).await?;
    assert_eq!(pages, 2);
    expected.sort_by_key(|invitation| std::cmp::Reverse((invitation.created_at, invitation.id)));
    assert_eq!(listed, expected, "newest first, expired and revoked left out");
    assert_eq!(store.find_pending_invitation(fx.ws, "late@example.org", now).await?, None);
    assert!(store.find_invitation_by_digest("digest-late").await?.is_some(), "found in any state");

    let bad = invitation(&fx, "nul\u{0}@example.org", "digest-nul", 50);
    let result = store.insert_invitation(&bad).await;
    assert!(matches!(&result, Err(StoreError::InvalidText { path }) if path == "/email"), "{result:?}");
    Ok(())
}

pub async fn invitation_revoke_and_renew(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let store = &db.stores.invitations;
    let first = invitation(&fx, "ada@example.org", "digest-1", 0);
    store.insert_invitation(&first).await?;

    // A resend: a new digest and expiry; the old digest finds nothing any more.
    store.renew_invitation(fx.ws, first.id, "digest-2", at(7_200_000)).await?;
    assert_eq!(store.find_invitation_by_digest("digest-1").await?, None);
    let renewed = store.find_invitation_by_digest("digest-2").await?.unwrap();
    assert_eq!(renewed, Invitation { token_digest: "digest-2".into(), expires_at: at(7_200_000), ..first.clone() });

    // An expired invitation may be renewed: it is pending again.
    let mut expired = invitation(&fx, "bob@example.org", "digest-3", 10);
    expired.expires_at = at(20);
    store.insert_invitation(&expired).await?;
    assert_eq!(store.find_pending_invitation(fx.ws, "bob@example.org", at(100)).await?, None);
    store.renew_invitation(fx.ws, expired.id, "digest-4", at(3_600_000)).await?;
    assert!(store.find_pending_invitation(fx.ws, "bob@example.org", at(100)).await?.is_some());

    store.revoke_invitation(fx.ws, first.id, at(50)).await?;
    assert_eq!(store.get_invitation(fx.ws, first.id).await?.and_then(|stored| stored.revoked_at), Some(at(50)));
    assert!(matches!(store.revoke_invitation(fx.ws, first.id, at(60)).await, Err(StoreError::NotFound)), "once");
    let result = store.renew_invitation(fx.ws, first.id, "digest-5", at(9_000_000)).await;
    assert!(matches!(result, Err(StoreError::NotFound)), "a revoked invitation is not renewed: {result:?}");
    assert!(matches!(store.revoke_invitation(fx.ws, Uuid::now_v7(), at(60)).await, Err(StoreError::NotFound)));
    // A digest already in use is refused.
    let result = store.renew_invitation(fx.ws, expired.id, "digest-2", at(9_000_000)).await;
    assert!(matches!(&result, Err(StoreError::Duplicate { path }) if path == "/token"), "{result:?}");
    Ok(())
}

pub async fn invitation_accept_is_all_or_nothing_and_once(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let stores = &db.stores;
    let mut pending = invitation(&fx, "ada@example.org", "digest-ada", 0);
    pending.role = MemberRole::Admin;
    stores.invitations.insert_invitation(&pending).await?;
    let ada = account("ada@example.org");
    let (member, entry) = joining(&pending, &ada);

    // A wrong workspace or an expired `now` changes nothing.
    let mut elsewhere = member.clone();
    elsewhere.workspace_id = Fx::new(db).await?.ws;
    let result =
        stores.invitations.accept_invitation("digest-ada", at(10), ada.id, Some(&ada), &elsewhere, &entry).await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    let result =
        stores.invitations.accept_invitation("digest-ada", at(3_600_000), ada.id, Some(&ada), &member, &entry).await;
    assert!(matches!(result, Err(StoreError::NotFound)), "expired: {result:?}");
    assert_eq!(stores.accounts.get_account(ada.id).await?, None, "nothing written");

    let accepted =
        stores.invitations.accept_invitation("digest-ada", at(10), ada.id, Some(&ada), &member, &entry).await?;
    assert_eq!(accepted, Invitation { accepted_at: Some(at(10)), accepted_by: Some(ada.id), ..pending.clone() });
    assert_eq!(stores.accounts.get_account(ada.id).await?, Some(ada.clone()));
    assert_eq!(stores.members.find_member_by_user(fx.ws, &ada.id.to_string()).await?, Some(member.clone()));
    assert_eq!(fx.all_activity().await?, std::slice::from_ref(&entry));

    // Used: a second accept, a revoke and a renew all find nothing; it is no longer listed.
    let bob = account("bob@example.org");
    let (bob_member, bob_entry) = joining(&pending, &bob);
    let result =
        stores.invitations.accept_invitation("digest-ada", at(20), bob.id, Some(&bob), &bob_member, &bob_entry).await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    assert!(matches!(stores.invitations.revoke_invitation(fx.ws, pending.id, at(20)).await, Err(StoreError::NotFound)));
    let result = stores.invitations.renew_invitation(fx.ws, pending.id, "digest-new", at(9_000_000)).await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    assert!(stores.invitations.list_pending_invitations(fx.ws, at(20), PageRequest::first(10)).await?.items.is_empty());

    // Membership by email: through the account, or a member record's own email.
    assert!(stores.invitations.is_member_email(fx.ws, "ada@example.org").await?);
    assert!(!stores.invitations.is_member_email(fx.ws, "bob@example.org").await?);
    let mut listed = fx.member("carol");
    listed.email = Some("Carol@Example.org".into());
    stores.members.insert_member(&listed, &fx.entry(ActivityAction::MemberAdded, listed.id, None)).await?;
    assert!(stores.invitations.is_member_email(fx.ws, "carol@example.org").await?);
    assert!(!stores.invitations.is_member_email(Fx::new(db).await?.ws, "ada@example.org").await?, "scoped");

    // A person already a member: nothing is written and the invitation stays pending.
    let again = invitation(&fx, "ada@example.org", "digest-again", 30);
    stores.invitations.insert_invitation(&again).await?;
    let (twin_member, twin_entry) = joining(&again, &ada);
    let result =
        stores.invitations.accept_invitation("digest-again", at(40), ada.id, None, &twin_member, &twin_entry).await;
    assert!(matches!(&result, Err(StoreError::Duplicate { path }) if path == "/userId"), "{result:?}");
    assert!(stores.invitations.find_invitation_by_digest("digest-again").await?.unwrap().is_pending(at(40)));
    assert_eq!(fx.all_activity().await?.len(), 2, "the joining entry and carol's");

    // A taken email of a new account: the same.
    let twin = account("ada@example.org");
    let (twin_member, twin_entry) = joining(&again, &twin);
    let result = stores
        .invitations
        .accept_invitation("digest-again", at(40), twin.id, Some(&twin), &twin_member, &twin_entry)
        .await;
    assert!(matches!(&result, Err(StoreError::Duplicate { path }) if path == "/email"), "{result:?}");
    assert!(stores.invitations.find_invitation_by_digest("digest-again").await?.unwrap().is_pending(at(40)));
    assert_eq!(stores.members.find_member_by_user(fx.ws, &twin.id.to_string()).await?, None);
    Ok(())
}

pub async fn concurrent_accepts_use_a_token_once(db: &TestDb) -> anyhow::Result<()> {
    let fx = Fx::new(db).await?;
    let pending = invitation(&fx, "ada@example.org", "digest-race", 0);
    db.stores.invitations.insert_invitation(&pending).await?;
    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let mut attempts = Vec::new();
    for index in 0..8 {
        let (stores, barrier, pending) = (db.stores.clone(), barrier.clone(), pending.clone());
        attempts.push(tokio::spawn(async move {
            // Eight different people, so only the invitation itself can make them collide.
            let person = account(&format!("racer{index}@example.org"));
            let (member, entry) = joining(&pending, &person);
            barrier.wait().await;
            stores.invitations.accept_invitation("digest-race", at(10), person.id, Some(&person), &member, &entry).await
        }));
    }
    let mut won = 0;
    for attempt in attempts {
        match attempt.await? {
            Ok(_) => won += 1,
            Err(StoreError::NotFound) => {}
            Err(other) => anyhow::bail!("unexpected failure: {other:?}"),
        }
    }
    assert_eq!(won, 1, "exactly one accept wins");
    let members = db.stores.members.list_members(fx.ws, PageRequest::first(20)).await?.items;
    assert_eq!(members.len(), 1, "one member record: {members:?}");
    assert_eq!(db.stores.accounts.list_accounts(PageRequest::first(20)).await?.items.len(), 1, "one account");
    Ok(())
}
