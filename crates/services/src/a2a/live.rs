//! A task in memory while it can still change: its snapshot, the one lock
//! that orders its events, and the broadcast every stream of it listens to.
//!
//! Each event is applied to the snapshot, persisted (task body and event log,
//! optimistic on the last sequence number) and only then broadcast, all under
//! the task's lock: streams see events in one order, with no gaps, and never
//! an event that was not stored.
//!
//! In a cluster the stored event is also published on the bus, and a task
//! may change on another node: the events other nodes stored are applied here
//! by [`LiveTask::receive`] and [`LiveTask::catch_up_locked`] (see `follow.rs`),
//! and a write that finds another node was first (the store's optimistic check
//! fails) catches up from the store and tries again.

use std::sync::Arc;

use agentdeck_a2a_protocol::{StreamResponse, Task, TaskState, TaskStatus, TaskStatusUpdateEvent};
use agentdeck_storage::agent_tasks::{AgentTaskEvent, AgentTaskScope, StoredAgentTask, StoredIdempotencyKey};
use agentdeck_storage::{AgentTaskStore, Bus, StoreError};
use tokio::sync::{Mutex, MutexGuard, broadcast};
use tokio_util::sync::CancellationToken;

use super::follow::{publish_event, task_channel};
use super::push::Pusher;

/// How often a write that lost the optimistic race to another node catches up and tries again.
const CONFLICT_RETRIES: usize = 3;

/// One event of a task with its sequence number (the SSE `id:`).
#[derive(Debug, Clone, PartialEq)]
pub struct SequencedEvent {
    /// Per-task sequence, from 1; 0 for events of no task (a direct reply).
    pub seq: i64,
    /// The event.
    pub event: Arc<StreamResponse>,
}

/// The snapshot behind the lock.
pub(super) struct Snapshot {
    pub task: Task,
    pub last_seq: i64,
    /// Whether an agent run is working the task now.
    pub running: bool,
    /// The task's first event while the task is not stored yet: its first
    /// write stores the task with it (see `lifecycle.rs`, "deferred insert").
    pub unstored: Option<AgentTaskEvent>,
}

/// What became of an emitted event.
pub(super) enum Emitted {
    /// Stored and broadcast.
    Sent,
    /// Refused: the task had already finished in this state.
    Finished(TaskState),
    /// Storing failed; the task is unchanged.
    Failed(StoreError),
}

/// A task that can still change.
pub(crate) struct LiveTask {
    pub id: String,
    pub context_id: String,
    pub scope: AgentTaskScope,
    pub created_at: chrono::DateTime<chrono::Utc>,
    store: Arc<dyn AgentTaskStore>,
    keep_events: u32,
    snapshot: Mutex<Snapshot>,
    events: broadcast::Sender<SequencedEvent>,
    /// Cancels the agent run working the task, while there is one.
    pub run_token: std::sync::Mutex<Option<tokio_util::sync::CancellationToken>>,
    /// The task's push configs (credentials included) and who delivers to them.
    pub push: std::sync::Mutex<Vec<agentdeck_a2a_protocol::TaskPushNotificationConfig>>,
    pusher: Pusher,
    /// Where stored events are published for the other nodes (cluster mode).
    bus: Option<Arc<dyn Bus>>,
    /// Stops following the task on the bus once no one holds it.
    pub followed: CancellationToken,
}

impl Drop for LiveTask {
    fn drop(&mut self) {
        self.followed.cancel();
    }
}

impl LiveTask {
    /// Wraps a stored (or just created) task.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        scope: AgentTaskScope,
        task: Task,
        last_seq: i64,
        created_at: chrono::DateTime<chrono::Utc>,
        store: Arc<dyn AgentTaskStore>,
        keep_events: u32,
        capacity: usize,
        pusher: Pusher,
        push: Vec<agentdeck_a2a_protocol::TaskPushNotificationConfig>,
        bus: Option<Arc<dyn Bus>>,
    ) -> Self {
        let (events, _) = broadcast::channel(capacity.max(1));
        // A task loaded working or submitted is worked on elsewhere (another node's run).
        let state = task.status.state;
        let running = !state.is_terminal() && !state.is_interrupted() && bus.is_some();
        Self {
            id: task.id.clone(),
            context_id: task.context_id.clone(),
            scope,
            created_at,
            store,
            keep_events,
            snapshot: Mutex::new(Snapshot { task, last_seq, running, unstored: None }),
            events,
            run_token: std::sync::Mutex::new(None),
            push: std::sync::Mutex::new(push),
            pusher,
            bus,
            followed: CancellationToken::new(),
        }
    }

    /// An agent message of this task.
    pub fn agent_message(&self, parts: Vec<agentdeck_a2a_protocol::Part>) -> agentdeck_a2a_protocol::Message {
        agentdeck_a2a_protocol::Message {
            message_id: uuid::Uuid::now_v7().to_string(),
            context_id: Some(self.context_id.clone()),
            task_id: Some(self.id.clone()),
            role: agentdeck_a2a_protocol::Role::Agent,
            parts,
            ..Default::default()
        }
    }

    /// A status update of this task entering `state` now, with an optional message.
    pub fn status_update(&self, state: TaskState, message: Option<agentdeck_a2a_protocol::Message>) -> StreamResponse {
        let status = match message {
            Some(message) => TaskStatus::now_with(state, message),
            None => TaskStatus::now(state),
        };
        StreamResponse::StatusUpdate(TaskStatusUpdateEvent {
            task_id: self.id.clone(),
            context_id: self.context_id.clone(),
            status,
            metadata: None,
        })
    }

    /// A status update entering `state` with an agent message of one text part.
    pub fn status_update_saying(&self, state: TaskState, text: &str) -> StreamResponse {
        self.status_update(state, Some(self.agent_message(vec![agentdeck_a2a_protocol::Part::text(text)])))
    }

    /// Locks the snapshot (events wait meanwhile).
    pub async fn lock(&self) -> MutexGuard<'_, Snapshot> {
        self.snapshot.lock().await
    }

    /// A receiver of every event after the snapshot held in `_guard`.
    pub fn subscribe(&self, _guard: &MutexGuard<'_, Snapshot>) -> broadcast::Receiver<SequencedEvent> {
        self.events.subscribe()
    }

    /// Applies, stores and broadcasts events in order, stored in one write
    /// (an answer's artifact and the status that ends the task, say).
    pub async fn emit_all(&self, events: Vec<StreamResponse>) -> Emitted {
        let mut guard = self.lock().await;
        self.emit_recording(&mut guard, events, None, None).await
    }

    /// [`LiveTask::emit`] under a lock already held; a `follow_up` message
    /// from the client joins the history in the same write.
    pub async fn emit_locked(
        &self,
        guard: &mut MutexGuard<'_, Snapshot>,
        event: StreamResponse,
        follow_up: Option<&agentdeck_a2a_protocol::Message>,
    ) -> Emitted {
        self.emit_recording(guard, vec![event], follow_up, None).await
    }

    /// [`LiveTask::emit_locked`] of a client's follow-up `message`, recording
    /// the send's idempotency key in the same write when it has one.
    pub async fn emit_follow_up(
        &self,
        guard: &mut MutexGuard<'_, Snapshot>,
        event: StreamResponse,
        message: &agentdeck_a2a_protocol::Message,
        idempotency_key: Option<&StoredIdempotencyKey>,
    ) -> Emitted {
        self.emit_recording(guard, vec![event], Some(message), idempotency_key).await
    }

    async fn emit_recording(
        &self,
        guard: &mut MutexGuard<'_, Snapshot>,
        events: Vec<StreamResponse>,
        follow_up: Option<&agentdeck_a2a_protocol::Message>,
        idempotency_key: Option<&StoredIdempotencyKey>,
    ) -> Emitted {
        let events: Vec<Arc<StreamResponse>> = events.into_iter().map(Arc::new).collect();
        let mut attempt = 0;
        loop {
            let state = guard.task.status.state;
            if state.is_terminal() {
                return Emitted::Finished(state);
            }
            let mut task = guard.task.clone();
            if let Some(message) = follow_up {
                task.history.push(message.clone());
            }
            let first_seq = guard.last_seq + 1;
            let mut numbered = Vec::with_capacity(events.len());
            for (seq, event) in (first_seq..).zip(&events) {
                apply(&mut task, event);
                numbered.push(SequencedEvent { seq, event: event.clone() });
            }
            let Some(last_seq) = numbered.last().map(|event| event.seq) else {
                return Emitted::Sent;
            };
            match self.store_events(&task, guard.last_seq, &numbered, idempotency_key, guard.unstored.as_ref()).await {
                Ok(()) => {
                    guard.unstored = None;
                    guard.task = task;
                    guard.last_seq = last_seq;
                    for event in numbered {
                        self.push_event(event.seq, event.event.clone());
                        if let Some(bus) = &self.bus {
                            publish_event(bus.as_ref(), &self.id, event.seq, &event.event);
                        }
                        // No receivers is fine: nobody is streaming this task.
                        let _ = self.events.send(event);
                    }
                    return Emitted::Sent;
                }
                // Another node wrote to the task meanwhile (a cancel, say): learn what it wrote and,
                // unless that settled the task, write after it. A follow-up is not written again: the
                // other node's write may have been a follow-up too, and only one may start a run.
                Err(StoreError::Conflict) if self.bus.is_some() && attempt < CONFLICT_RETRIES => {
                    attempt += 1;
                    self.catch_up_locked(guard).await;
                    if follow_up.is_some() {
                        return Emitted::Failed(StoreError::Conflict);
                    }
                }
                Err(error) => {
                    tracing::warn!(task_id = %self.id, seq = last_seq, error = %error, "could not store an A2A task event");
                    return Emitted::Failed(error);
                }
            }
        }
    }

    /// An event another node stored and published: applied when it is the
    /// next one, ignored when already seen, and a gap is filled from the store.
    pub async fn receive(&self, seq: i64, event: Arc<StreamResponse>) {
        let mut guard = self.lock().await;
        if seq <= guard.last_seq {
            return;
        }
        if seq == guard.last_seq + 1 {
            self.apply_remote(&mut guard, SequencedEvent { seq, event });
        } else {
            self.catch_up_locked(&mut guard).await;
        }
    }

    /// Applies what the store holds after the snapshot (events other nodes
    /// stored); the task body itself when the log no longer reaches back.
    pub async fn catch_up_locked(&self, guard: &mut MutexGuard<'_, Snapshot>) {
        match self.store_events_after(guard.last_seq).await {
            Some(events) => {
                for event in events {
                    if event.seq == guard.last_seq + 1 {
                        self.apply_remote(guard, event);
                    }
                }
            }
            None => {
                let stored = match self.store.get_agent_task(&self.scope, &self.id).await {
                    Ok(Some(stored)) if stored.last_seq > guard.last_seq => stored,
                    Ok(_) => return,
                    Err(error) => {
                        tracing::warn!(task_id = %self.id, %error, "could not catch up with an A2A task");
                        return;
                    }
                };
                let Ok(task) = serde_json::from_value::<Task>(stored.body) else {
                    tracing::warn!(task_id = %self.id, "a stored A2A task is unreadable; not caught up");
                    return;
                };
                let snapshot = SequencedEvent { seq: stored.last_seq, event: Arc::new(StreamResponse::Task(task)) };
                self.apply_remote(guard, snapshot);
            }
        }
    }

    /// One event another node stored: applied, broadcast to this node's
    /// streams, and a local run stopped when it ended the task (a cancel).
    fn apply_remote(&self, guard: &mut MutexGuard<'_, Snapshot>, event: SequencedEvent) {
        apply(&mut guard.task, &event.event);
        guard.last_seq = event.seq;
        let state = guard.task.status.state;
        // Whoever wrote a working state runs the task; a settled one has no run anywhere.
        guard.running = !state.is_terminal() && !state.is_interrupted();
        if state.is_terminal() {
            self.stop_run();
        }
        let _ = self.events.send(event);
    }

    /// Stops the run working the task on this node, if there is one.
    pub fn stop_run(&self) {
        if let Ok(mut runs) = self.run_token.lock()
            && let Some(token) = runs.take()
        {
            token.cancel();
        }
    }

    /// Whether nothing uses the task: no one else holds it (no run, stream,
    /// waiting send or call in progress: each holds the task), and it has no
    /// run and no event waiting to be stored.
    pub fn is_idle(self: &Arc<Self>) -> bool {
        Arc::strong_count(self) == 1
            && self.listeners() == 0
            && self.snapshot.try_lock().is_ok_and(|snapshot| !snapshot.running && snapshot.unstored.is_none())
    }

    /// How many streams (and waiting sends) on this node listen to the task.
    pub fn listeners(&self) -> usize {
        self.events.receiver_count()
    }

    /// The bus channel of the task.
    pub fn channel(&self) -> String {
        task_channel(&self.id)
    }

    /// Hands an event to the task's webhooks, if it has any.
    pub fn push_event(&self, seq: i64, event: Arc<StreamResponse>) {
        let configs = self.push.lock().map(|configs| configs.clone()).unwrap_or_default();
        if !configs.is_empty() {
            self.pusher.deliver(configs, seq, event);
        }
    }

    /// The stored events after `seq`, if the log still holds the next one.
    pub async fn store_events_after(&self, seq: i64) -> Option<Vec<SequencedEvent>> {
        let events = self.store.agent_task_events(&self.scope, &self.id, seq).await.ok()?;
        if events.first().is_some_and(|first| first.seq != seq + 1) {
            return None;
        }
        events.into_iter().map(decode_event).collect()
    }

    /// Stores the task as it is now, if it was not stored yet (its insert was
    /// deferred and nothing was written since).
    pub async fn store_if_unstored(&self) -> Result<(), StoreError> {
        let mut guard = self.lock().await;
        let Some(first) = guard.unstored.clone() else { return Ok(()) };
        let stored = stored_task(&guard.task, guard.last_seq, self.created_at)?;
        self.store.insert_agent_task(&self.scope, &stored, None, &[first], self.keep_events).await?;
        guard.unstored = None;
        Ok(())
    }

    /// Writes events after `expected_seq`; a task not stored yet (`unstored`:
    /// its first event) is inserted with them in the same write.
    async fn store_events(
        &self,
        task: &Task,
        expected_seq: i64,
        events: &[SequencedEvent],
        idempotency_key: Option<&StoredIdempotencyKey>,
        unstored: Option<&AgentTaskEvent>,
    ) -> Result<(), StoreError> {
        let mut logged = Vec::with_capacity(events.len() + 1);
        logged.extend(unstored.cloned());
        for event in events {
            let body = serde_json::to_value(event.event.as_ref()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            logged.push(AgentTaskEvent { seq: event.seq, body });
        }
        let last_seq = events.last().map_or(expected_seq, |event| event.seq);
        let stored = stored_task(task, last_seq, self.created_at)?;
        if unstored.is_some() {
            return self
                .store
                .insert_agent_task(&self.scope, &stored, idempotency_key, &logged, self.keep_events)
                .await;
        }
        self.store
            .update_agent_task(&self.scope, &stored, expected_seq, idempotency_key, &logged, self.keep_events)
            .await
    }
}

/// Applies an event to a task snapshot.
pub(super) fn apply(task: &mut Task, event: &StreamResponse) {
    match event {
        StreamResponse::StatusUpdate(update) => {
            if let Some(message) = &update.status.message {
                task.history.push(message.clone());
            }
            task.status = update.status.clone();
        }
        StreamResponse::ArtifactUpdate(update) => task.apply_artifact(update),
        StreamResponse::Task(snapshot) => *task = snapshot.clone(),
        StreamResponse::Message(message) => task.history.push(message.clone()),
    }
}

/// The storage record of a task.
pub(super) fn stored_task(
    task: &Task,
    last_seq: i64,
    created_at: chrono::DateTime<chrono::Utc>,
) -> Result<StoredAgentTask, StoreError> {
    Ok(StoredAgentTask {
        id: task.id.clone(),
        context_id: task.context_id.clone(),
        state: task.status.state.as_str().to_owned(),
        status_at: task.status.timestamp.unwrap_or(created_at),
        created_at,
        last_seq,
        body: serde_json::to_value(task).map_err(|e| StoreError::Corrupt(e.to_string()))?,
    })
}

/// A logged event back in its typed form.
pub(super) fn decode_event(event: AgentTaskEvent) -> Option<SequencedEvent> {
    let decoded: StreamResponse = serde_json::from_value(event.body).ok()?;
    Some(SequencedEvent { seq: event.seq, event: Arc::new(decoded) })
}
