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
use agentdeck_storage::{ConnectOptions, StateOptions, connect};
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
