//! The conformance test agent (`/a2a/conformance`, a2a.md §4.3).
//!
//! A conformance suite picks a behaviour by a `tck-…` prefix in the
//! `messageId` or at the start of the first text part (the suite appends a
//! session suffix, so prefixes match, longest first). Each behaviour below is
//! one the suite checks; anything else completes with an echo. A follow-up
//! message to a task waiting for input chooses its behaviour by its own prefix,
//! as the reference test agent does (`tck-input-required` asks again,
//! `tck-task-failure` fails, …); one without a prefix completes the task with
//! the input it received.

use std::time::Duration;

use agentdeck_a2a_protocol::{AgentSkill, Artifact, Message, Part, PartContent, TaskState};
use async_trait::async_trait;
use serde_json::json;
use uuid::Uuid;

use crate::a2a::{AgentDescriptor, AgentExecutor, AgentFailure, AgentRequest, Stopped, TaskUpdater};

/// The agent's URL name.
pub const NAME: &str = "conformance";

/// What a message asks the agent to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Complete with the status message "Hello from TCK".
    Complete,
    /// Complete with a text artifact.
    ArtifactText,
    /// Complete with a raw-bytes file artifact.
    ArtifactFile,
    /// Complete with a URL file artifact.
    ArtifactFileUrl,
    /// Complete with a data artifact.
    ArtifactData,
    /// Answer with a message, no task.
    MessageResponse,
    /// Wait for input; a follow-up completes the task.
    InputRequired,
    /// Reject the task.
    Reject,
    /// Fail the task.
    Fail,
    /// Working, a text artifact, completed.
    StreamText,
    /// Completed at once.
    StreamCompleteOnly,
    /// Working, a file artifact, completed.
    StreamFile,
    /// Working, an artifact in two chunks, completed.
    StreamChunked,
    /// Working for a long while (so it can be canceled or resubscribed), then completed.
    LongRunning,
    /// No prefix: complete with an echo.
    Echo,
}

/// Prefixes, longest first where one starts another.
const PREFIXES: [(&str, Behaviour); 22] = [
    ("tck-artifact-file-url", Behaviour::ArtifactFileUrl),
    ("tck-artifact-file", Behaviour::ArtifactFile),
    ("tck-artifact-text", Behaviour::ArtifactText),
    ("tck-artifact-data", Behaviour::ArtifactData),
    ("tck-complete-task", Behaviour::Complete),
    ("tck-message-response", Behaviour::MessageResponse),
    ("tck-input-required", Behaviour::InputRequired),
    ("tck-multi-turn", Behaviour::InputRequired),
    ("tck-reject-task", Behaviour::Reject),
    ("tck-task-failure", Behaviour::Fail),
    ("tck-stream-artifact-chunked", Behaviour::StreamChunked),
    ("tck-stream-artifact-file", Behaviour::StreamFile),
    ("tck-stream-artifact-text", Behaviour::StreamText),
    ("tck-stream-ordering-001", Behaviour::StreamText),
    ("tck-stream-chunked", Behaviour::StreamChunked),
    ("tck-stream-basic", Behaviour::StreamText),
    ("tck-stream-001", Behaviour::StreamText),
    ("tck-stream-002", Behaviour::StreamCompleteOnly),
    ("tck-stream-003", Behaviour::StreamText),
    ("test-resubscribe-message-id", Behaviour::LongRunning),
    ("tck-long-running", Behaviour::LongRunning),
    ("tck-cancel", Behaviour::LongRunning),
];

/// Picks the behaviour from the message id, else from the first text part.
pub fn behaviour_of(message: &Message) -> Behaviour {
    let pick = |text: &str| {
        let text = text.trim_start();
        PREFIXES
            .iter()
            .filter(|(prefix, _)| text.starts_with(prefix))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, b)| *b)
    };
    pick(&message.message_id).or_else(|| message.first_text().and_then(pick)).unwrap_or(Behaviour::Echo)
}

/// The conformance agent.
pub struct ConformanceAgent {
    descriptor: AgentDescriptor,
    long_run: Duration,
}

impl ConformanceAgent {
    /// The agent; long-running tasks work for `long_run` (the suite wants ≥ 8 s).
    pub fn new(long_run: Duration) -> Self {
        let descriptor = AgentDescriptor {
            name: NAME.to_owned(),
            display_name: "agentdeck conformance agent".to_owned(),
            description: "Behaviours selected by tck-… prefixes, for A2A conformance suites.".to_owned(),
            skills: vec![AgentSkill {
                id: "conformance".into(),
                name: "Conformance scenarios".into(),
                description: "Completes, streams, chunks, rejects, fails, asks for input or runs long, by prefix."
                    .into(),
                tags: vec!["test".into(), "a2a".into()],
                examples: vec!["tck-complete-task".into(), "tck-stream-001".into()],
                input_modes: vec![],
                output_modes: vec![],
                security_requirements: vec![],
            }],
            output_modes: vec!["text/plain".into(), "application/json".into()],
            allow_anonymous: true,
        };
        Self { descriptor, long_run }
    }
}

fn artifact(name: &str, parts: Vec<Part>) -> Artifact {
    Artifact { artifact_id: Uuid::now_v7().to_string(), name: Some(name.to_owned()), parts, ..Artifact::default() }
}

fn file_part(content: PartContent) -> Part {
    Part { content, metadata: None, filename: Some("output.txt".into()), media_type: Some("text/plain".into()) }
}

#[async_trait]
impl AgentExecutor for ConformanceAgent {
    fn descriptor(&self) -> &AgentDescriptor {
        &self.descriptor
    }

    async fn reply(&self, request: &AgentRequest) -> Option<Message> {
        (behaviour_of(&request.message) == Behaviour::MessageResponse).then(|| Message {
            task_id: None,
            ..Message::agent_text(Uuid::now_v7().to_string(), "Direct message response")
        })
    }

    async fn execute(&self, request: AgentRequest, updates: TaskUpdater) -> Result<(), AgentFailure> {
        run(self.long_run, &request, &updates).await.map_err(|stopped| AgentFailure(stopped.to_string()))
    }
}

async fn run(long_run: Duration, request: &AgentRequest, updates: &TaskUpdater) -> Result<(), Stopped> {
    if let Some(previous) = &request.previous
        && previous.status.state == TaskState::InputRequired
        && behaviour_of(&request.message) == Behaviour::Echo
    {
        updates.working().await?;
        let input = request.message.first_text().unwrap_or("(no text)");
        return updates.complete(Some(&format!("Input received: {input}"))).await;
    }
    match behaviour_of(&request.message) {
        Behaviour::Complete => updates.complete(Some("Hello from TCK")).await,
        Behaviour::ArtifactText => {
            updates.artifact(artifact("text", vec![Part::text("Generated text content")]), false, true).await?;
            updates.complete(None).await
        }
        Behaviour::ArtifactFile => {
            let part = file_part(PartContent::Raw(b"Generated file content".to_vec()));
            updates.artifact(artifact("file", vec![part]), false, true).await?;
            updates.complete(None).await
        }
        Behaviour::ArtifactFileUrl => {
            let part = file_part(PartContent::Url("https://example.com/output.txt".into()));
            updates.artifact(artifact("file", vec![part]), false, true).await?;
            updates.complete(None).await
        }
        Behaviour::ArtifactData => {
            let part = Part::data(json!({"key": "value", "count": 42}));
            updates.artifact(artifact("data", vec![part]), false, true).await?;
            updates.complete(None).await
        }
        // Asked for in `reply`; reached only for a message sent to an existing task.
        Behaviour::MessageResponse | Behaviour::Echo => {
            let echo = request.message.first_text().unwrap_or("(no text)").to_owned();
            updates.complete(Some(&format!("echo: {echo}"))).await
        }
        Behaviour::InputRequired => updates.input_required("Please provide more input.").await,
        Behaviour::Reject => updates.status(TaskState::Rejected, Some(updates.agent_message("Task rejected"))).await,
        Behaviour::Fail => updates.status(TaskState::Failed, Some(updates.agent_message("Task failed"))).await,
        Behaviour::StreamText => {
            updates.working().await?;
            updates.artifact(artifact("text", vec![Part::text("Generated text content")]), false, true).await?;
            updates.complete(None).await
        }
        Behaviour::StreamCompleteOnly => updates.complete(None).await,
        Behaviour::StreamFile => {
            updates.working().await?;
            let part = file_part(PartContent::Raw(b"Generated file content".to_vec()));
            updates.artifact(artifact("file", vec![part]), false, true).await?;
            updates.complete(None).await
        }
        Behaviour::StreamChunked => {
            updates.working().await?;
            let chunked = artifact("chunked", vec![Part::text("chunk-1 ")]);
            let id = chunked.artifact_id.clone();
            updates.artifact(chunked, true, false).await?;
            let rest = Artifact { artifact_id: id, ..artifact("chunked", vec![Part::text("chunk-2")]) };
            updates.artifact(rest, true, true).await?;
            updates.complete(None).await
        }
        Behaviour::LongRunning => {
            updates.working().await?;
            tokio::select! {
                () = tokio::time::sleep(long_run) => updates.complete(Some("Long-running task done")).await,
                () = updates.cancelled() => Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_prefix_of_the_id_or_the_first_text_wins() {
        let by_id = |id: &str| behaviour_of(&Message::user_text(id, "hello"));
        assert_eq!(by_id("tck-artifact-file-url-3f2a"), Behaviour::ArtifactFileUrl);
        assert_eq!(by_id("tck-artifact-file-3f2a"), Behaviour::ArtifactFile);
        assert_eq!(by_id("tck-stream-artifact-chunked-1"), Behaviour::StreamChunked);
        assert_eq!(by_id("test-resubscribe-message-id-9"), Behaviour::LongRunning);
        assert_eq!(by_id("plain-id"), Behaviour::Echo);
        let by_text = behaviour_of(&Message::user_text("m-1", "tck-complete-task hello"));
        assert_eq!(by_text, Behaviour::Complete);
    }
}
