//! Roles and principals: who a request acts as.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The role a principal holds in its workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Created the workspace; may do everything.
    Owner,
    /// Manages members and data.
    Admin,
    /// Reads and changes project data.
    Member,
    /// A non-human caller (an agent or a script) scoped to one workspace.
    Service,
}

impl Role {
    /// All roles, in order of decreasing privilege.
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Member, Role::Service];

    /// Returns the role's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Service => "service",
        }
    }

    /// Parses a wire name; `None` for anything else.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == name)
    }

    /// Whether this role may add, change or remove workspace members.
    pub fn can_manage_members(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The authenticated caller of a request: every read and write is scoped to its workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The user id (or service name) the token was issued to.
    pub subject: String,
    /// The only workspace this principal may see.
    pub workspace_id: Uuid,
    /// What the principal may do there.
    pub role: Role,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn only_owners_and_admins_manage_members() {
        assert!(Role::Owner.can_manage_members());
        assert!(Role::Admin.can_manage_members());
        assert!(!Role::Member.can_manage_members());
        assert!(!Role::Service.can_manage_members());
    }
}
