//! Services of agentdeck: the rules that sit between the HTTP edge and the store.
//!
//! # Layout
//!
//! - [`dashboard`]: each user's dashboard document — the one commit path
//!   (every commit announced to its listeners), reads that migrate, JSON
//!   Patch writes with `If-Match` rebasing, idempotency keys and retries.
//! - [`a2a`]: hosting A2A agents — tasks, their lifecycle, persistence,
//!   streams with resumption, idempotent sends.
//!   Push notifications are delivered from here too.
//! - [`agents`]: the hosted agents — Navi, Pulse, Herald on the project data,
//!   and the conformance test agent.
//! - [`gateway`]: the Dashboard Agent — a question planned, the agents called
//!   over A2A in parallel, their widgets checked, cached and written to the
//!   dashboard, refreshed when the data changes.
//! - [`outbound`]: the one factory of outbound HTTP clients — rustls on ring,
//!   Mozilla's roots plus an optional CA file.
//! - [`metering`]: token counts of agent messages, daily usage, the quota.
//! - [`accounts`]: accounts of people (Argon2id password hashes) and the
//!   administration of workspaces: creating one with its owner, listing,
//!   renaming, disabling, the instance admin flag; invitations (single-use,
//!   expiring tokens sent by mail or handed over as a link).
//! - [`api_tokens`]: personal access and service tokens for scripts and
//!   agents — created once, looked up by digest on every request, revocable.
//! - [`mail`]: sending mail over SMTP (rustls on ring, bounded by timeouts).
//! - [`auth`]: bearer tokens — issuing (for `agentdeck token` and the dev login)
//!   and verifying them into a [`agentdeck_domain::auth::Principal`].
//! - [`projects`]: project data on behalf of a principal — validation, role
//!   checks, activity entries and retries on concurrent updates; each write is
//!   announced (for the gateway's live refresh).
//! - [`seed`]: the demo workspace dev mode starts with.
//! - [`sso`]: single sign-on with OpenID Connect — authorization code + PKCE,
//!   ID token verification, identities as (issuer, subject).
//! - [`sync`]: the real-time hub — one owner task per open dashboard room,
//!   listening to the dashboard service's commits.

pub mod a2a;
pub mod accounts;
pub mod agents;
pub mod api_tokens;
pub mod auth;
pub mod dashboard;
pub mod gateway;
pub mod mail;
pub mod metering;
pub mod outbound;
pub mod projects;
pub mod seed;
pub mod sso;
pub mod sync;
