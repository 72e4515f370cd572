// TeamActivity: who did what, and when — relative to now ("3 hours ago") with
// the absolute time beside it, so the feed reads right in a screenshot and in
// a tab left open overnight.

import { el } from "../dom.js";
import { MAX_ROWS, dateTimeText, emptyState, moreNote, nowOf, relativeText, timeElement, timeOf } from "./common.js";

/** The heading when the widget has no title. */
export function defaultTitle() {
  return "Team activity";
}

/** The card's body. */
export function render(data, ctx) {
  const activities = Array.isArray(data.activities) ? data.activities : [];
  if (activities.length === 0) return emptyState("No activity yet");
  const now = nowOf(ctx);
  const shown = activities.slice(0, MAX_ROWS);
  return [
    el(
      "ol",
      { class: "w-activity" },
      shown.map((item) => {
        const time = timeOf(item.time);
        return el(
          "li",
          { class: "w-activity__item" },
          el(
            "p",
            { class: "w-activity__what" },
            el("strong", {}, item.user),
            ` ${item.action}`,
            item.target ? [" ", el("span", { class: "w-activity__target" }, item.target)] : null,
          ),
          el(
            "p",
            { class: "w-activity__when" },
            timeElement(time, relativeText(time, now)),
            el("span", { class: "w-muted" }, ` · ${dateTimeText(time)}`),
          ),
        );
      }),
    ),
    moreNote(activities.length - shown.length),
  ];
}
