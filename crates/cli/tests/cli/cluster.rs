//! Cluster mode with two real `agentdeck` processes sharing PostgreSQL and a
//! Redis server the test owns: a change made on one node reaches a tab on the
//! other, in order, including after the nodes lose their pub/sub connection.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use agentdeck_loadgen::client::{Event, SyncClient};
use agentdeck_loadgen::target::Target;
use agentdeck_storage::testing::{OwnedRedis, TestDatabase};
use anyhow::Context;
use serde_json::{Value, json};

use super::{Server, agentdeck, run, serve_with};

const DEMO_WORKSPACE: &str = "00000000-0000-7000-8000-000000000001";
const SECRET: &str = "cluster-test-secret-of-at-least-32-bytes";
/// Longest wait for one frame.
const FRAME_TIMEOUT: Duration = Duration::from_secs(10);

/// A cluster-mode command for a node with its own data dir.
fn node(data_dir: &Path, database_url: &str, redis_url: &str) -> Command {
    let mut command = agentdeck(data_dir);
    command
        .env("AGENTDECK_DATABASE_URL", database_url)
        .env("AGENTDECK_REDIS_URL", redis_url)
        .env("AGENTDECK_AUTH__JWT_SECRET", SECRET);
    command
}

fn token(data_dir: &Path, user: &str) -> String {
    let output = run(agentdeck(data_dir).env("AGENTDECK_AUTH__JWT_SECRET", SECRET).args([
        "token",
        "--workspace",
        DEMO_WORKSPACE,
        "--user",
        user,
        "--role",
        "member",
    ]));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8 token").trim().to_owned()
}

/// Opens `/api/sync` on `server` (the load generator's checked `dash.v1` client) and subscribes;
/// returns the socket and the version it holds.
async fn subscribe(server: &Server, token: &str) -> anyhow::Result<(SyncClient, u64)> {
    let mut client = SyncClient::connect(&Target::parse(&server.url)?, 0, token).await?;
    client.subscribe(false).await?;
    let v = client.position.as_ref().map(|position| position.v).context("a position after sub")?;
    Ok((client, v))
}

/// Sends one patch setting `/activeProject` to `p<n>` and waits for its ack; returns the version.
async fn patch(client: &mut SyncClient, base: u64, n: u64) -> anyhow::Result<u64> {
    let op = format!("op-{n}");
    let ops = json!([{ "op": "add", "path": "/activeProject", "value": format!("p{n}") }]);
    client.send_patch(op.clone(), base, ops, "writer").await?;
    loop {
        match client.next_event(FRAME_TIMEOUT).await? {
            Event::Ack { op: acked, v } if acked == op => {
                // The writer gets no echo of its own change: it now holds `v`.
                if let Some(position) = &mut client.position {
                    position.v = v;
                }
                return Ok(v);
            }
            Event::Reject { code, .. } => anyhow::bail!("patch {n} rejected: {code}"),
            _ => {}
        }
    }
}

/// Reads deltas until the client holds `until`; each must follow the version held (the client
/// checks). Returns the counter values in the order they arrived.
async fn follow(client: &mut SyncClient, until: u64) -> anyhow::Result<Vec<u64>> {
    let mut counters = Vec::new();
    while client.position.as_ref().is_some_and(|position| position.v < until) {
        match client.next_event(FRAME_TIMEOUT).await? {
            Event::Delta { check, ops } => {
                anyhow::ensure!(check.is_next(), "gap or duplicate: {check:?}");
                counters.extend(ops[0]["value"].as_str().and_then(counter_of));
            }
            Event::Pinged => {}
            other => anyhow::bail!("expected only deltas, got {other:?}"),
        }
    }
    Ok(counters)
}

/// `n` of a `p<n>` value.
fn counter_of(value: &str) -> Option<u64> {
    value.strip_prefix('p')?.parse().ok()
}

/// `PATCH /api/dashboard/state` setting `/activeProject` on `node`.
async fn rest_patch(node: &Server, token: &str, value: &str) -> anyhow::Result<()> {
    agentdeck_services::outbound::install_crypto_provider();
    let response = reqwest::Client::new()
        .patch(format!("{}/api/dashboard/state", node.url))
        .bearer_auth(token)
        .header("content-type", "application/json-patch+json")
        .body(json!([{ "op": "add", "path": "/activeProject", "value": value }]).to_string())
        .send()
        .await?;
    anyhow::ensure!(response.status() == 200, "{}", response.text().await?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_on_one_node_reaches_a_tab_on_the_other_in_order() -> anyhow::Result<()> {
    let database = TestDatabase::postgres().await?;
    let mut redis = OwnedRedis::start()?;
    let (dir_a, dir_b) = (tempfile::tempdir()?, tempfile::tempdir()?);
    // One after the other: the first node migrates and seeds, the second finds both done.
    let node_a = serve_with(node(dir_a.path(), &database.url, &redis.url()));
    let node_b = serve_with(node(dir_b.path(), &database.url, &redis.url()));
    let token = token(dir_a.path(), "cluster-user");

    // The first write starts the room's epoch (subscribers of an empty room get a snapshot then).
    rest_patch(&node_a, &token, "p0").await?;
    let (mut writer, start) = subscribe(&node_a, &token).await?;
    let (mut reader, reader_start) = subscribe(&node_b, &token).await?;
    assert_eq!(start, reader_start, "both nodes serve the same state");

    // Patches over node A's socket reach node B's tab as contiguous deltas, in commit order.
    let mut version = start;
    for n in 1..=20 {
        version = patch(&mut writer, version, n).await?;
    }
    assert_eq!(follow(&mut reader, version).await?, (1..=20).collect::<Vec<_>>());

    // And the other way round.
    let back = patch(&mut reader, version, 100).await?;
    assert_eq!(follow(&mut writer, back).await?, vec![100]);
    version = back;

    // A REST write on node B reaches node A's tab.
    rest_patch(&node_b, &token, "p200").await?;
    assert_eq!(follow(&mut writer, version + 1).await?, vec![200]);
    let _reader_saw_it = follow(&mut reader, version + 1).await?;
    version += 1;

    // Both nodes lose their pub/sub connections (as when Redis kills a slow subscriber): commits made
    // meanwhile are filled in from the history once the nodes resubscribe, without a gap.
    let killed = Command::new("redis-cli")
        .args(["-p", &redis.port().to_string(), "CLIENT", "KILL", "TYPE", "pubsub"])
        .output()?;
    assert!(killed.status.success(), "{}", String::from_utf8_lossy(&killed.stderr));
    // Per node, the dashboard change feed's and the bus's (A2A task events, project data changes).
    assert_eq!(String::from_utf8_lossy(&killed.stdout).trim(), "4", "two pub/sub connections per node");
    for n in 300..310 {
        version = patch(&mut writer, version, n).await?;
    }
    assert_eq!(follow(&mut reader, version).await?, (300..310).collect::<Vec<_>>());

    // The REST view of both nodes agrees with the sockets.
    agentdeck_services::outbound::install_crypto_provider();
    for node in [&node_a, &node_b] {
        let response =
            reqwest::Client::new().get(format!("{}/api/dashboard/state", node.url)).bearer_auth(&token).send().await?;
        let etag = response.headers().get("etag").and_then(|value| value.to_str().ok()).map(str::to_owned);
        let body: Value = response.json().await?;
        assert_eq!(body["document"]["activeProject"], "p309", "{body}");
        assert!(etag.is_some_and(|etag| etag.ends_with(&format!(".{version}\""))));
    }
    redis.stop();
    Ok(())
}
