//! The HTTP edge of agentdeck and everything needed to start it.
//!
//! # Layout
//!
//! - [`config`]: settings from defaults, a TOML file, `AGENTDECK_*` variables and
//!   flags; production-mode checks; the dev-mode secret.
//! - [`startup`]: [`startup::Application`] opens the records, state and ticket
//!   stores, seeds the demo, binds and serves with graceful shutdown — separate
//!   from `main` so tests can run it.
//! - [`http`]: routes, extractors, the one error type and the layers around them.
//! - [`state`]: what handlers share.
//! - [`telemetry`]: logging setup.

pub mod config;
pub mod http;
pub mod startup;
pub mod state;
pub mod telemetry;
