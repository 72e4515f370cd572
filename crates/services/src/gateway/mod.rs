//! The Dashboard Gateway: a question in, widgets out (DESIGN §6).
//!
//! [`Gateway::ask`] plans the calls ([`agentdeck_domain::intent`]) from the
//! workspace's projects, read once per data generation ([`records`]), then calls the
//! specialists all at once through an [`AgentTransport`] — the same A2A
//! `SendMessage` whether the agent is hosted in this process (the in-process
//! transport: the A2A task service without the HTTP hop, not rate-limited as
//! external calls, the projects handed over so the agents do not read them
//! again) or elsewhere (over HTTP(S) with the caller's bearer token and trace
//! context) — each with its own deadline, then:
//!
//! - every widget an agent answered with is checked against the widget
//!   catalog, once, here (a hosted agent is told so and skips its own check);
//!   an invalid one becomes an `Error` widget naming the failing paths (never
//!   an unchecked widget);
//! - an agent that failed or missed its deadline becomes a retryable `Error`
//!   widget naming it (`gateway-unavailable-<agent>`), and the others still
//!   count;
//! - every widget carries `source`, the question that produced it, so a
//!   client can ask it again (the retry of an `Error` widget);
//! - the widgets are written into the caller's dashboard in one patch,
//!   keeping the layout the user made ([`placement`]: ids already shown keep
//!   their place, new ones follow in answer order, an earlier answer's widgets
//!   go) together with `lastAnswer`, so every open tab updates and shows the
//!   text; the dashboard is read while the agents work, and the patch tests
//!   the layout it was planned from (read and planned again if it moved);
//!   the widgets are returned with that text and, per agent, whether it
//!   answered and how long it took;
//! - each agent's last outcome is remembered per workspace
//!   ([`Gateway::agent_outcomes`], `GET /api/agents`).
//!
//! Which transport is used is the server's choice when it assembles the
//! gateway (`crates/server/src/state.rs`, `docs/a2a.md` "Transports").

mod agent;
mod answer;
mod cache;
mod error;
mod placement;
mod records;
mod refresh;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use agentdeck_a2a_protocol::{Message, Part, SendMessageRequest};
use agentdeck_domain::agents;
use agentdeck_domain::auth::Principal;
use agentdeck_domain::intent::{EXAMPLES, Intent, plan};
use agentdeck_domain::widgets::WidgetSource;
use agentdeck_storage::Stores;
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;
use uuid::Uuid;

pub use agent::GatewayAgent;
pub use answer::AgentAnswer;
pub use cache::CacheStats;
pub use error::{AgentError, GatewayError};
pub use refresh::REMEMBER_FOR as LIVE_REFRESH_HORIZON;

use cache::{AnswerCache, AnswerKey};

use crate::a2a::Handover;
use crate::a2a::transport::{AgentTransport, CallerContext, TransportError};
use crate::dashboard::{DashboardError, DashboardService};
use agentdeck_domain::dashboard::document::LastAnswer;
use agentdeck_domain::dashboard::patch::PatchError;
use placement::Placement;

/// How long the gateway waits for the specialists and keeps their answers.
#[derive(Debug, Clone)]
pub struct GatewayOptions {
    /// Deadline per agent call.
    pub deadline: Duration,
    /// Deadlines of particular agents, overriding `deadline`.
    pub deadlines: HashMap<String, Duration>,
    /// How long an agent's answer is reused (zero: not at all).
    pub cache_ttl: Duration,
    /// Reuse times of particular agents, overriding `cache_ttl`.
    pub cache_ttls: HashMap<String, Duration>,
}

/// The agents the gateway calls.
const SPECIALISTS: [&str; 3] = [agents::NAVI.id, agents::PULSE.id, agents::HERALD.id];

/// A question.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AskRequest {
    /// The question.
    pub question: String,
    /// A project to narrow to.
    #[serde(default)]
    pub project_id: Option<Uuid>,
}

impl AskRequest {
    /// The `source` of the widgets answering this request.
    pub fn source(&self) -> WidgetSource {
        WidgetSource { question: self.question.clone(), project_id: self.project_id.map(|id| id.to_string()) }
    }
}

/// How one agent did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentReport {
    /// It answered in time.
    pub ok: bool,
    /// Milliseconds until its answer (or the deadline).
    pub ms: u64,
    /// What went wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `ms`, exactly (the `Server-Timing` header of `POST /api/ask` carries it).
    #[serde(skip)]
    pub took: Duration,
}

/// The answer to a question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AskResponse {
    /// A short text.
    pub text: String,
    /// The widgets, each `{id, type, title?, source, data}`, checked against the catalog.
    pub widgets: Vec<Value>,
    /// Per agent called.
    pub agents: BTreeMap<String, AgentReport>,
}

/// Longest question accepted, in characters as sent: what a widget's `source`
/// may carry, so every widget can name the exact question to ask again.
pub const MAX_QUESTION_CHARS: usize = agentdeck_domain::widgets::MAX_QUESTION_CHARS as usize;

/// How the gateway's last call to an agent went, for one workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentOutcome {
    /// When the call ended (an answer, a failure or the deadline).
    pub at: chrono::DateTime<chrono::Utc>,
    /// It answered in time.
    pub ok: bool,
    /// Milliseconds until its answer (or the deadline).
    pub ms: u64,
    /// What went wrong.
    pub error: Option<String>,
}

/// Most (workspace, agent) outcomes remembered; the least recently used go first.
const MAX_OUTCOMES: u64 = 30_000;
/// How long an outcome is remembered without a newer call.
const OUTCOME_TTL: Duration = Duration::from_secs(24 * 3600);
/// Longest `lastAnswer.text` written; a longer answer text is cut.
const MAX_ANSWER_TEXT_CHARS: usize = agentdeck_domain::dashboard::document::MAX_ANSWER_TEXT_CHARS;
/// How often a write is planned again after the dashboard changed under it.
const WRITE_ATTEMPTS: usize = 5;

/// The gateway.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

struct Inner {
    /// How the specialists are reached (in process or over HTTP).
    transport: Arc<dyn AgentTransport>,
    stores: Stores,
    /// Where answers are written (it tells open tabs).
    dashboard: DashboardService,
    options: GatewayOptions,
    cache: AnswerCache,
    /// The projects read last per workspace, reused while its data generation stays the same.
    records: records::RecordsCache,
    /// The last question answered for each user, for live refresh.
    subscriptions: moka::sync::Cache<(Uuid, String), refresh::Subscription>,
    /// The last call outcome per (workspace, agent).
    outcomes: moka::sync::Cache<(Uuid, &'static str), AgentOutcome>,
    /// The refresher and its refreshes.
    tasks: tokio_util::task::TaskTracker,
    shutdown: tokio_util::sync::CancellationToken,
}

impl Gateway {
    /// A gateway calling the specialists through `transport`.
    pub fn new(
        stores: Stores,
        dashboard: DashboardService,
        options: GatewayOptions,
        transport: Arc<dyn AgentTransport>,
    ) -> Self {
        let cache =
            AnswerCache::new(&SPECIALISTS, |agent| options.cache_ttls.get(agent).copied().unwrap_or(options.cache_ttl));
        let subscriptions =
            moka::sync::Cache::builder().max_capacity(10_000).time_to_live(refresh::REMEMBER_FOR).build();
        let outcomes = moka::sync::Cache::builder().max_capacity(MAX_OUTCOMES).time_to_idle(OUTCOME_TTL).build();
        let (tasks, shutdown) = (tokio_util::task::TaskTracker::new(), tokio_util::sync::CancellationToken::new());
        let records = records::RecordsCache::new();
        let inner =
            Inner { transport, stores, dashboard, options, cache, records, subscriptions, outcomes, tasks, shutdown };
        Self { inner: Arc::new(inner) }
    }

    /// Answer cache hits and misses so far.
    pub fn cache_stats(&self) -> CacheStats {
        self.inner.cache.stats()
    }

    /// The last call outcome of each agent the gateway called for `workspace`
    /// (agents not called lately are absent).
    pub fn agent_outcomes(&self, workspace: Uuid) -> HashMap<&'static str, AgentOutcome> {
        SPECIALISTS
            .iter()
            .filter_map(|agent| self.inner.outcomes.get(&(workspace, *agent)).map(|outcome| (*agent, outcome)))
            .collect()
    }

    fn deadline_of(&self, agent: &str) -> Duration {
        self.inner.options.deadlines.get(agent).copied().unwrap_or(self.inner.options.deadline)
    }

    /// One agent's answer: from the cache, or a call within its deadline.
    async fn call(
        &self,
        key: AnswerKey,
        caller: &CallerContext,
    ) -> (AgentReport, Result<Arc<AgentAnswer>, Arc<AgentError>>) {
        let started = Instant::now();
        let (workspace, agent, question, project_id) = (key.workspace, key.agent, key.question.clone(), key.project);
        let outcome = self.inner.cache.get_or_call(key, self.fetch(agent, &question, project_id, caller)).await;
        let took = started.elapsed();
        let ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
        let error = outcome.as_ref().err().map(ToString::to_string);
        let report = AgentReport { ok: outcome.is_ok(), ms, error, took };
        let remembered =
            AgentOutcome { at: chrono::Utc::now(), ok: report.ok, ms: report.ms, error: report.error.clone() };
        self.inner.outcomes.insert((workspace, agent), remembered);
        (report, outcome)
    }

    /// Calls one agent for the question over A2A, within its deadline.
    async fn fetch(
        &self,
        agent: &'static str,
        question: &str,
        project_id: Option<Uuid>,
        caller: &CallerContext,
    ) -> Result<AgentAnswer, AgentError> {
        let deadline = self.deadline_of(agent);
        let attempt = async {
            let mut parts = vec![Part::text(question)];
            if let Some(project) = project_id {
                parts.push(Part::data(json!({ "projectId": project })));
            }
            let message = Message { parts, ..Message::user_text(format!("gateway-{}", Uuid::now_v7()), "") };
            let request = SendMessageRequest::new(message);
            match self.inner.transport.send(agent, request, caller, deadline).await {
                Ok(response) => AgentAnswer::from_response(response),
                Err(TransportError::Deadline(deadline)) => Err(AgentError::Deadline(deadline)),
                Err(error) => Err(error.into()),
            }
        };
        match tokio::time::timeout(deadline, attempt).await {
            Ok(outcome) => outcome,
            Err(_) => Err(AgentError::Deadline(deadline)),
        }
    }

    /// Answers a question for `principal` (whose `bearer` token the agents see)
    /// and writes it to their dashboard, which is refreshed from then on when
    /// the workspace's data changes.
    pub async fn ask(
        &self,
        principal: &Principal,
        bearer: &str,
        traceparent: Option<&str>,
        request: &AskRequest,
    ) -> Result<AskResponse, GatewayError> {
        let asked_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        // The dashboard is read while the agents work, not after: the patch
        // tests the layout it was planned from, so a change meanwhile makes
        // the write read and plan again (as a change between a later read
        // and the write would), and the answer waits for the write only.
        // Turned into the JSON the placement plans from while the agents work too.
        // A failed read is read again at the write, where a failure is reported.
        let read_early = async { self.inner.dashboard.get(principal).await.ok().map(document_value) };
        let (answer, read_early) = tokio::join!(self.answer(principal, bearer, traceparent, request), read_early);
        let answer = answer?;
        let written = self.place_from(principal, request, &answer, &asked_at, Placement::Ask, read_early).await?;
        // Only a written answer is refreshed: one nobody answered left the dashboard as it was.
        if let Some(answer_ids) = written {
            let subscription = refresh::Subscription {
                ask_id: Uuid::now_v7(),
                principal: principal.clone(),
                bearer: bearer.to_owned(),
                request: request.clone(),
                asked_at,
                answer_ids: Arc::new(answer_ids),
            };
            self.inner.subscriptions.insert((principal.workspace_id, principal.subject.clone()), subscription);
        }
        Ok(answer)
    }

    /// Plans, calls and checks one answer.
    async fn answer(
        &self,
        principal: &Principal,
        bearer: &str,
        traceparent: Option<&str>,
        request: &AskRequest,
    ) -> Result<AskResponse, GatewayError> {
        let question = request.question.trim();
        if question.is_empty() {
            return Err(GatewayError::InvalidQuestion("the question is empty".into()));
        }
        // Counted as sent, like the API description's `maxLength`; only emptiness is judged trimmed.
        if request.question.chars().count() > MAX_QUESTION_CHARS {
            return Err(GatewayError::InvalidQuestion(format!("the question is over {MAX_QUESTION_CHARS} characters")));
        }
        // The projects are read once here (or not at all while the data generation stays the same, see
        // `records`) and handed to the agents in process, which would otherwise read them again; the
        // generation versions the answer cache.
        let planned = self.inner.records.current(&self.inner.stores, principal.workspace_id).await?;
        let generation = planned.generation;
        let names =
            planned.records.projects.iter().map(|project| (project.id, project.name.clone())).collect::<Vec<_>>();
        let plan = plan(question, request.project_id, &names);
        if plan.intent == Intent::Unknown {
            let text = format!("I can answer questions like: {}.", EXAMPLES.map(|e| format!("\"{e}\"")).join(", "));
            return Ok(AskResponse { text, widgets: Vec::new(), agents: BTreeMap::new() });
        }
        let normalized = question.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
        let caller = CallerContext {
            principal: Some(principal.clone()),
            bearer: Some(bearer.to_owned()),
            traceparent: traceparent.map(str::to_owned),
            handover: Handover { records: Some(planned.records), caller_checks_widgets: true },
        };
        let source = request.source();
        // Each answer is checked as soon as it arrives, while slower agents are still working.
        let (caller, source) = (&caller, &source);
        let calls = plan.calls.iter().map(|call| {
            let key = AnswerKey {
                workspace: principal.workspace_id,
                agent: call.agent,
                project: call.project_id,
                question: normalized.clone(),
                generation,
            };
            async move {
                let (report, outcome) = self.call(key, caller).await;
                let answered = match outcome {
                    Ok(answer) => (Some(answer.text.clone()), answer.checked_widgets(call.agent, source)),
                    Err(error) => (None, vec![answer::unavailable_error(call.agent, &error, source)]),
                };
                (call.agent, report, answered)
            }
        });
        let outcomes = futures::future::join_all(calls).await;
        let mut texts = Vec::new();
        let mut widgets = Vec::new();
        let mut agents = BTreeMap::new();
        for (agent, report, (text, checked)) in outcomes {
            texts.extend(text.filter(|text| !text.is_empty()));
            widgets.extend(checked);
            agents.insert(agent.to_owned(), report);
        }
        let text = if texts.is_empty() { "No agent could answer right now.".to_owned() } else { texts.join(" ") };
        Ok(AskResponse { text, widgets, agents })
    }

    /// Writes an answer to the dashboard, placed as `placement` says, with
    /// `lastAnswer`; returns its widget ids, or `None` when nothing was
    /// written because no agent answered (the dashboard keeps what it showed).
    async fn place(
        &self,
        principal: &Principal,
        request: &AskRequest,
        answer: &AskResponse,
        asked_at: &str,
        placement: Placement<'_>,
    ) -> Result<Option<Vec<String>>, GatewayError> {
        self.place_from(principal, request, answer, asked_at, placement, None).await
    }

    /// [`Gateway::place`], planned first from `read_early` (the dashboard as
    /// read before, `null` when it had none) when given, else from a read now.
    async fn place_from(
        &self,
        principal: &Principal,
        request: &AskRequest,
        answer: &AskResponse,
        asked_at: &str,
        placement: Placement<'_>,
        read_early: Option<Value>,
    ) -> Result<Option<Vec<String>>, GatewayError> {
        if !answer.agents.values().any(|report| report.ok) {
            return Ok(None);
        }
        let source = request.source();
        let last_answer = LastAnswer {
            question: source.question,
            project_id: source.project_id,
            text: cut(&answer.text, MAX_ANSWER_TEXT_CHARS),
            asked_at: asked_at.to_owned(),
        };
        let last_answer = serde_json::to_value(last_answer).unwrap_or(Value::Null);
        self.write_to_dashboard(principal, &answer.widgets, &last_answer, placement, read_early).await?;
        Ok(Some(placement::answer_ids(&answer.widgets)))
    }

    /// One patch placing the answer on the dashboard ([`placement`]) with
    /// `lastAnswer`; planned again from a fresh read when the dashboard
    /// changed under it (the user moved a widget meanwhile).
    async fn write_to_dashboard(
        &self,
        principal: &Principal,
        widgets: &[Value],
        last_answer: &Value,
        placement: Placement<'_>,
        mut read_early: Option<Value>,
    ) -> Result<(), GatewayError> {
        let max_ops = self.inner.dashboard.limits().max_ops;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let current = match read_early.take() {
                Some(document) => document,
                None => document_value(self.inner.dashboard.get(principal).await?),
            };
            let Some(ops) = placement::plan(&current, widgets, last_answer, placement, max_ops) else {
                return Ok(());
            };
            // The service tells the caller's open tabs (other nodes learn of it from the change feed).
            match self.inner.dashboard.patch(principal, &ops, None, None).await {
                Ok(_) => return Ok(()),
                // The plan was made from a document that changed meanwhile: read and plan again.
                Err(DashboardError::Rejected(
                    PatchError::TestFailed { .. } | PatchError::InvalidOp { .. } | PatchError::Invalid(_),
                )) if attempt < WRITE_ATTEMPTS => {}
                Err(error) => return Err(error.into()),
            }
        }
    }
}

/// A dashboard as the placement plans from it: its document, `null` before the first write.
fn document_value(view: Option<crate::dashboard::DashboardView>) -> Value {
    view.and_then(|view| serde_json::to_value(&view.document).ok()).unwrap_or(Value::Null)
}

/// `text` cut to at most `max` characters, ending with `…` when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut kept: String = text.chars().take(max.saturating_sub(1)).collect();
    kept.push('…');
    kept
}
