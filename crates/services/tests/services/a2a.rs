//! The A2A task service over a real (SQLite) records store, driven through
//! the conformance agent: lifecycle rules, streams and their resumption by
//! sequence number, cancel, listing, and a restart (retried sends with an
//! `Idempotency-Key` are in `a2a_idempotency`, on this module's fixture).

use std::sync::Arc;
use std::time::Duration;

use agentdeck_a2a_protocol::{
    A2aError, CancelTaskRequest, GetTaskRequest, ListTasksRequest, Message, SendMessageConfiguration,
    SendMessageRequest, SendMessageResponse, StreamResponse, Task, TaskState,
};
use agentdeck_domain::auth::{Principal, Role};
use agentdeck_services::a2a::{A2aCaller, A2aOptions, A2aService, EventStream};
use agentdeck_services::agents::conformance::{ConformanceAgent, NAME};
use agentdeck_storage::testing::TestDatabase;
use agentdeck_storage::{AgentTaskStore, ConnectOptions, connect};
use anyhow::{Context, bail};
use futures::StreamExt;

pub(crate) const LONG_RUN: Duration = Duration::from_secs(30);

pub(crate) struct Fixture {
    pub(crate) database: TestDatabase,
    pub(crate) store: Arc<dyn AgentTaskStore>,
    pub(crate) service: A2aService,
    pub(crate) caller: A2aCaller,
}

pub(crate) async fn open_store(database: &TestDatabase) -> anyhow::Result<Arc<dyn AgentTaskStore>> {
    let options = ConnectOptions { max_connections: 4, acquire_timeout: Duration::from_secs(30) };
    let stores = connect(&database.url, &options).await?;
    stores.database.migrate().await?;
    Ok(stores.agent_tasks)
}

fn service_on(store: Arc<dyn AgentTaskStore>) -> A2aService {
    let options = A2aOptions { keep_events: 64, ..A2aOptions::default() };
    A2aService::new(store, vec![Arc::new(ConformanceAgent::new(LONG_RUN))], options)
}

/// A member of one fixed workspace.
pub(crate) fn person(subject: &str) -> Principal {
    Principal { subject: subject.into(), workspace_id: uuid::Uuid::from_u128(1), role: Role::Member }
}

pub(crate) async fn fixture() -> anyhow::Result<Fixture> {
    let database = TestDatabase::sqlite()?;
    let store = open_store(&database).await?;
    let service = service_on(store.clone());
    let caller = A2aCaller::authenticated(person("ada"), None);
    Ok(Fixture { database, store, service, caller })
}

pub(crate) fn send(id: &str, text: &str) -> SendMessageRequest {
    SendMessageRequest::new(Message::user_text(id, text))
}

pub(crate) fn immediately(mut request: SendMessageRequest) -> SendMessageRequest {
    request.configuration = Some(SendMessageConfiguration { return_immediately: true, ..Default::default() });
    request
}

pub(crate) async fn task_of(fx: &Fixture, request: SendMessageRequest) -> anyhow::Result<Task> {
    match fx.service.send(NAME, &fx.caller, request).await? {
        SendMessageResponse::Task(task) => Ok(task),
        SendMessageResponse::Message(message) => bail!("expected a task, got the message {message:?}"),
    }
}

/// Collects a stream's events (seq, kind, state) until it ends or `within` passes.
pub(crate) async fn collect(
    stream: EventStream,
    within: Duration,
) -> anyhow::Result<Vec<(i64, &'static str, Option<TaskState>)>> {
    let events = tokio::time::timeout(within, stream.collect::<Vec<_>>()).await.context("the stream did not end")?;
    Ok(events
        .into_iter()
        .map(|event| match event.event.as_ref() {
            StreamResponse::Task(task) => (event.seq, "task", Some(task.status.state)),
            StreamResponse::Message(_) => (event.seq, "message", None),
            StreamResponse::StatusUpdate(update) => (event.seq, "status", Some(update.status.state)),
            StreamResponse::ArtifactUpdate(_) => (event.seq, "artifact", None),
        })
        .collect())
}

#[tokio::test]
async fn a_blocking_send_returns_the_finished_task_and_a_repeated_message_id_makes_another() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let task = task_of(&fx, send("tck-complete-task-1", "hi")).await?;
    assert_eq!(task.status.state, TaskState::Completed);
    let status_text = task.status.message.as_ref().and_then(Message::first_text);
    assert_eq!(status_text, Some("Hello from TCK"));
    assert!(task.status.timestamp.is_some());
    assert_eq!(task.history[0].message_id, "tck-complete-task-1");
    assert_eq!(task.history[0].task_id.as_deref(), Some(task.id.as_str()));
    // Without an Idempotency-Key a repeated messageId is a new send, as in the reference SDK.
    let again = task_of(&fx, send("tck-complete-task-1", "hi")).await?;
    assert_ne!(again.id, task.id, "a repeated messageId must not return the earlier task");
    assert_eq!(again.status.state, TaskState::Completed);
    let listed = fx.service.list_tasks(NAME, &fx.caller, ListTasksRequest::default()).await?;
    assert_eq!(listed.total_size, 2);
    // Another caller cannot see it.
    let other = A2aCaller::authenticated(person("bob"), None);
    let foreign = fx.service.get_task(NAME, &other, GetTaskRequest { id: task.id.clone(), ..Default::default() }).await;
    assert!(matches!(foreign, Err(A2aError::TaskNotFound(_))), "{foreign:?}");
    Ok(())
}

#[tokio::test]
async fn artifacts_replies_rejections_and_failures_follow_their_prefix() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let data = task_of(&fx, send("tck-artifact-data-1", "x")).await?;
    let part = &data.artifacts[0].parts[0];
    assert_eq!(serde_json::to_value(part)?, serde_json::json!({"data": {"key": "value", "count": 42}}));
    let file = task_of(&fx, send("tck-artifact-file-url-1", "x")).await?;
    let file_part = serde_json::to_value(&file.artifacts[0].parts[0])?;
    assert_eq!(file_part["url"], "https://example.com/output.txt");
    assert_eq!(
        (file_part["filename"].as_str(), file_part["mediaType"].as_str()),
        (Some("output.txt"), Some("text/plain"))
    );
    match fx.service.send(NAME, &fx.caller, send("tck-message-response-1", "x")).await? {
        SendMessageResponse::Message(message) => {
            assert_eq!(message.first_text(), Some("Direct message response"));
            assert!(message.context_id.is_some());
        }
        SendMessageResponse::Task(task) => bail!("expected a message, got task {task:?}"),
    }
    assert_eq!(task_of(&fx, send("tck-reject-task-1", "x")).await?.status.state, TaskState::Rejected);
    assert_eq!(task_of(&fx, send("m-9", "tck-task-failure please")).await?.status.state, TaskState::Failed);
    Ok(())
}

#[tokio::test]
async fn input_required_waits_for_a_follow_up_and_a_finished_task_takes_no_more() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let parked = task_of(&fx, send("tck-input-required-1", "start")).await?;
    assert_eq!(parked.status.state, TaskState::InputRequired);
    let mut wrong_context = Message::user_text("m-ctx", "more");
    wrong_context.task_id = Some(parked.id.clone());
    wrong_context.context_id = Some("another-context".into());
    let refused = fx.service.send(NAME, &fx.caller, SendMessageRequest::new(wrong_context)).await;
    assert_eq!(refused.err().map(|e| e.code()), Some(-32602));
    let mut follow_up = Message::user_text("m-2", "the input");
    follow_up.task_id = Some(parked.id.clone());
    let done = task_of(&fx, SendMessageRequest::new(follow_up.clone())).await?;
    assert_eq!(done.id, parked.id);
    assert_eq!(done.status.state, TaskState::Completed);
    assert_eq!(done.history.iter().filter(|m| m.message_id == "m-2").count(), 1);
    let mut late = Message::user_text("m-3", "late");
    late.task_id = Some(parked.id.clone());
    let late = fx.service.send(NAME, &fx.caller, SendMessageRequest::new(late)).await;
    assert_eq!(late.err().map(|e| e.code()), Some(-32004));
    let mut unknown = Message::user_text("m-4", "x");
    unknown.task_id = Some("no-such-task".into());
    let unknown = fx.service.send(NAME, &fx.caller, SendMessageRequest::new(unknown)).await;
    assert_eq!(unknown.err().map(|e| e.code()), Some(-32001));
    let empty = fx.service.send(NAME, &fx.caller, SendMessageRequest::default()).await;
    assert_eq!(empty.err().map(|e| e.code()), Some(-32602));
    Ok(())
}

/// A follow-up to a task waiting for input chooses its behaviour by its own
/// prefix, as the reference test agent does; one without a prefix completes it.
#[tokio::test]
async fn a_follow_up_to_a_waiting_task_follows_its_own_prefix() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let follow_up = |task_id: &str, message_id: &str, text: &str| {
        let mut message = Message::user_text(message_id, text);
        message.task_id = Some(task_id.to_owned());
        SendMessageRequest::new(message)
    };
    let parked = task_of(&fx, send("tck-multi-turn-1", "start")).await?;
    assert_eq!(parked.status.state, TaskState::InputRequired);
    let again = task_of(&fx, follow_up(&parked.id, "tck-input-required-2", "more, please")).await?;
    assert_eq!((again.id.as_str(), again.status.state), (parked.id.as_str(), TaskState::InputRequired));
    let failed = task_of(&fx, follow_up(&parked.id, "m-fail", "tck-task-failure now")).await?;
    assert_eq!(failed.status.state, TaskState::Failed);

    let parked = task_of(&fx, send("tck-input-required-3", "start")).await?;
    let done = task_of(&fx, follow_up(&parked.id, "m-plain", "the input")).await?;
    assert_eq!(done.status.state, TaskState::Completed);
    let answer = done.status.message.as_ref().and_then(|message| message.first_text());
    assert_eq!(answer, Some("Input received: the input"));
    Ok(())
}

#[tokio::test]
async fn cancel_ends_a_running_task_and_a_finished_one_is_not_cancelable() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let running = task_of(&fx, immediately(send("tck-cancel-1", "x"))).await?;
    assert!(!running.status.state.is_terminal());
    let cancel = CancelTaskRequest { id: running.id.clone(), ..Default::default() };
    let canceled = fx.service.cancel_task(NAME, &fx.caller, cancel.clone()).await?;
    assert_eq!(canceled.status.state, TaskState::Canceled);
    let again = fx.service.cancel_task(NAME, &fx.caller, cancel).await;
    assert_eq!(again.err().map(|e| e.code()), Some(-32002));
    // The agent run stopped and wrote nothing after the cancel: once every run
    // has ended (shutdown waits for them, leaving tasks as stored), it is still canceled.
    fx.service.shutdown().await;
    let stored = fx.service.get_task(NAME, &fx.caller, GetTaskRequest { id: running.id, ..Default::default() }).await?;
    assert_eq!(stored.status.state, TaskState::Canceled);
    Ok(())
}

#[tokio::test]
async fn a_stream_sends_the_task_then_every_event_in_sequence() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let stream = fx.service.send_streaming(NAME, &fx.caller, send("tck-stream-001-a", "x")).await?;
    let events = collect(stream, Duration::from_secs(10)).await?;
    assert_eq!(
        events,
        [
            (1, "task", Some(TaskState::Submitted)),
            (2, "status", Some(TaskState::Working)),
            (3, "artifact", None),
            (4, "status", Some(TaskState::Completed)),
        ]
    );
    let chunked = fx.service.send_streaming(NAME, &fx.caller, send("tck-stream-artifact-chunked-a", "x")).await?;
    let kinds: Vec<_> = collect(chunked, Duration::from_secs(10)).await?.into_iter().map(|e| e.1).collect();
    assert_eq!(kinds, ["task", "status", "artifact", "artifact", "status"]);
    let reply = fx.service.send_streaming(NAME, &fx.caller, send("tck-message-response-a", "x")).await?;
    assert_eq!(collect(reply, Duration::from_secs(10)).await?, [(0, "message", None)]);
    Ok(())
}

#[tokio::test]
async fn subscribers_get_the_snapshot_first_and_resume_after_their_last_event() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let task = task_of(&fx, immediately(send("tck-long-running-1", "x"))).await?;
    // Wait for the run to report WORKING (event 2).
    for _ in 0..100 {
        let now =
            fx.service.get_task(NAME, &fx.caller, GetTaskRequest { id: task.id.clone(), ..Default::default() }).await?;
        if now.status.state == TaskState::Working {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let fresh = fx.service.subscribe(NAME, &fx.caller, &task.id, None).await?;
    let resumed = fx.service.subscribe(NAME, &fx.caller, &task.id, Some(1)).await?;
    fx.service.cancel_task(NAME, &fx.caller, CancelTaskRequest { id: task.id.clone(), ..Default::default() }).await?;
    let fresh = collect(fresh, Duration::from_secs(10)).await?;
    assert_eq!(fresh, [(2, "task", Some(TaskState::Working)), (3, "status", Some(TaskState::Canceled))]);
    let resumed = collect(resumed, Duration::from_secs(10)).await?;
    assert_eq!(resumed, [(2, "status", Some(TaskState::Working)), (3, "status", Some(TaskState::Canceled))]);
    // A finished task has nothing to subscribe to, unless events were missed.
    let over = fx.service.subscribe(NAME, &fx.caller, &task.id, None).await;
    assert_eq!(over.err().map(|e| e.code()), Some(-32004));
    let missed =
        collect(fx.service.subscribe(NAME, &fx.caller, &task.id, Some(2)).await?, Duration::from_secs(5)).await?;
    assert_eq!(missed, [(3, "status", Some(TaskState::Canceled))]);
    Ok(())
}

#[tokio::test]
async fn after_a_restart_the_task_is_there_its_run_ends_failed_and_a_resume_has_no_duplicates() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let stream = fx.service.send_streaming(NAME, &fx.caller, send("test-resubscribe-message-id-1", "x")).await?;
    let mut stream = stream;
    let mut seen = Vec::new();
    while let Some(event) = tokio::time::timeout(Duration::from_secs(5), stream.next()).await? {
        seen.push(event.seq);
        if let StreamResponse::StatusUpdate(update) = event.event.as_ref()
            && update.status.state == TaskState::Working
        {
            break;
        }
    }
    assert_eq!(seen, [1, 2]);
    let task_id = match fx.service.list_tasks(NAME, &fx.caller, ListTasksRequest::default()).await?.tasks.first() {
        Some(task) => task.id.clone(),
        None => bail!("the streamed task is not listed"),
    };
    // The "crash": the service goes away with the run unfinished; a new one opens the same file.
    drop(stream);
    fx.service.shutdown().await;
    drop(fx.service);
    let store = open_store(&fx.database).await?;
    let restarted = service_on(store);
    assert_eq!(restarted.fail_interrupted_runs().await?, 1);
    let task =
        restarted.get_task(NAME, &fx.caller, GetTaskRequest { id: task_id.clone(), ..Default::default() }).await?;
    assert_eq!(task.status.state, TaskState::Failed);
    let resumed =
        collect(restarted.subscribe(NAME, &fx.caller, &task_id, Some(2)).await?, Duration::from_secs(5)).await?;
    assert_eq!(resumed, [(3, "status", Some(TaskState::Failed))]);
    drop(fx.store);
    Ok(())
}

#[tokio::test]
async fn lists_page_newest_first_and_leave_artifacts_out_unless_asked() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let mut ids = Vec::new();
    // Tasks finished within one millisecond are ordered by id (UUIDv7s of one process follow creation order).
    for index in 0..5 {
        ids.push(task_of(&fx, send(&format!("tck-artifact-text-{index}"), "x")).await?.id);
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let request = ListTasksRequest {
            page_size: Some(2),
            page_token: Some(token.clone()).filter(|t| !t.is_empty()),
            ..Default::default()
        };
        let page = fx.service.list_tasks(NAME, &fx.caller, request).await?;
        assert_eq!((page.page_size, page.total_size), (2, 5));
        assert!(page.tasks.iter().all(|task| task.artifacts.is_empty()));
        seen.extend(page.tasks.into_iter().map(|task| task.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, ids);
    let with = ListTasksRequest { include_artifacts: Some(true), history_length: Some(0), ..Default::default() };
    let page = fx.service.list_tasks(NAME, &fx.caller, with).await?;
    assert!(page.tasks.iter().all(|task| task.artifacts.len() == 1 && task.history.is_empty()));
    let bad = ListTasksRequest { page_token: Some("garbage!".into()), ..Default::default() };
    assert_eq!(fx.service.list_tasks(NAME, &fx.caller, bad).await.err().map(|e| e.code()), Some(-32602));
    let too_big = ListTasksRequest { page_size: Some(101), ..Default::default() };
    assert_eq!(fx.service.list_tasks(NAME, &fx.caller, too_big).await.err().map(|e| e.code()), Some(-32602));
    Ok(())
}
