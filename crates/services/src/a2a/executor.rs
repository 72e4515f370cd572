//! What a hosted agent implements, and the handle it reports progress through.

use std::sync::Arc;

use agentdeck_a2a_protocol::{
    AgentSkill, Artifact, Message, Metadata, Part, StreamResponse, Task, TaskArtifactUpdateEvent, TaskState,
};
use async_trait::async_trait;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use super::live::{Emitted, LiveTask};

/// Who a hosted agent is, for its card and for routing.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentDescriptor {
    /// The URL name (`/a2a/{name}`): lowercase letters, digits and `-`.
    pub name: String,
    /// The card's `name`.
    pub display_name: String,
    /// The card's `description`.
    pub description: String,
    /// The card's skills.
    pub skills: Vec<AgentSkill>,
    /// Output media types.
    pub output_modes: Vec<String>,
    /// Whether callers without a bearer token are served (each such call is
    /// its own anonymous scope's); only the conformance agent does.
    pub allow_anonymous: bool,
}

/// One message to an agent, with what it needs to answer.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRequest {
    /// The message (ids filled in: `taskId`, `contextId`).
    pub message: Message,
    /// The task as it was before this message; `None` for a new task.
    pub previous: Option<Task>,
    /// The caller's bearer token, for calls the agent makes on the caller's behalf.
    pub bearer: Option<String>,
    /// The caller (`None` for anonymous callers).
    pub principal: Option<agentdeck_domain::auth::Principal>,
    /// The send request's metadata.
    pub metadata: Option<Metadata>,
    /// What an in-process caller already did for this request (nothing for calls over HTTP).
    pub handover: Handover,
}

/// What an in-process caller (the gateway) already did for a request, so the
/// agent need not do it again. Calls over HTTP hand nothing over: a remote
/// caller's word is not taken for the records of a workspace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Handover {
    /// Records of the caller's workspace read just before the call.
    pub records: Option<Arc<WorkspaceRecords>>,
    /// The caller checks every widget of the answer against the catalog
    /// itself, so the agent's own check would be a second one.
    pub caller_checks_widgets: bool,
}

/// Records of one workspace, read once by a caller for every agent it calls.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkspaceRecords {
    /// The workspace they belong to (an agent uses them only for this workspace).
    pub workspace_id: uuid::Uuid,
    /// All its projects, archived ones too, every page.
    pub projects: Vec<agentdeck_domain::records::Project>,
}

impl Handover {
    /// The projects handed over for `workspace`, if any were.
    pub fn projects_of(&self, workspace: uuid::Uuid) -> Option<&[agentdeck_domain::records::Project]> {
        self.records.as_deref().filter(|records| records.workspace_id == workspace).map(|r| r.projects.as_slice())
    }
}

/// Why an agent could not finish; the task ends `FAILED` with this text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AgentFailure(pub String);

/// A hosted A2A agent.
#[async_trait]
pub trait AgentExecutor: Send + Sync + 'static {
    /// Its name, card fields and skills.
    fn descriptor(&self) -> &AgentDescriptor;

    /// A direct reply (no task is made) when the agent answers this message
    /// that way; asked before any task exists, and only for new conversations.
    async fn reply(&self, _request: &AgentRequest) -> Option<Message> {
        None
    }

    /// Works the task, reporting through `updates`, until it is finished or
    /// waits for input. Returning without a final state fails the task.
    async fn execute(&self, request: AgentRequest, updates: TaskUpdater) -> Result<(), AgentFailure>;
}

/// The task was finished (or canceled) meanwhile: stop working.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the task is no longer running: {0}")]
pub struct Stopped(pub String);

/// How a running agent changes its task. Every call is persisted and sent to
/// every stream of the task before it returns.
#[derive(Clone)]
pub struct TaskUpdater {
    pub(super) live: Arc<LiveTask>,
    pub(super) cancel: CancellationToken,
    /// Counts what the agent answers.
    pub(super) meter: Option<Arc<crate::metering::Meter>>,
}

impl TaskUpdater {
    /// The task's id.
    pub fn task_id(&self) -> &str {
        &self.live.id
    }

    /// The task's context id.
    pub fn context_id(&self) -> &str {
        &self.live.context_id
    }

    /// Resolves when the task is canceled (or the server shuts down).
    pub fn cancelled(&self) -> WaitForCancellationFuture<'_> {
        self.cancel.cancelled()
    }

    /// An agent message of this task, of one text part.
    pub fn agent_message(&self, text: &str) -> Message {
        self.agent_message_of(vec![Part::text(text)])
    }

    /// An agent message of this task, of these parts.
    pub fn agent_message_of(&self, parts: Vec<Part>) -> Message {
        self.live.agent_message(parts)
    }

    /// Enters a state, with an optional message.
    pub async fn status(&self, state: TaskState, message: Option<Message>) -> Result<(), Stopped> {
        self.emit(vec![self.live.status_update(state, message)]).await
    }

    /// `WORKING`.
    pub async fn working(&self) -> Result<(), Stopped> {
        self.status(TaskState::Working, None).await
    }

    /// Adds an artifact, or a chunk of one (`append`) and says if it is the last.
    pub async fn artifact(&self, artifact: Artifact, append: bool, last_chunk: bool) -> Result<(), Stopped> {
        self.emit(vec![self.artifact_update(artifact, append, last_chunk)]).await
    }

    /// `COMPLETED`, with a message when `text` is given.
    pub async fn complete(&self, text: Option<&str>) -> Result<(), Stopped> {
        self.status(TaskState::Completed, text.map(|t| self.agent_message(t))).await
    }

    /// A whole artifact, then `COMPLETED` (with a message when `text` is
    /// given): the same two events as [`TaskUpdater::artifact`] and
    /// [`TaskUpdater::complete`], stored in one write instead of two.
    pub async fn complete_with_artifact(&self, artifact: Artifact, text: Option<&str>) -> Result<(), Stopped> {
        let completed = self.live.status_update(TaskState::Completed, text.map(|t| self.agent_message(t)));
        self.emit(vec![self.artifact_update(artifact, false, true), completed]).await
    }

    fn artifact_update(&self, artifact: Artifact, append: bool, last_chunk: bool) -> StreamResponse {
        StreamResponse::ArtifactUpdate(TaskArtifactUpdateEvent {
            task_id: self.live.id.clone(),
            context_id: self.live.context_id.clone(),
            artifact,
            append,
            last_chunk,
            metadata: None,
        })
    }

    /// `INPUT_REQUIRED`, asking `question`.
    pub async fn input_required(&self, question: &str) -> Result<(), Stopped> {
        self.status(TaskState::InputRequired, Some(self.agent_message(question))).await
    }

    async fn emit(&self, events: Vec<StreamResponse>) -> Result<(), Stopped> {
        if let Some(meter) = &self.meter {
            for event in &events {
                match event {
                    StreamResponse::ArtifactUpdate(update) => {
                        meter.record_out(&self.live.scope.tenant, &update.artifact.parts)
                    }
                    StreamResponse::StatusUpdate(update) => {
                        if let Some(message) = &update.status.message {
                            meter.record_out(&self.live.scope.tenant, &message.parts);
                        }
                    }
                    StreamResponse::Task(_) | StreamResponse::Message(_) => {}
                }
            }
        }
        match self.live.emit_all(events).await {
            Emitted::Sent => Ok(()),
            Emitted::Finished(state) => Err(Stopped(state.as_str().to_owned())),
            Emitted::Failed(error) => Err(Stopped(error.to_string())),
        }
    }
}
