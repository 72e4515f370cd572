//! The sync hub over a real (SQLite) state store: a room's owner runs while
//! someone is connected, an empty room is a default document at version 0,
//! and a connection that does not read is dropped instead of stalling the room.

use std::time::Duration;

use agentdeck_domain::auth::{Principal, Role};
use agentdeck_domain::dashboard::codec::DEFAULT_COMPRESSION_THRESHOLD;
use agentdeck_domain::dashboard::document::StateLimits;
use agentdeck_services::dashboard::DashboardService;
use agentdeck_services::sync::{Connection, ConnectionCaps, Hub, OUTBOUND_CAPACITY};
use agentdeck_storage::testing::TestDatabase;
use agentdeck_storage::{ChangeFeed, ConnectOptions, RoomKey, RoomSignal, RoomWatch, StateOptions, connect};
use agentdeck_sync_protocol::{ClientFrame, close};
use anyhow::Context;
use serde_json::Value;
use uuid::Uuid;

async fn hub() -> anyhow::Result<(TestDatabase, Hub, Principal)> {
    let database = TestDatabase::sqlite()?;
    let options = ConnectOptions { max_connections: 2, acquire_timeout: Duration::from_secs(30) };
    let store = connect(&database.url, &options).await?;
    store.migrate().await?;
    let state = store.embedded_state(StateOptions::default()).context("SQLite keeps the state")?;
    let service = DashboardService::new(state, StateLimits::default(), DEFAULT_COMPRESSION_THRESHOLD);
    let principal = Principal { subject: "ada".into(), workspace_id: Uuid::now_v7(), role: Role::Member };
    Ok((database, Hub::new(service, 100, ConnectionCaps { per_user: 5, per_workspace: 100 }), principal))
}

async fn next_frame(connection: &mut Connection) -> anyhow::Result<Value> {
    let text = tokio::time::timeout(Duration::from_secs(5), connection.outbound.recv())
        .await
        .context("a frame in time")?
        .context("room open")?;
    Ok(serde_json::from_str(&text)?)
}

#[tokio::test]
async fn a_room_runs_while_someone_is_connected_and_starts_empty() -> anyhow::Result<()> {
    let (_database, hub, principal) = hub().await?;
    let mut a = hub.connect(&principal)?;
    let b = hub.connect(&principal)?;
    assert_eq!(hub.active_rooms(), 1, "one owner per room");

    a.send(ClientFrame::Sub { epoch: None, v: None }).await?;
    let snapshot = next_frame(&mut a).await?;
    assert_eq!(snapshot["t"], "snapshot");
    assert_eq!((snapshot["epoch"].as_str(), snapshot["v"].as_u64()), (Some(""), Some(0)), "{snapshot}");
    assert_eq!(next_frame(&mut a).await?["t"], "subscribed");

    drop(a);
    drop(b);
    for _ in 0..200 {
        if hub.active_rooms() == 0 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    anyhow::bail!("the room's owner kept running after its last connection left")
}

#[tokio::test]
async fn a_connection_that_does_not_read_is_dropped_with_4008() -> anyhow::Result<()> {
    let (_database, hub, principal) = hub().await?;
    let mut slow = hub.connect(&principal)?;
    let mut reader = hub.connect(&principal)?;
    for _ in 0..=OUTBOUND_CAPACITY {
        slow.send(ClientFrame::Resync).await?;
    }
    let code = tokio::time::timeout(Duration::from_secs(10), &mut slow.kicked).await??;
    assert_eq!(code, close::SLOW_CONSUMER);
    // The room still serves everyone else.
    reader.send(ClientFrame::Resync).await?;
    assert_eq!(next_frame(&mut reader).await?["t"], "snapshot");
    Ok(())
}

/// A change feed the test drives by hand: stands in for Redis pub/sub to inject lost and late messages.
#[derive(Default)]
struct ManualFeed {
    senders: std::sync::Mutex<Vec<tokio::sync::watch::Sender<Option<RoomSignal>>>>,
}

impl ManualFeed {
    fn signal(&self, signal: RoomSignal) {
        for sender in self.senders.lock().unwrap().iter() {
            sender.send_replace(Some(signal.clone()));
        }
    }
}

impl ChangeFeed for ManualFeed {
    fn watch(&self, _room: &RoomKey) -> RoomWatch {
        let (sender, receiver) = tokio::sync::watch::channel(None);
        self.senders.lock().unwrap().push(sender);
        RoomWatch::new(receiver, Box::new(()))
    }
}

/// Expects deltas from `held` up to `until`, each following the last.
async fn expect_deltas(connection: &mut Connection, mut held: u64, until: u64) -> anyhow::Result<()> {
    while held < until {
        let frame = next_frame(connection).await?;
        anyhow::ensure!(frame["t"] == "delta" && frame["base"] == held, "held v{held}, got {frame}");
        held = frame["v"].as_u64().context("v")?;
    }
    Ok(())
}

async fn expect_silence(connection: &mut Connection) -> anyhow::Result<()> {
    match tokio::time::timeout(Duration::from_millis(200), connection.outbound.recv()).await {
        Err(_) => Ok(()),
        Ok(frame) => anyhow::bail!("expected nothing, got {frame:?}"),
    }
}

#[tokio::test]
async fn a_node_fills_a_gap_from_the_history_or_else_sends_a_snapshot() -> anyhow::Result<()> {
    let database = TestDatabase::sqlite()?;
    let options = ConnectOptions { max_connections: 2, acquire_timeout: Duration::from_secs(30) };
    let store = connect(&database.url, &options).await?;
    store.migrate().await?;
    let state_options = StateOptions { history_len: 4, ..StateOptions::default() };
    let state = store.embedded_state(state_options).context("SQLite keeps the state")?;
    let service = DashboardService::new(state, StateLimits::default(), DEFAULT_COMPRESSION_THRESHOLD);
    let principal = Principal { subject: "ada".into(), workspace_id: Uuid::now_v7(), role: Role::Member };
    let caps = ConnectionCaps { per_user: 5, per_workspace: 100 };
    // Node B hears other nodes' commits only through the feed; "node A" is the service itself.
    let feed = std::sync::Arc::new(ManualFeed::default());
    let node_b = Hub::with_feed(service.clone(), 100, caps, Some(feed.clone()));
    let set_project = |n: u32| serde_json::json!([{ "op": "add", "path": "/activeProject", "value": format!("p{n}") }]);

    let first = service.patch(&principal, &set_project(0), None, None).await?.version;
    let mut tab = node_b.connect(&principal)?;
    tab.send(ClientFrame::Sub { epoch: None, v: None }).await?;
    assert_eq!(next_frame(&mut tab).await?["t"], "snapshot");
    assert_eq!(next_frame(&mut tab).await?["t"], "subscribed");

    // Three commits elsewhere whose messages were lost, then one that arrives: all three are replayed in order.
    let mut last = first.clone();
    for n in 1..=3 {
        last = service.patch(&principal, &set_project(n), None, None).await?.version;
    }
    expect_silence(&mut tab).await?;
    feed.signal(RoomSignal::Committed { epoch: last.epoch.clone(), version: last.version });
    expect_deltas(&mut tab, first.version, last.version).await?;

    // A late message about a version already sent changes nothing.
    feed.signal(RoomSignal::Committed { epoch: last.epoch.clone(), version: last.version - 1 });
    expect_silence(&mut tab).await?;

    // More commits than the history keeps (4): a snapshot of the current state instead.
    for n in 4..=9 {
        last = service.patch(&principal, &set_project(n), None, None).await?.version;
    }
    feed.signal(RoomSignal::Resubscribed);
    let snapshot = next_frame(&mut tab).await?;
    assert_eq!((snapshot["t"].as_str(), snapshot["v"].as_u64()), (Some("snapshot"), Some(last.version)), "{snapshot}");
    assert_eq!(snapshot["state"]["activeProject"], "p9");

    // A deletion elsewhere: the empty room at version 0.
    service.delete(&principal, None).await?;
    feed.signal(RoomSignal::Deleted);
    let snapshot = next_frame(&mut tab).await?;
    assert_eq!((snapshot["t"].as_str(), snapshot["v"].as_u64()), (Some("snapshot"), Some(0)), "{snapshot}");
    Ok(())
}
