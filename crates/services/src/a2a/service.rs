//! The service behind every A2A operation: the hosted agents, the registry of
//! tasks held in memory while they can change, and what the operations share.
//!
//! The operations are split by job, each an `impl A2aService` block of its own:
//! [`super::lifecycle`] (send, stream, cancel, subscribe and the agent runs),
//! [`super::listing`] (get and list, page tokens) and
//! [`super::push_configs`] (webhook configs). This file holds the state they
//! share and how a task is found: in the registry when someone holds it,
//! else loaded from the store.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentdeck_a2a_protocol::{A2aError, StreamResponse, Task, TaskPushNotificationConfig, TaskState};
use agentdeck_storage::agent_tasks::{AgentTaskScope, StoredAgentTask, StoredPushConfig};
use agentdeck_storage::{AgentTaskStore, Bus, StoreError};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::caller::ANONYMOUS_TENANT;
use super::executor::AgentExecutor;
use super::live::{Emitted, LiveTask, SequencedEvent};
use super::push::{PushOptions, Pusher};
use crate::outbound::OutboundHttp;

/// How long idempotency keys are kept unless configured: the 24 hours the IETF draft suggests.
pub const DEFAULT_IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Longest wait between two sweeps of expired idempotency keys.
const IDEMPOTENCY_SWEEP_EVERY: Duration = Duration::from_secs(60 * 60);

/// Tunables of the service.
#[derive(Debug, Clone)]
pub struct A2aOptions {
    /// Events kept per task for resumption.
    pub keep_events: u32,
    /// Longest a blocking send waits before answering with the task as it is.
    pub blocking_timeout: Duration,
    /// Events buffered per task for slow streams before they refill from the log.
    pub stream_buffer: usize,
    /// Push notification delivery.
    pub push: PushOptions,
    /// Agent runs working now (shared with whoever reports it, e.g. Pulse's vitals).
    pub active_runs: Arc<AtomicUsize>,
    /// Counts the tokens of messages in and out per workspace (none: not metered).
    pub meter: Option<Arc<crate::metering::Meter>>,
    /// Makes the push deliveries' HTTP client (TLS roots, CA file).
    pub outbound: OutboundHttp,
    /// How long a send's `Idempotency-Key` is remembered (expired keys are purged).
    pub idempotency_ttl: Duration,
    /// In a cluster, how long the bus may be quiet while a stream on this node
    /// follows a task before the store is read anyway (a lost last message).
    pub follow_poll: Duration,
    /// Tasks held in memory past which idle ones (waiting for input, with no
    /// run, stream or waiting send) are let go; they stay in the store.
    pub max_held_tasks: usize,
}

/// Tasks held in memory by default before idle ones are let go.
pub const DEFAULT_MAX_HELD_TASKS: usize = 10_000;

impl Default for A2aOptions {
    fn default() -> Self {
        Self {
            keep_events: 256,
            blocking_timeout: Duration::from_secs(60),
            stream_buffer: 64,
            push: PushOptions::default(),
            active_runs: Arc::default(),
            meter: None,
            outbound: OutboundHttp::default(),
            idempotency_ttl: DEFAULT_IDEMPOTENCY_TTL,
            follow_poll: super::follow::QUIET_POLL,
            max_held_tasks: DEFAULT_MAX_HELD_TASKS,
        }
    }
}

/// The hosted agents and their tasks.
#[derive(Clone)]
pub struct A2aService {
    pub(super) inner: Arc<Inner>,
}

/// What every clone of the service shares.
pub(super) struct Inner {
    pub(super) store: Arc<dyn AgentTaskStore>,
    pub(super) agents: BTreeMap<String, Arc<dyn AgentExecutor>>,
    /// Tasks that can still change, by id; finished ones are dropped.
    pub(super) live: Mutex<HashMap<String, Arc<LiveTask>>>,
    /// Owns the agent runs and push deliveries.
    pub(super) runs: TaskTracker,
    pub(super) shutdown: CancellationToken,
    pub(super) pusher: Pusher,
    pub(super) options: A2aOptions,
    /// The other nodes' events and cancels (cluster mode; `None` on one node).
    pub(super) bus: Option<Arc<dyn Bus>>,
}

/// A store failure as the protocol's internal error.
pub(super) fn store_error(error: StoreError) -> A2aError {
    match error {
        StoreError::Unavailable(_) => A2aError::Internal("the task store is unavailable; retry shortly".into()),
        StoreError::InvalidText { path } => A2aError::invalid_params(vec![agentdeck_a2a_protocol::FieldViolation {
            field: if path.is_empty() { "params".into() } else { path.trim_start_matches('/').replace('/', ".") },
            description: agentdeck_domain::validation::CONTROL_CHARACTER_MESSAGE.into(),
        }]),
        other => A2aError::Internal(format!("the task store failed: {other}")),
    }
}

/// A stored task body back in its typed form.
pub(super) fn decode_task(body: serde_json::Value) -> Result<Task, A2aError> {
    serde_json::from_value(body).map_err(|e| A2aError::Internal(format!("a stored task is unreadable: {e}")))
}

/// A stored push config back in its typed form (unreadable ones are skipped).
pub(super) fn decode_push_config(stored: StoredPushConfig) -> Option<TaskPushNotificationConfig> {
    serde_json::from_value(stored.body).ok()
}

/// The task with at most `limit` messages of history.
pub(super) fn with_history(mut task: Task, limit: Option<usize>) -> Task {
    task.truncate_history(limit);
    task
}

/// A request's `historyLength` as a limit (negative reads as none kept).
pub(super) fn history_limit(length: Option<i32>) -> Option<usize> {
    length.map(|n| usize::try_from(n).unwrap_or(0))
}

/// The task as one event, numbered as the last event it includes.
pub(super) fn snapshot_event(task: &Task, seq: i64) -> SequencedEvent {
    SequencedEvent { seq, event: Arc::new(StreamResponse::Task(task.clone())) }
}

impl A2aService {
    /// A service hosting `agents`, storing tasks in `store` (one node: embedded mode).
    pub fn new(store: Arc<dyn AgentTaskStore>, agents: Vec<Arc<dyn AgentExecutor>>, options: A2aOptions) -> Self {
        Self::on_bus(store, agents, options, None)
    }

    /// A service of one node of a cluster whose nodes share `store` and talk on `bus` (see `follow.rs`).
    pub fn on_bus(
        store: Arc<dyn AgentTaskStore>,
        agents: Vec<Arc<dyn AgentExecutor>>,
        options: A2aOptions,
        bus: Option<Arc<dyn Bus>>,
    ) -> Self {
        let agents = agents.into_iter().map(|agent| (agent.descriptor().name.clone(), agent)).collect();
        let runs = TaskTracker::new();
        let pusher = Pusher::new(options.push.clone(), &options.outbound, runs.clone());
        let sweep_every = options.idempotency_ttl.min(IDEMPOTENCY_SWEEP_EVERY);
        let service = Self {
            inner: Arc::new(Inner {
                store,
                agents,
                live: Mutex::new(HashMap::new()),
                runs,
                shutdown: CancellationToken::new(),
                pusher,
                options,
                bus,
            }),
        };
        service.spawn_idempotency_sweep(sweep_every);
        service
    }

    /// The hosted agents, by name.
    pub fn agents(&self) -> impl Iterator<Item = &Arc<dyn AgentExecutor>> {
        self.inner.agents.values()
    }

    /// The agent of this name.
    pub fn agent(&self, name: &str) -> Option<&Arc<dyn AgentExecutor>> {
        self.inner.agents.get(name)
    }

    /// Starts shutting down: agent runs stop, open streams end.
    pub fn begin_shutdown(&self) {
        self.inner.shutdown.cancel();
    }

    /// Stops every agent run and waits for them (their tasks stay as stored).
    pub async fn shutdown(&self) {
        self.begin_shutdown();
        self.inner.runs.close();
        self.inner.runs.wait().await;
    }

    /// Ends `FAILED` every task left `SUBMITTED` or `WORKING` by a previous run
    /// of the server (no agent works them any more). Call once at startup, in
    /// embedded mode only: in a cluster another node may be working them.
    pub async fn fail_interrupted_runs(&self) -> Result<usize, A2aError> {
        let states = [TaskState::Submitted.as_str(), TaskState::Working.as_str()];
        let stranded = self.inner.store.agent_tasks_in_states(&states).await.map_err(store_error)?;
        let mut failed = 0;
        for (scope, stored) in stranded {
            let live = self.live_from(scope, stored).await?;
            let mut guard = live.lock().await;
            let event = live.status_update_saying(TaskState::Failed, "agentdeck restarted while this task was running");
            if let Emitted::Sent = live.emit_locked(&mut guard, event, None).await {
                failed += 1;
            }
            drop(guard);
            self.forget_if_finished(&live).await;
        }
        if failed > 0 {
            tracing::warn!(tasks = failed, "ended A2A tasks that a restart interrupted");
        }
        Ok(failed)
    }

    /// The meter, for callers of a workspace (anonymous callers are not metered).
    pub(super) fn metered(&self, scope: &AgentTaskScope) -> Option<&Arc<crate::metering::Meter>> {
        self.inner.options.meter.as_ref().filter(|_| scope.tenant != ANONYMOUS_TENANT)
    }

    /// The agent of this name, or the protocol's method-not-found error.
    pub(super) fn executor(&self, agent: &str) -> Result<Arc<dyn AgentExecutor>, A2aError> {
        self.inner.agents.get(agent).cloned().ok_or_else(|| A2aError::MethodNotFound(format!("no agent `{agent}`")))
    }

    /// The task as it is now: from memory when someone holds it (on one node), else from the store.
    pub(super) async fn current_task(&self, scope: &AgentTaskScope, id: &str) -> Result<Task, A2aError> {
        // In a cluster the store is ahead of this node's copy while a bus message is on its way.
        let held = || self.inner.live.lock().ok().and_then(|live| live.get(id).cloned());
        let live = if self.inner.bus.is_none() { held() } else { None };
        if let Some(live) = live.filter(|live| &live.scope == scope) {
            return Ok(live.lock().await.task.clone());
        }
        let stored = self.inner.store.get_agent_task(scope, id).await.map_err(store_error)?;
        let stored = stored.ok_or_else(|| A2aError::TaskNotFound(id.to_owned()))?;
        decode_task(stored.body)
    }

    /// The task in memory, loading it from the store when no one holds it.
    pub(super) async fn live_task(&self, scope: &AgentTaskScope, id: &str) -> Result<Arc<LiveTask>, A2aError> {
        let held = self.inner.live.lock().ok().and_then(|live| live.get(id).cloned());
        if let Some(live) = held {
            return if &live.scope == scope { Ok(live) } else { Err(A2aError::TaskNotFound(id.to_owned())) };
        }
        let stored = self.inner.store.get_agent_task(scope, id).await.map_err(store_error)?;
        let stored = stored.ok_or_else(|| A2aError::TaskNotFound(id.to_owned()))?;
        self.live_from(scope.clone(), stored).await
    }

    /// A stored task in memory (the registry's copy when another call loaded it first).
    async fn live_from(&self, scope: AgentTaskScope, stored: StoredAgentTask) -> Result<Arc<LiveTask>, A2aError> {
        let id = stored.id.clone();
        let task = decode_task(stored.body)?;
        let terminal = task.status.state.is_terminal();
        // A finished task sends no more events, so its webhooks are not needed.
        let push = if terminal {
            Vec::new()
        } else {
            let configs = self.inner.store.push_configs(&scope, &id, None).await.map_err(store_error)?;
            configs.into_iter().filter_map(decode_push_config).collect()
        };
        let mut live = self.inner.live.lock().map_err(|_| A2aError::Internal("task registry poisoned".into()))?;
        if let Some(existing) = live.get(&id) {
            return Ok(existing.clone());
        }
        let loaded = self.new_live(scope, task, stored.last_seq, stored.created_at, push);
        // Finished tasks are read, never changed: no need to keep them.
        if !terminal {
            self.hold(&mut live, id, loaded.clone());
        }
        Ok(loaded)
    }

    /// Puts a task in the registry. Past [`A2aOptions::max_held_tasks`] it first
    /// lets go of the idle ones: a task waiting for input that a client never
    /// answers would otherwise stay in memory for good. An idle task is in the
    /// store, and the next call about it loads it again ([`Self::live_task`]).
    pub(super) fn hold(&self, registry: &mut HashMap<String, Arc<LiveTask>>, id: String, live: Arc<LiveTask>) {
        if registry.len() >= self.inner.options.max_held_tasks {
            let before = registry.len();
            registry.retain(|_, held| !held.is_idle());
            tracing::debug!(released = before - registry.len(), held = registry.len(), "let go of idle A2A tasks");
        }
        registry.insert(id, live);
    }

    /// How many tasks this node holds in memory.
    pub fn held_tasks(&self) -> usize {
        self.inner.live.lock().map_or(0, |registry| registry.len())
    }

    /// Wraps a task with the service's store, pusher and buffer sizes; in a
    /// cluster, follows it on the bus while it can still change.
    pub(super) fn new_live(
        &self,
        scope: AgentTaskScope,
        task: Task,
        last_seq: i64,
        created_at: chrono::DateTime<chrono::Utc>,
        push: Vec<TaskPushNotificationConfig>,
    ) -> Arc<LiveTask> {
        let options = &self.inner.options;
        let terminal = task.status.state.is_terminal();
        let live = Arc::new(LiveTask::new(
            scope,
            task,
            last_seq,
            created_at,
            self.inner.store.clone(),
            options.keep_events,
            options.stream_buffer,
            self.inner.pusher.clone(),
            push,
            self.inner.bus.clone(),
        ));
        if let Some(bus) = self.inner.bus.as_ref().filter(|_| !terminal) {
            self.follow(&live, bus);
        }
        live
    }

    /// Drops the task from the registry once it is over.
    pub(super) async fn forget_if_finished(&self, live: &Arc<LiveTask>) {
        let guard = live.lock().await;
        if guard.task.status.state.is_terminal()
            && let Ok(mut registry) = self.inner.live.lock()
        {
            registry.remove(&live.id);
        }
    }
}
