use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::wire_schema::{MAX_EMAIL_CHARS, MIN_EMAIL_CHARS};
use super::{MAX_NAME_CHARS, nullable};
use crate::auth::Role;
use crate::validation::{ValidationErrors, Validator};

/// The role of a person in a workspace (service principals are not members).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MemberRole {
    /// Created the workspace.
    Owner,
    /// Manages members and data.
    Admin,
    /// Works on projects.
    Member,
}

impl MemberRole {
    /// Returns the wire name.
    pub fn as_str(self) -> &'static str {
        Role::from(self).as_str()
    }

    /// Parses a wire name; `None` for anything else, `service` included.
    pub fn parse(name: &str) -> Option<Self> {
        match Role::parse(name)? {
            Role::Owner => Some(MemberRole::Owner),
            Role::Admin => Some(MemberRole::Admin),
            Role::Member => Some(MemberRole::Member),
            Role::Service => None,
        }
    }
}

impl From<MemberRole> for Role {
    fn from(role: MemberRole) -> Self {
        match role {
            MemberRole::Owner => Role::Owner,
            MemberRole::Admin => Role::Admin,
            MemberRole::Member => Role::Member,
        }
    }
}

/// A person in a workspace, with the capacity tasks are planned against.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// Member id (what tasks name as `assigneeId`).
    pub id: Uuid,
    /// Workspace the member belongs to.
    pub workspace_id: Uuid,
    /// The token subject of this person; unique in the workspace.
    pub user_id: String,
    /// Name shown to people.
    pub display_name: String,
    /// Contact address, if known.
    pub email: Option<String>,
    /// What the member may do.
    pub role: MemberRole,
    /// Hours a week the member can work (0–168).
    pub weekly_capacity_hours: f64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
    /// Incremented on every change; guards against lost updates.
    pub revision: i64,
}

/// Input to add a member.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewMember {
    /// The token subject of this person (1–200 characters).
    #[schema(schema_with = super::wire_schema::name)]
    pub user_id: String,
    /// Name shown to people (1–200 characters).
    #[schema(schema_with = super::wire_schema::name)]
    pub display_name: String,
    /// Contact address.
    #[serde(default)]
    #[schema(schema_with = super::wire_schema::email)]
    pub email: Option<String>,
    /// Defaults to `member`.
    #[serde(default)]
    pub role: Option<MemberRole>,
    /// Hours a week (0–168); defaults to 40.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 168)]
    pub weekly_capacity_hours: Option<f64>,
}

/// Input to change a member: absent fields stay, `null` clears an optional one.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MemberChanges {
    /// New display name.
    #[schema(schema_with = super::wire_schema::name_change)]
    pub display_name: Option<String>,
    /// New address, or `null` to clear it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = super::wire_schema::email)]
    pub email: Option<Option<String>>,
    /// New role.
    pub role: Option<MemberRole>,
    /// New weekly capacity (0–168 hours).
    #[schema(minimum = 0, maximum = 168)]
    pub weekly_capacity_hours: Option<f64>,
}

/// Weekly capacity of a member added without one.
pub const DEFAULT_WEEKLY_CAPACITY_HOURS: f64 = 40.0;

impl NewMember {
    /// Checks the input and builds the member it describes.
    pub fn into_member(self, workspace_id: Uuid, now: DateTime<Utc>) -> Result<Member, ValidationErrors> {
        let member = Member {
            id: Uuid::now_v7(),
            workspace_id,
            user_id: self.user_id.trim().to_owned(),
            display_name: self.display_name.trim().to_owned(),
            email: self.email,
            role: self.role.unwrap_or(MemberRole::Member),
            weekly_capacity_hours: self.weekly_capacity_hours.unwrap_or(DEFAULT_WEEKLY_CAPACITY_HOURS),
            created_at: now,
            updated_at: now,
            revision: 1,
        };
        member.validate()?;
        Ok(member)
    }
}

impl Member {
    /// Checks the rules every stored member obeys.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut validator = Validator::new();
        validator.text("/userId", &self.user_id, 1, MAX_NAME_CHARS);
        validator.text("/displayName", &self.display_name, 1, MAX_NAME_CHARS);
        if let Some(email) = &self.email {
            validator.text("/email", email, MIN_EMAIL_CHARS, MAX_EMAIL_CHARS);
            if !email.contains('@') {
                validator.error("/email", "must be an email address");
            }
        }
        validator.number("/weeklyCapacityHours", self.weekly_capacity_hours, 0.0, 168.0);
        validator.finish()
    }

    /// Returns the member with `changes` applied and validated, one revision later.
    pub fn apply(&self, changes: MemberChanges, now: DateTime<Utc>) -> Result<Member, ValidationErrors> {
        let mut next = self.clone();
        if let Some(display_name) = changes.display_name {
            next.display_name = display_name.trim().to_owned();
        }
        if let Some(email) = changes.email {
            next.email = email;
        }
        if let Some(role) = changes.role {
            next.role = role;
        }
        if let Some(hours) = changes.weekly_capacity_hours {
            next.weekly_capacity_hours = hours;
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

    #[test]
    fn service_is_not_a_member_role() {
        assert_eq!(MemberRole::parse("service"), None);
        assert_eq!(MemberRole::parse("admin"), Some(MemberRole::Admin));
    }

    #[test]
    fn capacity_is_bounded_by_the_week() {
        let input: NewMember = serde_json::from_value(serde_json::json!({
            "userId": "u1", "displayName": "Ada", "weeklyCapacityHours": 200.0, "email": "nope"
        }))
        .unwrap();
        let errors = input.into_member(Uuid::nil(), Utc::now()).unwrap_err().0;
        let paths: Vec<_> = errors.iter().map(|error| error.path.as_str()).collect();
        assert_eq!(paths, ["/email", "/weeklyCapacityHours"]);
    }
}
