//! Integration tests of the HTTP edge: each test starts the real server on a
//! random port (SQLite in a temp dir unless it says otherwise) and talks HTTP to it.
//! One test binary, one link.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests and benches fail loudly on a broken fixture")]

mod a2a;
mod a2a_idempotency;
mod a2a_interop;
mod a2a_push;
mod a2a_tls;
mod a2a_troubleshooting;
mod a2a_versions;
mod api_tokens;
mod ask;
mod auth;
mod bad_input;
mod browser;
mod control_characters;
mod dashboard;
mod gateway_transport;
mod helpers;
mod invitations;
mod openapi;
mod operations;
mod outbound_tls;
mod projects;
mod rate_limits;
mod sessions;
mod sso;
mod support;
mod sync;
mod sync_reauth;
mod tenancy;
mod usage;
mod web;
mod workspace;
