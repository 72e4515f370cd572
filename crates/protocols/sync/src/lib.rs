//! The dashboard sync protocol (`dash.v1`): what travels over `/api/sync`.
//!
//! One WebSocket carries one room — the signed-in user's dashboard in one
//! workspace. Every frame is a JSON object whose `t` member names its type.
//! The server orders all changes of a room into one log of versions: every
//! delta says the version it moves from (`base`) and to (`v`), so a client
//! applies it only when `base` equals what it holds and otherwise asks for a
//! `resync`. A writer gets an `ack` for its own patch instead of an echo.
//!
//! ```text
//! client                         server
//!   | -- upgrade (dash.v1, dash.ticket.<t>) --> |
//!   | <------------- hello ------------------- |
//!   | -- sub {epoch?, v?} -------------------> |
//!   | <---- batch (missed deltas) | snapshot -- |
//!   | <------------- subscribed {recovered} -- |
//!   | -- patch {op, base, ops, tab} ---------> |
//!   | <------------- ack {op, base, v} ------- |   (other tabs get delta)
//!   | <------------- ping / -- pong ---------> |
//!   | <------------- goaway {code} + close --- |
//! ```
//!
//! This crate holds only the wire format (types, codes, parsing); the server
//! side lives in the services and edge crates.

mod frames;
mod handshake;

pub use frames::{
    ClientFrame, DeltaEntry, FrameError, Limits, Origin, RejectCode, ServerFrame, close, parse_client_frame,
};
pub use handshake::{OfferedProtocols, SUBPROTOCOL, TICKET_PREFIX, parse_offered_protocols};
