//! Retried A2A sends: without an `Idempotency-Key` every send is new (a
//! repeated messageId too); with one, a retry gets the first outcome, within
//! the caller's scope and the key's lifetime.

use std::sync::Arc;
use std::time::Duration;

use agentdeck_a2a_protocol::{
    CancelTaskRequest, ListTasksRequest, SendMessageRequest, SendMessageResponse, Task, TaskState,
};
use agentdeck_services::a2a::{A2aCaller, A2aOptions, A2aService};
use agentdeck_services::agents::conformance::{ConformanceAgent, NAME};
use agentdeck_services::metering::{Encoding, Meter};
use agentdeck_storage::agent_tasks::AgentTaskScope;
use agentdeck_storage::testing::TestDatabase;
use agentdeck_storage::{ConnectOptions, connect};
use anyhow::bail;
use futures::StreamExt;

use super::a2a::{LONG_RUN, collect, fixture, immediately, person, send, task_of};

/// A service over the fixture's store with other options.
fn service_with(fx: &super::a2a::Fixture, options: A2aOptions) -> A2aService {
    A2aService::new(fx.store.clone(), vec![Arc::new(ConformanceAgent::new(LONG_RUN))], options)
}

async fn keyed_task(
    service: &A2aService,
    caller: &A2aCaller,
    key: &str,
    request: SendMessageRequest,
) -> anyhow::Result<Task> {
    match service.send_with_key(NAME, caller, request, Some(key)).await? {
        SendMessageResponse::Task(task) => Ok(task),
        SendMessageResponse::Message(message) => bail!("expected a task, got the message {message:?}"),
    }
}

#[tokio::test]
async fn a_repeated_message_id_without_a_key_is_a_new_task_even_after_the_first_finished_or_was_canceled()
-> anyhow::Result<()> {
    let fx = fixture().await?;
    let finished = task_of(&fx, send("tck-complete-task-9", "hi")).await?;
    let again = task_of(&fx, send("tck-complete-task-9", "hi")).await?;
    assert_ne!(again.id, finished.id);
    assert_eq!(again.status.state, TaskState::Completed);

    let running = task_of(&fx, immediately(send("tck-long-running-9", "x"))).await?;
    let cancel = CancelTaskRequest { id: running.id.clone(), ..Default::default() };
    fx.service.cancel_task(NAME, &fx.caller, cancel).await?;
    let restarted = task_of(&fx, immediately(send("tck-long-running-9", "x"))).await?;
    assert_ne!(restarted.id, running.id, "a canceled task is not the answer to a new send");
    assert!(!restarted.status.state.is_terminal(), "{:?}", restarted.status.state);
    let listed = fx.service.list_tasks(NAME, &fx.caller, ListTasksRequest::default()).await?;
    assert_eq!(listed.total_size, 4);
    Ok(())
}

#[tokio::test]
async fn the_same_key_gets_the_first_outcome_and_other_params_are_refused() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let first = keyed_task(&fx.service, &fx.caller, "retry-1", send("tck-complete-task-1", "hi")).await?;
    let retry = keyed_task(&fx.service, &fx.caller, "retry-1", send("tck-complete-task-1", "hi")).await?;
    assert_eq!((retry.id.as_str(), retry.status.state), (first.id.as_str(), TaskState::Completed));

    let other = fx.service.send_with_key(NAME, &fx.caller, send("tck-complete-task-1", "bye"), Some("retry-1")).await;
    let Err(refused) = other else { bail!("the same key with other params must be refused") };
    assert_eq!(refused.code(), -32602);
    let details = refused.to_rest().to_string();
    assert!(details.contains("Idempotency-Key") && details.contains("other params"), "{details}");

    // A direct reply is remembered as it was: the retry gets the same message.
    let reply = |key| fx.service.send_with_key(NAME, &fx.caller, send("tck-message-response-1", "x"), Some(key));
    let (SendMessageResponse::Message(once), SendMessageResponse::Message(twice)) =
        (reply("r").await?, reply("r").await?)
    else {
        bail!("expected direct replies");
    };
    assert_eq!(once, twice);
    // Another key, or another caller with the same key, is another send.
    let bob = A2aCaller::authenticated(person("bob"), None);
    let bobs = keyed_task(&fx.service, &bob, "retry-1", send("tck-complete-task-1", "hi")).await?;
    assert_ne!(bobs.id, first.id);
    let fresh = keyed_task(&fx.service, &fx.caller, "retry-2", send("tck-complete-task-1", "hi")).await?;
    assert_ne!(fresh.id, first.id);
    Ok(())
}

#[tokio::test]
async fn anonymous_callers_at_different_addresses_never_share_a_key() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let (here, there) = (A2aCaller::anonymous_at("192.0.2.1"), A2aCaller::anonymous_at("192.0.2.2"));
    let mine = keyed_task(&fx.service, &here, "k", send("tck-complete-task-1", "hi")).await?;
    let theirs = keyed_task(&fx.service, &there, "k", send("tck-complete-task-1", "hi")).await?;
    assert_ne!(mine.id, theirs.id);
    let mine_again =
        keyed_task(&fx.service, &A2aCaller::anonymous_at("192.0.2.1"), "k", send("tck-complete-task-1", "hi")).await?;
    assert_eq!(mine_again.id, mine.id);
    Ok(())
}

#[tokio::test]
async fn an_expired_key_is_a_new_send_and_is_purged() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let ttl = Duration::from_millis(400);
    let service = service_with(&fx, A2aOptions { idempotency_ttl: ttl, ..A2aOptions::default() });
    let first = keyed_task(&service, &fx.caller, "k", send("tck-complete-task-1", "hi")).await?;
    let retry = keyed_task(&service, &fx.caller, "k", send("tck-complete-task-1", "hi")).await?;
    assert_eq!(retry.id, first.id, "within the ttl");
    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    let later = keyed_task(&service, &fx.caller, "k", send("tck-complete-task-1", "hi")).await?;
    assert_ne!(later.id, first.id, "an expired key reads as absent");
    // The key now names the new task, and expires in its turn.
    assert_eq!(keyed_task(&service, &fx.caller, "k", send("tck-complete-task-1", "hi")).await?.id, later.id);
    keyed_task(&service, &fx.caller, "other", send("tck-complete-task-1", "hi")).await?;
    let scope =
        AgentTaskScope { tenant: uuid::Uuid::from_u128(1).to_string(), owner: "ada".into(), agent: NAME.into() };
    assert!(fx.store.idempotency_key(&scope, "other", chrono::Utc::now()).await?.is_some(), "recorded in ada's scope");
    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    // Deleted by the service's own sweep (every second here) or by this purge:
    // gone from the store even for a clock that would still see them.
    service.purge_expired_idempotency_keys().await?;
    for key in ["k", "other"] {
        assert_eq!(fx.store.idempotency_key(&scope, key, chrono::DateTime::UNIX_EPOCH).await?, None, "{key}");
    }
    Ok(())
}

#[tokio::test]
async fn a_blocking_retry_of_a_running_task_waits_like_a_blocking_send() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let options = A2aOptions { blocking_timeout: Duration::from_millis(500), ..A2aOptions::default() };
    let service = service_with(&fx, options);
    let first = keyed_task(&service, &fx.caller, "k", send("tck-long-running-2", "x")).await?;
    assert_eq!(first.status.state, TaskState::Working, "the blocking timeout passed");
    let retry = {
        let (service, caller) = (service.clone(), fx.caller.clone());
        tokio::spawn(
            async move { service.send_with_key(NAME, &caller, send("tck-long-running-2", "x"), Some("k")).await },
        )
    };
    // The retry waits for the task's end, which the cancel brings before the blocking timeout.
    tokio::time::sleep(Duration::from_millis(100)).await;
    service.cancel_task(NAME, &fx.caller, CancelTaskRequest { id: first.id.clone(), ..Default::default() }).await?;
    let SendMessageResponse::Task(retried) = retry.await?? else { bail!("expected a task") };
    assert_eq!((retried.id.as_str(), retried.status.state), (first.id.as_str(), TaskState::Canceled));
    // A returnImmediately send retried answers at once with the task as it is.
    let quick = keyed_task(&service, &fx.caller, "q", immediately(send("tck-long-running-3", "x"))).await?;
    let quick_again = keyed_task(&service, &fx.caller, "q", immediately(send("tck-long-running-3", "x"))).await?;
    assert_eq!(quick_again.id, quick.id);
    assert!(!quick_again.status.state.is_terminal());
    Ok(())
}

#[tokio::test]
async fn a_streaming_retry_replays_the_same_events_with_the_same_ids_then_goes_on_live() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let stream = |key: &'static str, id: &'static str| {
        fx.service.send_streaming_with_key(NAME, &fx.caller, send(id, "x"), Some(key))
    };
    let whole = |events: Vec<agentdeck_services::a2a::SequencedEvent>| {
        events
            .into_iter()
            .map(|e| (e.seq, serde_json::to_value(e.event.as_ref()).unwrap_or_default()))
            .collect::<Vec<_>>()
    };
    let first = whole(stream("s", "tck-stream-001-a").await?.collect().await);
    let replayed = whole(stream("s", "tck-stream-001-a").await?.collect().await);
    assert_eq!(first.iter().map(|e| e.0).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert_eq!(replayed, first, "the same task's events, ids and bodies");

    // A retry while the task runs replays what happened, then follows it live to its end.
    let mut live = stream("l", "tck-long-running-4").await?;
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let Some(event) = tokio::time::timeout(Duration::from_secs(10), live.next()).await? else { bail!("ended") };
        seen.push(event.seq);
    }
    let retry = stream("l", "tck-long-running-4").await?;
    let task_id = match fx.service.list_tasks(NAME, &fx.caller, ListTasksRequest::default()).await?.tasks.first() {
        Some(task) => task.id.clone(),
        None => bail!("no task"),
    };
    fx.service.cancel_task(NAME, &fx.caller, CancelTaskRequest { id: task_id, ..Default::default() }).await?;
    let retried = collect(retry, Duration::from_secs(10)).await?;
    assert_eq!(
        retried,
        [
            (1, "task", Some(TaskState::Submitted)),
            (2, "status", Some(TaskState::Working)),
            (3, "status", Some(TaskState::Canceled))
        ]
    );
    Ok(())
}

#[tokio::test]
async fn a_retry_is_not_metered_again() -> anyhow::Result<()> {
    let database = TestDatabase::sqlite()?;
    let options = ConnectOptions { max_connections: 4, acquire_timeout: Duration::from_secs(30) };
    let stores = connect(&database.url, &options).await?;
    stores.database.migrate().await?;
    let meter = Meter::new(&stores, Encoding::default(), None);
    let options = A2aOptions { meter: Some(meter.clone()), ..A2aOptions::default() };
    let service = A2aService::new(stores.agent_tasks.clone(), vec![Arc::new(ConformanceAgent::new(LONG_RUN))], options);
    let ada = A2aCaller::authenticated(person("ada"), None);
    let workspace = uuid::Uuid::from_u128(1).to_string();
    keyed_task(&service, &ada, "k", send("tck-complete-task-1", "count these words once")).await?;
    let once = usage_of(&meter, &workspace).await?;
    assert!(once.0 > 0, "{once:?}");
    keyed_task(&service, &ada, "k", send("tck-complete-task-1", "count these words once")).await?;
    assert_eq!(usage_of(&meter, &workspace).await?, once);
    // Without the key the same message is a new send, counted again.
    task_of_service(&service, &ada, send("tck-complete-task-1", "count these words once")).await?;
    assert!(usage_of(&meter, &workspace).await?.0 > once.0);
    Ok(())
}

async fn usage_of(meter: &Meter, workspace: &str) -> anyhow::Result<(i64, i64)> {
    let days = meter.usage(workspace, 1).await?;
    Ok(days.iter().fold((0, 0), |sum, day| (sum.0 + day.tokens_in, sum.1 + day.tokens_out)))
}

async fn task_of_service(
    service: &A2aService,
    caller: &A2aCaller,
    request: SendMessageRequest,
) -> anyhow::Result<Task> {
    match service.send(NAME, caller, request).await? {
        SendMessageResponse::Task(task) => Ok(task),
        SendMessageResponse::Message(message) => bail!("expected a task, got the message {message:?}"),
    }
}

#[tokio::test]
async fn concurrent_duplicates_meet_at_the_store_and_all_get_the_winners_task() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let sends = (0..8).map(|_| {
        let (service, caller) = (fx.service.clone(), fx.caller.clone());
        tokio::spawn(async move {
            keyed_task(&service, &caller, "race", immediately(send("tck-long-running-5", "x"))).await
        })
    });
    let mut ids = Vec::new();
    for send in sends.collect::<Vec<_>>() {
        ids.push(send.await??.id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let listed = fx.service.list_tasks(NAME, &fx.caller, ListTasksRequest::default()).await?;
    assert_eq!(listed.total_size, 1, "the losers wrote nothing");
    Ok(())
}

#[tokio::test]
async fn a_streaming_retry_of_a_follow_up_replays_from_the_follow_up() -> anyhow::Result<()> {
    let fx = fixture().await?;
    let parked = task_of(&fx, send("tck-input-required-7", "start")).await?;
    assert_eq!(parked.status.state, TaskState::InputRequired);
    let follow_up = || {
        let mut request = send("m-answer", "the input");
        if let Some(message) = request.message.as_mut() {
            message.task_id = Some(parked.id.clone());
        }
        fx.service.send_streaming_with_key(NAME, &fx.caller, request, Some("answer"))
    };
    let first = collect(follow_up().await?, Duration::from_secs(10)).await?;
    let replayed = collect(follow_up().await?, Duration::from_secs(10)).await?;
    let seqs = |events: &[(i64, &str, Option<TaskState>)]| events.iter().map(|e| e.0).collect::<Vec<_>>();
    assert_eq!(seqs(&replayed), seqs(&first), "{first:?} {replayed:?}");
    assert!(first[0].0 > 1, "the follow-up's stream starts after the task's first send: {first:?}");
    // The first stream opened with the task as it was; the replay has the logged event of that number.
    assert_eq!(first[0].2, replayed[0].2);
    assert_eq!(first[1..], replayed[1..]);
    assert_eq!(replayed.last().and_then(|e| e.2), Some(TaskState::Completed));
    Ok(())
}
