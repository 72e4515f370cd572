//! Tasks across the nodes of a cluster: every stored event goes on the bus,
//! and each node follows the tasks it holds in memory.
//!
//! In cluster mode any node may take a call about any task: a stream or a
//! resubscription on node B of a task that node A's run is working, a cancel
//! on B, a follow-up on B. So every event a node stores is then published on
//! the task's bus channel (`a2a:task:<id>`) with its sequence number, and
//! every node that holds the task in memory ([`super::live::LiveTask`])
//! follows that channel with a task of its own:
//!
//! 1. **Subscribe first, then read the store.** The task was read from the
//!    store before the subscription was active, so the first signal of the
//!    subscription ([`BusMessage::Resubscribed`]) makes the follower read the
//!    log after the last sequence it holds: nothing falls between the two.
//! 2. **Deliver in order, without duplicates.** An event with the next
//!    sequence number is applied and broadcast to the node's streams; one
//!    already held (the node's own, echoed back) is ignored; one past a gap
//!    (a lost pub/sub message) makes the follower fill the gap from the log.
//!    Streams then work as on one node (`stream.rs`): they read the node's
//!    broadcast and refill from the log when they fall behind.
//! 3. **Lost messages never strand a stream.** A subscription that fell
//!    behind or reconnected says so, and the follower reads the log; while
//!    someone on this node listens to the task, the follower also reads the
//!    log when the bus has been quiet for a while (`A2aOptions::follow_poll`,
//!    [`QUIET_POLL`] by default), in case the lost message was the last one.
//! 4. **A terminal event stops the run.** When another node ends the task
//!    (a cancel on B), the follower on A applies the `CANCELED` event and
//!    cancels A's run, whose agent sees the cancellation as with a local
//!    cancel. Writes are optimistic on the last sequence number, so of two
//!    nodes writing at once one wins and the other catches up first.
//! 5. **Follow-ups run where they are received.** A message to a task waiting
//!    for input is taken by whichever node receives it: its write moves the
//!    task to `WORKING` (guarded like any write), that node runs the agent,
//!    and the others see the task working and refuse a second follow-up.
//!
//! A follower ends when its task is over (the node forgets the task) or when
//! no one holds the task any more. Embedded mode has no bus and no followers.

use std::sync::{Arc, Weak};
use std::time::Duration;

use agentdeck_a2a_protocol::StreamResponse;
use agentdeck_storage::{Bus, BusMessage, BusSubscription};
use serde::{Deserialize, Serialize};

use super::live::LiveTask;
use super::service::A2aService;

/// How long the bus may be quiet while someone listens before the follower reads the store anyway (default).
pub const QUIET_POLL: Duration = Duration::from_secs(1);

/// The bus channel of a task's events (task ids are unique UUIDs).
pub(super) fn task_channel(task_id: &str) -> String {
    format!("a2a:task:{task_id}")
}

/// One stored event as published.
#[derive(Serialize, Deserialize)]
struct Published<E> {
    seq: i64,
    event: E,
}

/// Publishes a stored event of `task_id` for the other nodes.
pub(super) fn publish_event(bus: &dyn Bus, task_id: &str, seq: i64, event: &StreamResponse) {
    match serde_json::to_string(&Published { seq, event }) {
        Ok(payload) => bus.publish(&task_channel(task_id), payload),
        Err(error) => tracing::warn!(task_id, %error, "an A2A event could not be published"),
    }
}

/// A published event back in its typed form.
fn decode(payload: &str) -> Option<(i64, StreamResponse)> {
    let published: Published<StreamResponse> = serde_json::from_str(payload).ok()?;
    Some((published.seq, published.event))
}

impl A2aService {
    /// Follows `live` on the bus (cluster mode; nothing to do on one node) until it is over or dropped.
    pub(super) fn follow(&self, live: &Arc<LiveTask>, bus: &Arc<dyn Bus>) {
        let subscription = bus.subscribe(&live.channel());
        let stopped = live.followed.clone();
        let shutdown = self.inner.shutdown.clone();
        let service = self.clone();
        let live = Arc::downgrade(live);
        self.inner.runs.spawn(async move {
            tokio::select! {
                () = service.follow_until_over(live, subscription) => {}
                () = stopped.cancelled() => {}
                () = shutdown.cancelled() => {}
            }
        });
    }

    async fn follow_until_over(&self, live: Weak<LiveTask>, mut subscription: BusSubscription) {
        let poll = self.inner.options.follow_poll;
        loop {
            let listened = live.upgrade().is_some_and(|live| live.listeners() > 0);
            let quiet = async {
                if listened {
                    tokio::time::sleep(poll).await;
                } else {
                    std::future::pending::<()>().await;
                }
            };
            let message = tokio::select! {
                message = subscription.next() => message,
                () = quiet => Some(BusMessage::Missed),
            };
            let Some(message) = message else { return };
            // Only a weak hold: a task no one else holds is not kept alive by its follower.
            let Some(live) = live.upgrade() else { return };
            match message {
                BusMessage::Message(payload) => match decode(&payload) {
                    Some((seq, event)) => live.receive(seq, Arc::new(event)).await,
                    None => {
                        tracing::warn!(task_id = %live.id, "an unreadable A2A event on the bus; reading the store");
                        live.catch_up_locked(&mut live.lock().await).await;
                    }
                },
                BusMessage::Resubscribed | BusMessage::Missed => live.catch_up_locked(&mut live.lock().await).await,
            }
            if live.lock().await.task.status.state.is_terminal() {
                self.forget_if_finished(&live).await;
                return;
            }
        }
    }
}
