//! The in-process A2A transport and its fault wrapper, over the real task
//! service, agents and (SQLite) records store: a message sent through it is
//! a task of the caller's like any other, what the caller hands over is what
//! the agent answers from, and the faults of `a2a.faults` apply in front of it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use agentdeck_a2a_protocol::{
    ListTasksRequest, Message, PartContent, SendMessageRequest, SendMessageResponse, Task, TaskState,
};
use agentdeck_domain::auth::{Principal, Role};
use agentdeck_services::a2a::transport::{
    AgentTransport, CallerContext, FaultyTransport, InProcessTransport, InjectedFault, TransportError,
};
use agentdeck_services::a2a::{A2aCaller, A2aService, Handover, WorkspaceRecords};
use agentdeck_services::seed::DEMO_WORKSPACE_ID;
use agentdeck_storage::Stores;
use agentdeck_storage::testing::TestDatabase;
use anyhow::{Context, bail};
use serde_json::Value;

use crate::agents::demo_agents;

const DEADLINE: Duration = Duration::from_secs(10);

struct Fixture {
    _database: TestDatabase,
    stores: Stores,
    service: A2aService,
    transport: Arc<InProcessTransport>,
}

async fn fixture() -> anyhow::Result<Fixture> {
    let (database, stores, service) = demo_agents().await?;
    let transport = Arc::new(InProcessTransport::new());
    transport.attach(&service);
    Ok(Fixture { _database: database, stores, service, transport })
}

fn owner() -> Principal {
    Principal { subject: "demo".into(), workspace_id: DEMO_WORKSPACE_ID, role: Role::Owner }
}

fn caller(handover: Handover) -> CallerContext {
    CallerContext { principal: Some(owner()), bearer: Some("token".into()), traceparent: None, handover }
}

fn question(id: &str, text: &str) -> SendMessageRequest {
    SendMessageRequest::new(Message::user_text(id, text))
}

fn task_of(response: SendMessageResponse) -> anyhow::Result<Task> {
    match response {
        SendMessageResponse::Task(task) => Ok(task),
        SendMessageResponse::Message(message) => bail!("expected a task, got {message:?}"),
    }
}

fn widgets_of(task: &Task) -> anyhow::Result<Vec<Value>> {
    let artifact = task.artifacts.first().context("no artifact")?;
    let data = artifact
        .parts
        .iter()
        .find_map(|part| match &part.content {
            PartContent::Data(data) => Some(data.clone()),
            _ => None,
        })
        .context("no data part")?;
    data["widgets"].as_array().cloned().context("no widgets")
}

fn project_names(widgets: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = widgets
        .iter()
        .filter(|w| w["type"] == "ProjectStatus")
        .filter_map(|w| w["data"]["projectName"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

async fn tasks_of_owner(fx: &Fixture, agent: &str) -> anyhow::Result<Vec<Task>> {
    let caller = A2aCaller::authenticated(owner(), None);
    Ok(fx.service.list_tasks(agent, &caller, ListTasksRequest::default()).await?.tasks)
}

#[tokio::test]
async fn a_message_sent_in_process_is_a_stored_task_of_the_caller() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let sent = fx.transport.send("navi", question("t-1", "status"), &caller(Handover::default()), DEADLINE).await?;
    let task = task_of(sent)?;
    assert_eq!(task.status.state, TaskState::Completed, "{task:?}");
    assert_eq!(project_names(&widgets_of(&task)?).len(), 4, "the four active seeded projects");
    // The same task the A2A routes would list for this caller, with its whole lifecycle stored.
    let listed = tasks_of_owner(&fx, "navi").await?;
    assert_eq!(listed.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), [task.id.as_str()]);
    assert_eq!(listed[0].status.state, TaskState::Completed);
    // Submitted, then the answer's artifact and the completion (stored in one write, logged as two events).
    let stored = fx.stores.agent_tasks.agent_task_events(&scope_of("navi"), &task.id, 0).await?;
    let logged: Vec<(i64, Option<&str>)> = stored
        .iter()
        .map(|event| (event.seq, event.body.as_object().and_then(|body| body.keys().next()).map(String::as_str)))
        .collect();
    assert_eq!(logged, [(1, Some("task")), (2, Some("artifactUpdate")), (3, Some("statusUpdate"))]);
    assert_eq!(stored[2].body["statusUpdate"]["status"]["state"], "TASK_STATE_COMPLETED");
    Ok(())
}

fn scope_of(agent: &str) -> agentdeck_storage::agent_tasks::AgentTaskScope {
    agentdeck_storage::agent_tasks::AgentTaskScope {
        tenant: DEMO_WORKSPACE_ID.to_string(),
        owner: "demo".into(),
        agent: agent.into(),
    }
}

#[tokio::test]
async fn the_projects_handed_over_are_the_ones_the_agents_answer_from() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let every_project = agentdeck_domain::records::ProjectFilter::default();
    let page = agentdeck_domain::page::PageRequest::first(200);
    let mut projects = fx.stores.projects.list_projects(DEMO_WORKSPACE_ID, &every_project, page).await?.items;
    // A name only the handed-over copy has: an agent that read the store again could not know it.
    let website = projects.iter_mut().find(|p| p.name == "Website Redesign").context("seeded project")?;
    website.name = "Website Relaunch".into();
    let records = WorkspaceRecords { workspace_id: DEMO_WORKSPACE_ID, projects };
    let handover = Handover { records: Some(Arc::new(records)), caller_checks_widgets: true };
    for (agent, text) in [("navi", "status"), ("pulse", "how is Website Relaunch doing")] {
        let caller = caller(handover.clone());
        let task = task_of(fx.transport.send(agent, question(&format!("h-{agent}"), text), &caller, DEADLINE).await?)?;
        assert_eq!(task.status.state, TaskState::Completed, "{agent}: {task:?}");
        let widgets = widgets_of(&task)?;
        match agent {
            "navi" => assert!(project_names(&widgets).contains(&"Website Relaunch".to_owned())),
            _ => assert_eq!(widgets[0]["title"], "Health of Website Relaunch", "{widgets:?}"),
        }
    }
    let activity = question("h-herald", "activity of Website Relaunch");
    let task = task_of(fx.transport.send("herald", activity, &caller(handover.clone()), DEADLINE).await?)?;
    let widgets = widgets_of(&task)?;
    assert_eq!(widgets[0]["title"], "Recent activity in Website Relaunch", "{widgets:?}");

    // Records of another workspace are not this caller's: the agent reads its own.
    let mut foreign = handover.records.as_deref().cloned().context("records")?;
    foreign.workspace_id = uuid::Uuid::from_u128(99);
    let handover = Handover { records: Some(Arc::new(foreign)), caller_checks_widgets: false };
    let task = task_of(fx.transport.send("navi", question("h-other", "status"), &caller(handover), DEADLINE).await?)?;
    let names = project_names(&widgets_of(&task)?);
    assert!(names.contains(&"Website Redesign".to_owned()) && names.len() == 4, "{names:?}");
    Ok(())
}

#[tokio::test]
async fn without_a_running_service_the_transport_says_so() -> anyhow::Result<()> {
    let unattached = InProcessTransport::new();
    let outcome = unattached.send("navi", question("u-1", "status"), &caller(Handover::default()), DEADLINE).await;
    assert!(matches!(outcome, Err(TransportError::Unavailable(_))), "{outcome:?}");
    // It does not keep the service alive: once the server drops it, calls are refused, not served.
    let fx = fixture().await?;
    let transport = fx.transport.clone();
    drop(fx);
    let outcome = transport.send("navi", question("u-2", "status"), &caller(Handover::default()), DEADLINE).await;
    let error = outcome.err().context("a call to a dropped service")?;
    assert_eq!(error.to_string(), "the A2A service hosting the agents is not running");
    Ok(())
}

#[tokio::test]
async fn faults_delay_or_fail_the_calls_in_front_of_the_agent() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let faults = HashMap::from([
        ("navi".to_owned(), InjectedFault { delay: Duration::from_millis(150), fail: false }),
        ("pulse".to_owned(), InjectedFault { delay: Duration::ZERO, fail: true }),
    ]);
    let faulty = FaultyTransport::new(fx.transport.clone(), faults);
    let started = Instant::now();
    let task = task_of(faulty.send("navi", question("f-1", "status"), &caller(Handover::default()), DEADLINE).await?)?;
    assert!(started.elapsed() >= Duration::from_millis(150), "{:?}", started.elapsed());
    assert_eq!(task.status.state, TaskState::Completed);
    // The delay counts against the deadline.
    let late =
        faulty.send("navi", question("f-2", "status"), &caller(Handover::default()), Duration::from_millis(50)).await;
    assert!(matches!(late, Err(TransportError::Deadline(_))), "{late:?}");
    let failed = faulty.send("pulse", question("f-3", "risks"), &caller(Handover::default()), DEADLINE).await;
    let error = failed.err().context("pulse is set to fail")?;
    assert_eq!(error.to_string(), "the agent refused: internal error: fault injected in front of pulse (a2a.faults)");
    assert!(tasks_of_owner(&fx, "pulse").await?.is_empty(), "a fault in front of the agent makes no task");
    // Agents without a fault are reached as they are.
    let task =
        task_of(faulty.send("herald", question("f-4", "activity"), &caller(Handover::default()), DEADLINE).await?)?;
    assert_eq!(task.status.state, TaskState::Completed);
    Ok(())
}
