//! Why a question, or one agent's part of it, failed.

use std::time::Duration;

use agentdeck_a2a_protocol::client::{CertificateProblem, ClientError};

use crate::a2a::transport::TransportError;
use crate::dashboard::DashboardError;
use crate::outbound::certificate_fix;

/// Why a question could not be answered at all.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The question is empty or too long.
    #[error("{0}")]
    InvalidQuestion(String),
    /// The project list could not be read.
    #[error("cannot read the projects: {0}")]
    Store(#[from] agentdeck_storage::StoreError),
    /// The answer could not be written to the dashboard.
    #[error("cannot write the answer to the dashboard: {0}")]
    Dashboard(#[from] DashboardError),
}

/// Why one agent gave no usable answer; the others still count, and this one
/// becomes a retryable `Error` widget naming it (its text is what the widget
/// and the agent's report say).
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The call failed: the agent was unreachable, refused, or answered
    /// outside the protocol (or the transport could not carry it). A refused
    /// TLS certificate says what to change.
    #[error("{call}{fix}", call = .0, fix = fix_of(.0))]
    Call(#[from] TransportError),
    /// No answer within the agent's deadline.
    #[error("no answer within {} ms", .0.as_millis())]
    Deadline(Duration),
    /// The agent's task ended without completing.
    #[error("the task ended {state}: {reason}")]
    NotCompleted {
        /// The state it ended in, in lower case (`failed`, `canceled`, `input_required`, …).
        state: String,
        /// What the agent said, or that it said nothing.
        reason: String,
    },
}

/// What the person running this server can change about a refused
/// certificate of an agent; empty for other failures.
fn fix_of(error: &TransportError) -> &'static str {
    let TransportError::Http(error) = error else { return "" };
    match error {
        ClientError::Certificate { problem: CertificateProblem::WrongHost(_), .. } => {
            "; call the agent by a name its certificate holds (gateway.agents_url)"
        }
        ClientError::Certificate { problem, .. } => certificate_fix(problem),
        _ => "",
    }
}
