//! Records generations kept in memory, for a SQLite file only this process writes.
//!
//! A records generation names the state of a workspace's records: two equal
//! generations read in turn mean no record of the workspace changed in between
//! (see [`RecordsGeneration`]). On any database it can be read as the id of the
//! newest activity entry, since every record write appends one in its
//! transaction; that costs a query per read. When this process is the only
//! writer (the embedded SQLite file), every record write passes through its
//! [`WriteTx`](super::WriteTx), which advances a counter *after* its commit, so
//! the counter is read with no query at all:
//!
//! - a reader that loads the counter and then reads the records sees every
//!   write whose advance it loaded (the commit came first), and a write it
//!   missed advances the counter after the load, so the next load differs;
//! - workspaces share 4,096 counters by hash, so the memory is fixed; a write
//!   to one workspace may also advance another's generation, which only costs
//!   that one a fresh read.
//!
//! Writes by another process to the same file (the admin CLI, which writes
//! workspaces and accounts, not projects or tasks) do not advance it; readers
//! that keep what they read bound it with a lifetime as well.
//!
//! Every store this process opens on the same file shares one set of counters.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use uuid::Uuid;

use crate::store::RecordsGeneration;

/// Counters per process and file.
const STRIPES: usize = 4096;

/// The counters of one database file.
pub(crate) struct LocalGenerations {
    stripes: Box<[AtomicU64]>,
}

impl LocalGenerations {
    /// The counters of `file` in this process, shared by every store opened on it.
    pub(crate) fn of_file(file: &Path) -> Arc<Self> {
        static OPEN: Mutex<Option<HashMap<PathBuf, Weak<LocalGenerations>>>> = Mutex::new(None);
        let key = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
        // A poisoned lock only means another thread panicked while holding it; the map stays usable.
        let mut open = OPEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let open = open.get_or_insert_with(HashMap::new);
        open.retain(|_, generations| generations.strong_count() > 0);
        if let Some(generations) = open.get(&key).and_then(Weak::upgrade) {
            return generations;
        }
        let generations = Arc::new(Self::new());
        open.insert(key, Arc::downgrade(&generations));
        generations
    }

    /// Counters of a database no other store can open (in memory).
    pub(crate) fn new() -> Self {
        Self { stripes: (0..STRIPES).map(|_| AtomicU64::new(0)).collect() }
    }

    fn stripe(&self, workspace_id: Uuid) -> &AtomicU64 {
        let bits = workspace_id.as_u128();
        let folded = (bits as u64) ^ ((bits >> 64) as u64);
        &self.stripes[(folded % STRIPES as u64) as usize]
    }

    /// Called after a write to the workspace's records committed.
    pub(crate) fn advance(&self, workspace_id: Uuid) {
        self.stripe(workspace_id).fetch_add(1, Ordering::AcqRel);
    }

    /// The workspace's generation now.
    pub(crate) fn current(&self, workspace_id: Uuid) -> RecordsGeneration {
        RecordsGeneration::Local(self.stripe(workspace_id).load(Ordering::Acquire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_moves_its_workspace_on_and_stores_of_one_file_share_counters() {
        let directory = std::env::temp_dir().join(format!("generations-{}", Uuid::now_v7()));
        let file = directory.join("agentdeck.db");
        let generations = LocalGenerations::of_file(&file);
        let (workspace, other) = (Uuid::from_u128(2), Uuid::from_u128(1));
        let before = generations.current(workspace);
        let other_before = generations.current(other);
        LocalGenerations::of_file(&file).advance(workspace);
        assert_ne!(generations.current(workspace), before);
        assert_eq!(generations.current(other), other_before);
        let elsewhere = LocalGenerations::of_file(&directory.join("other.db"));
        assert!(!Arc::ptr_eq(&generations, &elsewhere));
    }
}
