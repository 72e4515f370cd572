//! A2A tasks across two nodes: two services on one PostgreSQL store, each
//! with its own bus connection to the test Redis (as two processes would
//! have). A stream or a resumption on node B follows a run on node A live,
//! in order, without duplicates — also when the bus loses messages; a cancel
//! on B stops A's run; a follow-up on B to a task A asked input for runs on B.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use agentdeck_a2a_protocol::{
    Artifact, CancelTaskRequest, GetTaskRequest, Message, Part, SendMessageConfiguration, SendMessageRequest,
    SendMessageResponse, StreamResponse, Task, TaskState,
};
use agentdeck_domain::auth::{Principal, Role};
use agentdeck_services::a2a::{
    A2aCaller, A2aOptions, A2aService, AgentDescriptor, AgentExecutor, AgentFailure, AgentRequest, EventStream,
    TaskUpdater,
};
use agentdeck_services::agents::conformance::{self, ConformanceAgent};
use agentdeck_storage::testing::{TestDatabase, redis_url};
use agentdeck_storage::{AgentTaskStore, Bus, BusSubscription, ConnectOptions, RedisBus, connect};
use anyhow::{Context, bail, ensure};
use futures::StreamExt;

/// How many artifact chunks the ticker agent sends.
const TICKS: usize = 30;
/// The ticker agent's name.
const TICKER: &str = "ticker";

/// Works a task in many small steps, so that another node can watch it happen.
struct Ticker {
    descriptor: AgentDescriptor,
}

impl Ticker {
    fn new() -> Self {
        let descriptor = AgentDescriptor {
            name: TICKER.into(),
            display_name: "Ticker".into(),
            description: "Sends numbered artifact chunks".into(),
            skills: Vec::new(),
            output_modes: vec!["text/plain".into()],
            allow_anonymous: false,
        };
        Self { descriptor }
    }
}

#[async_trait::async_trait]
impl AgentExecutor for Ticker {
    fn descriptor(&self) -> &AgentDescriptor {
        &self.descriptor
    }

    async fn execute(&self, _request: AgentRequest, updates: TaskUpdater) -> Result<(), AgentFailure> {
        let stopped = |stopped: agentdeck_services::a2a::Stopped| AgentFailure(stopped.to_string());
        updates.working().await.map_err(stopped)?;
        for tick in 0..TICKS {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(25)) => {}
                () = updates.cancelled() => return Ok(()),
            }
            let chunk = Artifact {
                artifact_id: "ticks".into(),
                parts: vec![Part::text(tick.to_string())],
                ..Artifact::default()
            };
            updates.artifact(chunk, tick > 0, tick + 1 == TICKS).await.map_err(stopped)?;
        }
        updates.complete(Some("done")).await.map_err(stopped)
    }
}

/// A bus that loses every fourth message this node publishes (as pub/sub does
/// to a subscriber that reconnects): the other node must fill the gaps from the log.
struct LossyBus {
    inner: RedisBus,
    published: AtomicUsize,
}

#[async_trait::async_trait]
impl Bus for LossyBus {
    fn publish(&self, channel: &str, payload: String) {
        if self.published.fetch_add(1, Ordering::Relaxed) % 4 != 1 {
            self.inner.publish(channel, payload);
        }
    }

    fn subscribe(&self, channel: &str) -> BusSubscription {
        self.inner.subscribe(channel)
    }

    async fn ping(&self) -> Result<(), agentdeck_storage::StateError> {
        self.inner.ping().await
    }
}

struct Node {
    service: A2aService,
    runs: Arc<AtomicUsize>,
}

fn node(store: Arc<dyn AgentTaskStore>, bus: Arc<dyn Bus>) -> Node {
    let runs = Arc::new(AtomicUsize::new(0));
    // The store is read only when the bus says to (a gap, a reconnection), never on a timer:
    // what the streams get live came over the bus.
    let follow_poll = Duration::from_secs(3600);
    let options = A2aOptions { keep_events: 256, active_runs: runs.clone(), follow_poll, ..A2aOptions::default() };
    let agents: Vec<Arc<dyn AgentExecutor>> =
        vec![Arc::new(ConformanceAgent::new(Duration::from_secs(30))), Arc::new(Ticker::new())];
    Node { service: A2aService::on_bus(store, agents, options, Some(bus)), runs }
}

struct Cluster {
    _database: TestDatabase,
    a: Node,
    b: Node,
    caller: A2aCaller,
}

async fn cluster_with(bus_a: Arc<dyn Bus>) -> anyhow::Result<Cluster> {
    let database = TestDatabase::postgres().await?;
    let options = ConnectOptions { max_connections: 4, acquire_timeout: Duration::from_secs(30) };
    let stores = connect(&database.url, &options).await?;
    stores.database.migrate().await?;
    let bus_b: Arc<dyn Bus> = Arc::new(RedisBus::start(&redis_url())?);
    let a = node(stores.agent_tasks.clone(), bus_a);
    let b = node(stores.agent_tasks, bus_b);
    let person = Principal { subject: "ada".into(), workspace_id: uuid::Uuid::new_v4(), role: Role::Member };
    Ok(Cluster { _database: database, a, b, caller: A2aCaller::authenticated(person, None) })
}

async fn cluster() -> anyhow::Result<Cluster> {
    cluster_with(Arc::new(RedisBus::start(&redis_url())?)).await
}

fn immediately(id: &str, text: &str) -> SendMessageRequest {
    let mut request = SendMessageRequest::new(Message::user_text(id, text));
    request.configuration = Some(SendMessageConfiguration { return_immediately: true, ..Default::default() });
    request
}

async fn start(node: &Node, caller: &A2aCaller, agent: &str, id: &str) -> anyhow::Result<Task> {
    match node.service.send(agent, caller, immediately(id, "x")).await? {
        SendMessageResponse::Task(task) => Ok(task),
        SendMessageResponse::Message(message) => bail!("expected a task, got {message:?}"),
    }
}

async fn state_on(node: &Node, caller: &A2aCaller, agent: &str, id: &str) -> anyhow::Result<TaskState> {
    let request = GetTaskRequest { id: id.to_owned(), ..Default::default() };
    Ok(node.service.get_task(agent, caller, request).await?.status.state)
}

/// Waits until the task is in `state` as `node` reads it.
async fn until_state(node: &Node, caller: &A2aCaller, agent: &str, id: &str, state: TaskState) -> anyhow::Result<()> {
    for _ in 0..250 {
        if state_on(node, caller, agent, id).await? == state {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bail!("task {id} never reached {state:?}")
}

/// The events of a stream (seq, kind, state) until it ends.
async fn collect(stream: EventStream) -> anyhow::Result<Vec<(i64, &'static str, Option<TaskState>)>> {
    let events = tokio::time::timeout(Duration::from_secs(20), stream.collect::<Vec<_>>())
        .await
        .context("the stream did not end")?;
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

/// Checks that the events are consecutive from `first` and end with the completed status.
fn ensure_contiguous_to_completion(events: &[(i64, &str, Option<TaskState>)], first: i64) -> anyhow::Result<()> {
    let seqs: Vec<i64> = events.iter().map(|event| event.0).collect();
    let expected: Vec<i64> = (first..first + i64::try_from(seqs.len())?).collect();
    ensure!(seqs == expected, "in order, no gap, no duplicate: {seqs:?}");
    let last = events.last().context("some events")?;
    ensure!(*last == (3 + i64::try_from(TICKS)?, "status", Some(TaskState::Completed)), "ends completed: {last:?}");
    Ok(())
}

async fn streams_on_b_follow_a_run_on_a(cluster: &Cluster) -> anyhow::Result<()> {
    let Cluster { a, b, caller, .. } = cluster;
    let task = start(a, caller, TICKER, "ticks-1").await?;
    until_state(b, caller, TICKER, &task.id, TaskState::Working).await?;
    let subscribed = b.service.subscribe(TICKER, caller, &task.id, None).await?;
    let resumed = b.service.subscribe(TICKER, caller, &task.id, Some(1)).await?;

    let subscribed = collect(subscribed).await?;
    let (first_seq, kind, state) = subscribed[0];
    ensure!(kind == "task" && state == Some(TaskState::Working), "a snapshot first: {subscribed:?}");
    ensure!(subscribed.len() > 5, "most events arrived live: {subscribed:?}");
    ensure_contiguous_to_completion(&subscribed, first_seq)?;
    // A resumption after event 1 gets everything after it, the stored part and the live part.
    let resumed = collect(resumed).await?;
    ensure!(resumed[0] == (2, "status", Some(TaskState::Working)), "{resumed:?}");
    ensure_contiguous_to_completion(&resumed, 2)?;
    Ok(())
}

#[tokio::test]
async fn a_stream_on_node_b_follows_a_run_on_node_a_live_in_order_to_its_end() -> anyhow::Result<()> {
    streams_on_b_follow_a_run_on_a(&cluster().await?).await
}

#[tokio::test]
async fn events_the_bus_lost_are_filled_in_from_the_stored_log() -> anyhow::Result<()> {
    let lossy = LossyBus { inner: RedisBus::start(&redis_url())?, published: AtomicUsize::new(0) };
    streams_on_b_follow_a_run_on_a(&cluster_with(Arc::new(lossy)).await?).await
}

#[tokio::test]
async fn a_cancel_on_node_b_stops_the_run_on_node_a() -> anyhow::Result<()> {
    let Cluster { a, b, caller, .. } = &cluster().await?;
    let agent = conformance::NAME;
    let task = start(a, caller, agent, "tck-cancel-cluster").await?;
    until_state(b, caller, agent, &task.id, TaskState::Working).await?;
    ensure!(a.runs.load(Ordering::Relaxed) == 1, "node A runs the task");
    let watching_on_a = a.service.subscribe(agent, caller, &task.id, None).await?;

    let cancel = CancelTaskRequest { id: task.id.clone(), ..Default::default() };
    let canceled = b.service.cancel_task(agent, caller, cancel).await?;
    ensure!(canceled.status.state == TaskState::Canceled);
    // A's run ends well before its 30 s, and A's stream ends with the cancel.
    let events = collect(watching_on_a).await?;
    ensure!(events.last().is_some_and(|last| last.2 == Some(TaskState::Canceled)), "{events:?}");
    for _ in 0..250 {
        if a.runs.load(Ordering::Relaxed) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ensure!(a.runs.load(Ordering::Relaxed) == 0, "node A's run stopped");
    ensure!(state_on(a, caller, agent, &task.id).await? == TaskState::Canceled);
    Ok(())
}

#[tokio::test]
async fn a_follow_up_on_node_b_to_a_task_node_a_asked_input_for_runs_on_b() -> anyhow::Result<()> {
    let Cluster { a, b, caller, .. } = &cluster().await?;
    let agent = conformance::NAME;
    let task = start(a, caller, agent, "tck-input-required-cluster").await?;
    until_state(a, caller, agent, &task.id, TaskState::InputRequired).await?;
    let watching_on_a = a.service.subscribe(agent, caller, &task.id, None).await?;

    let mut follow_up = Message::user_text("tck-complete-task-follow-up", "more");
    follow_up.task_id = Some(task.id.clone());
    let answer = b.service.send(agent, caller, SendMessageRequest::new(follow_up)).await?;
    let SendMessageResponse::Task(answered) = answer else { bail!("expected a task") };
    ensure!(answered.status.state == TaskState::Completed, "B ran it: {:?}", answered.status.state);
    let events = collect(watching_on_a).await?;
    let states: Vec<_> = events.iter().map(|event| event.2).collect();
    ensure!(
        states == [Some(TaskState::InputRequired), Some(TaskState::Working), Some(TaskState::Completed)],
        "A's stream saw B's run: {events:?}"
    );
    Ok(())
}
