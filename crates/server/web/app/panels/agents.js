// The agents panel on the dashboard: each hosted agent's name and role, when
// it last answered this workspace ("2 min ago") and whether that answer was
// ok or failed (with the error as text). Status is told in words and an icon,
// never by colour alone. Data: `GET /api/agents`; a server without that route
// (404) still lists the agents from `/.well-known/agents.json` as "no answer
// yet". The panel re-reads after dashboard state changes (debounced: an ask
// changes the state once per widget batch) and every 30 s while the tab is
// visible, which also keeps the "min ago" texts current.

import { el, formatDateTime } from "../dom.js";
import { subscribeToChanges, uniqueId } from "../pages/common.js";

const REFRESH_MS = 30_000;
const DEBOUNCE_MS = 1_000;

/** "just now", "5 min ago", "3 h ago", "2 d ago" for a past time; "" when absent or invalid. */
export function timeAgo(value, now = Date.now()) {
  const time = new Date(value ?? "").getTime();
  if (Number.isNaN(time)) return "";
  const seconds = Math.max(0, Math.round((now - time) / 1000));
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} d ago`;
}

async function loadAgents(api) {
  try {
    const answer = await api("/api/agents");
    return answer?.items ?? [];
  } catch (error) {
    if (error?.status !== 404) throw error;
  }
  const index = await api("/.well-known/agents.json");
  return (index?.agents ?? []).map((agent) => ({
    id: agent.name,
    name: agent.displayName ?? agent.name,
    role: agent.description ?? "",
    url: agent.url,
    lastAnswerAt: null,
    ok: null,
    ms: null,
    error: null,
  }));
}

function agentItem(agent) {
  const answered = agent.lastAnswerAt !== null && agent.lastAnswerAt !== undefined;
  const state = !answered || agent.ok === null || agent.ok === undefined ? "unknown" : agent.ok ? "ok" : "failing";
  const [icon, text] = { ok: ["✓", "OK"], failing: ["✗", "Failing"], unknown: ["–", "No answer yet"] }[state];
  return el(
    "li",
    { class: ["agent", `agent-${state}`], dataset: { agentId: agent.id, agentStatus: state } },
    el(
      "div",
      { class: "agent-head" },
      el("span", { class: "agent-name" }, agent.name ?? agent.id),
      el(
        "span",
        { class: ["agent-status", `status-${state}`] },
        el("span", { class: "agent-icon", "aria-hidden": "true" }, icon),
        ` ${text}`,
        state === "ok" && Number.isFinite(agent.ms) ? el("span", { class: "agent-ms" }, ` (${agent.ms} ms)`) : null,
      ),
    ),
    agent.role ? el("p", { class: "agent-role" }, agent.role) : null,
    answered
      ? el(
          "p",
          { class: "agent-last" },
          "Last answer ",
          el(
            "time",
            { datetime: agent.lastAnswerAt, title: formatDateTime(agent.lastAnswerAt) },
            timeAgo(agent.lastAnswerAt),
          ),
        )
      : null,
    state === "failing" && agent.error ? el("p", { class: "agent-error" }, `Error: ${agent.error}`) : null,
  );
}

/** Mounts the agents panel into `container`; returns the function that unmounts it. */
export function mount(container, ctx) {
  const headingId = uniqueId("agents-title");
  const list = el("ul", { class: "agent-list", dataset: { role: "agents" } });
  const status = el("p", { class: "panel-status", role: "status" }, "Loading agents…");
  const section = el(
    "section",
    { class: "panel-content agents-panel", "aria-labelledby": headingId, dataset: { panel: "agents" } },
    el("h2", { id: headingId }, "Agents"),
    status,
    list,
  );
  container.append(section);

  let alive = true;
  let generation = 0;
  let debounce = null;
  const refresh = async () => {
    const run = ++generation;
    try {
      const agents = await loadAgents(ctx.api);
      if (!alive || run !== generation) return;
      list.replaceChildren(...agents.map(agentItem));
      status.textContent = agents.length ? "" : "This server hosts no agents.";
      status.hidden = agents.length > 0;
    } catch (error) {
      if (!alive || run !== generation) return;
      status.hidden = false;
      status.textContent = `The agents could not be read: ${error?.message ?? error}`;
    }
  };
  const soon = () => {
    clearTimeout(debounce);
    debounce = setTimeout(refresh, DEBOUNCE_MS);
  };
  const onVisible = () => {
    if (document.visibilityState === "visible") refresh();
  };
  const timer = setInterval(() => {
    if (document.visibilityState === "visible") refresh();
  }, REFRESH_MS);
  const unsubscribe = subscribeToChanges(ctx, soon);
  document.addEventListener("visibilitychange", onVisible);
  refresh();
  return () => {
    alive = false;
    clearTimeout(debounce);
    clearInterval(timer);
    unsubscribe();
    document.removeEventListener("visibilitychange", onVisible);
    section.remove();
  };
}
