//! Per-workspace daily token usage, counted after messages pass and written
//! to the records store in batches (one upsert per workspace and day each
//! second), so a busy agent costs no write per message.
//!
//! Counting is tiktoken's byte-pair encoding, about half a millisecond for a
//! widget answer: messages are queued as they pass and counted at the next
//! flush (or read of the usage) on a blocking thread, off the answer's path.
//! The queue is bounded ([`MAX_QUEUED`]): past it, a message is counted where
//! it passes, so memory stays bounded when the flusher falls behind.
//!
//! With a daily quota, the flush that takes a workspace's day past 80 % of
//! it raises a warning, past 95 % a critical alert: an `Alert` on the
//! dashboard of the user whose message was counted last, and a
//! `usage.threshold` entry in the activity log. Each level is raised once a
//! day per workspace (per process: a restart may raise it again).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentdeck_storage::usage::UsageDay;
use agentdeck_storage::{ActivityStore, StoreError, Stores, UsageStore};
use chrono::{Days, Utc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::Encoding;

/// Counts not yet written: (workspace, day) → (in, out).
type Pending = HashMap<(String, String), (i64, i64)>;

/// Most messages waiting to be counted.
const MAX_QUEUED: usize = 4096;

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// To an agent.
    In,
    /// From an agent.
    Out,
}

/// A message passed and not counted yet.
struct Queued {
    workspace: String,
    day: String,
    direction: Direction,
    parts: Vec<agentdeck_a2a_protocol::Part>,
}

/// Counts queued messages: (workspace, day, in, out) each.
fn count_all(encoding: Encoding, queued: Vec<Queued>) -> Vec<(String, String, usize, usize)> {
    queued
        .into_iter()
        .map(|item| {
            let tokens = super::parts_tokens(encoding, &item.parts);
            match item.direction {
                Direction::In => (item.workspace, item.day, tokens, 0),
                Direction::Out => (item.workspace, item.day, 0, tokens),
            }
        })
        .collect()
}

/// Where quota alerts go.
#[derive(Clone)]
pub struct QuotaAlerts {
    /// Tokens in and out a workspace may use per UTC day.
    pub daily_quota: u64,
    /// The dashboards the alerts are written to (it tells open tabs).
    pub dashboard: crate::dashboard::DashboardService,
}

/// Shares of the quota that raise an alert, in percent, and their severities.
const THRESHOLDS: [(u64, &str); 2] = [(95, "error"), (80, "warning")];

/// The token meter.
pub struct Meter {
    usage: Arc<dyn UsageStore>,
    /// Where threshold alerts are logged.
    activity: Arc<dyn ActivityStore>,
    encoding: Encoding,
    pending: Mutex<Pending>,
    /// Messages passed and not counted yet.
    queued: Mutex<Vec<Queued>>,
    quota: Option<QuotaAlerts>,
    /// The user last counted per workspace (who gets the alert).
    last_user: Mutex<HashMap<String, String>>,
    /// The highest threshold already raised per (workspace, day).
    raised: Mutex<HashMap<(String, String), u64>>,
    tasks: TaskTracker,
    shutdown: CancellationToken,
}

impl std::fmt::Debug for Meter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Meter").field("encoding", &self.encoding).finish_non_exhaustive()
    }
}

fn today() -> String {
    Utc::now().format("%Y-%m-%d").to_string()
}

impl Meter {
    /// A meter counting with `encoding`, writing to the usage and activity stores of `stores`.
    pub fn new(stores: &Stores, encoding: Encoding, quota: Option<QuotaAlerts>) -> Arc<Self> {
        Arc::new(Self {
            usage: stores.usage.clone(),
            activity: stores.activity.clone(),
            encoding,
            pending: Mutex::new(HashMap::new()),
            queued: Mutex::new(Vec::new()),
            quota: quota.filter(|q| q.daily_quota > 0),
            last_user: Mutex::new(HashMap::new()),
            raised: Mutex::new(HashMap::new()),
            tasks: TaskTracker::new(),
            shutdown: CancellationToken::new(),
        })
    }

    /// The vocabulary counted with.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    fn add(&self, workspace: &str, day: &str, tokens_in: usize, tokens_out: usize) {
        if let Ok(mut pending) = self.pending.lock() {
            let counts = pending.entry((workspace.to_owned(), day.to_owned())).or_insert((0, 0));
            counts.0 += i64::try_from(tokens_in).unwrap_or(i64::MAX);
            counts.1 += i64::try_from(tokens_out).unwrap_or(i64::MAX);
        }
    }

    /// Counts a message `user` of `workspace` sent to an agent.
    pub fn record_in(&self, workspace: &str, user: &str, message: &agentdeck_a2a_protocol::Message) {
        if let Ok(mut last) = self.last_user.lock() {
            last.insert(workspace.to_owned(), user.to_owned());
        }
        self.queue(workspace, Direction::In, &message.parts);
    }

    /// Counts what an agent answered `workspace` (a message, or an artifact's parts).
    pub fn record_out(&self, workspace: &str, parts: &[agentdeck_a2a_protocol::Part]) {
        self.queue(workspace, Direction::Out, parts);
    }

    /// Queues a message for counting; counts it now when the queue is full.
    fn queue(&self, workspace: &str, direction: Direction, parts: &[agentdeck_a2a_protocol::Part]) {
        let item = Queued { workspace: workspace.to_owned(), day: today(), direction, parts: parts.to_vec() };
        let full = match self.queued.lock() {
            Ok(mut queued) if queued.len() < MAX_QUEUED => {
                queued.push(item);
                return;
            }
            Ok(_) | Err(_) => item,
        };
        for (workspace, day, tokens_in, tokens_out) in count_all(self.encoding, vec![full]) {
            self.add(&workspace, &day, tokens_in, tokens_out);
        }
    }

    /// Counts the queued messages (on a blocking thread) into the pending counts.
    async fn count_queued(&self) {
        let queued = self.queued.lock().map(|mut queued| std::mem::take(&mut *queued)).unwrap_or_default();
        if queued.is_empty() {
            return;
        }
        let encoding = self.encoding;
        match tokio::task::spawn_blocking(move || count_all(encoding, queued)).await {
            Ok(counted) => {
                for (workspace, day, tokens_in, tokens_out) in counted {
                    self.add(&workspace, &day, tokens_in, tokens_out);
                }
            }
            Err(error) => tracing::warn!(%error, "queued messages could not be counted; their tokens are lost"),
        }
    }

    /// Writes what was counted since the last flush.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.count_queued().await;
        let batch: Pending = self.pending.lock().map(|mut pending| std::mem::take(&mut *pending)).unwrap_or_default();
        let mut failed: Pending = HashMap::new();
        let mut first_error = None;
        for ((workspace, day), (tokens_in, tokens_out)) in batch {
            match self.usage.add_token_usage(&workspace, &day, tokens_in, tokens_out).await {
                Ok(totals) => self.check_quota(&workspace, &totals).await,
                Err(error) => {
                    failed.insert((workspace, day), (tokens_in, tokens_out));
                    first_error.get_or_insert(error);
                }
            }
        }
        // Counts that could not be written are kept for the next flush.
        if !failed.is_empty()
            && let Ok(mut pending) = self.pending.lock()
        {
            for (key, (tokens_in, tokens_out)) in failed {
                let counts = pending.entry(key).or_insert((0, 0));
                counts.0 += tokens_in;
                counts.1 += tokens_out;
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Raises the highest threshold the day's totals passed, if not raised yet.
    async fn check_quota(&self, workspace: &str, totals: &UsageDay) {
        let Some(quota) = &self.quota else { return };
        let used = u64::try_from(totals.tokens_in + totals.tokens_out).unwrap_or(0);
        let share = used.saturating_mul(100) / quota.daily_quota.max(1);
        let Some((threshold, severity)) = THRESHOLDS.into_iter().find(|(percent, _)| share >= *percent) else { return };
        let key = (workspace.to_owned(), totals.day.clone());
        let first_time = self.raised.lock().is_ok_and(|mut raised| {
            let previous = raised.get(&key).copied().unwrap_or(0);
            raised.insert(key.clone(), previous.max(threshold));
            previous < threshold
        });
        if !first_time {
            return;
        }
        let Ok(workspace_id) = uuid::Uuid::parse_str(workspace) else { return };
        let message = format!(
            "Token usage today is {used} of the daily quota of {} ({share} %, past {threshold} %)",
            quota.daily_quota
        );
        tracing::warn!(%workspace, used, quota = quota.daily_quota, "token quota threshold passed");
        let at = agentdeck_domain::records::stored_precision(Utc::now());
        let entry = agentdeck_domain::records::ActivityEntry {
            id: uuid::Uuid::now_v7(),
            workspace_id,
            project_id: None,
            actor: "agentdeck".into(),
            action: agentdeck_domain::records::ActivityAction::UsageThreshold,
            target_kind: agentdeck_domain::records::TargetKind::Workspace,
            target_id: workspace_id,
            target_name: "daily token quota".into(),
            details: serde_json::json!({"day": totals.day, "tokens": used, "quota": quota.daily_quota, "thresholdPercent": threshold}),
            at,
        };
        if let Err(error) = self.activity.append_activity(&entry).await {
            tracing::warn!(%error, "quota threshold not logged");
        }
        let user = self.last_user.lock().ok().and_then(|last| last.get(workspace).cloned());
        let Some(user) = user else { return };
        let principal = agentdeck_domain::auth::Principal {
            subject: user,
            workspace_id,
            role: agentdeck_domain::auth::Role::Member,
        };
        let alert = serde_json::json!({"id": format!("usage-{}-{threshold}", totals.day), "severity": severity,
            "message": message, "createdAt": agentdeck_a2a_protocol::format_timestamp(&at)});
        let ops = serde_json::json!([{"op": "add", "path": "/alerts/-", "value": alert}]);
        if let Err(error) = quota.dashboard.patch(&principal, &ops, None, None).await {
            tracing::warn!(%error, "quota alert not written to the dashboard");
        }
    }

    /// Flushes every `every` until shut down.
    pub fn start_flushing(self: &Arc<Self>, every: Duration) {
        let meter = self.clone();
        self.tasks.spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(every) => {}
                    () = meter.shutdown.cancelled() => break,
                }
                if let Err(error) = meter.flush().await {
                    tracing::warn!(%error, "token usage not written yet; kept for the next flush");
                }
            }
        });
    }

    /// The last `days` days of `workspace` (today included), stored and pending counts together.
    pub async fn usage(&self, workspace: &str, days: u32) -> Result<Vec<UsageDay>, StoreError> {
        let to = Utc::now().date_naive();
        let from = to.checked_sub_days(Days::new(u64::from(days.saturating_sub(1)))).unwrap_or(to);
        self.count_queued().await;
        let mut stored = self
            .usage
            .token_usage(workspace, &from.format("%Y-%m-%d").to_string(), &to.format("%Y-%m-%d").to_string())
            .await?;
        let pending: Vec<(String, (i64, i64))> = self
            .pending
            .lock()
            .map(|pending| {
                pending
                    .iter()
                    .filter(|((ws, _), _)| ws == workspace)
                    .map(|((_, day), counts)| (day.clone(), *counts))
                    .collect()
            })
            .unwrap_or_default();
        for (day, (tokens_in, tokens_out)) in pending {
            match stored.iter_mut().find(|stored| stored.day == day) {
                Some(existing) => {
                    existing.tokens_in += tokens_in;
                    existing.tokens_out += tokens_out;
                }
                None => stored.push(UsageDay { day, tokens_in, tokens_out }),
            }
        }
        stored.sort_by(|a, b| a.day.cmp(&b.day));
        Ok(stored)
    }

    /// Stops flushing and writes what is left.
    pub async fn shutdown(&self) {
        self.shutdown.cancel();
        self.tasks.close();
        self.tasks.wait().await;
        if let Err(error) = self.flush().await {
            tracing::warn!(%error, "token usage lost at shutdown");
        }
    }
}

#[cfg(test)]
mod tests {
    use agentdeck_a2a_protocol::{Message, Part};
    use agentdeck_storage::testing::TestDatabase;
    use agentdeck_storage::{ConnectOptions, connect};

    use super::*;

    const WORKSPACE: &str = "00000000-0000-7000-8000-000000000001";

    async fn meter() -> anyhow::Result<(TestDatabase, Arc<Meter>)> {
        let database = TestDatabase::sqlite()?;
        let options = ConnectOptions { max_connections: 2, acquire_timeout: Duration::from_secs(30) };
        let stores = connect(&database.url, &options).await?;
        stores.database.migrate().await?;
        let meter = Meter::new(&stores, Encoding::Cl100kBase, None);
        Ok((database, meter))
    }

    fn queued(meter: &Meter) -> usize {
        meter.queued.lock().map(|queued| queued.len()).unwrap_or(0)
    }

    #[tokio::test]
    async fn messages_are_counted_after_they_pass_and_the_usage_includes_them() -> anyhow::Result<()> {
        let (_database, meter) = meter().await?;
        meter.record_in(WORKSPACE, "ada", &Message::user_text("m-1", "hello world"));
        meter.record_out(WORKSPACE, &[Part::text("hello world"), Part::text("hello world")]);
        assert_eq!(queued(&meter), 2, "queued, not counted on the way");
        let usage = meter.usage(WORKSPACE, 1).await?;
        assert_eq!(usage.iter().map(|day| (day.tokens_in, day.tokens_out)).collect::<Vec<_>>(), [(2, 4)]);
        assert_eq!(queued(&meter), 0);
        meter.flush().await?;
        let stored = meter.usage.token_usage(WORKSPACE, &today(), &today()).await?;
        assert_eq!(stored.iter().map(|day| (day.tokens_in, day.tokens_out)).collect::<Vec<_>>(), [(2, 4)]);
        Ok(())
    }

    #[tokio::test]
    async fn past_the_queue_bound_a_message_is_counted_where_it_passes() -> anyhow::Result<()> {
        let (_database, meter) = meter().await?;
        for _ in 0..MAX_QUEUED {
            meter.record_out(WORKSPACE, &[Part::text("hello world")]);
        }
        meter.record_out(WORKSPACE, &[Part::text("hello world")]);
        assert_eq!(queued(&meter), MAX_QUEUED, "the queue does not grow past its bound");
        let counted_now = meter.pending.lock().map(|pending| pending.values().map(|c| c.1).sum::<i64>()).unwrap_or(0);
        assert_eq!(counted_now, 2, "the message past the bound was counted at once");
        meter.flush().await?;
        let stored = meter.usage.token_usage(WORKSPACE, &today(), &today()).await?;
        let total = i64::try_from(MAX_QUEUED + 1).unwrap_or(i64::MAX) * 2;
        assert_eq!(stored.iter().map(|day| day.tokens_out).sum::<i64>(), total);
        Ok(())
    }
}
