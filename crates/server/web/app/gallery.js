// The widget gallery (/assets/gallery.html): every widget type of the catalog
// in each of its states — normal, empty (where the type has one), error (its
// payload broken, so the validation Error card shows) and loading — drawn
// from the fixed fixtures in widgets/fixtures.js with a fixed "now". The
// visual regression test screenshots each `[data-gallery-item]` in the light
// and the dark theme (`?theme=light|dark`); people use it to see every widget
// at once without signing in (the schema endpoint is public).
//
// `window.gallery` lets the browser tests reach the widget modules of this page:
// `{ready, widgets, fixtures, now, mount(widget, ctx) → card, isolate(name)}`.
// `isolate(name)` shows that one item alone at the page's top left, so its
// screenshot does not depend on the items above it (a card that grows by a
// fraction of a pixel would otherwise shift, and re-antialias, every later one).

import * as widgets from "./widgets/index.js";
import { FIXTURES, FIXTURE_NOW, loadingFixture } from "./widgets/fixtures.js";
import { el } from "./dom.js";

const theme = new URLSearchParams(location.search).get("theme");
document.documentElement.dataset.theme = theme === "dark" ? "dark" : "light";

const now = () => new Date(FIXTURE_NOW);

/** A retry that fails after a moment, so the Error card's Retry button can be tried here. */
const failingRetry = () => new Promise((_, reject) => setTimeout(() => reject(new Error("still failing")), 400));

function item(name, label, widget, ctx) {
  const card = widgets.renderWidgetCard(widget, { id: widget.id ?? name, now, ...ctx });
  return el(
    "figure",
    { class: "gallery__figure" },
    el("figcaption", {}, label),
    el("div", { class: ["gallery__item", `gallery__item--${widget.type}`], dataset: { galleryItem: name } }, card),
  );
}

function items() {
  const figures = [];
  for (const type of widgets.WIDGET_TYPES) {
    const fixtures = FIXTURES[type];
    const extra = type === "Error" ? { retry: failingRetry, retryState: { count: 0, running: false } } : {};
    const moves =
      type === "KanbanBoard" ? { moveCard: () => Promise.reject(new Error("the gallery does not save moves")) } : {};
    figures.push(item(`${type}-normal`, `${type} — normal`, fixtures.normal, { ...extra, ...moves }));
    if (fixtures.empty) figures.push(item(`${type}-empty`, `${type} — empty`, fixtures.empty, {}));
    figures.push(item(`${type}-error`, `${type} — error (payload fails the schema)`, fixtures.broken, {}));
    if (type !== "Loading" && type !== "Error") {
      figures.push(item(`${type}-loading`, `${type} — loading`, loadingFixture(type), {}));
    }
  }
  return figures;
}

async function start() {
  const main = document.getElementById("gallery");
  try {
    await widgets.loadWidgetSchema();
  } catch (error) {
    main.append(el("p", { class: "w-empty" }, `The widget schema could not be loaded: ${error?.message ?? error}`));
    throw error;
  } finally {
    main.removeAttribute("aria-busy");
  }
  main.append(...items());
  // Charts draw again at their laid-out width on the next frame (chart.js, responsiveChart): wait for it.
  for (let frame = 0; frame < 3; frame += 1) await new Promise((resolve) => requestAnimationFrame(resolve));
}

const ready = start();
window.gallery = {
  ready,
  widgets,
  fixtures: FIXTURES,
  now,
  /** Renders `widget` with `ctx` (plus the fixed `now`) into a test area of the page and returns the card. */
  mount(widget, ctx = {}) {
    let area = document.getElementById("gallery-test-area");
    if (!area) {
      area = el("section", { id: "gallery-test-area", class: "gallery__test", "aria-label": "Test area" });
      document.body.append(area);
    }
    const card = widgets.renderWidgetCard(widget, { now, ...ctx });
    area.append(card);
    return card;
  },
  /** Shows only the item `name` (`null`: every item again). */
  isolate(name) {
    document.body.classList.toggle("gallery--isolated", name !== null);
    for (const item of document.querySelectorAll("[data-gallery-item]")) {
      item.closest(".gallery__figure")?.classList.toggle("gallery__figure--shown", item.dataset.galleryItem === name);
    }
  },
};
