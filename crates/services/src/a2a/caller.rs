//! Who calls an A2A operation, and the task scope that follows from it.
//!
//! Named `A2aCaller` so it is not confused with the HTTP edge's `Caller`
//! extractor (an authenticated principal): an A2A caller may be anonymous,
//! and carries the bearer token the agents pass on.

use agentdeck_domain::auth::Principal;
use agentdeck_storage::agent_tasks::AgentTaskScope;

use super::executor::Handover;

/// The tenant of anonymous callers (never metered).
pub(super) const ANONYMOUS_TENANT: &str = "public";

/// The owner of anonymous callers' tasks.
const ANONYMOUS_OWNER: &str = "anonymous";

/// Who is calling. Their tasks live in the scope of their workspace and user
/// id; anonymous callers share the scope `public`/`anonymous` for tasks, but
/// not for idempotency keys, which are kept per client address.
#[derive(Debug, Clone, PartialEq)]
pub struct A2aCaller {
    /// Who, when authenticated (the agents read their workspace, the gateway writes their dashboard).
    pub principal: Option<Principal>,
    /// The bearer token, passed on to the agent.
    pub bearer: Option<String>,
    /// The client's address, when the call came over the network (scopes an anonymous caller's idempotency keys).
    pub address: Option<String>,
    /// What an in-process caller hands the agent (empty for callers over HTTP).
    pub handover: Handover,
}

impl A2aCaller {
    /// An unauthenticated caller of unknown address.
    pub fn anonymous() -> Self {
        Self { principal: None, bearer: None, address: None, handover: Handover::default() }
    }

    /// An unauthenticated caller at a client address.
    pub fn anonymous_at(address: impl Into<String>) -> Self {
        Self { principal: None, bearer: None, address: Some(address.into()), handover: Handover::default() }
    }

    /// An authenticated caller with their token.
    pub fn authenticated(principal: Principal, bearer: Option<String>) -> Self {
        Self { principal: Some(principal), bearer, address: None, handover: Handover::default() }
    }

    /// The scope of this caller's idempotency keys with `agent`: the task
    /// scope, except that an anonymous caller's owner is its client address,
    /// so two anonymous clients never see each other's keys.
    pub(super) fn idempotency_scope(&self, agent: &str) -> AgentTaskScope {
        let mut scope = self.scope(agent);
        if self.principal.is_none() {
            scope.owner = format!("{ANONYMOUS_OWNER}@{}", self.address.as_deref().unwrap_or("unknown"));
        }
        scope
    }

    /// The same caller handing `handover` to the agent (in-process callers only).
    pub fn handing_over(self, handover: Handover) -> Self {
        Self { handover, ..self }
    }

    /// The scope of this caller's tasks with `agent`.
    pub(super) fn scope(&self, agent: &str) -> AgentTaskScope {
        let (tenant, owner) = match &self.principal {
            Some(principal) => (principal.workspace_id.to_string(), principal.subject.clone()),
            None => (ANONYMOUS_TENANT.to_owned(), ANONYMOUS_OWNER.to_owned()),
        };
        AgentTaskScope { tenant, owner, agent: agent.to_owned() }
    }
}

#[cfg(test)]
mod tests {
    use agentdeck_domain::auth::Role;

    use super::*;

    #[test]
    fn callers_are_scoped_by_workspace_and_subject_and_anonymous_ones_share_a_scope() {
        let workspace_id = uuid::Uuid::from_u128(7);
        let ada = Principal { subject: "ada".into(), workspace_id, role: Role::Member };
        let scope = A2aCaller::authenticated(ada, None).scope("pulse");
        assert_eq!(
            (scope.tenant.as_str(), scope.owner.as_str(), scope.agent.as_str()),
            (&*workspace_id.to_string(), "ada", "pulse")
        );
        assert_eq!(A2aCaller::anonymous().scope("x"), A2aCaller::anonymous().scope("x"));
        assert_eq!(A2aCaller::anonymous().scope("x").tenant, ANONYMOUS_TENANT);
    }

    #[test]
    fn anonymous_callers_keep_idempotency_keys_per_address_and_share_the_task_scope() {
        let (here, there) = (A2aCaller::anonymous_at("10.0.0.1"), A2aCaller::anonymous_at("10.0.0.2"));
        assert_ne!(here.idempotency_scope("x"), there.idempotency_scope("x"));
        assert_eq!(here.idempotency_scope("x").owner, "anonymous@10.0.0.1");
        assert_eq!(here.scope("x"), there.scope("x"));
        let ada = Principal { subject: "ada".into(), workspace_id: uuid::Uuid::from_u128(7), role: Role::Member };
        let ada = A2aCaller { address: Some("10.0.0.1".into()), ..A2aCaller::authenticated(ada, None) };
        assert_eq!(ada.idempotency_scope("x"), ada.scope("x"));
    }
}
