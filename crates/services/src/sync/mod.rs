//! The sync hub: one owner task per active room, fanning committed changes
//! out to every open WebSocket of that room (DESIGN §5.4).
//!
//! # Why one owner per room
//!
//! Every change of a dashboard gets a version, and a client applies a delta
//! only when its `base` equals what it holds. So the frames of one room must
//! leave the server in exactly the order the versions were committed. The
//! easiest way to get that without locks held across I/O is to let one task,
//! the room's *owner*, do everything for the room in turn: answer `sub`,
//! commit `patch`es through the [`DashboardService`], and send the resulting
//! `ack`, `delta`, `batch`, `snapshot` and `reject` frames. Because the owner
//! answers a `sub` and commits patches in the same loop, a subscriber can
//! never miss a delta between "read the state" and "start listening".
//!
//! # Life cycle
//!
//! [`Hub::connect`] finds the room's owner in the registry or starts one; the
//! registry keeps the task's handle. The owner stops itself when its last
//! connection has left (checked under the registry lock, so a connection
//! joining at that moment either reaches the old owner or starts a new one).
//! Dropping the [`Hub`] aborts every owner still running. A [`Connection`]
//! leaves when it is dropped; the owner also sweeps connections whose
//! receiving end is gone, so a lost `Leave` cannot keep a room alive.
//!
//! # Back-pressure
//!
//! Every channel is bounded. The room's command channel holds
//! [`ROOM_CAPACITY`] commands (a frame waits up to [`SEND_TIMEOUT`] to be
//! queued; a join that finds it full is refused as busy at once). The owner never waits on a connection: each has an outbound
//! queue counted in bytes ([`QueueLimits`]). When a connection's queue passes
//! the high-water mark (256 KiB by default), its queued `delta`/`batch`/`snapshot`
//! frames are dropped and, once the current step is done, it gets one fresh
//! snapshot instead — state frames are replaceable, so a tab that fell behind
//! catches up with one frame rather than its backlog. If it passes the mark
//! again before even that snapshot was taken, or its queue would pass the hard
//! limit (1 MiB), it is closed with 4008 (slow consumer) and reconnects and
//! recovers. One slow tab never stalls the room. Frames are encoded once and
//! shared ([`OutFrame`]) by every connection they go to; snapshots above
//! [`HubSettings::compress_above_bytes`] are also gzip-compressed once, for the
//! connections that accept binary frames.
//!
//! # Limits
//!
//! [`Hub::connect`] takes a slot under the node's [`ConnectionCaps`] (sockets
//! per user, per workspace) before anything else, and the connection gives it
//! back when dropped. Each owner keeps its user's patch budget (a token bucket
//! of `patches_per_minute`); a patch over it is answered `reject{rate_limited}`
//! with the wait, and nothing is committed.
//!
//! # Writes from elsewhere
//!
//! Every write of a dashboard commits through the [`DashboardService`], which
//! announces each commit to its listeners; the hub is one
//! ([`CommitListener`]). A REST `PATCH`, the gateway's answer, a quota alert
//! or a migration on read thus reach the room with nothing for the writer to
//! remember. The hub passes the change to the room's owner only when this
//! node has the room open (nothing is copied otherwise, so writes stay cheap
//! when nobody is connected), and never waits: when a room's queue is full
//! the notice is dropped and the room's `missed` signal is raised instead
//! (a [`tokio::sync::Notify`], which keeps one wake-up for an owner that is
//! busy), so the owner catches up from the store as soon as it is free.
//! The owner places the change after the last version it has sent: the next
//! version of the same epoch becomes a `delta` (without `origin`); a version
//! it has already sent (its own patch, announced like any other) is ignored;
//! a gap is filled from the history (else one snapshot); a new epoch, a
//! replace or a delete makes it re-read the state and send every subscriber a
//! fresh `snapshot`. A lost notice costs a catch-up later, never a wrong state.
//!
//! # When the state cannot be read
//!
//! A `sub` or `resync` the owner cannot answer (the state store is down) is
//! refused with `reject{unavailable}` and the socket is then closed with
//! 4010 (insufficient state): the client reconnects with backoff and
//! subscribes again, so a tab that connected during an outage gets its state
//! once the store is back instead of waiting on an open socket forever.
//!
//! # Several nodes
//!
//! In cluster mode a node only hears its own commits directly. Each owner
//! therefore watches its room on the [`ChangeFeed`] (Redis pub/sub, one
//! channel per room, subscribed only while the room has sockets on this node).
//! A signal about a version the owner has not sent makes it *catch up*: the
//! missing versions come from the room's history as deltas, in order, or, when
//! the history no longer holds them all, as one snapshot. Because pub/sub may
//! lose messages, signals are only hints, and the feed asks every room to
//! catch up after each (re)subscription. An owner whose own patch lands after
//! other nodes' commits sends those first, then its `ack` and `delta`. Whenever
//! the owner reads the state (for a `sub`, say) and finds it ahead of what it
//! has sent, it brings its subscribers up first, so nobody skips a version.
//!
//! # Rooms without state
//!
//! Before the first write a room has no stored state. Subscribers then get a
//! snapshot of [`DashboardDocument::default`](agentdeck_domain::dashboard::document::DashboardDocument)
//! at version 0 with an *empty* epoch: an empty epoch never matches a stored
//! one, so a client holding it always gets a snapshot after the first commit,
//! and the first patch is sent without a precondition.

mod budget;
mod outbox;
mod room;
mod slots;

pub use outbox::{OutFrame, QueueLimits};
pub use slots::ConnectionCaps;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use agentdeck_domain::auth::Principal;
use agentdeck_domain::dashboard::version::StateVersion;
use agentdeck_storage::{ChangeFeed, RoomKey};
use agentdeck_sync_protocol::ClientFrame;
use serde_json::Value;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::dashboard::{CommitListener, CommittedChange, DashboardService, room_of};

/// Commands a room queues before senders wait.
pub const ROOM_CAPACITY: usize = 1024;
/// Longest wait to queue a command for a room before giving up.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// How a hub treats its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HubSettings {
    /// Patches a user may send per minute (0: unlimited).
    pub patches_per_minute: u32,
    /// Open sockets per user and per workspace on this node.
    pub caps: ConnectionCaps,
    /// Byte bounds of each connection's outbound queue.
    pub queue: QueueLimits,
    /// Snapshots larger than this go gzip-compressed to connections that accept it.
    pub compress_above_bytes: usize,
}

impl Default for HubSettings {
    fn default() -> Self {
        Self {
            patches_per_minute: 100,
            caps: ConnectionCaps { per_user: 5, per_workspace: 100 },
            queue: QueueLimits::default(),
            compress_above_bytes: 8 * 1024,
        }
    }
}

/// Why the hub could not take a connection or a frame.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// The room's queue stayed full; retry shortly.
    #[error("the room is busy; retry shortly")]
    Busy,
    /// The room's owner has stopped (the server is shutting down).
    #[error("the room has stopped")]
    Closed,
    /// A connection cap of this node is reached.
    #[error("too many open sockets for this {scope} (at most {limit}); close one or retry later")]
    TooManyConnections {
        /// `user` or `workspace`.
        scope: &'static str,
        /// The cap.
        limit: usize,
    },
}

/// A committed change for a room's owner to place (an owned [`CommittedChange`]).
#[derive(Debug)]
enum Change {
    /// A JSON Patch produced `version`; `ops` as committed.
    Patched { version: StateVersion, ops: Value },
    /// A new epoch starting at `version`: subscribers need a snapshot unless they were sent it.
    Replaced { version: StateVersion },
    /// The document is gone: subscribers need a snapshot of the empty room.
    Deleted,
}

/// What the owner of a room is asked to do.
enum Command {
    // The large variants are boxed: every room's channel allocates slots of the largest one.
    Join(Box<Joining>),
    Leave { conn: u64 },
    Sub(Box<SubRequest>),
    Resync { conn: u64 },
    Patch(Box<PatchRequest>),
    Committed(Box<Change>),
}

/// A connection joining its room.
struct Joining {
    conn: u64,
    principal: Principal,
    outbox: Arc<outbox::Outbox>,
    gzip: bool,
    kick: oneshot::Sender<u16>,
}

/// A `sub` frame of one connection.
struct SubRequest {
    conn: u64,
    epoch: Option<String>,
    v: Option<u64>,
}

/// A `patch` frame of one connection.
struct PatchRequest {
    conn: u64,
    op: String,
    base: u64,
    ops: Value,
    tab: String,
}

/// Registers connections with their room's owner (cheap to clone).
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    service: DashboardService,
    settings: HubSettings,
    /// Open-socket counts against the caps.
    slots: slots::Slots,
    rooms: Mutex<HashMap<RoomKey, RoomEntry>>,
    next_id: AtomicU64,
    /// Commits of other nodes (cluster mode).
    feed: Option<Arc<dyn ChangeFeed>>,
}

/// A running owner, as the registry keeps it.
struct RoomEntry {
    /// Tells this owner from a later one of the same room.
    generation: u64,
    commands: mpsc::Sender<Command>,
    /// Raised when a commit notice could not be queued: the owner then catches up from the store.
    missed: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The registry owns the tasks: nothing outlives the hub.
        for entry in self.rooms.get_mut().unwrap_or_else(PoisonError::into_inner).values() {
            entry.task.abort();
        }
    }
}

impl Inner {
    fn rooms(&self) -> MutexGuard<'_, HashMap<RoomKey, RoomEntry>> {
        // A panic elsewhere cannot leave the map half-updated (every update is one insert or remove).
        self.rooms.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Hub {
    /// A hub committing through `service` (a single node).
    pub fn new(service: DashboardService, settings: HubSettings) -> Self {
        Self::with_feed(service, settings, None)
    }

    /// Like [`Hub::new`], hearing commits of other nodes through `feed` (cluster mode).
    pub fn with_feed(service: DashboardService, settings: HubSettings, feed: Option<Arc<dyn ChangeFeed>>) -> Self {
        let inner = Inner {
            service,
            settings,
            slots: slots::Slots::new(settings.caps),
            rooms: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            feed,
        };
        let inner = Arc::new(inner);
        // Weak: the service outlives no hub through it, and a dropped hub stops listening.
        let listener: std::sync::Weak<dyn CommitListener> = Arc::downgrade(&inner) as _;
        inner.service.listen(listener);
        Self { inner }
    }

    /// The per-user patch limit announced in `hello`.
    pub fn patches_per_minute(&self) -> u32 {
        self.inner.settings.patches_per_minute
    }

    /// How many rooms have an owner running (for tests and metrics).
    pub fn active_rooms(&self) -> usize {
        self.inner.rooms().len()
    }

    /// Joins the principal's room, starting its owner when it is the first connection;
    /// `gzip`: the connection takes large snapshots as gzip-compressed binary frames.
    pub fn connect(&self, principal: &Principal, gzip: bool) -> Result<Connection, HubError> {
        let key = room_of(principal);
        // Taken first and owned by the connection: every way out of here, or out of the socket later, frees it.
        let slot = self.inner.slots.take(&key)?;
        let conn = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let outbox = Arc::new(outbox::Outbox::default());
        let (kick_tx, kicked) = oneshot::channel();
        let join = Command::Join(Box::new(Joining {
            conn,
            principal: principal.clone(),
            outbox: Arc::clone(&outbox),
            gzip,
            kick: kick_tx,
        }));
        let mut rooms = self.inner.rooms();
        let commands = match rooms.get(&key) {
            Some(entry) if !entry.commands.is_closed() => entry.commands.clone(),
            _ => {
                let (commands, receiver) = mpsc::channel(ROOM_CAPACITY);
                let missed = Arc::new(Notify::new());
                // Watched from before the owner's first read, so no commit of another node falls in between.
                let watch = self.inner.feed.as_ref().map(|feed| feed.watch(&key));
                let owner = room::Owner::new(
                    key.clone(),
                    conn,
                    Arc::downgrade(&self.inner),
                    self.inner.service.clone(),
                    principal.clone(),
                    self.inner.settings,
                    room::OutsideChanges { watch, missed: Arc::clone(&missed) },
                );
                let task = tokio::spawn(owner.run(receiver));
                rooms.insert(key, RoomEntry { generation: conn, commands: commands.clone(), missed, task });
                commands
            }
        };
        // Queued under the registry lock: an owner about to stop sees it and stays.
        commands.try_send(join).map_err(|error| match error {
            mpsc::error::TrySendError::Full(_) => HubError::Busy,
            mpsc::error::TrySendError::Closed(_) => HubError::Closed,
        })?;
        Ok(Connection { id: conn, commands, outbox, kicked, _slot: slot })
    }
}

impl CommitListener for Inner {
    /// Hands the change to the room's owner when this node has the room open; never waits.
    fn committed(&self, room: &RoomKey, change: CommittedChange<'_>) {
        let Some(commands) = self.rooms().get(room).map(|entry| entry.commands.clone()) else { return };
        let change = match change {
            CommittedChange::Patched { version, ops } => Change::Patched { version: version.clone(), ops: ops.clone() },
            CommittedChange::Replaced { version } => Change::Replaced { version: version.clone() },
            CommittedChange::Deleted => Change::Deleted,
        };
        match commands.try_send(Command::Committed(Box::new(change))) {
            // The owner stopped: nobody is listening any more.
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
            // The owner is behind: instead of the notice, it catches up from the store once free.
            Err(mpsc::error::TrySendError::Full(_)) => {
                if let Some(entry) = self.rooms().get(room) {
                    entry.missed.notify_one();
                }
                tracing::debug!("sync room busy; it will catch up from the store");
            }
        }
    }
}

/// The frames a room sends one connection, in order.
#[derive(Clone)]
pub struct Frames(Arc<outbox::Outbox>);

impl Frames {
    /// The next frame; `None` once the room has let the connection go. Cancel-safe.
    pub async fn next(&self) -> Option<OutFrame> {
        self.0.next().await
    }

    /// The next frame if one is queued already (never waits), to write several at once.
    pub fn try_next(&self) -> Option<OutFrame> {
        self.0.try_next()
    }
}

/// One WebSocket's membership of its room; leaves the room when dropped.
pub struct Connection {
    id: u64,
    commands: mpsc::Sender<Command>,
    /// Frames for this connection, in the order the room sent them.
    outbox: Arc<outbox::Outbox>,
    /// Resolves with a close code when the room drops this connection (slow consumer).
    pub kicked: oneshot::Receiver<u16>,
    /// This socket's place under the connection caps, freed on drop.
    _slot: slots::Slot,
}

impl Connection {
    /// The connection id (the `sid` of `hello`).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The frames the room sends this connection, readable while the connection is borrowed elsewhere.
    pub fn frames(&self) -> Frames {
        Frames(Arc::clone(&self.outbox))
    }

    /// The next frame the room sent this connection; `None` once the room has let it go. Cancel-safe.
    pub async fn next_frame(&self) -> Option<OutFrame> {
        self.outbox.next().await
    }

    /// Bytes queued for this connection and not yet taken (for tests and metrics).
    pub fn queued_bytes(&self) -> usize {
        self.outbox.queued_bytes()
    }

    /// Hands a client frame to the room; `pong` is the edge's business and ignored here.
    pub async fn send(&self, frame: ClientFrame) -> Result<(), HubError> {
        let conn = self.id;
        let command = match frame {
            ClientFrame::Sub { epoch, v } => Command::Sub(Box::new(SubRequest { conn, epoch, v })),
            ClientFrame::Patch { op, base, ops, tab } => {
                Command::Patch(Box::new(PatchRequest { conn, op, base, ops, tab }))
            }
            ClientFrame::Resync => Command::Resync { conn },
            ClientFrame::Pong { .. } => return Ok(()),
        };
        match tokio::time::timeout(SEND_TIMEOUT, self.commands.send(command)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(HubError::Closed),
            Err(_) => Err(HubError::Busy),
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.outbox.leave();
        // Best effort: when the queue is full the owner's sweep notices the closed channel.
        let _swept_later_if_full = self.commands.try_send(Command::Leave { conn: self.id });
    }
}

#[cfg(test)]
mod tests;

/// gzip of a frame's JSON, as sent to sockets that take binary frames; `None` when it does not shrink.
///
/// The fast level: a snapshot is compressed once per change and sent at once,
/// not archived, so speed matters more than the last few percent.
pub fn gzip_frame(json: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(json.len() / 4), flate2::Compression::fast());
    encoder.write_all(json).ok()?;
    let compressed = encoder.finish().ok()?;
    (compressed.len() < json.len()).then_some(compressed)
}
