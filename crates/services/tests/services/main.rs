//! Integration tests of the services over real stores (SQLite in a temp dir,
//! the test machine's Redis where a test says so). One test binary, one link.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests and benches fail loudly on a broken fixture")]

mod a2a;
mod a2a_cluster;
mod a2a_idempotency;
mod agents;
mod dashboard;
mod seed;
mod sync;
mod tokens;
mod transport;
