//! Reading an agent's answer into widgets, and the widgets that stand in for
//! what went wrong.

use super::error::AgentError;
use agentdeck_a2a_protocol::{PartContent, SendMessageResponse, TaskState};
use agentdeck_domain::agents::display_name;
use agentdeck_domain::widgets::{Widget, catalog};
use serde_json::{Value, json};

/// What an agent answered: its text and its widgets, unchecked.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentAnswer {
    /// The first text part.
    pub text: String,
    /// The widget payloads as sent.
    pub widgets: Vec<Value>,
}

impl AgentAnswer {
    /// Reads a `SendMessage` answer: a completed task's artifacts, or a message's parts.
    pub fn from_response(response: SendMessageResponse) -> Result<Self, AgentError> {
        let parts = match response {
            SendMessageResponse::Message(message) => message.parts,
            SendMessageResponse::Task(task) => {
                if task.status.state != TaskState::Completed {
                    let why = task.status.message.as_ref().and_then(|m| m.first_text()).unwrap_or("no reason given");
                    return Err(AgentError::NotCompleted { state: task.status.state.as_str(), reason: why.to_owned() });
                }
                task.artifacts.into_iter().flat_map(|artifact| artifact.parts).collect()
            }
        };
        let text = parts.iter().find_map(|part| part.as_text()).unwrap_or_default().to_owned();
        let mut widgets = Vec::new();
        for part in parts {
            if let PartContent::Data(data) = part.content {
                match data.get("widgets") {
                    Some(Value::Array(list)) => widgets.extend(list.iter().cloned()),
                    Some(_) => widgets.push(json!({"type": "?", "data": data})),
                    None => {}
                }
            }
        }
        Ok(Self { text, widgets })
    }

    /// The widgets after the catalog's check: valid ones as they are (with an
    /// id, made up from the agent and position when missing), invalid ones
    /// replaced by an `Error` widget with the failing paths.
    pub fn checked_widgets(&self, agent: &str) -> Vec<Value> {
        self.widgets
            .iter()
            .enumerate()
            .map(|(index, widget)| {
                let fallback_id = format!("{agent}-{index}");
                let checked = match catalog().validate_widget(widget) {
                    Ok(mut valid) => {
                        valid.id.get_or_insert(fallback_id);
                        valid
                    }
                    Err(error) => {
                        let kind = widget.get("type").and_then(Value::as_str);
                        let mut replacement = Widget::error_for(kind, &error);
                        replacement.id = Some(format!("{fallback_id}-invalid"));
                        replacement.title = Some(format!("{} sent an invalid widget", display_name(agent)));
                        replacement
                    }
                };
                serde_json::to_value(checked).unwrap_or(Value::Null)
            })
            .filter(|value| !value.is_null())
            .collect()
    }
}

/// The warning `Alert` that stands in for an agent that failed or was late.
pub(crate) fn unavailable_alert(agent: &str, error: &AgentError) -> Value {
    let name = display_name(agent);
    let message: String = format!("{name} did not answer: {error}").chars().take(1_000).collect();
    json!({"type": "Alert", "id": format!("gateway-unavailable-{agent}"), "title": name,
        "data": {"severity": "warning", "title": format!("{name} is unavailable"), "message": message}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_widgets_become_error_widgets_naming_the_paths() {
        let answer = AgentAnswer {
            text: "t".into(),
            widgets: vec![
                json!({"type": "Metrics", "data": {"metrics": [{"label": "ok", "value": 1}]}}),
                json!({"type": "ProjectStatus", "id": "p", "data": {"projectId": "p", "projectName": "P", "status": "on_track", "progress": 140, "tasksCompleted": 1, "tasksTotal": 2}}),
                json!({"type": "NoSuchWidget", "data": {}}),
            ],
        };
        let checked = answer.checked_widgets("navi");
        assert_eq!(checked[0]["id"], "navi-0", "a missing id is made up");
        assert_eq!(checked[1]["type"], "Error");
        assert!(checked[1]["data"]["message"].as_str().is_some_and(|m| m.contains("/data/progress")), "{}", checked[1]);
        assert_eq!(checked[2]["type"], "Error");
        for widget in &checked {
            assert!(catalog().validate_widget(widget).is_ok(), "{widget}");
        }
    }

    #[test]
    fn an_unavailable_agent_is_a_valid_warning_alert() {
        let alert = unavailable_alert("pulse", &AgentError::Deadline(std::time::Duration::from_secs(5)));
        assert_eq!(alert["data"]["severity"], "warning");
        assert!(alert["data"]["message"].as_str().is_some_and(|m| m.starts_with("Vitals did not answer")));
        assert!(catalog().validate_widget(&alert).is_ok());
    }
}
