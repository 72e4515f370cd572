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
//! nothing and forgets the question. Changes made on other nodes are not seen
//! here (cluster mode refreshes on the node that took the write).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use agentdeck_domain::auth::Principal;
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

impl Gateway {
    /// Starts refreshing dashboards on `changes` (workspace ids), `debounce` after the first of a burst.
    pub fn start_live_refresh(&self, mut changes: broadcast::Receiver<Uuid>, debounce: Duration) {
        let gateway = self.clone();
        let shutdown = self.inner.shutdown.clone();
        self.inner.tasks.spawn(async move {
            let mut pending: HashSet<Uuid> = HashSet::new();
            loop {
                let received = if pending.is_empty() {
                    tokio::select! {
                        received = changes.recv() => received,
                        () = shutdown.cancelled() => return,
                    }
                } else {
                    tokio::select! {
                        received = changes.recv() => received,
                        () = tokio::time::sleep(debounce) => {
                            for workspace in pending.drain() {
                                gateway.refresh_workspace(workspace);
                            }
                            continue;
                        }
                        () = shutdown.cancelled() => return,
                    }
                };
                match received {
                    Ok(workspace) => {
                        pending.insert(workspace);
                    }
                    // Missed announcements: refresh every workspace someone watches.
                    Err(RecvError::Lagged(_)) => {
                        pending.extend(gateway.inner.subscriptions.iter().map(|(key, _)| key.0));
                    }
                    Err(RecvError::Closed) => return,
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
