//! The records stores: one trait per aggregate, and the [`Stores`] bundle that
//! hands them out.
//!
//! # Why one store per aggregate
//!
//! A service names only what it uses: the A2A service holds an
//! [`AgentTaskStore`], the meter a [`UsageStore`] and an [`ActivityStore`], the
//! project service the four record stores. A new feature (accounts, approvals,
//! the mesh) adds its own trait and a field of [`Stores`] instead of growing
//! one interface every implementation and fake must follow. The SQL backend
//! ([`crate::connect`]) implements every trait on one pool, so the stores of
//! one [`Stores`] share connections, transactions and the write gate.
//!
//! | trait | aggregate |
//! |---|---|
//! | [`Database`] | the database itself: backend, migrations, health, embedded state |
//! | [`WorkspaceStore`] | workspaces (and creating one with its owner) |
//! | [`AccountStore`] | accounts of people, instance-wide |
//! | [`ProjectStore`] | projects (deleting one takes its tasks) |
//! | [`TaskStore`] | tasks with their blocked-by links |
//! | [`MemberStore`] | members of a workspace |
//! | [`ActivityStore`] | the append-only activity log |
//! | [`AgentTaskStore`] | A2A tasks with their event logs and push configs |
//! | [`UsageStore`] | token counts per workspace and day |
//! | [`InvitationStore`] | invitations to a workspace, by token digest |
//! | [`IdentityStore`] | identities at OpenID Connect providers, pending sign-ins |
//! | [`SessionStore`] | signed-in sessions of people |
//! | [`AuthLogStore`] | the auth log (sign-ins, failures, locks) |
//! | [`ApiTokenStore`] | API tokens of accounts and workspaces, by digest |
//!
//! # Contract of the record stores
//!
//! Writes of projects, tasks and members take the activity entry that records
//! them and store both in one transaction. Updates are optimistic: the record
//! passed carries the next revision, and the write succeeds only if the stored
//! revision is the one before it ([`StoreError::Conflict`] otherwise).
//! Lists are newest first (`createdAt`, then id; activity by `at`, then id).
//!
//! - **Scoping.** Every call names its workspace and sees nothing else: an id of
//!   another workspace reads as `Ok(None)` and fails updates and deletes with
//!   [`StoreError::NotFound`], exactly like an id that does not exist.
//! - **Updates.** An update whose record is absent is [`StoreError::NotFound`];
//!   one whose stored revision is not `revision - 1` is [`StoreError::Conflict`].
//! - **References.** A task's project, assignee and blockers must exist in its
//!   workspace, else [`StoreError::UnknownReference`] names the field
//!   (`/projectId`, `/assigneeId`, `/blockedBy/{index}`); links that would close
//!   a cycle are [`StoreError::DependencyCycle`]. Checked inside the write's
//!   transaction, so concurrent writes cannot slip a cycle past each other.
//! - **Cascades.** Deleting a project deletes its tasks and their links; deleting
//!   a task deletes links to and from it; deleting a member unassigns their tasks.
//!   Tasks changed that way (unassigned, or a link removed) get `revision + 1`
//!   and `updated_at` = the activity entry's `at`.
//! - **Activity.** A write and its entry commit together or not at all; a failed
//!   write logs nothing. The log itself is append-only (enforced by the schema).
//! - **Text.** Text that PostgreSQL cannot hold (a NUL character) is refused as
//!   [`StoreError::InvalidText`] naming the field, on both backends alike, before
//!   anything is written; the domain's validation refuses it earlier still.
//! - **Precision.** Times are kept to the millisecond: a record read back has
//!   its times truncated to whole milliseconds, so callers should create them
//!   that way. Bad stored values read as [`StoreError::Corrupt`].

mod accounts;
mod activity;
mod agent_tasks;
mod api_tokens;
mod auth_log;
mod identities;
mod invitations;
mod members;
mod projects;
mod sessions;
mod tasks;
mod usage;
mod workspaces;

use std::sync::Arc;

use async_trait::async_trait;

pub use self::accounts::AccountStore;
pub use self::activity::{ActivityStore, RecordsGeneration};
pub use self::agent_tasks::AgentTaskStore;
pub use self::api_tokens::{ApiTokenStore, TokenOwner};
pub use self::auth_log::AuthLogStore;
pub use self::identities::{IdentityDeletion, IdentityStore, MAX_IDENTITIES_PER_ACCOUNT};
pub use self::invitations::InvitationStore;
pub use self::members::MemberStore;
pub use self::projects::ProjectStore;
pub use self::sessions::{MAX_MEMBERSHIPS, SessionStore};
pub use self::tasks::TaskStore;
pub use self::usage::UsageStore;
pub use self::workspaces::WorkspaceStore;
use crate::StoreError;
use crate::state::{StateOptions, StateStore};

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded mode: one SQLite file.
    Sqlite,
    /// Cluster mode: PostgreSQL.
    Postgres,
}

impl Backend {
    /// The backend a database URL names by its scheme (`sqlite:…`, `postgres://…`,
    /// `postgresql://…`); `None` for anything else, a non-URL included.
    pub fn of_url(url: &str) -> Option<Backend> {
        match url::Url::parse(url).ok()?.scheme() {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            _ => None,
        }
    }

    /// Returns a short name for logs and `/ready`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The database the records live in, apart from any one aggregate.
#[async_trait]
pub trait Database: Send + Sync + 'static {
    /// Which database this is.
    fn backend(&self) -> Backend;

    /// Applies pending migrations (embedded in the binary); returns how many ran.
    async fn migrate(&self) -> Result<usize, StoreError>;

    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// The dashboard state store that lives in this database: `Some` in
    /// embedded mode (SQLite; the store opens a connection of its own to the
    /// same file), `None` where state lives elsewhere (cluster mode keeps it in
    /// Redis). Needs [`Database::migrate`].
    fn embedded_state(&self, _options: StateOptions) -> Option<Arc<dyn StateStore>> {
        None
    }
}

/// Every records store of one database, built once by [`crate::connect`]
/// (cheap to clone: each field is an `Arc`).
///
/// Services take the fields they need; a new aggregate adds a field here.
#[derive(Clone)]
pub struct Stores {
    /// Backend, migrations, health and the embedded state store.
    pub database: Arc<dyn Database>,
    /// Workspaces.
    pub workspaces: Arc<dyn WorkspaceStore>,
    /// Accounts of people.
    pub accounts: Arc<dyn AccountStore>,
    /// Projects.
    pub projects: Arc<dyn ProjectStore>,
    /// Tasks and their blocked-by links.
    pub tasks: Arc<dyn TaskStore>,
    /// Members.
    pub members: Arc<dyn MemberStore>,
    /// The activity log.
    pub activity: Arc<dyn ActivityStore>,
    /// A2A tasks, their events and push configs.
    pub agent_tasks: Arc<dyn AgentTaskStore>,
    /// Token usage.
    pub usage: Arc<dyn UsageStore>,
    /// Invitations to workspaces.
    pub invitations: Arc<dyn InvitationStore>,
    /// Identities at OpenID Connect providers and pending sign-ins.
    pub identities: Arc<dyn IdentityStore>,
    /// Signed-in sessions.
    pub sessions: Arc<dyn SessionStore>,
    /// The auth log.
    pub auth_log: Arc<dyn AuthLogStore>,
    /// API tokens of scripts and agents.
    pub api_tokens: Arc<dyn ApiTokenStore>,
}

impl Stores {
    /// Every store served by one implementation of them all.
    pub fn all_on<S>(store: Arc<S>) -> Self
    where
        S: Database
            + WorkspaceStore
            + AccountStore
            + ProjectStore
            + TaskStore
            + MemberStore
            + ActivityStore
            + AgentTaskStore
            + UsageStore
            + InvitationStore
            + IdentityStore
            + SessionStore
            + AuthLogStore
            + ApiTokenStore,
    {
        Self {
            database: store.clone(),
            workspaces: store.clone(),
            accounts: store.clone(),
            projects: store.clone(),
            tasks: store.clone(),
            members: store.clone(),
            activity: store.clone(),
            agent_tasks: store.clone(),
            usage: store.clone(),
            invitations: store.clone(),
            identities: store.clone(),
            sessions: store.clone(),
            auth_log: store.clone(),
            api_tokens: store,
        }
    }
}
