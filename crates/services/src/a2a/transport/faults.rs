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

/// Tokio's timer wakes on whole milliseconds and a little late (a 80 ms
/// sleep takes 81–82 ms here); the last stretch of a delay is slept on a
/// blocking thread, whose `nanosleep` is accurate to tens of microseconds,
/// so an agent set to take 80 ms takes 80 ms and a benchmark that subtracts
/// the delay measures agentdeck, not the timer.
const PRECISE_TAIL: Duration = Duration::from_millis(3);

impl InjectedFault {
    /// Waits out the delay, accurately (see [`PRECISE_TAIL`]).
    pub async fn wait(&self) {
        wait_precisely(self.delay).await;
    }

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
        if tokio::time::timeout(deadline, fault.wait()).await.is_err() {
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

/// Sleeps `delay`: on the runtime's timer up to [`PRECISE_TAIL`] before its
/// end, the rest on a blocking thread.
async fn wait_precisely(delay: Duration) {
    let until = std::time::Instant::now() + delay;
    let coarse = delay.saturating_sub(PRECISE_TAIL);
    if !coarse.is_zero() {
        tokio::time::sleep(coarse).await;
    }
    let rest = until.saturating_duration_since(std::time::Instant::now());
    if rest.is_zero() {
        return;
    }
    // A failed blocking pool (shutting down) leaves the tail to the timer.
    if tokio::task::spawn_blocking(move || std::thread::sleep(rest)).await.is_err() {
        tokio::time::sleep(rest).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_delay_is_waited_in_full() {
        let fault = InjectedFault { delay: Duration::from_millis(20), fail: false };
        let started = std::time::Instant::now();
        fault.wait().await;
        assert!(started.elapsed() >= Duration::from_millis(20), "woke after {:?}", started.elapsed());
    }
}
