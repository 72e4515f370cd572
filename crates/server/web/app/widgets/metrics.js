// Metrics: a row of key figures. Each shows its label, value and unit, the
// change since the last period as an arrow plus the direction in words, and
// its status as a word (colour only repeats what the text says).

import { el } from "../dom.js";
import { MAX_ROWS, badge, emptyState, moreNote, numberText, words } from "./common.js";

const DIRECTION = {
  up: { icon: "▲", text: "up" },
  down: { icon: "▼", text: "down" },
  stable: { icon: "▶", text: "no change" },
};
const STATUS_TONE = { ok: "ok", warning: "warn", critical: "danger" };
const STATUS_TEXT = { ok: "OK", warning: "Warning", critical: "Critical" };

/** The heading when the widget has no title. */
export function defaultTitle() {
  return "Metrics";
}

/** The card's body. */
export function render(data) {
  const metrics = Array.isArray(data.metrics) ? data.metrics : [];
  if (metrics.length === 0) return emptyState("No metrics");
  const shown = metrics.slice(0, MAX_ROWS);
  return [
    el(
      "ul",
      { class: "w-metrics" },
      shown.map((metric) => {
        const value = typeof metric.value === "number" ? numberText(metric.value) : String(metric.value ?? "—");
        const change = metric.change && DIRECTION[metric.change.direction] ? metric.change : null;
        const direction = change ? DIRECTION[change.direction] : null;
        return el(
          "li",
          { class: ["w-metric", metric.status ? `w-metric--${STATUS_TONE[metric.status] ?? "muted"}` : null] },
          el("span", { class: "w-metric__label" }, metric.label),
          el(
            "span",
            { class: "w-metric__value" },
            value,
            metric.unit ? el("span", { class: "w-metric__unit" }, ` ${metric.unit}`) : null,
          ),
          change
            ? el(
                "span",
                { class: ["w-metric__change", `w-change--${change.direction}`] },
                el("span", { "aria-hidden": "true" }, direction.icon + " "),
                change.direction === "stable"
                  ? direction.text
                  : `${direction.text} ${numberText(Math.abs(change.value))}`,
              )
            : null,
          metric.status
            ? badge(STATUS_TEXT[metric.status] ?? words(metric.status), STATUS_TONE[metric.status] ?? "muted")
            : null,
        );
      }),
    ),
    moreNote(metrics.length - shown.length),
  ];
}
