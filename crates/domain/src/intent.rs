//! The gateway's intent recognition: from a question to a plan of agent calls.
//!
//! Deterministic and table-driven: the question is lowercased and split into
//! words, and each *topic* has keywords; a word matches a keyword exactly, or
//! within one edit for keywords of 5+ letters and two edits for 8+ (so
//! "stauts", "actvity" and "overveiw" still match). A project is *named*
//! when every word of its name matches, in any order.
//!
//! | topic | keywords (some) | agent |
//! |---|---|---|
//! | overview | overview, summary, everything, dashboard | Navi, Pulse and Herald |
//! | status | status, progress, projects, track, doing | Navi |
//! | risks | risk, blocked, overdue, health, late, deadline | Pulse |
//! | activity | activity, recent, happened, changes, updates | Herald |
//!
//! A named project with no topic means "how is it doing": Navi and Pulse
//! for that project. No topic and no project: [`Intent::Unknown`], which the
//! gateway answers with what it can do.

use uuid::Uuid;

use crate::agents::{HERALD, NAVI, PULSE};

/// What the question is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Intent {
    /// "workspace overview": every agent.
    Overview,
    /// "status of my active projects".
    Status,
    /// "what is at risk this week".
    Risks,
    /// "recent team activity".
    Activity,
    /// "how is <project> doing".
    Project,
    /// Nothing recognised.
    Unknown,
}

/// One call of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentCall {
    /// The agent's name (`navi`, `pulse`, `herald`).
    pub agent: &'static str,
    /// The project to narrow to.
    pub project_id: Option<Uuid>,
}

/// What the gateway does for a question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The main intent.
    pub intent: Intent,
    /// The project the question names (or the caller gave).
    pub project_id: Option<Uuid>,
    /// The calls, in a stable order (navi, pulse, herald).
    pub calls: Vec<AgentCall>,
}

/// Examples of what the gateway understands, for the answer to an unknown question.
pub const EXAMPLES: [&str; 5] = [
    "status of my active projects",
    "what is at risk this week",
    "recent team activity",
    "workspace overview",
    "how is <project> doing",
];

const OVERVIEW: &[&str] = &["overview", "summary", "summarize", "everything", "dashboard", "rundown", "briefing"];
const STATUS: &[&str] = &["status", "progress", "projects", "project", "track", "doing", "going", "standing", "state"];
const RISKS: &[&str] = &[
    "risk",
    "risks",
    "risky",
    "blocked",
    "blocker",
    "blockers",
    "overdue",
    "health",
    "healthy",
    "late",
    "deadline",
    "deadlines",
    "danger",
    "problems",
    "issues",
    "slipping",
    "behind",
];
const ACTIVITY: &[&str] =
    &["activity", "activities", "recent", "recently", "happened", "happening", "changes", "updates", "feed", "news"];

fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether `word` is `keyword`, allowing for a typo in longer words.
fn matches(word: &str, keyword: &str) -> bool {
    if word == keyword {
        return true;
    }
    let allowed = match keyword.chars().count() {
        0..=4 => 0,
        5..=7 => 1,
        _ => 2,
    };
    allowed > 0 && strsim::damerau_levenshtein(word, keyword) <= allowed
}

fn mentions(question: &[String], keywords: &[&str]) -> bool {
    question.iter().any(|word| keywords.iter().any(|keyword| matches(word, keyword)))
}

/// The project whose name the question contains (every word of the name, any
/// order); the one with the longest name wins when several do.
pub fn named_project(question: &str, projects: &[(Uuid, String)]) -> Option<Uuid> {
    let asked = words(question);
    projects
        .iter()
        .filter(|(_, name)| {
            let name_words = words(name);
            !name_words.is_empty() && name_words.iter().all(|part| asked.iter().any(|word| matches(word, part)))
        })
        .max_by_key(|(_, name)| name.len())
        .map(|(id, _)| *id)
}

/// The plan for `question`; `project_id` (from the caller) wins over a project named in the text.
pub fn plan(question: &str, project_id: Option<Uuid>, projects: &[(Uuid, String)]) -> Plan {
    let asked = words(question);
    let project = project_id.or_else(|| named_project(question, projects));
    // A project's own name ("Mobile App Launch") can hold topic words; they count only outside it.
    let overview = mentions(&asked, OVERVIEW);
    let risks = mentions(&asked, RISKS);
    let activity = mentions(&asked, ACTIVITY);
    let status = mentions(&asked, STATUS);
    let (navi, pulse, herald) = (NAVI.id, PULSE.id, HERALD.id);
    let (intent, agents): (Intent, Vec<&'static str>) = if overview {
        (Intent::Overview, vec![navi, pulse, herald])
    } else if risks || activity || (status && project.is_none()) {
        let mut agents = Vec::new();
        if status {
            agents.push(navi);
        }
        if risks {
            agents.push(pulse);
        }
        if activity {
            agents.push(herald);
        }
        let intent = match (risks, activity) {
            (true, _) => Intent::Risks,
            (false, true) => Intent::Activity,
            (false, false) => Intent::Status,
        };
        (intent, agents)
    } else if project.is_some() {
        (Intent::Project, vec![navi, pulse])
    } else {
        (Intent::Unknown, Vec::new())
    };
    let calls = agents.into_iter().map(|agent| AgentCall { agent, project_id: project }).collect();
    Plan { intent, project_id: project, calls }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn projects() -> Vec<(Uuid, String)> {
        vec![
            (Uuid::from_u128(1), "Website Redesign".into()),
            (Uuid::from_u128(2), "Mobile App Launch".into()),
            (Uuid::from_u128(3), "Data Platform Migration".into()),
        ]
    }

    fn agents(question: &str) -> (Intent, Vec<&'static str>, Option<u128>) {
        let plan = plan(question, None, &projects());
        (plan.intent, plan.calls.iter().map(|c| c.agent).collect(), plan.project_id.map(|id| id.as_u128()))
    }

    #[test]
    fn the_supported_questions_with_variants_and_misspellings() {
        let table: &[(&str, Intent, &[&str], Option<u128>)] = &[
            ("status of my active projects", Intent::Status, &["navi"], None),
            ("Status of my active projects?", Intent::Status, &["navi"], None),
            ("whats the stauts of our projcts", Intent::Status, &["navi"], None),
            ("how are the projects progressing", Intent::Status, &["navi"], None),
            ("what is at risk this week", Intent::Risks, &["pulse"], None),
            ("anything ovedue or blocked?", Intent::Risks, &["pulse"], None),
            ("which deadlines are slipping", Intent::Risks, &["pulse"], None),
            ("team health", Intent::Risks, &["pulse"], None),
            ("recent team activity", Intent::Activity, &["herald"], None),
            ("what happend recently", Intent::Activity, &["herald"], None),
            ("show me the actvity feed", Intent::Activity, &["herald"], None),
            ("workspace overview", Intent::Overview, &["navi", "pulse", "herald"], None),
            ("give me a summary of everything", Intent::Overview, &["navi", "pulse", "herald"], None),
            ("workspace overveiw", Intent::Overview, &["navi", "pulse", "herald"], None),
            ("how is Website Redesign doing", Intent::Project, &["navi", "pulse"], Some(1)),
            ("how's the mobile app launch going?", Intent::Project, &["navi", "pulse"], Some(2)),
            ("data platfrom migraton", Intent::Project, &["navi", "pulse"], Some(3)),
            ("risks for Mobile App Launch", Intent::Risks, &["pulse"], Some(2)),
            ("recent activity in website redesign", Intent::Activity, &["herald"], Some(1)),
            ("status and risks", Intent::Risks, &["navi", "pulse"], None),
        ];
        for (question, intent, expected, project) in table {
            assert_eq!(agents(question), (*intent, expected.to_vec(), *project), "{question}");
        }
    }

    #[test]
    fn anything_else_is_unknown_and_short_words_need_exact_matches() {
        for question in ["", "hello there", "what's the weather", "tell me a joke", "rsk"] {
            assert_eq!(agents(question), (Intent::Unknown, vec![], None), "{question}");
        }
        // "late" (4 letters) does not match "lane" or "gate".
        assert_eq!(agents("which lane").0, Intent::Unknown);
    }

    #[test]
    fn a_project_id_from_the_caller_wins() {
        let plan = plan("what is at risk", Some(Uuid::from_u128(9)), &projects());
        assert_eq!(plan.calls, [AgentCall { agent: "pulse", project_id: Some(Uuid::from_u128(9)) }]);
    }
}
