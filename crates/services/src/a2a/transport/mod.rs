//! How a caller inside agentdeck reaches an A2A agent: one [`AgentTransport`]
//! interface, whether the agent runs in this process or elsewhere.
//!
//! The gateway sends its questions through it; it neither knows nor cares
//! which of these carries them:
//!
//! - [`InProcessTransport`] — for the agents this server hosts. The message
//!   goes to the same [`super::A2aService`] the A2A routes call: a task is
//!   made, stored and run with the same lifecycle as for an external caller,
//!   and the answer is the same `SendMessageResponse`. What it leaves out is
//!   the edge: no HTTP hop, no JSON round trip, no token verification (the
//!   caller's principal is handed over as it is), and no A2A rate limit,
//!   which counts external callers. The caller may also hand over what it
//!   already read ([`super::Handover`]), so the agent does not read it again.
//! - [`HttpTransport`] — for agents elsewhere: the A2A client over HTTP(S),
//!   the caller's bearer token and trace context sent along, the agent's card
//!   fetched once.
//! - [`FaultyTransport`] — wraps either with the test-only faults of
//!   `a2a.faults` (a delay before each call, or a failure), so a benchmark's
//!   delayed agent is delayed whichever way it is reached.
//!
//! Which one the gateway uses is decided where the server is assembled (see
//! `docs/a2a.md`, "Transports"): in process, unless `gateway.agents_url` names
//! where the agents are.
//!
//! Every `send` has a deadline; a transport that passes it answers
//! [`TransportError::Deadline`] (the agent's task, if one was made, goes on
//! and stays readable, as it would for a caller over HTTP that gave up).

mod faults;
mod http;
mod in_process;

use std::time::Duration;

use agentdeck_a2a_protocol::client::ClientError;
use agentdeck_a2a_protocol::{A2aError, SendMessageRequest, SendMessageResponse};
use agentdeck_domain::auth::Principal;
use async_trait::async_trait;

pub use faults::{FaultyTransport, InjectedFault};
pub use http::HttpTransport;
pub use in_process::InProcessTransport;

use super::Handover;

/// Who a message is sent for, and what goes with it.
#[derive(Debug, Clone, Default)]
pub struct CallerContext {
    /// The caller, as the edge authenticated them.
    pub principal: Option<Principal>,
    /// Their bearer token: sent as `Authorization` over HTTP, passed on to the agent in process.
    pub bearer: Option<String>,
    /// Their W3C trace context, sent as `traceparent` over HTTP.
    pub traceparent: Option<String>,
    /// What the caller already read and checks itself; only an in-process agent is handed it.
    pub handover: Handover,
}

/// Why a message got no answer.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The agent, or the service hosting it, answered with an A2A error.
    #[error("the agent refused: {0}")]
    Refused(A2aError),
    /// The call over HTTP failed: unreachable, refused, or an answer outside the protocol.
    #[error(transparent)]
    Http(ClientError),
    /// No answer within the deadline.
    #[error("no answer within {} ms", .0.as_millis())]
    Deadline(Duration),
    /// The transport cannot carry calls: its HTTP client could not be built,
    /// or the service hosting the agents has shut down.
    #[error("{0}")]
    Unavailable(String),
}

impl From<ClientError> for TransportError {
    fn from(error: ClientError) -> Self {
        match error {
            // One wording for a refusal, whichever way it came.
            ClientError::Remote(error) => Self::Refused(error),
            ClientError::Timeout(deadline) => Self::Deadline(deadline),
            other => Self::Http(other),
        }
    }
}

/// A way to send A2A messages to agents by name.
#[async_trait]
pub trait AgentTransport: Send + Sync + 'static {
    /// Sends `request` to `agent` for `caller` (a blocking `SendMessage`),
    /// waiting at most `deadline` for the answer.
    async fn send(
        &self,
        agent: &str,
        request: SendMessageRequest,
        caller: &CallerContext,
        deadline: Duration,
    ) -> Result<SendMessageResponse, TransportError>;
}
