//! What happens when the hub cannot queue a commit notice for a room: the room
//! is told it missed one, and its owner catches up from the store.

use std::time::Duration;

use agentdeck_domain::auth::{Principal, Role};
use agentdeck_domain::dashboard::codec::DEFAULT_COMPRESSION_THRESHOLD;
use agentdeck_domain::dashboard::document::StateLimits;
use agentdeck_storage::testing::TestDatabase;
use agentdeck_storage::{ConnectOptions, StateOptions, StateStore, connect};
use agentdeck_sync_protocol::ClientFrame;
use futures::FutureExt as _;
use serde_json::{Value, json};
use uuid::Uuid;

use super::*;

async fn state_store(database: &TestDatabase) -> Arc<dyn StateStore> {
    let options = ConnectOptions { max_connections: 2, acquire_timeout: Duration::from_secs(30) };
    let stores = connect(&database.url, &options).await.expect("connects");
    stores.database.migrate().await.expect("migrates");
    stores.database.embedded_state(StateOptions::default()).expect("SQLite keeps the state")
}

fn dashboard(state: Arc<dyn StateStore>) -> DashboardService {
    DashboardService::new(state, StateLimits::default(), DEFAULT_COMPRESSION_THRESHOLD)
}

fn ada() -> Principal {
    Principal { subject: "ada".into(), workspace_id: Uuid::now_v7(), role: Role::Member }
}

async fn next_frame(connection: &mut Connection) -> Value {
    let frame = tokio::time::timeout(Duration::from_secs(5), connection.next_frame())
        .await
        .expect("a frame in time")
        .expect("room open");
    match frame {
        OutFrame::Text(text) => serde_json::from_str(&text).expect("JSON"),
        OutFrame::Binary(_) => panic!("no gzip asked for"),
    }
}

#[tokio::test]
async fn a_notice_that_cannot_be_queued_raises_the_rooms_missed_signal() {
    let database = TestDatabase::sqlite().expect("database");
    let hub = Hub::new(dashboard(state_store(&database).await), HubSettings::default());
    let key = room_of(&ada());
    // A room whose owner is busy: its one-slot queue is already full.
    let (commands, _owner_side) = mpsc::channel(1);
    commands.try_send(Command::Committed(Box::new(Change::Deleted))).expect("first notice fits");
    let missed = Arc::new(Notify::new());
    let task = tokio::spawn(async {});
    hub.inner.rooms().insert(key.clone(), RoomEntry { generation: 0, commands, missed: Arc::clone(&missed), task });

    hub.inner.committed(&key, CommittedChange::Deleted);

    assert!(missed.notified().now_or_never().is_some(), "the owner is told it missed a notice");
}

#[tokio::test]
async fn a_room_told_it_missed_a_notice_catches_up_from_the_store() {
    let database = TestDatabase::sqlite().expect("database");
    let state = state_store(&database).await;
    let hub = Hub::new(dashboard(Arc::clone(&state)), HubSettings::default());
    // Commits through a service nobody listens to stand for the notices the room did not get.
    let unheard = dashboard(state);
    let principal = ada();
    let patch = |n: u32| json!([{ "op": "add", "path": "/activeProject", "value": format!("project-{n}") }]);
    // The room exists (its epoch is set) before the tab subscribes.
    unheard.patch(&principal, &patch(0), None, None).await.expect("commits");
    let mut tab = hub.connect(&principal, false).expect("joins");
    tab.send(ClientFrame::Sub { epoch: None, v: None }).await.expect("sends");
    assert_eq!(next_frame(&mut tab).await["t"], "snapshot");
    let subscribed = next_frame(&mut tab).await;
    assert_eq!(subscribed["t"], "subscribed");
    let mut held = subscribed["v"].as_u64().expect("v");

    for n in 1..=3 {
        unheard.patch(&principal, &patch(n), None, None).await.expect("commits");
    }
    hub.inner.rooms().get(&room_of(&principal)).expect("the room is open").missed.notify_one();

    for _ in 0..3 {
        let delta = next_frame(&mut tab).await;
        assert_eq!((&delta["t"], &delta["base"]), (&json!("delta"), &json!(held)), "{delta}");
        held = delta["v"].as_u64().expect("v");
    }
    assert_eq!(held, 4);
}
