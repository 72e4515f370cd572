//! Hosting A2A agents: tasks, their lifecycle, streams and resumption.
//!
//! [`A2aService`] is what the A2A routes call, one method per protocol
//! operation, for every hosted agent. An agent is an [`AgentExecutor`]; the
//! service owns everything around it:
//!
//! - **Lifecycle.** A send makes a task (`SUBMITTED`, the message in its
//!   history) unless the agent answers directly with a message; the agent
//!   runs as a task of the service's tracker and reports through a
//!   [`TaskUpdater`]. Terminal states are final: later events are refused,
//!   sends to the task answer `UnsupportedOperationError`. Cancel always
//!   ends in `CANCELED`, or answers `TaskNotCancelableError`.
//! - **Persistence.** Every event is stored (task body and a bounded event
//!   log) before any stream sees it; tasks survive a restart, and runs that a
//!   restart cut short are ended `FAILED` by [`A2aService::fail_interrupted_runs`].
//! - **Streams.** Every event has a per-task sequence number (the SSE
//!   `id:`); a subscription with `Last-Event-ID` replays what it missed from
//!   the log, then goes on live.
//! - **Push.** Every event goes to the task's webhooks too ([`PushOptions`]):
//!   signed, retried with backoff, to public addresses only unless allowed;
//!   reads of a config never return its token or credentials.
//! - **Idempotency.** A send whose `messageId` the caller already used
//!   returns the task that message went to, instead of starting another.

//!
//! The code is split by job: [`A2aService`] and the task registry
//! (`service`), who calls (`caller`), the lifecycle and agent runs
//! (`lifecycle`), reading and paging (`listing`), webhook configs
//! (`push_configs`) and their delivery (`push`), a task in memory (`live`)
//! and its event streams (`stream`). How a caller inside agentdeck reaches
//! an agent, hosted here or elsewhere, is [`transport`].

mod caller;
mod executor;
mod lifecycle;
mod listing;
mod live;
mod push;
mod push_configs;
mod service;
mod stream;
pub mod transport;

pub use caller::A2aCaller;
pub use executor::{
    AgentDescriptor, AgentExecutor, AgentFailure, AgentRequest, Handover, Stopped, TaskUpdater, WorkspaceRecords,
};
pub use live::SequencedEvent;
pub use push::PushOptions;
pub use service::{A2aOptions, A2aService};
pub use stream::EventStream;
