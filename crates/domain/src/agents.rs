//! The hosted agents as people see them: one table of id, display name and
//! role (DESIGN §4, "one mapping, used everywhere a name is shown").
//!
//! The id is what routes and plans use (`/a2a/navi`, a gateway call to
//! `pulse`); the display name is what a card, a widget title or an alert shows.
//! Agents, the gateway and the edge all read names from [`AGENTS`], so a
//! rename is one line here.

/// One hosted agent's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentName {
    /// The id in URLs and plans (`navi`).
    pub id: &'static str,
    /// The name shown to people (`Navigator`).
    pub display_name: &'static str,
    /// What it answers about, in a few words.
    pub role: &'static str,
}

/// Navi, "Navigator": project status.
pub const NAVI: AgentName = AgentName { id: "navi", display_name: "Navigator", role: "project status" };
/// Pulse, "Vitals": the health score and risks.
pub const PULSE: AgentName = AgentName { id: "pulse", display_name: "Vitals", role: "health" };
/// Herald, "Activity": the activity feed.
pub const HERALD: AgentName = AgentName { id: "herald", display_name: "Activity", role: "activity" };
/// The gateway, "Dashboard Agent": questions in, widgets from the others out.
pub const GATEWAY: AgentName =
    AgentName { id: "gateway", display_name: "Dashboard Agent", role: "answers questions with widgets" };

/// Every hosted agent with a shown name.
pub const AGENTS: [AgentName; 4] = [NAVI, PULSE, HERALD, GATEWAY];

/// The agent with this id, if it is one of [`AGENTS`].
pub fn agent(id: &str) -> Option<&'static AgentName> {
    AGENTS.iter().find(|agent| agent.id == id)
}

/// The name to show for an agent id: its display name, or the id itself for an agent not in the table.
pub fn display_name(id: &str) -> &str {
    agent(id).map_or(id, |agent| agent.display_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_agent_has_one_distinct_id_and_name() {
        assert_eq!(display_name("navi"), "Navigator");
        assert_eq!(display_name("pulse"), "Vitals");
        assert_eq!(display_name("herald"), "Activity");
        assert_eq!(display_name("gateway"), "Dashboard Agent");
        assert_eq!(display_name("someone-else"), "someone-else");
        for (index, agent) in AGENTS.iter().enumerate() {
            assert!(
                AGENTS[index + 1..]
                    .iter()
                    .all(|other| other.id != agent.id && other.display_name != agent.display_name)
            );
        }
    }
}
