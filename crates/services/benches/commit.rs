//! Write-path benchmark (realtime-sync.md §4.2 T4): patch → validate → apply →
//! persist, through the dashboard service on the embedded SQLite store.
//!
//! `cargo bench -p agentdeck-services --bench commit` prints commits per second
//! and latency percentiles for sequential patches to one room and for patches
//! spread over many rooms from concurrent writers.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests and benches fail loudly on a broken fixture")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use agentdeck_domain::auth::{Principal, Role};
use agentdeck_domain::dashboard::codec::DEFAULT_COMPRESSION_THRESHOLD;
use agentdeck_domain::dashboard::document::StateLimits;
use agentdeck_services::dashboard::DashboardService;
use agentdeck_storage::testing::TestDatabase;
use agentdeck_storage::{ConnectOptions, StateOptions, connect};
use serde_json::json;
use uuid::Uuid;

const SEQUENTIAL: usize = 3_000;
const ROOMS: usize = 200;
const PER_ROOM: usize = 20;
const WRITERS: usize = 32;

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run())
}

fn patch(n: usize) -> serde_json::Value {
    json!([{ "op": "replace", "path": "/activeProject", "value": format!("project-{n}") }])
}

fn report(name: &str, mut latencies: Vec<Duration>, elapsed: Duration) {
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "{name}: {} commits in {:.2} s = {:.0} commits/s; p50 {:?} p99 {:?} max {:?}",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        at(0.50),
        at(0.99),
        at(1.0)
    );
}

async fn run() -> anyhow::Result<()> {
    let database = TestDatabase::sqlite()?;
    let store = connect(&database.url, &ConnectOptions::default()).await?;
    store.database.migrate().await?;
    let state =
        store.database.embedded_state(StateOptions::default()).ok_or_else(|| anyhow::anyhow!("no embedded state"))?;
    let service = DashboardService::new(state, StateLimits::default(), DEFAULT_COMPRESSION_THRESHOLD);
    let workspace_id = Uuid::now_v7();
    let principal = |user: usize| Principal { subject: format!("u{user}"), workspace_id, role: Role::Member };

    // One room, one writer after the other.
    let ada = principal(0);
    service.patch(&ada, &patch(0), None, None).await?;
    let mut latencies = Vec::with_capacity(SEQUENTIAL);
    let started = Instant::now();
    for n in 0..SEQUENTIAL {
        let at = Instant::now();
        service.patch(&ada, &patch(n), None, Some(format!("op-{n}"))).await?;
        latencies.push(at.elapsed());
    }
    report("one room, sequential", latencies, started.elapsed());

    // Many rooms, concurrent writers (each room written by one writer at a time, as its owner task does).
    for room in 1..=ROOMS {
        service.patch(&principal(room), &patch(0), None, None).await?;
    }
    let service = Arc::new(service);
    let started = Instant::now();
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let service = Arc::clone(&service);
        let rooms: Vec<Principal> = (1..=ROOMS).filter(|room| room % WRITERS == writer).map(principal).collect();
        writers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            for n in 0..PER_ROOM {
                for room in &rooms {
                    let at = Instant::now();
                    service.patch(room, &patch(n), None, Some(format!("op-{n}"))).await?;
                    latencies.push(at.elapsed());
                }
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for writer in writers {
        latencies.extend(writer.await??);
    }
    report(&format!("{ROOMS} rooms, {WRITERS} concurrent writers"), latencies, started.elapsed());
    Ok(())
}
