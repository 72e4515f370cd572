//! Records a workspace keeps (projects, tasks, members, the activity log), the
//! workspaces themselves and the accounts of the people in them.
//!
//! Each record type comes with the inputs the API accepts for it (`New…` to
//! create, `…Changes` to update) and their validation. Changes use "absent means
//! unchanged, `null` means clear" for optional fields, so a client can update one
//! field without resending the others.

mod account;
mod activity;
mod identity;
mod invitation;
mod member;
mod project;
mod session;
mod task;
pub mod wire_schema;
mod workspace;

pub use account::{
    Account, MAX_ACCOUNT_EMAIL_CHARS, MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS, NewAccount, check_password,
    normalize_email,
};
pub use activity::{ActivityAction, ActivityEntry, ActivityFilter, ActivitySummary, TargetKind};
pub use identity::{Identity, MAX_IDENTITY_TEXT_BYTES, PendingOidcLogin};
pub use invitation::Invitation;
pub use member::{DEFAULT_WEEKLY_CAPACITY_HOURS, Member, MemberChanges, MemberRole, NewMember};
pub use project::{NewProject, Project, ProjectChanges, ProjectFilter};
pub use session::{
    AuthEvent, AuthEventKind, MAX_AUTH_DETAIL_CHARS, MAX_USER_AGENT_CHARS, Membership, Session, SessionLookup,
};
pub use task::{NewTask, Priority, Task, TaskChanges, TaskFilter, TaskStatus};
pub use workspace::Workspace;

/// Longest name or title, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest free-text description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;
/// Most blocked-by links one task may have.
pub const MAX_BLOCKERS: usize = 50;

/// Truncates a time to the millisecond precision records are stored with, so a
/// record read back equals the one written.
pub fn stored_precision(time: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    time.trunc_subsecs(3)
}

/// Deserializes a field that distinguishes "absent" (`None`) from `null`
/// (`Some(None)`); use with `#[serde(default, deserialize_with = "nullable")]`.
pub(crate) fn nullable<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde::Deserialize::deserialize(deserializer).map(Some)
}
