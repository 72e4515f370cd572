//! The dashboard state store: versions, idempotency, history, epochs, expiry.
//!
//! Each `pub async fn(&StateDb)` runs on both backends (see `state_backend_tests!`
//! in `main.rs`); the plain `#[tokio::test]`s at the end check what only one
//! backend has.

use std::sync::Arc;
use std::time::Duration;

use agentdeck_storage::{
    CommitOutcome, CommitRequest, RoomKey, StateClock, StateError, StateOptions, StateStore, StoredState,
};
use anyhow::{Context, bail};
use serde_json::json;

use crate::harness::StateDb;

/// A commit of `document` with a one-op patch writing `path`.
fn change(expected: Option<(&str, u64)>, op_key: Option<&str>, document: &[u8], path: &str) -> CommitRequest {
    CommitRequest {
        expected: expected.map(|(epoch, version)| (epoch.to_owned(), version)),
        op_key: op_key.map(str::to_owned),
        document: document.to_vec(),
        ops: json!([{ "op": "add", "path": path, "value": String::from_utf8_lossy(document) }]),
        written_paths: vec![path.to_owned()],
        new_epoch: None,
    }
}

/// The first commit of a room, starting `epoch`.
fn first(epoch: &str, document: &[u8]) -> CommitRequest {
    CommitRequest { new_epoch: Some(epoch.to_owned()), ..change(None, None, document, "/widgets") }
}

/// Asserts a commit was applied at `version` and returns its epoch.
async fn committed(
    store: &Arc<dyn StateStore>,
    room: &RoomKey,
    request: CommitRequest,
    version: u64,
) -> anyhow::Result<String> {
    match store.commit(room, request).await? {
        CommitOutcome::Committed { epoch, version: got } if got == version => Ok(epoch),
        other => bail!("expected a commit at v{version}, got {other:?}"),
    }
}

/// Commits `count` changes after the first one (v2..=v{count+1}), with op keys `c:<v>`.
async fn commit_run(store: &Arc<dyn StateStore>, room: &RoomKey, epoch: &str, count: u64) -> anyhow::Result<()> {
    committed(store, room, first(epoch, b"v1"), 1).await?;
    for version in 2..=count + 1 {
        let document = format!("v{version}");
        let path = format!("/widgets/w{version}");
        let key = format!("c:{version}");
        committed(store, room, change(Some((epoch, version - 1)), Some(&key), document.as_bytes(), &path), version)
            .await?;
    }
    Ok(())
}

/// Loads a room that must exist.
async fn loaded(store: &Arc<dyn StateStore>, room: &RoomKey) -> anyhow::Result<StoredState> {
    store.load(room).await?.context("room should exist")
}

pub async fn ping_and_backend(db: &StateDb) -> anyhow::Result<()> {
    let store = db.store().await?;
    store.ping().await?;
    assert_eq!(store.backend(), if db.is_redis() { "redis" } else { "sqlite" });
    assert_eq!(store.purge_expired().await?, 0);
    Ok(())
}

pub async fn first_commit_then_next(db: &StateDb) -> anyhow::Result<()> {
    let (store, room) = (db.store().await?, db.room());
    assert_eq!(store.load(&room).await?, None);
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    let epoch = committed(&store, &room, first("e1", b"one"), 1).await?;
    assert_eq!(epoch, "e1");
    let state = loaded(&store, &room).await?;
    assert_eq!((state.epoch.as_str(), state.version, state.document.as_slice()), ("e1", 1, &b"one"[..]));
    assert!(state.updated_at >= before && state.updated_at <= chrono::Utc::now());

    committed(&store, &room, change(Some(("e1", 1)), None, b"two", "/layout"), 2).await?;
    let state = loaded(&store, &room).await?;
    assert_eq!((state.epoch.as_str(), state.version, state.document.as_slice()), ("e1", 2, &b"two"[..]));
    Ok(())
}

pub async fn stale_expected_is_a_mismatch(db: &StateDb) -> anyhow::Result<()> {
    let (store, room) = (db.store().await?, db.room());
    commit_run(&store, &room, "e1", 1).await?;
    let current = Some(("e1".to_owned(), 2));
    for expected in [Some(("e1", 1)), Some(("e1", 3)), Some(("other", 2)), None] {
        let mut request = change(expected, Some("stale"), b"stale", "/alerts");
        request.new_epoch = expected.is_none().then(|| "e9".to_owned());
        let outcome = store.commit(&room, request).await?;
        assert_eq!(outcome, CommitOutcome::VersionMismatch { current: current.clone() }, "expected {expected:?}");
    }
    // Nothing of the refused commits was written: state, history, op key.
    let state = loaded(&store, &room).await?;
    assert_eq!((state.version, state.document.as_slice()), (2, &b"v2"[..]));
    let history = store.history_after(&room, "e1", 0).await?.context("history covers the room")?;
    assert_eq!(history.iter().map(|entry| entry.version).collect::<Vec<_>>(), [1, 2]);
    committed(&store, &room, change(Some(("e1", 2)), Some("stale"), b"v3", "/alerts"), 3).await?;

    // A room that does not exist mismatches any expected version.
    let absent = db.room();
    let outcome = store.commit(&absent, change(Some(("e1", 1)), None, b"x", "/a")).await?;
    assert_eq!(outcome, CommitOutcome::VersionMismatch { current: None });
    assert_eq!(store.load(&absent).await?, None);
    Ok(())
}

pub async fn duplicate_op_key_returns_the_first_result(db: &StateDb) -> anyhow::Result<()> {
    let (store, room) = (db.store().await?, db.room());
    commit_run(&store, &room, "e1", 3).await?; // c:2 produced v2; now at v4
    for expected in [Some(("e1", 4)), Some(("e1", 1)), None] {
        let mut retry = change(expected, Some("c:2"), b"retried", "/retried");
        retry.new_epoch = expected.is_none().then(|| "e2".to_owned());
        let outcome = store.commit(&room, retry).await?;
        assert_eq!(outcome, CommitOutcome::Duplicate { epoch: "e1".into(), version: 2 }, "expected {expected:?}");
    }
    let state = loaded(&store, &room).await?;
    assert_eq!((state.epoch.as_str(), state.version, state.document.as_slice()), ("e1", 4, &b"v4"[..]));
    let history = store.history_after(&room, "e1", 0).await?.context("history covers the room")?;
    assert_eq!(history.len(), 4);
    Ok(())
}

pub async fn history_after_returns_exactly_the_missed_entries(db: &StateDb) -> anyhow::Result<()> {
    let (store, room) = (db.store().await?, db.room());
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    commit_run(&store, &room, "e1", 4).await?; // v1..=v5
    let missed = store.history_after(&room, "e1", 2).await?.context("v3..=v5 are in the history")?;
    assert_eq!(missed.iter().map(|entry| entry.version).collect::<Vec<_>>(), [3, 4, 5]);
    let third = &missed[0];
    assert_eq!(third.op_key.as_deref(), Some("c:3"));
    assert_eq!(third.ops, json!([{ "op": "add", "path": "/widgets/w3", "value": "v3" }]));
    assert_eq!(third.written_paths, ["/widgets/w3"]);
    assert!(third.at >= before && third.at <= chrono::Utc::now());
    let all = store.history_after(&room, "e1", 0).await?.context("the whole epoch is in the history")?;
    assert_eq!(all.len(), 5);
    assert_eq!(all[0].op_key, None);

    assert_eq!(store.history_after(&room, "e1", 5).await?, Some(vec![]));
    assert_eq!(store.history_after(&room, "e1", 6).await?, None, "a version from the future");
    assert_eq!(store.history_after(&room, "other", 2).await?, None, "a foreign epoch");
    assert_eq!(store.history_after(&db.room(), "e1", 0).await?, None, "an absent room");
    Ok(())
}

pub async fn history_is_trimmed_to_its_length(db: &StateDb) -> anyhow::Result<()> {
    let store = db.open(StateOptions { history_len: 3, op_key_window: 3, ..StateOptions::default() }).await?;
    let room = db.room();
    commit_run(&store, &room, "e1", 5).await?; // v1..=v6
    let missed = store.history_after(&room, "e1", 3).await?.context("the last 3 versions are kept")?;
    assert_eq!(missed.iter().map(|entry| entry.version).collect::<Vec<_>>(), [4, 5, 6]);
    assert_eq!(store.history_after(&room, "e1", 2).await?, None, "v3 was trimmed");
    assert_eq!(store.history_after(&room, "e1", 0).await?, None);
    // Op keys are kept for the window: c:4 still known, c:2 forgotten.
    let retry = store.commit(&room, change(Some(("e1", 6)), Some("c:4"), b"again", "/a")).await?;
    assert_eq!(retry, CommitOutcome::Duplicate { epoch: "e1".into(), version: 4 });
    committed(&store, &room, change(Some(("e1", 6)), Some("c:2"), b"v7", "/a"), 7).await?;
    Ok(())
}

pub async fn new_epoch_resets_version_and_history(db: &StateDb) -> anyhow::Result<()> {
    let (store, room) = (db.store().await?, db.room());
    commit_run(&store, &room, "e1", 2).await?; // v1..=v3
    let mut migrate = change(Some(("e1", 3)), Some("migrate"), b"migrated", "");
    migrate.new_epoch = Some("e2".into());
    assert_eq!(committed(&store, &room, migrate, 1).await?, "e2");
    let state = loaded(&store, &room).await?;
    assert_eq!((state.epoch.as_str(), state.version, state.document.as_slice()), ("e2", 1, &b"migrated"[..]));
    assert_eq!(store.history_after(&room, "e1", 3).await?, None, "the old epoch's log is gone");
    let history = store.history_after(&room, "e2", 0).await?.context("the new epoch has its first entry")?;
    assert_eq!(history.iter().map(|entry| entry.version).collect::<Vec<_>>(), [1]);
    assert_eq!(history[0].op_key.as_deref(), Some("migrate"));
    committed(&store, &room, change(Some(("e2", 1)), None, b"next", "/layout"), 2).await?;
    // The op key of the epoch-starting commit is known like any other.
    let mut retry = change(Some(("e1", 3)), Some("migrate"), b"migrated", "");
    retry.new_epoch = Some("e3".into());
    assert_eq!(store.commit(&room, retry).await?, CommitOutcome::Duplicate { epoch: "e2".into(), version: 1 });
    Ok(())
}

pub async fn delete_removes_the_room(db: &StateDb) -> anyhow::Result<()> {
    let (store, room) = (db.store().await?, db.room());
    let neighbour = RoomKey::new(room.workspace_id, "user-2");
    commit_run(&store, &room, "e1", 2).await?;
    committed(&store, &neighbour, first("n1", b"neighbour"), 1).await?;
    assert!(store.delete(&room).await?);
    assert_eq!(store.load(&room).await?, None);
    assert_eq!(store.history_after(&room, "e1", 0).await?, None);
    assert!(!store.delete(&room).await?);
    // The neighbour is untouched, and the room starts afresh (its op keys gone).
    assert_eq!(loaded(&store, &neighbour).await?.document, b"neighbour");
    committed(&store, &room, first("e2", b"again"), 1).await?;
    committed(&store, &room, change(Some(("e2", 1)), Some("c:2"), b"v2", "/a"), 2).await?;
    assert_eq!(store.history_after(&room, "e2", 0).await?.map(|entries| entries.len()), Some(2));
    Ok(())
}

pub async fn rooms_are_separate(db: &StateDb) -> anyhow::Result<()> {
    let store = db.store().await?;
    let room = db.room();
    let other_user = RoomKey::new(room.workspace_id, "user-2");
    let other_workspace = RoomKey::new(uuid::Uuid::new_v4(), room.user_id.clone());
    // Braces and colons in a user id must not merge or split rooms.
    let odd_user = RoomKey::new(room.workspace_id, "a}:{b%7D");
    commit_run(&store, &room, "e1", 2).await?;
    for (index, other) in [&other_user, &other_workspace, &odd_user].into_iter().enumerate() {
        assert_eq!(store.load(other).await?, None);
        committed(&store, other, first(&format!("o{index}"), b"other"), 1).await?;
    }
    assert_eq!(loaded(&store, &room).await?.version, 3);
    assert_eq!(loaded(&store, &odd_user).await?.epoch, "o2");
    Ok(())
}

pub async fn documents_round_trip_as_bytes(db: &StateDb) -> anyhow::Result<()> {
    let (store, room) = (db.store().await?, db.room());
    // Every byte value (zstd frames are binary), and a large document.
    let mut document: Vec<u8> = (0..=255u8).collect();
    document.extend((0..300_000u32).map(|index| (index.wrapping_mul(2_654_435_761) >> 24) as u8));
    committed(&store, &room, first("e1", &document), 1).await?;
    assert_eq!(loaded(&store, &room).await?.document, document);
    committed(&store, &room, change(Some(("e1", 1)), None, &[], "/empty"), 2).await?;
    assert_eq!(loaded(&store, &room).await?.document, Vec::<u8>::new());
    Ok(())
}

pub async fn concurrent_commits_on_one_version_apply_once(db: &StateDb) -> anyhow::Result<()> {
    let (store, room) = (db.store().await?, db.room());
    committed(&store, &room, first("e1", b"v1"), 1).await?;
    let writers = (0..8).map(|writer| {
        let (store, room) = (store.clone(), room.clone());
        tokio::spawn(async move {
            let document = format!("writer {writer}");
            store.commit(&room, change(Some(("e1", 1)), None, document.as_bytes(), "/a")).await
        })
    });
    let mut applied = 0;
    for writer in writers.collect::<Vec<_>>() {
        match writer.await?? {
            CommitOutcome::Committed { version: 2, .. } => applied += 1,
            CommitOutcome::VersionMismatch { current: Some((_, 2)) } => {}
            other => bail!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!(applied, 1);
    assert_eq!(store.history_after(&room, "e1", 0).await?.map(|entries| entries.len()), Some(2));
    Ok(())
}

pub async fn invalid_requests_are_refused(db: &StateDb) -> anyhow::Result<()> {
    let (store, room) = (db.store().await?, db.room());
    let no_epoch = change(None, None, b"x", "/a");
    assert!(matches!(store.commit(&room, no_epoch).await, Err(StateError::Invalid(_))));
    let empty_key = CommitRequest { op_key: Some(String::new()), ..first("e1", b"x") };
    assert!(matches!(store.commit(&room, empty_key).await, Err(StateError::Invalid(_))));
    assert_eq!(store.load(&room).await?, None);
    Ok(())
}

pub async fn rooms_expire_after_their_ttl(db: &StateDb) -> anyhow::Result<()> {
    // SQLite's expiry is ours: a manual clock moves past the TTL at once. Redis
    // expires keys on its own clock, so there the TTL is short and the test
    // polls for the expiry.
    let clock = if db.is_redis() { StateClock::system() } else { StateClock::manual() };
    let ttl = Duration::from_millis(500);
    let store = db.open(StateOptions { ttl, clock: clock.clone(), ..StateOptions::default() }).await?;
    let room = db.room();
    commit_run(&store, &room, "e1", 1).await?;
    assert_eq!(loaded(&store, &room).await?.version, 2);
    if db.is_redis() {
        // Every key of the room carries the TTL.
        let client = redis::Client::open(agentdeck_storage::testing::redis_url())?;
        let mut connection = client.get_multiplexed_async_connection().await?;
        let tag = format!("{{dash:{}:{}}}", room.workspace_id, room.user_id);
        for suffix in ["meta", "snap", "hist", "ops"] {
            let ttl: i64 = redis::cmd("PTTL").arg(format!("{tag}:{suffix}")).query_async(&mut connection).await?;
            assert!((1..=500).contains(&ttl), "{suffix} has PTTL {ttl}");
        }
        until_absent(&store, &room, Duration::from_secs(10)).await?;
    } else {
        clock.advance(ttl - Duration::from_millis(1));
        assert_eq!(loaded(&store, &room).await?.version, 2, "alive until its TTL has passed");
        clock.advance(ttl);
        assert_eq!(store.load(&room).await?, None);
    }
    assert_eq!(store.history_after(&room, "e1", 0).await?, None);
    if !db.is_redis() {
        assert!(!store.delete(&room).await?, "an expired room reads as absent");
        commit_run(&store, &db.room(), "x", 0).await?;
        clock.advance(ttl * 2);
        assert_eq!(store.purge_expired().await?, 1);
        assert_eq!(store.purge_expired().await?, 0);
    }
    // The room starts afresh, without the expired room's op keys.
    committed(&store, &room, first("e2", b"fresh"), 1).await?;
    committed(&store, &room, change(Some(("e2", 1)), Some("c:2"), b"v2", "/a"), 2).await?;
    Ok(())
}

/// Waits until `room` reads as absent, polling (an expiry on Redis's clock has no event to wait on).
async fn until_absent(store: &Arc<dyn StateStore>, room: &RoomKey, within: Duration) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + within;
    while store.load(room).await?.is_some() {
        if tokio::time::Instant::now() >= deadline {
            bail!("the room still exists {within:?} later");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// SQLite: a commit that fails halfway (here: on the history insert, forced
/// by a trigger) leaves state, history and op keys exactly as they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_failed_commit_writes_nothing() -> anyhow::Result<()> {
    let db = StateDb::sqlite().await?;
    let (store, room) = (db.store().await?, db.room());
    commit_run(&store, &room, "e1", 1).await?;
    let raw = db.sqlite_db().context("sqlite")?.raw_pool().await?;
    sqlx::query(
        "CREATE TRIGGER fail_v3 BEFORE INSERT ON dashboard_history WHEN NEW.version = 3 \
         BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
    )
    .execute(&raw)
    .await?;
    let result = store.commit(&room, change(Some(("e1", 2)), Some("c:3"), b"v3", "/a")).await;
    assert!(matches!(result, Err(StateError::Backend(_))), "{result:?}");
    let state = loaded(&store, &room).await?;
    assert_eq!((state.version, state.document.as_slice()), (2, &b"v2"[..]));
    assert_eq!(store.history_after(&room, "e1", 0).await?.map(|entries| entries.len()), Some(2));
    sqlx::query("DROP TRIGGER fail_v3").execute(&raw).await?;
    raw.close().await;
    // The op key was not recorded either: the retry commits.
    committed(&store, &room, change(Some(("e1", 2)), Some("c:3"), b"v3", "/a"), 3).await?;
    Ok(())
}

/// SQLite: the state store uses the records' file; the state tables exist
/// only after migration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_state_lives_in_the_records_file() -> anyhow::Result<()> {
    let db = StateDb::sqlite().await?;
    let store = db.store().await?;
    committed(&store, &db.room(), first("e1", b"doc"), 1).await?;
    let raw = db.sqlite_db().context("sqlite")?.raw_pool().await?;
    let rooms: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dashboard_states").fetch_one(&raw).await?;
    raw.close().await;
    assert_eq!(rooms, 1);
    Ok(())
}

/// Redis: a server that cannot be reached is `Unavailable`, quickly.
#[tokio::test]
async fn redis_down_is_unavailable() {
    let options = StateOptions { timeout: Duration::from_millis(500), ..StateOptions::default() };
    let started = std::time::Instant::now();
    // Port 1 on loopback: nothing listens there, so the connection is refused.
    let result = agentdeck_storage::RedisStateStore::connect("redis://127.0.0.1:1", options).await;
    assert!(matches!(result, Err(StateError::Unavailable(_))), "{:?}", result.err());
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
}

/// Redis: a history stream left ahead of the version (only after data loss)
/// cannot make a commit fail halfway; the gap shows as a missing history.
#[tokio::test]
async fn redis_stream_ahead_of_the_version_is_dropped() -> anyhow::Result<()> {
    let db = StateDb::redis().await?;
    let (store, room) = (db.store().await?, db.room());
    commit_run(&store, &room, "e1", 1).await?;
    let client = redis::Client::open(agentdeck_storage::testing::redis_url())?;
    let mut connection = client.get_multiplexed_async_connection().await?;
    let hist = format!("{{dash:{}:{}}}:hist", room.workspace_id, room.user_id);
    let _: String = redis::cmd("XADD").arg(&hist).arg("100-0").arg("v").arg("100").query_async(&mut connection).await?;
    committed(&store, &room, change(Some(("e1", 2)), None, b"v3", "/a"), 3).await?;
    assert_eq!(loaded(&store, &room).await?.document, b"v3");
    assert_eq!(store.history_after(&room, "e1", 0).await?, None);
    let last = store.history_after(&room, "e1", 2).await?.context("v3 is in the new stream")?;
    assert_eq!(last.iter().map(|entry| entry.version).collect::<Vec<_>>(), [3]);
    Ok(())
}

/// Redis: a commit publishes `"<epoch>.<version>"` on the room's channel.
#[tokio::test]
async fn redis_commit_publishes_its_version() -> anyhow::Result<()> {
    let db = StateDb::redis().await?;
    let (store, room) = (db.store().await?, db.room());
    // RESP3 delivers pub/sub messages as pushes on an ordinary connection.
    let url = agentdeck_storage::testing::redis_url();
    let separator = if url.contains('?') { '&' } else { '?' };
    let client = redis::Client::open(format!("{url}{separator}protocol=resp3"))?;
    let (sender, mut pushes) = tokio::sync::mpsc::unbounded_channel();
    let config = redis::AsyncConnectionConfig::new().set_push_sender(sender);
    let mut connection = client.get_multiplexed_async_connection_with_config(&config).await?;
    connection.subscribe(format!("dash:{}:{}", room.workspace_id, room.user_id)).await?;
    committed(&store, &room, first("e1", b"v1"), 1).await?;
    let payload = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(push) = pushes.recv().await {
            if push.kind == redis::PushKind::Message
                && let Some(payload) = push.data.get(1)
            {
                return Some(redis::from_redis_value::<String>(payload.clone()));
            }
        }
        None
    })
    .await
    .context("no message within 2 s")?
    .context("subscription ended")??;
    assert_eq!(payload, "e1.1");
    Ok(())
}

/// Redis crashes and comes back: while it is down every call answers
/// `Unavailable` quickly; afterwards the same store serves again by itself and
/// holds exactly what was committed before the outage — nothing half-written.
#[tokio::test]
async fn redis_outage_is_unavailable_then_recovers_by_itself() -> anyhow::Result<()> {
    let mut redis = agentdeck_storage::testing::OwnedRedis::start()?;
    let options = StateOptions { timeout: Duration::from_millis(500), ..StateOptions::default() };
    let store: Arc<dyn StateStore> =
        Arc::new(agentdeck_storage::RedisStateStore::connect(&redis.url(), options).await?);
    let room = RoomKey::new(uuid::Uuid::now_v7(), "ada");
    let epoch = committed(&store, &room, first("e1", b"before the outage"), 1).await?;

    redis.stop();
    let started = std::time::Instant::now();
    let during =
        store.commit(&room, change(Some((&epoch, 1)), Some("op-during"), b"during the outage", "/alerts")).await;
    assert!(matches!(during, Err(StateError::Unavailable(_))), "{during:?}");
    assert!(matches!(store.load(&room).await, Err(StateError::Unavailable(_))));
    assert!(started.elapsed() < Duration::from_secs(5), "failures are quick: {:?}", started.elapsed());

    redis.restart()?;
    // The first call after the outage answers (it used to get the stale error of the lost connection).
    let state = store.load(&room).await?.context("the room survived the restart")?;
    assert_eq!((state.version, state.document.as_slice()), (1, &b"before the outage"[..]));
    committed(&store, &room, change(Some((&epoch, 1)), Some("op-after"), b"after the outage", "/alerts"), 2).await?;
    Ok(())
}

/// Tickets issued by one Redis ticket store are redeemed once, by any store on
/// the same server (another node), and never after their lifetime.
#[tokio::test]
async fn redis_tickets_are_single_use_across_nodes() -> anyhow::Result<()> {
    use agentdeck_domain::auth::{Principal, Role};
    use agentdeck_storage::tickets::{RedisTicketStore, TicketCredential, TicketGrant, TicketStore};

    let url = agentdeck_storage::testing::redis_url();
    let node_a = RedisTicketStore::connect(&url, Duration::from_secs(2)).await.context("Redis for tickets")?;
    let node_b = RedisTicketStore::connect(&url, Duration::from_secs(2)).await?;
    let principal = Principal { subject: "ada".into(), workspace_id: uuid::Uuid::now_v7(), role: Role::Admin };
    let credential = TicketCredential::ApiToken { token_id: uuid::Uuid::now_v7(), digest: "0f".repeat(32) };
    let who = TicketGrant::new(principal, credential);

    let ticket = node_a.issue(&who, Duration::from_secs(30)).await?;
    assert_eq!(node_b.redeem(&ticket.value).await?, Some(who.clone()));
    assert_eq!(node_a.redeem(&ticket.value).await?, None, "single use across nodes");

    // Redis expires the ticket on its own clock: wait for its key to go (redeeming would use it up).
    let short = node_a.issue(&who, Duration::from_millis(300)).await?;
    let short_key = format!("dash:ticket:{}", short.value);
    let mut connection = redis::Client::open(url.as_str())?.get_multiplexed_async_connection().await?;
    let ttl: i64 = redis::cmd("PTTL").arg(&short_key).query_async(&mut connection).await?;
    assert!((1..=300).contains(&ttl), "the ticket's key has PTTL {ttl}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let exists: bool = redis::cmd("EXISTS").arg(&short_key).query_async(&mut connection).await?;
        if !exists {
            break;
        }
        anyhow::ensure!(tokio::time::Instant::now() < deadline, "the ticket's key outlived its TTL by 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(node_b.redeem(&short.value).await?, None, "expired");
    assert_eq!(node_b.redeem("nope").await?, None);

    // Two redemptions racing: exactly one wins.
    let raced = node_a.issue(&who, Duration::from_secs(30)).await?;
    let (first, second) = tokio::join!(node_a.redeem(&raced.value), node_b.redeem(&raced.value));
    assert_eq!([first?.is_some(), second?.is_some()].iter().filter(|won| **won).count(), 1);
    Ok(())
}

/// The ticket store and the change feed answer `ping` (for `/ready`) while their
/// Redis runs, fail it quickly while it is down, and pass again when it is back.
#[tokio::test]
async fn redis_tickets_and_feed_ping_follow_the_server() -> anyhow::Result<()> {
    use agentdeck_storage::tickets::{RedisTicketStore, TicketStore};
    use agentdeck_storage::{ChangeFeed, RedisChangeFeed};

    let mut redis = agentdeck_storage::testing::OwnedRedis::start()?;
    let tickets = RedisTicketStore::connect(&redis.url(), Duration::from_millis(500)).await?;
    let feed = RedisChangeFeed::start(&redis.url())?;
    tickets.ping().await?;
    feed.ping().await.context("the feed connects within its call timeout")?;
    assert_eq!((tickets.backend(), feed.backend()), ("redis", "redis"));

    redis.stop();
    let started = std::time::Instant::now();
    assert!(tickets.ping().await.is_err());
    assert!(feed.ping().await.is_err(), "the feed noticed the closed connection");
    assert!(started.elapsed() < Duration::from_secs(5), "failures are quick: {:?}", started.elapsed());

    redis.restart()?;
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while feed.ping().await.is_err() || tickets.ping().await.is_err() {
        assert!(std::time::Instant::now() < deadline, "not back 15 s after Redis restarted");
    }
    Ok(())
}
