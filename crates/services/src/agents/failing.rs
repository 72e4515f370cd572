//! A hosted agent set to fail (the `agents.fail` setting): it keeps its name
//! and card, but every message it is sent ends in a `FAILED` task whose status
//! message says why.
//!
//! Tests and demos use it to see what people see when an agent is down — the
//! gateway's retryable `Error` widget, the agents panel showing the failure —
//! through the real protocol path: the caller gets a proper A2A task, not a
//! transport error, exactly as from an agent that failed on its own.

use std::sync::Arc;

use async_trait::async_trait;

use crate::a2a::{AgentDescriptor, AgentExecutor, AgentFailure, AgentRequest, TaskUpdater};

/// Wraps a hosted agent so that every message to it fails.
pub struct FailingAgent {
    inner: Arc<dyn AgentExecutor>,
}

impl FailingAgent {
    /// `inner`, failing every message from now on.
    pub fn new(inner: Arc<dyn AgentExecutor>) -> Self {
        Self { inner }
    }

    /// The status message of every task this agent fails.
    pub fn reason(agent: &str) -> String {
        format!("fault injection: {agent} is set to fail (agents.fail)")
    }
}

#[async_trait]
impl AgentExecutor for FailingAgent {
    fn descriptor(&self) -> &AgentDescriptor {
        self.inner.descriptor()
    }

    // No direct replies: every message makes a task, and the task fails.
    async fn reply(&self, _request: &AgentRequest) -> Option<agentdeck_a2a_protocol::Message> {
        None
    }

    async fn execute(&self, _request: AgentRequest, _updates: TaskUpdater) -> Result<(), AgentFailure> {
        Err(AgentFailure(Self::reason(&self.inner.descriptor().name)))
    }
}
