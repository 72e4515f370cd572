//! Snapshot compression benchmark (realtime-sync.md §4.2 T8): how much gzip
//! shrinks a dashboard snapshot and how long it takes, for documents of
//! 20–200 KB as a busy dashboard reaches.
//!
//! `cargo bench -p agentdeck-services --bench snapshot` prints, per size, the
//! JSON and gzip bytes, the ratio and the time per 100 KB of JSON.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests and benches fail loudly on a broken fixture")]

use std::time::Instant;

use agentdeck_services::sync::gzip_frame;
use serde_json::{Value, json};

const NAMES: [&str; 6] = ["Priya Shah", "Marcus Chen", "Sofia Alvarez", "Jonas Weber", "Amara Okafor", "Demo User"];
const PROJECTS: [&str; 4] = ["Website Redesign", "Mobile App Launch", "Data Platform Migration", "Security Audit Q3"];
const VERBS: [&str; 5] = ["completed", "updated", "created", "commented on", "reassigned"];

/// A snapshot frame whose dashboard holds `tasks` Kanban cards plus full feeds.
fn snapshot(tasks: usize) -> Value {
    let card = |i: usize| {
        json!({ "id": format!("task-{i}"), "title": format!("{} step {} for {}", VERBS[i % 5], i, PROJECTS[i % 4]),
                "assignee": NAMES[i % 6], "priority": (["low", "medium", "high", "critical"][i % 4]),
                "dueDate": format!("2026-12-{:02}", 1 + i % 28), "estimateHours": (i * 37 % 40) as f64 / 2.0 })
    };
    let columns: Vec<Value> = ["todo", "in_progress", "review", "done"]
        .iter()
        .enumerate()
        .map(|(c, name)| json!({ "id": name, "title": name, "cards": (0..tasks).filter(|i| i % 4 == c).map(card).collect::<Vec<_>>() }))
        .collect();
    let activity: Vec<Value> = (0..100)
        .map(|i| {
            json!({ "id": format!("activity-{i}"), "user": NAMES[i % 6], "action": VERBS[i % 5],
                         "target": format!("task-{} in {}", i * 7, PROJECTS[i % 4]),
                         "time": format!("2026-11-{:02}T{:02}:{:02}:00.000Z", 1 + i / 5, i % 24, i * 7 % 60) })
        })
        .collect();
    let alerts: Vec<Value> = (0..50)
        .map(|i| {
            json!({ "id": format!("alert-{i}"), "severity": (["info", "warning", "error"][i % 3]),
                         "message": format!("{} tasks are due within 48 hours in {}", i % 9 + 1, PROJECTS[i % 4]),
                         "createdAt": format!("2026-11-21T{:02}:{:02}:00Z", i % 24, i % 60), "dismissed": i % 4 == 0 })
        })
        .collect();
    json!({ "t": "snapshot", "epoch": "k2f7q9w1m3x5", "v": 4711, "schema": 2, "state": {
        "schemaVersion": 2, "widgets": { "kanban": { "type": "KanbanBoard", "data": { "columns": columns } } },
        "layout": ["kanban"], "alerts": alerts, "activity": activity, "preferences": { "theme": "system" } } })
}

fn main() -> anyhow::Result<()> {
    println!("{:>10} {:>10} {:>7} {:>16}", "json B", "gzip B", "ratio", "µs per 100 KB");
    for tasks in [60, 250, 600, 1200] {
        let json = serde_json::to_vec(&snapshot(tasks))?;
        let rounds = 200;
        let started = Instant::now();
        let mut compressed = Vec::new();
        for _ in 0..rounds {
            compressed = gzip_frame(&json).ok_or_else(|| anyhow::anyhow!("did not shrink"))?;
        }
        let per_round = started.elapsed().as_secs_f64() / f64::from(rounds);
        let per_100kb = per_round * 1e6 * 100_000.0 / json.len() as f64;
        let ratio = compressed.len() as f64 / json.len() as f64;
        println!("{:>10} {:>10} {:>7.3} {:>16.0}", json.len(), compressed.len(), ratio, per_100kb);
    }
    Ok(())
}
