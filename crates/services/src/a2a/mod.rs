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
//! - **Cluster.** Every stored event is published on the bus too; each node
//!   follows the tasks it holds, so a stream, a resubscription or a cancel on
//!   one node works for a task another node's run is working (`follow`).
//! - **Idempotency.** Every send is new (a repeated `messageId` too), unless
//!   it carries an `Idempotency-Key` the caller used before with the same
//!   params: then it answers with the first send's outcome
//!   (`idempotency` has the rules).

//!
//! The code is split by job: [`A2aService`] and the task registry
//! (`service`), who calls (`caller`), the lifecycle and agent runs
//! (`lifecycle`), reading and paging (`listing`), webhook configs
//! (`push_configs`) and their delivery (`push`), a task in memory (`live`),
//! its event streams (`stream`), retried sends (`idempotency`) and how
//! nodes follow each other's tasks (`follow`). How a caller inside
//! agentdeck reaches an agent, hosted here or elsewhere, is [`transport`].

mod caller;
mod executor;
mod follow;
mod idempotency;
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
pub use idempotency::{IDEMPOTENCY_KEY_HEADER, MAX_IDEMPOTENCY_KEY_CHARS};
pub use live::SequencedEvent;
pub use push::PushOptions;
pub use service::{A2aOptions, A2aService, DEFAULT_IDEMPOTENCY_TTL, DEFAULT_MAX_HELD_TASKS};
pub use stream::EventStream;
