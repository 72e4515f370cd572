//! A tab of a room: subscribes, checks every delivery for gaps and
//! duplicates, records delivery latency, and reconnects (recovering from its
//! position) when the server closes it with a code that asks for it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio::time::{sleep, sleep_until, timeout};

use super::*;

/// A tab's connection, either protocol.
enum TabConn {
    Dash(SyncClient),
    /// The Socket.IO client and the last sequence number received.
    Sio(SocketIoClient, u64),
}

/// What a tab saw.
enum TabEvent {
    /// A delta (or a batch of them), each checked, with the publish stamps.
    Deliveries(Vec<(Continuity, Option<(u64, u64)>)>),
    Snapshot,
    Pinged,
    Reject(String),
    Closed(Option<u16>),
    Other,
}

impl TabConn {
    /// The version (dash.v1) or sequence number (Socket.IO) held.
    fn held(&self) -> u64 {
        match self {
            Self::Dash(client) => client.position.as_ref().map_or(0, |position| position.v),
            Self::Sio(_, seq) => *seq,
        }
    }

    async fn next(&mut self) -> Result<TabEvent> {
        match self {
            Self::Dash(client) => Ok(match client.next_event(READ_TIMEOUT).await? {
                Event::Delta { check, ops } => TabEvent::Deliveries(vec![(check, stamp_of(&ops))]),
                Event::Batch { breaks, ops } => {
                    let mut deliveries: Vec<_> = breaks.into_iter().map(|check| (check, None)).collect();
                    let replayed = ops.len().saturating_sub(deliveries.len());
                    deliveries.extend((0..replayed).map(|_| (Continuity::Next, None)));
                    TabEvent::Deliveries(deliveries)
                }
                Event::Snapshot => TabEvent::Snapshot,
                Event::Pinged => TabEvent::Pinged,
                Event::Reject { code, .. } => TabEvent::Reject(code),
                Event::Closed { code, .. } => TabEvent::Closed(code),
                Event::Subscribed { .. } | Event::Ack { .. } | Event::Goaway { .. } | Event::Unknown { .. } => {
                    TabEvent::Other
                }
            }),
            Self::Sio(client, last) => Ok(match client.next_packet(READ_TIMEOUT).await? {
                None | Some(Packet::Close | Packet::Disconnect) => TabEvent::Closed(None),
                Some(Packet::Ping) => TabEvent::Pinged,
                Some(Packet::Event { name, args, .. }) if name == "delta" => {
                    let body = args.first().cloned().unwrap_or(Value::Null);
                    let seq = body.get("seq").and_then(Value::as_u64).context("delta without seq")?;
                    let ts = body.get("ts").and_then(Value::as_u64).context("delta without ts")?;
                    let check = if seq <= *last {
                        Continuity::Duplicate { held: *last, v: seq }
                    } else if seq == *last + 1 {
                        Continuity::Next
                    } else {
                        Continuity::Gap { held: *last, base: seq - 1 }
                    };
                    *last = (*last).max(seq);
                    TabEvent::Deliveries(vec![(check, Some((ts, seq)))])
                }
                Some(_) => TabEvent::Other,
            }),
        }
    }
}

/// Connects and subscribes (or joins) one tab, then runs it in its own task.
pub(super) async fn spawn_tab(shared: Arc<Shared>, index: usize, room: usize, tab: usize) -> Result<JoinHandle<()>> {
    let user = shared.common.user(room);
    let slot = room * shared.config.tabs + tab;
    let (conn, token) = match shared.config.transport {
        Transport::Dash => {
            let token = shared.common.token(&user)?;
            let (client, outcome) = SyncClient::connect_subscribed(&shared.common.target, index, &token, None).await?;
            count_breaks(&shared, &user, &outcome);
            (TabConn::Dash(client), token)
        }
        Transport::SocketIo => {
            let mut client = SocketIoClient::connect(&shared.common.target, index).await?;
            client.emit("join", &[json!(user)], Some(1)).await?;
            let deadline = Instant::now() + SUBSCRIBE_TIMEOUT;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match timeout(left, client.next_packet(READ_TIMEOUT)).await.context("join not acked in time")?? {
                    Some(Packet::Ack { id: 1, .. }) => break,
                    Some(Packet::Ping) => Counters::bump(&shared.counters.pongs),
                    None => bail!("closed while joining"),
                    Some(_) => {}
                }
            }
            (TabConn::Sio(client, 0), String::new())
        }
    };
    shared.tab_v[slot].store(conn.held(), Ordering::Relaxed);
    Ok(tokio::spawn(run_tab(shared, conn, index, room, slot, token)))
}

fn count_breaks(shared: &Shared, user: &str, outcome: &SubOutcome) {
    for check in &outcome.breaks {
        shared.broke(user, *check);
    }
}

/// What a tab's loop does next.
enum TabStep {
    Stop,
    Started,
    Drop,
    Event(Result<TabEvent>),
}

async fn run_tab(shared: Arc<Shared>, mut conn: TabConn, index: usize, room: usize, slot: usize, token: String) {
    let who = format!("{} tab {}", shared.common.user(room), slot % shared.config.tabs);
    let mut stop = shared.stop.clone();
    let mut start = shared.start.clone();
    let storm = shared.config.storm;
    let mut drop_at: Option<Instant> = None;
    let mut dropped = false;
    let mut reconnects = 0u32;
    loop {
        if shared.stopping() {
            break;
        }
        let drop_pending = storm.is_some() && !dropped && drop_at.is_some();
        let drop_time = drop_at.unwrap_or_else(Instant::now);
        let step = tokio::select! {
            _ = stop.changed() => TabStep::Stop,
            changed = start.changed(), if storm.is_some() && drop_at.is_none() => {
                if changed.is_err() { TabStep::Stop } else { TabStep::Started }
            }
            () = sleep_until(drop_time.into()), if drop_pending => TabStep::Drop,
            event = conn.next() => TabStep::Event(event),
        };
        match step {
            TabStep::Stop => break,
            TabStep::Started => {
                if let (Some(start), Some(plan)) = (*start.borrow(), storm) {
                    drop_at = Some(start + shared.config.warmup + plan.drop_after);
                }
            }
            TabStep::Drop => {
                dropped = true;
                // The old socket is gone from here on: every way out below returns or reconnects.
                let TabConn::Dash(client) = conn else { return };
                let position = client.position.clone();
                drop(client);
                let window = storm.map_or(Duration::ZERO, |plan| plan.window);
                sleep(window.mul_f64(spread(slot))).await;
                match reconnect(&shared, index, &token, position, true).await {
                    Ok(client) => conn = TabConn::Dash(client),
                    Err(error) => {
                        shared.counters.error(format!("{who}: storm reconnect: {error:#}"));
                        return;
                    }
                }
            }
            TabStep::Event(Err(error)) => {
                if !shared.stopping() {
                    shared.counters.error(format!("{who}: {error:#}"));
                }
                break;
            }
            TabStep::Event(Ok(event)) => match event {
                TabEvent::Deliveries(deliveries) => {
                    for (check, stamp) in deliveries {
                        shared.broke(&who, check);
                        shared.deliver(stamp);
                    }
                }
                TabEvent::Snapshot => Counters::bump(&shared.counters.snapshots),
                TabEvent::Pinged => Counters::bump(&shared.counters.pongs),
                TabEvent::Reject(code) => shared.counters.reject(&code),
                TabEvent::Other => {}
                TabEvent::Closed(code) => {
                    if shared.stopping() {
                        break;
                    }
                    let recoverable = code.is_some_and(|code| RECONNECT_CODES.contains(&code));
                    if !recoverable || reconnects >= MAX_RECONNECTS {
                        shared.counters.error(format!("{who}: closed by the server with {code:?}"));
                        break;
                    }
                    let TabConn::Dash(client) = conn else { return };
                    reconnects += 1;
                    let position = client.position.clone();
                    drop(client);
                    match reconnect(&shared, index, &token, position, false).await {
                        Ok(client) => conn = TabConn::Dash(client),
                        Err(error) => {
                            shared.counters.error(format!("{who}: reconnect after {code:?}: {error:#}"));
                            return;
                        }
                    }
                }
            },
        }
        shared.tab_v[slot].store(conn.held(), Ordering::Relaxed);
    }
    shared.tab_v[slot].store(conn.held(), Ordering::Relaxed);
    match conn {
        TabConn::Dash(client) => client.close().await,
        TabConn::Sio(client, _) => client.close().await,
    }
}

/// Reconnects a dash.v1 tab from `position` and counts how it went.
pub(super) async fn reconnect(
    shared: &Shared,
    index: usize,
    token: &str,
    position: Option<Position>,
    storm: bool,
) -> Result<SyncClient> {
    let began = Instant::now();
    let (client, outcome) = SyncClient::connect_subscribed(&shared.common.target, index, token, position).await?;
    let elapsed = began.elapsed();
    Counters::bump(&shared.counters.reconnects);
    count_breaks(shared, "reconnect", &outcome);
    for _ in &outcome.replayed_ops {
        shared.deliver(None);
    }
    if storm {
        shared.catch_up.record(elapsed.as_micros() as u64);
        let counters = &shared.storm;
        counters.reconnected.fetch_add(1, Ordering::Relaxed);
        counters.recovered.fetch_add(u64::from(outcome.recovered), Ordering::Relaxed);
        counters.snapshots.fetch_add(u64::from(outcome.snapshot), Ordering::Relaxed);
        counters.replayed.fetch_add(u64::from(outcome.replayed), Ordering::Relaxed);
    }
    Ok(client)
}
