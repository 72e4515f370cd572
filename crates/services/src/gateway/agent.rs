//! The gateway as an A2A agent: the "Dashboard Agent" at `/a2a/gateway`.

use agentdeck_a2a_protocol::{AgentSkill, Artifact, Part};
use async_trait::async_trait;
use serde_json::json;
use uuid::Uuid;

use super::{AskRequest, Gateway};
use crate::a2a::{AgentDescriptor, AgentExecutor, AgentFailure, AgentRequest, TaskUpdater};

/// The agent's URL name.
pub const NAME: &str = agentdeck_domain::agents::GATEWAY.id;

/// The Dashboard Agent.
pub struct GatewayAgent {
    descriptor: AgentDescriptor,
    gateway: Gateway,
}

impl GatewayAgent {
    /// The agent answering through `gateway`.
    pub fn new(gateway: Gateway) -> Self {
        let skill = AgentSkill {
            id: "ask".into(),
            name: "Ask the dashboard".into(),
            description: "Answers a question about the workspace with widgets from Navigator, Vitals and Activity, and puts them on your dashboard."
                .into(),
            tags: vec!["dashboard".into(), "widgets".into()],
            examples: agentdeck_domain::intent::EXAMPLES.iter().map(|e| (*e).to_owned()).collect(),
            input_modes: vec![],
            output_modes: vec!["application/json".into()],
            security_requirements: vec![],
        };
        let descriptor = AgentDescriptor {
            name: NAME.into(),
            display_name: agentdeck_domain::agents::GATEWAY.display_name.into(),
            description: "Turns a question into widgets from the specialist agents, on your live dashboard.".into(),
            skills: vec![skill],
            output_modes: vec!["text/plain".into(), "application/json".into()],
            allow_anonymous: false,
        };
        Self { descriptor, gateway }
    }
}

#[async_trait]
impl AgentExecutor for GatewayAgent {
    fn descriptor(&self) -> &AgentDescriptor {
        &self.descriptor
    }

    async fn execute(&self, request: AgentRequest, updates: TaskUpdater) -> Result<(), AgentFailure> {
        let (Some(principal), Some(bearer)) = (&request.principal, &request.bearer) else {
            return Err(AgentFailure("the Dashboard Agent answers authenticated callers only".into()));
        };
        let question = request.message.first_text().unwrap_or_default().to_owned();
        let project_id = request.message.parts.iter().find_map(|part| match &part.content {
            agentdeck_a2a_protocol::PartContent::Data(data) => {
                data.get("projectId").and_then(|id| id.as_str()).and_then(|id| Uuid::parse_str(id).ok())
            }
            _ => None,
        });
        let answer = self
            .gateway
            .ask(principal, bearer, None, &AskRequest { question, project_id })
            .await
            .map_err(|error| AgentFailure(error.to_string()))?;
        let artifact = Artifact {
            artifact_id: Uuid::now_v7().to_string(),
            name: Some("widgets".into()),
            parts: vec![
                Part::text(&answer.text),
                Part::data(json!({"widgets": answer.widgets, "agents": answer.agents})),
            ],
            ..Artifact::default()
        };
        let stopped = |e: crate::a2a::Stopped| AgentFailure(e.to_string());
        updates.artifact(artifact, false, true).await.map_err(stopped)?;
        updates.complete(Some(&answer.text)).await.map_err(stopped)
    }
}
