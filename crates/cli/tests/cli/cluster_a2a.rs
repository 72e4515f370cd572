//! A2A tasks and the gateway's live refresh across two real `agentdeck`
//! processes on one PostgreSQL database and a Redis server the test owns:
//! node B streams, resumes and cancels a task that node A's run works, and a
//! data change made through node B refreshes the dashboard of a user who
//! asked on node A.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use agentdeck_storage::testing::{OwnedRedis, TestDatabase};
use anyhow::{Context, bail, ensure};
use serde_json::{Value, json};

use super::{Server, agentdeck, serve_with};

const SECRET: &str = "cluster-test-secret-of-at-least-32-bytes";
/// How long the conformance agent's long-running tasks work here.
const LONG_RUN_SECS: u64 = 4;
/// Longest wait for a stream, a state or a refresh.
const WAIT: Duration = Duration::from_secs(20);

/// A cluster-mode node with its own data dir.
fn node(data_dir: &Path, database_url: &str, redis_url: &str) -> Command {
    let mut command = agentdeck(data_dir);
    command
        .env("AGENTDECK_DATABASE_URL", database_url)
        .env("AGENTDECK_REDIS_URL", redis_url)
        .env("AGENTDECK_AUTH__JWT_SECRET", SECRET)
        .env("AGENTDECK_A2A__CONFORMANCE_LONG_RUN_SECS", LONG_RUN_SECS.to_string());
    command
}

struct Cluster {
    a: Server,
    b: Server,
    token: String,
    client: reqwest::Client,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    _redis: OwnedRedis,
    _database: TestDatabase,
}

/// Two nodes, one after the other (the first migrates and seeds), and the demo owner's token.
async fn cluster() -> anyhow::Result<Cluster> {
    agentdeck_services::outbound::install_crypto_provider();
    let database = TestDatabase::postgres().await?;
    let redis = OwnedRedis::start()?;
    let (dir_a, dir_b) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let a = serve_with(node(dir_a.path(), &database.url, &redis.url()));
    let b = serve_with(node(dir_b.path(), &database.url, &redis.url()));
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let login: Value = client.post(format!("{}/api/dev/login", a.url)).send().await?.json().await?;
    let token = login["token"].as_str().context("a dev login token")?.to_owned();
    Ok(Cluster { a, b, token, client, _dirs: (dir_a, dir_b), _redis: redis, _database: database })
}

impl Cluster {
    /// One JSON-RPC call to the conformance agent on `node`.
    async fn rpc(&self, node: &Server, method: &str, params: Value) -> anyhow::Result<Value> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let response = self
            .client
            .post(format!("{}/a2a/conformance", node.url))
            .bearer_auth(&self.token)
            .header("A2A-Version", "1.0")
            .json(&body)
            .send()
            .await?;
        Ok(response.json().await?)
    }

    /// Starts a long-running task on `node` (answering at once); its id.
    async fn start_long_running(&self, node: &Server, message_id: &str) -> anyhow::Result<String> {
        let params = json!({
            "message": {"messageId": message_id, "role": "ROLE_USER", "parts": [{"text": "x"}]},
            "configuration": {"returnImmediately": true},
        });
        let sent = self.rpc(node, "SendMessage", params).await?;
        Ok(sent["result"]["task"]["id"].as_str().with_context(|| format!("a task: {sent}"))?.to_owned())
    }

    /// Waits until `node` reads the task in `state`.
    async fn until_state(&self, node: &Server, task_id: &str, state: &str) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            let got = self.rpc(node, "GetTask", json!({"id": task_id})).await?;
            if got["result"]["status"]["state"] == state {
                return Ok(());
            }
            ensure!(started.elapsed() < WAIT, "task {task_id} never reached {state}: {got}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Opens a `SubscribeToTask` stream on `node` (after `last_event_id`, when given).
    async fn subscribe(
        &self,
        node: &Server,
        task_id: &str,
        last_event_id: Option<i64>,
    ) -> anyhow::Result<reqwest::Response> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "SubscribeToTask", "params": {"id": task_id}});
        let mut request = self
            .client
            .post(format!("{}/a2a/conformance", node.url))
            .bearer_auth(&self.token)
            .header("A2A-Version", "1.0")
            .header("Accept", "text/event-stream")
            .json(&body);
        if let Some(seen) = last_event_id {
            request = request.header("Last-Event-ID", seen.to_string());
        }
        let response = request.send().await?;
        ensure!(response.status() == 200, "subscribed: {}", response.status());
        Ok(response)
    }
}

/// Reads an SSE stream to its end: `(id, kind, state)` of every event.
async fn read_events(mut response: reqwest::Response) -> anyhow::Result<Vec<(i64, String, String)>> {
    let mut events = Vec::new();
    let mut buffer = String::new();
    let mut id = 0;
    let deadline = tokio::time::Instant::now() + WAIT;
    while let Some(chunk) = tokio::time::timeout_at(deadline, response.chunk()).await.context("the stream ended")?? {
        buffer.push_str(std::str::from_utf8(&chunk)?);
        while let Some(end) = buffer.find('\n') {
            let line: String = buffer.drain(..=end).collect();
            if let Some(value) = line.strip_prefix("id:") {
                id = value.trim().parse()?;
            } else if let Some(data) = line.strip_prefix("data:") {
                let data: Value = serde_json::from_str(data.trim())?;
                let result = &data["result"];
                let (kind, state) = if let Some(task) = result.get("task") {
                    ("task", &task["status"]["state"])
                } else if let Some(update) = result.get("statusUpdate") {
                    ("status", &update["status"]["state"])
                } else if result.get("artifactUpdate").is_some() {
                    ("artifact", &Value::Null)
                } else {
                    bail!("an unexpected event: {data}");
                };
                events.push((id, kind.to_owned(), state.as_str().unwrap_or_default().to_owned()));
            }
        }
    }
    Ok(events)
}

fn event(id: i64, kind: &str, state: &str) -> (i64, String, String) {
    (id, kind.to_owned(), state.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_b_streams_resumes_and_cancels_a_task_that_node_a_runs() -> anyhow::Result<()> {
    let cluster = cluster().await?;
    let (a, b) = (&cluster.a, &cluster.b);

    // A works a task for a few seconds; B's subscriber gets the snapshot, then A's completion live.
    let task = cluster.start_long_running(a, "tck-long-running-cluster").await?;
    cluster.until_state(b, &task, "TASK_STATE_WORKING").await?;
    let live = cluster.subscribe(b, &task, None).await?;
    let resumed = cluster.subscribe(b, &task, Some(1)).await?;
    assert_eq!(
        read_events(live).await?,
        [event(2, "task", "TASK_STATE_WORKING"), event(3, "status", "TASK_STATE_COMPLETED")],
        "B's stream follows A's run to its end"
    );
    // A resumption on B after event 1 gets the rest from the log, then the live end.
    assert_eq!(
        read_events(resumed).await?,
        [event(2, "status", "TASK_STATE_WORKING"), event(3, "status", "TASK_STATE_COMPLETED")]
    );

    // A cancel on B ends the task and stops A's run: A's own stream ends with the cancel, at once.
    let task = cluster.start_long_running(a, "tck-cancel-cluster").await?;
    cluster.until_state(a, &task, "TASK_STATE_WORKING").await?;
    let on_a = cluster.subscribe(a, &task, None).await?;
    let canceled = cluster.rpc(b, "CancelTask", json!({"id": task})).await?;
    assert_eq!(canceled["result"]["status"]["state"], "TASK_STATE_CANCELED", "{canceled}");
    let started = Instant::now();
    assert_eq!(
        read_events(on_a).await?,
        [event(2, "task", "TASK_STATE_WORKING"), event(3, "status", "TASK_STATE_CANCELED")]
    );
    assert!(started.elapsed() < Duration::from_secs(LONG_RUN_SECS), "A heard the cancel, not its own end");
    // Past the run's natural end nothing more was written: the run stopped.
    tokio::time::sleep(Duration::from_secs(LONG_RUN_SECS)).await;
    let after = read_events(cluster.subscribe(a, &task, Some(2)).await?).await?;
    assert_eq!(after, [event(3, "status", "TASK_STATE_CANCELED")]);
    Ok(())
}

/// The Website Redesign widget's completed task count on `node`'s copy of the dashboard.
async fn tasks_completed(cluster: &Cluster, node: &Server, widget_id: &str) -> anyhow::Result<Option<u64>> {
    let request = cluster.client.get(format!("{}/api/dashboard/state", node.url)).bearer_auth(&cluster.token);
    let state: Value = request.send().await?.json().await?;
    Ok(state["document"]["widgets"][widget_id]["data"]["tasksCompleted"].as_u64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_made_through_node_b_refreshes_the_answer_of_a_user_who_asked_on_node_a() -> anyhow::Result<()> {
    let cluster = cluster().await?;
    let (a, b, client, token) = (&cluster.a, &cluster.b, &cluster.client, &cluster.token);
    let ask = json!({"question": "status of my active projects"});
    let answer: Value =
        client.post(format!("{}/api/ask", a.url)).bearer_auth(token).json(&ask).send().await?.json().await?;
    let website = answer["widgets"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|widget| widget["type"] == "ProjectStatus" && widget["data"]["projectName"] == "Website Redesign")
        .with_context(|| format!("a Website Redesign widget: {answer}"))?;
    let widget_id = website["id"].as_str().context("a widget id")?.to_owned();
    let before = website["data"]["tasksCompleted"].as_u64().context("a count")?;

    // Someone finishes a Website Redesign task through node B.
    let tasks: Value =
        client.get(format!("{}/api/tasks?limit=200", b.url)).bearer_auth(token).send().await?.json().await?;
    let navigation = tasks["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|task| task["title"] == "Build responsive navigation")
        .context("the seeded task")?;
    let path = format!("{}/api/tasks/{}", b.url, navigation["id"].as_str().unwrap_or_default());
    let patched = client.patch(path).bearer_auth(token).json(&json!({"status": "done"})).send().await?;
    ensure!(patched.status() == 200, "{}", patched.text().await?);

    // Node A, where the question is remembered, asks again and writes the new answer.
    let started = Instant::now();
    while tasks_completed(&cluster, a, &widget_id).await? != Some(before + 1) {
        ensure!(started.elapsed() < WAIT, "node A never refreshed {widget_id}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}
