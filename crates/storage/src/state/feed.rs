//! Change feeds: how a node hears that another node committed to a room it serves.
//!
//! In cluster mode every commit script publishes `"<epoch>.<version>"` (or
//! `"deleted"`) on the room's channel `dash:<workspace>:<user>`. A node that has
//! sockets open for a room *watches* that room: [`ChangeFeed::watch`] returns a
//! [`RoomWatch`] that yields a [`RoomSignal`] whenever something may have
//! changed, and unsubscribes when dropped. Nodes subscribe only to the rooms
//! they serve, never to a global channel, so the traffic a node receives grows
//! with its own rooms, not with the cluster's.
//!
//! Redis pub/sub is at-most-once: a message sent while the subscriber
//! reconnects is lost. So a signal is only a *hint* that tells the watcher to
//! catch up from the store (the history stream, else a snapshot). Signals are
//! coalesced (only the latest is kept, see [`tokio::sync::watch`]), which is
//! safe for the same reason: the watcher reads the truth from the store, and a
//! signal can never block the feed. After every (re)subscription the feed sends
//! [`RoomSignal::Resubscribed`], because anything published before the
//! subscription was active may have been missed.
//!
//! [`RedisChangeFeed`] keeps one pub/sub connection per node, owned by one
//! task: it follows the set of watched rooms, pings the server, and reconnects
//! with backoff when the connection is lost; [`ChangeFeed::ping`] tells `/ready`
//! whether it is connected now. Embedded mode has a single node and needs no feed.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use redis::aio::{PubSubSink, PubSubStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::redis::room_channel;
use super::{RoomKey, StateError};
use crate::redis_connection::connect_pubsub;

/// What a watched room's feed says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomSignal {
    /// A commit produced this version (possibly on this very node).
    Committed {
        /// The room's epoch after the commit.
        epoch: String,
        /// The version the commit produced.
        version: u64,
    },
    /// The room was deleted.
    Deleted,
    /// The subscription was (re)established: changes before it may have been missed.
    Resubscribed,
}

impl RoomSignal {
    /// Reads a message of a room channel (`"<epoch>.<version>"` or `"deleted"`).
    pub fn parse(payload: &str) -> Option<Self> {
        if payload == "deleted" {
            return Some(Self::Deleted);
        }
        // Epochs never contain a dot, but split at the last one to be safe.
        let (epoch, version) = payload.rsplit_once('.')?;
        let version = version.parse().ok()?;
        (!epoch.is_empty()).then(|| Self::Committed { epoch: epoch.to_owned(), version })
    }
}

/// Tells a node about changes to the rooms it serves.
#[async_trait::async_trait]
pub trait ChangeFeed: Send + Sync + 'static {
    /// Starts watching `room` until the returned watch is dropped.
    fn watch(&self, room: &RoomKey) -> RoomWatch;

    /// Checks that the feed hears changes now (for `/ready`), waiting briefly
    /// for a connection in progress. A feed without a connection is always ready.
    async fn ping(&self) -> Result<(), StateError> {
        Ok(())
    }

    /// Short name of the backend, for `/ready`.
    fn backend(&self) -> &'static str {
        "memory"
    }
}

/// The signals of one watched room; stops watching when dropped.
pub struct RoomWatch {
    signals: watch::Receiver<Option<RoomSignal>>,
    _unwatch: Box<dyn Send + Sync>,
}

impl RoomWatch {
    /// A watch over `signals` that runs `unwatch` (by dropping it) when dropped.
    pub fn new(signals: watch::Receiver<Option<RoomSignal>>, unwatch: Box<dyn Send + Sync>) -> Self {
        Self { signals, _unwatch: unwatch }
    }

    /// Waits for the next signal (the latest, when several came meanwhile);
    /// `None` once the feed has stopped.
    pub async fn next(&mut self) -> Option<RoomSignal> {
        loop {
            self.signals.changed().await.ok()?;
            if let Some(signal) = self.signals.borrow_and_update().clone() {
                return Some(signal);
            }
        }
    }
}

/// Longest wait for connecting, subscribing or a ping.
const CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// How often an idle pub/sub connection is pinged (a silent network loss is noticed within this).
const PING_INTERVAL: Duration = Duration::from_secs(5);
/// First and longest wait between reconnection attempts.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(5));

/// One node's pub/sub subscription to the rooms it serves (cluster mode).
pub struct RedisChangeFeed {
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

/// What the feed's task and its watches share.
struct Shared {
    /// Watchers per channel; the task subscribes to exactly these channels.
    watchers: Mutex<HashMap<String, Vec<Watcher>>>,
    /// Wakes the task when the set of channels changes.
    changed: Notify,
    /// Whether the task holds a working connection (set by the task only).
    connected: watch::Sender<bool>,
}

struct Watcher {
    id: u64,
    signals: watch::Sender<Option<RoomSignal>>,
}

impl Shared {
    fn watchers(&self) -> MutexGuard<'_, HashMap<String, Vec<Watcher>>> {
        // Every update is one insert or removal: a panic cannot leave it half-done.
        self.watchers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends `signal` to every watcher of `channel`.
    fn signal(&self, channel: &str, signal: &RoomSignal) {
        if let Some(watchers) = self.watchers().get(channel) {
            for watcher in watchers {
                watcher.signals.send_replace(Some(signal.clone()));
            }
        }
    }
}

impl RedisChangeFeed {
    /// Starts the feed's task for the server at `url`; it connects in the background.
    pub fn start(url: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let shared = Arc::new(Shared {
            watchers: Mutex::new(HashMap::new()),
            changed: Notify::new(),
            connected: watch::Sender::new(false),
        });
        let task = tokio::spawn(run(client, Arc::clone(&shared)));
        Ok(Self { shared, task })
    }
}

impl Drop for RedisChangeFeed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[async_trait::async_trait]
impl ChangeFeed for RedisChangeFeed {
    async fn ping(&self) -> Result<(), StateError> {
        let mut connected = self.shared.connected.subscribe();
        match tokio::time::timeout(CALL_TIMEOUT, connected.wait_for(|connected| *connected)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) | Err(_) => Err(StateError::Unavailable("the change feed has no connection to Redis".into())),
        }
    }

    fn backend(&self) -> &'static str {
        "redis"
    }

    fn watch(&self, room: &RoomKey) -> RoomWatch {
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let channel = room_channel(room);
        let (sender, receiver) = watch::channel(None);
        self.shared.watchers().entry(channel.clone()).or_default().push(Watcher { id, signals: sender });
        self.shared.changed.notify_one();
        let unwatch = Unwatch { shared: Arc::downgrade(&self.shared), channel, id };
        RoomWatch::new(receiver, Box::new(unwatch))
    }
}

/// Removes one watcher when its [`RoomWatch`] is dropped.
struct Unwatch {
    shared: std::sync::Weak<Shared>,
    channel: String,
    id: u64,
}

impl Drop for Unwatch {
    fn drop(&mut self) {
        let Some(shared) = self.shared.upgrade() else { return };
        let mut watchers = shared.watchers();
        if let Some(list) = watchers.get_mut(&self.channel) {
            list.retain(|watcher| watcher.id != self.id);
            if list.is_empty() {
                watchers.remove(&self.channel);
            }
        }
        drop(watchers);
        shared.changed.notify_one();
    }
}

/// The feed's task: connect, follow the watched channels, forward messages; reconnect on loss.
async fn run(client: redis::Client, shared: Arc<Shared>) {
    let mut backoff = BACKOFF.0;
    loop {
        match connect_pubsub(&client, CALL_TIMEOUT).await {
            Ok((sink, stream)) => {
                backoff = BACKOFF.0;
                shared.connected.send_replace(true);
                let error = serve(sink, stream, &shared).await;
                shared.connected.send_replace(false);
                tracing::warn!(%error, "dashboard change feed lost its Redis connection; reconnecting");
            }
            Err(error) => tracing::warn!(%error, "dashboard change feed cannot reach Redis; retrying"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF.1);
    }
}

/// Serves one connection until it fails; returns why.
async fn serve(mut sink: PubSubSink, mut stream: PubSubStream, shared: &Shared) -> String {
    let mut subscribed: HashSet<String> = HashSet::new();
    let mut ping = tokio::time::interval(PING_INTERVAL);
    // The watched set is compared only when it may have changed (on a new connection, and when a
    // watch starts or ends), not for every message.
    let mut watched_changed = true;
    loop {
        if std::mem::take(&mut watched_changed)
            && let Err(error) = follow_watched(&mut sink, &mut subscribed, shared).await
        {
            return error;
        }
        tokio::select! {
            () = shared.changed.notified() => watched_changed = true,
            message = stream.next() => {
                let Some(message) = message else { return "the connection closed".to_owned() };
                let channel = message.get_channel_name().to_owned();
                match message.get_payload::<String>().ok().as_deref().and_then(RoomSignal::parse) {
                    Some(signal) => shared.signal(&channel, &signal),
                    None => tracing::warn!(channel, "unreadable dashboard change message; catching up"),
                }
            }
            _ = ping.tick() => {
                if let Err(error) = call(sink.ping::<redis::Value>()).await {
                    return error;
                }
            }
        }
    }
}

/// Subscribes to the watched channels not subscribed yet and unsubscribes from the others;
/// channels are added and removed only here.
async fn follow_watched(
    sink: &mut PubSubSink,
    subscribed: &mut HashSet<String>,
    shared: &Shared,
) -> Result<(), String> {
    let wanted: HashSet<String> = shared.watchers().keys().cloned().collect();
    let added: Vec<String> = wanted.difference(subscribed).cloned().collect();
    let removed: Vec<String> = subscribed.difference(&wanted).cloned().collect();
    if !removed.is_empty() {
        call(sink.unsubscribe(&removed)).await?;
        for channel in removed {
            subscribed.remove(&channel);
        }
    }
    if !added.is_empty() {
        call(sink.subscribe(&added)).await?;
        // Only now can nothing be missed: tell the watchers to catch up once.
        for channel in added {
            shared.signal(&channel, &RoomSignal::Resubscribed);
            subscribed.insert(channel);
        }
    }
    Ok(())
}

/// One request on the pub/sub connection, under [`CALL_TIMEOUT`].
async fn call<T>(request: impl Future<Output = redis::RedisResult<T>>) -> Result<T, String> {
    match tokio::time::timeout(CALL_TIMEOUT, request).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err("Redis did not answer in time".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_parse_into_signals() {
        assert_eq!(RoomSignal::parse("deleted"), Some(RoomSignal::Deleted));
        assert_eq!(RoomSignal::parse("e1.42"), Some(RoomSignal::Committed { epoch: "e1".into(), version: 42 }));
        assert_eq!(RoomSignal::parse("e1.x"), None);
        assert_eq!(RoomSignal::parse(".3"), None);
        assert_eq!(RoomSignal::parse("nodot"), None);
    }
}
