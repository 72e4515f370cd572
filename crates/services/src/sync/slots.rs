//! Connection caps: at most N sockets per user and M per workspace on this node.
//!
//! A [`Slot`] is taken before a socket joins its room and given back when the
//! connection is dropped, however it ends, so the counts cannot drift.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use agentdeck_storage::RoomKey;
use uuid::Uuid;

use super::HubError;

/// Limits on open sockets on this node (0: unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionCaps {
    /// Sockets one user may hold in one workspace.
    pub per_user: usize,
    /// Sockets all users of one workspace may hold.
    pub per_workspace: usize,
}

#[derive(Default)]
struct Counts {
    per_user: HashMap<RoomKey, usize>,
    per_workspace: HashMap<Uuid, usize>,
}

/// The open-socket counts of a node.
#[derive(Clone)]
pub(super) struct Slots {
    caps: ConnectionCaps,
    counts: Arc<Mutex<Counts>>,
}

/// One counted socket; dropping it frees the slot.
pub(super) struct Slot {
    key: RoomKey,
    counts: Arc<Mutex<Counts>>,
}

impl Slots {
    pub(super) fn new(caps: ConnectionCaps) -> Self {
        Self { caps, counts: Arc::default() }
    }

    /// Takes a slot for the user of `key`, or says which cap is full.
    pub(super) fn take(&self, key: &RoomKey) -> Result<Slot, HubError> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let user = counts.per_user.get(key).copied().unwrap_or(0);
        if self.caps.per_user > 0 && user >= self.caps.per_user {
            return Err(HubError::TooManyConnections { scope: "user", limit: self.caps.per_user });
        }
        let workspace = counts.per_workspace.get(&key.workspace_id).copied().unwrap_or(0);
        if self.caps.per_workspace > 0 && workspace >= self.caps.per_workspace {
            return Err(HubError::TooManyConnections { scope: "workspace", limit: self.caps.per_workspace });
        }
        counts.per_user.insert(key.clone(), user + 1);
        counts.per_workspace.insert(key.workspace_id, workspace + 1);
        Ok(Slot { key: key.clone(), counts: self.counts.clone() })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        release(&mut counts.per_user, &self.key);
        release(&mut counts.per_workspace, &self.key.workspace_id);
    }
}

/// Decrements a count, forgetting keys that reach zero so the maps stay small.
fn release<K: std::hash::Hash + Eq>(counts: &mut HashMap<K, usize>, key: &K) {
    if let Some(count) = counts.get_mut(key) {
        *count = count.saturating_sub(1);
        if *count == 0 {
            counts.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_hold_per_user_and_per_workspace_and_free_on_drop() {
        let slots = Slots::new(ConnectionCaps { per_user: 2, per_workspace: 3 });
        let workspace = Uuid::now_v7();
        let ada = RoomKey::new(workspace, "ada");
        let bob = RoomKey::new(workspace, "bob");
        let first = slots.take(&ada).unwrap();
        let _second = slots.take(&ada).unwrap();
        assert!(matches!(slots.take(&ada), Err(HubError::TooManyConnections { scope: "user", limit: 2 })));
        let _third = slots.take(&bob).unwrap();
        assert!(matches!(slots.take(&bob), Err(HubError::TooManyConnections { scope: "workspace", limit: 3 })));
        drop(first);
        assert!(slots.take(&ada).is_ok(), "a dropped connection frees its slot");
        let other = RoomKey::new(Uuid::now_v7(), "ada");
        assert!(slots.take(&other).is_ok(), "another workspace counts apart");
    }
}
