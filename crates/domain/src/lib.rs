//! The pure domain core of agentdeck.
//!
//! Nothing in this crate performs I/O: it holds the shapes of the records a
//! workspace keeps, the rules that decide whether a change to them is valid, and
//! the widget catalog that every agent answer is checked against. Storage,
//! services and the HTTP edge depend on it; it depends on none of them.
//!
//! # Layout
//!
//! - [`agents`]: the hosted agents' ids, shown names and roles — one table.
//! - [`api_tokens`]: tokens for scripts and agents — kinds, scopes, the record,
//!   and the `adk_pat_…` text format with its offline-checkable checksum.
//! - [`auth`]: roles and the authenticated [`auth::Principal`] a request acts as.
//! - [`dashboard`]: the per-user dashboard document, its JSON Patch writes,
//!   conflict checks and versions.
//! - [`records`]: workspaces, projects, tasks, members and activity entries, with
//!   the input types the API accepts and their validation.
//! - [`dependencies`]: the blocked-by graph between tasks and its cycle check.
//! - [`errors`]: an error and its sources on one line, for logs and messages.
//! - [`insights`]: project status and the health score and risks the agents report.
//! - [`intent`]: the gateway's deterministic question → plan of agent calls.
//! - [`page`]: cursor pagination shared by every list.
//! - [`validation`]: field errors with JSON paths, the common currency of 422s.
//! - [`widgets`]: the widget catalog, one JSON Schema and the Rust types built on it.

pub mod agents;
pub mod api_tokens;
pub mod auth;
pub mod dashboard;
pub mod dependencies;
pub mod errors;
pub mod insights;
pub mod intent;
pub mod page;
pub mod records;
pub mod text;
pub mod validation;
pub mod widgets;
