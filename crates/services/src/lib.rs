//! Services of agentdeck: the rules that sit between the HTTP edge and the store.
//!
//! # Layout
//!
//! - [`dashboard`]: each user's dashboard document — reads that migrate, JSON
//!   Patch writes with `If-Match` rebasing, idempotency keys and retries.
//! - [`a2a`]: hosting A2A agents — tasks, their lifecycle, persistence,
//!   streams with resumption, idempotent sends.
//! - [`agents`]: the hosted agents (the conformance test agent).
//! - [`auth`]: bearer tokens — issuing (for `agentdeck token` and the dev login)
//!   and verifying them into a [`agentdeck_domain::auth::Principal`].
//! - [`projects`]: project data on behalf of a principal — validation, role
//!   checks, activity entries and retries on concurrent updates.
//! - [`seed`]: the demo workspace dev mode starts with.
//! - [`sync`]: the real-time hub — one owner task per open dashboard room.

pub mod a2a;
pub mod agents;
pub mod auth;
pub mod dashboard;
pub mod gateway;
pub mod metering;
pub mod projects;
pub mod ratelimit;
pub mod seed;
pub mod sync;
