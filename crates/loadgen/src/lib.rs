//! Load generator and correctness oracle for agentdeck's `/api/sync` socket (`dash.v1`).
//!
//! Every scenario is bounded in connections and time, talks only to loopback
//! addresses, and checks on every client that the versions it receives are
//! strictly contiguous (`base` of each delta equals the version held): a gap
//! or a duplicate fails the run.
//!
//! Scenarios ([`scenarios`]):
//!
//! - **idle**: open N sockets (each its own room, subscribed) and hold them,
//!   answering pings; reports the server's RSS per connection and its CPU
//!   over the hold (from `/proc/<pid>`), target T1 of realtime-sync §4.
//! - **rooms**: R rooms × T tabs subscribed, plus one publisher socket per
//!   room (the "agent") that writes one ~300-byte patch per second per room
//!   on an open-loop schedule; each tab records publish→delivery latency in an
//!   HDR histogram (coordinated-omission corrected). Target T2.
//! - **hot**: one room with many subscribers and a publisher at a fixed rate
//!   (target T3); the rooms machinery with other defaults.
//! - **storm**: the rooms set-up, then every tab drops at the same instant
//!   and reconnects within a window sending `sub{epoch, v}`; reports how
//!   many recovered from history and the connect→caught-up latency (T5).
//!
//! The `rooms` scenario can also run against a Socket.IO server
//! (`scripts/bench/socketio/server.js`, spoken to by [`socketio`]) doing the
//! same relay job, so the two are compared in the same run.
//!
//! Authentication: the generator mints its own HS256 tokens ([`auth`]) with the
//! server's secret; room `n` is user `<prefix>-<n>` of the demo workspace.

pub mod auth;
pub mod client;
pub mod process_stats;
pub mod scenarios;
pub mod socketio;
pub mod stats;
pub mod target;
