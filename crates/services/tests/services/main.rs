//! Integration tests of the services over real stores (SQLite in a temp dir,
//! the test machine's Redis where a test says so). One test binary, one link.

mod a2a;
mod agents;
mod dashboard;
mod ratelimit;
mod seed;
mod sync;
mod tokens;
