//! A room's publisher: creates the room, then sends its patches on the
//! open-loop schedule, pipelined (each based on the one before), counting acks.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::{Result, bail};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, timeout};

use super::*;

/// A publisher's connection, either protocol.
enum PubConn {
    /// The client and the base of the next patch.
    Dash(SyncClient, u64),
    /// The client and the room's name.
    Sio(SocketIoClient, String),
}

/// What a publisher saw.
enum PubEvent {
    Ack { seq: u64, v: u64 },
    Reject { seq: Option<u64>, code: String },
    Pinged,
    Closed,
    Other,
}

impl PubConn {
    async fn publish(&mut self, seq: u64, ts: u64, ops: Value) -> Result<()> {
        match self {
            Self::Dash(client, base) => {
                client.send_patch(seq.to_string(), *base, ops, "agent").await?;
                *base += 1;
                Ok(())
            }
            Self::Sio(client, room) => {
                let body = json!({ "seq": seq, "ts": ts, "ops": ops });
                client.emit("delta", &[json!(room), body], Some(seq)).await
            }
        }
    }

    async fn next(&mut self) -> Result<PubEvent> {
        match self {
            Self::Dash(client, base) => Ok(match client.next_event(READ_TIMEOUT).await? {
                Event::Ack { op, v } => PubEvent::Ack { seq: op.parse().unwrap_or(0), v },
                Event::Reject { op, code, v } => {
                    if let Some(v) = v {
                        *base = v;
                    }
                    PubEvent::Reject { seq: op.and_then(|op| op.parse().ok()), code }
                }
                Event::Pinged => PubEvent::Pinged,
                Event::Closed { .. } => PubEvent::Closed,
                _ => PubEvent::Other,
            }),
            Self::Sio(client, _) => Ok(match client.next_packet(READ_TIMEOUT).await? {
                Some(Packet::Ack { id, .. }) => PubEvent::Ack { seq: id, v: id },
                Some(Packet::Ping) => PubEvent::Pinged,
                None | Some(Packet::Close | Packet::Disconnect) => PubEvent::Closed,
                Some(_) => PubEvent::Other,
            }),
        }
    }

    async fn close(self) {
        match self {
            Self::Dash(client, _) => client.close().await,
            Self::Sio(client, _) => client.close().await,
        }
    }
}

/// Connects (and subscribes) one publisher, then runs it in its own task.
pub(super) async fn spawn_publisher(shared: Arc<Shared>, index: usize, room: usize) -> Result<JoinHandle<()>> {
    let user = shared.common.user(room);
    let conn = match shared.config.transport {
        Transport::Dash => {
            let token = shared.common.token(&user)?;
            let (mut client, _) = SyncClient::connect_subscribed(&shared.common.target, index, &token, None).await?;
            let mut base = client.position.as_ref().map_or(0, |position| position.v);
            if base == 0 {
                base = create_room(&mut client, &shared.config, room).await?;
            }
            shared.room_final[room].store(base, Ordering::Relaxed);
            PubConn::Dash(client, base)
        }
        Transport::SocketIo => PubConn::Sio(SocketIoClient::connect(&shared.common.target, index).await?, user),
    };
    Ok(tokio::spawn(run_publisher(shared, conn, room)))
}

/// Commits a room's first version before the clock starts: a room's first
/// commit starts its epoch and sends every tab a snapshot, a one-off that is
/// not the steady traffic the scenario measures (5 000 rooms created in the
/// first second of the schedule made a backlog that took seconds to drain).
/// Its publish time is 0, outside any measured window. Returns the version.
async fn create_room(client: &mut SyncClient, config: &RoomsConfig, room: usize) -> Result<u64> {
    client.send_patch("create".to_owned(), 0, patch_ops(room, 0, 0, config.payload_bytes), "agent").await?;
    let deadline = Instant::now() + SUBSCRIBE_TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match timeout(left, client.next_event(left)).await {
            Ok(Ok(Event::Ack { v, .. })) => return Ok(v),
            Ok(Ok(Event::Reject { code, .. })) => bail!("creating room {room}: rejected with {code}"),
            Ok(Ok(Event::Closed { .. })) => bail!("creating room {room}: closed by the server"),
            Ok(Ok(_)) => {}
            Ok(Err(error)) => return Err(error.context(format!("creating room {room}"))),
            Err(_) => bail!("creating room {room}: no ack within {SUBSCRIBE_TIMEOUT:?}"),
        }
    }
}

/// What a publisher's loop does next.
enum PubStep {
    Stop,
    Started,
    Send,
    Event(Result<PubEvent>),
}

async fn run_publisher(shared: Arc<Shared>, mut conn: PubConn, room: usize) {
    let who = format!("{} publisher", shared.common.user(room));
    let config = &shared.config;
    let period = config.period();
    let offset = period.mul_f64(room as f64 / config.rooms as f64);
    let mut stop = shared.stop.clone();
    let mut start = shared.start.clone();
    // (next intended send, end of the schedule)
    let mut schedule: Option<(Instant, Instant)> = None;
    let mut seq = 0u64;
    let mut pending: HashMap<u64, (Instant, bool)> = HashMap::new();
    let mut done = false;
    loop {
        if shared.stopping() {
            break;
        }
        let next_send = schedule.filter(|(next, end)| next < end).map(|(next, _)| next);
        let step = tokio::select! {
            _ = stop.changed() => PubStep::Stop,
            changed = start.changed(), if schedule.is_none() => {
                if changed.is_err() { PubStep::Stop } else { PubStep::Started }
            }
            () = sleep_until(next_send.unwrap_or_else(Instant::now).into()), if next_send.is_some() => PubStep::Send,
            event = conn.next() => PubStep::Event(event),
        };
        match step {
            PubStep::Stop => break,
            PubStep::Started => {
                if let Some(start) = *start.borrow() {
                    schedule = Some((start + offset, start + config.duration));
                }
            }
            PubStep::Send => {
                let Some((intended, end)) = schedule else { continue };
                seq += 1;
                // Stamped with the real send time: the timer wakes up to a millisecond late, which is the
                // generator's lag (reported apart), not the server's; server stalls still count in full,
                // since the schedule does not wait for acks, and the histogram corrects for them.
                let ts = now_us();
                shared.publish_lag.record(intended.elapsed().as_micros() as u64);
                let ops = patch_ops(room, seq, ts, config.payload_bytes);
                if let Err(error) = conn.publish(seq, ts, ops).await {
                    shared.counters.error(format!("{who}: {error:#}"));
                    break;
                }
                Counters::bump(&shared.counters.sent);
                pending.insert(seq, (Instant::now(), shared.measured(ts)));
                schedule = Some((intended + period, end));
            }
            PubStep::Event(Err(error)) => {
                if !shared.stopping() {
                    shared.counters.error(format!("{who}: {error:#}"));
                }
                break;
            }
            PubStep::Event(Ok(event)) => match event {
                PubEvent::Ack { seq, v } => {
                    if let Some((sent_at, measured)) = pending.remove(&seq) {
                        shared.commit_latency.record(sent_at.elapsed().as_micros() as u64);
                        if measured {
                            Counters::bump(&shared.counters.measured_commits);
                        }
                    }
                    Counters::bump(&shared.counters.commits);
                    shared.room_final[room].fetch_max(v, Ordering::Relaxed);
                }
                PubEvent::Reject { seq, code } => {
                    shared.counters.reject(&code);
                    if let Some(seq) = seq {
                        pending.remove(&seq);
                    }
                }
                PubEvent::Pinged => Counters::bump(&shared.counters.pongs),
                PubEvent::Other => {}
                PubEvent::Closed => {
                    if !shared.stopping() {
                        shared.counters.error(format!("{who}: closed by the server"));
                    }
                    break;
                }
            },
        }
        if !done && schedule.is_some_and(|(next, end)| next >= end) && pending.is_empty() {
            done = true;
            shared.publishers_done.fetch_add(1, Ordering::Relaxed);
        }
    }
    if !done {
        // Counted anyway so the drain does not wait for a publisher that is gone.
        shared.publishers_done.fetch_add(1, Ordering::Relaxed);
    }
    conn.close().await;
}
