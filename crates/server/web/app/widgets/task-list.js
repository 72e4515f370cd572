// TaskList: a list of tasks, each with its title and a line of status,
// priority, assignee and due date ("overdue" when past it and not done).
// `limit` cuts the list with "and N more"; without one at most MAX_ROWS rows
// are built, so a list of 500 tasks keeps a small DOM.

import { el } from "../dom.js";
import { MAX_ROWS, badge, dayText, emptyState, moreNote, nowOf, timeElement, timeOf, words } from "./common.js";

const STATUS = {
  todo: { tone: "muted", icon: "○" },
  in_progress: { tone: "info", icon: "◐" },
  done: { tone: "ok", icon: "✓" },
  blocked: { tone: "danger", icon: "✕" },
};
const PRIORITY = { low: "muted", medium: "info", high: "warn", urgent: "danger" };

/** The heading when the widget has no title. */
export function defaultTitle() {
  return "Tasks";
}

/** The card's body. */
export function render(data, ctx) {
  const tasks = Array.isArray(data.tasks) ? data.tasks : [];
  if (tasks.length === 0) return emptyState("No tasks");
  const limit = Number.isInteger(data.limit) && data.limit > 0 ? Math.min(data.limit, MAX_ROWS) : MAX_ROWS;
  const shown = tasks.slice(0, limit);
  const now = nowOf(ctx);
  return [
    el(
      "ul",
      { class: "w-tasks" },
      shown.map((task) => {
        const status = STATUS[task.status] ?? { tone: "muted", icon: "?" };
        const due = timeOf(task.dueDate);
        const overdue = due !== null && due < now && task.status !== "done";
        return el(
          "li",
          { class: "w-task", dataset: { taskId: task.id } },
          el("p", { class: "w-task__title" }, task.title),
          el(
            "p",
            { class: "w-task__meta" },
            badge(words(task.status), status.tone, status.icon),
            el(
              "span",
              { class: ["w-priority", `w-tone-${PRIORITY[task.priority] ?? "muted"}`] },
              `${words(task.priority)} priority`,
            ),
            el("span", { class: "w-task__assignee" }, task.assignee ?? el("span", { class: "w-muted" }, "Unassigned")),
            due === null
              ? null
              : el(
                  "span",
                  { class: "w-task__due" },
                  "Due ",
                  timeElement(due, dayText(due)),
                  overdue ? el("strong", { class: "w-overdue" }, " (overdue)") : null,
                ),
          ),
        );
      }),
    ),
    moreNote(tasks.length - shown.length),
  ];
}
