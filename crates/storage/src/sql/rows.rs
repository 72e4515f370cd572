//! Between domain values and the column values both backends share.
//!
//! Ids are stored as hyphenated lowercase uuid strings, times as milliseconds
//! since the Unix epoch, enums as their wire names, and flags read back through
//! `CASE WHEN flag THEN 1 ELSE 0 END`: the `Any` driver refuses a SQLite column
//! declared `BOOLEAN` (so SQLite keeps an `INTEGER` 0/1) and reads PostgreSQL's
//! `BOOLEAN` as a bool; the `CASE` makes both an integer. Anything that does not decode is [`StoreError::Corrupt`]: a bad
//! row is reported, never a panic.

use agentdeck_domain::records::{
    Account, ActivityAction, ActivityEntry, Member, MemberRole, Priority, Project, TargetKind, Task, TaskStatus,
    Workspace,
};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{Any, Decode, Row, Type};
use uuid::Uuid;

use crate::StoreError;

// Column lists are macros rather than consts so that `concat!` can build each
// query text at compile time: a `&'static str` is what sqlx accepts as safe SQL.

/// Columns of a workspace, in the order [`workspace`] reads them.
macro_rules! workspace_columns {
    () => {
        "id, name, CASE WHEN disabled THEN 1 ELSE 0 END AS disabled, created_at"
    };
}

/// Columns of an account; the flags go through `CASE` (see the module doc).
macro_rules! account_columns {
    () => {
        "id, email, display_name, password_hash, CASE WHEN disabled THEN 1 ELSE 0 END AS disabled, \
         CASE WHEN instance_admin THEN 1 ELSE 0 END AS instance_admin, created_at, updated_at"
    };
}

/// Columns of a project; the flag goes through `CASE` (see the module doc).
macro_rules! project_columns {
    () => {
        "id, workspace_id, name, description, start_date, due_date, \
         CASE WHEN archived THEN 1 ELSE 0 END AS archived, created_at, updated_at, revision"
    };
}

/// Columns of a member.
macro_rules! member_columns {
    () => {
        "id, workspace_id, user_id, display_name, email, role, weekly_capacity_hours, \
         created_at, updated_at, revision"
    };
}

/// Columns of a task (its links live in `task_blockers`).
macro_rules! task_columns {
    () => {
        "id, workspace_id, project_id, title, description, status, priority, assignee_id, \
         estimate_hours, due_date, completed_at, created_at, updated_at, revision"
    };
}

/// Columns of an activity entry.
macro_rules! activity_columns {
    () => {
        "id, workspace_id, project_id, actor, action, target_kind, target_id, target_name, details, at"
    };
}

pub(crate) use {account_columns, activity_columns, member_columns, project_columns, task_columns, workspace_columns};

/// Stored form of a time: milliseconds since the epoch (sub-millisecond digits drop).
pub(crate) fn millis(time: DateTime<Utc>) -> i64 {
    time.timestamp_millis()
}

/// The first stored time at or after `time`: for inclusive lower bounds and
/// strict upper bounds, which truncating to milliseconds would shift.
pub(crate) fn millis_ceil(time: DateTime<Utc>) -> i64 {
    let millis = time.timestamp_millis();
    if time.timestamp_subsec_nanos().is_multiple_of(1_000_000) { millis } else { millis.saturating_add(1) }
}

/// Stored form of an optional time.
pub(crate) fn opt_millis(time: Option<DateTime<Utc>>) -> Option<i64> {
    time.map(millis)
}

/// Stored form of an optional id.
pub(crate) fn opt_id(id: Option<Uuid>) -> Option<String> {
    id.map(|id| id.to_string())
}

/// Reads a workspace row.
pub(crate) fn workspace(row: &AnyRow) -> Result<Workspace, StoreError> {
    Ok(Workspace {
        id: uuid(row, "id")?,
        name: get(row, "name")?,
        disabled: flag(row, "disabled")?,
        created_at: time(row, "created_at")?,
    })
}

/// Reads an account row.
pub(crate) fn account(row: &AnyRow) -> Result<Account, StoreError> {
    Ok(Account {
        id: uuid(row, "id")?,
        email: get(row, "email")?,
        display_name: get(row, "display_name")?,
        password_hash: get(row, "password_hash")?,
        disabled: flag(row, "disabled")?,
        instance_admin: flag(row, "instance_admin")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

/// Reads a project row.
pub(crate) fn project(row: &AnyRow) -> Result<Project, StoreError> {
    Ok(Project {
        id: uuid(row, "id")?,
        workspace_id: uuid(row, "workspace_id")?,
        name: get(row, "name")?,
        description: get(row, "description")?,
        start_date: opt_time(row, "start_date")?,
        due_date: opt_time(row, "due_date")?,
        archived: flag(row, "archived")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
        revision: get(row, "revision")?,
    })
}

/// Reads a member row.
pub(crate) fn member(row: &AnyRow) -> Result<Member, StoreError> {
    Ok(Member {
        id: uuid(row, "id")?,
        workspace_id: uuid(row, "workspace_id")?,
        user_id: get(row, "user_id")?,
        display_name: get(row, "display_name")?,
        email: get(row, "email")?,
        role: wire_name(row, "role", MemberRole::parse)?,
        weekly_capacity_hours: get(row, "weekly_capacity_hours")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
        revision: get(row, "revision")?,
    })
}

/// Reads a task row; `blocked_by` is left empty for the caller to fill.
pub(crate) fn task(row: &AnyRow) -> Result<Task, StoreError> {
    Ok(Task {
        id: uuid(row, "id")?,
        workspace_id: uuid(row, "workspace_id")?,
        project_id: uuid(row, "project_id")?,
        title: get(row, "title")?,
        description: get(row, "description")?,
        status: wire_name(row, "status", TaskStatus::parse)?,
        priority: wire_name(row, "priority", Priority::parse)?,
        assignee_id: opt_uuid(row, "assignee_id")?,
        estimate_hours: get(row, "estimate_hours")?,
        due_date: opt_time(row, "due_date")?,
        completed_at: opt_time(row, "completed_at")?,
        blocked_by: Vec::new(),
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
        revision: get(row, "revision")?,
    })
}

/// Reads an activity row.
pub(crate) fn activity(row: &AnyRow) -> Result<ActivityEntry, StoreError> {
    let details: String = get(row, "details")?;
    Ok(ActivityEntry {
        id: uuid(row, "id")?,
        workspace_id: uuid(row, "workspace_id")?,
        project_id: opt_uuid(row, "project_id")?,
        actor: get(row, "actor")?,
        action: wire_name(row, "action", ActivityAction::parse)?,
        target_kind: wire_name(row, "target_kind", TargetKind::parse)?,
        target_id: uuid(row, "target_id")?,
        target_name: get(row, "target_name")?,
        details: serde_json::from_str(&details).map_err(|error| corrupt("details", error))?,
        at: time(row, "at")?,
    })
}

/// Reads a column as `T`.
pub(crate) fn get<'r, T>(row: &'r AnyRow, column: &str) -> Result<T, StoreError>
where
    T: Decode<'r, Any> + Type<Any>,
{
    row.try_get(column).map_err(|error| corrupt(column, error))
}

/// Reads an id column.
pub(crate) fn uuid(row: &AnyRow, column: &str) -> Result<Uuid, StoreError> {
    let text: String = get(row, column)?;
    Uuid::parse_str(&text).map_err(|error| corrupt(column, error))
}

/// Reads a nullable id column.
pub(crate) fn opt_uuid(row: &AnyRow, column: &str) -> Result<Option<Uuid>, StoreError> {
    let text: Option<String> = get(row, column)?;
    text.map(|text| Uuid::parse_str(&text).map_err(|error| corrupt(column, error))).transpose()
}

/// Reads a time column.
pub(crate) fn time(row: &AnyRow, column: &str) -> Result<DateTime<Utc>, StoreError> {
    let millis: i64 = get(row, column)?;
    from_millis(column, millis)
}

/// Reads a nullable time column.
pub(crate) fn opt_time(row: &AnyRow, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    let millis: Option<i64> = get(row, column)?;
    millis.map(|millis| from_millis(column, millis)).transpose()
}

fn from_millis(column: &str, millis: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(millis).ok_or_else(|| corrupt(column, format!("{millis} is out of range")))
}

/// Reads a 0/1 flag column.
pub(crate) fn flag(row: &AnyRow, column: &str) -> Result<bool, StoreError> {
    match get::<i64>(row, column)? {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(corrupt(column, format!("{other} is not a flag"))),
    }
}

/// Reads an enum stored as its wire name.
pub(crate) fn wire_name<T>(row: &AnyRow, column: &str, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
    let name: String = get(row, column)?;
    parse(&name).ok_or_else(|| corrupt(column, format!("unknown value {name:?}")))
}

fn corrupt(column: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("column {column}: {error}"))
}
