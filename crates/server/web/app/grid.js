// The dashboard grid: the state's `layout` as a row of cells, one per widget,
// each holding the widget's card and the controls that edit the layout.
//
// Rendering is keyed and incremental. The sync client hands over a new state
// object for every change (it applies patches to a copy), so widgets are
// compared by their JSON: a cell whose widget did not change keeps its card
// (and its focus, its scroll position, a half-typed Kanban move), a changed one
// gets a freshly built card, a reordered one is moved, not rebuilt, and a cell
// whose id left the layout is removed. So the DOM holds one cell per layout
// entry and nothing else, however long the page stays open, and
// `window.agentdeck.renders[id]` counts how often each card was built.
//
// Every layout edit is ONE JSON Patch through the sync client: a reorder (the
// arrow buttons, or dragging a cell's handle onto another cell) replaces `/layout`, a resize adds `/widgetSizes/<id>`, a removal removes
// `/widgets/<id>` and replaces `/layout`. Each carries a `test` of what it was
// computed from (the layout, or the widget's presence), so an edit made in
// another tab at the same time is refused (`reject`) instead of being silently
// undone; the page then says so and shows the state as the server has it.

import { el } from "./dom.js";
import { renderWidgetCard } from "./widgets/index.js";

/** The widest a widget can be, in grid columns. */
export const MAX_COLUMNS = 3;
/** The tallest a widget can be, in grid rows. */
export const MAX_ROWS = 2;

const TASK_STATUSES = new Set(["todo", "in_progress", "blocked", "done"]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const hasOwn = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

/** `id` as one JSON Pointer token (RFC 6901). */
export function pointerToken(id) {
  return String(id).replace(/~/g, "~0").replace(/\//g, "~1");
}

/** A widget's name for people: its title, else its type. */
export function widgetLabel(widget) {
  const title = typeof widget?.title === "string" && widget.title.trim() ? widget.title.trim() : null;
  return title ?? `${widget?.type ?? "Unknown"} widget`;
}

/** `{columns, rows}` of a stored size entry, clamped to what the grid offers. */
function sizeOf(entry) {
  const clamp = (value, max) => (Number.isInteger(value) && value >= 1 ? Math.min(value, max) : 1);
  return { columns: clamp(entry?.columns, MAX_COLUMNS), rows: clamp(entry?.rows, MAX_ROWS) };
}

/**
 * Creates the grid inside `host`.
 * `deps`: `sync` (the sync client), `api`, `hooks` (`window.agentdeck`: renders
 * counters), `notify(text, kind)`, `now()`, `navigate(hash)`.
 * Returns `{ render(state, {force}), focusFirst(), destroy() }`.
 */
export function createGrid(host, { sync, api, hooks, notify, now, navigate }) {
  const loading = el("p", { class: "grid-loading", role: "status" }, "Loading the dashboard…");
  const empty = el(
    "div",
    { class: "grid-empty", hidden: true },
    el("h2", {}, "Nothing on your dashboard yet"),
    el(
      "p",
      {},
      "Ask a question above, or pick one of the quick questions: the answer's widgets appear here, " +
        "in every tab you have open, and stay up to date by themselves.",
    ),
  );
  const list = el("ol", { class: "grid", "aria-label": "Widgets", hidden: true });
  host.replaceChildren(loading, empty, list);

  /** id → {node, slot, controls, json, size} */
  const cells = new Map();
  /** id → {count, running}: survives card rebuilds (the Error card's retry counter). */
  const retryStates = new Map();
  let current = null;
  let focusAfterRender = null;
  let dragging = null; // the id whose handle is being dragged

  function retryStateFor(id) {
    let state = retryStates.get(id);
    if (!state) {
      state = { count: 0, running: false };
      retryStates.set(id, state);
    }
    return state;
  }

  /** Resolves once the sync client holds a version other than `before`, or after `ms`. */
  function nextVersion(before, ms) {
    return new Promise((resolve) => {
      if (sync.version !== before) return resolve();
      const timer = setTimeout(done, ms);
      const unsubscribe = sync.subscribe(() => {
        if (sync.version !== before) done();
      });
      function done() {
        clearTimeout(timer);
        unsubscribe();
        resolve();
      }
    });
  }

  /** Re-issues the request behind an Error widget; rejects while the widget stays an Error. */
  async function retry(id, source) {
    const before = sync.version;
    await api("/api/ask", { method: "POST", body: source });
    // The answer is committed before the response; its delta may still be on the way.
    await nextVersion(before, 3000);
    const widget = sync.state?.widgets?.[id];
    if (widget && widget.type === "Error") throw new Error(String(widget.data?.message ?? "the request failed again"));
  }

  async function moveCard(cardId, toColumnId) {
    if (!UUID.test(String(cardId)) || !TASK_STATUSES.has(toColumnId)) {
      throw new Error("only task cards can move between the status columns");
    }
    try {
      return await api(`/api/tasks/${encodeURIComponent(cardId)}`, { method: "PATCH", body: { status: toColumnId } });
    } catch (error) {
      notify(`The task could not be moved: ${error.message}`, "error");
      throw error;
    }
  }

  function contextFor(id, widget) {
    const ctx = {
      id,
      now,
      retryState: retryStateFor(id),
      retry: undefined,
      moveCard,
      // A project's own view is its task list (the tasks page filtered to it).
      openProject: (projectId) => navigate(`#/tasks?projectId=${encodeURIComponent(projectId)}`),
    };
    const source = widget?.source;
    if (widget?.type === "Error" && widget.data?.retryable === true && source && typeof source === "object") {
      ctx.retry = () => retry(id, source);
    }
    return ctx;
  }

  function buildCard(cell, id, widget) {
    const card = renderWidgetCard(widget, contextFor(id, widget));
    cell.slot.replaceChildren(card);
    hooks.renders[id] = (hooks.renders[id] ?? 0) + 1;
    hooks.renderTotal += 1;
  }

  function control(action, text, onclick) {
    return el("button", { type: "button", class: "cell-control", dataset: { action }, onclick }, text);
  }

  function createCell(id) {
    const slot = el("div", { class: "cell-card" });
    const controls = {
      up: control("move-up", "↑", () => move(id, -1)),
      down: control("move-down", "↓", () => move(id, +1)),
      resize: control("resize", "⇔", () => resize(id, "columns")),
      rows: control("resize-rows", "⇕", () => resize(id, "rows")),
      remove: control("remove", "✕", () => remove(id)),
    };
    // Mouse users may also drag the handle onto another cell (it takes that cell's place);
    // the arrow buttons do the same by keyboard, so the handle is hidden from assistive technology.
    const handle = el(
      "span",
      {
        class: "cell-drag",
        draggable: "true",
        "aria-hidden": "true",
        title: "Drag onto another widget to move it there",
      },
      "⠿",
    );
    const group = el("div", { class: "cell-controls", role: "group" }, handle, Object.values(controls));
    const node = el("li", { class: "cell", dataset: { cellId: id } }, slot, group);
    handle.addEventListener("dragstart", (event) => {
      dragging = id;
      event.dataTransfer?.setData("text/plain", id);
      if (event.dataTransfer) event.dataTransfer.effectAllowed = "move";
      event.dataTransfer?.setDragImage(node, 24, 24);
      node.classList.add("is-dragging");
    });
    handle.addEventListener("dragend", () => {
      dragging = null;
      node.classList.remove("is-dragging");
      for (const cell of cells.values()) cell.node.classList.remove("is-drop-target");
    });
    node.addEventListener("dragover", (event) => {
      if (!dragging || dragging === id) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = "move";
      node.classList.add("is-drop-target");
    });
    node.addEventListener("dragleave", () => node.classList.remove("is-drop-target"));
    node.addEventListener("drop", (event) => {
      node.classList.remove("is-drop-target");
      if (!dragging || dragging === id) return;
      event.preventDefault();
      moveOnto(dragging, id);
    });
    return { node, slot, group, controls, json: null, size: null, label: null };
  }

  function updateControls(cell, index, count, widget, size) {
    const name = widgetLabel(widget);
    const { up, down, resize: widen, rows, remove: drop } = cell.controls;
    const key = `${name}|${index === 0}|${index === count - 1}|${size.columns}|${size.rows}`;
    if (cell.label === key) return;
    cell.label = key;
    cell.group.setAttribute("aria-label", `Layout of ${name}`);
    up.setAttribute("aria-label", `Move ${name} up`);
    down.setAttribute("aria-label", `Move ${name} down`);
    widen.setAttribute("aria-label", `Resize ${name}: ${size.columns} of ${MAX_COLUMNS} columns wide`);
    rows.setAttribute("aria-label", `Resize ${name}: ${size.rows} of ${MAX_ROWS} rows tall`);
    drop.setAttribute("aria-label", `Remove ${name} from the dashboard`);
    for (const button of [up, down, widen, rows, drop]) button.title = button.getAttribute("aria-label");
    up.disabled = index === 0;
    down.disabled = index === count - 1;
  }

  function applySize(cell, size) {
    const key = `${size.columns}x${size.rows}`;
    if (cell.size === key) return;
    cell.size = key;
    cell.node.classList.remove("cols-2", "cols-3", "rows-2");
    if (size.columns > 1) cell.node.classList.add(`cols-${size.columns}`);
    if (size.rows > 1) cell.node.classList.add(`rows-${size.rows}`);
  }

  /** Renders `state` (the sync client's); `force` rebuilds every card (e.g. after `setNow`). */
  function render(state, { force = false } = {}) {
    current = state;
    if (!state) {
      loading.hidden = false;
      list.hidden = true;
      empty.hidden = true;
      return;
    }
    loading.hidden = true;
    const widgets = state.widgets && typeof state.widgets === "object" ? state.widgets : {};
    const sizes = state.widgetSizes && typeof state.widgetSizes === "object" ? state.widgetSizes : {};
    const ids = [];
    const seen = new Set();
    for (const id of Array.isArray(state.layout) ? state.layout : []) {
      if (typeof id === "string" && hasOwn(widgets, id) && !seen.has(id)) {
        seen.add(id);
        ids.push(id);
      }
    }
    const focused = document.activeElement;
    for (const [id, cell] of cells) {
      if (seen.has(id)) continue;
      cell.node.remove();
      cells.delete(id);
      retryStates.delete(id);
      delete hooks.renders[id];
    }
    ids.forEach((id, index) => {
      const widget = widgets[id];
      const json = JSON.stringify(widget);
      let cell = cells.get(id);
      if (!cell) {
        cell = createCell(id);
        cells.set(id, cell);
      }
      if (force || cell.json !== json) {
        buildCard(cell, id, widget);
        cell.json = json;
      }
      const size = sizeOf(hasOwn(sizes, id) ? sizes[id] : null);
      applySize(cell, size);
      updateControls(cell, index, ids.length, widget, size);
      const at = list.children[index];
      if (at !== cell.node) list.insertBefore(cell.node, at ?? null);
    });
    list.hidden = ids.length === 0;
    empty.hidden = ids.length !== 0;
    // Moving a node drops its focus; give it back (or place it where the edit asked).
    if (focusAfterRender) {
      const target = focusAfterRender();
      if (target) {
        focusAfterRender = null;
        target.focus();
      }
    } else if (focused && focused !== document.activeElement && focused.isConnected && list.contains(focused)) {
      focused.focus();
    }
  }

  async function commit(ops, what) {
    try {
      await sync.patch(ops);
    } catch (error) {
      focusAfterRender = null;
      const code = error?.frame?.code;
      // `detail` is JSON: the server sends `{message}` (a schema refusal names the failing path there).
      const detail = error?.frame?.detail;
      const detailText = typeof detail === "string" ? detail : typeof detail?.message === "string" ? detail.message : "";
      const why =
        code === "test_failed" || code === "conflict"
          ? "the dashboard changed in the meantime (another tab or device)"
          : code
            ? `the server refused it (${code}${detailText ? `: ${detailText}` : ""})`
            : (error?.message ?? "unknown error");
      notify(`Could not ${what}: ${why}. The dashboard shows the saved layout.`, "error");
      render(sync.state ?? current, { force: false });
    }
  }

  function move(id, delta) {
    const layout = Array.isArray(current?.layout) ? current.layout : [];
    const from = layout.indexOf(id);
    const to = from + delta;
    if (from < 0 || to < 0 || to >= layout.length) return;
    const next = layout.slice();
    [next[from], next[to]] = [next[to], next[from]];
    focusAfterRender = () => {
      const cell = cells.get(id);
      if (!cell) return null;
      const preferred = delta < 0 ? cell.controls.up : cell.controls.down;
      return preferred.disabled ? (delta < 0 ? cell.controls.down : cell.controls.up) : preferred;
    };
    commit(
      [
        { op: "test", path: "/layout", value: layout },
        { op: "replace", path: "/layout", value: next },
      ],
      `move ${widgetLabel(current?.widgets?.[id])}`,
    );
  }

  /** Drag and drop: `id` takes the place of `targetId` (the ones between shift by one). */
  function moveOnto(id, targetId) {
    const layout = Array.isArray(current?.layout) ? current.layout : [];
    const from = layout.indexOf(id);
    const to = layout.indexOf(targetId);
    if (from < 0 || to < 0 || from === to) return;
    const next = layout.filter((entry) => entry !== id);
    next.splice(to, 0, id);
    commit(
      [
        { op: "test", path: "/layout", value: layout },
        { op: "replace", path: "/layout", value: next },
      ],
      `move ${widgetLabel(current?.widgets?.[id])}`,
    );
  }

  function resize(id, dimension) {
    const sizes = current?.widgetSizes && typeof current.widgetSizes === "object" ? current.widgetSizes : null;
    const size = sizeOf(sizes && hasOwn(sizes, id) ? sizes[id] : null);
    const max = dimension === "columns" ? MAX_COLUMNS : MAX_ROWS;
    const next = { ...size, [dimension]: (size[dimension] % max) + 1 };
    const token = pointerToken(id);
    focusAfterRender = () => cells.get(id)?.controls[dimension === "columns" ? "resize" : "rows"] ?? null;
    commit(
      [
        // The widget must still be there: a size for a removed widget would be refused anyway.
        { op: "test", path: `/widgets/${token}/id`, value: id },
        sizes
          ? { op: "add", path: `/widgetSizes/${token}`, value: next }
          : { op: "add", path: "/widgetSizes", value: { [id]: next } },
      ],
      `resize ${widgetLabel(current?.widgets?.[id])}`,
    );
  }

  function remove(id) {
    const layout = Array.isArray(current?.layout) ? current.layout : [];
    const index = layout.indexOf(id);
    const next = layout.filter((entry) => entry !== id);
    const neighbour = next[Math.min(index, next.length - 1)];
    focusAfterRender = () => {
      if (cells.has(id)) return null; // not removed yet
      const cell = neighbour ? cells.get(neighbour) : null;
      return cell ? cell.controls.remove : document.getElementById("dashboard-heading");
    };
    commit(
      [
        { op: "test", path: "/layout", value: layout },
        { op: "remove", path: `/widgets/${pointerToken(id)}` },
        { op: "replace", path: "/layout", value: next },
      ],
      `remove ${widgetLabel(current?.widgets?.[id])}`,
    );
  }

  return {
    render,
    /** The number of cells on screen (one per layout entry with a widget). */
    get size() {
      return cells.size;
    },
    destroy() {
      cells.clear();
      retryStates.clear();
      host.replaceChildren();
    },
  };
}
