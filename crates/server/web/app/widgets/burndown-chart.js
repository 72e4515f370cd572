// BurndownChart: work remaining over a sprint, drawn as an SVG line chart. A
// date x-axis, a points y-axis with round ticks, the ideal line (dashed) and
// the actual line (solid, with dots) told apart by colour AND dash, a "today"
// line and a legend. A visually hidden table gives the numbers to screen readers.

import { el, svg } from "../dom.js";
import {
  coord,
  dateAxis,
  dateTicks,
  linearScale,
  numberTicks,
  responsiveChart,
  timeDomain,
  todayLine,
} from "./chart.js";
import { dayText, emptyState, finite, nowOf, numberText, timeOf, uniqueId } from "./common.js";

const HEIGHT = 240;
const LEFT = 44;
const TOP = 20;
const BOTTOM = 208;
/** Points drawn as dots at most (a long sprint keeps its line, without dots). */
const MAX_DOTS = 60;

/** The heading when the widget has no title. */
export function defaultTitle(data) {
  return typeof data?.sprintName === "string" ? data.sprintName : "Burndown";
}

/** The card's body. */
export function render(data, ctx, widget) {
  const start = timeOf(data.startDate);
  const end = timeOf(data.endDate);
  const points = (Array.isArray(data.points) ? data.points : [])
    .map((point) => ({
      time: timeOf(point.date),
      ideal: finite(point.ideal, null),
      actual: finite(point.actual, null),
    }))
    .filter((point) => point.time !== null)
    .sort((a, b) => a.time - b.time);
  const caption = el(
    "p",
    { class: "w-chart__caption" },
    data.sprintName && widget.title !== data.sprintName ? [el("strong", {}, data.sprintName), " · "] : null,
    `${dayText(start)} – ${dayText(end)}`,
  );
  if (points.length === 0) return [caption, emptyState("No progress recorded yet")];

  const domain = timeDomain([start, end, ...points.map((point) => point.time)].filter((time) => time !== null));
  const name = widget.title ?? data.sprintName ?? "Burndown";
  const now = nowOf(ctx);
  return [
    caption,
    responsiveChart((width) => draw(width, { points, domain, name, now })),
    el(
      "ul",
      { class: "w-legend" },
      legendItem("w-line--ideal", "Ideal (dashed)"),
      legendItem("w-line--actual", "Actual (solid)"),
    ),
    el(
      "table",
      { class: "w-sr-only" },
      el("caption", {}, `Remaining work of ${name} by day`),
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          ["Day", "Ideal", "Actual"].map((column) => el("th", { scope: "col" }, column)),
        ),
      ),
      el(
        "tbody",
        {},
        points.map((point) =>
          el(
            "tr",
            {},
            el("th", { scope: "row" }, dayText(point.time)),
            el("td", {}, numberText(point.ideal)),
            el("td", {}, numberText(point.actual)),
          ),
        ),
      ),
    ),
  ];
}

/** The chart at `width` px. */
function draw(width, { points, domain, name, now }) {
  const right = width - 14;
  const x = linearScale(domain[0], domain[1], LEFT, right);
  const highest = Math.max(0, ...points.flatMap((point) => [point.ideal ?? 0, point.actual ?? 0]));
  const yTicks = numberTicks(highest, 4);
  const y = linearScale(0, yTicks[yTicks.length - 1], BOTTOM, TOP);
  const line = (key) =>
    points
      .filter((point) => point[key] !== null)
      .map((point, index) => `${index === 0 ? "M" : "L"}${coord(x(point.time))},${coord(y(point[key]))}`)
      .join(" ");
  const titleId = uniqueId("w-burndown-title");
  const descId = uniqueId("w-burndown-desc");
  const last = points[points.length - 1];

  return svg(
    "svg",
    {
      class: "w-chart w-burndown",
      viewBox: `0 0 ${width} ${HEIGHT}`,
      role: "img",
      "aria-labelledby": `${titleId} ${descId}`,
    },
    svg("title", { id: titleId }, `Burndown chart: ${name}`),
    svg(
      "desc",
      { id: descId },
      `${numberText(points.length)} days from ${dayText(domain[0])} to ${dayText(domain[1])}; ` +
        `on ${dayText(last.time)} ${numberText(last.actual)} remained against ${numberText(last.ideal)} ideal.`,
    ),
    svg(
      "g",
      { class: "w-axis w-axis--y", "aria-hidden": "true" },
      yTicks.map((tick) =>
        svg(
          "g",
          {},
          svg("line", { class: "w-grid", x1: LEFT, x2: right, y1: coord(y(tick)), y2: coord(y(tick)) }),
          svg(
            "text",
            { class: "w-axis__label", x: coord(LEFT - 6), y: coord(y(tick) + 4), "text-anchor": "end" },
            numberText(tick),
          ),
        ),
      ),
    ),
    dateAxis(x, dateTicks(domain[0], domain[1], Math.max(2, Math.floor((right - LEFT) / 64))), {
      y: BOTTOM,
      gridTop: BOTTOM,
      gridBottom: BOTTOM,
    }),
    svg("line", { class: "w-axis__line", x1: LEFT, x2: right, y1: BOTTOM, y2: BOTTOM }),
    svg("line", { class: "w-axis__line", x1: LEFT, x2: LEFT, y1: TOP, y2: BOTTOM }),
    svg("path", { class: "w-line w-line--ideal", d: line("ideal") }),
    svg("path", { class: "w-line w-line--actual", d: line("actual") }),
    points.length <= MAX_DOTS
      ? svg(
          "g",
          { class: "w-dots" },
          points
            .filter((point) => point.actual !== null)
            .map((point) =>
              svg(
                "circle",
                { class: "w-dot", cx: coord(x(point.time)), cy: coord(y(point.actual)), r: "3" },
                svg(
                  "title",
                  {},
                  `${dayText(point.time)}: ${numberText(point.actual)} remaining (ideal ${numberText(point.ideal)})`,
                ),
              ),
            ),
        )
      : null,
    todayLine(x, now, domain, { top: TOP - 4, bottom: BOTTOM }),
  );
}

function legendItem(lineClass, text) {
  return el(
    "li",
    {},
    svg(
      "svg",
      { class: "w-legend__swatch", viewBox: "0 0 28 8", "aria-hidden": "true" },
      svg("line", { class: ["w-line", lineClass], x1: "1", x2: "27", y1: "4", y2: "4" }),
    ),
    text,
  );
}
