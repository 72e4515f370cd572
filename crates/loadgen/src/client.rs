//! A `dash.v1` client: the upgrade with a bearer token, `hello`, `sub`, and the
//! frames after it, with the version check every delta must pass.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use agentdeck_sync_protocol::{ClientFrame, SUBPROTOCOL, ServerFrame, close};
use anyhow::{Context, Result, bail};
use backon::{ExponentialBuilder, Retryable};
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::{AUTHORIZATION, HeaderValue, SEC_WEBSOCKET_PROTOCOL};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::target::Target;

/// A client WebSocket over plain TCP.
pub type WsStream = WebSocketStream<TcpStream>;

/// Longest a TCP connect plus WebSocket upgrade may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest from `sub` to `subscribed`.
pub const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest a client waits for any frame (the server pings every 25 s by default).
pub const READ_TIMEOUT: Duration = Duration::from_secs(75);
/// Read buffer per socket: frames are small and thousands of sockets add up.
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// Socket settings for thousands of client sockets in one process.
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES).write_buffer_size(0)
}

/// Opens a WebSocket to `path` on the target with extra headers; `index` picks the source address.
pub async fn open_ws(
    target: &Target,
    index: usize,
    path: &str,
    headers: &[(&'static str, String)],
) -> Result<(WsStream, Option<String>)> {
    let stream = target.tcp_connect(index, CONNECT_TIMEOUT).await?;
    let mut request = format!("ws://{}{path}", target.authority()).into_client_request()?;
    for (name, value) in headers {
        request.headers_mut().insert(*name, HeaderValue::from_str(value).context("header value")?);
    }
    let handshake = tokio_tungstenite::client_async_with_config(request, stream, Some(ws_config()));
    match timeout(CONNECT_TIMEOUT, handshake).await {
        Err(_) => bail!("WebSocket upgrade of {path} timed out"),
        Ok(Err(WsError::Http(response))) => {
            let body = response.body().as_deref().map(String::from_utf8_lossy).unwrap_or_default().into_owned();
            Err(Refused { path: path.to_owned(), status: response.status().as_u16(), body }.into())
        }
        Ok(Err(error)) => Err(error).context("WebSocket upgrade"),
        Ok(Ok((ws, response))) => {
            let protocol =
                response.headers().get(SEC_WEBSOCKET_PROTOCOL).and_then(|v| v.to_str().ok()).map(str::to_owned);
            Ok((ws, protocol))
        }
    }
}

/// The server answered the upgrade with an HTTP error instead.
#[derive(Debug, Clone)]
pub struct Refused {
    /// The path asked for.
    pub path: String,
    /// HTTP status.
    pub status: u16,
    /// The error body.
    pub body: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "upgrade of {} refused: {} {}", self.path, self.status, self.body)
    }
}

impl std::error::Error for Refused {}

/// The server closed the socket before `subscribed` (4029: the room is busy, back off).
#[derive(Debug, Clone)]
pub struct ClosedEarly {
    /// Close code, if any.
    pub code: Option<u16>,
    /// Close reason.
    pub reason: String,
}

impl std::fmt::Display for ClosedEarly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "closed while subscribing: {:?} {}", self.code, self.reason)
    }
}

impl std::error::Error for ClosedEarly {}

/// The server answered `sub` with a `reject` (`unavailable`: its store is busy, retry later).
#[derive(Debug, Clone)]
pub struct SubRefused {
    /// The reject code.
    pub code: String,
}

impl std::fmt::Display for SubRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sub refused: {}", self.code)
    }
}

impl std::error::Error for SubRefused {}

/// Whether an error is the server asking to come back later (503 before the upgrade, 4029 after it,
/// `reject{unavailable}` to `sub`).
fn is_busy(error: &anyhow::Error) -> bool {
    error.downcast_ref::<Refused>().is_some_and(|refused| refused.status == 503)
        || error.downcast_ref::<ClosedEarly>().is_some_and(|closed| closed.code == Some(close::RATE_LIMITED))
        || error.downcast_ref::<SubRefused>().is_some_and(|refused| refused.code == "unavailable")
}

/// Backoff between tries of a busy connection: 50 ms doubling to 800 ms, [`MAX_CONNECT_TRIES`] tries in all.
fn busy_backoff() -> ExponentialBuilder {
    ExponentialBuilder::new()
        .with_min_delay(Duration::from_millis(50))
        .with_factor(2.0)
        .with_max_delay(Duration::from_millis(800))
        .with_max_times(MAX_CONNECT_TRIES as usize - 1)
}

/// Connections the server called busy (503, 4029, `unavailable`) and that were tried again, since the process started.
static CONNECT_RETRIES: AtomicU64 = AtomicU64::new(0);
/// Tries of one connection while the server answers 503.
const MAX_CONNECT_TRIES: u32 = 20;

/// How many connections were found busy and retried so far (read before and after a run).
pub fn connect_retries() -> u64 {
    CONNECT_RETRIES.load(Ordering::Relaxed)
}

/// Where a client is in its room's log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Position {
    /// Epoch of the log.
    pub epoch: String,
    /// Version held.
    pub v: u64,
}

/// How a delta relates to the version held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Continuity {
    /// `base` equals the version held: applied.
    Next,
    /// `base` is past the version held: versions were skipped.
    Gap {
        /// Version held.
        held: u64,
        /// The delta's base.
        base: u64,
    },
    /// The delta's version is at or below the version held: seen before.
    Duplicate {
        /// Version held.
        held: u64,
        /// The delta's version.
        v: u64,
    },
    /// A delta of another epoch arrived without a snapshot first.
    OtherEpoch,
    /// A delta arrived before any snapshot or batch placed the client.
    Unplaced,
}

impl Continuity {
    /// Whether the delta was the next one.
    pub fn is_next(self) -> bool {
        self == Self::Next
    }
}

impl Position {
    /// Checks and applies a delta `base → v` of `epoch`; a gap or another epoch still moves to `v`
    /// (so each break is counted once), a duplicate does not.
    pub fn apply(&mut self, epoch: &str, base: u64, v: u64) -> Continuity {
        if epoch != self.epoch {
            self.epoch = epoch.to_owned();
            self.v = v;
            return Continuity::OtherEpoch;
        }
        if v <= self.v {
            return Continuity::Duplicate { held: self.v, v };
        }
        let held = self.v;
        self.v = v;
        if base == held { Continuity::Next } else { Continuity::Gap { held, base } }
    }
}

/// What one server frame meant to the client.
#[derive(Debug)]
pub enum Event {
    /// A delta, checked against the version held.
    Delta {
        /// Its relation to the version held before it.
        check: Continuity,
        /// The operations (the publisher's timestamp is inside).
        ops: Value,
    },
    /// A batch of missed deltas, each checked.
    Batch {
        /// Entries that were not the next version.
        breaks: Vec<Continuity>,
        /// Operations of every entry, oldest first.
        ops: Vec<Value>,
    },
    /// The whole state; the client now holds its version.
    Snapshot,
    /// The subscription is live.
    Subscribed {
        /// Every missed change came from history.
        recovered: bool,
        /// The client asked to recover.
        was_recovering: bool,
        /// Changes replayed.
        replayed: u32,
        /// The server's version equals the one the client holds.
        agrees: bool,
    },
    /// Our patch committed.
    Ack {
        /// Its op id.
        op: String,
        /// Version after it.
        v: u64,
    },
    /// Our patch (or frame) was refused.
    Reject {
        /// Its op id, if any.
        op: Option<String>,
        /// Why (`conflict`, `rate_limited`, …).
        code: String,
        /// The room's version.
        v: Option<u64>,
    },
    /// A server ping, already answered.
    Pinged,
    /// The server is about to close.
    Goaway {
        /// The close code that follows.
        code: u16,
    },
    /// The socket closed.
    Closed {
        /// Close code, if the server sent one.
        code: Option<u16>,
        /// Close reason.
        reason: String,
    },
    /// A frame this client does not know (a newer server); ignored.
    Unknown {
        /// Its `t`.
        t: String,
    },
}

/// One `dash.v1` connection.
pub struct SyncClient {
    ws: WsStream,
    /// What the client holds (`None` before the first snapshot or batch).
    pub position: Option<Position>,
    /// The heartbeat the server announced.
    pub heartbeat_ms: u64,
}

/// The answer to a `sub`.
#[derive(Debug, Clone, Default)]
pub struct SubOutcome {
    /// `subscribed.recovered`.
    pub recovered: bool,
    /// `subscribed.wasRecovering`.
    pub was_recovering: bool,
    /// `subscribed.replayed`.
    pub replayed: u32,
    /// A snapshot came before `subscribed`.
    pub snapshot: bool,
    /// Deltas (in batches or alone) that were not the next version.
    pub breaks: Vec<Continuity>,
    /// Operations of the replayed deltas.
    pub replayed_ops: Vec<Value>,
    /// Pings answered meanwhile.
    pub pongs: u64,
}

impl SyncClient {
    /// Opens `/api/sync` with a bearer token and reads `hello` (no retries: see [`Self::connect_subscribed`]).
    pub async fn connect(target: &Target, index: usize, token: &str) -> Result<Self> {
        let headers =
            [(AUTHORIZATION.as_str(), format!("Bearer {token}")), ("sec-websocket-protocol", SUBPROTOCOL.into())];
        let (ws, protocol) = open_ws(target, index, "/api/sync", &headers).await?;
        if protocol.as_deref() != Some(SUBPROTOCOL) {
            bail!("the server chose subprotocol {protocol:?}, not {SUBPROTOCOL}");
        }
        let mut client = Self { ws, position: None, heartbeat_ms: 0 };
        let text = match timeout(CONNECT_TIMEOUT, client.ws.next()).await {
            Err(_) => bail!("no hello within {CONNECT_TIMEOUT:?}"),
            Ok(None) => bail!("closed before hello"),
            Ok(Some(message)) => match message.context("reading hello")? {
                Message::Text(text) => text,
                other => bail!("expected hello, got {other:?}"),
            },
        };
        match serde_json::from_str::<ServerFrame>(text.as_str()) {
            Ok(ServerFrame::Hello { heartbeat_ms, .. }) => client.heartbeat_ms = heartbeat_ms,
            _ => bail!("expected hello, got {}", text.as_str()),
        }
        Ok(client)
    }

    /// Connects and subscribes (recovering from `position` when given), starting over with
    /// backoff while the server says it is busy (503, 4029 or `reject{unavailable}` before `subscribed`),
    /// as a real client would.
    pub async fn connect_subscribed(
        target: &Target,
        index: usize,
        token: &str,
        position: Option<Position>,
    ) -> Result<(Self, SubOutcome)> {
        let position = &position;
        let connect = move || async move {
            let mut client = Self::connect(target, index, token).await?;
            client.position.clone_from(position);
            let outcome = client.subscribe(position.is_some()).await?;
            anyhow::Ok((client, outcome))
        };
        // Clients refused together come back apart: a spread of `index` % 50 ms on top of the backoff.
        let spread = Duration::from_millis((index % 50) as u64);
        connect
            .retry(busy_backoff())
            .when(is_busy)
            .adjust(move |_, delay| delay.map(|delay| delay + spread))
            .notify(|_, _| {
                CONNECT_RETRIES.fetch_add(1, Ordering::Relaxed);
            })
            .await
    }

    /// Sends one client frame.
    pub async fn send(&mut self, frame: &ClientFrame) -> Result<()> {
        let text = serde_json::to_string(frame)?;
        timeout(CONNECT_TIMEOUT, self.ws.send(Message::text(text))).await.context("send timed out")??;
        Ok(())
    }

    /// Sends `sub` (from the position held when `recover` and there is one) and reads up to `subscribed`.
    pub async fn subscribe(&mut self, recover: bool) -> Result<SubOutcome> {
        let (epoch, v) = match (&self.position, recover) {
            (Some(position), true) => (Some(position.epoch.clone()), Some(position.v)),
            _ => (None, None),
        };
        self.send(&ClientFrame::Sub { epoch, v }).await?;
        let deadline = Instant::now() + SUBSCRIBE_TIMEOUT;
        let mut outcome = SubOutcome::default();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = timeout(left, self.next_event(READ_TIMEOUT)).await.context("no subscribed in time")??;
            match event {
                Event::Subscribed { recovered, was_recovering, replayed, agrees } => {
                    outcome.recovered = recovered;
                    outcome.was_recovering = was_recovering;
                    outcome.replayed = replayed;
                    if !agrees {
                        bail!("subscribed names another version than the client holds ({:?})", self.position);
                    }
                    return Ok(outcome);
                }
                Event::Snapshot => outcome.snapshot = true,
                Event::Batch { breaks, ops } => {
                    outcome.breaks.extend(breaks);
                    outcome.replayed_ops.extend(ops);
                }
                Event::Delta { check, ops } => {
                    if !check.is_next() {
                        outcome.breaks.push(check);
                    }
                    outcome.replayed_ops.push(ops);
                }
                Event::Pinged => outcome.pongs += 1,
                Event::Reject { code, .. } => return Err(SubRefused { code }.into()),
                Event::Closed { code, reason } => return Err(ClosedEarly { code, reason }.into()),
                Event::Goaway { code } => bail!("goaway {code} while subscribing"),
                Event::Ack { .. } | Event::Unknown { .. } => {}
            }
        }
    }

    /// Sends a patch made against `base`.
    pub async fn send_patch(&mut self, op: String, base: u64, ops: Value, tab: &str) -> Result<()> {
        self.send(&ClientFrame::Patch { op, base, ops, tab: tab.to_owned() }).await
    }

    /// Reads the next frame (waiting at most `limit`), answering pings and checking deltas.
    pub async fn next_event(&mut self, limit: Duration) -> Result<Event> {
        loop {
            let message = match timeout(limit, self.ws.next()).await {
                Err(_) => bail!("no frame for {limit:?}"),
                Ok(None) => return Ok(Event::Closed { code: None, reason: "connection ended".into() }),
                Ok(Some(message)) => message.context("reading a frame")?,
            };
            let text = match message {
                Message::Text(text) => text,
                Message::Close(frame) => {
                    let code = frame.as_ref().map(|frame| u16::from(frame.code));
                    let reason = frame.map(|frame| frame.reason.to_string()).unwrap_or_default();
                    return Ok(Event::Closed { code, reason });
                }
                Message::Binary(bytes) => {
                    bail!("unexpected binary frame of {} bytes (dash.v1 is JSON text)", bytes.len())
                }
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            };
            return self.interpret(text.as_str()).await;
        }
    }

    async fn interpret(&mut self, text: &str) -> Result<Event> {
        let frame = match serde_json::from_str::<ServerFrame>(text) {
            Ok(frame) => frame,
            Err(error) => {
                let value: Value = serde_json::from_str(text).with_context(|| format!("not JSON: {error}"))?;
                let t = value.get("t").and_then(Value::as_str).unwrap_or("?").to_owned();
                return Ok(Event::Unknown { t });
            }
        };
        Ok(match frame {
            ServerFrame::Ping { ts } => {
                self.send(&ClientFrame::Pong { ts: Some(ts) }).await?;
                Event::Pinged
            }
            ServerFrame::Delta { epoch, base, v, ops, .. } => {
                let check = match &mut self.position {
                    Some(position) => position.apply(&epoch, base, v),
                    None => {
                        self.position = Some(Position { epoch, v });
                        Continuity::Unplaced
                    }
                };
                Event::Delta { check, ops }
            }
            ServerFrame::Batch { epoch, base, v, deltas } => {
                let mut breaks = Vec::new();
                let mut ops = Vec::with_capacity(deltas.len());
                let position = self.position.get_or_insert_with(|| Position { epoch: epoch.clone(), v: base });
                if position.epoch != epoch || position.v != base {
                    breaks.push(Continuity::Gap { held: position.v, base });
                    *position = Position { epoch: epoch.clone(), v: base };
                }
                for delta in deltas {
                    let check = position.apply(&epoch, delta.base, delta.v);
                    if !check.is_next() {
                        breaks.push(check);
                    }
                    ops.push(delta.ops);
                }
                if position.v != v {
                    breaks.push(Continuity::Gap { held: position.v, base: v });
                    position.v = v;
                }
                Event::Batch { breaks, ops }
            }
            ServerFrame::Snapshot { epoch, v, .. } => {
                self.position = Some(Position { epoch, v });
                Event::Snapshot
            }
            ServerFrame::Subscribed { epoch, v, was_recovering, recovered, replayed } => {
                let agrees = self.position.as_ref().is_some_and(|held| held.epoch == epoch && held.v == v);
                Event::Subscribed { recovered, was_recovering, replayed, agrees }
            }
            ServerFrame::Ack { op, v, .. } => Event::Ack { op, v },
            ServerFrame::Reject { op, code, v, .. } => {
                let code = serde_json::to_value(code)?.as_str().unwrap_or("?").to_owned();
                Event::Reject { op, code, v }
            }
            ServerFrame::Goaway { code, .. } => Event::Goaway { code },
            ServerFrame::Hello { .. } => Event::Unknown { t: "hello".into() },
        })
    }

    /// Closes the socket politely (bounded in time).
    pub async fn close(mut self) {
        let _peer_may_be_gone = timeout(Duration::from_secs(2), self.ws.close(None)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_must_follow_the_version_held() {
        let mut position = Position { epoch: "e".into(), v: 3 };
        assert_eq!(position.apply("e", 3, 4), Continuity::Next);
        assert_eq!(position.apply("e", 3, 4), Continuity::Duplicate { held: 4, v: 4 });
        assert_eq!(position.apply("e", 5, 6), Continuity::Gap { held: 4, base: 5 });
        assert_eq!(position.v, 6, "a gap is counted once, then the client follows on");
        assert_eq!(position.apply("f", 0, 1), Continuity::OtherEpoch);
    }
}
