//! `[agents]`: the hosted agents themselves; today one test setting, `fail`.
//!
//! `agents.fail` lists hosted agents that answer every message with a failed
//! A2A task (status message "fault injection: <agent> is set to fail
//! (agents.fail)"), so the page's retry flow and the gateway's stand-in
//! widgets can be seen and tested with a real, protocol-correct failure.
//! Unlike `a2a.faults`, which breaks the JSON-RPC endpoint in front of an
//! agent, this failure happens inside the agent: the task exists, ends
//! `FAILED`, and says why. It is refused in production mode.

use serde::{Deserialize, Deserializer, Serialize};

use super::{ConfigError, Settings, env_var};

/// `[agents]`: the hosted agents.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentsSettings {
    /// Hosted agents (by id, e.g. `pulse`) that fail every message, for tests
    /// and demos; a TOML array, or from the environment a comma-separated list
    /// (`AGENTDECK_AGENTS__FAIL=pulse,herald`). Refused in production.
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub fail: Vec<String>,
}

/// Reads a list given as a list, or as one comma-separated string (what an
/// environment variable naturally holds); blank entries are skipped.
fn list_or_comma_separated<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrText {
        List(Vec<String>),
        Text(String),
    }
    let entries = match ListOrText::deserialize(deserializer)? {
        ListOrText::List(list) => list,
        ListOrText::Text(text) => text.split(',').map(str::to_owned).collect(),
    };
    Ok(entries.into_iter().map(|entry| entry.trim().to_owned()).filter(|entry| !entry.is_empty()).collect())
}

impl Settings {
    /// The ids of the agents this server hosts with these settings.
    pub fn hosted_agent_ids(&self) -> Vec<&'static str> {
        let mut ids: Vec<&'static str> = agentdeck_domain::agents::AGENTS.iter().map(|agent| agent.id).collect();
        if self.conformance_agent_enabled() {
            ids.push("conformance");
        }
        ids
    }

    /// Checks that `agents.fail` names only hosted agents.
    pub fn check_agents(&self) -> Result<(), ConfigError> {
        let known = self.hosted_agent_ids();
        let unknown: Vec<String> =
            self.agents.fail.iter().filter(|id| !known.contains(&id.as_str())).cloned().collect();
        if unknown.is_empty() {
            return Ok(());
        }
        Err(ConfigError::UnknownAgents {
            setting: "agents.fail",
            env: env_var("agents.fail"),
            unknown,
            known: known.iter().map(|id| (*id).to_owned()).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    // figment::Jail fixes the closure error type (figment::Error); its size is not ours to choose.
    #![allow(clippy::result_large_err)]

    use figment::Jail;

    use super::super::{Mode, Overrides};
    use super::*;

    #[test]
    fn the_list_comes_from_a_file_or_a_comma_separated_variable() {
        let load = |overrides: &Overrides| Settings::load(overrides).map_err(|error| error.to_string());
        Jail::expect_with(|jail| {
            assert!(load(&Overrides::default())?.agents.fail.is_empty(), "nothing fails by default");
            jail.set_env("AGENTDECK_AGENTS__FAIL", "pulse");
            assert_eq!(load(&Overrides::default())?.agents.fail, ["pulse"]);
            jail.set_env("AGENTDECK_AGENTS__FAIL", " pulse, herald ,");
            assert_eq!(load(&Overrides::default())?.agents.fail, ["pulse", "herald"]);
            jail.set_env("AGENTDECK_AGENTS__FAIL", "[\"navi\"]");
            assert_eq!(load(&Overrides::default())?.agents.fail, ["navi"]);
            jail.clear_env();
            jail.create_file("agentdeck.toml", "[agents]\nfail = [\"herald\", \"pulse\"]\n")?;
            let overrides = Overrides { config_file: Some("agentdeck.toml".into()), ..Overrides::default() };
            assert_eq!(load(&overrides)?.agents.fail, ["herald", "pulse"]);
            Ok(())
        });
    }

    #[test]
    fn an_unknown_agent_is_an_error_naming_the_known_ones() {
        let mut settings = Settings::default();
        settings.agents.fail = vec!["pulse".into(), "vitals".into()];
        let message = settings.check_agents().unwrap_err().to_string();
        assert!(message.contains("agents.fail (AGENTDECK_AGENTS__FAIL)"), "{message}");
        assert!(message.contains("\"vitals\"") && !message.contains("\"pulse\""), "{message}");
        for known in ["navi", "pulse", "herald", "gateway", "conformance"] {
            assert!(message.contains(known), "{known} missing from {message}");
        }
        settings.agents.fail = vec!["pulse".into(), "gateway".into()];
        assert!(settings.check_agents().is_ok());
        // The conformance agent is hosted only when enabled.
        settings.agents.fail = vec!["conformance".into()];
        assert!(settings.check_agents().is_ok());
        settings.a2a.conformance_agent = Some(false);
        assert!(settings.check_agents().is_err());
    }

    #[test]
    fn production_refuses_it_and_says_what_to_unset() {
        let mut settings = Settings {
            mode: Mode::Production,
            auth: super::super::AuthSettings {
                jwt_secret: "7c029c598b6cc7a0dc8e02c95a0e8a9ba67f7e9b82230ad504817a7e2e309c7a".into(),
                ..Default::default()
            },
            ..Settings::default()
        };
        assert!(settings.check_production().is_ok());
        settings.agents.fail = vec!["pulse".into()];
        let message = settings.check_production().unwrap_err().to_string();
        assert!(message.contains("agents.fail") && message.contains("unset AGENTDECK_AGENTS__FAIL"), "{message}");
    }
}
