//! Live refresh: when a workspace's project data changes, the dashboards
//! that show gateway answers get them asked again and written, so their open
//! tabs update without anyone asking.
//!
//! The gateway remembers, per user, the last question it answered for them
//! (with their token, for at most an hour) and the widget ids of the answer it
//! placed last. Writes of project data are announced on a channel; the
//! refresher collects them for `debounce` (a burst of edits makes one
//! refresh), then re-asks each remembered question of the changed workspaces —
//! the answer cache misses, since the data generation moved on — and places
//! the new answer as a refresh (see `placement.rs`: the user's layout is kept,
//! widgets they removed stay away), remembering its ids for the next one. A
//! refresh in which every agent failed (the token expired, say) writes
//! nothing and forgets the question.
//!
//! In a cluster the user's question is remembered on the node that answered
//! it, while the write may reach any node. So each node also publishes the
//! workspaces of its writes on the bus (channel [`DATA_CHANGES`], payload
//! `<node>/<workspace>`) and takes the other nodes' announcements as its own;
//! when the bus says messages may have been lost (a reconnection), every
//! watched workspace is refreshed, as after a missed local announcement.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use agentdeck_domain::auth::Principal;
use agentdeck_storage::{Bus, BusMessage, BusSubscription};
use moka::ops::compute::Op;
use tokio::sync::broadcast::{self, error::RecvError};
use uuid::Uuid;

use super::placement::Placement;
use super::{AskRequest, Gateway, GatewayError};

/// A question to ask again.
#[derive(Clone)]
pub(crate) struct Subscription {
    /// Which ask this is: a refresh updates the subscription only while no newer ask replaced it.
    pub ask_id: Uuid,
    pub principal: Principal,
    pub bearer: String,
    pub request: AskRequest,
    /// When the question was asked (RFC 3339), kept in `lastAnswer` by refreshes.
    pub asked_at: String,
    /// The widget ids of the answer placed last (by the ask or the latest refresh).
    pub answer_ids: Arc<Vec<String>>,
}

/// How a refresh ended.
enum Refreshed {
    /// The new answer is on the dashboard.
    Written,
    /// No agent answered; nothing was written.
    NobodyAnswered,
    /// A newer ask replaced the question meanwhile; its answer stands.
    Superseded,
}

/// How long a remembered question is refreshed.
pub const REMEMBER_FOR: Duration = Duration::from_secs(3600);

/// The bus channel on which nodes announce the workspaces whose project data they changed.
pub const DATA_CHANGES: &str = "data:changes";

/// What the refresher heard.
enum Heard {
    /// Project data of this workspace changed (here or on another node).
    Changed(Uuid),
    /// Announcements were missed: every watched workspace may have changed.
    Missed,
    /// The announcements stopped (shutdown).
    Closed,
}

/// Where the refresher hears of changes: this node's writes, and the other nodes' over the bus.
struct Announcements {
    local: broadcast::Receiver<Uuid>,
    /// The bus, this node's id on it, and the subscription to the other nodes' announcements.
    bus: Option<(Arc<dyn Bus>, String, BusSubscription)>,
}

impl Announcements {
    async fn next(&mut self) -> Heard {
        let Self { local, bus } = self;
        let remote = async {
            match bus {
                Some((_, node, subscription)) => loop {
                    match subscription.next().await {
                        Some(BusMessage::Message(payload)) => {
                            // This node's own announcements come back too; they were taken locally.
                            let Some((from, workspace)) = payload.split_once('/') else { continue };
                            match workspace.parse() {
                                Ok(workspace) if from != node.as_str() => return Heard::Changed(workspace),
                                _ => {}
                            }
                        }
                        Some(BusMessage::Missed | BusMessage::Resubscribed) => return Heard::Missed,
                        None => std::future::pending::<()>().await,
                    }
                },
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            received = local.recv() => match received {
                Ok(workspace) => {
                    if let Some((bus, node, _)) = bus {
                        bus.publish(DATA_CHANGES, format!("{node}/{workspace}"));
                    }
                    Heard::Changed(workspace)
                }
                Err(RecvError::Lagged(_)) => Heard::Missed,
                Err(RecvError::Closed) => Heard::Closed,
            },
            heard = remote => heard,
        }
    }
}

impl Gateway {
    /// Starts refreshing dashboards on `changes` (workspace ids), `debounce` after the first of a burst;
    /// with a `bus`, also on the changes of the other nodes (and announcing this node's to them).
    pub fn start_live_refresh(
        &self,
        changes: broadcast::Receiver<Uuid>,
        bus: Option<Arc<dyn Bus>>,
        debounce: Duration,
    ) {
        let gateway = self.clone();
        let shutdown = self.inner.shutdown.clone();
        let bus = bus.map(|bus| {
            let subscription = bus.subscribe(DATA_CHANGES);
            (bus, Uuid::new_v4().to_string(), subscription)
        });
        let mut changes = Announcements { local: changes, bus };
        self.inner.tasks.spawn(async move {
            let mut pending: HashSet<Uuid> = HashSet::new();
            loop {
                let heard = if pending.is_empty() {
                    tokio::select! {
                        heard = changes.next() => heard,
                        () = shutdown.cancelled() => return,
                    }
                } else {
                    tokio::select! {
                        heard = changes.next() => heard,
                        () = tokio::time::sleep(debounce) => {
                            for workspace in pending.drain() {
                                gateway.refresh_workspace(workspace);
                            }
                            continue;
                        }
                        () = shutdown.cancelled() => return,
                    }
                };
                match heard {
                    Heard::Changed(workspace) => {
                        pending.insert(workspace);
                    }
                    // Missed announcements: refresh every workspace someone watches.
                    Heard::Missed => {
                        pending.extend(gateway.inner.subscriptions.iter().map(|(key, _)| key.0));
                    }
                    Heard::Closed => return,
                }
            }
        });
    }

    /// Re-asks every remembered question of `workspace`, each in its own task.
    fn refresh_workspace(&self, workspace: Uuid) {
        let subscriptions: Vec<Subscription> = self
            .inner
            .subscriptions
            .iter()
            .filter(|(key, _)| key.0 == workspace)
            .map(|(_, subscription)| subscription)
            .collect();
        for subscription in subscriptions {
            let gateway = self.clone();
            self.inner.tasks.spawn(async move {
                let key = (subscription.principal.workspace_id, subscription.principal.subject.clone());
                let refreshed = gateway.refresh(&key, &subscription).await;
                match refreshed {
                    Ok(Refreshed::Written) | Ok(Refreshed::Superseded) => {}
                    Ok(Refreshed::NobodyAnswered) => {
                        tracing::info!(user = %key.1, "no agent answered a refresh; forgetting the question");
                        gateway.forget(&key, subscription.ask_id);
                    }
                    Err(error) => tracing::warn!(user = %key.1, %error, "dashboard refresh failed"),
                }
            });
        }
    }

    /// Asks a remembered question again and places the answer as a refresh,
    /// unless a newer ask replaced the subscription while the agents answered.
    async fn refresh(&self, key: &(Uuid, String), subscription: &Subscription) -> Result<Refreshed, GatewayError> {
        let Subscription { principal, bearer, request, .. } = subscription;
        let answer = self.answer(principal, bearer, None, request).await?;
        if !answer.agents.values().any(|report| report.ok) {
            return Ok(Refreshed::NobodyAnswered);
        }
        let current = self.inner.subscriptions.get(key).is_some_and(|now| now.ask_id == subscription.ask_id);
        if !current {
            return Ok(Refreshed::Superseded);
        }
        let placement = Placement::Refresh { previous: &subscription.answer_ids };
        match self.place(principal, request, &answer, &subscription.asked_at, placement).await? {
            Some(answer_ids) => {
                self.remember_answer(key, subscription.ask_id, answer_ids);
                Ok(Refreshed::Written)
            }
            None => Ok(Refreshed::NobodyAnswered),
        }
    }

    /// Remembers the ids a refresh placed, unless a newer ask replaced the subscription meanwhile.
    fn remember_answer(&self, key: &(Uuid, String), ask_id: Uuid, answer_ids: Vec<String>) {
        let answer_ids = Arc::new(answer_ids);
        self.inner.subscriptions.entry_by_ref(key).and_compute_with(|entry| match entry {
            Some(entry) if entry.value().ask_id == ask_id => {
                Op::Put(Subscription { answer_ids: answer_ids.clone(), ..entry.into_value() })
            }
            _ => Op::Nop,
        });
    }

    /// Forgets a question, unless a newer ask replaced it meanwhile.
    fn forget(&self, key: &(Uuid, String), ask_id: Uuid) {
        self.inner.subscriptions.entry_by_ref(key).and_compute_with(|entry| match entry {
            Some(entry) if entry.value().ask_id == ask_id => Op::Remove,
            _ => Op::Nop,
        });
    }

    /// Stops the refresher and waits for refreshes in flight.
    pub async fn shutdown(&self) {
        self.inner.shutdown.cancel();
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
    }
}
