//! Project data on behalf of a principal.
//!
//! Every call takes the [`Principal`] and acts only in its workspace. This layer
//! owns what the store does not: input validation (through the domain types),
//! who may do what, the activity entry each change writes, and a short retry
//! when an update races another one.

mod activity;
mod error;
mod service;

pub use error::ServiceError;
pub use service::ProjectService;

use agentdeck_domain::auth::Principal;

/// Refuses callers whose role may not manage members.
fn require_member_manager(principal: &Principal) -> Result<(), ServiceError> {
    if principal.role.can_manage_members() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden("only owners and admins may manage members"))
    }
}
