//! The dashboard state: one JSON document per (workspace, user), changed only
//! by JSON Patches that are checked, applied all-or-nothing and versioned.
//!
//! # Layout
//!
//! - [`codec`]: how a document is stored — compressed above a threshold, with a
//!   round-trip check.
//! - [`migrations`]: ordered pure functions that bring an older stored document
//!   to the current `schemaVersion`.

pub mod codec;
pub mod migrations;
