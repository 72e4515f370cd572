//! The bus: messages between the nodes of a cluster, on named channels.
//!
//! The dashboard state has its own change feed ([`crate::state`]); the bus
//! carries everything else a node must hear from the others: the events of
//! the A2A tasks it streams (channel per task) and the workspaces whose
//! project data changed (for the gateway's live refresh). Embedded mode has
//! one node and no bus: its services talk in process.
//!
//! # What a subscriber can rely on
//!
//! Redis pub/sub is at-most-once: a message published while a subscriber
//! reconnects is lost, and so is one that does not fit a subscriber that
//! fell behind. So the bus never pretends to be a log. A [`BusSubscription`]
//! yields [`BusMessage::Message`]s in publication order, and says when it may
//! have missed some: [`BusMessage::Resubscribed`] after every (re)subscription
//! (anything published before it was active may be gone) and
//! [`BusMessage::Missed`] when its bounded queue overflowed. Every user keeps
//! the truth in a store and catches up from it on those two signals: messages
//! are the fast path, the store the safe one.
//!
//! # How it works
//!
//! [`RedisBus`] owns two tasks per node. The *publisher* takes messages from a
//! bounded queue and sends them one after the other on one connection, so a
//! node's messages on one channel arrive in the order they were published; a
//! publish never waits for Redis (a full queue drops the message, and the
//! subscribers catch up as above). The *subscriber* keeps one pub/sub
//! connection, follows the set of channels someone subscribed to (a node
//! subscribes only to what it needs, never to every task), pings the server,
//! and reconnects with backoff. [`Bus::ping`] tells `/ready` whether it is
//! connected now.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use futures::StreamExt;
use redis::AsyncCommands;
use redis::aio::{PubSubSink, PubSubStream};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

use crate::redis_connection::{RedisConnection, connect_pubsub};
use crate::state::StateError;

/// What a subscription yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusMessage {
    /// A message published on the channel.
    Message(String),
    /// The subscription is (again) active: messages published before may have been missed.
    Resubscribed,
    /// The subscriber fell behind and messages were dropped.
    Missed,
}

/// Messages between the nodes of a cluster.
#[async_trait::async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Queues `payload` for every subscriber of `channel` on every node (this one included); never waits.
    fn publish(&self, channel: &str, payload: String);

    /// Starts listening on `channel` until the returned subscription is dropped.
    fn subscribe(&self, channel: &str) -> BusSubscription;

    /// Checks that the bus hears messages now (for `/ready`), waiting briefly for a connection in progress.
    async fn ping(&self) -> Result<(), StateError>;
}

/// Messages queued per subscription before it counts as fallen behind.
pub const SUBSCRIPTION_CAPACITY: usize = 256;
/// Messages queued for publication before new ones are dropped.
const PUBLISH_QUEUE: usize = 4096;
/// Longest wait for connecting, subscribing, publishing or a ping.
const CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// How often an idle pub/sub connection is pinged (a silent network loss is noticed within this).
const PING_INTERVAL: Duration = Duration::from_secs(5);
/// First and longest wait between reconnection attempts.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(5));
/// Every channel of the bus starts so, apart from the dashboard feed's and anything else in Redis.
const CHANNEL_PREFIX: &str = "agentdeck:bus:";

/// One channel's messages for one listener; stops listening when dropped.
pub struct BusSubscription {
    receiver: mpsc::Receiver<BusMessage>,
    missed: Arc<AtomicBool>,
    _unsubscribe: Unsubscribe,
}

impl BusSubscription {
    /// The next message, or the news that some were missed; `None` once the bus has stopped.
    pub async fn next(&mut self) -> Option<BusMessage> {
        if self.missed.swap(false, Ordering::AcqRel) {
            return Some(BusMessage::Missed);
        }
        self.receiver.recv().await
    }
}

/// One listener of a channel, as the subscriber task sees it.
struct Listener {
    id: u64,
    sender: mpsc::Sender<BusMessage>,
    missed: Arc<AtomicBool>,
}

impl Listener {
    fn deliver(&self, message: BusMessage) {
        if self.sender.try_send(message).is_err() {
            // Full (or closing): the listener catches up from its store when it reads this flag.
            self.missed.store(true, Ordering::Release);
        }
    }
}

/// The listeners of one channel.
#[derive(Default)]
struct Channel {
    listeners: Vec<Listener>,
    /// Whether the connection is subscribed to the channel now (a new listener is told at once).
    active: bool,
}

/// What the subscriber task and the subscriptions share.
struct Shared {
    /// Listeners per (prefixed) channel; the task subscribes to exactly these channels.
    channels: Mutex<HashMap<String, Channel>>,
    /// Wakes the task when the set of channels changes.
    changed: Notify,
    /// Whether the task holds a working connection (set by the task only).
    connected: watch::Sender<bool>,
}

impl Shared {
    fn channels(&self) -> MutexGuard<'_, HashMap<String, Channel>> {
        // Every update is one insert, removal or flag: a panic cannot leave it half-done.
        self.channels.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn deliver(&self, channel: &str, message: &BusMessage) {
        if let Some(channel) = self.channels().get(channel) {
            for listener in &channel.listeners {
                listener.deliver(message.clone());
            }
        }
    }

    /// Marks `channel` subscribed (or not) on the connection; a channel that
    /// becomes active tells its listeners to catch up.
    fn set_active(&self, channel: &str, active: bool) {
        if let Some(channel) = self.channels().get_mut(channel)
            && channel.active != active
        {
            channel.active = active;
            if active {
                for listener in &channel.listeners {
                    listener.deliver(BusMessage::Resubscribed);
                }
            }
        }
    }
}

/// Removes one listener when its subscription is dropped.
struct Unsubscribe {
    shared: Weak<Shared>,
    channel: String,
    id: u64,
}

impl Drop for Unsubscribe {
    fn drop(&mut self) {
        let Some(shared) = self.shared.upgrade() else { return };
        let mut channels = shared.channels();
        if let Some(channel) = channels.get_mut(&self.channel) {
            channel.listeners.retain(|listener| listener.id != self.id);
            if channel.listeners.is_empty() {
                channels.remove(&self.channel);
            }
        }
        drop(channels);
        shared.changed.notify_one();
    }
}

/// The bus on Redis pub/sub (cluster mode).
pub struct RedisBus {
    shared: Arc<Shared>,
    outbox: mpsc::Sender<(String, String)>,
    /// Whether the publish queue was found full (logged once until it has room again).
    outbox_full: AtomicBool,
    tasks: [JoinHandle<()>; 2],
}

impl RedisBus {
    /// Starts the bus's tasks for the server at `url`; they connect in the background.
    pub fn start(url: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let connection = RedisConnection::lazy(url, CALL_TIMEOUT)?;
        let shared = Arc::new(Shared {
            channels: Mutex::new(HashMap::new()),
            changed: Notify::new(),
            connected: watch::Sender::new(false),
        });
        let (outbox, queued) = mpsc::channel(PUBLISH_QUEUE);
        let tasks = [tokio::spawn(publish_queued(connection, queued)), tokio::spawn(run(client, Arc::clone(&shared)))];
        Ok(Self { shared, outbox, outbox_full: AtomicBool::new(false), tasks })
    }
}

impl Drop for RedisBus {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

#[async_trait::async_trait]
impl Bus for RedisBus {
    fn publish(&self, channel: &str, payload: String) {
        if self.outbox.try_send((format!("{CHANNEL_PREFIX}{channel}"), payload)).is_ok() {
            self.outbox_full.store(false, Ordering::Relaxed);
        } else if !self.outbox_full.swap(true, Ordering::Relaxed) {
            tracing::warn!(channel, "the bus's publish queue is full; subscribers will catch up from the store");
        }
    }

    fn subscribe(&self, channel: &str) -> BusSubscription {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let channel = format!("{CHANNEL_PREFIX}{channel}");
        let (sender, receiver) = mpsc::channel(SUBSCRIPTION_CAPACITY);
        let missed = Arc::new(AtomicBool::new(false));
        let listener = Listener { id, sender, missed: missed.clone() };
        let mut channels = self.shared.channels();
        let entry = channels.entry(channel.clone()).or_default();
        if entry.active {
            // Already subscribed on the connection: this listener misses nothing from now on.
            listener.deliver(BusMessage::Resubscribed);
        }
        entry.listeners.push(listener);
        drop(channels);
        self.shared.changed.notify_one();
        let unsubscribe = Unsubscribe { shared: Arc::downgrade(&self.shared), channel, id };
        BusSubscription { receiver, missed, _unsubscribe: unsubscribe }
    }

    async fn ping(&self) -> Result<(), StateError> {
        let mut connected = self.shared.connected.subscribe();
        match tokio::time::timeout(CALL_TIMEOUT, connected.wait_for(|connected| *connected)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) | Err(_) => Err(StateError::Unavailable("the bus has no connection to Redis".into())),
        }
    }
}

/// The publisher task: sends queued messages in order, each under [`CALL_TIMEOUT`].
/// A failure is logged once per outage, not once per message.
async fn publish_queued(mut connection: RedisConnection, mut queued: mpsc::Receiver<(String, String)>) {
    let mut failing = false;
    while let Some((channel, payload)) = queued.recv().await {
        let sent = tokio::time::timeout(CALL_TIMEOUT, connection.publish::<_, _, i64>(&channel, payload)).await;
        let error = match sent {
            Ok(Ok(_receivers)) => {
                if std::mem::take(&mut failing) {
                    tracing::info!("the bus publishes again");
                }
                continue;
            }
            Ok(Err(error)) => error.to_string(),
            Err(_) => "Redis did not take the message in time".to_owned(),
        };
        if !std::mem::replace(&mut failing, true) {
            tracing::warn!(%error, channel, "bus messages are not being published; subscribers catch up from the store");
        }
    }
}

/// The subscriber task: connect, follow the subscribed channels, forward messages; reconnect on loss.
async fn run(client: redis::Client, shared: Arc<Shared>) {
    let mut backoff = BACKOFF.0;
    loop {
        match connect_pubsub(&client, CALL_TIMEOUT).await {
            Ok((sink, stream)) => {
                backoff = BACKOFF.0;
                shared.connected.send_replace(true);
                let error = serve(sink, stream, &shared).await;
                shared.connected.send_replace(false);
                for channel in shared.channels().values_mut() {
                    channel.active = false;
                }
                tracing::warn!(%error, "the bus lost its Redis connection; reconnecting");
            }
            Err(error) => tracing::warn!(%error, "the bus cannot reach Redis; retrying"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF.1);
    }
}

/// Serves one connection until it fails; returns why.
async fn serve(mut sink: PubSubSink, mut stream: PubSubStream, shared: &Shared) -> String {
    let mut subscribed: HashSet<String> = HashSet::new();
    let mut ping = tokio::time::interval(PING_INTERVAL);
    let mut channels_changed = true;
    loop {
        if std::mem::take(&mut channels_changed)
            && let Err(error) = follow_channels(&mut sink, &mut subscribed, shared).await
        {
            return error;
        }
        tokio::select! {
            () = shared.changed.notified() => channels_changed = true,
            message = stream.next() => {
                let Some(message) = message else { return "the connection closed".to_owned() };
                let channel = message.get_channel_name().to_owned();
                match message.get_payload::<String>() {
                    Ok(payload) => shared.deliver(&channel, &BusMessage::Message(payload)),
                    Err(_) => shared.deliver(&channel, &BusMessage::Missed),
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

/// Subscribes to the channels listened to and not subscribed yet, and unsubscribes from the others.
async fn follow_channels(
    sink: &mut PubSubSink,
    subscribed: &mut HashSet<String>,
    shared: &Shared,
) -> Result<(), String> {
    let wanted: HashSet<String> = shared.channels().keys().cloned().collect();
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
        subscribed.extend(added);
    }
    // Only now can nothing more be missed: the listeners of channels that became active catch up
    // once (this includes a channel dropped and listened to again before the connection noticed).
    for channel in subscribed.iter() {
        shared.set_active(channel, true);
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
