// Error: a widget that could not be produced (the agent failed, or its payload
// did not match the widget schema). It says what went wrong, lists the failing
// JSON Pointer paths, names the widget type when known, and — when the
// widget is retryable and the page can re-issue the request (`ctx.retry`) —
// offers a Retry button that counts attempts and gives up after three.
//
// The attempt count lives in `ctx.retryState` ({count, running}), which the
// grid keeps per widget id across re-renders: when a retry ends with the
// widget still an Error, the grid builds a new card and that card must show
// "Retry (1/3)", not "Retry" again. Every card showing one state is told when
// an attempt ends, so a card re-rendered mid-attempt stops its spinner too.

import { el } from "../dom.js";

/** Attempts before the button goes away. */
export const MAX_RETRIES = 3;

/** Cards showing each retry state, to update when an attempt ends. */
const cardsByState = new WeakMap();

/** The heading when the widget has no title. */
export function defaultTitle() {
  return "Error";
}

/**
 * The card's body: `data` is the catalog's `{message, widgetType?, retryable}`;
 * `errors` (validation failures) are `[{path, message}]`.
 */
export function render(data, ctx, _widget, errors = []) {
  const canRetry = data.retryable === true && typeof ctx.retry === "function";
  const retry = canRetry ? el("div", { class: "w-retry" }) : null;
  if (retry) {
    const state = ctx.retryState && typeof ctx.retryState === "object" ? ctx.retryState : { count: 0, running: false };
    if (!Number.isInteger(state.count)) state.count = 0;
    bind(state, retry, ctx.retry);
  }
  return [
    el(
      "p",
      { class: "w-error__message" },
      el(
        "span",
        { class: "w-badge w-tone-danger" },
        el("span", { class: "w-badge__icon", "aria-hidden": "true" }, "✕"),
        "Error",
      ),
      " ",
      String(data.message ?? "Something went wrong."),
    ),
    typeof data.widgetType === "string"
      ? el("p", { class: "w-error__type" }, "Widget type: ", el("code", {}, data.widgetType))
      : null,
    errors.length > 0
      ? el(
          "ul",
          { class: "w-error__paths", "aria-label": "Failing paths" },
          errors
            .slice(0, 20)
            .map((error) => el("li", {}, el("code", {}, error.path === "" ? "/" : error.path), ` ${error.message}`)),
          errors.length > 20 ? el("li", {}, `and ${errors.length - 20} more`) : null,
        )
      : null,
    retry,
  ];
}

function bind(state, container, retry) {
  let cards = cardsByState.get(state);
  if (!cards) {
    cards = new Set();
    cardsByState.set(state, cards);
  }
  // Cards the grid has replaced are dropped, so re-renders do not pile up.
  if (cards.size > 8) for (const card of cards) if (!card.container.isConnected) cards.delete(card);
  const card = { container, update: () => show(state, container, () => attempt(state, retry)) };
  cards.add(card);
  card.update();
}

function show(state, container, onRetry) {
  // One button for the card's life, so keyboard focus stays on it through "Retrying…" (it is
  // `aria-disabled`, not `disabled`, while running: a disabled button would drop the focus).
  const hadFocus = container.contains(document.activeElement);
  if (state.count >= MAX_RETRIES && !state.running) {
    const message = el(
      "p",
      { class: "w-retry__exhausted", role: "status", tabindex: "-1" },
      `Maximum retries (${MAX_RETRIES}) exceeded`,
    );
    container.replaceChildren(message);
    if (hadFocus) message.focus();
    return;
  }
  let button = container.querySelector("button");
  if (!button) {
    button = el("button", { type: "button", class: "w-button", dataset: { action: "retry" } });
    button.addEventListener("click", () => {
      if (button.getAttribute("aria-disabled") !== "true") onRetry();
    });
    container.replaceChildren(button);
  }
  if (state.running) {
    button.setAttribute("aria-disabled", "true");
    button.replaceChildren(el("span", { class: "w-spinner", "aria-hidden": "true" }), "Retrying…");
  } else {
    button.removeAttribute("aria-disabled");
    button.replaceChildren(state.count === 0 ? "Retry" : `Retry (${state.count}/${MAX_RETRIES})`);
  }
}

async function attempt(state, retry) {
  if (state.running || state.count >= MAX_RETRIES) return;
  state.running = true;
  notify(state);
  let failed = false;
  try {
    await retry();
  } catch {
    failed = true;
  }
  // A retry also failed when it resolved but the widget is still an Error: an Error card of
  // this state is still on the page (the grid rebuilt it, or left it as it was).
  const cards = cardsByState.get(state);
  if (failed || (cards && [...cards].some((card) => card.container.isConnected))) state.count += 1;
  state.running = false;
  notify(state);
}

function notify(state) {
  const cards = cardsByState.get(state);
  if (!cards) return;
  for (const card of cards) {
    if (card.container.isConnected) card.update();
    else cards.delete(card);
  }
}
