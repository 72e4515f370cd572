//! The demo workspace dev mode starts with.
//!
//! It is built to exercise every rule the agents report on, with all times
//! relative to the moment of seeding so the story is the same whenever it runs:
//!
//! | project | schedule | progress | meant to read as |
//! |---|---|---|---|
//! | Website Redesign | day −21 … +21 (50 % elapsed) | 6/10 | on track |
//! | Mobile App Launch | day −30 … +10 (75 % elapsed) | 6/11 | at risk |
//! | Data Platform Migration | day −40 … +5 (89 % elapsed) | 2/8 | behind |
//! | Security Audit Q3 | day −63 … −7 | 6/6 | completed |
//! | Legacy Intranet Sunset | day −120 … −60, archived | 3/3 | completed |
//!
//! Also: two overdue tasks (Data Platform), three open tasks due within 48 h and
//! a blocker chain of four tasks (Mobile App: store submission ← QA sign-off ←
//! login crash fix ← auth SDK upgrade), Marcus Chen booked for 54 h of open work
//! due within seven days against a 40 h week, and completions spread over the
//! last nine weeks. Every record is written with its activity entries, at the
//! times they would have happened.

use std::collections::HashMap;

use agentdeck_domain::records::{
    ActivityAction, ActivityEntry, Member, MemberRole, Priority, Project, TargetKind, Task, TaskStatus, Workspace,
    stored_precision,
};
use agentdeck_storage::{StoreError, Stores};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

/// Id of the demo workspace (fixed, so scripts and docs can name it).
pub const DEMO_WORKSPACE_ID: Uuid = Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0001);
/// Token subject of the demo user (the workspace owner).
pub const DEMO_USER_ID: &str = "demo";
/// Name of the demo workspace.
pub const DEMO_WORKSPACE_NAME: &str = "Demo Workspace";

/// What [`seed_demo`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedOutcome {
    /// The demo workspace was written now.
    Seeded,
    /// The store already held data; nothing was written.
    AlreadyPresent,
}

struct MemberSpec {
    user: &'static str,
    name: &'static str,
    role: MemberRole,
    capacity: f64,
}

const MEMBERS: &[MemberSpec] = &[
    MemberSpec { user: DEMO_USER_ID, name: "Demo User", role: MemberRole::Owner, capacity: 40.0 },
    MemberSpec { user: "priya", name: "Priya Shah", role: MemberRole::Admin, capacity: 40.0 },
    MemberSpec { user: "marcus", name: "Marcus Chen", role: MemberRole::Member, capacity: 40.0 },
    MemberSpec { user: "sofia", name: "Sofia Alvarez", role: MemberRole::Member, capacity: 32.0 },
    MemberSpec { user: "jonas", name: "Jonas Weber", role: MemberRole::Member, capacity: 40.0 },
];

/// A due time relative to the seeding moment.
#[derive(Clone, Copy)]
enum Due {
    Days(i64),
    Hours(i64),
}

struct TaskSpec {
    title: &'static str,
    status: TaskStatus,
    priority: Priority,
    assignee: &'static str,
    estimate: f64,
    due: Due,
    /// For done tasks: completed this many days before seeding.
    completed_days_ago: Option<i64>,
    /// Titles of tasks (same project, listed earlier) that block this one.
    blocked_by: &'static [&'static str],
}

struct ProjectSpec {
    name: &'static str,
    description: &'static str,
    lead: &'static str,
    start_day: i64,
    due_day: i64,
    archived: bool,
    tasks: &'static [TaskSpec],
}

use Due::{Days, Hours};
use Priority::{High, Low, Medium, Urgent};
use TaskStatus::{Blocked, Done, InProgress, Todo};

const fn task(
    title: &'static str,
    status: TaskStatus,
    priority: Priority,
    assignee: &'static str,
    estimate: f64,
    due: Due,
    completed_days_ago: Option<i64>,
) -> TaskSpec {
    TaskSpec { title, status, priority, assignee, estimate, due, completed_days_ago, blocked_by: &[] }
}

const fn blocked(mut spec: TaskSpec, blocked_by: &'static [&'static str]) -> TaskSpec {
    spec.blocked_by = blocked_by;
    spec
}

const PROJECTS: &[ProjectSpec] = &[
    ProjectSpec {
        name: "Website Redesign",
        description: "A faster, accessible marketing site on the new design system.",
        lead: "priya",
        start_day: -21,
        due_day: 21,
        archived: false,
        tasks: &[
            task("Audit current site analytics", Done, Medium, "priya", 6.0, Days(-18), Some(19)),
            task("Define information architecture", Done, High, "sofia", 10.0, Days(-14), Some(15)),
            task("Design system tokens", Done, High, "sofia", 12.0, Days(-10), Some(11)),
            task("Homepage wireframes", Done, Medium, "sofia", 8.0, Days(-8), Some(8)),
            task("Accessibility review of wireframes", Done, Medium, "jonas", 5.0, Days(-5), Some(6)),
            task("Set up staging environment", Done, Low, "jonas", 4.0, Days(-3), Some(2)),
            task("Build responsive navigation", InProgress, High, "sofia", 10.0, Days(4), None),
            task("Migrate blog content", Todo, Medium, "jonas", 12.0, Days(12), None),
            task("Performance budget and Lighthouse CI", Todo, Medium, "jonas", 6.0, Days(15), None),
            task("Launch checklist", Todo, Low, "priya", 3.0, Days(20), None),
        ],
    },
    ProjectSpec {
        name: "Mobile App Launch",
        description: "Ship the iOS and Android apps to the stores.",
        lead: DEMO_USER_ID,
        start_day: -30,
        due_day: 10,
        archived: false,
        tasks: &[
            task("Finalize onboarding flow", Done, High, "sofia", 8.0, Days(-24), Some(25)),
            task("Push notification service", Done, High, "marcus", 14.0, Days(-20), Some(20)),
            task("App icon and branding", Done, Low, "sofia", 3.0, Days(-16), Some(17)),
            task("In-app purchase integration", Done, Urgent, "marcus", 16.0, Days(-13), Some(12)),
            task("Beta feedback triage", Done, Medium, "priya", 6.0, Days(-9), Some(10)),
            task("Crash reporting setup", Done, Medium, "jonas", 4.0, Days(-4), Some(3)),
            task("Upgrade auth SDK", InProgress, Urgent, "marcus", 16.0, Hours(20), None),
            blocked(
                task("Fix crash on login", Blocked, Urgent, "marcus", 14.0, Hours(30), None),
                &["Upgrade auth SDK"],
            ),
            blocked(task("QA sign-off", Blocked, High, "priya", 8.0, Hours(44), None), &["Fix crash on login"]),
            blocked(task("Submit to app stores", Blocked, High, DEMO_USER_ID, 4.0, Days(6), None), &["QA sign-off"]),
            task("Release notes and store listing", Todo, Medium, "marcus", 12.0, Days(3), None),
        ],
    },
    ProjectSpec {
        name: "Data Platform Migration",
        description: "Move reporting from the legacy ETL cluster to the new warehouse.",
        lead: "priya",
        start_day: -40,
        due_day: 5,
        archived: false,
        tasks: &[
            task("Inventory legacy ETL jobs", Done, High, "jonas", 8.0, Days(-35), Some(34)),
            task("Provision new warehouse", Done, High, "marcus", 10.0, Days(-28), Some(27)),
            task("Migrate customer tables", InProgress, Urgent, "marcus", 12.0, Days(-3), None),
            task("Backfill event history", Todo, High, "jonas", 16.0, Days(-1), None),
            task("Rewrite nightly reports", Todo, Medium, "sofia", 12.0, Days(4), None),
            blocked(
                task("Data quality checks", Blocked, High, "jonas", 8.0, Days(5), None),
                &["Migrate customer tables"],
            ),
            task("Cut over BI dashboards", Todo, Medium, "priya", 6.0, Days(5), None),
            task("Decommission old cluster", Todo, Low, "jonas", 4.0, Days(10), None),
        ],
    },
    ProjectSpec {
        name: "Security Audit Q3",
        description: "External penetration test and remediation of its findings.",
        lead: DEMO_USER_ID,
        start_day: -63,
        due_day: -7,
        archived: false,
        tasks: &[
            task("Scope the audit with the vendor", Done, High, DEMO_USER_ID, 4.0, Days(-56), Some(55)),
            task("Rotate production secrets", Done, Urgent, "marcus", 6.0, Days(-49), Some(48)),
            task("Patch dependency CVEs", Done, High, "jonas", 10.0, Days(-41), Some(40)),
            task("Enable SSO for admin tools", Done, Medium, "priya", 8.0, Days(-34), Some(33)),
            task("Fix findings from the pen test", Done, Urgent, "marcus", 16.0, Days(-26), Some(26)),
            task("Publish the audit report", Done, Medium, DEMO_USER_ID, 3.0, Days(-8), Some(9)),
        ],
    },
    ProjectSpec {
        name: "Legacy Intranet Sunset",
        description: "Retire the old intranet after moving its pages to the wiki.",
        lead: "priya",
        start_day: -120,
        due_day: -60,
        archived: true,
        tasks: &[
            task("Export intranet pages", Done, Medium, "sofia", 6.0, Days(-100), Some(70)),
            task("Redirect old URLs", Done, Low, "jonas", 3.0, Days(-80), Some(65)),
            task("Shut down intranet servers", Done, Medium, "marcus", 4.0, Days(-62), Some(62)),
        ],
    },
];

/// Writes the demo workspace if the store holds no workspace yet (a first start).
pub async fn seed_demo(stores: &Stores, now: DateTime<Utc>) -> Result<SeedOutcome, StoreError> {
    if stores.workspaces.count_workspaces().await? > 0 {
        return Ok(SeedOutcome::AlreadyPresent);
    }
    let now = stored_precision(now);
    let day = |offset: i64| now + Duration::days(offset);
    stores
        .workspaces
        .insert_workspace(&Workspace {
            id: DEMO_WORKSPACE_ID,
            name: DEMO_WORKSPACE_NAME.into(),
            disabled: false,
            created_at: day(-130),
        })
        .await?;

    let mut member_ids = HashMap::new();
    for (index, spec) in MEMBERS.iter().enumerate() {
        let joined = day(-125) + Duration::hours(index as i64);
        let member = Member {
            id: Uuid::now_v7(),
            workspace_id: DEMO_WORKSPACE_ID,
            user_id: spec.user.into(),
            display_name: spec.name.into(),
            email: Some(format!("{}@demo.agentdeck.dev", spec.user)),
            role: spec.role,
            weekly_capacity_hours: spec.capacity,
            created_at: joined,
            updated_at: joined,
            revision: 1,
        };
        let activity =
            activity(DEMO_USER_ID, ActivityAction::MemberAdded, TargetKind::Member, member.id, spec.name, None, joined);
        stores.members.insert_member(&member, &activity).await?;
        member_ids.insert(spec.user, member.id);
    }

    for spec in PROJECTS {
        seed_project(stores, spec, now, &member_ids).await?;
    }
    Ok(SeedOutcome::Seeded)
}

async fn seed_project(
    stores: &Stores,
    spec: &ProjectSpec,
    now: DateTime<Utc>,
    member_ids: &HashMap<&str, Uuid>,
) -> Result<(), StoreError> {
    let started = now + Duration::days(spec.start_day);
    let project = Project {
        id: Uuid::now_v7(),
        workspace_id: DEMO_WORKSPACE_ID,
        name: spec.name.into(),
        description: spec.description.into(),
        start_date: Some(started),
        due_date: Some(now + Duration::days(spec.due_day)),
        archived: false,
        created_at: started - Duration::days(2),
        updated_at: started - Duration::days(2),
        revision: 1,
    };
    let created = activity(
        spec.lead,
        ActivityAction::ProjectCreated,
        TargetKind::Project,
        project.id,
        spec.name,
        Some(project.id),
        project.created_at,
    );
    stores.projects.insert_project(&project, &created).await?;

    let seeder = TaskSeeder { stores, project: spec, project_id: project.id, started, now, member_ids };
    let mut task_ids: HashMap<&str, Uuid> = HashMap::new();
    for (index, task_spec) in spec.tasks.iter().enumerate() {
        let id = seeder.seed(index, task_spec, &task_ids).await?;
        task_ids.insert(task_spec.title, id);
    }

    if spec.archived {
        let archived_at = now + Duration::days(spec.due_day) + Duration::days(3);
        let archived = Project { archived: true, updated_at: archived_at, revision: 2, ..project };
        let mut entry = activity(
            spec.lead,
            ActivityAction::ProjectArchived,
            TargetKind::Project,
            archived.id,
            spec.name,
            Some(archived.id),
            archived_at,
        );
        entry.details = json!({ "fields": ["archived"] });
        stores.projects.update_project(&archived, &entry).await?;
    }
    Ok(())
}

/// What seeding the tasks of one project needs.
struct TaskSeeder<'a> {
    stores: &'a Stores,
    project: &'a ProjectSpec,
    project_id: Uuid,
    /// When the project started.
    started: DateTime<Utc>,
    now: DateTime<Utc>,
    member_ids: &'a HashMap<&'a str, Uuid>,
}

impl TaskSeeder<'_> {
    /// Creates the project's `index`th task, blocked by the tasks of `task_ids`
    /// its spec names, and completes it when its spec says so; returns its id.
    async fn seed(&self, index: usize, spec: &TaskSpec, task_ids: &HashMap<&str, Uuid>) -> Result<Uuid, StoreError> {
        let (now, lead, project_id) = (self.now, self.project.lead, Some(self.project_id));
        let created_at = self.started + Duration::hours(index as i64 * 3);
        let due = match spec.due {
            Days(days) => now + Duration::days(days),
            Hours(hours) => now + Duration::hours(hours),
        };
        let blocked_by = spec.blocked_by.iter().filter_map(|title| task_ids.get(title).copied()).collect();
        let open_status = if spec.status == Done { InProgress } else { spec.status };
        let task = Task {
            id: Uuid::now_v7(),
            workspace_id: DEMO_WORKSPACE_ID,
            project_id: self.project_id,
            title: spec.title.into(),
            description: String::new(),
            status: open_status,
            priority: spec.priority,
            assignee_id: self.member_ids.get(spec.assignee).copied(),
            estimate_hours: Some(spec.estimate),
            due_date: Some(due),
            completed_at: None,
            blocked_by,
            created_at,
            updated_at: created_at,
            revision: 1,
        };
        let entry =
            activity(lead, ActivityAction::TaskCreated, TargetKind::Task, task.id, spec.title, project_id, created_at);
        self.stores.tasks.insert_task(&task, &entry).await?;
        let id = task.id;
        if let Some(days_ago) = spec.completed_days_ago {
            // Completion is its own change, written at the time it happened.
            let completed_at = now - Duration::days(days_ago) + Duration::hours(index as i64 % 5);
            let done =
                Task { status: Done, completed_at: Some(completed_at), updated_at: completed_at, revision: 2, ..task };
            let mut entry = activity(
                spec.assignee,
                ActivityAction::TaskCompleted,
                TargetKind::Task,
                done.id,
                spec.title,
                project_id,
                completed_at,
            );
            entry.details = json!({ "fields": ["status", "completedAt"], "from": open_status, "to": "done" });
            self.stores.tasks.update_task(&done, &entry).await?;
        }
        Ok(id)
    }
}

fn activity(
    actor: &str,
    action: ActivityAction,
    target_kind: TargetKind,
    target_id: Uuid,
    target_name: &str,
    project_id: Option<Uuid>,
    at: DateTime<Utc>,
) -> ActivityEntry {
    ActivityEntry {
        id: Uuid::now_v7(),
        workspace_id: DEMO_WORKSPACE_ID,
        project_id,
        actor: actor.into(),
        action,
        target_kind,
        target_id,
        target_name: target_name.into(),
        details: json!({}),
        at,
    }
}
