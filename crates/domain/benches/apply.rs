//! Patch-apply benchmark: what applying a patch costs for the writes the
//! server makes most, on documents as they are in use (no storage, no I/O).
//!
//! `cargo bench -p agentdeck-domain --bench apply` prints the mean and p99 per
//! apply, in one run, of `apply_patch_to_checked` (the server's usual path: the
//! base is its own last write, so only what the patch writes is checked) and of
//! `apply_patch` (the whole result checked, as for a document read from the
//! store), for:
//!
//! - **ask, same answer**: the gateway's patch when the data did not change
//!   (a `test` of the layout and a new `lastAnswer`), on the dashboard a real
//!   `workspace overview` left (`fixtures/answered-dashboard.json`: 11 widgets);
//! - **ask, one widget changed**: the same plus one widget replaced;
//! - **tab appends activity**: one `add /activity/-` on a document whose feeds
//!   are full (100 activity entries, 50 metrics, 50 alerts), so every write
//!   also trims the oldest entry.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benches fail loudly on a broken fixture")]

use std::hint::black_box;
use std::time::{Duration, Instant};

use agentdeck_domain::dashboard::document::{DashboardDocument, StateLimits};
use agentdeck_domain::dashboard::patch::{
    Applied, CheckedPatch, PatchError, apply_patch, apply_patch_to_checked, replace_document,
};
use serde_json::{Value, json};

/// Applies per patch under `cargo bench`; `cargo test --all-targets` runs the
/// bench too (debug build, no `--bench` argument), as a quick smoke test.
const ROUNDS: usize = 20_000;
const SMOKE_ROUNDS: usize = 50;

fn main() {
    let rounds = if std::env::args().any(|arg| arg == "--bench") { ROUNDS } else { SMOKE_ROUNDS };
    let limits = StateLimits::default();
    let answered: Value = serde_json::from_str(include_str!("fixtures/answered-dashboard.json")).unwrap();
    let answered_document = replace_document(&answered, &limits).unwrap();

    let last_answer = json!({
        "question": "workspace overview", "text": "4 active projects.", "askedAt": "2026-12-08T01:00:00.000Z"
    });
    let same_answer = json!([
        {"op": "test", "path": "/layout", "value": answered["layout"]},
        {"op": "add", "path": "/lastAnswer", "value": last_answer},
    ]);
    run("ask, same answer", &answered_document, &same_answer, &limits, rounds);

    let (id, widget) =
        answered["widgets"].as_object().unwrap().iter().find(|(_, w)| w["type"] == "ProjectStatus").unwrap();
    let mut changed = widget.clone();
    changed["data"]["progress"] = json!(99);
    let one_widget = json!([
        {"op": "test", "path": "/layout", "value": answered["layout"]},
        {"op": "add", "path": format!("/widgets/{id}"), "value": changed},
        {"op": "add", "path": "/lastAnswer", "value": last_answer},
    ]);
    run("ask, one widget changed", &answered_document, &one_widget, &limits, rounds);

    let full = full_feeds(answered.clone(), &limits);
    let entry =
        json!({"id": "new", "user": "Ada", "action": "completed", "target": "Plan", "time": "2026-12-08T01:00:00Z"});
    let append = json!([{"op": "add", "path": "/activity/-", "value": entry}]);
    run("tab appends activity (full feeds)", &full, &append, &limits, rounds);
}

fn full_feeds(mut value: Value, limits: &StateLimits) -> DashboardDocument {
    let at = "2026-12-08T00:00:00Z";
    value["activity"] = (0..100)
        .map(|i| json!({"id": format!("e{i}"), "user": "Ada", "action": "completed", "target": "Plan", "time": at}))
        .collect();
    value["metrics"] = (0..50).map(|i| json!({"label": format!("Metric {i}"), "value": i, "unit": "pts"})).collect();
    value["alerts"] = (0..50)
        .map(|i| json!({"id": format!("a{i}"), "severity": "warning", "message": "Late", "createdAt": at, "dismissed": i % 2 == 0}))
        .collect();
    replace_document(&value, limits).unwrap()
}

/// One way of applying a patch.
type Apply = fn(&DashboardDocument, &CheckedPatch, &StateLimits) -> Result<Applied, PatchError>;

fn run(name: &str, document: &DashboardDocument, patch: &Value, limits: &StateLimits, rounds: usize) {
    let patch = CheckedPatch::parse(patch, limits).unwrap();
    let ways: [(&str, Apply); 2] = [("checked base", apply_patch_to_checked), ("whole result", apply_patch)];
    assert_eq!(
        apply_patch_to_checked(document, &patch, limits).unwrap(),
        apply_patch(document, &patch, limits).unwrap()
    );
    for (way, apply) in ways {
        let mut latencies = Vec::with_capacity(rounds);
        let started = Instant::now();
        for _ in 0..rounds {
            let one = Instant::now();
            black_box(apply(black_box(document), &patch, limits).unwrap());
            latencies.push(one.elapsed());
        }
        let mean = started.elapsed() / rounds as u32;
        latencies.sort();
        let p99 = latencies[rounds * 99 / 100];
        println!("{name}, {way}: mean {:.1} µs, p99 {:.1} µs ({rounds} applies)", micros(mean), micros(p99));
    }
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}
