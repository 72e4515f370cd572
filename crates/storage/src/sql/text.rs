//! The storage-level guard on text: nothing with a NUL (or another control
//! character the domain refuses) reaches the database, on either backend.
//!
//! The domain's validation refuses such text first (`agentdeck_domain::validation`);
//! this guard keeps the store's own promise for every caller, naming the field
//! as the domain would. Anything it does not cover that PostgreSQL still
//! refuses is mapped to the same error, without a field (see [`super::db_error`]).

use agentdeck_domain::records::{ActivityEntry, ActivityFilter, Member, Project, Task};
use agentdeck_domain::validation::has_forbidden_control;

use crate::StoreError;

/// Refuses `value` at `path` when it holds a forbidden control character.
pub(super) fn storable(path: &str, value: &str) -> Result<(), StoreError> {
    if has_forbidden_control(value) { Err(StoreError::InvalidText { path: path.to_owned() }) } else { Ok(()) }
}

/// The text fields of a project.
pub(super) fn project(project: &Project) -> Result<(), StoreError> {
    storable("/name", &project.name)?;
    storable("/description", &project.description)
}

/// The text fields of a task.
pub(super) fn task(task: &Task) -> Result<(), StoreError> {
    storable("/title", &task.title)?;
    storable("/description", &task.description)
}

/// The text fields of a member.
pub(super) fn member(member: &Member) -> Result<(), StoreError> {
    storable("/userId", &member.user_id)?;
    storable("/displayName", &member.display_name)?;
    member.email.as_deref().map_or(Ok(()), |email| storable("/email", email))
}

/// The text fields of an activity entry (its JSON `details` are stored escaped, so any text is fine there).
pub(super) fn activity(entry: &ActivityEntry) -> Result<(), StoreError> {
    storable("/actor", &entry.actor)?;
    storable("/targetName", &entry.target_name)
}

/// The text of an activity filter.
pub(super) fn activity_filter(filter: &ActivityFilter) -> Result<(), StoreError> {
    filter.actor.as_deref().map_or(Ok(()), |actor| storable("/actor", actor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_and_other_controls_are_refused_with_their_field() {
        assert!(storable("/name", "plain\ttext\r\n").is_ok());
        for bad in ["a\u{0}b", "\u{1b}[2J"] {
            match storable("/name", bad) {
                Err(StoreError::InvalidText { path }) => assert_eq!(path, "/name"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
}
