//! Project status (DESIGN §6, Navi).
//!
//! - **progress** = done tasks / all tasks, in percent (0 without tasks).
//! - **status**:
//!   - `completed` when every task is done (and there is at least one);
//!   - `behind` when the due date has passed and work is left;
//!   - otherwise by how far progress trails the time elapsed between the
//!     start and the due date (`elapsed − progress`, in percentage points):
//!     at most 10 → `on_track`, at most 25 → `at_risk`, more → `behind`;
//!   - `on_track` without a start or due date to compare with.

use chrono::{DateTime, Utc};

use crate::records::{Project, Task, TaskStatus};
use crate::widgets::ProjectHealth;

/// Largest lag (percentage points of progress behind time) still on track.
pub const ON_TRACK_LAG: f64 = 10.0;
/// Largest lag still only at risk.
pub const AT_RISK_LAG: f64 = 25.0;

/// A project's progress and status.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectProgress {
    /// Done tasks.
    pub done: u64,
    /// All tasks.
    pub total: u64,
    /// `done / total` in percent, rounded to one decimal.
    pub progress: f64,
    /// Share of the schedule elapsed, in percent (`None` without both dates).
    pub elapsed: Option<f64>,
    /// The status.
    pub status: ProjectHealth,
}

fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// The progress and status of `project` from its `tasks` at `now`.
pub fn project_progress(project: &Project, tasks: &[&Task], now: DateTime<Utc>) -> ProjectProgress {
    let total = tasks.len() as u64;
    let done = tasks.iter().filter(|task| task.status == TaskStatus::Done).count() as u64;
    let progress = if total == 0 { 0.0 } else { done as f64 * 100.0 / total as f64 };
    let elapsed = match (project.start_date, project.due_date) {
        (Some(start), Some(due)) if due > start => {
            let share = (now - start).num_milliseconds() as f64 / (due - start).num_milliseconds() as f64;
            Some((share * 100.0).clamp(0.0, 100.0))
        }
        _ => None,
    };
    let status = if total > 0 && done == total {
        ProjectHealth::Completed
    } else if project.due_date.is_some_and(|due| due < now) {
        ProjectHealth::Behind
    } else {
        match elapsed.map(|elapsed| elapsed - progress) {
            Some(lag) if lag > AT_RISK_LAG => ProjectHealth::Behind,
            Some(lag) if lag > ON_TRACK_LAG => ProjectHealth::AtRisk,
            _ => ProjectHealth::OnTrack,
        }
    };
    ProjectProgress { done, total, progress: round1(progress), elapsed: elapsed.map(round1), status }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use uuid::Uuid;

    use super::*;
    use crate::records::Priority;

    fn at(day: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default() + Duration::days(day)
    }

    fn project(start: Option<i64>, due: Option<i64>) -> Project {
        Project {
            id: Uuid::nil(),
            workspace_id: Uuid::nil(),
            name: "P".into(),
            description: String::new(),
            start_date: start.map(at),
            due_date: due.map(at),
            archived: false,
            created_at: at(-100),
            updated_at: at(-100),
            revision: 1,
        }
    }

    fn tasks(done: usize, open: usize) -> Vec<Task> {
        (0..done + open)
            .map(|index| Task {
                id: Uuid::from_u128(index as u128 + 1),
                workspace_id: Uuid::nil(),
                project_id: Uuid::nil(),
                title: format!("t{index}"),
                description: String::new(),
                status: if index < done { TaskStatus::Done } else { TaskStatus::Todo },
                priority: Priority::Medium,
                assignee_id: None,
                estimate_hours: None,
                due_date: None,
                completed_at: None,
                blocked_by: vec![],
                created_at: at(-50),
                updated_at: at(-50),
                revision: 1,
            })
            .collect()
    }

    fn status_of(project: &Project, done: usize, open: usize) -> ProjectProgress {
        let tasks = tasks(done, open);
        let refs: Vec<&Task> = tasks.iter().collect();
        project_progress(project, &refs, at(0))
    }

    #[test]
    fn the_demo_schedules_read_as_they_were_seeded() {
        // Website Redesign: day −21…+21 is 50 % elapsed, 6/10 = 60 % done: lag −10 → on track.
        let website = status_of(&project(Some(-21), Some(21)), 6, 4);
        assert_eq!((website.progress, website.elapsed, website.status), (60.0, Some(50.0), ProjectHealth::OnTrack));
        // Mobile App Launch: day −30…+10 is 75 % elapsed, 6/11 = 54.5 %: lag 20.5 → at risk.
        let mobile = status_of(&project(Some(-30), Some(10)), 6, 5);
        assert_eq!((mobile.progress, mobile.elapsed, mobile.status), (54.5, Some(75.0), ProjectHealth::AtRisk));
        // Data Platform Migration: day −40…+5 is 88.9 % elapsed, 2/8 = 25 %: lag 63.9 → behind.
        let data = status_of(&project(Some(-40), Some(5)), 2, 6);
        assert_eq!((data.progress, data.elapsed, data.status), (25.0, Some(88.9), ProjectHealth::Behind));
        // Security Audit: every task done → completed, even though its due date passed.
        let audit = status_of(&project(Some(-63), Some(-7)), 6, 0);
        assert_eq!((audit.progress, audit.status), (100.0, ProjectHealth::Completed));
    }

    #[test]
    fn the_lag_thresholds_and_the_edges() {
        // 50 % elapsed: 40 % done is a lag of exactly 10 (on track), 39 of 100 is 11 (at risk).
        assert_eq!(status_of(&project(Some(-10), Some(10)), 40, 60).status, ProjectHealth::OnTrack);
        assert_eq!(status_of(&project(Some(-10), Some(10)), 39, 61).status, ProjectHealth::AtRisk);
        // 25 done is a lag of 25 (at risk); 24 is 26 (behind).
        assert_eq!(status_of(&project(Some(-10), Some(10)), 25, 75).status, ProjectHealth::AtRisk);
        assert_eq!(status_of(&project(Some(-10), Some(10)), 24, 76).status, ProjectHealth::Behind);
        // Past due with work left is behind whatever the lag.
        assert_eq!(status_of(&project(Some(-10), Some(-1)), 9, 1).status, ProjectHealth::Behind);
        // No dates, or no tasks: nothing to be late against.
        assert_eq!(status_of(&project(None, None), 0, 5).status, ProjectHealth::OnTrack);
        let empty = status_of(&project(Some(-10), Some(10)), 0, 0);
        assert_eq!((empty.progress, empty.status), (0.0, ProjectHealth::Behind));
    }
}
