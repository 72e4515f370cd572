//! The dashboard state: one JSON document per (workspace, user), changed only
//! by JSON Patches that are checked, applied all-or-nothing and versioned.
//!
//! # Layout
//!
//! - [`codec`]: how a document is stored — compressed above a threshold, with a
//!   round-trip check.
//! - [`migrations`]: ordered pure functions that bring an older stored document
//!   to the current `schemaVersion`.
//! - [`document`]: the document's typed shape, its bounds (oldest dropped
//!   first) and derived values (`activeAlerts`), plus the [`document::StateLimits`]
//!   a server may configure.
//! - [`patch`]: writes — RFC 6902 patches checked before, during and after
//!   applying, all-or-nothing; whole-document replaces.
//! - [`conflict`]: the places each change wrote, and whether a patch made
//!   against an older version may be applied on top of the current one.
//! - [`version`]: `(epoch, version)` pairs and their ETag form.

pub mod codec;
pub mod conflict;
pub mod document;
pub mod migrations;
pub mod patch;
pub mod version;

mod items;
mod members;
mod operations;
mod pointer;
mod rules;
mod scope;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod rules_tests;
#[cfg(test)]
mod tests;
