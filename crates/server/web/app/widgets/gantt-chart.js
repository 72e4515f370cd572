// GanttChart: tasks on a timeline, drawn as SVG. A date axis with ticks and
// labels, one bar per task from start to end with its progress filled in,
// arrows from each dependency's end to the dependent's start, and a "today"
// line. Every bar has a `<title>` tooltip; the chart has an accessible name
// and description, and a visually hidden table says the same for screen
// readers. At most MAX_BARS rows are drawn ("and N more" below).

import { el, svg } from "../dom.js";
import {
  arrowMarker,
  coord,
  dateAxis,
  dateTicks,
  linearScale,
  responsiveChart,
  timeDomain,
  todayLine,
} from "./chart.js";
import {
  clamp,
  dayText,
  emptyState,
  finite,
  moreNote,
  nowOf,
  numberText,
  timeOf,
  truncate,
  uniqueId,
} from "./common.js";

/** Rows drawn at most. */
const MAX_BARS = 30;
const TOP = 20;
const ROW = 26;
const BAR = 14;
const MIN_BAR = 3;

/** The heading when the widget has no title. */
export function defaultTitle() {
  return "Timeline";
}

/** The card's body. */
export function render(data, ctx, widget) {
  const tasks = (Array.isArray(data.tasks) ? data.tasks : [])
    .map((task) => {
      const start = timeOf(task.start);
      const end = timeOf(task.end);
      if (start === null || end === null) return null;
      // A bar that ends before it starts is drawn over the span it names.
      return {
        task,
        start: Math.min(start, end),
        end: Math.max(start, end),
        progress: clamp(finite(task.progress), 0, 100),
      };
    })
    .filter(Boolean);
  if (tasks.length === 0) return emptyState("No tasks to chart");
  const shown = tasks.slice(0, MAX_BARS);
  const domain = timeDomain(shown.flatMap((bar) => [bar.start, bar.end]));
  const name = widget.title ?? defaultTitle();
  const now = nowOf(ctx);
  return [
    responsiveChart((width) => draw(width, { tasks, shown, domain, name, now })),
    moreNote(tasks.length - shown.length, "more tasks"),
    fallbackTable(shown, name),
  ];
}

/** The chart at `width` px: task titles on the left, the bars on the rest. */
function draw(width, { tasks, shown, domain, name, now }) {
  // The title column takes about a quarter of the width; titles longer than it fit are cut.
  const labelWidth = clamp(Math.round(width * 0.28), 96, 220);
  const plotLeft = labelWidth + 8;
  const plotRight = width - 12;
  const labelCharacters = Math.max(6, Math.floor((labelWidth - 8) / 6.3));
  const x = linearScale(domain[0], domain[1], plotLeft, plotRight);
  const axisY = TOP + shown.length * ROW + 4;
  const height = axisY + 26;
  const titleId = uniqueId("w-gantt-title");
  const descId = uniqueId("w-gantt-desc");
  const arrow = arrowMarker();
  const rowOf = new Map(shown.map((bar, index) => [bar.task.id, index]));
  const middle = (index) => TOP + index * ROW + ROW / 2;

  return svg(
    "svg",
    {
      class: "w-chart w-gantt",
      viewBox: `0 0 ${width} ${coord(height)}`,
      role: "img",
      "aria-labelledby": `${titleId} ${descId}`,
    },
    svg("title", { id: titleId }, `Gantt chart: ${name}`),
    svg(
      "desc",
      { id: descId },
      `${numberText(tasks.length)} tasks from ${dayText(domain[0])} to ${dayText(domain[1])}.`,
    ),
    arrow.defs,
    dateAxis(x, dateTicks(domain[0], domain[1], Math.max(2, Math.floor((plotRight - plotLeft) / 64))), {
      y: axisY,
      gridTop: TOP,
      gridBottom: axisY,
    }),
    svg("line", { class: "w-axis__line", x1: plotLeft, x2: plotRight, y1: coord(axisY), y2: coord(axisY) }),
    shown.map((bar, index) => {
      const left = x(bar.start);
      const barWidth = Math.max(MIN_BAR, x(bar.end) - left);
      const y = TOP + index * ROW + (ROW - BAR) / 2;
      const tooltip = `${bar.task.title}: ${dayText(bar.start)} – ${dayText(bar.end)}, ${numberText(bar.progress)} % done`;
      return svg(
        "g",
        { class: "w-gantt__row", dataset: { taskId: bar.task.id } },
        svg("title", {}, tooltip),
        svg(
          "text",
          { class: "w-gantt__label", x: "4", y: coord(middle(index) + 4) },
          truncate(bar.task.title, labelCharacters),
        ),
        bar.start === bar.end
          ? milestone(left, middle(index))
          : svg("rect", {
              class: "w-gantt__bar",
              x: coord(left),
              y: coord(y),
              width: coord(barWidth),
              height: BAR,
              rx: "3",
            }),
        bar.progress > 0 && bar.start !== bar.end
          ? svg("rect", {
              class: "w-gantt__progress",
              x: coord(left),
              y: coord(y),
              width: coord((barWidth * bar.progress) / 100),
              height: BAR,
              rx: "3",
            })
          : null,
      );
    }),
    svg(
      "g",
      { class: "w-gantt__links", "aria-hidden": "true" },
      shown.flatMap((bar, index) =>
        (Array.isArray(bar.task.dependencies) ? bar.task.dependencies : [])
          .filter((id) => rowOf.has(id) && rowOf.get(id) !== index)
          .map((id) => {
            const from = shown[rowOf.get(id)];
            const x1 = x(from.end);
            const y1 = middle(rowOf.get(id));
            const x2 = x(bar.start);
            const y2 = middle(index);
            const bend = Math.max(16, Math.abs(x2 - x1) / 2);
            return svg("path", {
              class: "w-gantt__link",
              d: `M${coord(x1)},${coord(y1)} C${coord(x1 + bend)},${coord(y1)} ${coord(x2 - bend)},${coord(y2)} ${coord(x2 - 1)},${coord(y2)}`,
              "marker-end": arrow.reference,
            });
          }),
      ),
    ),
    todayLine(x, now, domain, { top: TOP - 6, bottom: axisY }),
  );
}

/** A zero-length task (a milestone) as a diamond on its day. */
function milestone(x, y) {
  const half = BAR / 2;
  return svg("path", {
    class: "w-gantt__milestone",
    d: `M${coord(x)},${coord(y - half)} L${coord(x + half)},${coord(y)} L${coord(x)},${coord(y + half)} L${coord(x - half)},${coord(y)} Z`,
  });
}

function fallbackTable(shown, name) {
  const titles = new Map(shown.map((bar) => [bar.task.id, bar.task.title]));
  return el(
    "table",
    { class: "w-sr-only" },
    el("caption", {}, `Tasks of ${name}`),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        ["Task", "Start", "End", "Progress", "Depends on"].map((column) => el("th", { scope: "col" }, column)),
      ),
    ),
    el(
      "tbody",
      {},
      shown.map((bar) =>
        el(
          "tr",
          {},
          el("th", { scope: "row" }, bar.task.title),
          el("td", {}, dayText(bar.start)),
          el("td", {}, dayText(bar.end)),
          el("td", {}, `${numberText(bar.progress)} %`),
          el(
            "td",
            {},
            (Array.isArray(bar.task.dependencies) ? bar.task.dependencies : [])
              .map((id) => titles.get(id) ?? id)
              .join(", ") || "—",
          ),
        ),
      ),
    ),
  );
}
