//! The agents of this process, reached without leaving it.

use std::sync::{OnceLock, Weak};
use std::time::Duration;

use agentdeck_a2a_protocol::{SendMessageRequest, SendMessageResponse};
use async_trait::async_trait;

use super::{AgentTransport, CallerContext, TransportError};
use crate::a2a::A2aCaller;
use crate::a2a::service::{A2aService, Inner};

/// Sends to the agents an [`A2aService`] hosts by calling the service itself.
///
/// Made before the service and attached to it afterwards
/// ([`InProcessTransport::attach`]): the service hosts the Dashboard Agent,
/// which holds the gateway, which holds this transport. For the same reason
/// it holds the service weakly — a strong reference would be a cycle that
/// keeps every part alive after the server is dropped.
#[derive(Default)]
pub struct InProcessTransport {
    service: OnceLock<Weak<Inner>>,
}

impl InProcessTransport {
    /// A transport that carries nothing until it is attached.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends from now on to the agents `service` hosts (the first attachment stays).
    pub fn attach(&self, service: &A2aService) {
        if self.service.set(std::sync::Arc::downgrade(&service.inner)).is_err() {
            tracing::warn!("the in-process A2A transport was attached twice; it keeps the first service");
        }
    }

    fn service(&self) -> Result<A2aService, TransportError> {
        let inner = self.service.get().and_then(Weak::upgrade);
        inner
            .map(|inner| A2aService { inner })
            .ok_or_else(|| TransportError::Unavailable("the A2A service hosting the agents is not running".into()))
    }
}

#[async_trait]
impl AgentTransport for InProcessTransport {
    async fn send(
        &self,
        agent: &str,
        request: SendMessageRequest,
        caller: &CallerContext,
        deadline: Duration,
    ) -> Result<SendMessageResponse, TransportError> {
        let service = self.service()?;
        let a2a_caller = match &caller.principal {
            Some(principal) => A2aCaller::authenticated(principal.clone(), caller.bearer.clone()),
            // The edge would answer 401 for an agent that serves authenticated callers only.
            None if service.agent(agent).is_some_and(|a| !a.descriptor().allow_anonymous) => {
                return Err(TransportError::Refused(agentdeck_a2a_protocol::A2aError::InvalidRequest(format!(
                    "{agent} answers authenticated callers only"
                ))));
            }
            None => A2aCaller::anonymous(),
        };
        let a2a_caller = a2a_caller.handing_over(caller.handover.clone());
        match tokio::time::timeout(deadline, service.send(agent, &a2a_caller, request)).await {
            Ok(answer) => answer.map_err(TransportError::Refused),
            Err(_) => Err(TransportError::Deadline(deadline)),
        }
    }
}
