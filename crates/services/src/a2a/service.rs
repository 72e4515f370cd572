//! The protocol operations on hosted agents' tasks.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentdeck_a2a_protocol::{
    A2aError, CancelTaskRequest, DeleteTaskPushNotificationConfigRequest, FieldViolation,
    GetTaskPushNotificationConfigRequest, GetTaskRequest, ListTaskPushNotificationConfigsRequest,
    ListTaskPushNotificationConfigsResponse, ListTasksRequest, ListTasksResponse, Message, SendMessageRequest,
    SendMessageResponse, StreamResponse, Task, TaskPushNotificationConfig, TaskState, TaskStatus, now_millis,
};
use agentdeck_domain::auth::Principal;
use agentdeck_domain::page::Cursor;
use agentdeck_storage::agent_tasks::{
    AgentTaskCursor, AgentTaskEvent, AgentTaskFilter, AgentTaskScope, StoredPushConfig,
};
use agentdeck_storage::{AgentTaskStore, StoreError};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

use super::executor::{AgentExecutor, AgentRequest, TaskUpdater};
use super::live::{Emitted, LiveTask, SequencedEvent, stored_task};
use super::push::{PushOptions, Pusher};
use super::stream::{EventStream, event_stream};

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
}

impl Default for A2aOptions {
    fn default() -> Self {
        Self {
            keep_events: 256,
            blocking_timeout: Duration::from_secs(60),
            stream_buffer: 64,
            push: PushOptions::default(),
            active_runs: Arc::default(),
            meter: None,
        }
    }
}

/// Counts a run while it lives.
struct RunningGuard(Arc<AtomicUsize>);

impl RunningGuard {
    fn start(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Self(counter.clone())
    }
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Who is calling. Their tasks live in the scope of their workspace and user
/// id; anonymous callers share the scope `public`/`anonymous`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Who, when authenticated (the agents read their workspace, the gateway writes their dashboard).
    pub principal: Option<Principal>,
    /// The bearer token, passed on to the agent.
    pub bearer: Option<String>,
}

/// The tenant of anonymous callers (never metered).
const ANONYMOUS_TENANT: &str = "public";

impl Caller {
    /// An unauthenticated caller.
    pub fn anonymous() -> Self {
        Self { principal: None, bearer: None }
    }

    /// An authenticated caller with their token.
    pub fn authenticated(principal: Principal, bearer: Option<String>) -> Self {
        Self { principal: Some(principal), bearer }
    }

    fn scope(&self, agent: &str) -> AgentTaskScope {
        let (tenant, owner) = match &self.principal {
            Some(principal) => (principal.workspace_id.to_string(), principal.subject.clone()),
            None => (ANONYMOUS_TENANT.to_owned(), "anonymous".to_owned()),
        };
        AgentTaskScope { tenant, owner, agent: agent.to_owned() }
    }
}

/// The hosted agents and their tasks.
#[derive(Clone)]
pub struct A2aService {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn AgentTaskStore>,
    agents: BTreeMap<String, Arc<dyn AgentExecutor>>,
    live: Mutex<HashMap<String, Arc<LiveTask>>>,
    runs: TaskTracker,
    shutdown: CancellationToken,
    pusher: Pusher,
    options: A2aOptions,
}

fn store_error(error: StoreError) -> A2aError {
    match error {
        StoreError::Unavailable(_) => A2aError::Internal("the task store is unavailable; retry shortly".into()),
        other => A2aError::Internal(format!("the task store failed: {other}")),
    }
}

fn decode_task(body: serde_json::Value) -> Result<Task, A2aError> {
    serde_json::from_value(body).map_err(|e| A2aError::Internal(format!("a stored task is unreadable: {e}")))
}

fn decode_push_config(stored: StoredPushConfig) -> Option<TaskPushNotificationConfig> {
    serde_json::from_value(stored.body).ok()
}

fn with_history(mut task: Task, limit: Option<usize>) -> Task {
    task.truncate_history(limit);
    task
}

fn history_limit(length: Option<i32>) -> Option<usize> {
    length.map(|n| usize::try_from(n).unwrap_or(0))
}

fn snapshot_event(task: &Task, seq: i64) -> SequencedEvent {
    SequencedEvent { seq, event: Arc::new(StreamResponse::Task(task.clone())) }
}

impl A2aService {
    /// A service hosting `agents`, storing tasks in `store`.
    pub fn new(store: Arc<dyn AgentTaskStore>, agents: Vec<Arc<dyn AgentExecutor>>, options: A2aOptions) -> Self {
        let agents = agents.into_iter().map(|agent| (agent.descriptor().name.clone(), agent)).collect();
        let runs = TaskTracker::new();
        let pusher = Pusher::new(options.push.clone(), runs.clone());
        Self {
            inner: Arc::new(Inner {
                store,
                agents,
                live: Mutex::new(HashMap::new()),
                runs,
                shutdown: CancellationToken::new(),
                pusher,
                options,
            }),
        }
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
    fn metered(&self, scope: &AgentTaskScope) -> Option<&Arc<crate::metering::Meter>> {
        self.inner.options.meter.as_ref().filter(|_| scope.tenant != ANONYMOUS_TENANT)
    }

    fn executor(&self, agent: &str) -> Result<Arc<dyn AgentExecutor>, A2aError> {
        self.inner.agents.get(agent).cloned().ok_or_else(|| A2aError::MethodNotFound(format!("no agent `{agent}`")))
    }

    /// `SendMessage`.
    pub async fn send(
        &self,
        agent: &str,
        caller: &Caller,
        request: SendMessageRequest,
    ) -> Result<SendMessageResponse, A2aError> {
        let history = request.history_length();
        let return_immediately = request.return_immediately();
        match self.start(agent, caller, request).await? {
            Started::Reply(message) => Ok(SendMessageResponse::Message(message)),
            Started::Existing(live) => {
                Ok(SendMessageResponse::Task(with_history(live.lock().await.task.clone(), history)))
            }
            Started::Run { live, mut events, .. } => {
                if !return_immediately {
                    let deadline = tokio::time::sleep(self.inner.options.blocking_timeout);
                    tokio::pin!(deadline);
                    loop {
                        tokio::select! {
                            next = events.recv() => match next {
                                Ok(event) if event.event.ends_stream() => break,
                                Ok(_) => {}
                                // Events were missed: the snapshot says whether the final one was among them.
                                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                                    let state = live.lock().await.task.status.state;
                                    if state.is_terminal() || state.is_interrupted() {
                                        break;
                                    }
                                }
                                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                            },
                            () = &mut deadline => break,
                        }
                    }
                }
                let task = live.lock().await.task.clone();
                Ok(SendMessageResponse::Task(with_history(task, history)))
            }
        }
    }

    /// `SendStreamingMessage`: the task first (or the one reply), then its events.
    pub async fn send_streaming(
        &self,
        agent: &str,
        caller: &Caller,
        request: SendMessageRequest,
    ) -> Result<EventStream, A2aError> {
        match self.start(agent, caller, request).await? {
            Started::Reply(message) => {
                let event = SequencedEvent { seq: 0, event: Arc::new(StreamResponse::Message(message)) };
                Ok(event_stream(vec![event], None, 0, self.inner.shutdown.clone()))
            }
            Started::Existing(live) => self.stream_live(live, None).await,
            // The snapshot and the receiver were taken under one lock: the
            // stream misses nothing and repeats nothing.
            Started::Run { live, snapshot, events } => {
                let seq = snapshot.seq;
                Ok(event_stream(vec![snapshot], Some((live, events)), seq, self.inner.shutdown.clone()))
            }
        }
    }

    /// `GetTask`.
    pub async fn get_task(&self, agent: &str, caller: &Caller, request: GetTaskRequest) -> Result<Task, A2aError> {
        A2aError::check(request.violations())?;
        self.executor(agent)?;
        let task = self.current_task(&caller.scope(agent), &request.id).await?;
        Ok(with_history(task, history_limit(request.history_length)))
    }

    /// `ListTasks`: newest status first, artifacts only when asked for.
    pub async fn list_tasks(
        &self,
        agent: &str,
        caller: &Caller,
        request: ListTasksRequest,
    ) -> Result<ListTasksResponse, A2aError> {
        A2aError::check(request.violations())?;
        self.executor(agent)?;
        let page_size = request.page_size.unwrap_or(ListTasksRequest::DEFAULT_PAGE_SIZE);
        let cursor = match request.page_token.as_deref().filter(|token| !token.is_empty()) {
            Some(token) => Some(decode_page_token(token)?),
            None => None,
        };
        let filter = AgentTaskFilter {
            context_id: request.context_id.clone().filter(|id| !id.is_empty()),
            state: request.status.filter(|s| *s != TaskState::Unspecified).map(|s| s.as_str().to_owned()),
            status_after: request.status_timestamp_after,
        };
        let limit = u32::try_from(page_size).unwrap_or(50);
        let page = self
            .inner
            .store
            .list_agent_tasks(&caller.scope(agent), &filter, cursor.as_ref(), limit + 1)
            .await
            .map_err(store_error)?;
        let more = page.tasks.len() > page_size as usize;
        let mut stored = page.tasks;
        stored.truncate(page_size as usize);
        let next_page_token = match (more, stored.last()) {
            (true, Some(last)) => encode_page_token(&AgentTaskCursor {
                status_at_millis: last.status_at.timestamp_millis(),
                id: last.id.clone(),
            }),
            _ => String::new(),
        };
        let include_artifacts = request.include_artifacts.unwrap_or(false);
        let mut tasks = Vec::with_capacity(stored.len());
        for record in stored {
            let mut task = with_history(decode_task(record.body)?, history_limit(request.history_length));
            if !include_artifacts {
                task.artifacts.clear();
            }
            tasks.push(task);
        }
        Ok(ListTasksResponse {
            tasks,
            next_page_token,
            page_size,
            total_size: i32::try_from(page.total).unwrap_or(i32::MAX),
        })
    }

    /// `CancelTask`: ends the task `CANCELED`, or answers not cancelable when it is over.
    pub async fn cancel_task(
        &self,
        agent: &str,
        caller: &Caller,
        request: CancelTaskRequest,
    ) -> Result<Task, A2aError> {
        A2aError::check(request.violations())?;
        self.executor(agent)?;
        let live = self.live_task(&caller.scope(agent), &request.id).await?;
        let mut guard = live.lock().await;
        let state = guard.task.status.state;
        if state.is_terminal() {
            return Err(A2aError::TaskNotCancelable { task_id: request.id, state: state.as_str().to_owned() });
        }
        let event = live.status_update_saying(TaskState::Canceled, "canceled at the client's request");
        match live.emit_locked(&mut guard, event, None).await {
            Emitted::Sent => {}
            Emitted::Finished(state) => {
                return Err(A2aError::TaskNotCancelable { task_id: request.id, state: state.as_str().to_owned() });
            }
            Emitted::Failed(error) => return Err(store_error(error)),
        }
        let task = guard.task.clone();
        drop(guard);
        self.stop_run(&live);
        self.forget_if_finished(&live).await;
        Ok(task)
    }

    /// `SubscribeToTask`: the task first, then its events; with `last_event_id`,
    /// what came after that event instead of the snapshot.
    pub async fn subscribe(
        &self,
        agent: &str,
        caller: &Caller,
        task_id: &str,
        last_event_id: Option<i64>,
    ) -> Result<EventStream, A2aError> {
        if task_id.trim().is_empty() {
            return Err(A2aError::invalid_params(vec![FieldViolation::new("id", "is required")]));
        }
        self.executor(agent)?;
        let live = self.live_task(&caller.scope(agent), task_id).await?;
        self.stream_live(live, last_event_id).await
    }

    /// `CreateTaskPushNotificationConfig`: registers a webhook and sends it the task as it is.
    pub async fn create_push_config(
        &self,
        agent: &str,
        caller: &Caller,
        config: TaskPushNotificationConfig,
    ) -> Result<TaskPushNotificationConfig, A2aError> {
        self.executor(agent)?;
        let mut violations = Vec::new();
        if config.task_id.trim().is_empty() {
            violations.push(FieldViolation::new("taskId", "is required"));
        }
        if config.url.trim().is_empty() {
            violations.push(FieldViolation::new("url", "is required"));
        }
        A2aError::check(violations)?;
        self.inner.pusher.check_url(&config.url).await?;
        let live = self.live_task(&caller.scope(agent), &config.task_id).await?;
        self.register_push(&live, config).await
    }

    async fn register_push(
        &self,
        live: &Arc<LiveTask>,
        mut config: TaskPushNotificationConfig,
    ) -> Result<TaskPushNotificationConfig, A2aError> {
        config.task_id = live.id.clone();
        if config.id.trim().is_empty() {
            config.id = Uuid::now_v7().to_string();
        }
        let body = serde_json::to_value(&config).map_err(|e| A2aError::Internal(e.to_string()))?;
        let stored = StoredPushConfig { id: config.id.clone(), task_id: live.id.clone(), body };
        self.inner.store.put_push_config(&live.scope, &stored, now_millis()).await.map_err(|error| match error {
            StoreError::NotFound => A2aError::TaskNotFound(live.id.clone()),
            other => store_error(other),
        })?;
        if let Ok(mut configs) = live.push.lock() {
            configs.retain(|existing| existing.id != config.id);
            configs.push(config.clone());
        }
        // The webhook learns where the task is now, then gets every event after it.
        let guard = live.lock().await;
        let snapshot = snapshot_event(&guard.task, guard.last_seq);
        drop(guard);
        self.inner.pusher.deliver(vec![config.clone()], snapshot.seq, snapshot.event);
        Ok(config.redacted())
    }

    /// `GetTaskPushNotificationConfig` (credentials left out).
    pub async fn get_push_config(
        &self,
        agent: &str,
        caller: &Caller,
        request: GetTaskPushNotificationConfigRequest,
    ) -> Result<TaskPushNotificationConfig, A2aError> {
        A2aError::check(request.violations())?;
        let configs = self.push_configs_of(agent, caller, &request.task_id, Some(&request.id)).await?;
        configs.into_iter().next().ok_or_else(|| {
            A2aError::TaskNotFound(format!("task {} has no push config {}", request.task_id, request.id))
        })
    }

    /// `ListTaskPushNotificationConfigs` (credentials left out; one page).
    pub async fn list_push_configs(
        &self,
        agent: &str,
        caller: &Caller,
        request: ListTaskPushNotificationConfigsRequest,
    ) -> Result<ListTaskPushNotificationConfigsResponse, A2aError> {
        A2aError::check(request.violations())?;
        let configs = self.push_configs_of(agent, caller, &request.task_id, None).await?;
        Ok(ListTaskPushNotificationConfigsResponse { configs, next_page_token: String::new() })
    }

    /// `DeleteTaskPushNotificationConfig` (deleting one that is gone succeeds).
    pub async fn delete_push_config(
        &self,
        agent: &str,
        caller: &Caller,
        request: DeleteTaskPushNotificationConfigRequest,
    ) -> Result<(), A2aError> {
        A2aError::check(request.violations())?;
        self.executor(agent)?;
        let scope = caller.scope(agent);
        let live = self.live_task(&scope, &request.task_id).await?;
        self.inner.store.delete_push_config(&scope, &request.task_id, &request.id).await.map_err(store_error)?;
        if let Ok(mut configs) = live.push.lock() {
            configs.retain(|existing| existing.id != request.id);
        }
        Ok(())
    }

    async fn push_configs_of(
        &self,
        agent: &str,
        caller: &Caller,
        task_id: &str,
        id: Option<&str>,
    ) -> Result<Vec<TaskPushNotificationConfig>, A2aError> {
        self.executor(agent)?;
        let scope = caller.scope(agent);
        if self.inner.store.get_agent_task(&scope, task_id).await.map_err(store_error)?.is_none() {
            return Err(A2aError::TaskNotFound(task_id.to_owned()));
        }
        let stored = self.inner.store.push_configs(&scope, task_id, id).await.map_err(store_error)?;
        Ok(stored.into_iter().filter_map(decode_push_config).map(|config| config.redacted()).collect())
    }

    async fn stream_live(&self, live: Arc<LiveTask>, last_event_id: Option<i64>) -> Result<EventStream, A2aError> {
        let guard = live.lock().await;
        let terminal = guard.task.status.state.is_terminal();
        let last_seq = guard.last_seq;
        let missed = match last_event_id {
            Some(seen) if seen < last_seq => live.store_events_after(seen).await,
            Some(_) => Some(Vec::new()),
            None => None,
        };
        if terminal && missed.as_ref().is_none_or(Vec::is_empty) {
            let state = guard.task.status.state.as_str();
            return Err(A2aError::UnsupportedOperation(format!("the task is over ({state}); nothing to subscribe to")));
        }
        let initial = match missed {
            Some(missed) => missed,
            // No cursor, or the log no longer reaches back to it: the snapshot instead.
            None => vec![snapshot_event(&guard.task, last_seq)],
        };
        let receiver = (!terminal).then(|| live.subscribe(&guard));
        drop(guard);
        let start = initial.first().map_or(last_seq, |first| first.seq - 1);
        Ok(event_stream(initial, receiver.map(|r| (live, r)), start, self.inner.shutdown.clone()))
    }

    async fn current_task(&self, scope: &AgentTaskScope, id: &str) -> Result<Task, A2aError> {
        let live = self.inner.live.lock().ok().and_then(|live| live.get(id).cloned());
        if let Some(live) = live.filter(|live| &live.scope == scope) {
            return Ok(live.lock().await.task.clone());
        }
        let stored = self.inner.store.get_agent_task(scope, id).await.map_err(store_error)?;
        let stored = stored.ok_or_else(|| A2aError::TaskNotFound(id.to_owned()))?;
        decode_task(stored.body)
    }

    /// The task in memory, loading it from the store when no one holds it.
    async fn live_task(&self, scope: &AgentTaskScope, id: &str) -> Result<Arc<LiveTask>, A2aError> {
        let held = self.inner.live.lock().ok().and_then(|live| live.get(id).cloned());
        if let Some(live) = held {
            return if &live.scope == scope { Ok(live) } else { Err(A2aError::TaskNotFound(id.to_owned())) };
        }
        let stored = self.inner.store.get_agent_task(scope, id).await.map_err(store_error)?;
        let stored = stored.ok_or_else(|| A2aError::TaskNotFound(id.to_owned()))?;
        self.live_from(scope.clone(), stored).await
    }

    async fn live_from(
        &self,
        scope: AgentTaskScope,
        stored: agentdeck_storage::agent_tasks::StoredAgentTask,
    ) -> Result<Arc<LiveTask>, A2aError> {
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
        let loaded = Arc::new(self.new_live(scope, task, stored.last_seq, stored.created_at, push));
        // Finished tasks are read, never changed: no need to keep them.
        if !terminal {
            live.insert(id, loaded.clone());
        }
        Ok(loaded)
    }

    fn new_live(
        &self,
        scope: AgentTaskScope,
        task: Task,
        last_seq: i64,
        created_at: chrono::DateTime<chrono::Utc>,
        push: Vec<TaskPushNotificationConfig>,
    ) -> LiveTask {
        let options = &self.inner.options;
        LiveTask::new(
            scope,
            task,
            last_seq,
            created_at,
            self.inner.store.clone(),
            options.keep_events,
            options.stream_buffer,
            self.inner.pusher.clone(),
            push,
        )
    }

    async fn forget_if_finished(&self, live: &Arc<LiveTask>) {
        let guard = live.lock().await;
        if guard.task.status.state.is_terminal()
            && let Ok(mut registry) = self.inner.live.lock()
        {
            registry.remove(&live.id);
        }
    }

    fn stop_run(&self, live: &Arc<LiveTask>) {
        if let Ok(mut runs) = live.run_token.lock()
            && let Some(token) = runs.take()
        {
            token.cancel();
        }
    }

    /// Validates a send and starts it: a reply, an existing task, or a run.
    async fn start(&self, agent_name: &str, caller: &Caller, request: SendMessageRequest) -> Result<Started, A2aError> {
        A2aError::check(request.violations())?;
        let agent = self.executor(agent_name)?;
        let scope = caller.scope(agent_name);
        let Some(mut message) = request.message else {
            return Err(A2aError::invalid_params(vec![FieldViolation::new("message", "is required")]));
        };
        let inline_push = request.configuration.and_then(|c| c.task_push_notification_config);
        if let Some(config) = &inline_push {
            self.inner
                .pusher
                .check_url(&config.url)
                .await
                .map_err(|e| prefix_violations(e, "configuration.taskPushNotificationConfig"))?;
        }
        let store = &self.inner.store;
        if let Some(task_id) =
            store.find_agent_task_by_message(&scope, &message.message_id).await.map_err(store_error)?
        {
            return Ok(Started::Existing(self.live_task(&scope, &task_id).await?));
        }
        // Counted once a message is taken (a retried messageId was answered above, uncounted).
        if let Some(meter) = self.metered(&scope) {
            meter.record_in(&scope.tenant, &scope.owner, &message);
        }
        let mut request_for_agent = AgentRequest {
            message: message.clone(),
            previous: None,
            bearer: caller.bearer.clone(),
            principal: caller.principal.clone(),
            metadata: request.metadata,
        };
        if let Some(task_id) = message.task_id.clone().filter(|id| !id.is_empty()) {
            return self.follow_up(agent, &scope, &task_id, message, request_for_agent).await;
        }
        if let Some(mut reply) = agent.reply(&request_for_agent).await {
            reply.context_id = Some(message.context_id.clone().unwrap_or_else(|| Uuid::now_v7().to_string()));
            if let Some(meter) = self.metered(&scope) {
                meter.record_out(&scope.tenant, &reply.parts);
            }
            return Ok(Started::Reply(reply));
        }
        let task_id = Uuid::now_v7().to_string();
        let context_id =
            message.context_id.clone().filter(|c| !c.is_empty()).unwrap_or_else(|| Uuid::now_v7().to_string());
        message.task_id = Some(task_id.clone());
        message.context_id = Some(context_id.clone());
        let task = Task {
            id: task_id.clone(),
            context_id,
            status: TaskStatus::now(TaskState::Submitted),
            artifacts: Vec::new(),
            history: vec![message.clone()],
            metadata: None,
        };
        let created_at = now_millis();
        let stored = stored_task(&task, 1, created_at).map_err(store_error)?;
        let first =
            serde_json::to_value(StreamResponse::Task(task.clone())).map_err(|e| A2aError::Internal(e.to_string()))?;
        let events = [AgentTaskEvent { seq: 1, body: first }];
        match store
            .insert_agent_task(&scope, &stored, &message.message_id, &events, self.inner.options.keep_events)
            .await
        {
            Ok(()) => {}
            // A concurrent retry of the same message won: answer with its task.
            Err(StoreError::Duplicate { .. }) => {
                let existing =
                    store.find_agent_task_by_message(&scope, &message.message_id).await.map_err(store_error)?;
                let existing = existing.ok_or_else(|| A2aError::Internal("a duplicate message has no task".into()))?;
                return Ok(Started::Existing(self.live_task(&scope, &existing).await?));
            }
            Err(error) => return Err(store_error(error)),
        }
        let live = Arc::new(self.new_live(scope, task, 1, created_at, Vec::new()));
        if let Ok(mut registry) = self.inner.live.lock() {
            registry.insert(task_id, live.clone());
        }
        if let Some(config) = inline_push {
            self.register_push(&live, config).await?;
        }
        request_for_agent.message = message;
        let (snapshot, events) = {
            let mut guard = live.lock().await;
            guard.running = true;
            (snapshot_event(&guard.task, guard.last_seq), live.subscribe(&guard))
        };
        self.spawn_run(agent, live.clone(), request_for_agent);
        Ok(Started::Run { live, snapshot, events })
    }

    async fn follow_up(
        &self,
        agent: Arc<dyn AgentExecutor>,
        scope: &AgentTaskScope,
        task_id: &str,
        mut message: Message,
        mut request: AgentRequest,
    ) -> Result<Started, A2aError> {
        let live = self.live_task(scope, task_id).await?;
        let mut guard = live.lock().await;
        let state = guard.task.status.state;
        if state.is_terminal() {
            return Err(A2aError::UnsupportedOperation(format!(
                "task {task_id} is over ({}); it takes no more messages",
                state.as_str()
            )));
        }
        if let Some(context_id) = message.context_id.as_deref().filter(|c| !c.is_empty())
            && context_id != live.context_id
        {
            return Err(A2aError::invalid_params(vec![FieldViolation::new(
                "message.contextId",
                format!("does not match the task's context {}", live.context_id),
            )]));
        }
        if guard.running {
            return Err(A2aError::UnsupportedOperation(format!(
                "task {task_id} is still being worked on; send once it asks for input"
            )));
        }
        message.context_id = Some(live.context_id.clone());
        request.previous = Some(guard.task.clone());
        let event = live.status_update(TaskState::Working, None);
        match live.emit_locked(&mut guard, event, Some(&message)).await {
            Emitted::Sent => {}
            Emitted::Finished(state) => {
                return Err(A2aError::UnsupportedOperation(format!("task {task_id} is over ({})", state.as_str())));
            }
            // A concurrent retry of this message got there first.
            Emitted::Failed(StoreError::Duplicate { .. }) => {
                drop(guard);
                return Ok(Started::Existing(live));
            }
            Emitted::Failed(error) => return Err(store_error(error)),
        }
        request.message = message;
        guard.running = true;
        let snapshot = snapshot_event(&guard.task, guard.last_seq);
        let events = live.subscribe(&guard);
        drop(guard);
        self.spawn_run(agent, live.clone(), request);
        Ok(Started::Run { live, snapshot, events })
    }

    fn spawn_run(&self, agent: Arc<dyn AgentExecutor>, live: Arc<LiveTask>, request: AgentRequest) {
        let cancel = self.inner.shutdown.child_token();
        if let Ok(mut token) = live.run_token.lock() {
            *token = Some(cancel.clone());
        }
        let meter = self.metered(&live.scope).cloned();
        let updater = TaskUpdater { live: live.clone(), cancel: cancel.clone(), meter };
        let service = self.clone();
        let running = RunningGuard::start(&self.inner.options.active_runs);
        self.inner.runs.spawn(async move {
            let _running = running;
            let outcome = tokio::select! {
                outcome = agent.execute(request, updater) => Some(outcome),
                () = cancel.cancelled() => None,
            };
            // An agent that returns because it saw the cancel did not finish the task.
            let outcome = outcome.filter(|_| !cancel.is_cancelled());
            let mut guard = live.lock().await;
            guard.running = false;
            let state = guard.task.status.state;
            let unfinished = !state.is_terminal() && !state.is_interrupted();
            let failure = match outcome {
                Some(Err(failure)) => Some(failure.0),
                Some(Ok(())) if unfinished => Some("the agent stopped without finishing the task".to_owned()),
                // Canceled (the cancel wrote its state) or shut down (the task stays as stored).
                _ => None,
            };
            if let Some(reason) = failure.filter(|_| unfinished) {
                let event = live.status_update_saying(TaskState::Failed, &reason);
                let _ = live.emit_locked(&mut guard, event, None).await;
            }
            drop(guard);
            service.forget_if_finished(&live).await;
        });
    }
}

/// How a send started.
enum Started {
    Reply(Message),
    Existing(Arc<LiveTask>),
    Run { live: Arc<LiveTask>, snapshot: SequencedEvent, events: tokio::sync::broadcast::Receiver<SequencedEvent> },
}

/// Page tokens are the records' cursors (`agentdeck_domain::page::Cursor`): status time and task id.
fn encode_page_token(cursor: &AgentTaskCursor) -> String {
    match Uuid::parse_str(&cursor.id) {
        Ok(id) => Cursor { sort_key: cursor.status_at_millis, id }.encode(),
        // Every task id this service makes is a UUID; anything else cannot be paged past.
        Err(_) => String::new(),
    }
}

fn decode_page_token(token: &str) -> Result<AgentTaskCursor, A2aError> {
    let cursor = Cursor::decode(token).map_err(|_| {
        A2aError::invalid_params(vec![FieldViolation::new("pageToken", "is not a token this server gave")])
    })?;
    Ok(AgentTaskCursor { status_at_millis: cursor.sort_key, id: cursor.id.to_string() })
}

/// Puts invalid-params field names under `prefix` (a nested config's `url` is `….url`).
fn prefix_violations(error: A2aError, prefix: &str) -> A2aError {
    match error {
        A2aError::InvalidParams { violations, .. } => A2aError::invalid_params(
            violations
                .into_iter()
                .map(|v| FieldViolation::new(format!("{prefix}.{}", v.field), v.description))
                .collect(),
        ),
        other => other,
    }
}
