// provisional: replaced by the widgets module (H3). A minimal stand-in with the
// contract's interface so the shell works on its own: the title and the
// widget's JSON as text, carrying data-widget-id and data-widget-type.

import { el } from "../dom.js";

/** The widget types of the catalog. */
export const WIDGET_TYPES = [
  "ProjectStatus", "TaskList", "Metrics", "Alert", "TeamActivity",
  "KanbanBoard", "GanttChart", "BurndownChart", "Error", "Loading",
];

/** provisional: nothing to load. */
export async function loadWidgetSchema() {}

/** provisional: accepts a known type. */
export function validateWidget(widget) {
  const valid = WIDGET_TYPES.includes(widget?.type);
  return { valid, errors: valid ? [] : [{ path: "/type", message: "unknown widget type" }] };
}

/** provisional: title and JSON text. */
export function renderWidgetCard(widget, ctx) {
  const type = validateWidget(widget).valid ? widget.type : "Error";
  return el(
    "article",
    { class: "widget", dataset: { widgetId: ctx.id, widgetType: type } },
    el("h2", {}, widget?.title ?? type),
    el("pre", { class: "widget-json" }, JSON.stringify(widget?.data ?? null, null, 1)),
  );
}
