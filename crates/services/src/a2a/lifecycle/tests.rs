//! The lifecycle rules, driven through a scripted agent over a real (SQLite)
//! store: what the agent does is named by the first word of the message.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use agentdeck_a2a_protocol::{
    A2aError, CancelTaskRequest, GetTaskRequest, ListTasksRequest, Message, SendMessageConfiguration,
    SendMessageRequest, SendMessageResponse, Task, TaskState,
};
use agentdeck_domain::auth::{Principal, Role};
use agentdeck_storage::testing::TestDatabase;
use agentdeck_storage::{AgentTaskStore, ConnectOptions, connect};
use anyhow::{Context, bail};
use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::a2a::{
    A2aCaller, A2aOptions, A2aService, AgentDescriptor, AgentExecutor, AgentFailure, AgentRequest, TaskUpdater,
};

const AGENT: &str = "script";

/// Upper bound on waiting for an event that must come (never a synchronising sleep).
const WITHIN: Duration = Duration::from_secs(20);

/// Does what the message's first word says: `complete`, `input` (asks, then
/// completes on the follow-up), `fail`, `quit` (returns unfinished), `hang`
/// (works until canceled), `reply` (answers with a message, no task),
/// `wait` (completes once `release` is notified, saying nothing before).
struct ScriptedAgent {
    descriptor: AgentDescriptor,
    /// Told when a `hang` run starts working and when it stops (dropped).
    runs: mpsc::UnboundedSender<&'static str>,
    /// Lets a `wait` run finish.
    release: Arc<tokio::sync::Notify>,
}

/// Says `stopped` when a run's future is dropped (canceled, shut down or finished).
struct StopSignal(mpsc::UnboundedSender<&'static str>);

impl Drop for StopSignal {
    fn drop(&mut self) {
        let _ = self.0.send("stopped");
    }
}

fn first_word(request: &AgentRequest) -> String {
    request.message.first_text().unwrap_or_default().split_whitespace().next().unwrap_or_default().to_owned()
}

#[async_trait]
impl AgentExecutor for ScriptedAgent {
    fn descriptor(&self) -> &AgentDescriptor {
        &self.descriptor
    }

    async fn reply(&self, request: &AgentRequest) -> Option<Message> {
        (first_word(request) == "reply").then(|| Message::user_text("reply-1", "a direct answer"))
    }

    async fn execute(&self, request: AgentRequest, updates: TaskUpdater) -> Result<(), AgentFailure> {
        let stopped = |e: crate::a2a::Stopped| AgentFailure(e.to_string());
        match first_word(&request).as_str() {
            "complete" => updates.complete(Some("done")).await.map_err(stopped),
            "input" if request.previous.is_some() => updates.complete(Some("thanks")).await.map_err(stopped),
            "input" => updates.input_required("which one?").await.map_err(stopped),
            "fail" => Err(AgentFailure("the script said fail".into())),
            "wait" => {
                self.release.notified().await;
                updates.complete(Some("released")).await.map_err(stopped)
            }
            "quit" => updates.working().await.map_err(stopped),
            "hang" => {
                let _signal = StopSignal(self.runs.clone());
                updates.working().await.map_err(stopped)?;
                let _ = self.runs.send("working");
                std::future::pending::<()>().await;
                Ok(())
            }
            other => Err(AgentFailure(format!("no script `{other}`"))),
        }
    }
}

struct Fixture {
    _database: TestDatabase,
    store: Arc<dyn AgentTaskStore>,
    service: A2aService,
    caller: A2aCaller,
    runs: mpsc::UnboundedReceiver<&'static str>,
    /// Lets the service's `wait` runs finish.
    release: Arc<tokio::sync::Notify>,
}

fn service_on(store: Arc<dyn AgentTaskStore>) -> (A2aService, mpsc::UnboundedReceiver<&'static str>) {
    service_releasing(store, Arc::new(tokio::sync::Notify::new()))
}

/// [`service_on`], its `wait` runs finishing when `release` is notified.
fn service_releasing(
    store: Arc<dyn AgentTaskStore>,
    release: Arc<tokio::sync::Notify>,
) -> (A2aService, mpsc::UnboundedReceiver<&'static str>) {
    service_with(store, release, A2aOptions { keep_events: 64, ..A2aOptions::default() })
}

/// [`service_releasing`] with `options`.
fn service_with(
    store: Arc<dyn AgentTaskStore>,
    release: Arc<tokio::sync::Notify>,
    options: A2aOptions,
) -> (A2aService, mpsc::UnboundedReceiver<&'static str>) {
    let (runs_tx, runs) = mpsc::unbounded_channel();
    let descriptor = AgentDescriptor {
        name: AGENT.into(),
        display_name: "Script".into(),
        description: "does what the message says".into(),
        skills: Vec::new(),
        output_modes: vec!["text/plain".into()],
        allow_anonymous: true,
    };
    let agent = Arc::new(ScriptedAgent { descriptor, runs: runs_tx, release });
    (A2aService::new(store, vec![agent], options), runs)
}

async fn fixture() -> anyhow::Result<Fixture> {
    let database = TestDatabase::sqlite()?;
    let options = ConnectOptions { max_connections: 4, acquire_timeout: Duration::from_secs(30) };
    let stores = connect(&database.url, &options).await?;
    stores.database.migrate().await?;
    let store = stores.agent_tasks;
    let release = Arc::new(tokio::sync::Notify::new());
    let (service, runs) = service_releasing(store.clone(), release.clone());
    let ada = Principal { subject: "ada".into(), workspace_id: uuid::Uuid::from_u128(1), role: Role::Member };
    Ok(Fixture { _database: database, store, service, caller: A2aCaller::authenticated(ada, None), runs, release })
}

/// The ids of the user's messages in the task's history, in order.
fn user_message_ids(task: &Task) -> Vec<&str> {
    task.history
        .iter()
        .filter(|m| m.role == agentdeck_a2a_protocol::Role::User)
        .map(|m| m.message_id.as_str())
        .collect()
}

fn message(id: &str, text: &str) -> SendMessageRequest {
    SendMessageRequest::new(Message::user_text(id, text))
}

fn follow_up(id: &str, task: &Task, text: &str) -> SendMessageRequest {
    let mut message = Message::user_text(id, text);
    message.task_id = Some(task.id.clone());
    SendMessageRequest::new(message)
}

fn immediately(mut request: SendMessageRequest) -> SendMessageRequest {
    request.configuration = Some(SendMessageConfiguration { return_immediately: true, ..Default::default() });
    request
}

fn cancel(task: &Task) -> CancelTaskRequest {
    CancelTaskRequest { id: task.id.clone(), ..Default::default() }
}

impl Fixture {
    async fn task(&self, request: SendMessageRequest) -> anyhow::Result<Task> {
        match self.service.send(AGENT, &self.caller, request).await? {
            SendMessageResponse::Task(task) => Ok(task),
            SendMessageResponse::Message(message) => bail!("expected a task, got {message:?}"),
        }
    }

    async fn get(&self, task: &Task) -> anyhow::Result<Task> {
        let request = GetTaskRequest { id: task.id.clone(), ..Default::default() };
        Ok(self.service.get_task(AGENT, &self.caller, request).await?)
    }

    /// The next report of the `hang` agent's runs.
    async fn next_run_report(&mut self) -> anyhow::Result<&'static str> {
        tokio::time::timeout(WITHIN, self.runs.recv()).await.context("no run report")?.context("agent gone")
    }

    /// A task the `hang` agent is working on now.
    async fn hanging_task(&mut self, id: &str) -> anyhow::Result<Task> {
        let task = self.task(immediately(message(id, "hang"))).await?;
        assert_eq!(self.next_run_report().await?, "working");
        Ok(task)
    }
}

#[tokio::test]
async fn a_new_task_starts_submitted_with_the_message_and_a_blocking_send_waits_for_the_end() -> anyhow::Result<()> {
    let mut fx = fixture().await?;
    let task = fx.task(immediately(message("m-hang", "hang"))).await?;
    assert!(matches!(task.status.state, TaskState::Submitted | TaskState::Working), "{:?}", task.status.state);
    assert_eq!(task.history.len(), 1);
    assert_eq!(task.history[0].message_id, "m-hang");
    assert_eq!(task.history[0].task_id.as_deref(), Some(task.id.as_str()));
    assert_eq!(fx.next_run_report().await?, "working");
    assert_eq!(fx.service.inner.options.active_runs.load(Ordering::Relaxed), 1);

    let done = fx.task(message("m-complete", "complete")).await?;
    assert_eq!(done.status.state, TaskState::Completed);
    assert_eq!(done.status.message.as_ref().and_then(Message::first_text), Some("done"));
    Ok(())
}

#[tokio::test]
async fn terminal_states_refuse_new_messages() -> anyhow::Result<()> {
    let mut fx = fixture().await?;
    let completed = fx.task(message("c1", "complete")).await?;
    let failed = fx.task(message("f1", "fail")).await?;
    let hanging = fx.hanging_task("h1").await?;
    let canceled = fx.service.cancel_task(AGENT, &fx.caller, cancel(&hanging)).await?;
    for (task, state) in
        [(&completed, TaskState::Completed), (&failed, TaskState::Failed), (&canceled, TaskState::Canceled)]
    {
        assert_eq!(task.status.state, state);
        let refused = fx.service.send(AGENT, &fx.caller, follow_up(&format!("again-{}", task.id), task, "input")).await;
        assert!(matches!(refused, Err(A2aError::UnsupportedOperation(_))), "{state:?}: {refused:?}");
        assert_eq!(fx.get(task).await?.status.state, state, "a refused message leaves the task as it was");
    }
    Ok(())
}

#[tokio::test]
async fn cancel_ends_a_running_task_canceled_and_stops_its_run() -> anyhow::Result<()> {
    let mut fx = fixture().await?;
    let task = fx.hanging_task("h1").await?;
    let canceled = fx.service.cancel_task(AGENT, &fx.caller, cancel(&task)).await?;
    assert_eq!(canceled.status.state, TaskState::Canceled);
    assert_eq!(fx.next_run_report().await?, "stopped", "the run is dropped at cancel");
    assert_eq!(fx.get(&task).await?.status.state, TaskState::Canceled);
    // The run's end must not overwrite CANCELED with FAILED: ask the store, not the memory.
    let stored = fx.store.get_agent_task(&fx.caller.scope(AGENT), &task.id).await?.context("stored")?;
    assert_eq!(stored.state, TaskState::Canceled.as_str());
    Ok(())
}

#[tokio::test]
async fn cancel_of_a_finished_task_answers_not_cancelable_with_its_state() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let task = fx.task(message("c1", "complete")).await?;
    let refused = fx.service.cancel_task(AGENT, &fx.caller, cancel(&task)).await;
    match refused {
        Err(A2aError::TaskNotCancelable { task_id, state }) => {
            assert_eq!((task_id.as_str(), state.as_str()), (task.id.as_str(), TaskState::Completed.as_str()));
        }
        other => bail!("expected TaskNotCancelable, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn concurrent_cancels_end_canceled_once_and_the_rest_answer_not_cancelable() -> anyhow::Result<()> {
    let mut fx = fixture().await?;
    let task = fx.hanging_task("h1").await?;
    let cancels = (0..8).map(|_| {
        let (service, caller, request) = (fx.service.clone(), fx.caller.clone(), cancel(&task));
        tokio::spawn(async move { service.cancel_task(AGENT, &caller, request).await })
    });
    let mut canceled = 0;
    for outcome in futures::future::join_all(cancels).await {
        match outcome? {
            Ok(task) => {
                assert_eq!(task.status.state, TaskState::Canceled);
                canceled += 1;
            }
            Err(A2aError::TaskNotCancelable { state, .. }) => assert_eq!(state, TaskState::Canceled.as_str()),
            Err(other) => bail!("a cancel answered neither CANCELED nor not cancelable: {other:?}"),
        }
    }
    assert_eq!(canceled, 1);
    Ok(())
}

#[tokio::test]
async fn a_follow_up_is_refused_while_the_task_is_worked_on() -> anyhow::Result<()> {
    let mut fx = fixture().await?;
    let task = fx.hanging_task("h1").await?;
    let refused = fx.service.send(AGENT, &fx.caller, follow_up("h2", &task, "complete")).await;
    assert!(matches!(refused, Err(A2aError::UnsupportedOperation(ref text)) if text.contains("still being worked on")));
    Ok(())
}

#[tokio::test]
async fn input_required_takes_a_follow_up_in_the_same_context_and_history() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let asking = fx.task(message("i1", "input")).await?;
    assert_eq!(asking.status.state, TaskState::InputRequired);
    let mut wrong_context = follow_up("i2", &asking, "input");
    if let Some(message) = wrong_context.message.as_mut() {
        message.context_id = Some("another-context".into());
    }
    let refused = fx.service.send(AGENT, &fx.caller, wrong_context).await;
    assert_eq!(refused.map(|_| ()).map_err(|e| e.code()), Err(-32602));

    let done = fx.task(follow_up("i3", &asking, "input")).await?;
    assert_eq!((done.id.as_str(), done.status.state), (asking.id.as_str(), TaskState::Completed));
    assert_eq!(user_message_ids(&done), ["i1", "i3"]);
    assert!(done.history.iter().all(|m| m.context_id.as_deref() == Some(asking.context_id.as_str())));
    Ok(())
}

#[tokio::test]
async fn a_run_that_fails_or_returns_unfinished_ends_failed_with_the_reason() -> anyhow::Result<()> {
    let fx = fixture().await?;
    for (id, script, reason) in
        [("f1", "fail", "the script said fail"), ("q1", "quit", "the agent stopped without finishing the task")]
    {
        let task = fx.task(message(id, script)).await?;
        assert_eq!(task.status.state, TaskState::Failed, "{script}");
        assert_eq!(task.status.message.as_ref().and_then(Message::first_text), Some(reason));
    }
    assert_eq!(fx.service.inner.options.active_runs.load(Ordering::Relaxed), 0);
    Ok(())
}

#[tokio::test]
async fn a_repeated_message_id_is_a_new_send_and_a_direct_reply_makes_no_task() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let first = fx.task(message("same", "complete")).await?;
    let again = fx.task(message("same", "fail")).await?;
    assert_ne!(again.id, first.id, "without an Idempotency-Key every send is new");
    assert_eq!((first.status.state, again.status.state), (TaskState::Completed, TaskState::Failed));

    let reply = fx.service.send(AGENT, &fx.caller, message("r1", "reply")).await?;
    assert!(matches!(reply, SendMessageResponse::Message(ref m) if m.context_id.is_some()), "{reply:?}");
    let listed = fx.service.list_tasks(AGENT, &fx.caller, ListTasksRequest::default()).await?;
    assert_eq!(listed.total_size, 2, "a reply makes no task");
    Ok(())
}

#[tokio::test]
async fn bad_sends_are_refused_before_any_task_exists() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let unknown = fx.service.send("nobody", &fx.caller, message("x1", "complete")).await;
    assert!(matches!(unknown, Err(A2aError::MethodNotFound(_))), "{unknown:?}");
    let empty = fx.service.send(AGENT, &fx.caller, SendMessageRequest::default()).await;
    assert_eq!(empty.map(|_| ()).map_err(|e| e.code()), Err(-32602));
    let mut missing_task = message("x2", "complete");
    if let Some(message) = missing_task.message.as_mut() {
        message.task_id = Some("no-such-task".into());
    }
    let missing = fx.service.send(AGENT, &fx.caller, missing_task).await;
    assert!(matches!(missing, Err(A2aError::TaskNotFound(_))), "{missing:?}");
    let listed = fx.service.list_tasks(AGENT, &fx.caller, ListTasksRequest::default()).await?;
    assert_eq!(listed.total_size, 0);
    Ok(())
}

#[tokio::test]
async fn shutdown_leaves_running_tasks_as_stored_and_the_next_start_fails_them() -> anyhow::Result<()> {
    let mut fx = fixture().await?;
    let task = fx.hanging_task("h1").await?;
    fx.service.shutdown().await;
    assert_eq!(fx.next_run_report().await?, "stopped");
    assert_eq!(fx.get(&task).await?.status.state, TaskState::Working, "shutdown writes no state");

    let (restarted, _runs) = service_on(fx.store.clone());
    assert_eq!(restarted.fail_interrupted_runs().await?, 1);
    let request = GetTaskRequest { id: task.id.clone(), ..Default::default() };
    let failed = restarted.get_task(AGENT, &fx.caller, request).await?;
    assert_eq!(failed.status.state, TaskState::Failed);
    assert_eq!(restarted.fail_interrupted_runs().await?, 0, "a failed task is over");
    Ok(())
}

#[tokio::test]
async fn a_blocking_sends_task_is_stored_by_its_first_write_or_once_its_run_outlasts_the_deferral() -> anyhow::Result<()>
{
    let fx = fixture().await?;
    let scope = fx.caller.scope(AGENT);
    // An agent that answers at once: the task is stored with its answer, its log complete from the first event.
    let quick = fx.task(message("m-quick", "complete")).await?;
    let stored = fx.store.get_agent_task(&scope, &quick.id).await?.context("the answered task is stored")?;
    assert_eq!(stored.state, TaskState::Completed.as_str());
    let logged: Vec<i64> = fx.store.agent_task_events(&scope, &quick.id, 0).await?.iter().map(|e| e.seq).collect();
    assert_eq!(logged, [1, 2], "the submitted task and its completion");
    // An agent that works without a word: the task is stored (and listed) while it still runs.
    let send = fx.service.send(AGENT, &fx.caller, message("m-wait", "wait"));
    let watch = async {
        let listed_while_running = async {
            loop {
                let listed = fx.service.list_tasks(AGENT, &fx.caller, ListTasksRequest::default()).await?;
                if let Some(task) = listed.tasks.iter().find(|task| task.id != quick.id) {
                    anyhow::ensure!(task.status.state == TaskState::Submitted, "listed {:?}", task.status.state);
                    return Ok::<_, anyhow::Error>(task.id.clone());
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        let id = tokio::time::timeout(WITHIN, listed_while_running).await.context("never stored while running")??;
        fx.release.notify_waiters();
        Ok::<_, anyhow::Error>(id)
    };
    let (answer, listed_id) = tokio::join!(send, watch);
    let SendMessageResponse::Task(answered) = answer? else { bail!("expected a task") };
    assert_eq!(answered.id, listed_id?);
    assert_eq!(answered.status.state, TaskState::Completed);
    assert_eq!(fx.get(&answered).await?.status.state, TaskState::Completed);
    Ok(())
}

#[tokio::test]
async fn a_streaming_or_immediate_sends_task_is_stored_before_its_id_is_known() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let scope = fx.caller.scope(AGENT);
    // The id is in the answer at once, so the task is stored before it.
    let task = fx.task(immediately(message("m-immediate", "wait"))).await?;
    let stored = fx.store.get_agent_task(&scope, &task.id).await?.context("stored when answered")?;
    assert_eq!(stored.state, TaskState::Submitted.as_str());
    // A stream's first event names the task: stored when the stream starts.
    let _stream = fx.service.send_streaming(AGENT, &fx.caller, message("m-stream", "wait")).await?;
    let listed = fx.service.list_tasks(AGENT, &fx.caller, ListTasksRequest::default()).await?;
    assert_eq!(listed.tasks.len(), 2, "{listed:?}");
    fx.release.notify_waiters();
    Ok(())
}

#[tokio::test]
async fn idle_tasks_waiting_for_input_are_let_go_past_the_cap_and_loaded_again() -> anyhow::Result<()> {
    let mut fx = fixture().await?;
    let options = A2aOptions { max_held_tasks: 2, ..A2aOptions::default() };
    (fx.service, fx.runs) = service_with(fx.store.clone(), fx.release.clone(), options);

    let mut waiting = Vec::new();
    for index in 0..5 {
        let task = fx.task(message(&format!("w{index}"), "input")).await?;
        assert_eq!(task.status.state, TaskState::InputRequired);
        waiting.push(task);
        assert!(fx.service.held_tasks() <= 2, "held {} tasks", fx.service.held_tasks());
    }
    // The first was let go long ago: a follow-up loads it from the store and finishes it.
    let done = fx.task(follow_up("w0-again", &waiting[0], "input")).await?;
    assert_eq!((done.id.as_str(), done.status.state), (waiting[0].id.as_str(), TaskState::Completed));
    assert_eq!(user_message_ids(&done), ["w0", "w0-again"]);
    // The others still wait, as stored.
    assert_eq!(fx.get(&waiting[4]).await?.status.state, TaskState::InputRequired);
    Ok(())
}
