//! The task lifecycle: sends (new tasks, follow-ups, direct replies), streams,
//! subscriptions, cancel, and the agent runs that work the tasks.
//!
//! The rules, all decided under the task's lock so that concurrent calls
//! agree: a task starts `SUBMITTED` with the message in its history; a
//! follow-up is accepted only while no run works the task (it asked for
//! input) and moves it back to `WORKING`; terminal states are final (later
//! messages answer `UnsupportedOperationError`); cancel ends the task
//! `CANCELED` and stops its run, or answers `TaskNotCancelableError` when it
//! is already over. A run that returns without a final state, or fails, ends
//! its task `FAILED`. A send with an idempotency key that was used before
//! answers with the first send's outcome instead ([`super::idempotency`]).
//!
//! # Deferred insert
//!
//! A blocking send without an idempotency key or a webhook does not store
//! its new task at once: nobody can name the task until the send answers, so
//! the task's first write stores it together with that write's events (an
//! agent that answers at once costs one write instead of two), and a run
//! still working after [`INSERT_DEFERRED_FOR`] stores it then. Before the
//! send answers, the task is stored. Meanwhile the task is in this node's
//! memory only: `ListTasks` does not show it yet, and a crash loses it (its
//! caller, whose connection the crash broke, never learnt its id).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use agentdeck_a2a_protocol::{
    A2aError, CancelTaskRequest, FieldViolation, Message, SendMessageRequest, SendMessageResponse, StreamResponse,
    Task, TaskPushNotificationConfig, TaskState, TaskStatus, now_millis,
};
use agentdeck_storage::agent_tasks::{AgentTaskEvent, AgentTaskScope, IdempotentOutcome};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::caller::A2aCaller;
use super::executor::{AgentExecutor, AgentRequest, TaskUpdater};
use super::idempotency::{KeyedSend, decode_reply, is_duplicate_key, reply_outcome};
use super::live::{Emitted, LiveTask, SequencedEvent, stored_task};
use super::push_configs::prefix_violations;
use super::service::{A2aService, snapshot_event, store_error, with_history};
use super::stream::{EventStream, event_stream};

/// Longest a running task of a blocking send waits to be stored (see "Deferred insert").
pub(crate) const INSERT_DEFERRED_FOR: std::time::Duration = std::time::Duration::from_millis(50);

/// How a send started.
enum Started {
    /// The agent answered with a message; no task was made.
    Reply(Message),
    /// The idempotency key was used before: the first send's task, as it is,
    /// and its first event of that send.
    Existing { live: Arc<LiveTask>, first_seq: i64 },
    /// A run works the task now; `events` follow `snapshot` with nothing missed.
    Run { live: Arc<LiveTask>, snapshot: SequencedEvent, events: broadcast::Receiver<SequencedEvent> },
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

impl A2aService {
    /// `SendMessage`: blocks until the task is over, asks for input or the
    /// blocking timeout passes, unless the request returns immediately.
    pub async fn send(
        &self,
        agent: &str,
        caller: &A2aCaller,
        request: SendMessageRequest,
    ) -> Result<SendMessageResponse, A2aError> {
        self.send_with_key(agent, caller, request, None).await
    }

    /// [`A2aService::send`] with the request's `Idempotency-Key`: a retry
    /// with a key used before answers with the first send's outcome (the
    /// task as it is now, waited for like a blocking send while it runs).
    pub async fn send_with_key(
        &self,
        agent: &str,
        caller: &A2aCaller,
        request: SendMessageRequest,
        idempotency_key: Option<&str>,
    ) -> Result<SendMessageResponse, A2aError> {
        let history = request.history_length();
        let return_immediately = request.return_immediately();
        match self.start(agent, caller, request, idempotency_key, !return_immediately).await? {
            Started::Reply(message) => Ok(SendMessageResponse::Message(message)),
            Started::Existing { live, .. } => {
                if !return_immediately {
                    let guard = live.lock().await;
                    let state = guard.task.status.state;
                    if !state.is_terminal() && !state.is_interrupted() {
                        let events = live.subscribe(&guard);
                        drop(guard);
                        self.wait_until_settled(&live, events).await;
                    }
                }
                let task = live.lock().await.task.clone();
                Ok(SendMessageResponse::Task(with_history(task, history)))
            }
            Started::Run { live, events, .. } => {
                if !return_immediately {
                    self.wait_until_settled(&live, events).await;
                }
                // A task whose insert was deferred is stored before anyone learns its id.
                live.store_if_unstored().await.map_err(store_error)?;
                let task = live.lock().await.task.clone();
                Ok(SendMessageResponse::Task(with_history(task, history)))
            }
        }
    }

    /// Waits for the event that ends the run's stream (final or interrupted), at most the blocking timeout.
    async fn wait_until_settled(&self, live: &LiveTask, mut events: broadcast::Receiver<SequencedEvent>) {
        let deadline = tokio::time::sleep(self.inner.options.blocking_timeout);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                next = events.recv() => match next {
                    Ok(event) if event.event.ends_stream() => return,
                    Ok(_) => {}
                    // Events were missed: the snapshot says whether the final one was among them.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let state = live.lock().await.task.status.state;
                        if state.is_terminal() || state.is_interrupted() {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                () = &mut deadline => return,
            }
        }
    }

    /// `SendStreamingMessage`: the task first (or the one reply), then its events.
    pub async fn send_streaming(
        &self,
        agent: &str,
        caller: &A2aCaller,
        request: SendMessageRequest,
    ) -> Result<EventStream, A2aError> {
        self.send_streaming_with_key(agent, caller, request, None).await
    }

    /// [`A2aService::send_streaming`] with the request's `Idempotency-Key`:
    /// a retry with a key used before replays the first send's task from its
    /// logged events (same SSE ids), then goes on live.
    pub async fn send_streaming_with_key(
        &self,
        agent: &str,
        caller: &A2aCaller,
        request: SendMessageRequest,
        idempotency_key: Option<&str>,
    ) -> Result<EventStream, A2aError> {
        match self.start(agent, caller, request, idempotency_key, false).await? {
            Started::Reply(message) => {
                let event = SequencedEvent { seq: 0, event: Arc::new(StreamResponse::Message(message)) };
                Ok(event_stream(vec![event], None, 0, self.inner.shutdown.clone()))
            }
            Started::Existing { live, first_seq } => Ok(self.replay_stream(live, first_seq).await),
            // The snapshot and the receiver were taken under one lock: the
            // stream misses nothing and repeats nothing.
            Started::Run { live, snapshot, events } => {
                let seq = snapshot.seq;
                Ok(event_stream(vec![snapshot], Some((live, events)), seq, self.inner.shutdown.clone()))
            }
        }
    }

    /// `CancelTask`: ends the task `CANCELED`, or answers not cancelable when it is over.
    pub async fn cancel_task(
        &self,
        agent: &str,
        caller: &A2aCaller,
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
        stop_run(&live);
        self.forget_if_finished(&live).await;
        Ok(task)
    }

    /// `SubscribeToTask`: the task first, then its events; with `last_event_id`,
    /// what came after that event instead of the snapshot.
    pub async fn subscribe(
        &self,
        agent: &str,
        caller: &A2aCaller,
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

    /// A send's stream again, for a retried streaming send: the task's logged
    /// events from `first_seq` (the send's first, with their ids), or the
    /// snapshot first when the log no longer reaches back that far, then live
    /// events until the stream's usual end.
    async fn replay_stream(&self, live: Arc<LiveTask>, first_seq: i64) -> EventStream {
        let guard = live.lock().await;
        let terminal = guard.task.status.state.is_terminal();
        let last_seq = guard.last_seq;
        let initial = match live.store_events_after(first_seq.max(1) - 1).await {
            Some(logged) if !logged.is_empty() => logged,
            _ => vec![snapshot_event(&guard.task, last_seq)],
        };
        let receiver = (!terminal).then(|| live.subscribe(&guard));
        drop(guard);
        let start = initial.first().map_or(last_seq, |first| first.seq - 1);
        event_stream(initial, receiver.map(|r| (live, r)), start, self.inner.shutdown.clone())
    }

    /// What a retried send answers: the first send's task, or its reply.
    async fn started_before(&self, scope: &AgentTaskScope, outcome: IdempotentOutcome) -> Result<Started, A2aError> {
        match outcome {
            IdempotentOutcome::Task { task_id, first_seq } => {
                Ok(Started::Existing { live: self.live_task(scope, &task_id).await?, first_seq })
            }
            IdempotentOutcome::Reply(body) => Ok(Started::Reply(decode_reply(body)?)),
        }
    }

    /// Validates a send and starts it: a reply, an existing task, or a run.
    /// `blocking`: the send answers only once the run settles, so a new task's
    /// insert may be deferred (see "Deferred insert").
    async fn start(
        &self,
        agent_name: &str,
        caller: &A2aCaller,
        request: SendMessageRequest,
        idempotency_key: Option<&str>,
        blocking: bool,
    ) -> Result<Started, A2aError> {
        A2aError::check(request.violations())?;
        let agent = self.executor(agent_name)?;
        let scope = caller.scope(agent_name);
        let keyed = idempotency_key.map(|key| KeyedSend::new(caller, agent_name, key, &request)).transpose()?;
        let Some(message) = request.message else {
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
        if let Some(keyed) = &keyed
            && let Some(outcome) = keyed.first_outcome(self).await?
        {
            // A retry: answered with the first outcome, and not metered again.
            return self.started_before(&scope, outcome).await;
        }
        // Counted once a message is taken (a retry was answered above, uncounted).
        if let Some(meter) = self.metered(&scope) {
            meter.record_in(&scope.tenant, &scope.owner, &message);
        }
        let request_for_agent = AgentRequest {
            message: message.clone(),
            previous: None,
            bearer: caller.bearer.clone(),
            principal: caller.principal.clone(),
            metadata: request.metadata,
            handover: caller.handover.clone(),
        };
        if let Some(task_id) = message.task_id.clone().filter(|id| !id.is_empty()) {
            return self.follow_up(agent, &scope, &task_id, message, request_for_agent, keyed.as_ref()).await;
        }
        if let Some(mut reply) = agent.reply(&request_for_agent).await {
            reply.context_id = Some(message.context_id.clone().unwrap_or_else(|| Uuid::now_v7().to_string()));
            if let Some(keyed) = &keyed {
                let record =
                    keyed.record(reply_outcome(&reply)?, chrono::Utc::now(), self.inner.options.idempotency_ttl);
                match self.inner.store.put_idempotency_key(&record).await {
                    Ok(()) => {}
                    // A concurrent retry answered first: its reply is the one.
                    Err(error) if is_duplicate_key(&error) => {
                        return self.started_before(&scope, keyed.winner(self).await?).await;
                    }
                    Err(error) => return Err(store_error(error)),
                }
            }
            if let Some(meter) = self.metered(&scope) {
                meter.record_out(&scope.tenant, &reply.parts);
            }
            return Ok(Started::Reply(reply));
        }
        let defer_insert = blocking && keyed.is_none() && inline_push.is_none();
        self.start_task(agent, scope, message, request_for_agent, inline_push, keyed.as_ref(), defer_insert).await
    }

    /// Makes a new task `SUBMITTED` for `message`, stores it (or, with
    /// `defer_insert`, leaves that to its first write) and starts its run.
    #[allow(clippy::too_many_arguments)]
    async fn start_task(
        &self,
        agent: Arc<dyn AgentExecutor>,
        scope: AgentTaskScope,
        mut message: Message,
        mut request_for_agent: AgentRequest,
        inline_push: Option<TaskPushNotificationConfig>,
        keyed: Option<&KeyedSend>,
        defer_insert: bool,
    ) -> Result<Started, A2aError> {
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
        let first =
            serde_json::to_value(StreamResponse::Task(task.clone())).map_err(|e| A2aError::Internal(e.to_string()))?;
        let first = AgentTaskEvent { seq: 1, body: first };
        let ttl = self.inner.options.idempotency_ttl;
        let record = keyed.map(|keyed| {
            keyed.record(IdempotentOutcome::Task { task_id: task_id.clone(), first_seq: 1 }, created_at, ttl)
        });
        let store = &self.inner.store;
        let keep_events = self.inner.options.keep_events;
        let inserted = if defer_insert {
            Ok(())
        } else {
            let stored = stored_task(&task, 1, created_at).map_err(store_error)?;
            store.insert_agent_task(&scope, &stored, record.as_ref(), std::slice::from_ref(&first), keep_events).await
        };
        match inserted {
            Ok(()) => {}
            Err(error) => {
                return match keyed {
                    // A concurrent retry with the same key won: answer with its task.
                    Some(keyed) if is_duplicate_key(&error) => {
                        self.started_before(&scope, keyed.winner(self).await?).await
                    }
                    _ => Err(store_error(error)),
                };
            }
        }
        let live = self.new_live(scope, task, 1, created_at, Vec::new());
        if let Ok(mut registry) = self.inner.live.lock() {
            self.hold(&mut registry, task_id, live.clone());
        }
        if let Some(config) = inline_push {
            self.register_push(&live, config).await?;
        }
        request_for_agent.message = message;
        let (snapshot, events) = {
            let mut guard = live.lock().await;
            guard.running = true;
            if defer_insert {
                guard.unstored = Some(first);
            }
            (snapshot_event(&guard.task, guard.last_seq), live.subscribe(&guard))
        };
        self.spawn_run(agent, live.clone(), request_for_agent, defer_insert);
        Ok(Started::Run { live, snapshot, events })
    }

    /// A message to an existing task: accepted only while the task waits for input.
    async fn follow_up(
        &self,
        agent: Arc<dyn AgentExecutor>,
        scope: &AgentTaskScope,
        task_id: &str,
        mut message: Message,
        mut request: AgentRequest,
        keyed: Option<&KeyedSend>,
    ) -> Result<Started, A2aError> {
        let live = self.live_task(scope, task_id).await?;
        let mut guard = live.lock().await;
        // A concurrent retry with the same key may have followed up while this one waited for the lock.
        if let Some(keyed) = keyed
            && let Some(outcome) = keyed.first_outcome(self).await?
        {
            drop(guard);
            return self.started_before(scope, outcome).await;
        }
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
        let ttl = self.inner.options.idempotency_ttl;
        let record = keyed.map(|keyed| {
            keyed.record(
                IdempotentOutcome::Task { task_id: task_id.to_owned(), first_seq: guard.last_seq + 1 },
                chrono::Utc::now(),
                ttl,
            )
        });
        match live.emit_follow_up(&mut guard, event, &message, record.as_ref()).await {
            Emitted::Sent => {}
            Emitted::Finished(state) => {
                return Err(A2aError::UnsupportedOperation(format!("task {task_id} is over ({})", state.as_str())));
            }
            Emitted::Failed(error) => {
                drop(guard);
                return match keyed {
                    // The key was recorded meanwhile by a send to another task: that is its outcome.
                    Some(keyed) if is_duplicate_key(&error) => {
                        self.started_before(scope, keyed.winner(self).await?).await
                    }
                    _ => Err(store_error(error)),
                };
            }
        }
        request.message = message;
        guard.running = true;
        let snapshot = snapshot_event(&guard.task, guard.last_seq);
        let events = live.subscribe(&guard);
        drop(guard);
        self.spawn_run(agent, live.clone(), request, false);
        Ok(Started::Run { live, snapshot, events })
    }

    /// Runs the agent on the task as a task of the service's tracker; the
    /// run stops at cancel or shutdown, and a run that ends without a final
    /// state fails the task.
    ///
    /// With `deferred_insert` (the task is not stored yet), a timer of its own
    /// stores it once the run outlasts [`INSERT_DEFERRED_FOR`]: a task of its
    /// own, since waiting for the task's lock inside the run would wait for an
    /// agent holding that lock in the middle of a write, which could not go on
    /// until the wait ended.
    fn spawn_run(
        &self,
        agent: Arc<dyn AgentExecutor>,
        live: Arc<LiveTask>,
        request: AgentRequest,
        deferred_insert: bool,
    ) {
        let cancel = self.inner.shutdown.child_token();
        if let Ok(mut token) = live.run_token.lock() {
            *token = Some(cancel.clone());
        }
        let meter = self.metered(&live.scope).cloned();
        let updater = TaskUpdater { live: live.clone(), cancel: cancel.clone(), meter };
        let service = self.clone();
        let running = RunningGuard::start(&self.inner.options.active_runs);
        // Stops the deferred insert's timer once the run is over.
        let run_over = CancellationToken::new();
        if deferred_insert {
            self.store_when_deferral_ends(&live, run_over.clone());
        }
        self.inner.runs.spawn(async move {
            let _running = running;
            let _run_over = run_over.drop_guard();
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
            // Shut down or failed before any write: stored as it is.
            if let Err(error) = live.store_if_unstored().await {
                tracing::warn!(task_id = %live.id, %error, "could not store an A2A task");
            }
            service.forget_if_finished(&live).await;
        });
    }
}

impl A2aService {
    /// Stores `live` once [`INSERT_DEFERRED_FOR`] has passed, unless its run is over first.
    fn store_when_deferral_ends(&self, live: &Arc<LiveTask>, run_over: CancellationToken) {
        let live = live.clone();
        self.inner.runs.spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(INSERT_DEFERRED_FOR) => {}
                () = run_over.cancelled() => return,
            }
            if let Err(error) = live.store_if_unstored().await {
                tracing::warn!(task_id = %live.id, %error, "could not store an A2A task");
            }
        });
    }
}

/// Stops the run working the task, if there is one.
fn stop_run(live: &LiveTask) {
    if let Ok(mut runs) = live.run_token.lock()
        && let Some(token) = runs.take()
    {
        token.cancel();
    }
}

#[cfg(test)]
mod tests;
