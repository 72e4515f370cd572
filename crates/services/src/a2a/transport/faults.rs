//! Faults injected in front of agents, for tests and benchmarks only
//! (`a2a.faults`; production refuses the setting).
//!
//! The HTTP edge applies the same faults to calls that reach an agent's
//! JSON-RPC endpoint; this wrapper applies them to calls that never pass the
//! edge (the in-process transport), so an agent set to be slow or failing is
//! slow or failing whichever way it is reached. The server wraps only the
//! in-process transport: a call over HTTP meets the faults of the server it
//! reaches, at that server's edge, and would otherwise meet them twice.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use agentdeck_a2a_protocol::{A2aError, SendMessageRequest, SendMessageResponse};
use async_trait::async_trait;

use super::{AgentTransport, CallerContext, TransportError};

/// A fault in front of one agent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InjectedFault {
    /// Waited before each call is handled.
    pub delay: Duration,
    /// Then every call fails with an internal error.
    pub fail: bool,
}

impl InjectedFault {
    /// The error a failing call answers (the edge's words too).
    pub fn error(agent: &str) -> A2aError {
        A2aError::Internal(format!("fault injected in front of {agent} (a2a.faults)"))
    }
}

/// Wraps a transport with faults in front of some agents.
pub struct FaultyTransport {
    inner: Arc<dyn AgentTransport>,
    faults: HashMap<String, InjectedFault>,
}

impl FaultyTransport {
    /// `inner`, with `faults` (by agent name) in front of it.
    pub fn new(inner: Arc<dyn AgentTransport>, faults: HashMap<String, InjectedFault>) -> Self {
        Self { inner, faults }
    }
}

#[async_trait]
impl AgentTransport for FaultyTransport {
    async fn send(
        &self,
        agent: &str,
        request: SendMessageRequest,
        caller: &CallerContext,
        deadline: Duration,
    ) -> Result<SendMessageResponse, TransportError> {
        let Some(fault) = self.faults.get(agent) else {
            return self.inner.send(agent, request, caller, deadline).await;
        };
        let started = tokio::time::Instant::now();
        if tokio::time::timeout(deadline, tokio::time::sleep(fault.delay)).await.is_err() {
            return Err(TransportError::Deadline(deadline));
        }
        if fault.fail {
            return Err(TransportError::Refused(InjectedFault::error(agent)));
        }
        // The delay counts against the caller's deadline, as it does at the edge.
        let left = deadline.saturating_sub(started.elapsed());
        self.inner.send(agent, request, caller, left).await
    }
}
