//! The records store: where projects, tasks, members and the activity log live.
//!
//! The records are split into one store per aggregate ([`store`]: workspaces,
//! projects, tasks, members, activity, agent tasks, token usage, API tokens), handed out
//! together as [`Stores`]. Two backends implement them all: SQLite (embedded
//! mode, one file in the data dir, WAL) and PostgreSQL (cluster mode).
//! [`connect`] picks one from the database URL. One integration test suite
//! (`tests/storage`) runs against both.
//!
//! Every read and write takes the workspace id and is scoped to it: an id from
//! another workspace is simply not found. Every write of a record appends its
//! activity entry in the same transaction, so the log never misses a change and
//! never records one that did not happen.
//!
//! The [`state`] module holds the other store of this crate: the dashboard
//! state of each (workspace, user), in the same SQLite file in embedded mode
//! ([`Database::embedded_state`]) or in Redis in cluster mode
//! ([`RedisStateStore`]). The [`tickets`] module keeps the single-use
//! WebSocket tickets, in memory or in Redis. The [`bus`] carries messages
//! between the nodes of a cluster (A2A task events, project data changes).

pub mod agent_tasks;
pub mod bus;
mod error;
pub mod ratelimit;
mod redis_connection;
mod sql;
pub mod state;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tickets;
pub mod usage;

pub use bus::{Bus, BusMessage, BusSubscription, RedisBus};
pub use error::StoreError;
pub use sql::{ConnectOptions, connect, sqlite_url};
pub use state::{
    ChangeFeed, CommitOutcome, CommitRequest, HistoryEntry, RedisChangeFeed, RedisStateStore, RoomKey, RoomSignal,
    RoomWatch, SqliteStateStore, StateClock, StateError, StateOptions, StateStore, StoredState, new_epoch,
};
pub use store::InvitationStore;
pub use store::{
    AccountStore, ActivityStore, AgentTaskStore, ApiTokenStore, AuthLogStore, Backend, Database, MemberStore,
    ProjectStore, RecordsGeneration, SessionStore, Stores, TaskStore, TokenOwner, UsageStore, WorkspaceStore,
};
pub use store::{IdentityDeletion, IdentityStore, MAX_IDENTITIES_PER_ACCOUNT};
