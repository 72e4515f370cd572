// SVG chart helpers for the Gantt and burndown widgets: linear scales, a date
// axis whose tick step is picked from the span (days, weeks, months, years),
// number ticks on round values, and the "today" line.
//
// A chart is drawn for the width its card gives it (`responsiveChart`): one
// SVG unit is one CSS pixel, so labels keep their size in a narrow cell and a
// wide one, and the chart is drawn again when the cell is resized. Every
// coordinate goes through `coord()`, which turns anything
// that is not a finite number into 0: a payload can make a chart look odd, but
// never put `NaN` or `Infinity` into an attribute. Dates are laid out in UTC.

import { el, svg } from "../dom.js";
import { uniqueId } from "./common.js";

const DAY = 86_400_000;

/** A coordinate as attribute text: rounded to 0.1, and 0 for anything not finite. */
export function coord(value) {
  return Number.isFinite(value) ? String(Math.round(value * 10) / 10) : "0";
}

/**
 * A linear scale from `[domainLow, domainHigh]` to `[rangeLow, rangeHigh]`.
 * An empty domain (one value) maps everything to the middle of the range.
 */
export function linearScale(domainLow, domainHigh, rangeLow, rangeHigh) {
  const span = domainHigh - domainLow;
  if (!Number.isFinite(span) || span === 0) {
    const middle = (rangeLow + rangeHigh) / 2;
    return () => middle;
  }
  return (value) => rangeLow + ((value - domainLow) / span) * (rangeHigh - rangeLow);
}

/**
 * The time span a chart shows for the given times (ms): their min and max,
 * widened to at least one day so one point or a zero-length bar still has room.
 */
export function timeDomain(times) {
  const finiteTimes = times.filter(Number.isFinite);
  if (finiteTimes.length === 0) return null;
  let low = Math.min(...finiteTimes);
  let high = Math.max(...finiteTimes);
  if (high - low < DAY) {
    const middle = (low + high) / 2;
    low = middle - DAY / 2;
    high = middle + DAY / 2;
  }
  return [low, high];
}

const DATE_STEPS = [
  { days: 1, unit: "day" },
  { days: 2, unit: "day" },
  { days: 7, unit: "day" },
  { days: 14, unit: "day" },
  { months: 1, unit: "month" },
  { months: 3, unit: "month" },
  { months: 6, unit: "month" },
  { months: 12, unit: "year" },
];

/**
 * Tick times between `low` and `high` (ms), at most `maxTicks`, on midnights
 * (UTC) of a step picked from days, weeks, months, quarters or years; the
 * step's unit tells the label format.
 */
export function dateTicks(low, high, maxTicks = 6) {
  if (!Number.isFinite(low) || !Number.isFinite(high) || high < low) return { ticks: [], unit: "day" };
  const spanDays = (high - low) / DAY;
  let step = DATE_STEPS[DATE_STEPS.length - 1];
  for (const candidate of DATE_STEPS) {
    const stepDays = candidate.days ?? candidate.months * 30.4;
    if (spanDays / stepDays <= maxTicks) {
      step = candidate;
      break;
    }
  }
  const ticks = [];
  if (step.days) {
    // Whole days since the epoch that are multiples of the step, so ticks do not move with the data.
    const first = Math.ceil(low / (step.days * DAY)) * step.days * DAY;
    for (let time = first; time <= high && ticks.length < 100; time += step.days * DAY) ticks.push(time);
  } else {
    // Beyond the yearly step the span may be centuries: widen the step until the ticks fit.
    let months = step.months;
    while (spanDays / 30.4 / months > maxTicks) months *= 2;
    const start = new Date(low);
    let year = start.getUTCFullYear();
    let month = Math.ceil((start.getUTCMonth() + (start.getUTCDate() > 1 ? 1 : 0)) / months) * months;
    for (let guard = 0; guard < 100; guard += 1) {
      const time = Date.UTC(year, month, 1);
      if (!Number.isFinite(time) || time > high) break;
      if (time >= low) ticks.push(time);
      month += months;
      year += Math.floor(month / 12);
      month %= 12;
    }
  }
  return { ticks, unit: step.unit };
}

const tickFormats = {
  day: new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" }),
  month: new Intl.DateTimeFormat(undefined, { month: "short", year: "numeric", timeZone: "UTC" }),
  year: new Intl.DateTimeFormat(undefined, { year: "numeric", timeZone: "UTC" }),
};

/** The label of a date tick in the format of its step's unit ("Mar 3", "Mar 2026", "2027"). */
export function dateTickLabel(time, unit) {
  return (tickFormats[unit] ?? tickFormats.day).format(time);
}

/**
 * A horizontal date axis: a tick line and label per tick at `y` (labels
 * below when `labelsBelow`, else above), and a faint grid line from `gridTop`
 * to `gridBottom` for each tick.
 */
export function dateAxis(scale, { ticks, unit }, { y, gridTop, gridBottom, labelsBelow = true }) {
  const group = svg("g", { class: "w-axis w-axis--x", "aria-hidden": "true" });
  for (const tick of ticks) {
    const x = coord(scale(tick));
    group.append(
      svg("line", { class: "w-grid", x1: x, x2: x, y1: coord(gridTop), y2: coord(gridBottom) }),
      svg("line", { class: "w-tick", x1: x, x2: x, y1: coord(y), y2: coord(labelsBelow ? y + 4 : y - 4) }),
      svg(
        "text",
        { class: "w-axis__label", x, y: coord(labelsBelow ? y + 16 : y - 7), "text-anchor": "middle" },
        dateTickLabel(tick, unit),
      ),
    );
  }
  return group;
}

/** Round tick values from 0 to at least `max` (about `count` of them): 0, 5, 10 … */
export function numberTicks(max, count = 5) {
  const top = Number.isFinite(max) && max > 0 ? max : 1;
  const rough = top / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((factor) => factor * magnitude).find((candidate) => candidate >= rough) ?? rough;
  const ticks = [];
  for (let value = 0; value < top + step && ticks.length <= count + 2; value += step) ticks.push(value);
  return ticks;
}

/** A vertical line at `now` labelled "Today", or `null` when `now` is outside the domain. */
export function todayLine(scale, now, [low, high], { top, bottom }) {
  if (!Number.isFinite(now) || now < low || now > high) return null;
  const x = coord(scale(now));
  return svg(
    "g",
    { class: "w-today" },
    svg("title", {}, "Today"),
    svg("line", { x1: x, x2: x, y1: coord(top), y2: coord(bottom) }),
    svg("text", { x, y: coord(top - 3), "text-anchor": "middle", class: "w-today__label" }, "Today"),
  );
}

/** An arrowhead `<marker>` in a `<defs>`, and the `url(#…)` to reference it. */
export function arrowMarker() {
  const id = uniqueId("w-arrow");
  const defs = svg(
    "defs",
    {},
    svg(
      "marker",
      {
        id,
        viewBox: "0 0 8 8",
        refX: "7",
        refY: "4",
        markerWidth: "7",
        markerHeight: "7",
        orient: "auto-start-reverse",
      },
      svg("path", { d: "M0,0 L8,4 L0,8 z", class: "w-arrowhead" }),
    ),
  );
  return { defs, reference: `url(#${id})` };
}

/** Width a chart is drawn at before its card is laid out (and where `ResizeObserver` is missing). */
export const DEFAULT_CHART_WIDTH = 450;

/**
 * A box holding `draw(width)` → `<svg>`, drawn again at the box's width whenever
 * that changes (a resized grid cell). The redraw waits for the next frame, so
 * it never resizes the box inside the observer's own callback.
 */
export function responsiveChart(draw) {
  const box = el("div", { class: "w-chart-wrap" });
  let drawnWidth = DEFAULT_CHART_WIDTH;
  box.append(draw(drawnWidth));
  if (typeof ResizeObserver === "function") {
    let frame = 0;
    const observer = new ResizeObserver((entries) => {
      const width = Math.floor(entries[entries.length - 1].contentRect.width);
      if (!Number.isFinite(width) || width < 160 || width === drawnWidth) return;
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        drawnWidth = width;
        box.replaceChildren(draw(width));
      });
    });
    observer.observe(box);
  }
  return box;
}
