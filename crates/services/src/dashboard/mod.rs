//! The dashboard state service: reads and writes each user's dashboard
//! document on behalf of a principal (DESIGN §5).
//!
//! Every principal has one *room*, `(workspace, subject)`: two users of one
//! workspace never share a document, and a token of another workspace never
//! names a room here. The service joins the pure domain rules
//! ([`agentdeck_domain::dashboard`]) to a [`agentdeck_storage::StateStore`]:
//!
//! - **One commit path.** Every change of a dashboard — REST, sockets, the
//!   gateway, the meter's quota alerts, a migration on read — is committed
//!   here, and every commit is announced to the service's [`CommitListener`]s
//!   (the sync hub is one), so a new writer cannot forget to tell open tabs.
//! - **Reading** decodes the stored bytes. A document in the current format
//!   passed every rule when it was written, so a read does not check them
//!   again; an older format is migrated, checked, and persisted under a new
//!   epoch (the document changed without a patch). A document that cannot be
//!   read back is never overwritten: the room is served *degraded* (an empty
//!   document with the stored version) and every write but `DELETE` is
//!   refused with [`DashboardError::Unreadable`], so nothing is lost silently.
//! - **Patching** is optimistic: check the patch (once, before any I/O), read,
//!   check `If-Match`, apply the RFC 6902 patch to a copy, commit with the
//!   version read as the expected one. The first attempt starts from the
//!   document this service last wrote for the room (no read); anything but a
//!   commit from it runs again from a fresh read. Writers of one process take
//!   turns per room, so they never race each other; when a writer of another
//!   process got in between, the cycle runs again, for up to the retry budget
//!   ([`DEFAULT_RETRY_BUDGET`], the HTTP edge uses its request timeout). Only
//!   a write that lost every race in that time is a
//!   [`DashboardError::Conflict`], naming the places it writes.
//! - **`If-Match` rules** (keep them in mind when reading the code):
//!   1. no `If-Match`: the patch applies to whatever is current;
//!   2. the current version: applies;
//!   3. an older version of the *same* epoch: the patch is rebased — applied on
//!      top if none of its paths overlaps a path written since (otherwise 409
//!      [`DashboardError::Conflict`] with the current version);
//!   4. another epoch, a weak tag, or `*` on an absent room: 412
//!      [`DashboardError::PreconditionFailed`] — the client's view belongs to a
//!      log that no longer exists, so it must read a fresh snapshot.
//!
//!   A whole-document `PUT` and a `DELETE` take only rules 1, 2 and 4: they
//!   write everywhere, so there is nothing to rebase.
//! - **Idempotency**: a patch may carry an op key (the writer's idempotency
//!   key); one without is given a key of its own, so a commit the store runs
//!   twice (a Redis command sent again after a lost connection) is never applied
//!   twice. The store applies a key once and answers the first version to a
//!   retry ([`Committed::replayed`]).
//!
//! # Layout
//!
//! - `service`: [`DashboardService`] and what it returns.
//! - `listener`: [`CommitListener`], what hears of every commit.
//! - `stored`: the stored form — reading documents back, written places as strings.
//! - `error`: [`DashboardError`], with the HTTP status each variant stands for.

mod error;
mod listener;
mod service;
mod stored;

pub use error::DashboardError;
pub use listener::{CommitListener, CommittedChange};
pub(crate) use service::room_of;
pub use service::{Committed, DEFAULT_RETRY_BUDGET, DashboardService, DashboardView};
