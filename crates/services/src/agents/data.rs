//! What the project agents read: a workspace's records, all pages of them,
//! and the request's optional project, plus the widget answer they share.
//!
//! A caller in this process (the gateway) may have read the projects already
//! and hand them over with the request ([`crate::a2a::Handover`]); they are
//! used instead of a second read. It may also take over the check of the
//! answer's widgets, which it does anyway ([`validated`]).

use std::borrow::Cow;
use std::collections::HashMap;

use agentdeck_a2a_protocol::{Artifact, Part};
use agentdeck_domain::page::{Cursor, PageRequest};
use agentdeck_domain::records::{Member, Project, ProjectFilter, Task, TaskFilter};
use agentdeck_domain::widgets::catalog;
use agentdeck_storage::{StoreError, Stores};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::a2a::{AgentFailure, AgentRequest};

/// Items read per page while loading a workspace.
const PAGE: u32 = 200;
/// Most records of one kind an answer reads (a bound on work per call).
const MAX_RECORDS: usize = 20_000;

/// A workspace's records at one moment (the projects borrowed when they were handed over).
pub(crate) struct Snapshot<'a> {
    pub projects: Cow<'a, [Project]>,
    pub tasks: Vec<Task>,
    pub members: Vec<Member>,
}

impl Snapshot<'_> {
    /// The tasks of a project.
    pub fn tasks_of(&self, project: Uuid) -> Vec<&Task> {
        self.tasks.iter().filter(|task| task.project_id == project).collect()
    }

    /// Member display names by id.
    pub fn names(&self) -> HashMap<Uuid, &str> {
        self.members.iter().map(|m| (m.id, m.display_name.as_str())).collect()
    }
}

fn failure(error: impl std::fmt::Display) -> AgentFailure {
    AgentFailure(format!("cannot read the project data: {error}"))
}

async fn all_pages<T, F, Fut>(mut fetch: F) -> Result<Vec<T>, StoreError>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<agentdeck_domain::page::Page<T>, StoreError>>,
{
    let mut items = Vec::new();
    let mut after: Option<Cursor> = None;
    loop {
        let page = fetch(PageRequest { limit: PAGE, after }).await?;
        items.extend(page.items);
        match page.next_cursor {
            Some(cursor) if items.len() < MAX_RECORDS => {
                let cursor = Cursor::decode(&cursor).map_err(|e| StoreError::Corrupt(format!("a page cursor: {e}")))?;
                after = Some(cursor);
            }
            _ => return Ok(items),
        }
    }
}

/// Reads the workspace's projects, archived ones too, every page (all an
/// answer needs to know which project a request names).
pub(crate) async fn read_projects(stores: &Stores, workspace: Uuid) -> Result<Vec<Project>, StoreError> {
    let every_project = ProjectFilter::default();
    all_pages(|page| stores.projects.list_projects(workspace, &every_project, page)).await
}

/// The workspace's projects: those the caller handed over, else read.
pub(crate) async fn projects_for<'a>(
    stores: &Stores,
    request: &'a AgentRequest,
) -> Result<Cow<'a, [Project]>, AgentFailure> {
    let workspace = workspace_of(request)?;
    match request.handover.projects_of(workspace) {
        Some(projects) => Ok(Cow::Borrowed(projects)),
        None => Ok(Cow::Owned(read_projects(stores, workspace).await.map_err(failure)?)),
    }
}

/// The request's workspace: its projects (archived ones too), tasks and members.
pub(crate) async fn load<'a>(stores: &Stores, request: &'a AgentRequest) -> Result<Snapshot<'a>, AgentFailure> {
    let workspace = workspace_of(request)?;
    let projects = projects_for(stores, request).await?;
    let every_task = TaskFilter::default();
    let tasks = all_pages(|page| stores.tasks.list_tasks(workspace, &every_task, page)).await.map_err(failure)?;
    let members = all_pages(|page| stores.members.list_members(workspace, page)).await.map_err(failure)?;
    Ok(Snapshot { projects, tasks, members })
}

/// The workspace of an authenticated request.
pub(crate) fn workspace_of(request: &AgentRequest) -> Result<Uuid, AgentFailure> {
    request
        .principal
        .as_ref()
        .map(|principal| principal.workspace_id)
        .ok_or_else(|| AgentFailure("this agent answers authenticated callers only".into()))
}

/// The project a request names: `projectId` in a data part or the metadata, or a
/// project name in the text ("how is Website Redesign doing"), matched as the
/// gateway matches it ([`agentdeck_domain::intent::named_project`]).
pub(crate) fn requested_project<'a>(
    request: &AgentRequest,
    projects: &'a [Project],
) -> Result<Option<&'a Project>, AgentFailure> {
    let from_data = request.message.parts.iter().find_map(|part| match &part.content {
        agentdeck_a2a_protocol::PartContent::Data(data) => {
            data.get("projectId").and_then(Value::as_str).map(str::to_owned)
        }
        _ => None,
    });
    let from_metadata =
        request.metadata.as_ref().and_then(|m| m.get("projectId")).and_then(Value::as_str).map(str::to_owned);
    if let Some(id) = from_data.or(from_metadata) {
        let project = Uuid::parse_str(&id).ok().and_then(|id| projects.iter().find(|p| p.id == id));
        return project.map(Some).ok_or_else(|| AgentFailure(format!("no project {id} in this workspace")));
    }
    let names: Vec<(Uuid, String)> = projects.iter().map(|p| (p.id, p.name.clone())).collect();
    let named = agentdeck_domain::intent::named_project(request.message.first_text().unwrap_or_default(), &names);
    Ok(named.and_then(|id| projects.iter().find(|p| p.id == id)))
}

/// Checks every widget against the catalog: an agent never answers with an
/// invalid one. Skipped when the caller said it checks them itself (the
/// gateway, in process): one check per widget, not two.
pub(crate) fn validated(widgets: Vec<Value>, request: &AgentRequest) -> Result<Vec<Value>, AgentFailure> {
    if request.handover.caller_checks_widgets {
        return Ok(widgets);
    }
    for widget in &widgets {
        catalog()
            .validate_widget(widget)
            .map_err(|error| AgentFailure(format!("an answer widget is invalid (a bug): {error}")))?;
    }
    Ok(widgets)
}

/// The answer artifact: a short text and the widgets as data.
pub(crate) fn answer(text: &str, widgets: Vec<Value>) -> Artifact {
    Artifact {
        artifact_id: Uuid::now_v7().to_string(),
        name: Some("widgets".into()),
        description: Some("Widget payloads, checked against the widget catalog".into()),
        parts: vec![Part::text(text), Part::data(json!({ "widgets": widgets }))],
        ..Artifact::default()
    }
}

/// RFC 3339 with milliseconds, as widgets carry times.
pub(crate) fn time(at: chrono::DateTime<chrono::Utc>) -> String {
    agentdeck_a2a_protocol::format_timestamp(&at)
}

#[cfg(test)]
mod tests {
    use agentdeck_a2a_protocol::Message;

    use super::*;
    use crate::a2a::Handover;

    fn request(caller_checks_widgets: bool) -> AgentRequest {
        AgentRequest {
            message: Message::user_text("m-1", "status"),
            previous: None,
            bearer: None,
            principal: None,
            metadata: None,
            handover: Handover { records: None, caller_checks_widgets },
        }
    }

    #[test]
    fn widgets_are_checked_here_unless_the_caller_checks_them() {
        let invalid = vec![json!({"type": "NoSuchWidget", "data": {}})];
        let refused = validated(invalid.clone(), &request(false)).unwrap_err();
        assert!(refused.0.contains("an answer widget is invalid"), "{refused}");
        // The gateway checks every widget itself (an invalid one becomes an Error widget there).
        assert_eq!(validated(invalid.clone(), &request(true)), Ok(invalid));
    }
}
