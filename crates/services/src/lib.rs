//! Services of agentdeck: the rules that sit between the HTTP edge and the store.
//!
//! # Layout
//!
//! - [`auth`]: bearer tokens — issuing (for `agentdeck token` and the dev login)
//!   and verifying them into a [`agentdeck_domain::auth::Principal`].
//! - [`projects`]: project data on behalf of a principal — validation, role
//!   checks, activity entries and retries on concurrent updates.
//! - [`seed`]: the demo workspace dev mode starts with.

pub mod auth;
pub mod projects;
pub mod seed;
