//! Reading an agent's answer into widgets, and the widgets that stand in for
//! what went wrong.

use super::error::AgentError;
use agentdeck_a2a_protocol::{PartContent, SendMessageResponse, TaskState};
use agentdeck_domain::agents::display_name;
use agentdeck_domain::widgets::{Widget, WidgetSource, catalog};
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
                    // `TASK_STATE_FAILED` reads as `failed` in a sentence people see.
                    let state = task.status.state.as_str().trim_start_matches("TASK_STATE_").to_lowercase();
                    return Err(AgentError::NotCompleted { state, reason: why.to_owned() });
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
    /// replaced by an `Error` widget with the failing paths (not retryable:
    /// the same answer would fail again); each carries `source`, the question
    /// that produced it.
    pub fn checked_widgets(&self, agent: &str, source: &WidgetSource) -> Vec<Value> {
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
                let checked = Widget { source: Some(source.clone()), ..checked };
                serde_json::to_value(checked).unwrap_or(Value::Null)
            })
            .filter(|value| !value.is_null())
            .collect()
    }
}

/// The retryable `Error` widget that stands in for an agent that failed or
/// was late: asking `source` again may well succeed.
pub(crate) fn unavailable_error(agent: &str, error: &AgentError, source: &WidgetSource) -> Value {
    let name = display_name(agent);
    let message: String = format!("{name} did not answer: {error}").chars().take(1_000).collect();
    json!({"type": "Error", "id": format!("gateway-unavailable-{agent}"), "title": name,
        "data": {"message": message, "retryable": true}, "source": source})
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
        let source = WidgetSource { question: "status".into(), project_id: None };
        let checked = answer.checked_widgets("navi", &source);
        assert_eq!(checked[0]["id"], "navi-0", "a missing id is made up");
        assert_eq!(checked[1]["type"], "Error");
        assert!(checked[1]["data"]["message"].as_str().is_some_and(|m| m.contains("/data/progress")), "{}", checked[1]);
        assert_eq!(checked[2]["type"], "Error");
        for widget in &checked {
            assert!(catalog().validate_widget(widget).is_ok(), "{widget}");
            assert_eq!(widget["source"], json!({"question": "status"}), "{widget}");
        }
        assert_eq!(checked[1]["data"]["retryable"], false, "an invalid widget would be invalid again");
    }

    #[test]
    fn an_unavailable_agent_is_a_valid_retryable_error_naming_the_question() {
        let source = WidgetSource { question: "how is Apollo".into(), project_id: Some(uuid::Uuid::nil().to_string()) };
        let error = unavailable_error("pulse", &AgentError::Deadline(std::time::Duration::from_secs(5)), &source);
        assert_eq!((error["type"].as_str(), error["id"].as_str()), (Some("Error"), Some("gateway-unavailable-pulse")));
        assert_eq!(error["title"], "Vitals");
        assert_eq!(error["data"]["message"], "Vitals did not answer: no answer within 5000 ms");
        assert_eq!(error["data"]["retryable"], true);
        assert_eq!(error["source"], json!({"question": "how is Apollo", "projectId": uuid::Uuid::nil()}));
        assert!(catalog().validate_widget(&error).is_ok(), "{error}");
    }
}
