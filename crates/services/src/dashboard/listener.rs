//! Who hears of committed changes: the service announces every commit, so no
//! writer (a REST route, the gateway, the meter, a socket) can forget to.
//!
//! A listener is called on the writer's task right after the store accepted
//! the commit, with borrowed data: it must not block or await, and it copies
//! only what it keeps (the sync hub copies nothing for a room nobody on this
//! node has open). Listeners are held weakly, so a listener that holds the
//! service (the hub does) forms no reference cycle, and one that is gone is
//! dropped from the list.

use std::sync::{Arc, PoisonError, RwLock, Weak};

use agentdeck_domain::dashboard::version::StateVersion;
use agentdeck_storage::RoomKey;
use serde_json::Value;

/// One committed change of a room, as its listeners hear it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CommittedChange<'a> {
    /// A JSON Patch produced `version`.
    Patched {
        /// The version after the patch.
        version: &'a StateVersion,
        /// The change as committed: the patch's operations and what the rules changed besides.
        ops: &'a Value,
    },
    /// The whole document was replaced (a `PUT`, or a migration on read) under a new epoch.
    Replaced {
        /// The first version of the new epoch.
        version: &'a StateVersion,
    },
    /// The document was deleted.
    Deleted,
}

/// Hears every change a [`DashboardService`](super::DashboardService) commits.
pub trait CommitListener: Send + Sync {
    /// `change` was committed to `room`. Called on the writer's task: queue and return, never wait.
    fn committed(&self, room: &RoomKey, change: CommittedChange<'_>);
}

/// The listeners of a service, shared by all its clones.
#[derive(Clone, Default)]
pub(super) struct Listeners(Arc<RwLock<Vec<Weak<dyn CommitListener>>>>);

impl Listeners {
    /// Adds a listener; it is heard from until it is dropped.
    pub(super) fn add(&self, listener: Weak<dyn CommitListener>) {
        let mut listeners = self.0.write().unwrap_or_else(PoisonError::into_inner);
        listeners.retain(|known| known.strong_count() > 0);
        listeners.push(listener);
    }

    /// Tells every live listener about a commit.
    pub(super) fn announce(&self, room: &RoomKey, change: CommittedChange<'_>) {
        // A panic elsewhere cannot leave the list half-updated (every update is one push or retain).
        let listeners = self.0.read().unwrap_or_else(PoisonError::into_inner);
        for listener in listeners.iter().filter_map(Weak::upgrade) {
            listener.committed(room, change);
        }
    }
}
