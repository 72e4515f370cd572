//! Per-workspace daily token usage, counted as messages pass and written
//! to the records store in batches (one upsert per workspace and day each
//! second), so a busy agent costs no write per message.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentdeck_storage::usage::UsageDay;
use agentdeck_storage::{RecordStore, StoreError};
use chrono::{Days, Utc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::Encoding;

/// Counts not yet written: (workspace, day) → (in, out).
type Pending = HashMap<(String, String), (i64, i64)>;

/// The token meter.
pub struct Meter {
    store: Arc<dyn RecordStore>,
    encoding: Encoding,
    pending: Mutex<Pending>,
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
    /// A meter counting with `encoding`, writing to `store`.
    pub fn new(store: Arc<dyn RecordStore>, encoding: Encoding) -> Arc<Self> {
        Arc::new(Self {
            store,
            encoding,
            pending: Mutex::new(HashMap::new()),
            tasks: TaskTracker::new(),
            shutdown: CancellationToken::new(),
        })
    }

    /// The vocabulary counted with.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    fn add(&self, workspace: &str, tokens_in: usize, tokens_out: usize) {
        if let Ok(mut pending) = self.pending.lock() {
            let counts = pending.entry((workspace.to_owned(), today())).or_insert((0, 0));
            counts.0 += i64::try_from(tokens_in).unwrap_or(i64::MAX);
            counts.1 += i64::try_from(tokens_out).unwrap_or(i64::MAX);
        }
    }

    /// Counts a message sent to an agent by `workspace`.
    pub fn record_in(&self, workspace: &str, message: &agentdeck_a2a_protocol::Message) {
        self.add(workspace, super::message_tokens(self.encoding, message), 0);
    }

    /// Counts what an agent answered `workspace` (a message, or an artifact's parts).
    pub fn record_out(&self, workspace: &str, parts: &[agentdeck_a2a_protocol::Part]) {
        let message = agentdeck_a2a_protocol::Message { parts: parts.to_vec(), ..Default::default() };
        self.add(workspace, 0, super::message_tokens(self.encoding, &message));
    }

    /// Writes what was counted since the last flush.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let batch: Pending = self.pending.lock().map(|mut pending| std::mem::take(&mut *pending)).unwrap_or_default();
        let mut failed: Pending = HashMap::new();
        let mut first_error = None;
        for ((workspace, day), (tokens_in, tokens_out)) in batch {
            if let Err(error) = self.store.add_token_usage(&workspace, &day, tokens_in, tokens_out).await {
                failed.insert((workspace, day), (tokens_in, tokens_out));
                first_error.get_or_insert(error);
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
        let mut stored = self
            .store
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
