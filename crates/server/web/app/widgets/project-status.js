// ProjectStatus: one project's health (a badge with an icon and the word, so
// colour is never the only signal), progress as a native `<progress>` with its
// value in text, tasks done of total and the due date ("overdue" past it).

import { el } from "../dom.js";
import { badge, clamp, dayText, finite, nowOf, numberText, timeElement, timeOf } from "./common.js";

const HEALTH = {
  on_track: { text: "On track", tone: "ok", icon: "✓" },
  at_risk: { text: "At risk", tone: "warn", icon: "!" },
  behind: { text: "Behind", tone: "danger", icon: "✕" },
  completed: { text: "Completed", tone: "info", icon: "★" },
};

/** The heading when the widget has no title. */
export function defaultTitle(data) {
  return typeof data?.projectName === "string" ? data.projectName : "Project status";
}

/** The card's body. */
export function render(data, ctx, widget) {
  const health = HEALTH[data.status] ?? { text: String(data.status), tone: "muted", icon: "?" };
  const progress = clamp(finite(data.progress), 0, 100);
  const done = finite(data.tasksCompleted);
  const total = finite(data.tasksTotal);
  const due = timeOf(data.dueDate);
  const overdue = due !== null && due < nowOf(ctx) && data.status !== "completed";
  const progressId = `${ctx.headingId}-progress`;
  return [
    el(
      "div",
      { class: "w-status__top" },
      widget.title && widget.title !== data.projectName ? el("p", { class: "w-status__name" }, data.projectName) : null,
      badge(health.text, health.tone, health.icon),
    ),
    el(
      "div",
      { class: "w-status__progress" },
      el("label", { for: progressId }, "Progress"),
      el("progress", { id: progressId, max: "100", value: String(progress) }, `${numberText(progress)} %`),
      el("span", { class: "w-status__percent" }, `${numberText(progress)} %`),
    ),
    el(
      "dl",
      { class: "w-facts" },
      el("div", {}, el("dt", {}, "Tasks done"), el("dd", {}, `${numberText(done)} of ${numberText(total)}`)),
      el(
        "div",
        {},
        el("dt", {}, "Due"),
        el(
          "dd",
          {},
          due === null ? "No due date" : timeElement(due, dayText(due)),
          overdue ? el("span", { class: "w-overdue" }, " (overdue)") : null,
        ),
      ),
    ),
    typeof ctx.openProject === "function" && typeof data.projectId === "string"
      ? el(
          "button",
          { type: "button", class: "w-button", onclick: () => ctx.openProject(data.projectId) },
          "Open project",
        )
      : null,
  ];
}
