//! Live refresh: when a workspace's project data changes, the dashboards
//! that show gateway answers get them asked again and written, so their open
//! tabs update without anyone asking.
//!
//! The gateway remembers, per user, the last question it answered for them
//! (with their token, for at most an hour). Writes of project data are
//! announced on a channel; the refresher collects them for `debounce` (a burst
//! of edits makes one refresh), then re-asks each remembered question of the
//! changed workspaces — the answer cache misses, since the data generation
//! moved on. A refresh in which every agent failed (the token expired, say)
//! writes nothing and forgets the question. Changes made on other nodes are
//! not seen here (cluster mode refreshes on the node that took the write).

use std::collections::HashSet;
use std::time::Duration;

use agentdeck_domain::auth::Principal;
use tokio::sync::broadcast::{self, error::RecvError};
use uuid::Uuid;

use super::{AskRequest, Gateway};

/// A question to ask again.
#[derive(Clone)]
pub(crate) struct Subscription {
    pub principal: Principal,
    pub bearer: String,
    pub request: AskRequest,
}

/// How long a remembered question is refreshed.
pub(crate) const REMEMBER_FOR: Duration = Duration::from_secs(3600);

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
                let refreshed = gateway
                    .answer(&subscription.principal, &subscription.bearer, None, &subscription.request, true)
                    .await;
                match refreshed {
                    Ok(answer) if answer.agents.values().any(|report| report.ok) => {}
                    Ok(_) => {
                        tracing::info!(user = %key.1, "no agent answered a refresh; forgetting the question");
                        gateway.inner.subscriptions.invalidate(&key);
                    }
                    Err(error) => tracing::warn!(user = %key.1, %error, "dashboard refresh failed"),
                }
            });
        }
    }

    /// Stops the refresher and waits for refreshes in flight.
    pub async fn shutdown(&self) {
        self.inner.shutdown.cancel();
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
    }
}
