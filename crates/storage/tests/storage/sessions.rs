//! Sessions (found by digest with the account's flag and role, rotation,
//! touch, deletes, purge), memberships, and the auth log (pages and the
//! lockout's count).

use agentdeck_domain::records::{
    Account, ActivityAction, ActivityEntry, AuthEvent, AuthEventKind, Member, MemberRole, Session, TargetKind,
    Workspace,
};
use agentdeck_storage::StoreError;
use uuid::Uuid;

use crate::TestDb;
use crate::fixtures::{at, read_all_pages};

fn account(email: &str) -> Account {
    Account {
        id: Uuid::now_v7(),
        email: email.into(),
        display_name: email.into(),
        password_hash: None,
        disabled: false,
        instance_admin: false,
        created_at: at(0),
        updated_at: at(0),
    }
}

/// Creates a workspace with `account` as a member of `role` (joined at `offset_ms`).
async fn workspace_with(
    db: &TestDb,
    name: &str,
    account: &Account,
    role: MemberRole,
    offset_ms: i64,
) -> anyhow::Result<Workspace> {
    let workspace = Workspace { id: Uuid::now_v7(), name: name.into(), disabled: false, created_at: at(offset_ms) };
    db.stores.workspaces.insert_workspace(&workspace).await?;
    let member = Member {
        id: Uuid::now_v7(),
        workspace_id: workspace.id,
        user_id: account.id.to_string(),
        display_name: account.display_name.clone(),
        email: Some(account.email.clone()),
        role,
        weekly_capacity_hours: 40.0,
        created_at: at(offset_ms),
        updated_at: at(offset_ms),
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
        at: at(offset_ms),
    };
    db.stores.members.insert_member(&member, &entry).await?;
    Ok(workspace)
}

fn session(account: &Account, workspace: &Workspace, digest: &str, offset_ms: i64) -> Session {
    Session {
        id: Uuid::now_v7(),
        digest: digest.into(),
        account_id: account.id,
        workspace_id: workspace.id,
        created_at: at(offset_ms),
        last_seen_at: at(offset_ms),
        expires_at: at(offset_ms + 3_600_000),
    }
}

pub async fn session_lookup_carries_flag_and_role_and_rotation_replaces(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.stores.sessions;
    let ada = account("ada@example.org");
    db.stores.accounts.insert_account(&ada).await?;
    let acme = workspace_with(db, "Acme", &ada, MemberRole::Admin, 0).await?;
    let first = session(&ada, &acme, "digest-1", 0);
    store.insert_session(&first, None).await?;
    let found = store.find_session("digest-1").await?.unwrap();
    assert_eq!(found.session, first);
    assert!(!found.account_disabled);
    assert_eq!(found.role, Some(MemberRole::Admin));
    assert_eq!(store.find_session("digest-unknown").await?, None);

    // Rotation: the new session and the end of the old one are one write.
    let second = session(&ada, &acme, "digest-2", 10);
    store.insert_session(&second, Some("digest-1")).await?;
    assert_eq!(store.find_session("digest-1").await?, None, "the replaced session is gone");
    assert_eq!(store.find_session("digest-2").await?.map(|found| found.session), Some(second.clone()));

    // A digest is unique; the refused session replaces nothing.
    store.insert_session(&session(&ada, &acme, "digest-x", 15), None).await?;
    let twin = session(&ada, &acme, "digest-2", 20);
    let result = store.insert_session(&twin, Some("digest-x")).await;
    assert!(matches!(&result, Err(StoreError::Duplicate { path }) if path == "/digest"), "{result:?}");
    assert!(store.find_session("digest-x").await?.is_some(), "the failed rotation rolled back its delete");

    // The account's flag is read with the session, at every lookup.
    db.stores.accounts.set_account_disabled(ada.id, true, at(30)).await?;
    assert!(store.find_session("digest-2").await?.unwrap().account_disabled);

    // A session in a workspace the account is not (or no longer) a member of has no role.
    let other = Workspace { id: Uuid::now_v7(), name: "Other".into(), disabled: false, created_at: at(0) };
    db.stores.workspaces.insert_workspace(&other).await?;
    store.insert_session(&session(&ada, &other, "digest-3", 40), None).await?;
    assert_eq!(store.find_session("digest-3").await?.unwrap().role, None);

    let bad = session(&ada, &acme, "nul\u{0}", 50);
    let result = store.insert_session(&bad, None).await;
    assert!(matches!(&result, Err(StoreError::InvalidText { path }) if path == "/digest"), "{result:?}");
    Ok(())
}

pub async fn session_touch_delete_and_purge(db: &TestDb) -> anyhow::Result<()> {
    let store = &db.stores.sessions;
    let ada = account("ada@example.org");
    let bob = account("bob@example.org");
    db.stores.accounts.insert_account(&ada).await?;
    db.stores.accounts.insert_account(&bob).await?;
    let acme = workspace_with(db, "Acme", &ada, MemberRole::Owner, 0).await?;
    let one = session(&ada, &acme, "a-1", 0);
    let two = session(&ada, &acme, "a-2", 0);
    let bobs = session(&bob, &acme, "b-1", 0);
    for session in [&one, &two, &bobs] {
        store.insert_session(session, None).await?;
    }

    // Touch writes only when the last write is older than `not_before`.
    assert!(store.touch_session(one.id, at(90_000), at(30_000)).await?);
    assert!(!store.touch_session(one.id, at(100_000), at(30_000)).await?, "seen at 90 s, not before 30 s");
    assert_eq!(store.find_session("a-1").await?.unwrap().session.last_seen_at, at(90_000));
    assert!(!store.touch_session(Uuid::now_v7(), at(0), at(0)).await?);

    assert!(store.delete_session(two.id).await?);
    assert!(!store.delete_session(two.id).await?, "already gone");
    store.insert_session(&two, None).await?;
    assert_eq!(store.delete_account_sessions(ada.id).await?, 2);
    assert!(store.find_session("a-1").await?.is_none() && store.find_session("a-2").await?.is_none());
    assert!(store.find_session("b-1").await?.is_some(), "another account's session stays");

    // Purge: past the absolute timeout, or idle since before the cutoff.
    let fresh = session(&ada, &acme, "fresh", 5_000_000);
    let idle = session(&ada, &acme, "idle", 1_000);
    let mut expired = session(&ada, &acme, "expired", 5_000_000);
    expired.expires_at = at(5_500_000);
    for session in [&fresh, &idle, &expired] {
        store.insert_session(session, None).await?;
    }
    // bob's session (seen at 0) is idle too.
    assert_eq!(store.purge_sessions(at(5_600_000), at(2_000_000)).await?, 3);
    assert!(store.find_session("fresh").await?.is_some());
    for gone in ["idle", "expired", "b-1"] {
        assert!(store.find_session(gone).await?.is_none(), "{gone}");
    }
    Ok(())
}

pub async fn memberships_list_every_workspace_newest_first(db: &TestDb) -> anyhow::Result<()> {
    let ada = account("ada@example.org");
    let bob = account("bob@example.org");
    db.stores.accounts.insert_account(&ada).await?;
    db.stores.accounts.insert_account(&bob).await?;
    let acme = workspace_with(db, "Acme", &ada, MemberRole::Owner, 0).await?;
    let globex = workspace_with(db, "Globex", &ada, MemberRole::Member, 10).await?;
    workspace_with(db, "Initech", &bob, MemberRole::Owner, 20).await?;
    db.stores.workspaces.set_workspace_disabled(acme.id, true).await?;

    let memberships = db.stores.sessions.list_memberships(ada.id).await?;
    let seen: Vec<_> = memberships
        .iter()
        .map(|membership| (membership.workspace_name.as_str(), membership.role, membership.workspace_disabled))
        .collect();
    assert_eq!(seen, [("Globex", MemberRole::Member, false), ("Acme", MemberRole::Owner, true)]);
    assert_eq!(memberships[0].workspace_id, globex.id);
    assert_eq!(memberships[0].joined_at, at(10));
    assert!(db.stores.sessions.list_memberships(Uuid::now_v7()).await?.is_empty());
    Ok(())
}

fn event(kind: AuthEventKind, email: &str, offset_ms: i64) -> AuthEvent {
    AuthEvent {
        email: Some(email.into()),
        client_address: Some("192.0.2.7".into()),
        user_agent: Some("Mozilla/5.0 (test)".into()),
        detail: Some("wrong_password".into()),
        ..AuthEvent::new(kind, at(offset_ms))
    }
}

pub async fn auth_log_round_trip_pages_and_counts_failures(db: &TestDb) -> anyhow::Result<()> {
    let log = &db.stores.auth_log;
    let mut written = Vec::new();
    for (index, kind) in AuthEventKind::ALL.into_iter().enumerate() {
        let mut entry = event(kind, "ada@example.org", 1_000_000 + index as i64);
        entry.account_id = Some(Uuid::now_v7());
        entry.workspace_id = (index % 2 == 0).then(Uuid::now_v7);
        log.append_auth_event(&entry).await?;
        written.push(entry);
    }
    let (listed, pages) = read_all_pages(5, |page| log.list_auth_events(page)).await?;
    assert_eq!(pages, 3);
    written.reverse();
    assert_eq!(listed, written, "newest first, each once, every field kept");

    // The lockout's count: failures of one email inside the window, after its last success.
    let log_of = |kind, email: &str, offset| event(kind, email, offset);
    for entry in [
        log_of(AuthEventKind::SignInFailed, "bob@example.org", 100),
        log_of(AuthEventKind::SignInFailed, "bob@example.org", 200),
        log_of(AuthEventKind::SignIn, "bob@example.org", 300),
        log_of(AuthEventKind::SignInFailed, "bob@example.org", 400),
        log_of(AuthEventKind::SignInFailed, "bob@example.org", 500),
        log_of(AuthEventKind::SignInFailed, "bob@example.org", 600),
        log_of(AuthEventKind::SignInFailed, "carol@example.org", 550),
        log_of(AuthEventKind::Locked, "bob@example.org", 600),
    ] {
        log.append_auth_event(&entry).await?;
    }
    let failures = log.recent_sign_in_failures("bob@example.org", at(0), 10).await?;
    assert_eq!(failures, [at(600), at(500), at(400)], "the success at 300 started the count over");
    assert_eq!(log.recent_sign_in_failures("bob@example.org", at(450), 10).await?, [at(600), at(500)]);
    assert_eq!(log.recent_sign_in_failures("bob@example.org", at(0), 2).await?, [at(600), at(500)]);
    assert!(log.recent_sign_in_failures("nobody@example.org", at(0), 10).await?.is_empty());

    let mut bad = event(AuthEventKind::SignInFailed, "x@example.org", 0);
    bad.user_agent = Some("evil\u{0}agent".into());
    let result = log.append_auth_event(&bad).await;
    assert!(matches!(&result, Err(StoreError::InvalidText { path }) if path == "/userAgent"), "{result:?}");
    Ok(())
}
