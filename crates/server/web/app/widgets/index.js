// Widgets: turns one widget of the dashboard state into a card. This is the
// browser's half of DESIGN §4: the same JSON Schema the server validates with
// (`GET /api/schema/widgets.json`) is compiled here with the vendored
// @cfworker/json-schema (no `eval`, so the page's CSP holds), and every
// payload is checked before it is drawn.
//
// `renderWidgetCard` never throws. A payload that fails the schema, an unknown
// type, or a renderer that trips over odd data all become an `Error` card
// listing what failed, and the rest of the dashboard keeps working. Strings
// go into text nodes only (app/dom.js), links through `safeHref`, and chart
// coordinates through `coord()`, so nothing in a payload can run as code.
//
// One module per widget type (`project-status.js` …) exports
// `defaultTitle(data)` and `render(data, ctx, widget)` → the card's body.

import { api } from "../api.js";
import { el } from "../dom.js";
import { Validator } from "../../vendor/json-schema.js";
import * as alert from "./alert.js";
import * as burndownChart from "./burndown-chart.js";
import { uniqueId } from "./common.js";
import * as errorWidget from "./error.js";
import * as ganttChart from "./gantt-chart.js";
import * as kanbanBoard from "./kanban-board.js";
import * as loading from "./loading.js";
import * as metrics from "./metrics.js";
import * as projectStatus from "./project-status.js";
import * as taskList from "./task-list.js";
import * as teamActivity from "./team-activity.js";

const RENDERERS = {
  ProjectStatus: projectStatus,
  TaskList: taskList,
  Metrics: metrics,
  Alert: alert,
  TeamActivity: teamActivity,
  KanbanBoard: kanbanBoard,
  GanttChart: ganttChart,
  BurndownChart: burndownChart,
  Error: errorWidget,
  Loading: loading,
};

/** The widget types of the catalog (DESIGN §4), in catalog order. */
export const WIDGET_TYPES = Object.freeze(Object.keys(RENDERERS));

/** Where the page reads the widget catalog. */
export const SCHEMA_URL = "/api/schema/widgets.json";

let validator = null;
let loadingSchema = null;

/**
 * Fetches the widget schema once and compiles it (draft 2020-12). Later calls
 * return the same promise; after a failure the next call tries again.
 */
export function loadWidgetSchema() {
  if (!loadingSchema) {
    loadingSchema = api(SCHEMA_URL)
      .then((schema) => {
        validator = new Validator(schema, "2020-12", false);
        return true;
      })
      .catch((error) => {
        loadingSchema = null;
        throw error;
      });
  }
  return loadingSchema;
}

/** Whether the schema is compiled (before that, `validateWidget` checks only the envelope). */
export function widgetSchemaLoaded() {
  return validator !== null;
}

// Keywords whose errors only say "a part below failed": the useful error is the leaf under them.
const WRAPPERS = new Set([
  "allOf",
  "anyOf",
  "oneOf",
  "if",
  "then",
  "else",
  "$ref",
  "$dynamicRef",
  "properties",
  "items",
  "prefixItems",
  "patternProperties",
  "dependentSchemas",
  "unevaluatedProperties",
  "unevaluatedItems",
  "false",
]);

/**
 * Checks a widget against the catalog: `{valid, errors: [{path, message}]}`
 * with `path` a JSON Pointer into the widget (`/data/progress`; `""` is the
 * widget itself) and only the leaf errors. Before `loadWidgetSchema()` has
 * finished, only the envelope is checked (an object with a known `type` and
 * an object `data`); the renderers check every value they use anyway.
 */
export function validateWidget(widget) {
  const envelope = envelopeErrors(widget);
  if (envelope.length > 0 || validator === null) return { valid: envelope.length === 0, errors: envelope };
  let result;
  try {
    result = validator.validate(widget);
  } catch (error) {
    return { valid: false, errors: [{ path: "", message: `could not be checked: ${error?.message ?? error}` }] };
  }
  if (result.valid) return { valid: true, errors: [] };
  const errors = [];
  const seen = new Set();
  for (const failure of result.errors) {
    const leaf = leafError(failure);
    if (!leaf) continue;
    const key = `${leaf.path}\u0000${leaf.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    errors.push(leaf);
  }
  return { valid: false, errors: mergeAlternatives(errors) };
}

function envelopeErrors(widget) {
  if (widget === null || typeof widget !== "object" || Array.isArray(widget)) {
    return [{ path: "", message: "must be an object" }];
  }
  if (typeof widget.type !== "string") return [{ path: "/type", message: "is required" }];
  if (!Object.hasOwn(RENDERERS, widget.type)) {
    return [
      { path: "/type", message: `unknown widget type "${widget.type}"; known types: ${WIDGET_TYPES.join(", ")}` },
    ];
  }
  if (widget.data === null || typeof widget.data !== "object" || Array.isArray(widget.data)) {
    return [{ path: "/data", message: "must be an object" }];
  }
  return [];
}

function leafError({ instanceLocation, keyword, error }) {
  const path = String(instanceLocation ?? "#").replace(/^#/, "");
  const message = String(error ?? "");
  if (keyword === "additionalProperties") {
    const name = /Property "(.*)" does not match/.exec(message)?.[1];
    return name === undefined
      ? { path, message: "has an unknown property" }
      : { path: `${path}/${escapePointer(name)}`, message: "is not allowed" };
  }
  if (WRAPPERS.has(keyword)) return null;
  if (keyword === "required") {
    const name = /required property "(.*)"/.exec(message)?.[1];
    return name === undefined ? { path, message } : { path: `${path}/${escapePointer(name)}`, message: "is required" };
  }
  if (keyword === "type") {
    const expected = /Expected "(.*)"/.exec(message)?.[1];
    return { path, message: expected ? `must be a ${expected}` : message };
  }
  if (keyword === "enum") {
    const options = /any of (\[.*\])/.exec(message)?.[1];
    try {
      return { path, message: options ? `must be one of ${JSON.parse(options).join(", ")}` : message };
    } catch {
      return { path, message };
    }
  }
  if (keyword === "format")
    return { path, message: message.replace(/^String does not match format "(.*)"\.$/, "must be a $1") };
  if (keyword === "minLength" || keyword === "maxLength") {
    const limit = /\(\d+ [<>] (\d+)\)/.exec(message)?.[1];
    if (limit === "1" && keyword === "minLength") return { path, message: "must not be empty" };
    if (limit) return { path, message: `must be at ${keyword === "minLength" ? "least" : "most"} ${limit} characters` };
  }
  if (keyword === "pattern" && path.endsWith("/href"))
    return { path, message: "must be a relative link or an https URL" };
  return { path, message: message.replace(/\.$/, "") };
}

/** "must be a number" and "must be a string" at one path (an `anyOf`) read as one error. */
function mergeAlternatives(errors) {
  const merged = [];
  for (const error of errors) {
    const earlier = merged.find(
      (candidate) => candidate.path === error.path && candidate.message.startsWith("must be a "),
    );
    if (earlier && error.message.startsWith("must be a ")) {
      earlier.message += ` or ${error.message.slice("must be a ".length)}`;
    } else {
      merged.push({ ...error });
    }
  }
  return merged;
}

function escapePointer(name) {
  return name.replaceAll("~", "~0").replaceAll("/", "~1");
}

/**
 * The card of one widget: `<article class="widget" data-widget-id data-widget-type>`
 * with a header (`<h2>`) and a body. `ctx`: `{id, now, retry, retryState, moveCard,
 * openProject}` (see docs/web.md, "Widgets"). Never throws.
 */
export function renderWidgetCard(widget, ctx = {}) {
  const context = ctx && typeof ctx === "object" ? ctx : {};
  const id = context.id ?? (typeof widget?.id === "string" ? widget.id : "");
  const check = validateWidget(widget);
  if (!check.valid) {
    const typeName = typeof widget?.type === "string" ? widget.type : undefined;
    const unknown = check.errors.some((error) => error.path === "/type");
    return errorCard(id, context, {
      title: typeof widget?.title === "string" ? widget.title : undefined,
      message: unknown
        ? `This widget cannot be shown: its type is not one of ${WIDGET_TYPES.join(", ")}.`
        : "This widget cannot be shown: its data does not match the widget schema.",
      widgetType: typeName,
      errors: check.errors,
    });
  }
  try {
    return card(id, widget.type, widget, context);
  } catch (error) {
    // A renderer bug must not take the dashboard down; it shows as this card's error.
    console.warn("widget renderer failed", widget.type, error);
    return errorCard(id, context, {
      title: widget.title,
      message: `This widget could not be drawn (${error?.message ?? "unknown error"}).`,
      widgetType: widget.type,
      errors: [],
    });
  }
}

function card(id, type, widget, ctx) {
  const renderer = RENDERERS[type];
  const headingId = uniqueId("w-heading");
  const title = typeof widget.title === "string" ? widget.title : renderer.defaultTitle(widget.data);
  const body = renderer.render(widget.data, { ...ctx, headingId }, widget);
  return el(
    "article",
    {
      class: ["widget", `widget--${type}`],
      dataset: { widgetId: id, widgetType: type },
      "aria-labelledby": headingId,
      "aria-busy": type === "Loading" ? "true" : null,
    },
    el("header", { class: "widget__header" }, el("h2", { class: "widget__title", id: headingId }, title)),
    el("div", { class: "widget__body" }, body),
  );
}

function errorCard(id, ctx, { title, message, widgetType, errors }) {
  const headingId = uniqueId("w-heading");
  const data = { message, retryable: false, ...(widgetType ? { widgetType } : {}) };
  return el(
    "article",
    {
      class: ["widget", "widget--Error", "widget--invalid"],
      dataset: { widgetId: id, widgetType: "Error" },
      "aria-labelledby": headingId,
    },
    el("header", { class: "widget__header" }, el("h2", { class: "widget__title", id: headingId }, title ?? "Error")),
    el("div", { class: "widget__body" }, errorWidget.render(data, { ...ctx, headingId }, {}, errors)),
  );
}
