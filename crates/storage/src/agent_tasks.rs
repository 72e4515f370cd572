//! Records of the A2A tasks that hosted agents run (see [`crate::store::AgentTaskStore`]).
//!
//! The store keeps a task's A2A JSON as it is given (`body`) and indexes the
//! few fields that lists filter and sort on; it knows nothing of the protocol's
//! rules, which live in the services layer.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// Whose task: every call names one scope and sees nothing outside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AgentTaskScope {
    /// The caller's workspace id, or `public` for unauthenticated calls.
    pub tenant: String,
    /// The caller's user id.
    pub owner: String,
    /// The hosted agent's name.
    pub agent: String,
}

/// A stored task.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAgentTask {
    /// Server-generated id, unique over all scopes.
    pub id: String,
    /// Its context id.
    pub context_id: String,
    /// Its state's wire name (`TASK_STATE_WORKING`).
    pub state: String,
    /// When the state was entered (milliseconds kept).
    pub status_at: DateTime<Utc>,
    /// When the task was made.
    pub created_at: DateTime<Utc>,
    /// Sequence number of its newest event (0 before any).
    pub last_seq: i64,
    /// The task in its A2A JSON form.
    pub body: Value,
}

/// One entry of a task's event log.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentTaskEvent {
    /// Per-task sequence number, from 1.
    pub seq: i64,
    /// The event (an A2A `StreamResponse`).
    pub body: Value,
}

/// Which tasks a list returns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentTaskFilter {
    /// Only this context.
    pub context_id: Option<String>,
    /// Only this state (wire name).
    pub state: Option<String>,
    /// Only tasks whose status changed at or after this time.
    pub status_after: Option<DateTime<Utc>>,
}

/// Where a page of tasks starts: after this task in newest-first order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentTaskCursor {
    /// The status time of the last task seen, in milliseconds.
    pub status_at_millis: i64,
    /// Its id.
    pub id: String,
}

/// A page of tasks and how many match over all pages.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentTaskPage {
    /// Newest status first, then id descending.
    pub tasks: Vec<StoredAgentTask>,
    /// Matching tasks in the scope.
    pub total: u64,
}

/// A push notification config as stored (credentials included).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPushConfig {
    /// The config id, unique in its task.
    pub id: String,
    /// The task.
    pub task_id: String,
    /// The config in its A2A JSON form.
    pub body: Value,
}

/// What the first send with an idempotency key came to.
#[derive(Debug, Clone, PartialEq)]
pub enum IdempotentOutcome {
    /// A task (new, or the one the message followed up).
    Task {
        /// The task's id.
        task_id: String,
        /// The task's first event of this send (1 for a new task; the
        /// follow-up's own event otherwise): where a streamed retry replays from.
        first_seq: i64,
    },
    /// The agent's direct reply (an A2A `Message` in JSON form): no task was made.
    Reply(Value),
}

/// A send's idempotency key and its first outcome, kept until it expires.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredIdempotencyKey {
    /// Whose key: the caller's scope (an anonymous caller's owner names its address).
    pub scope: AgentTaskScope,
    /// The `Idempotency-Key` header's value.
    pub key: String,
    /// Hex SHA-256 of the request's params, to refuse the key with other params.
    pub params_digest: String,
    /// What the first send came to.
    pub outcome: IdempotentOutcome,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// From then on the key reads as absent and may be purged.
    pub expires_at: DateTime<Utc>,
}
