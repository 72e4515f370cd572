//! Health score and risks (DESIGN §6, Pulse).
//!
//! Over a set of tasks (a project's, or a workspace's active ones) and the
//! workspace's members, at `now`. A task is *open* until it is done.
//!
//! **Score** = 30 % on-time + 25 % blocker impact + 25 % team capacity +
//! 20 % velocity trend, each part 0–100, rounded to a whole number:
//!
//! - *on-time*: of the tasks with a due date that are done or past due, the
//!   share done by their due date (done late and still open past due count
//!   against); 100 when there are none.
//! - *blocker impact*: 100 × (1 − blocked open tasks / open tasks), where a
//!   task is blocked when its status says so or one of its blockers is
//!   open; 100 without open tasks.
//! - *team capacity*: the mean over members of 100 when their *load* (hours
//!   of open tasks assigned to them and due within the next 7 days, overdue
//!   ones included: they are still to be done) fits their weekly capacity,
//!   else 100 × capacity / load; 100 without members.
//! - *velocity trend*: 100 × min(1, this week / baseline), where this week
//!   counts tasks completed in the last 7 days and the baseline is the weekly
//!   mean of the 4 weeks before; 100 without a baseline.
//!
//! **Band**: 85+ excellent, 70+ good, 50+ warning, below critical.
//!
//! **Risks** (each warning, or critical past the second threshold):
//! open tasks due within 48 h (1+, critical at 5+); a chain of open tasks
//! each blocked by the next of at least 3 (critical at 5+); a member whose
//! load is over 40 h (critical over 60 h); this week's completions at least
//! 30 % below the baseline (critical over 50 %).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::records::{Member, Task, TaskStatus};

/// Weight of the on-time part.
pub const ON_TIME_WEIGHT: f64 = 0.30;
/// Weight of the blocker part.
pub const BLOCKER_WEIGHT: f64 = 0.25;
/// Weight of the capacity part.
pub const CAPACITY_WEIGHT: f64 = 0.25;
/// Weight of the velocity part.
pub const VELOCITY_WEIGHT: f64 = 0.20;

/// Hours a week over which a member is overloaded, and critically so.
pub const OVERLOAD_HOURS: (f64, f64) = (40.0, 60.0);
/// Open tasks due within 48 h that are a risk, and a critical one.
pub const DUE_SOON_COUNT: (usize, usize) = (1, 5);
/// Blocker chain lengths that are a risk, and a critical one.
pub const CHAIN_LENGTH: (usize, usize) = (3, 5);
/// Velocity drops (share below the baseline) that are a risk, and a critical one.
pub const VELOCITY_DROP: (f64, f64) = (0.30, 0.50);

/// The band of a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    /// 85–100.
    Excellent,
    /// 70–84.
    Good,
    /// 50–69.
    Warning,
    /// 0–49.
    Critical,
}

impl Band {
    /// The band of `score`.
    pub fn of(score: u8) -> Self {
        match score {
            85.. => Self::Excellent,
            70..=84 => Self::Good,
            50..=69 => Self::Warning,
            _ => Self::Critical,
        }
    }

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Excellent => "excellent",
            Self::Good => "good",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

/// How serious a risk is (only these two are reported).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Act soon.
    Warning,
    /// Act now.
    Critical,
}

/// What a risk is about.
#[derive(Debug, Clone, PartialEq)]
pub enum RiskKind {
    /// Open tasks due within 48 h.
    DueSoon {
        /// How many.
        count: usize,
    },
    /// The longest chain of open tasks blocking each other, first blocked first.
    BlockerChain {
        /// The titles along the chain.
        titles: Vec<String>,
    },
    /// A member with more open work due this week than 40 h.
    Overloaded {
        /// Who.
        member: String,
        /// Hours due in the next 7 days.
        hours: f64,
    },
    /// Fewer completions this week than the 4-week baseline.
    VelocityDrop {
        /// Completed in the last 7 days.
        this_week: usize,
        /// Weekly mean of the 4 weeks before.
        baseline: f64,
    },
}

/// One risk.
#[derive(Debug, Clone, PartialEq)]
pub struct Risk {
    /// What.
    pub kind: RiskKind,
    /// How serious.
    pub severity: Severity,
}

impl Risk {
    /// A one-line description.
    pub fn message(&self) -> String {
        match &self.kind {
            RiskKind::DueSoon { count } => {
                format!("{} due within 48 hours", crate::text::counted(*count, "open task", "open tasks"))
            }
            RiskKind::BlockerChain { titles } => {
                format!("a chain of {} blocked tasks: {}", titles.len(), titles.join(" ← "))
            }
            RiskKind::Overloaded { member, hours } => {
                format!("{member} has {hours:.0} h of open work due this week (over {:.0} h)", OVERLOAD_HOURS.0)
            }
            RiskKind::VelocityDrop { this_week, baseline } => format!(
                "{} completed this week against a 4-week mean of {baseline:.1} ({:.0} % lower)",
                crate::text::counted(*this_week, "task", "tasks"),
                (1.0 - *this_week as f64 / baseline) * 100.0
            ),
        }
    }
}

/// The parts of the score, each 0–100 (one decimal).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreParts {
    /// On-time delivery.
    pub on_time: f64,
    /// Blocker impact.
    pub blockers: f64,
    /// Team capacity.
    pub capacity: f64,
    /// Velocity trend.
    pub velocity: f64,
}

/// Everything Pulse reports about a set of tasks.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthReport {
    /// The score, 0–100.
    pub score: u8,
    /// Its band.
    pub band: Band,
    /// Its parts.
    pub parts: ScoreParts,
    /// Open tasks past their due date.
    pub overdue: usize,
    /// Open tasks.
    pub open: usize,
    /// Completed in the last 7 days.
    pub completed_this_week: usize,
    /// The risks, most severe first.
    pub risks: Vec<Risk>,
}

fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

fn is_open(task: &Task) -> bool {
    task.status != TaskStatus::Done
}

/// Hours of open work due within the next 7 days (overdue included), per member id.
fn weekly_load(tasks: &[&Task], now: DateTime<Utc>) -> HashMap<Uuid, f64> {
    let week = now + Duration::days(7);
    let mut load = HashMap::new();
    for task in tasks.iter().filter(|task| is_open(task)) {
        if let (Some(assignee), Some(due)) = (task.assignee_id, task.due_date)
            && due <= week
        {
            *load.entry(assignee).or_insert(0.0) += task.estimate_hours.unwrap_or(0.0);
        }
    }
    load
}

/// The longest chain of open tasks, each blocked by the next.
fn longest_chain<'a>(tasks: &[&'a Task]) -> Vec<&'a Task> {
    let open: HashMap<Uuid, &Task> = tasks.iter().filter(|t| is_open(t)).map(|t| (t.id, *t)).collect();
    fn chain_from<'a>(
        task: &'a Task,
        open: &HashMap<Uuid, &'a Task>,
        memo: &mut HashMap<Uuid, Vec<&'a Task>>,
        visiting: &mut HashSet<Uuid>,
    ) -> Vec<&'a Task> {
        if let Some(known) = memo.get(&task.id) {
            return known.clone();
        }
        // The store refuses cycles; this guard only keeps a corrupt record set from recursing forever.
        if !visiting.insert(task.id) {
            return vec![task];
        }
        let mut best: Vec<&Task> = Vec::new();
        for blocker in task.blocked_by.iter().filter_map(|id| open.get(id)) {
            let chain = chain_from(blocker, open, memo, visiting);
            if chain.len() > best.len() {
                best = chain;
            }
        }
        visiting.remove(&task.id);
        let mut chain = vec![task];
        chain.extend(best);
        memo.insert(task.id, chain.clone());
        chain
    }
    let mut memo = HashMap::new();
    let mut best = Vec::new();
    let mut ids: Vec<&Uuid> = open.keys().collect();
    ids.sort();
    for id in ids {
        if let Some(task) = open.get(id) {
            let chain = chain_from(task, &open, &mut memo, &mut HashSet::new());
            if chain.len() > best.len() {
                best = chain;
            }
        }
    }
    best
}

/// The health of `tasks`, with `members`' capacity, at `now`.
pub fn assess(tasks: &[&Task], members: &[Member], now: DateTime<Utc>) -> HealthReport {
    let open_tasks: Vec<&Task> = tasks.iter().copied().filter(|t| is_open(t)).collect();
    let load = weekly_load(tasks, now);
    let velocity = Velocity::of(tasks, now);
    let parts = ScoreParts {
        on_time: on_time_part(tasks, now),
        blockers: blocker_part(&open_tasks),
        capacity: capacity_part(members, &load),
        velocity: velocity.part(),
    };
    let weighted = ON_TIME_WEIGHT * parts.on_time
        + BLOCKER_WEIGHT * parts.blockers
        + CAPACITY_WEIGHT * parts.capacity
        + VELOCITY_WEIGHT * parts.velocity;
    let score = weighted.round().clamp(0.0, 100.0) as u8;
    HealthReport {
        score,
        band: Band::of(score),
        parts: ScoreParts {
            on_time: round1(parts.on_time),
            blockers: round1(parts.blockers),
            capacity: round1(parts.capacity),
            velocity: round1(parts.velocity),
        },
        overdue: open_tasks.iter().filter(|t| t.due_date.is_some_and(|d| d < now)).count(),
        open: open_tasks.len(),
        completed_this_week: velocity.this_week,
        risks: risks(tasks, &open_tasks, members, &load, &velocity, now),
    }
}

/// The on-time part: of the tasks with a due date that are done or past due,
/// the share done by their due date, in percent.
fn on_time_part(tasks: &[&Task], now: DateTime<Utc>) -> f64 {
    let mut considered = 0usize;
    let mut on_time = 0usize;
    for task in tasks {
        let Some(due) = task.due_date else { continue };
        if is_open(task) {
            if due < now {
                considered += 1;
            }
        } else {
            considered += 1;
            if task.completed_at.is_none_or(|done| done <= due) {
                on_time += 1;
            }
        }
    }
    if considered == 0 { 100.0 } else { on_time as f64 * 100.0 / considered as f64 }
}

/// The blocker part: the share of open tasks not blocked, in percent.
fn blocker_part(open_tasks: &[&Task]) -> f64 {
    let open_ids: HashSet<Uuid> = open_tasks.iter().map(|t| t.id).collect();
    let blocked = open_tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Blocked || t.blocked_by.iter().any(|id| open_ids.contains(id)))
        .count();
    if open_tasks.is_empty() { 100.0 } else { 100.0 * (1.0 - blocked as f64 / open_tasks.len() as f64) }
}

/// The capacity part: the mean over members (with a capacity) of how much of
/// their `load` fits it, in percent.
fn capacity_part(members: &[Member], load: &HashMap<Uuid, f64>) -> f64 {
    let member_scores: Vec<f64> = members
        .iter()
        .filter(|m| m.weekly_capacity_hours > 0.0)
        .map(|member| {
            let hours = load.get(&member.id).copied().unwrap_or(0.0);
            if hours <= member.weekly_capacity_hours { 100.0 } else { 100.0 * member.weekly_capacity_hours / hours }
        })
        .collect();
    if member_scores.is_empty() { 100.0 } else { member_scores.iter().sum::<f64>() / member_scores.len() as f64 }
}

/// Completions of the last 7 days against the weekly mean of the 4 weeks before.
struct Velocity {
    this_week: usize,
    baseline: f64,
}

impl Velocity {
    fn of(tasks: &[&Task], now: DateTime<Utc>) -> Self {
        let completed_between = |from: DateTime<Utc>, to: DateTime<Utc>| {
            tasks.iter().filter(|t| !is_open(t) && t.completed_at.is_some_and(|at| at > from && at <= to)).count()
        };
        let this_week = completed_between(now - Duration::days(7), now);
        let baseline = completed_between(now - Duration::days(35), now - Duration::days(7)) as f64 / 4.0;
        Self { this_week, baseline }
    }

    /// The velocity part, in percent: 100 without a baseline.
    fn part(&self) -> f64 {
        if self.baseline > 0.0 { 100.0 * (self.this_week as f64 / self.baseline).min(1.0) } else { 100.0 }
    }
}

/// Every risk found, critical ones first.
fn risks(
    tasks: &[&Task],
    open_tasks: &[&Task],
    members: &[Member],
    load: &HashMap<Uuid, f64>,
    velocity: &Velocity,
    now: DateTime<Utc>,
) -> Vec<Risk> {
    let mut risks = Vec::new();
    let due_soon =
        open_tasks.iter().filter(|t| t.due_date.is_some_and(|d| d >= now && d <= now + Duration::hours(48))).count();
    if due_soon >= DUE_SOON_COUNT.0 {
        let severity = if due_soon >= DUE_SOON_COUNT.1 { Severity::Critical } else { Severity::Warning };
        risks.push(Risk { kind: RiskKind::DueSoon { count: due_soon }, severity });
    }
    let chain = longest_chain(tasks);
    if chain.len() >= CHAIN_LENGTH.0 {
        let severity = if chain.len() >= CHAIN_LENGTH.1 { Severity::Critical } else { Severity::Warning };
        let titles = chain.iter().map(|t| t.title.clone()).collect();
        risks.push(Risk { kind: RiskKind::BlockerChain { titles }, severity });
    }
    for member in members {
        let hours = load.get(&member.id).copied().unwrap_or(0.0);
        if hours > OVERLOAD_HOURS.0 {
            let severity = if hours > OVERLOAD_HOURS.1 { Severity::Critical } else { Severity::Warning };
            risks.push(Risk { kind: RiskKind::Overloaded { member: member.display_name.clone(), hours }, severity });
        }
    }
    let Velocity { this_week, baseline } = *velocity;
    if baseline > 0.0 {
        let drop = 1.0 - this_week as f64 / baseline;
        if drop >= VELOCITY_DROP.0 {
            let severity = if drop > VELOCITY_DROP.1 { Severity::Critical } else { Severity::Warning };
            risks.push(Risk { kind: RiskKind::VelocityDrop { this_week, baseline }, severity });
        }
    }
    risks.sort_by_key(|risk| std::cmp::Reverse(risk.severity));
    risks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{MemberRole, Priority};

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    fn hours(h: i64) -> DateTime<Utc> {
        now() + Duration::hours(h)
    }

    struct Fx {
        tasks: Vec<Task>,
    }

    impl Fx {
        fn add(&mut self, status: TaskStatus, due_h: Option<i64>, done_h: Option<i64>) -> Uuid {
            let id = Uuid::from_u128(self.tasks.len() as u128 + 1);
            self.tasks.push(Task {
                id,
                workspace_id: Uuid::nil(),
                project_id: Uuid::nil(),
                title: format!("t{}", self.tasks.len() + 1),
                description: String::new(),
                status,
                priority: Priority::Medium,
                assignee_id: None,
                estimate_hours: None,
                due_date: due_h.map(hours),
                completed_at: done_h.map(hours),
                blocked_by: vec![],
                created_at: hours(-2000),
                updated_at: hours(-2000),
                revision: 1,
            });
            id
        }

        fn last(&mut self) -> &mut Task {
            let index = self.tasks.len() - 1;
            &mut self.tasks[index]
        }

        fn refs(&self) -> Vec<&Task> {
            self.tasks.iter().collect()
        }
    }

    fn member(id: u128, name: &str, capacity: f64) -> Member {
        Member {
            id: Uuid::from_u128(id),
            workspace_id: Uuid::nil(),
            user_id: name.to_lowercase(),
            display_name: name.into(),
            email: None,
            role: MemberRole::Member,
            weekly_capacity_hours: capacity,
            created_at: now(),
            updated_at: now(),
            revision: 1,
        }
    }

    #[test]
    fn a_hand_computed_score_with_every_part() {
        let mut fx = Fx { tasks: vec![] };
        // On time: done before due (on time), done after due (late), open past due (late), open due later (not counted).
        fx.add(TaskStatus::Done, Some(-100), Some(-120)); // on time, completed 5 days ago
        fx.add(TaskStatus::Done, Some(-300), Some(-250)); // late, completed ~10 days ago
        fx.add(TaskStatus::Todo, Some(-10), None); // late
        let a = fx.add(TaskStatus::Todo, Some(100), None);
        // Blockers: t5 is blocked by the open t4, t6 says blocked.
        fx.add(TaskStatus::Todo, Some(200), None);
        fx.last().blocked_by = vec![a];
        fx.add(TaskStatus::Blocked, None, None);
        // Velocity: this week 1 (t1); the 4 weeks before: t2 and two more → baseline 3/4 = 0.75.
        fx.add(TaskStatus::Done, None, Some(-24 * 15));
        fx.add(TaskStatus::Done, None, Some(-24 * 30));
        // Capacity: Ann has 50 h due this week against 40 → 80; Ben has nothing → 100; mean 90.
        // (t3, overdue and Ann's, counts towards her 50 h: 40 h due in 3 days and t3's 10 h.)
        fx.tasks[2].assignee_id = Some(Uuid::from_u128(101));
        fx.tasks[2].estimate_hours = Some(10.0);
        fx.add(TaskStatus::InProgress, Some(24 * 3), None);
        fx.last().assignee_id = Some(Uuid::from_u128(101));
        fx.last().estimate_hours = Some(40.0);
        let members = [member(101, "Ann", 40.0), member(102, "Ben", 40.0)];

        let report = assess(&fx.refs(), &members, now());
        // on-time: 1 of 3 → 33.3; open: t3 t4 t5 t6 t9 = 5, blocked t5 t6 = 2 → 60;
        // capacity 90; velocity min(1, 1/0.75) → 100.
        assert_eq!(report.parts, ScoreParts { on_time: 33.3, blockers: 60.0, capacity: 90.0, velocity: 100.0 });
        // 0.30·33.33 + 0.25·60 + 0.25·90 + 0.20·100 = 10 + 15 + 22.5 + 20 = 67.5 → 68 (warning).
        assert_eq!((report.score, report.band), (68, Band::Warning));
        assert_eq!((report.open, report.overdue, report.completed_this_week), (5, 1, 1));
        // Risks: t9 (72 h) is not within 48 h; Ann's 50 h is over 40 (warning); no chain of 3; no drop.
        assert_eq!(report.risks.len(), 1, "{:?}", report.risks);
        assert_eq!(report.risks[0].severity, Severity::Warning);
        assert!(
            matches!(&report.risks[0].kind, RiskKind::Overloaded { member, hours } if member == "Ann" && *hours == 50.0)
        );
    }

    #[test]
    fn risk_thresholds_turn_warning_then_critical() {
        let mut fx = Fx { tasks: vec![] };
        for _ in 0..4 {
            fx.add(TaskStatus::Todo, Some(24), None);
        }
        let report = assess(&fx.refs(), &[], now());
        assert_eq!(report.risks, [Risk { kind: RiskKind::DueSoon { count: 4 }, severity: Severity::Warning }]);
        fx.add(TaskStatus::Todo, Some(47), None);
        fx.add(TaskStatus::Todo, Some(49), None); // just outside 48 h
        let report = assess(&fx.refs(), &[], now());
        assert_eq!(report.risks, [Risk { kind: RiskKind::DueSoon { count: 5 }, severity: Severity::Critical }]);

        // A chain of five open tasks, each blocked by the previous one; a done blocker breaks nothing.
        let mut fx = Fx { tasks: vec![] };
        let mut previous = fx.add(TaskStatus::Done, None, Some(-1000));
        for _ in 0..5 {
            let id = fx.add(TaskStatus::Todo, None, None);
            fx.last().blocked_by = vec![previous];
            previous = id;
        }
        let report = assess(&fx.refs(), &[], now());
        let chain = report.risks.iter().find_map(|r| match &r.kind {
            RiskKind::BlockerChain { titles } => Some((titles.clone(), r.severity)),
            _ => None,
        });
        assert_eq!(
            chain,
            Some((vec!["t6".into(), "t5".into(), "t4".into(), "t3".into(), "t2".into()], Severity::Critical))
        );

        // Velocity: baseline 8 per week (32 in the 4 weeks before), 4 this week is a 50 % drop (warning), 3 is 62.5 % (critical).
        let mut fx = Fx { tasks: vec![] };
        for index in 0..32 {
            fx.add(TaskStatus::Done, None, Some(-24 * 8 - index * 12));
        }
        for _ in 0..4 {
            fx.add(TaskStatus::Done, None, Some(-24));
        }
        let drop = |fx: &Fx| assess(&fx.refs(), &[], now()).risks.into_iter().map(|r| r.severity).collect::<Vec<_>>();
        assert_eq!(drop(&fx), [Severity::Warning]);
        fx.tasks.pop();
        assert_eq!(drop(&fx), [Severity::Critical]);

        // Overload: 61 h is critical.
        let mut fx = Fx { tasks: vec![] };
        fx.add(TaskStatus::Todo, Some(24 * 6), None);
        fx.last().assignee_id = Some(Uuid::from_u128(7));
        fx.last().estimate_hours = Some(61.0);
        let report = assess(&fx.refs(), &[member(7, "Cy", 40.0)], now());
        assert_eq!(report.risks.iter().map(|r| r.severity).collect::<Vec<_>>(), [Severity::Critical]);
    }

    #[test]
    fn bands_and_an_empty_workspace() {
        assert_eq!(
            [85, 84, 70, 69, 50, 49].map(Band::of),
            [Band::Excellent, Band::Good, Band::Good, Band::Warning, Band::Warning, Band::Critical]
        );
        let report = assess(&[], &[], now());
        assert_eq!((report.score, report.band, report.risks.len()), (100, Band::Excellent, 0));
    }
}
