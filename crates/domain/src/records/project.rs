use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, nullable, stored_precision};
use crate::validation::{ValidationErrors, Validator};

/// A project: a named set of tasks with an optional schedule.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    /// Project id.
    pub id: Uuid,
    /// Workspace the project belongs to.
    pub workspace_id: Uuid,
    /// Project name, unique in spirit but not enforced.
    pub name: String,
    /// Free text; empty when none was given.
    pub description: String,
    /// When work starts.
    pub start_date: Option<DateTime<Utc>>,
    /// When work is due.
    pub due_date: Option<DateTime<Utc>>,
    /// Archived projects are kept but hidden from default lists.
    pub archived: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
    /// Incremented on every change; guards against lost updates.
    pub revision: i64,
}

/// Input to create a project.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewProject {
    /// Project name (1–200 characters).
    #[schema(schema_with = super::wire_schema::name)]
    pub name: String,
    /// Free text (up to 10 000 characters).
    #[serde(default)]
    #[schema(schema_with = super::wire_schema::description)]
    pub description: String,
    /// When work starts.
    #[serde(default)]
    pub start_date: Option<DateTime<Utc>>,
    /// When work is due; not before `startDate` (422 otherwise: JSON Schema cannot compare two fields).
    #[serde(default)]
    pub due_date: Option<DateTime<Utc>>,
    /// Create it archived.
    #[serde(default)]
    pub archived: bool,
}

/// Input to change a project: absent fields stay, `null` clears an optional one.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProjectChanges {
    /// New name.
    #[schema(schema_with = super::wire_schema::name_change)]
    pub name: Option<String>,
    /// New description.
    #[schema(schema_with = super::wire_schema::description_change)]
    pub description: Option<String>,
    /// New start date, or `null` to clear it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub start_date: Option<Option<DateTime<Utc>>>,
    /// New due date, or `null` to clear it; not before the (new or kept) `startDate` (422 otherwise).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub due_date: Option<Option<DateTime<Utc>>>,
    /// Archive or restore.
    pub archived: Option<bool>,
}

/// Which projects a list returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProjectFilter {
    /// `Some(false)`: active only; `Some(true)`: archived only; `None`: all.
    pub archived: Option<bool>,
}

impl NewProject {
    /// Checks the input and builds the project it describes.
    pub fn into_project(self, workspace_id: Uuid, now: DateTime<Utc>) -> Result<Project, ValidationErrors> {
        let project = Project {
            id: Uuid::now_v7(),
            workspace_id,
            name: self.name.trim().to_owned(),
            description: self.description,
            start_date: self.start_date.map(stored_precision),
            due_date: self.due_date.map(stored_precision),
            archived: self.archived,
            created_at: now,
            updated_at: now,
            revision: 1,
        };
        project.validate()?;
        Ok(project)
    }
}

impl Project {
    /// Checks the rules every stored project obeys.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut validator = Validator::new();
        validator.text("/name", &self.name, 1, MAX_NAME_CHARS);
        validator.text("/description", &self.description, 0, MAX_DESCRIPTION_CHARS);
        if let (Some(start), Some(due)) = (self.start_date, self.due_date)
            && due < start
        {
            validator.error("/dueDate", "must not be before startDate");
        }
        validator.finish()
    }

    /// Returns the project with `changes` applied and validated, one revision later.
    pub fn apply(&self, changes: ProjectChanges, now: DateTime<Utc>) -> Result<Project, ValidationErrors> {
        let mut next = self.clone();
        if let Some(name) = changes.name {
            next.name = name.trim().to_owned();
        }
        if let Some(description) = changes.description {
            next.description = description;
        }
        if let Some(start_date) = changes.start_date {
            next.start_date = start_date.map(stored_precision);
        }
        if let Some(due_date) = changes.due_date {
            next.due_date = due_date.map(stored_precision);
        }
        if let Some(archived) = changes.archived {
            next.archived = archived;
        }
        next.updated_at = now;
        next.revision = self.revision + 1;
        next.validate()?;
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, 12, 0, 0).unwrap()
    }

    #[test]
    fn due_before_start_is_rejected_at_due_date() {
        let input: NewProject = serde_json::from_value(serde_json::json!({
            "name": "Apollo", "startDate": at(10), "dueDate": at(5)
        }))
        .unwrap();
        let errors = input.into_project(Uuid::nil(), at(1)).unwrap_err().0;
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, "/dueDate");
    }

    #[test]
    fn changes_distinguish_absent_from_null() {
        let project = NewProject {
            name: "Apollo".into(),
            description: String::new(),
            start_date: Some(at(1)),
            due_date: Some(at(20)),
            archived: false,
        }
        .into_project(Uuid::nil(), at(1))
        .unwrap();
        let changes: ProjectChanges =
            serde_json::from_value(serde_json::json!({"dueDate": null, "name": " Gemini "})).unwrap();
        let changed = project.apply(changes, at(2)).unwrap();
        assert_eq!(changed.name, "Gemini");
        assert_eq!(changed.due_date, None);
        assert_eq!(changed.start_date, Some(at(1)));
        assert_eq!(changed.revision, 2);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let result: Result<NewProject, _> = serde_json::from_value(serde_json::json!({"name": "x", "owner": "me"}));
        assert!(result.is_err());
    }
}
