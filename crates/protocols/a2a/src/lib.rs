//! The A2A (Agent2Agent) protocol, versions 1.0 and 0.3: what travels between agents.
//!
//! This crate is the wire format only — serde types and codecs, no I/O — so
//! that the server routes, the task service and the A2A client all speak the
//! same letter of the protocol (`shared/reference/a2a.md` §2):
//!
//! - [`model`]: the ProtoJSON form of `lf.a2a.v1` messages — camelCase keys,
//!   enum names such as `TASK_STATE_COMPLETED`, oneofs as single-key objects
//!   (`{"task": …}`, `{"statusUpdate": …}`), timestamps in UTC with
//!   milliseconds. Unknown fields are ignored on input; default values are
//!   left out on output, as ProtoJSON does.
//! - [`jsonrpc`]: the JSON-RPC 2.0 binding — parsing a request envelope,
//!   resolving its method name in the request's version
//!   ([`jsonrpc::Method::resolve`]), building result and error envelopes.
//! - [`error`]: [`A2aError`], with its JSON-RPC code, `google.rpc.ErrorInfo`
//!   reason and HTTP status, in one table.
//! - [`version`]: the `A2A-Version` service parameter: 1.0, or 0.3 (which a
//!   missing header means); anything else is `VersionNotSupportedError`.
//! - [`operation`]: [`Operation`], one call with typed 1.0 params, whatever
//!   version and binding it came in.
//! - [`v03`]: the 0.3 wire form (JSON-RPC and REST), its method names, the
//!   conversions to and from 1.0, and the dual card's 0.3 members.
//!
//! - [`client`] (feature `client`): a typed client of remote agents — card
//!   fetch and interface choice, every operation over JSON-RPC or REST,
//!   SSE streams with their event ids, per-call deadlines, retries of
//!   idempotent calls only, the caller's bearer token and `traceparent`.
//!
//! Reading is lenient where real peers are sloppy (0.3 enum spellings such as
//! `completed` and `user`, 0.3 `kind`-tagged parts); writing is strict, in
//! the version the other side speaks.

#[cfg(feature = "client")]
pub mod client;
pub mod error;
pub mod jsonrpc;
pub mod model;
pub mod operation;
mod timestamp;
pub mod v03;
pub mod version;

pub use error::{A2aError, FieldViolation};
pub use model::*;
pub use operation::Operation;
pub use timestamp::{format_timestamp, now_millis};
