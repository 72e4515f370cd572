//! Pulse ("Vitals"): the health score, its parts and the risks of the
//! active projects (or of one named project), and the server's own vitals.
//!
//! Answers with a `Metrics` widget of the score (status by band) and its
//! parts, one `Alert` per risk (warning → `warning`, critical → `error`;
//! nothing below warning is reported), and a `Metrics` widget of this
//! process's CPU (since the previous answer), memory and running agent tasks.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use agentdeck_a2a_protocol::AgentSkill;
use agentdeck_domain::insights::health::{Band, HealthReport, RiskKind, Severity, assess};
use agentdeck_domain::records::{Project, Task};
use agentdeck_domain::text::counted;
use agentdeck_storage::Stores;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use procfs::process::Process;
use procfs::{Current, Uptime};
use serde_json::{Value, json};

use super::data::{Snapshot, answer, load, requested_project, validated};
use crate::a2a::{AgentDescriptor, AgentExecutor, AgentFailure, AgentRequest, TaskUpdater};

/// The agent's URL name.
pub const NAME: &str = agentdeck_domain::agents::PULSE.id;

/// The Pulse agent.
pub struct Pulse {
    descriptor: AgentDescriptor,
    stores: Stores,
    active_runs: Arc<AtomicUsize>,
    last_cpu: Mutex<Option<CpuSample>>,
}

/// Process CPU time and wall time at one moment.
#[derive(Debug, Clone, Copy)]
struct CpuSample {
    cpu_secs: f64,
    at: std::time::Instant,
}

impl Pulse {
    /// Pulse reading `stores`; `active_runs` counts the server's running agent tasks.
    pub fn new(stores: Stores, active_runs: Arc<AtomicUsize>) -> Self {
        let skill = AgentSkill {
            id: "health".into(),
            name: "Health and risks".into(),
            description:
                "The 0–100 health score of the active projects, its parts, the risks, and the server's vitals.".into(),
            tags: vec!["health".into(), "risks".into()],
            examples: vec!["what is at risk this week".into()],
            input_modes: vec![],
            output_modes: vec!["application/json".into()],
            security_requirements: vec![],
        };
        let descriptor = AgentDescriptor {
            name: NAME.into(),
            display_name: agentdeck_domain::agents::PULSE.display_name.into(),
            description: "Health score (on-time, blockers, capacity, velocity), risks as alerts, server vitals.".into(),
            skills: vec![skill],
            output_modes: vec!["text/plain".into(), "application/json".into()],
            allow_anonymous: false,
        };
        Self { descriptor, stores, active_runs, last_cpu: Mutex::new(None) }
    }

    fn vitals(&self) -> Value {
        let now = CpuSample { cpu_secs: process_cpu_secs().unwrap_or(0.0), at: std::time::Instant::now() };
        let previous = self.last_cpu.lock().ok().and_then(|mut last| last.replace(now));
        let cpu_percent = previous.map(|before| {
            let wall = now.at.duration_since(before.at).as_secs_f64();
            if wall > 0.0 { (now.cpu_secs - before.cpu_secs) / wall * 100.0 } else { 0.0 }
        });
        let mut metrics = Vec::new();
        if let Some(percent) = cpu_percent.or_else(process_lifetime_cpu_percent) {
            metrics.push(json!({"label": "Server CPU", "value": (percent * 10.0).round() / 10.0, "unit": "%"}));
        }
        if let Some(rss) = resident_mib() {
            metrics.push(json!({"label": "Server memory", "value": (rss * 10.0).round() / 10.0, "unit": "MiB"}));
        }
        metrics.push(json!({"label": "Running agent tasks", "value": self.active_runs.load(Ordering::Relaxed)}));
        json!({"type": "Metrics", "id": "pulse-vitals", "title": "Server vitals", "data": {"metrics": metrics}})
    }
}

/// User plus system CPU seconds of this process and its start, in seconds after boot
/// (`/proc/self/stat` through procfs, converted with the system's clock tick rate).
fn process_cpu_and_start_secs() -> Option<(f64, f64)> {
    let stat = Process::myself().ok()?.stat().ok()?;
    let ticks_per_sec = procfs::ticks_per_second().max(1) as f64;
    Some(((stat.utime + stat.stime) as f64 / ticks_per_sec, stat.starttime as f64 / ticks_per_sec))
}

/// User plus system CPU seconds of this process.
fn process_cpu_secs() -> Option<f64> {
    process_cpu_and_start_secs().map(|(cpu, _)| cpu)
}

/// CPU percent over the process's life (the first answer has no previous sample).
fn process_lifetime_cpu_percent() -> Option<f64> {
    let (cpu, started) = process_cpu_and_start_secs()?;
    let age = Uptime::current().ok()?.uptime - started;
    (age > 0.0).then(|| cpu / age * 100.0)
}

/// Resident memory in MiB (`VmRSS` of `/proc/self/status`).
fn resident_mib() -> Option<f64> {
    let kib = Process::myself().ok()?.status().ok()?.vmrss?;
    Some(kib as f64 / 1024.0)
}

fn band_status(band: Band) -> &'static str {
    match band {
        Band::Excellent | Band::Good => "ok",
        Band::Warning => "warning",
        Band::Critical => "critical",
    }
}

fn risk_title(kind: &RiskKind) -> &'static str {
    match kind {
        RiskKind::DueSoon { .. } => "Due within 48 hours",
        RiskKind::BlockerChain { .. } => "Blocker chain",
        RiskKind::Overloaded { .. } => "Overloaded team member",
        RiskKind::VelocityDrop { .. } => "Velocity drop",
    }
}

/// The tasks Pulse judges: the named project's, else those of active projects.
pub(crate) fn scope<'a>(snapshot: &'a Snapshot, project: Option<&Project>) -> Vec<&'a Task> {
    match project {
        Some(project) => snapshot.tasks_of(project.id),
        None => {
            let active: std::collections::HashSet<_> =
                snapshot.projects.iter().filter(|p| !p.archived).map(|p| p.id).collect();
            snapshot.tasks.iter().filter(|task| active.contains(&task.project_id)).collect()
        }
    }
}

/// The health widgets of a report (score and parts, then one alert per risk).
pub(crate) fn health_widgets(report: &HealthReport, subject: &str) -> Vec<Value> {
    let parts = &report.parts;
    let metric = |label: &str, value: f64| json!({"label": label, "value": value, "unit": "%"});
    let mut widgets = vec![
        json!({"type": "Metrics", "id": "pulse-health", "title": format!("Health of {subject}"), "data": {"metrics": [
            {"label": "Health score", "value": report.score, "unit": "/100", "status": band_status(report.band)},
            metric("On-time delivery", parts.on_time),
            metric("Blocker impact", parts.blockers),
            metric("Team capacity", parts.capacity),
            metric("Velocity trend", parts.velocity),
            {"label": "Open tasks", "value": report.open},
            {"label": "Overdue tasks", "value": report.overdue, "status": if report.overdue > 0 { "warning" } else { "ok" }},
            {"label": "Completed this week", "value": report.completed_this_week},
        ]}}),
    ];
    for (index, risk) in report.risks.iter().enumerate() {
        let severity = match risk.severity {
            Severity::Warning => "warning",
            Severity::Critical => "error",
        };
        widgets.push(json!({"type": "Alert", "id": format!("pulse-risk-{index}"), "data": {
            "severity": severity, "title": risk_title(&risk.kind), "message": risk.message()}}));
    }
    widgets
}

/// Pulse's summary and widgets (without the vitals) at `now`.
pub(crate) fn pulse_answer(snapshot: &Snapshot, project: Option<&Project>, now: DateTime<Utc>) -> (String, Vec<Value>) {
    let tasks = scope(snapshot, project);
    let report = assess(&tasks, &snapshot.members, now);
    let subject = project.map_or("the active projects".to_owned(), |p| p.name.clone());
    let text = format!(
        "Health of {subject}: {}/100 ({}), {}.",
        report.score,
        report.band.as_str(),
        counted(report.risks.len(), "risk", "risks")
    );
    (text, health_widgets(&report, &subject))
}

#[async_trait]
impl AgentExecutor for Pulse {
    fn descriptor(&self) -> &AgentDescriptor {
        &self.descriptor
    }

    async fn execute(&self, request: AgentRequest, updates: TaskUpdater) -> Result<(), AgentFailure> {
        let snapshot = load(&self.stores, &request).await?;
        let project = requested_project(&request, &snapshot.projects)?;
        let (text, mut widgets) = pulse_answer(&snapshot, project, Utc::now());
        widgets.push(self.vitals());
        let widgets = validated(widgets, &request)?;
        let stopped = |e: crate::a2a::Stopped| AgentFailure(e.to_string());
        updates.complete_with_artifact(answer(&text, widgets), Some(&text)).await.map_err(stopped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_memory_cpu_time_and_a_lifetime_cpu_share() {
        let resident = resident_mib();
        assert!(resident.is_some_and(|mib| mib > 0.0), "{resident:?}");
        let cpu = process_cpu_secs();
        assert!(cpu.is_some_and(|secs| secs >= 0.0), "{cpu:?}");
        // A test process is seconds old at most minutes: its share of a core is finite and not negative.
        let lifetime = process_lifetime_cpu_percent();
        assert!(lifetime.is_none_or(|percent| (0.0..=100.0 * 64.0).contains(&percent)), "{lifetime:?}");
    }
}
