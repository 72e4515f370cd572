//! The dashboard service over a real (SQLite) state store: stored documents of
//! an older format are migrated under a new epoch, unreadable ones are served
//! degraded and never overwritten, and `DELETE` resets them.

use std::sync::Arc;
use std::time::Duration;

use agentdeck_domain::auth::{Principal, Role};
use agentdeck_domain::dashboard::codec::{DEFAULT_COMPRESSION_THRESHOLD, encode};
use agentdeck_domain::dashboard::document::StateLimits;
use agentdeck_services::dashboard::{DashboardError, DashboardService};
use agentdeck_storage::testing::TestDatabase;
use agentdeck_storage::{
    CommitOutcome, CommitRequest, ConnectOptions, HistoryEntry, RoomKey, StateError, StateOptions, StateStore,
    StoredState, connect,
};
use serde_json::json;
use uuid::Uuid;

struct Fixture {
    _database: TestDatabase,
    state: Arc<dyn StateStore>,
    service: DashboardService,
    principal: Principal,
}

impl Fixture {
    fn room(&self) -> RoomKey {
        RoomKey::new(self.principal.workspace_id, self.principal.subject.clone())
    }

    /// Stores raw bytes as the room's first version, bypassing every check.
    async fn store_raw(&self, bytes: Vec<u8>) -> (String, u64) {
        let request = CommitRequest {
            expected: None,
            op_key: None,
            document: bytes,
            ops: json!([]),
            written_paths: vec![String::new()],
            new_epoch: Some("oldepoch".to_owned()),
        };
        match self.state.commit(&self.room(), request).await.expect("commit") {
            CommitOutcome::Committed { epoch, version } => (epoch, version),
            other => panic!("unexpected {other:?}"),
        }
    }
}

async fn fixture() -> anyhow::Result<Fixture> {
    let database = TestDatabase::sqlite()?;
    let options = ConnectOptions { max_connections: 2, acquire_timeout: Duration::from_secs(30) };
    let store = connect(&database.url, &options).await?;
    store.database.migrate().await?;
    let state = store.database.embedded_state(StateOptions::default()).expect("SQLite keeps the state");
    let service = DashboardService::new(state.clone(), StateLimits::default(), DEFAULT_COMPRESSION_THRESHOLD);
    let principal = Principal { subject: "ada".into(), workspace_id: Uuid::now_v7(), role: Role::Member };
    Ok(Fixture { _database: database, state, service, principal })
}

#[tokio::test]
async fn an_older_format_is_migrated_and_stored_under_a_new_epoch() -> anyhow::Result<()> {
    let fixture = fixture().await?;
    let version_one = json!({
        "widgets": [{"id": "note", "type": "Loading", "data": {}}],
        "activeProject": "p1",
        "preferences": {"theme": "dark"}
    });
    let (old_epoch, _) = fixture.store_raw(encode(version_one.to_string().as_bytes(), usize::MAX).bytes).await;

    let view = fixture.service.get(&fixture.principal).await?.expect("a document");
    assert!(!view.degraded);
    assert_ne!(view.version.epoch, old_epoch, "a migration starts a new epoch");
    assert_eq!(view.version.version, 1);
    assert_eq!(view.document.layout, ["note"]);
    assert_eq!(view.document.active_project.as_deref(), Some("p1"));

    // Persisted: the next read finds the current format at the same version.
    let again = fixture.service.get(&fixture.principal).await?.expect("a document");
    assert_eq!(again.version, view.version);
    Ok(())
}

#[tokio::test]
async fn an_unreadable_document_is_served_degraded_and_never_overwritten() -> anyhow::Result<()> {
    let fixture = fixture().await?;
    let future = json!({"schemaVersion": 99, "widgets": {}});
    for stored in [b"\x09not an encoding".to_vec(), encode(future.to_string().as_bytes(), usize::MAX).bytes] {
        let (epoch, version) = fixture.store_raw(stored.clone()).await;
        let view = fixture.service.get(&fixture.principal).await?.expect("a view");
        assert!(view.degraded);
        assert_eq!((view.version.epoch.as_str(), view.version.version), (epoch.as_str(), version));
        assert_eq!(view.document, Default::default());

        let ops = json!([{"op": "replace", "path": "/preferences/theme", "value": "dark"}]);
        let patched = fixture.service.patch(&fixture.principal, &ops, None, None).await;
        assert!(matches!(patched, Err(DashboardError::Unreadable)), "{patched:?}");
        let replaced = fixture.service.replace(&fixture.principal, &json!({"schemaVersion": 2}), None).await;
        assert!(matches!(replaced, Err(DashboardError::Unreadable)), "{replaced:?}");
        let kept = fixture.state.load(&fixture.room()).await?.expect("still stored");
        assert_eq!(kept.document, stored, "the stored bytes are untouched");

        fixture.service.delete(&fixture.principal, None).await?;
        assert!(fixture.service.get(&fixture.principal).await?.is_none(), "DELETE resets it");
    }
    Ok(())
}

#[tokio::test]
async fn a_retried_patch_that_no_longer_applies_is_still_a_replay() -> anyhow::Result<()> {
    let fixture = fixture().await?;
    let ops = json!([{"op": "add", "path": "/alerts/-", "value":
        {"id": "a1", "severity": "info", "message": "m", "createdAt": "2026-01-01T00:00:00Z"}}]);
    let key = Some("ada:op-1".to_owned());
    let first = fixture.service.patch(&fixture.principal, &ops, None, key.clone()).await?;
    let other = json!([{"op": "replace", "path": "/preferences/theme", "value": "dark"}]);
    fixture.service.patch(&fixture.principal, &other, None, None).await?;

    // Applying it again would add a second `a1` (invalid); the key says it was applied.
    let retry = fixture.service.patch(&fixture.principal, &ops, None, key).await?;
    assert!(retry.replayed);
    assert_eq!(retry.version, first.version);
    assert_eq!(retry.document.alerts.len(), 1);
    let current = fixture.service.get(&fixture.principal).await?.expect("a document");
    assert_eq!(current.version.version, 2, "the retry did not commit");
    Ok(())
}

/// 7.8: writes without `If-Match` cannot conflict with a base, so concurrent
/// writers on disjoint paths all land — those of one process (who take turns)
/// and those of two processes sharing the store (who race and retry).
#[tokio::test]
async fn concurrent_writers_without_a_base_all_land() -> anyhow::Result<()> {
    const WRITERS: usize = 8;
    const PATCHES: usize = 20;
    let fixture = fixture().await?;
    // A second process on the same store: its writers do not take turns with the first's.
    let other = DashboardService::new(fixture.state.clone(), StateLimits::default(), DEFAULT_COMPRESSION_THRESHOLD);
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let service = if writer % 2 == 0 { fixture.service.clone() } else { other.clone() };
        let principal = fixture.principal.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..PATCHES {
                let widget = json!({"type": "Loading", "data": {}, "title": format!("{n}")});
                let ops = json!([{"op": "add", "path": format!("/widgets/w{writer}"), "value": widget}]);
                service.patch(&principal, &ops, None, None).await?;
            }
            Ok::<_, DashboardError>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let view = fixture.service.get(&fixture.principal).await?.expect("a document");
    assert_eq!(view.version.version, (WRITERS * PATCHES) as u64, "every patch committed once");
    for writer in 0..WRITERS {
        let title = view.document.widgets[&format!("w{writer}")].title.clone();
        assert_eq!(title, Some((PATCHES - 1).to_string()), "each writer's last patch is the one kept");
    }
    Ok(())
}

#[tokio::test]
async fn a_patch_from_a_stale_cached_document_is_redone_from_the_store() -> anyhow::Result<()> {
    use agentdeck_domain::dashboard::version::{EntityTag, Precondition};
    let fixture = fixture().await?;
    // Another process (or node) writing the same store: its writes are not in `fixture.service`'s cache.
    let other = DashboardService::new(fixture.state.clone(), StateLimits::default(), DEFAULT_COMPRESSION_THRESHOLD);
    let set = |value: &str| json!([{ "op": "add", "path": "/activeProject", "value": value }]);
    let first = fixture.service.patch(&fixture.principal, &set("p1"), None, None).await?;
    let elsewhere = other.patch(&fixture.principal, &set("p2"), None, None).await?;

    // A `test` op that only holds for the store's document (not the cached one) passes.
    let guarded = json!([{ "op": "test", "path": "/activeProject", "value": "p2" },
                         { "op": "replace", "path": "/theme-free", "value": 1 }]);
    let refused = fixture.service.patch(&fixture.principal, &guarded, None, None).await;
    assert!(matches!(refused, Err(DashboardError::Rejected(_))), "an unknown member is still refused: {refused:?}");
    let guarded = json!([{ "op": "test", "path": "/activeProject", "value": "p2" },
                         { "op": "replace", "path": "/preferences/theme", "value": "dark" }]);
    let third = fixture.service.patch(&fixture.principal, &guarded, None, None).await?;
    assert_eq!(third.version.version, elsewhere.version.version + 1, "{third:?}");
    assert_eq!(third.document.active_project.as_deref(), Some("p2"), "the other process's write was kept");

    // `If-Match` naming the store's current version passes although the cache was behind.
    other.patch(&fixture.principal, &set("p3"), None, None).await?;
    let current = fixture.state.load(&fixture.room()).await?.expect("stored");
    let tag = EntityTag {
        weak: false,
        version: agentdeck_domain::dashboard::version::StateVersion {
            epoch: current.epoch.clone(),
            version: current.version,
        },
    };
    let matched =
        fixture.service.patch(&fixture.principal, &set("p4"), Some(Precondition::Tags(vec![tag])), None).await?;
    assert_eq!(matched.version.version, current.version + 1);
    assert_eq!(first.version.epoch, matched.version.epoch);
    Ok(())
}

/// A state store whose every commit runs twice and answers the second result,
/// as when a Redis reply is lost to a reset connection and the command is sent
/// again (storage `redis_connection`).
struct CommitsTwice(Arc<dyn StateStore>);

#[async_trait::async_trait]
impl StateStore for CommitsTwice {
    fn backend(&self) -> &'static str {
        self.0.backend()
    }
    async fn load(&self, room: &RoomKey) -> Result<Option<StoredState>, StateError> {
        self.0.load(room).await
    }
    async fn commit(&self, room: &RoomKey, request: CommitRequest) -> Result<CommitOutcome, StateError> {
        self.0.commit(room, request.clone()).await?;
        self.0.commit(room, request).await
    }
    async fn history_after(
        &self,
        room: &RoomKey,
        epoch: &str,
        version: u64,
    ) -> Result<Option<Vec<HistoryEntry>>, StateError> {
        self.0.history_after(room, epoch, version).await
    }
    async fn delete(&self, room: &RoomKey) -> Result<bool, StateError> {
        self.0.delete(room).await
    }
    async fn purge_expired(&self) -> Result<u64, StateError> {
        self.0.purge_expired().await
    }
    async fn ping(&self) -> Result<(), StateError> {
        self.0.ping().await
    }
}

/// A patch without an op key that the store ran twice is applied once and
/// answered as a replay, not applied again from a fresh read.
#[tokio::test]
async fn a_patch_the_store_ran_twice_is_applied_once() -> anyhow::Result<()> {
    let fixture = fixture().await?;
    let twice: Arc<dyn StateStore> = Arc::new(CommitsTwice(fixture.state.clone()));
    let service = DashboardService::new(twice, StateLimits::default(), DEFAULT_COMPRESSION_THRESHOLD);
    let ops = json!([{"op": "add", "path": "/alerts/-", "value":
        {"id": "a1", "severity": "info", "message": "m", "createdAt": "2026-01-01T00:00:00Z"}}]);

    let committed = service.patch(&fixture.principal, &ops, None, None).await?;

    assert!(committed.replayed, "the second run was answered as a replay");
    assert_eq!(committed.version.version, 1);
    let current = fixture.service.get(&fixture.principal).await?.expect("a document");
    assert_eq!((current.version.version, current.document.alerts.len()), (1, 1));
    Ok(())
}
