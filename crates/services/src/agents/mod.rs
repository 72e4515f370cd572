//! The agents agentdeck hosts over A2A (each an [`crate::a2a::AgentExecutor`]).
//!
//! - [`navi`] ("Navigator"): project status, tasks, Kanban, Gantt, burndown.
//! - [`pulse`] ("Vitals"): health score, risks as alerts, server vitals.
//! - [`herald`] ("Activity"): the activity feed with counts.
//! - [`conformance`]: the test agent an independent A2A conformance suite is
//!   pointed at; off unless configured.
//! - [`failing`]: wraps any of them so that every message fails (the
//!   `agents.fail` setting, for tests and demos).
//!
//! The three project agents read the caller's workspace (they serve
//! authenticated callers only) and answer with a task whose artifact holds a
//! short text part and a data part `{"widgets": [...]}`, every widget checked
//! against the widget catalog first.

pub mod conformance;
pub(crate) mod data;
pub mod failing;
pub mod herald;
pub mod navi;
pub mod pulse;
