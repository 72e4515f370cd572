// Loading: stands in for a widget while it is produced. The card is `aria-busy`
// and says in words what is loading; the grey skeleton lines are decoration.

import { el } from "../dom.js";

/** The heading when the widget has no title. */
export function defaultTitle() {
  return "Loading";
}

/** What is loading, in words: "Loading project status…". */
export function loadingText(data) {
  const type = typeof data?.widgetType === "string" ? data.widgetType : "widget";
  // "ProjectStatus" reads as "project status"; a name that is not one word in capitals stays as sent.
  const spoken = /^([A-Z][a-z]+)+$/.test(type) ? type.replace(/(?!^)([A-Z])/g, " $1").toLowerCase() : type;
  return `Loading ${spoken}…`;
}

/** The card's body. */
export function render(data) {
  return [
    el("p", { class: "w-loading__text", role: "status" }, loadingText(data)),
    el(
      "div",
      { class: "w-skeleton", "aria-hidden": "true" },
      el("span", { class: "w-skeleton__line" }),
      el("span", { class: "w-skeleton__line w-skeleton__line--short" }),
      el("span", { class: "w-skeleton__line" }),
    ),
  ];
}
