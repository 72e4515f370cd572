//! The agents agentdeck hosts over A2A (each an [`crate::a2a::AgentExecutor`]).
//!
//! - [`conformance`]: the test agent an independent A2A conformance suite is
//!   pointed at; off unless configured.

pub mod conformance;
