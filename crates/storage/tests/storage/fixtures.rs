//! Records to store: every field set, times on whole milliseconds (what the store
//! keeps), and a clock that hands out strictly increasing times.

use std::cell::Cell;

use agentdeck_domain::page::{Page, PageRequest};
use agentdeck_domain::records::{
    ActivityAction, ActivityEntry, Member, MemberRole, Priority, Project, TargetKind, Task, TaskStatus, Workspace,
};
use agentdeck_storage::Stores;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::TestDb;

/// 2026-03-01T00:00:00Z: the time every fixture counts from.
const T0_MS: i64 = 1_772_323_200_000;

/// How many migrations the backend's folder (`sqlite` or `postgres`) holds: what a new database runs.
pub fn migration_files(backend: &str) -> anyhow::Result<usize> {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
    let mut count = 0;
    for entry in std::fs::read_dir(folder)? {
        count += usize::from(entry?.path().extension().is_some_and(|extension| extension == "sql"));
    }
    Ok(count)
}

/// `T0 + offset` milliseconds.
pub fn at(offset_ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(T0_MS + offset_ms).expect("fixture time in range")
}

/// One workspace of a test, with helpers to fill it.
pub struct Fx {
    pub stores: Stores,
    pub ws: Uuid,
    clock: Cell<i64>,
}

impl Fx {
    /// Creates a workspace in the test database.
    pub async fn new(db: &TestDb) -> anyhow::Result<Self> {
        let workspace = Workspace { id: Uuid::now_v7(), name: "Acme".into(), disabled: false, created_at: at(0) };
        db.stores.workspaces.insert_workspace(&workspace).await?;
        Ok(Self { stores: db.stores.clone(), ws: workspace.id, clock: Cell::new(0) })
    }

    /// The next time on this workspace's clock (1 s apart).
    pub fn tick(&self) -> DateTime<Utc> {
        self.clock.set(self.clock.get() + 1000);
        at(self.clock.get())
    }

    /// An activity entry about a record, at the next tick.
    pub fn entry(&self, action: ActivityAction, target_id: Uuid, project_id: Option<Uuid>) -> ActivityEntry {
        let target_kind = match action.as_str().split('.').next() {
            Some("project") => TargetKind::Project,
            Some("task") => TargetKind::Task,
            _ => TargetKind::Member,
        };
        let at = self.tick();
        ActivityEntry {
            id: Uuid::now_v7(),
            workspace_id: self.ws,
            project_id,
            actor: "user-ada".into(),
            action,
            target_kind,
            target_id,
            target_name: format!("{} {target_id}", action.as_str()),
            details: serde_json::json!({"from": "todo", "to": "done", "n": at.timestamp_millis()}),
            at,
        }
    }

    /// A project of this workspace (not stored) created at the next tick.
    pub fn project(&self, name: &str) -> Project {
        let created = self.tick();
        Project {
            id: Uuid::now_v7(),
            workspace_id: self.ws,
            name: name.into(),
            description: format!("About {name}"),
            start_date: Some(at(-86_400_000)),
            due_date: Some(at(86_400_000)),
            archived: false,
            created_at: created,
            updated_at: created,
            revision: 1,
        }
    }

    /// A member of this workspace (not stored) created at the next tick.
    pub fn member(&self, user_id: &str) -> Member {
        let created = self.tick();
        Member {
            id: Uuid::now_v7(),
            workspace_id: self.ws,
            user_id: user_id.into(),
            display_name: format!("User {user_id}"),
            email: Some(format!("{user_id}@example.com")),
            role: MemberRole::Admin,
            weekly_capacity_hours: 37.5,
            created_at: created,
            updated_at: created,
            revision: 1,
        }
    }

    /// A task of this workspace (not stored) created at the next tick.
    pub fn task(&self, project_id: Uuid, title: &str) -> Task {
        let created = self.tick();
        Task {
            id: Uuid::now_v7(),
            workspace_id: self.ws,
            project_id,
            title: title.into(),
            description: format!("Do {title}"),
            status: TaskStatus::InProgress,
            priority: Priority::High,
            assignee_id: None,
            estimate_hours: Some(2.5),
            due_date: Some(at(7 * 86_400_000)),
            completed_at: None,
            blocked_by: Vec::new(),
            created_at: created,
            updated_at: created,
            revision: 1,
        }
    }

    /// Stores a new project.
    pub async fn add_project(&self, name: &str) -> anyhow::Result<Project> {
        let project = self.project(name);
        let entry = self.entry(ActivityAction::ProjectCreated, project.id, Some(project.id));
        self.stores.projects.insert_project(&project, &entry).await?;
        Ok(project)
    }

    /// Stores a new member.
    pub async fn add_member(&self, user_id: &str) -> anyhow::Result<Member> {
        let member = self.member(user_id);
        let entry = self.entry(ActivityAction::MemberAdded, member.id, None);
        self.stores.members.insert_member(&member, &entry).await?;
        Ok(member)
    }

    /// Stores a new task with these blockers.
    pub async fn add_task(&self, project_id: Uuid, title: &str, blocked_by: &[Uuid]) -> anyhow::Result<Task> {
        let mut task = self.task(project_id, title);
        task.blocked_by = blocked_by.to_vec();
        let entry = self.entry(ActivityAction::TaskCreated, task.id, Some(project_id));
        self.stores.tasks.insert_task(&task, &entry).await?;
        Ok(task)
    }

    /// Replaces a task's links (one revision later) and stores it.
    pub async fn set_blockers(&self, task: &Task, blocked_by: &[Uuid]) -> Result<Task, agentdeck_storage::StoreError> {
        let mut next = task.clone();
        next.blocked_by = blocked_by.to_vec();
        next.revision += 1;
        next.updated_at = self.tick();
        let entry = self.entry(ActivityAction::TaskUpdated, task.id, Some(task.project_id));
        self.stores.tasks.update_task(&next, &entry).await?;
        Ok(next)
    }

    /// Every activity entry of the workspace, newest first.
    pub async fn all_activity(&self) -> anyhow::Result<Vec<ActivityEntry>> {
        let page = self.stores.activity.list_activity(self.ws, &Default::default(), PageRequest::first(200)).await?;
        Ok(page.items)
    }
}

/// Reads every page of a list with `limit` items a page, checking that only the
/// last page lacks a cursor, and returns the items in order.
pub async fn read_all_pages<T, F, Fut>(limit: u32, mut read: F) -> anyhow::Result<(Vec<T>, usize)>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, agentdeck_storage::StoreError>>,
{
    let mut items = Vec::new();
    let mut request = PageRequest::first(limit);
    let mut pages = 0;
    loop {
        let page = read(request).await?;
        pages += 1;
        anyhow::ensure!(page.items.len() <= limit as usize, "page longer than its limit");
        items.extend(page.items);
        match page.next_cursor {
            Some(cursor) => {
                let after = agentdeck_domain::page::Cursor::decode(&cursor)?;
                request = PageRequest { limit, after: Some(after) };
            }
            None => return Ok((items, pages)),
        }
        anyhow::ensure!(pages < 100, "pagination does not end");
    }
}
