//! The sync hub over a real (SQLite) state store: a room's owner runs while
//! someone is connected, an empty room is a default document at version 0,
//! and a connection that does not read is dropped instead of stalling the room.

use std::time::Duration;

use agentdeck_domain::auth::{Principal, Role};
use agentdeck_domain::dashboard::codec::DEFAULT_COMPRESSION_THRESHOLD;
use agentdeck_domain::dashboard::document::StateLimits;
use agentdeck_services::dashboard::DashboardService;
use agentdeck_services::sync::{Connection, Hub, HubSettings, OutFrame, QueueLimits};
use agentdeck_storage::testing::TestDatabase;
use agentdeck_storage::{ChangeFeed, ConnectOptions, RoomKey, RoomSignal, RoomWatch, StateOptions, connect};
use agentdeck_sync_protocol::{ClientFrame, close};
use anyhow::Context;
use serde_json::Value;
use tokio::sync::watch;
use uuid::Uuid;

async fn hub() -> anyhow::Result<(TestDatabase, Hub, Principal)> {
    hub_with(HubSettings::default()).await
}

async fn hub_with(settings: HubSettings) -> anyhow::Result<(TestDatabase, Hub, Principal)> {
    let (database, service, principal) = service().await?;
    Ok((database, Hub::new(service, settings), principal))
}

async fn service() -> anyhow::Result<(TestDatabase, DashboardService, Principal)> {
    let database = TestDatabase::sqlite()?;
    let options = ConnectOptions { max_connections: 2, acquire_timeout: Duration::from_secs(30) };
    let store = connect(&database.url, &options).await?;
    store.database.migrate().await?;
    let state = store.database.embedded_state(StateOptions::default()).context("SQLite keeps the state")?;
    let service = DashboardService::new(state, StateLimits::default(), DEFAULT_COMPRESSION_THRESHOLD);
    let principal = Principal { subject: "ada".into(), workspace_id: Uuid::now_v7(), role: Role::Member };
    Ok((database, service, principal))
}

async fn next_frame(connection: &mut Connection) -> anyhow::Result<Value> {
    let frame = tokio::time::timeout(Duration::from_secs(5), connection.next_frame())
        .await
        .context("a frame in time")?
        .context("room open")?;
    decode(frame)
}

/// A frame as JSON, inflating gzip binary frames.
fn decode(frame: OutFrame) -> anyhow::Result<Value> {
    Ok(match frame {
        OutFrame::Text(text) => serde_json::from_str(&text)?,
        OutFrame::Binary(bytes) => serde_json::from_reader(flate2::read::GzDecoder::new(&bytes[..]))?,
    })
}

#[tokio::test]
async fn a_room_runs_while_someone_is_connected_and_starts_empty() -> anyhow::Result<()> {
    let (_database, hub, principal) = hub().await?;
    let mut a = hub.connect(&principal, false)?;
    let b = hub.connect(&principal, false)?;
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

/// Settings with a small outbound queue, so a handful of deltas passes its marks.
fn small_queue() -> HubSettings {
    HubSettings { queue: QueueLimits { high_water_bytes: 2_000, limit_bytes: 6_000 }, ..HubSettings::default() }
}

fn set_project(n: u32) -> Value {
    serde_json::json!([{ "op": "add", "path": "/activeProject", "value": format!("project-number-{n:04}") }])
}

/// Commits `count` patches the way REST does: through the service, which tells the hub.
/// With `reader_holds` (the version a reading connection holds), each commit
/// waits until the reader has the one before, so the reader keeps up on any
/// machine; stops early if the reader is gone.
async fn commit_elsewhere(
    service: &DashboardService,
    principal: &Principal,
    from: u32,
    count: u32,
    mut reader_holds: Option<watch::Receiver<u64>>,
) {
    for n in from..from + count {
        let committed = service.patch(principal, &set_project(n), None, None).await.expect("commits");
        if let Some(holds) = reader_holds.as_mut()
            && holds.wait_for(|held| *held >= committed.version.version).await.is_err()
        {
            return;
        }
    }
}

async fn subscribed(hub: &Hub, principal: &Principal) -> anyhow::Result<(Connection, u64)> {
    let mut connection = hub.connect(principal, false)?;
    connection.send(ClientFrame::Sub { epoch: None, v: None }).await?;
    assert_eq!(next_frame(&mut connection).await?["t"], "snapshot");
    let subscribed = next_frame(&mut connection).await?;
    assert_eq!(subscribed["t"], "subscribed");
    Ok((connection, subscribed["v"].as_u64().context("v")?))
}

/// Waits until the room has handled everything sent so far (its answer to a `resync` arrived).
async fn settle(connection: &mut Connection) -> anyhow::Result<()> {
    connection.send(ClientFrame::Resync).await?;
    while next_frame(connection).await?["t"] != "snapshot" {}
    Ok(())
}

#[tokio::test]
async fn a_tab_that_falls_behind_gets_one_snapshot_instead_of_its_backlog() -> anyhow::Result<()> {
    let (_database, service, principal) = service().await?;
    let hub = Hub::new(service.clone(), small_queue());
    service.patch(&principal, &set_project(0), None, None).await?;
    let (mut slow, start) = subscribed(&hub, &principal).await?;
    let (mut reader, _) = subscribed(&hub, &principal).await?;

    // ~150 bytes per delta: 20 of them pass the 2 000-byte mark once while `slow` reads nothing.
    commit_elsewhere(&service, &principal, 1, 20, None).await;
    settle(&mut reader).await?;
    assert!(slow.queued_bytes() < 2_000, "the backlog was replaced: {} bytes queued", slow.queued_bytes());

    // What `slow` then reads is consistent: deltas that follow each other, a snapshot that resets.
    let mut held = start;
    let mut snapshots = 0;
    while held < start + 20 {
        let frame = next_frame(&mut slow).await?;
        match frame["t"].as_str() {
            Some("snapshot") => {
                snapshots += 1;
                held = frame["v"].as_u64().context("v")?;
            }
            Some("delta") => {
                anyhow::ensure!(frame["base"] == held, "held v{held}, got {frame}");
                held = frame["v"].as_u64().context("v")?;
            }
            other => anyhow::bail!("unexpected {other:?}"),
        }
    }
    assert_eq!(snapshots, 1, "one snapshot replaced the backlog");
    // The slow tab was coalesced, not dropped: nobody told it to close.
    assert_eq!(slow.kicked.try_recv(), Err(tokio::sync::oneshot::error::TryRecvError::Empty));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tab_that_cannot_even_take_its_snapshot_is_dropped_with_4008() -> anyhow::Result<()> {
    let (_database, service, principal) = service().await?;
    let hub = Hub::new(service.clone(), small_queue());
    service.patch(&principal, &set_project(0), None, None).await?;
    let (mut slow, _) = subscribed(&hub, &principal).await?;
    let (mut reader, start) = subscribed(&hub, &principal).await?;

    // The reader keeps up (each commit waits for it) while 60 deltas pass `slow`'s
    // mark twice: coalesced once, then dropped.
    let (reader_holds, holds) = watch::channel(start);
    let reading = tokio::spawn(async move {
        let mut held = start;
        while held < start + 60 {
            let frame = next_frame(&mut reader).await?;
            anyhow::ensure!(frame["t"] == "delta" && frame["base"] == held, "held v{held}, got {frame}");
            held = frame["v"].as_u64().context("v")?;
            reader_holds.send_replace(held);
        }
        anyhow::Ok(())
    });
    commit_elsewhere(&service, &principal, 1, 60, Some(holds)).await;
    // The room kept serving the reader every delta, in order.
    reading.await??;
    let code = tokio::time::timeout(Duration::from_secs(10), &mut slow.kicked).await??;
    assert_eq!(code, close::SLOW_CONSUMER);
    Ok(())
}

#[tokio::test]
async fn large_snapshots_go_compressed_to_connections_that_take_gzip() -> anyhow::Result<()> {
    let settings = HubSettings { compress_above_bytes: 1_000, ..HubSettings::default() };
    let (_database, hub, principal) = hub_with(settings).await?;
    let mut plain = hub.connect(&principal, false)?;
    let mut gzip = hub.connect(&principal, true)?;

    // A small snapshot is text for everyone.
    gzip.send(ClientFrame::Sub { epoch: None, v: None }).await?;
    assert!(matches!(gzip.next_frame().await, Some(OutFrame::Text(_))));
    assert_eq!(next_frame(&mut gzip).await?["t"], "subscribed");

    // Fill the document past the threshold: 40 alerts of ~100 bytes.
    let alerts: Vec<Value> = (0..40)
        .map(|n| {
            serde_json::json!({ "op": "add", "path": "/alerts/-", "value": {
                "id": format!("alert-{n}"), "severity": "warning", "message": format!("Task {n} is late by two days"),
                "createdAt": "2026-11-22T10:00:00Z", "dismissed": false } })
        })
        .collect();
    plain.send(ClientFrame::Sub { epoch: None, v: None }).await?;
    assert_eq!(next_frame(&mut plain).await?["t"], "snapshot");
    assert_eq!(next_frame(&mut plain).await?["t"], "subscribed");
    plain.send(ClientFrame::Patch { op: "fill".into(), base: 0, ops: Value::Array(alerts), tab: "t".into() }).await?;
    assert_eq!(next_frame(&mut plain).await?["t"], "ack");

    for connection in [&mut plain, &mut gzip] {
        connection.send(ClientFrame::Resync).await?;
    }
    let text = loop {
        match plain.next_frame().await.context("frame")? {
            OutFrame::Text(text) if text.contains(r#""t":"snapshot""#) => break text,
            _ => {}
        }
    };
    let compressed = loop {
        match gzip.next_frame().await.context("frame")? {
            OutFrame::Binary(bytes) => break bytes,
            OutFrame::Text(text) => assert!(!text.contains(r#""t":"snapshot""#), "a large snapshot came as text"),
        }
    };
    let inflated = decode(OutFrame::Binary(compressed.clone()))?;
    assert_eq!(inflated, serde_json::from_str::<Value>(&text)?, "the same frame, compressed");
    let ratio = compressed.len() as f64 / text.len() as f64;
    println!("snapshot {} bytes as JSON, {} gzip-compressed: ratio {ratio:.3}", text.len(), compressed.len());
    assert!(ratio < 0.25, "ratio {ratio}");
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
    match tokio::time::timeout(Duration::from_millis(200), connection.next_frame()).await {
        Err(_) => Ok(()),
        Ok(frame) => anyhow::bail!("expected nothing, got {frame:?}"),
    }
}

#[tokio::test]
async fn a_node_fills_a_gap_from_the_history_or_else_sends_a_snapshot() -> anyhow::Result<()> {
    let database = TestDatabase::sqlite()?;
    let options = ConnectOptions { max_connections: 2, acquire_timeout: Duration::from_secs(30) };
    let store = connect(&database.url, &options).await?;
    store.database.migrate().await?;
    let state_options = StateOptions { history_len: 4, ..StateOptions::default() };
    let state = store.database.embedded_state(state_options).context("SQLite keeps the state")?;
    let service = DashboardService::new(state.clone(), StateLimits::default(), DEFAULT_COMPRESSION_THRESHOLD);
    let principal = Principal { subject: "ada".into(), workspace_id: Uuid::now_v7(), role: Role::Member };
    // Node B hears other nodes' commits only through the feed; "node A" is another service on the same store.
    let feed = std::sync::Arc::new(ManualFeed::default());
    let node_b_service = DashboardService::new(state, StateLimits::default(), DEFAULT_COMPRESSION_THRESHOLD);
    let node_b = Hub::with_feed(node_b_service, HubSettings::default(), Some(feed.clone()));

    let first = service.patch(&principal, &set_project(0), None, None).await?.version;
    let mut tab = node_b.connect(&principal, false)?;
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
    assert_eq!(snapshot["state"]["activeProject"], "project-number-0009");

    // A deletion elsewhere: the empty room at version 0.
    service.delete(&principal, None).await?;
    feed.signal(RoomSignal::Deleted);
    let snapshot = next_frame(&mut tab).await?;
    assert_eq!((snapshot["t"].as_str(), snapshot["v"].as_u64()), (Some("snapshot"), Some(0)), "{snapshot}");
    Ok(())
}

#[tokio::test]
async fn deltas_and_acks_carry_what_the_rules_changed_so_replicas_match_the_store() -> anyhow::Result<()> {
    let (_database, service, principal) = service().await?;
    let hub = Hub::new(service.clone(), HubSettings::default());
    service.patch(&principal, &set_project(0), None, None).await?;
    let (mut writer, start) = subscribed(&hub, &principal).await?;
    let mut reader = hub.connect(&principal, false)?;
    reader.send(ClientFrame::Sub { epoch: None, v: None }).await?;
    let mut replica = next_frame(&mut reader).await?["state"].clone();
    assert_eq!(next_frame(&mut reader).await?["t"], "subscribed");

    // An alert that is not dismissed also enters the derived `activeAlerts`.
    let alert = serde_json::json!({ "id": "late", "severity": "warning", "message": "Task 7 is late",
                                    "createdAt": "2026-11-22T10:00:00Z" });
    let ops = serde_json::json!([{ "op": "add", "path": "/alerts/-", "value": alert }]);
    writer.send(ClientFrame::Patch { op: "a1".into(), base: start, ops, tab: "w".into() }).await?;
    let ack = next_frame(&mut writer).await?;
    assert_eq!(ack["t"], "ack", "{ack}");
    let ack_ops = ack["ops"].as_array().context("the ack carries the committed change")?;
    assert!(ack_ops.iter().any(|op| op["path"].as_str().is_some_and(|path| path.starts_with("/activeAlerts"))));

    let delta = next_frame(&mut reader).await?;
    assert_eq!(delta["t"], "delta", "{delta}");
    let committed: Vec<json_patch::PatchOperation> = serde_json::from_value(delta["ops"].clone())?;
    json_patch::patch(&mut replica, &committed)?;
    reader.send(ClientFrame::Resync).await?;
    let stored = next_frame(&mut reader).await?;
    assert_eq!(replica, stored["state"], "the reader's replica is the stored document");
    assert_eq!(replica["activeAlerts"], serde_json::json!(["late"]));
    Ok(())
}

/// §2: the service announces every commit, so a writer that only calls the
/// service (REST, the gateway, the meter) reaches open tabs: a patch as a
/// delta, a replace and a delete as a fresh snapshot.
#[tokio::test]
async fn every_write_through_the_service_reaches_open_tabs() -> anyhow::Result<()> {
    let (_database, service, principal) = service().await?;
    let hub = Hub::new(service.clone(), HubSettings::default());
    let first = service.patch(&principal, &set_project(0), None, None).await?.version;
    let (mut tab, start) = subscribed(&hub, &principal).await?;
    assert_eq!(start, first.version);

    let patched = service.patch(&principal, &set_project(1), None, None).await?.version;
    let delta = next_frame(&mut tab).await?;
    assert_eq!(
        (delta["t"].as_str(), delta["base"].as_u64(), delta["v"].as_u64()),
        (Some("delta"), Some(start), Some(patched.version)),
        "{delta}"
    );
    assert_eq!(delta["ops"][0]["value"], "project-number-0001");

    let replaced = service
        .replace(&principal, &serde_json::json!({"schemaVersion": 2, "activeProject": "p-new"}), None)
        .await?
        .version;
    let snapshot = next_frame(&mut tab).await?;
    assert_eq!(
        (snapshot["t"].as_str(), snapshot["epoch"].as_str()),
        (Some("snapshot"), Some(replaced.epoch.as_str())),
        "{snapshot}"
    );
    assert_eq!(snapshot["state"]["activeProject"], "p-new");

    service.delete(&principal, None).await?;
    let snapshot = next_frame(&mut tab).await?;
    assert_eq!((snapshot["t"].as_str(), snapshot["v"].as_u64()), (Some("snapshot"), Some(0)), "{snapshot}");
    Ok(())
}
