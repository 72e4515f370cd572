//! Group commit: batches built by hand (deterministic), and many concurrent
//! callers through the store (whatever batches form). The backend-neutral
//! contract is tested by the storage suite (`tests/storage/state.rs`).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::json;
use tempfile::TempDir;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::queries::Commit;
use super::worker::{Job, Worker};
use super::{SqliteFile, SqliteStateStore};
use crate::state::{CommitOutcome, CommitRequest, RoomKey, StateError, StateOptions, StateStore};
use crate::{ConnectOptions, Stores};

/// A migrated database file in a folder of its own.
struct Database {
    file: SqliteFile,
    path: std::path::PathBuf,
    _records: Stores,
    _dir: TempDir,
}

async fn database() -> anyhow::Result<Database> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("state.sqlite");
    let records = crate::connect(&crate::sqlite_url(&path), &ConnectOptions::default()).await?;
    records.database.migrate().await?;
    Ok(Database { file: SqliteFile::Path { path: path.clone(), read_only: false }, path, _records: records, _dir: dir })
}

fn store(db: &Database) -> Arc<dyn StateStore> {
    Arc::new(SqliteStateStore::open(db.file.clone(), StateOptions::default()))
}

/// A commit of `document` expecting `expected`, starting `new_epoch` if given.
fn request(
    expected: Option<(&str, u64)>,
    op_key: Option<&str>,
    new_epoch: Option<&str>,
    document: &str,
) -> CommitRequest {
    CommitRequest {
        expected: expected.map(|(epoch, version)| (epoch.to_owned(), version)),
        op_key: op_key.map(str::to_owned),
        document: document.as_bytes().to_vec(),
        ops: json!([{ "op": "replace", "path": "/doc", "value": document }]),
        written_paths: vec!["/doc".to_owned()],
        new_epoch: new_epoch.map(str::to_owned),
    }
}

type Answer = oneshot::Receiver<Result<CommitOutcome, StateError>>;

/// A commit job as the store would queue it, and where its answer arrives.
fn job(room: &RoomKey, request: CommitRequest) -> anyhow::Result<(Job, Answer)> {
    request.validate()?;
    let (reply, answer) = oneshot::channel();
    Ok((Job::Commit { commit: Commit::new(room, request)?, reply }, answer))
}

/// Runs hand-made jobs as one batch of the writer; returns the answers in order.
async fn run_batch(
    db: &Database,
    commits: Vec<(RoomKey, CommitRequest)>,
) -> anyhow::Result<Vec<Result<CommitOutcome, StateError>>> {
    let mut writer = Worker::writer(db.file.clone(), StateOptions::default(), 4096);
    let mut jobs = Vec::new();
    let mut answers = Vec::new();
    for (room, request) in commits {
        let (job, answer) = job(&room, request)?;
        jobs.push(job);
        answers.push(answer);
    }
    writer.run_batch(jobs);
    let mut results = Vec::new();
    for answer in answers {
        results.push(answer.await.context("every commit of a batch is answered")?);
    }
    Ok(results)
}

fn committed(epoch: &str, version: u64) -> CommitOutcome {
    CommitOutcome::Committed { epoch: epoch.to_owned(), version }
}

/// The versions and op keys in a room's history, which must cover the whole epoch.
async fn history(store: &Arc<dyn StateStore>, room: &RoomKey, epoch: &str) -> anyhow::Result<Vec<(u64, String)>> {
    let entries = store.history_after(room, epoch, 0).await?.context("the history covers the epoch")?;
    Ok(entries.into_iter().map(|entry| (entry.version, entry.op_key.unwrap_or_default())).collect())
}

#[tokio::test]
async fn a_batch_sees_its_own_commits_and_retries() -> anyhow::Result<()> {
    let db = database().await?;
    let room = RoomKey::new(Uuid::new_v4(), "ada");
    let results = run_batch(
        &db,
        vec![
            (room.clone(), request(None, Some("a"), Some("e1"), "one")),
            // A retry of the first commit, still in the same transaction.
            (room.clone(), request(None, Some("a"), Some("e9"), "one again")),
            (room.clone(), request(Some(("e1", 1)), Some("b"), None, "two")),
            (room.clone(), request(Some(("e1", 1)), Some("b"), None, "two again")),
            // Stale: expects the version the commit before last replaced.
            (room.clone(), request(Some(("e1", 1)), None, None, "stale")),
            (room.clone(), request(Some(("e1", 2)), Some("c"), None, "three")),
        ],
    )
    .await?;
    let results: Vec<CommitOutcome> = results.into_iter().collect::<Result<_, _>>()?;
    assert_eq!(
        results,
        [
            committed("e1", 1),
            CommitOutcome::Duplicate { epoch: "e1".into(), version: 1 },
            committed("e1", 2),
            CommitOutcome::Duplicate { epoch: "e1".into(), version: 2 },
            CommitOutcome::VersionMismatch { current: Some(("e1".into(), 2)) },
            committed("e1", 3),
        ]
    );
    let store = store(&db);
    let state = store.load(&room).await?.context("the room exists")?;
    assert_eq!((state.version, state.document.as_slice()), (3, &b"three"[..]));
    assert_eq!(history(&store, &room, "e1").await?, [(1, "a".into()), (2, "b".into()), (3, "c".into())]);
    Ok(())
}

#[tokio::test]
async fn a_failing_commit_leaves_the_rest_of_its_batch_alone() -> anyhow::Result<()> {
    let db = database().await?;
    let raw = rusqlite::Connection::open(&db.path)?;
    raw.execute_batch(
        "CREATE TRIGGER fail_bad BEFORE INSERT ON dashboard_history WHEN NEW.user_id = 'bad' \
         BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
    )?;
    let workspace = Uuid::new_v4();
    let (ada, bad, bob) =
        (RoomKey::new(workspace, "ada"), RoomKey::new(workspace, "bad"), RoomKey::new(workspace, "bob"));
    let results = run_batch(
        &db,
        vec![
            (ada.clone(), request(None, Some("a1"), Some("e1"), "ada 1")),
            (bad.clone(), request(None, Some("x1"), Some("e1"), "bad 1")),
            (ada.clone(), request(Some(("e1", 1)), Some("a2"), None, "ada 2")),
            (bob.clone(), request(None, None, Some("e1"), "bob 1")),
        ],
    )
    .await?;
    let mut results = results.into_iter();
    assert_eq!(results.next().context("answer")??, committed("e1", 1));
    let failed = results.next().context("answer")?;
    assert!(matches!(failed, Err(StateError::Backend(_))), "{failed:?}");
    assert_eq!(results.next().context("answer")??, committed("e1", 2));
    assert_eq!(results.next().context("answer")??, committed("e1", 1));

    let store = store(&db);
    assert_eq!(store.load(&bad).await?, None, "the failed commit's state row was rolled back");
    assert_eq!(store.load(&ada).await?.context("ada")?.document, b"ada 2");
    assert_eq!(history(&store, &ada, "e1").await?, [(1, "a1".into()), (2, "a2".into())]);
    assert_eq!(store.load(&bob).await?.context("bob")?.version, 1);
    // Nor was its op key kept: once the fault is gone, the retry commits.
    raw.execute_batch("DROP TRIGGER fail_bad")?;
    let retry = store.commit(&bad, request(None, Some("x1"), Some("e1"), "bad 1")).await?;
    assert_eq!(retry, committed("e1", 1));
    Ok(())
}

#[tokio::test]
async fn a_failed_commit_statement_fails_the_whole_batch() -> anyhow::Result<()> {
    let db = database().await?;
    let raw = rusqlite::Connection::open(&db.path)?;
    // A deferred foreign key is checked only at COMMIT: a commit to room
    // "poison" makes the COMMIT of its batch fail.
    raw.execute_batch(
        "CREATE TABLE test_parent (id TEXT PRIMARY KEY); \
         CREATE TABLE test_child (parent TEXT REFERENCES test_parent (id) DEFERRABLE INITIALLY DEFERRED); \
         CREATE TRIGGER poison AFTER INSERT ON dashboard_history WHEN NEW.user_id = 'poison' \
         BEGIN INSERT INTO test_child VALUES ('missing'); END",
    )?;
    let workspace = Uuid::new_v4();
    let (ada, poison) = (RoomKey::new(workspace, "ada"), RoomKey::new(workspace, "poison"));
    let results = run_batch(
        &db,
        vec![
            (ada.clone(), request(None, Some("a1"), Some("e1"), "ada 1")),
            (poison.clone(), request(None, None, Some("e1"), "poison")),
            (ada.clone(), request(Some(("e1", 1)), Some("a2"), None, "ada 2")),
            // Even outcomes that wrote nothing are not confirmed by a failed batch.
            (ada.clone(), request(Some(("e1", 1)), Some("a1"), None, "retry")),
        ],
    )
    .await?;
    for result in &results {
        assert!(matches!(result, Err(StateError::Backend(_))), "{result:?}");
    }
    let store = store(&db);
    assert_eq!(store.load(&ada).await?, None, "nothing of the batch was written");
    assert_eq!(store.load(&poison).await?, None);
    // Nothing was left locked or half-written: the next batch commits.
    let again = run_batch(&db, vec![(ada.clone(), request(None, Some("a1"), Some("e2"), "ada 1"))]).await?;
    assert_eq!(again.into_iter().next().context("answer")??, committed("e2", 1));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commits_to_many_rooms_all_land() -> anyhow::Result<()> {
    const ROOMS: usize = 40;
    const COMMITS: u64 = 25;
    let db = database().await?;
    let store = store(&db);
    let workspace = Uuid::new_v4();
    let writers = (0..ROOMS).map(|index| {
        let store = Arc::clone(&store);
        let room = RoomKey::new(workspace, format!("user-{index}"));
        tokio::spawn(async move {
            let first = store.commit(&room, request(None, Some("k1"), Some("e1"), "v1")).await?;
            anyhow::ensure!(first == committed("e1", 1), "{first:?}");
            for version in 2..=COMMITS {
                let (key, document) = (format!("k{version}"), format!("v{version}"));
                let outcome =
                    store.commit(&room, request(Some(("e1", version - 1)), Some(&key), None, &document)).await?;
                anyhow::ensure!(outcome == committed("e1", version), "{outcome:?}");
                // A retry (a client that lost the answer) is recognized, not applied twice.
                if version % 5 == 0 {
                    let retry =
                        store.commit(&room, request(Some(("e1", version - 1)), Some(&key), None, &document)).await?;
                    anyhow::ensure!(retry == CommitOutcome::Duplicate { epoch: "e1".into(), version }, "{retry:?}");
                }
            }
            anyhow::Ok(room)
        })
    });
    for writer in writers.collect::<Vec<_>>() {
        let room = writer.await??;
        let state = store.load(&room).await?.context("room exists")?;
        assert_eq!((state.version, state.document), (COMMITS, format!("v{COMMITS}").into_bytes()));
        let expected: Vec<(u64, String)> = (1..=COMMITS).map(|version| (version, format!("k{version}"))).collect();
        assert_eq!(history(&store, &room, "e1").await?, expected);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_to_one_room_lose_and_repeat_nothing() -> anyhow::Result<()> {
    const WRITERS: usize = 12;
    const EACH: usize = 10;
    let db = database().await?;
    let store = store(&db);
    let room = RoomKey::new(Uuid::new_v4(), "shared");
    assert_eq!(store.commit(&room, request(None, None, Some("e1"), "start")).await?, committed("e1", 1));
    let writers = (0..WRITERS).map(|writer| {
        let (store, room) = (Arc::clone(&store), room.clone());
        tokio::spawn(async move {
            let mut versions = Vec::new();
            for n in 0..EACH {
                let key = format!("w{writer}:{n}");
                // Optimistic: read, commit against what was read, retry on a race.
                let version = loop {
                    let current = store.load(&room).await?.context("room exists")?;
                    let expected = Some((current.epoch.as_str(), current.version));
                    match store.commit(&room, request(expected, Some(&key), None, &key)).await? {
                        CommitOutcome::Committed { version, .. } => break version,
                        CommitOutcome::VersionMismatch { .. } => continue,
                        other => bail!("unexpected {other:?}"),
                    }
                };
                versions.push(version);
            }
            anyhow::Ok(versions)
        })
    });
    let mut versions = Vec::new();
    for writer in writers.collect::<Vec<_>>() {
        versions.extend(writer.await??);
    }
    let total = (WRITERS * EACH) as u64;
    versions.sort_unstable();
    assert_eq!(versions, (2..=total + 1).collect::<Vec<_>>(), "every version was handed out exactly once");
    let entries = history(&store, &room, "e1").await?;
    assert_eq!(entries.len() as u64, total + 1);
    let keys: HashSet<&str> = entries.iter().skip(1).map(|(_, key)| key.as_str()).collect();
    assert_eq!(keys.len() as u64, total, "each op key committed once");
    Ok(())
}

#[tokio::test]
async fn a_caller_that_gave_up_is_not_committed_and_reads_go_on() -> anyhow::Result<()> {
    let db = database().await?;
    let options = StateOptions::default();
    let store = SqliteStateStore::with_timeout(db.file.clone(), options, Duration::from_millis(300));
    let (room, other) = (RoomKey::new(Uuid::new_v4(), "ada"), RoomKey::new(Uuid::new_v4(), "bob"));
    assert_eq!(store.commit(&other, request(None, None, Some("e1"), "bob")).await?, committed("e1", 1));
    // Another connection holds the write lock for longer than the caller waits.
    let blocker = rusqlite::Connection::open(&db.path)?;
    blocker.execute_batch("BEGIN IMMEDIATE")?;
    let started = std::time::Instant::now();
    let result = store.commit(&room, request(None, Some("k1"), Some("e1"), "too late")).await;
    assert!(matches!(result, Err(StateError::Unavailable(_))), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    // Reads do not wait for the write lock (nor for the writer, still waiting for it).
    assert_eq!(store.load(&other).await?.context("bob")?.document, b"bob");
    assert_eq!(store.history_after(&other, "e1", 0).await?.map(|entries| entries.len()), Some(1));
    blocker.execute_batch("ROLLBACK")?;

    // The writer skipped the abandoned commit: the same commit, queued after it, is the first.
    let outcome = store.commit(&room, request(None, Some("k1"), Some("e1"), "now")).await?;
    assert_eq!(outcome, committed("e1", 1));
    assert_eq!(store.load(&room).await?.context("ada")?.document, b"now");
    Ok(())
}

#[tokio::test]
async fn an_unsupported_database_fails_every_call() {
    let store = SqliteStateStore::open(SqliteFile::Unsupported("an in-memory database"), StateOptions::default());
    let room = RoomKey::new(Uuid::new_v4(), "ada");
    assert!(matches!(store.ping().await, Err(StateError::Backend(_))));
    let commit = store.commit(&room, request(None, None, Some("e1"), "x")).await;
    assert!(matches!(commit, Err(StateError::Backend(_))), "{commit:?}");
    assert!(matches!(store.load(&room).await, Err(StateError::Backend(_))));
}

/// Rows of `table` for `room`, trimmed or not.
fn stored_rows(db: &Database, table: &str, room: &RoomKey) -> anyhow::Result<i64> {
    let raw = rusqlite::Connection::open(&db.path)?;
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE workspace_id = ?1 AND user_id = ?2");
    Ok(raw.query_row(&sql, rusqlite::params![room.workspace_id.to_string(), room.user_id], |row| row.get(0))?)
}

#[tokio::test]
async fn history_and_op_keys_are_trimmed_in_steps_and_never_read_past_their_window() -> anyhow::Result<()> {
    let db = database().await?;
    let options = StateOptions { history_len: 4, op_key_window: 6, ..StateOptions::default() };
    let store = SqliteStateStore::open(db.file.clone(), options);
    let room = RoomKey::new(Uuid::new_v4(), "ada");
    store.commit(&room, request(None, Some("k1"), Some("e1"), "v1")).await?;
    for version in 2..=31 {
        let outcome =
            store.commit(&room, request(Some(("e1", version - 1)), Some(&format!("k{version}")), None, "v")).await?;
        assert_eq!(outcome, committed("e1", version));
    }
    // Not trimmed yet (every 32 versions), but invisible past the window all the same.
    assert_eq!(stored_rows(&db, "dashboard_history", &room)?, 31);
    assert_eq!(store.history_after(&room, "e1", 26).await?, None, "5 behind, history 4");
    let kept = store.history_after(&room, "e1", 27).await?.context("4 behind")?;
    assert_eq!(kept.iter().map(|entry| entry.version).collect::<Vec<_>>(), [28, 29, 30, 31]);
    let known = store.commit(&room, request(Some(("e1", 31)), Some("k26"), None, "retry")).await?;
    assert_eq!(known, CommitOutcome::Duplicate { epoch: "e1".into(), version: 26 }, "within the op window");
    // k25 is 6 versions behind: forgotten, so it commits as new (v32), which trims.
    assert_eq!(store.commit(&room, request(Some(("e1", 31)), Some("k25"), None, "v32")).await?, committed("e1", 32));
    assert_eq!(stored_rows(&db, "dashboard_history", &room)?, 4);
    assert_eq!(stored_rows(&db, "dashboard_ops", &room)?, 6);
    assert_eq!(store.history_after(&room, "e1", 0).await?, None, "v1 is long gone");
    Ok(())
}

#[tokio::test]
async fn the_expiry_is_written_only_when_it_falls_short_of_the_ttl() -> anyhow::Result<()> {
    let db = database().await?;
    let ttl = Duration::from_secs(64 * 60);
    let store = SqliteStateStore::open(db.file.clone(), StateOptions { ttl, ..StateOptions::default() });
    let room = RoomKey::new(Uuid::new_v4(), "ada");
    let expiry = || -> anyhow::Result<(i64, i64)> {
        let raw = rusqlite::Connection::open(&db.path)?;
        Ok(raw.query_row(
            "SELECT updated_at, expires_at FROM dashboard_states WHERE workspace_id = ?1 AND user_id = ?2",
            rusqlite::params![room.workspace_id.to_string(), room.user_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?)
    };
    store.commit(&room, request(None, None, Some("e1"), "v1")).await?;
    let (written, first_expiry) = expiry()?;
    // A 64th of the TTL (one minute) beyond it.
    assert_eq!(first_expiry - written, 65 * 60 * 1000);
    tokio::time::sleep(Duration::from_millis(20)).await;
    store.commit(&room, request(Some(("e1", 1)), None, None, "v2")).await?;
    let (updated, second_expiry) = expiry()?;
    assert!(updated > written, "the row itself was written");
    assert_eq!(second_expiry, first_expiry, "still at least the TTL away: left alone");
    Ok(())
}

#[test]
fn migration_0003_keeps_every_row_of_0002() -> anyhow::Result<()> {
    let conn = rusqlite::Connection::open_in_memory()?;
    conn.execute_batch(include_str!("../../../migrations/sqlite/0002_dashboard_state.sql"))?;
    conn.execute_batch(
        "INSERT INTO dashboard_states VALUES ('w', 'ada', 'e1', 2, x'7b7d', 10, 99); \
         INSERT INTO dashboard_history VALUES ('w', 'ada', 1, 'k1', '[]', '[\"/a\"]', 5); \
         INSERT INTO dashboard_history VALUES ('w', 'ada', 2, NULL, '[]', '[]', 10); \
         INSERT INTO dashboard_ops VALUES ('w', 'ada', 'k1', 'e1', 1, 5);",
    )?;
    conn.execute_batch(include_str!("../../../migrations/sqlite/0003_dashboard_state_clustered.sql"))?;
    let state: (String, i64, Vec<u8>, i64) = conn.query_row(
        "SELECT epoch, version, document, expires_at FROM dashboard_states WHERE workspace_id = 'w' AND user_id = 'ada'",
        [],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
    )?;
    assert_eq!(state, ("e1".to_owned(), 2, b"{}".to_vec(), 99));
    let history: Vec<(i64, Option<String>)> = conn
        .prepare("SELECT version, op_key FROM dashboard_history ORDER BY version")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    assert_eq!(history, [(1, Some("k1".to_owned())), (2, None)]);
    let op: (String, i64) =
        conn.query_row("SELECT epoch, version FROM dashboard_ops WHERE op_key = 'k1'", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
    assert_eq!(op, ("e1".to_owned(), 1));
    // Clustered: no rowid any more; the expiry index is back, the op keys' version index is gone.
    for table in ["dashboard_states", "dashboard_history", "dashboard_ops"] {
        assert!(conn.prepare(&format!("SELECT rowid FROM {table}")).is_err(), "{table} has a rowid");
    }
    let indexes: i64 = conn.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' \
         AND tbl_name LIKE 'dashboard_%'",
        [],
        |row| row.get(0),
    )?;
    assert_eq!(indexes, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_stays_short_while_commits_go_on() -> anyhow::Result<()> {
    const ROOMS: u64 = 40;
    const ROUNDS: u64 = 15;
    let db = database().await?;
    // Rewind past 64 pages, so that a short test writes many WALs' worth.
    let store = Arc::new(SqliteStateStore::with_settings(
        db.file.clone(),
        StateOptions::default(),
        Duration::from_secs(10),
        64,
    ));
    let workspace = Uuid::new_v4();
    let rooms: Vec<RoomKey> = (0..ROOMS).map(|index| RoomKey::new(workspace, format!("user-{index}"))).collect();
    for round in 1..=ROUNDS {
        let commits = rooms.iter().map(|room| {
            let store = Arc::clone(&store);
            let room = room.clone();
            async move {
                let expected = (round > 1).then(|| ("e1", round - 1));
                let epoch = (round == 1).then_some("e1");
                store.commit(&room, request(expected, None, epoch, &format!("v{round}"))).await
            }
        });
        for outcome in futures::future::join_all(commits).await {
            assert_eq!(outcome?, committed("e1", round));
        }
        // Longer than the checkpointer's pause, so it runs between rounds.
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let wal = std::fs::metadata(db.path.with_extension("sqlite-wal"))?.len();
    // Without rewinds the WAL would hold every page written: at least 3 per commit.
    // The checkpointer's rewinds keep it short, and the writer's own checkpoint
    // (at 4 × 64 pages) would too, should that thread not run; the rewind itself
    // is tested in `checkpoint`.
    let written = ROOMS * ROUNDS * 3 * 4096;
    assert!(wal < written / 3, "the WAL is {wal} bytes; {written} were written through it");
    for room in &rooms {
        let state = store.load(room).await?.context("the room")?;
        assert_eq!((state.version, state.document), (ROUNDS, format!("v{ROUNDS}").into_bytes()));
    }
    Ok(())
}
