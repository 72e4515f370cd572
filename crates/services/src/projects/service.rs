use std::future::Future;

use agentdeck_domain::auth::{Principal, Role};
use agentdeck_domain::page::{Cursor, MAX_PAGE_LIMIT, Page, PageRequest};
use agentdeck_domain::records::{
    ActivityAction, ActivityEntry, ActivityFilter, Member, MemberChanges, MemberRole, NewMember, NewProject, NewTask,
    Project, ProjectChanges, ProjectFilter, Task, TaskChanges, TaskFilter, stored_precision,
};
use agentdeck_domain::validation::{FieldError, ValidationErrors};
use agentdeck_storage::Stores;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::activity::{Target, changed_fields, entry, project_update_action, task_update_action};
use super::{ServiceError, require_member_manager};

/// How often an update is retried when another write moved the record on meanwhile.
const MAX_UPDATE_ATTEMPTS: usize = 3;

/// Projects, tasks, members and activity of the caller's workspace.
#[derive(Clone)]
pub struct ProjectService {
    stores: Stores,
    /// Told the workspace of every write (live refresh of dashboards listens).
    changes: Option<tokio::sync::broadcast::Sender<Uuid>>,
}

fn now() -> DateTime<Utc> {
    stored_precision(Utc::now())
}

/// Runs a read-modify-write until it lands or runs out of attempts.
async fn retry_on_conflict<T, F, Fut>(mut attempt: F) -> Result<T, ServiceError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ServiceError>>,
{
    for _ in 0..MAX_UPDATE_ATTEMPTS {
        match attempt().await {
            Err(ServiceError::Conflict) => continue,
            result => return result,
        }
    }
    Err(ServiceError::Conflict)
}

impl ProjectService {
    /// Serves project data from `stores`.
    pub fn new(stores: Stores) -> Self {
        Self { stores, changes: None }
    }

    /// The same service, announcing the workspace of every write on `changes`.
    pub fn announcing(mut self, changes: tokio::sync::broadcast::Sender<Uuid>) -> Self {
        self.changes = Some(changes);
        self
    }

    fn announce(&self, workspace: Uuid) {
        if let Some(changes) = &self.changes {
            // No listener is fine.
            let _ = changes.send(workspace);
        }
    }

    /// Creates a project.
    pub async fn create_project(&self, who: &Principal, input: NewProject) -> Result<Project, ServiceError> {
        let at = now();
        let project = input.into_project(who.workspace_id, at)?;
        let activity = entry(who, ActivityAction::ProjectCreated, Target::project(&project), json!({}), at);
        self.stores
            .projects
            .insert_project(&project, &activity)
            .await
            .map_err(|error| ServiceError::from_store("project", error))
            .inspect(|_| self.announce(who.workspace_id))?;
        Ok(project)
    }

    /// Reads a project.
    pub async fn get_project(&self, who: &Principal, id: Uuid) -> Result<Project, ServiceError> {
        self.stores
            .projects
            .get_project(who.workspace_id, id)
            .await
            .map_err(|error| ServiceError::from_store("project", error))?
            .ok_or(ServiceError::NotFound("project"))
    }

    /// Lists projects.
    pub async fn list_projects(
        &self,
        who: &Principal,
        filter: &ProjectFilter,
        page: PageRequest,
    ) -> Result<Page<Project>, ServiceError> {
        self.stores
            .projects
            .list_projects(who.workspace_id, filter, page)
            .await
            .map_err(|error| ServiceError::from_store("project", error))
    }

    /// Changes a project.
    pub async fn update_project(
        &self,
        who: &Principal,
        id: Uuid,
        changes: ProjectChanges,
    ) -> Result<Project, ServiceError> {
        retry_on_conflict(|| async {
            let current = self.get_project(who, id).await?;
            let at = now();
            let next = current.apply(changes.clone(), at)?;
            let action = project_update_action(&current, &next);
            let activity = entry(who, action, Target::project(&next), changed_fields(&current, &next), at);
            self.stores
                .projects
                .update_project(&next, &activity)
                .await
                .map_err(|error| ServiceError::from_store("project", error))
                .inspect(|_| self.announce(who.workspace_id))?;
            Ok(next)
        })
        .await
    }

    /// Deletes a project and its tasks (owners and admins only).
    pub async fn delete_project(&self, who: &Principal, id: Uuid) -> Result<(), ServiceError> {
        if !matches!(who.role, Role::Owner | Role::Admin) {
            return Err(ServiceError::Forbidden("only owners and admins may delete projects"));
        }
        let project = self.get_project(who, id).await?;
        let activity = entry(who, ActivityAction::ProjectDeleted, Target::project(&project), json!({}), now());
        self.stores
            .projects
            .delete_project(who.workspace_id, id, &activity)
            .await
            .map_err(|error| ServiceError::from_store("project", error))
            .inspect(|_| self.announce(who.workspace_id))
    }

    /// Creates a task.
    pub async fn create_task(&self, who: &Principal, input: NewTask) -> Result<Task, ServiceError> {
        let at = now();
        let task = input.into_task(who.workspace_id, at)?;
        let activity = entry(who, ActivityAction::TaskCreated, Target::task(&task), json!({}), at);
        self.stores
            .tasks
            .insert_task(&task, &activity)
            .await
            .map_err(|error| ServiceError::from_store("task", error))
            .inspect(|_| self.announce(who.workspace_id))?;
        Ok(task)
    }

    /// Reads a task.
    pub async fn get_task(&self, who: &Principal, id: Uuid) -> Result<Task, ServiceError> {
        self.stores
            .tasks
            .get_task(who.workspace_id, id)
            .await
            .map_err(|error| ServiceError::from_store("task", error))?
            .ok_or(ServiceError::NotFound("task"))
    }

    /// Lists tasks.
    pub async fn list_tasks(
        &self,
        who: &Principal,
        filter: &TaskFilter,
        page: PageRequest,
    ) -> Result<Page<Task>, ServiceError> {
        self.stores
            .tasks
            .list_tasks(who.workspace_id, filter, page)
            .await
            .map_err(|error| ServiceError::from_store("task", error))
    }

    /// Changes a task; moving it to `done` records a completion.
    pub async fn update_task(&self, who: &Principal, id: Uuid, changes: TaskChanges) -> Result<Task, ServiceError> {
        retry_on_conflict(|| async {
            let current = self.get_task(who, id).await?;
            let at = now();
            let next = current.apply(changes.clone(), at)?;
            let (action, details) = task_update_action(&current, &next);
            let activity = entry(who, action, Target::task(&next), details, at);
            self.stores
                .tasks
                .update_task(&next, &activity)
                .await
                .map_err(|error| ServiceError::from_store("task", error))
                .inspect(|_| self.announce(who.workspace_id))?;
            Ok(next)
        })
        .await
    }

    /// Deletes a task and its links.
    pub async fn delete_task(&self, who: &Principal, id: Uuid) -> Result<(), ServiceError> {
        let task = self.get_task(who, id).await?;
        let activity = entry(who, ActivityAction::TaskDeleted, Target::task(&task), json!({}), now());
        self.stores
            .tasks
            .delete_task(who.workspace_id, id, &activity)
            .await
            .map_err(|error| ServiceError::from_store("task", error))
            .inspect(|_| self.announce(who.workspace_id))
    }

    /// Adds a member (owners and admins only).
    pub async fn create_member(&self, who: &Principal, input: NewMember) -> Result<Member, ServiceError> {
        require_member_manager(who)?;
        let at = now();
        let member = input.into_member(who.workspace_id, at)?;
        if member.role == MemberRole::Owner && who.role != Role::Owner {
            return Err(ServiceError::Forbidden("only owners may add owners"));
        }
        let activity = entry(who, ActivityAction::MemberAdded, Target::member(&member), json!({}), at);
        self.stores
            .members
            .insert_member(&member, &activity)
            .await
            .map_err(|error| ServiceError::from_store("member", error))
            .inspect(|_| self.announce(who.workspace_id))?;
        Ok(member)
    }

    /// Reads a member.
    pub async fn get_member(&self, who: &Principal, id: Uuid) -> Result<Member, ServiceError> {
        self.stores
            .members
            .get_member(who.workspace_id, id)
            .await
            .map_err(|error| ServiceError::from_store("member", error))?
            .ok_or(ServiceError::NotFound("member"))
    }

    /// Lists members.
    pub async fn list_members(&self, who: &Principal, page: PageRequest) -> Result<Page<Member>, ServiceError> {
        self.stores
            .members
            .list_members(who.workspace_id, page)
            .await
            .map_err(|error| ServiceError::from_store("member", error))
    }

    /// Changes a member (owners and admins only; the last owner stays an owner).
    pub async fn update_member(
        &self,
        who: &Principal,
        id: Uuid,
        changes: MemberChanges,
    ) -> Result<Member, ServiceError> {
        require_member_manager(who)?;
        retry_on_conflict(|| async {
            let current = self.get_member(who, id).await?;
            let at = now();
            let next = current.apply(changes.clone(), at)?;
            if (current.role == MemberRole::Owner) != (next.role == MemberRole::Owner) && who.role != Role::Owner {
                return Err(ServiceError::Forbidden("only owners may grant or revoke the owner role"));
            }
            if current.role == MemberRole::Owner && next.role != MemberRole::Owner {
                self.ensure_another_owner(who, id).await?;
            }
            let activity =
                entry(who, ActivityAction::MemberUpdated, Target::member(&next), changed_fields(&current, &next), at);
            self.stores
                .members
                .update_member(&next, &activity)
                .await
                .map_err(|error| ServiceError::from_store("member", error))
                .inspect(|_| self.announce(who.workspace_id))?;
            Ok(next)
        })
        .await
    }

    /// Removes a member (owners and admins only; never the last owner).
    pub async fn delete_member(&self, who: &Principal, id: Uuid) -> Result<Member, ServiceError> {
        require_member_manager(who)?;
        let member = self.get_member(who, id).await?;
        if member.role == MemberRole::Owner {
            if who.role != Role::Owner {
                return Err(ServiceError::Forbidden("only owners may remove owners"));
            }
            self.ensure_another_owner(who, id).await?;
        }
        let activity = entry(who, ActivityAction::MemberRemoved, Target::member(&member), json!({}), now());
        self.stores
            .members
            .delete_member(who.workspace_id, id, &activity)
            .await
            .map_err(|error| ServiceError::from_store("member", error))?;
        self.announce(who.workspace_id);
        Ok(member)
    }

    /// Lists activity entries.
    pub async fn list_activity(
        &self,
        who: &Principal,
        filter: &ActivityFilter,
        page: PageRequest,
    ) -> Result<Page<ActivityEntry>, ServiceError> {
        self.stores
            .activity
            .list_activity(who.workspace_id, filter, page)
            .await
            .map_err(|error| ServiceError::from_store("activity", error))
    }

    /// Refuses to leave a workspace without an owner.
    async fn ensure_another_owner(&self, who: &Principal, leaving: Uuid) -> Result<(), ServiceError> {
        let mut page = PageRequest::first(MAX_PAGE_LIMIT);
        loop {
            let members = self.list_members(who, page).await?;
            if members.items.iter().any(|member| member.role == MemberRole::Owner && member.id != leaving) {
                return Ok(());
            }
            let next = members.next_cursor.as_deref().and_then(|cursor| Cursor::decode(cursor).ok());
            let Some(after) = next else {
                return Err(ServiceError::Invalid(ValidationErrors(vec![FieldError::new(
                    "/role",
                    "a workspace must keep at least one owner",
                )])));
            };
            page.after = Some(after);
        }
    }
}
