// The token usage panel on the dashboard: today's tokens in and out, and the
// last 30 days as an SVG bar chart (in and out stacked per day, a date axis,
// a y axis with ticks, and the daily quota as a dashed line when one is set).
// The chart is a picture for the eye; the same numbers are in a text summary
// and a visually hidden table for screen readers. Data: `GET /api/usage`
// (`today`, `days` with counts only, oldest first, `dailyQuotaTokens`, 0 = no
// quota). Usage changes when agents answer, which also changes the dashboard
// state, so the panel re-reads after state changes (debounced) and when the
// tab becomes visible again.

import { el, svg } from "../dom.js";
import { subscribeToChanges, uniqueId } from "../pages/common.js";

const DAYS = 30;
const DEBOUNCE_MS = 1_500;
const MARGIN = { top: 16, right: 12, bottom: 28, left: 56 };
const DAY_MS = 86_400_000;

const full = new Intl.NumberFormat(undefined);
const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
const dayLabel = (key) =>
  new Date(`${key}T00:00:00Z`).toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });

/** The 30 `YYYY-MM-DD` keys ending with `todayKey`, oldest first. */
export function lastDays(todayKey, count = DAYS) {
  const today = Date.parse(`${todayKey}T00:00:00Z`);
  const end = Number.isNaN(today) ? Date.now() : today;
  return Array.from({ length: count }, (_, index) =>
    new Date(end - (count - 1 - index) * DAY_MS).toISOString().slice(0, 10),
  );
}

/** Round tick values from 0 to at least `max` (about `count` steps of 1, 2 or 5 × 10ⁿ). */
export function niceTicks(max, count = 4) {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((factor) => factor * magnitude).find((candidate) => candidate >= raw);
  const ticks = [];
  for (let value = 0; value < max + step; value += step) ticks.push(value);
  return ticks;
}

// The chart is drawn in the panel's own pixels (its width measured at render,
// again when it changes), so its 11 px text stays 11 px in a narrow side panel.
function chart(series, quota, titleId, summaryId, width) {
  const chartWidth = Math.max(280, Math.round(width) || 640);
  const chartHeight = Math.round(Math.min(240, Math.max(170, chartWidth * 0.45)));
  const top = Math.max(quota, ...series.map((day) => day.tokensIn + day.tokensOut));
  const ticks = niceTicks(top);
  const yMax = ticks[ticks.length - 1];
  const plotWidth = chartWidth - MARGIN.left - MARGIN.right;
  const plotHeight = chartHeight - MARGIN.top - MARGIN.bottom;
  const y = (value) => MARGIN.top + plotHeight - (value / yMax) * plotHeight;
  const slot = plotWidth / series.length;
  const barWidth = Math.max(2, slot * 0.7);
  const x = (index) => MARGIN.left + index * slot + (slot - barWidth) / 2;
  const baseline = MARGIN.top + plotHeight;
  return svg(
    "svg",
    {
      class: "usage-chart",
      viewBox: `0 0 ${chartWidth} ${chartHeight}`,
      role: "img",
      "aria-labelledby": titleId,
      "aria-describedby": summaryId,
      dataset: { role: "usage-chart" },
    },
    svg("title", { id: titleId }, "Tokens per day, last 30 days"),
    svg(
      "g",
      { class: "axis axis-y" },
      ticks.map((value) =>
        svg(
          "g",
          { class: "tick" },
          svg("line", {
            class: "grid-line",
            x1: MARGIN.left,
            x2: chartWidth - MARGIN.right,
            y1: y(value),
            y2: y(value),
          }),
          svg(
            "text",
            { x: MARGIN.left - 6, y: y(value), "text-anchor": "end", "dominant-baseline": "middle" },
            compact.format(value),
          ),
        ),
      ),
    ),
    svg(
      "g",
      { class: "bars" },
      series.map((day, index) => {
        if (day.tokensIn + day.tokensOut === 0) return null;
        const inTop = y(day.tokensIn);
        const outTop = y(day.tokensIn + day.tokensOut);
        return svg(
          "g",
          { class: "bar", dataset: { day: day.day, tokensIn: day.tokensIn, tokensOut: day.tokensOut } },
          svg("title", {}, `${dayLabel(day.day)}: ${full.format(day.tokensIn)} in, ${full.format(day.tokensOut)} out`),
          svg("rect", { class: "bar-in", x: x(index), width: barWidth, y: inTop, height: baseline - inTop }),
          svg("rect", { class: "bar-out", x: x(index), width: barWidth, y: outTop, height: inTop - outTop }),
        );
      }),
    ),
    svg(
      "g",
      { class: "axis axis-x" },
      svg("line", { class: "axis-line", x1: MARGIN.left, x2: chartWidth - MARGIN.right, y1: baseline, y2: baseline }),
      // A label a week apart, counted back from today so today is always named.
      series.map((day, index) =>
        (series.length - 1 - index) % 7 === 0
          ? svg("text", { x: x(index) + barWidth / 2, y: chartHeight - 8, "text-anchor": "middle" }, dayLabel(day.day))
          : null,
      ),
    ),
    quota > 0
      ? svg(
          "g",
          { class: "quota", dataset: { role: "quota-line", quota } },
          svg("line", {
            class: "quota-line",
            x1: MARGIN.left,
            x2: chartWidth - MARGIN.right,
            y1: y(quota),
            y2: y(quota),
          }),
          svg(
            "text",
            { x: chartWidth - MARGIN.right, y: y(quota) - 4, "text-anchor": "end" },
            `Daily quota ${compact.format(quota)}`,
          ),
        )
      : null,
  );
}

function render(usage, ids, width) {
  const quota = Number(usage?.dailyQuotaTokens) > 0 ? Number(usage.dailyQuotaTokens) : 0;
  const today = { tokensIn: Number(usage?.today?.tokensIn) || 0, tokensOut: Number(usage?.today?.tokensOut) || 0 };
  const byDay = new Map((usage?.days ?? []).map((day) => [day.day, day]));
  const series = lastDays(usage?.today?.day).map((day) => ({
    day,
    tokensIn: Number(byDay.get(day)?.tokensIn) || 0,
    tokensOut: Number(byDay.get(day)?.tokensOut) || 0,
  }));
  const used = series.filter((day) => day.tokensIn + day.tokensOut > 0);
  const totalIn = used.reduce((sum, day) => sum + day.tokensIn, 0);
  const totalOut = used.reduce((sum, day) => sum + day.tokensOut, 0);
  const todayTotal = today.tokensIn + today.tokensOut;
  const quotaText = quota
    ? ` That is ${Math.round((todayTotal / quota) * 100)} % of the daily quota of ${full.format(quota)}.`
    : "";
  const summary = used.length
    ? `Today: ${full.format(today.tokensIn)} tokens in and ${full.format(today.tokensOut)} out.${quotaText} ` +
      `Last 30 days: ${used.length} day${used.length === 1 ? "" : "s"} with usage, ${full.format(totalIn)} tokens in and ${full.format(totalOut)} out.`
    : "No token usage in the last 30 days.";
  const figure = (term, value) => el("div", { class: "usage-figure" }, el("dt", {}, term), el("dd", {}, value));
  return [
    el(
      "dl",
      { class: "usage-today", dataset: { role: "usage-today" } },
      figure("Today in", full.format(today.tokensIn)),
      figure("Today out", full.format(today.tokensOut)),
      quota ? figure("Daily quota", full.format(quota)) : null,
    ),
    el("p", { class: "usage-summary", id: ids.summary, dataset: { role: "usage-summary" } }, summary),
    used.length
      ? [
          chart(series, quota, ids.title, ids.summary, width),
          el(
            "ul",
            { class: "chart-legend", "aria-hidden": "true" },
            el("li", {}, el("span", { class: "swatch swatch-in" }), "Tokens in"),
            el("li", {}, el("span", { class: "swatch swatch-out" }), "Tokens out"),
          ),
          el(
            "table",
            { class: "visually-hidden" },
            el("caption", {}, "Tokens per day, last 30 days (days with usage)"),
            el(
              "thead",
              {},
              el(
                "tr",
                {},
                el("th", { scope: "col" }, "Day"),
                el("th", { scope: "col" }, "In"),
                el("th", { scope: "col" }, "Out"),
              ),
            ),
            el(
              "tbody",
              {},
              used.map((day) =>
                el(
                  "tr",
                  {},
                  el("th", { scope: "row" }, dayLabel(day.day)),
                  el("td", {}, full.format(day.tokensIn)),
                  el("td", {}, full.format(day.tokensOut)),
                ),
              ),
            ),
          ),
        ]
      : null,
  ];
}

/** Mounts the usage panel into `container`; returns the function that unmounts it. */
export function mount(container, ctx) {
  const headingId = uniqueId("usage-title");
  const ids = { title: uniqueId("usage-chart-title"), summary: uniqueId("usage-summary") };
  const body = el("div", { class: "usage-body" }, el("p", { class: "panel-status", role: "status" }, "Loading usage…"));
  const section = el(
    "section",
    { class: "panel-content usage-panel", "aria-labelledby": headingId, dataset: { panel: "usage" } },
    el("h2", { id: headingId }, "Token usage"),
    body,
  );
  container.append(section);

  let alive = true;
  let generation = 0;
  let debounce = null;
  let shown = null; // { usage, width } last drawn
  const draw = (usage) => {
    const width = body.clientWidth;
    shown = { usage, width };
    body.replaceChildren(...render(usage, ids, width).flat().filter(Boolean));
  };
  const resized = new ResizeObserver(() => {
    if (shown && Math.abs(body.clientWidth - shown.width) > 24) draw(shown.usage);
  });
  resized.observe(body);
  const refresh = async () => {
    const run = ++generation;
    try {
      const usage = await ctx.api("/api/usage");
      if (alive && run === generation) draw(usage);
    } catch (error) {
      if (alive && run === generation) {
        body.replaceChildren(
          el("p", { class: "panel-status", role: "status" }, `Usage could not be read: ${error?.message ?? error}`),
        );
      }
    }
  };
  const soon = () => {
    clearTimeout(debounce);
    debounce = setTimeout(refresh, DEBOUNCE_MS);
  };
  const onVisible = () => {
    if (document.visibilityState === "visible") refresh();
  };
  const unsubscribe = subscribeToChanges(ctx, soon);
  document.addEventListener("visibilitychange", onVisible);
  refresh();
  return () => {
    alive = false;
    clearTimeout(debounce);
    resized.disconnect();
    unsubscribe();
    document.removeEventListener("visibilitychange", onVisible);
    section.remove();
  };
}
