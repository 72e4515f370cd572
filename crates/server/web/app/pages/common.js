// What the project data pages (projects, tasks, members) share: a list page
// (a table paged by `nextCursor`, an editor form, delete with confirmation)
// and its forms, which show the API's validation errors next to the field
// each error names (the error's JSON Pointer, docs/http-api.md "Errors").
//
// A page describes itself as data (columns, fields, how values become a
// request body); `listPage` does the rest the same way on every page. Forms
// are `novalidate`: the API is the one judge of a value, the browser only
// refuses what it cannot send (a number field holding letters). An edit sends
// only the fields the person changed, so it does not overwrite what someone
// else changed meanwhile in the other fields. Lists re-read when the dashboard
// state changes (the gateway rewrites it when project data changes), when the
// tab becomes visible again, and after every save: cheap, one request a page.
// Text from the API goes into the DOM as text only (app/dom.js `el`).

import { ApiError } from "../api.js";
import { el, clear } from "../dom.js";

let uniqueCounter = 0;

/** A document-unique id with a readable prefix. */
export function uniqueId(prefix) {
  uniqueCounter += 1;
  return `${prefix}-${uniqueCounter}`;
}

/** `YYYY-MM-DD` (UTC) of an RFC 3339 date-time, for `<input type="date">`; "" when absent. */
export function toDateInput(value) {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString().slice(0, 10);
}

/** The RFC 3339 date-time (midnight UTC) of a date input's value; `null` when empty. */
export function fromDateInput(value) {
  return value ? `${value}T00:00:00Z` : null;
}

/** Every item of a list route, following `nextCursor` (at most `maxPages` pages of 200). */
export async function loadAll(api, path, maxPages = 5) {
  const items = [];
  let cursor = "";
  for (let page = 0; page < maxPages; page += 1) {
    const separator = path.includes("?") ? "&" : "?";
    const body = await api(`${path}${separator}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...(body?.items ?? []));
    cursor = body?.nextCursor;
    if (!cursor) break;
  }
  return items;
}

/** A sentence for a failed call that names no field: what happened and what to do. */
export function describeError(error) {
  if (!(error instanceof ApiError)) return `Something went wrong: ${error?.message ?? error}`;
  switch (error.status) {
    case 0:
      return "The server could not be reached; nothing was saved. Try again.";
    case 403:
      return `Your role may not do this (${error.message}).`;
    case 404:
      return "This record no longer exists: it was deleted elsewhere. The list was reloaded.";
    case 409:
      return `This record was changed elsewhere (${error.message}). The list was reloaded; check it and try again.`;
    case 429:
      return "Too many requests; wait a moment and try again.";
    case 503:
      return "The server's database is unavailable; nothing was saved. Try again shortly.";
    default:
      return error.message;
  }
}

/**
 * A form described as data. `fields`: `[{name, label, type, required, options,
 * hint, pointer, min, max, step}]` with `type` one of text (default), textarea,
 * date, number, select, multiselect, checkbox; `options` `[{value, label}]`;
 * `pointer` the JSON Pointer the API uses for it (default `/<name>`).
 * `onSubmit(values)` saves (rejecting with an `ApiError` to show it);
 * returns `{element, values(), input(name), setOptions(name, options, selected), showError(error), focusFirst()}`.
 */
export function createForm({ title, fields, values = {}, submitLabel, onSubmit, onCancel }) {
  const formId = uniqueId("form");
  const controls = new Map();
  const message = el("p", { class: "form-message", role: "alert", id: `${formId}-message`, hidden: true });
  const submit = el("button", { type: "submit", class: "primary" }, submitLabel);
  const headingId = `${formId}-title`;
  const form = el(
    "form",
    { class: "record-form", novalidate: true, "aria-labelledby": headingId, dataset: { role: "record-form" } },
    el("h2", { id: headingId }, title),
    el("p", { class: "form-note" }, "Fields marked ", el("span", { class: "required-mark" }, "*"), " are required."),
    fields.map((field) => {
      const control = buildField(formId, field, values[field.name]);
      controls.set(field.name, control);
      return control.wrapper;
    }),
    message,
    el(
      "div",
      { class: "form-actions" },
      submit,
      el("button", { type: "button", onclick: () => onCancel?.() }, "Cancel"),
    ),
  );
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") onCancel?.();
  });

  const readValues = () => Object.fromEntries([...controls].map(([name, control]) => [name, control.read()]));
  const clearErrors = () => {
    for (const control of controls.values()) control.setError([]);
    message.hidden = true;
    message.textContent = "";
  };
  const showMessage = (text) => {
    message.textContent = text;
    message.hidden = false;
  };
  const showError = (error) => {
    clearErrors();
    const details = error instanceof ApiError ? error.details : [];
    const claimed = new Set();
    let firstInvalid = null;
    for (const control of controls.values()) {
      const matching = details.filter(
        (d) => d?.path === control.pointer || String(d?.path).startsWith(control.pointer + "/"),
      );
      if (matching.length === 0) continue;
      matching.forEach((detail) => claimed.add(detail));
      control.setError(matching.map((detail) => String(detail.message ?? "")));
      firstInvalid ??= control.input;
    }
    const unclaimed = details.filter((detail) => !claimed.has(detail));
    if (unclaimed.length > 0) {
      showMessage(unclaimed.map((detail) => `${detail.path || "The request"}: ${detail.message}`).join("; "));
    } else if (firstInvalid) {
      showMessage("Nothing was saved: correct the marked fields.");
    } else {
      showMessage(describeError(error));
    }
    (firstInvalid ?? submit).focus();
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;
    clearErrors();
    const local = [...controls.values()].flatMap((control) => control.check());
    if (local.length > 0) {
      showError(new ApiError(422, "validation_failed", "validation failed", local));
      return;
    }
    form.setAttribute("aria-busy", "true");
    submit.disabled = true;
    submit.textContent = "Saving…";
    try {
      await onSubmit(readValues());
    } catch (error) {
      if (form.isConnected) showError(error);
    } finally {
      form.removeAttribute("aria-busy");
      submit.disabled = false;
      submit.textContent = submitLabel;
    }
  });

  return {
    element: form,
    values: readValues,
    input: (name) => controls.get(name)?.input,
    setOptions: (name, options, selected) => controls.get(name)?.setOptions(options, selected),
    showError,
    showMessage,
    focusFirst: () => [...controls.values()][0]?.input.focus(),
  };
}

function buildField(formId, field, value) {
  const type = field.type ?? "text";
  const id = `${formId}-${field.name}`;
  const errorId = `${id}-error`;
  const hintId = field.hint ? `${id}-hint` : null;
  const pointer = field.pointer ?? `/${field.name}`;
  const common = { id, name: field.name, required: field.required, "aria-required": field.required ? "true" : null };
  let input;
  if (type === "textarea") {
    input = el("textarea", { ...common, rows: "3" });
    input.value = value ?? "";
  } else if (type === "select" || type === "multiselect") {
    input = el("select", { ...common, multiple: type === "multiselect", size: type === "multiselect" ? "5" : null });
  } else if (type === "checkbox") {
    input = el("input", { ...common, type: "checkbox" });
    input.checked = Boolean(value);
  } else {
    input = el("input", { ...common, type, min: field.min, max: field.max, step: field.step, autocomplete: "off" });
    input.value = value ?? "";
  }
  const setOptions = (options, selected) => {
    const chosen = new Set(
      (Array.isArray(selected) ? selected : [selected]).filter((v) => v !== null && v !== undefined).map(String),
    );
    input.replaceChildren(
      ...options.map((option) => {
        const node = el("option", { value: option.value }, option.label);
        node.selected = chosen.has(String(option.value));
        return node;
      }),
    );
  };
  if (input.tagName === "SELECT") setOptions(field.options ?? [], value);
  const error = el("p", { class: "field-error", id: errorId, hidden: true });
  const label = el(
    "label",
    { for: id },
    field.label,
    field.required ? el("span", { class: "required-mark", "aria-hidden": "true" }, " *") : null,
  );
  const describe = (hasError) => {
    const ids = [hintId, hasError ? errorId : null].filter(Boolean).join(" ");
    if (ids) input.setAttribute("aria-describedby", ids);
    else input.removeAttribute("aria-describedby");
  };
  describe(false);
  const wrapper = el(
    "div",
    { class: ["field", `field-${type}`], dataset: { field: field.name } },
    type === "checkbox" ? [input, label] : [label, input],
    hintId ? el("p", { class: "field-hint", id: hintId }, field.hint) : null,
    error,
  );
  return {
    input,
    pointer,
    wrapper,
    setOptions,
    read: () => {
      if (type === "checkbox") return input.checked;
      if (type === "multiselect") return [...input.selectedOptions].map((option) => option.value);
      if (type === "number") return input.value === "" ? null : Number(input.value);
      return input.value;
    },
    // What the browser knows and the API cannot be told: a number field holding letters
    // sends "" (it would clear the value), and a required number left empty.
    check: () => {
      if (type !== "number") return [];
      if (input.validity.badInput) return [{ path: pointer, message: "must be a number" }];
      if (field.required && input.value === "") return [{ path: pointer, message: "is required" }];
      return [];
    },
    setError: (messages) => {
      const invalid = messages.length > 0;
      error.textContent = messages.join("; ");
      error.hidden = !invalid;
      if (invalid) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
      describe(invalid);
    },
  };
}

/**
 * `ctx.onStateChange(listener)` without the call the shell makes at once when a
 * state is already there: the caller has just loaded, so only later changes count.
 */
export function subscribeToChanges(ctx, listener) {
  let subscribing = true;
  const unsubscribe = ctx.onStateChange?.(() => {
    if (!subscribing) listener();
  });
  subscribing = false;
  return typeof unsubscribe === "function" ? unsubscribe : () => {};
}

/**
 * Re-runs `reload()` when the data may have changed elsewhere: after a
 * dashboard state change (debounced), and when the tab becomes visible or
 * focused again (at most every 5 s). Returns the function that stops it.
 */
export function watchChanges(ctx, reload, delayMs = 400) {
  let timer = null;
  let lastRun = 0;
  let stale = false;
  const run = () => {
    if (document.visibilityState === "hidden") {
      stale = true;
      return;
    }
    stale = false;
    lastRun = Date.now();
    reload();
  };
  const onStateChange = () => {
    clearTimeout(timer);
    timer = setTimeout(run, delayMs);
  };
  const onVisible = () => {
    if (document.visibilityState === "visible" && (stale || Date.now() - lastRun > 5000)) run();
  };
  const unsubscribe = subscribeToChanges(ctx, onStateChange);
  document.addEventListener("visibilitychange", onVisible);
  window.addEventListener("focus", onVisible);
  return () => {
    clearTimeout(timer);
    unsubscribe();
    document.removeEventListener("visibilitychange", onVisible);
    window.removeEventListener("focus", onVisible);
  };
}

/**
 * A list page: heading, optional filters, an editor, a table paged by
 * `nextCursor`, row actions. `spec`:
 * - `title`, `noun` ("project"), `endpoint` ("/api/projects"), `listPath()` (with filters);
 * - `columns: [{label, cell(item) → Node|string}]`, `itemName(item)`;
 * - `fields(item|null) → field specs` (async allowed), `formValues(item|null) → values`,
 *   `toBody(values) → request body` with the field names as keys;
 * - `canCreate`, `canDelete`, `filters` (a Node), `prepare()` (async, before each load),
 *   `onFormReady(form, item)`, `onItems(items)` (before each render), `emptyText`.
 * Returns `{reload(), openEditor(item|null), unmount()}`.
 */
export function listPage(container, ctx, spec) {
  const headingId = uniqueId("page-title");
  const heading = el("h1", { id: headingId, tabindex: "-1" }, spec.title);
  const newButton = spec.canCreate
    ? el(
        "button",
        { type: "button", class: "primary", dataset: { action: "create" }, onclick: () => openEditor(null) },
        `New ${spec.noun}`,
      )
    : null;
  const editor = el("div", { class: "page-editor" });
  const status = el("p", { class: "page-status", role: "status" });
  const body = el("tbody");
  const table = el(
    "table",
    { class: "data-table" },
    el("caption", { class: "visually-hidden" }, spec.title),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        spec.columns.map((column) => el("th", { scope: "col" }, column.label)),
        el("th", { scope: "col" }, "Actions"),
      ),
    ),
    body,
  );
  const more = el(
    "button",
    { type: "button", hidden: true, dataset: { action: "load-more" }, onclick: () => load(true) },
    "Load more",
  );
  const section = el(
    "section",
    { class: "data-page", "aria-labelledby": headingId, dataset: { page: spec.noun } },
    el("div", { class: "page-header" }, heading, newButton),
    spec.filters ?? null,
    editor,
    status,
    el("div", { class: "table-scroll" }, table),
    more,
  );
  container.append(section);

  let items = [];
  let cursor = null;
  let pagesShown = 1;
  let generation = 0;
  let editing = undefined; // undefined: no editor; null: creating; an item: editing it
  let alive = true;

  async function load(append = false) {
    const run = ++generation;
    status.textContent = items.length ? status.textContent : "Loading…";
    try {
      if (!append) await spec.prepare?.();
      let loaded = append ? items : [];
      let next = append ? cursor : "";
      const pages = append ? 1 : pagesShown;
      for (let page = 0; page < pages; page += 1) {
        const path = spec.listPath();
        const separator = path.includes("?") ? "&" : "?";
        const answer = await ctx.api(`${path}${next ? `${separator}cursor=${encodeURIComponent(next)}` : ""}`);
        loaded = loaded.concat(answer?.items ?? []);
        next = answer?.nextCursor ?? null;
        if (!next) break;
      }
      if (run !== generation || !alive) return;
      if (append) pagesShown += 1;
      items = loaded;
      cursor = next;
      spec.onItems?.(items);
      render();
    } catch (error) {
      if (run !== generation || !alive) return;
      status.textContent = `The list could not be loaded: ${describeError(error)}`;
    }
  }

  function render() {
    clear(body);
    for (const item of items) {
      const name = spec.itemName(item);
      const actions = el("td", { class: "row-actions" });
      // `replaceChildren` would write a `null` (no delete button) as the text "null": filter it out.
      const showActions = () =>
        actions.replaceChildren(
          ...[
            el(
              "button",
              {
                type: "button",
                dataset: { action: "edit" },
                "aria-label": `Edit ${name}`,
                onclick: () => openEditor(item),
              },
              "Edit",
            ),
            spec.canDelete
              ? el(
                  "button",
                  {
                    type: "button",
                    class: "danger",
                    dataset: { action: "delete" },
                    "aria-label": `Delete ${name}`,
                    onclick: () => confirmDelete(),
                  },
                  "Delete",
                )
              : null,
          ].filter(Boolean),
        );
      const confirmDelete = () => {
        const yes = el(
          "button",
          { type: "button", class: "danger", dataset: { action: "confirm-delete" }, onclick: () => remove(item, yes) },
          "Yes, delete",
        );
        actions.replaceChildren(
          el("span", { class: "confirm-text" }, `Delete “${name}”?`),
          yes,
          el(
            "button",
            {
              type: "button",
              dataset: { action: "cancel-delete" },
              onclick: () => {
                showActions();
                actions.querySelector("button")?.focus();
              },
            },
            "Cancel",
          ),
        );
        yes.focus();
      };
      showActions();
      body.append(
        el(
          "tr",
          { dataset: { id: item.id } },
          spec.columns.map((column) => el("td", {}, column.cell(item))),
          actions,
        ),
      );
    }
    more.hidden = !cursor;
    // A live region: only a different text is announced again.
    const text = items.length
      ? `${items.length} ${spec.noun}${items.length === 1 ? "" : "s"} shown${cursor ? " (more available)" : ""}.`
      : (spec.emptyText ?? `No ${spec.noun}s yet.`);
    if (status.textContent !== text) status.textContent = text;
  }

  async function remove(item, button) {
    button.disabled = true;
    try {
      await ctx.api(`${spec.endpoint}/${item.id}`, { method: "DELETE" });
      ctx.notify(`Deleted “${spec.itemName(item)}”.`, "success");
      if (editing && editing.id === item.id) closeEditor();
    } catch (error) {
      ctx.notify(
        error instanceof ApiError && error.status === 404
          ? `“${spec.itemName(item)}” was already deleted elsewhere.`
          : `Not deleted: ${describeError(error)}`,
        error?.status === 404 ? "info" : "error",
      );
    }
    await load();
    heading.focus();
  }

  async function openEditor(item) {
    editing = item;
    let fields;
    try {
      fields = await spec.fields(item);
    } catch (error) {
      ctx.notify(`The form could not be opened: ${describeError(error)}`, "error");
      return;
    }
    if (!alive || editing !== item) return;
    const name = item ? spec.itemName(item) : null;
    const initial = spec.formValues(item);
    const form = createForm({
      title: item ? `Edit “${name}”` : `New ${spec.noun}`,
      fields,
      values: initial,
      submitLabel: item ? "Save changes" : `Create ${spec.noun}`,
      onCancel: closeEditor,
      onSubmit: async (values) => {
        const full = spec.toBody(values);
        const changed = item
          ? Object.fromEntries(
              Object.entries(full).filter(([key]) => JSON.stringify(values[key]) !== JSON.stringify(initial[key])),
            )
          : full;
        if (item && Object.keys(changed).length === 0) {
          ctx.notify("Nothing changed.", "info");
          closeEditor();
          return;
        }
        try {
          const saved = await ctx.api(item ? `${spec.endpoint}/${item.id}` : spec.endpoint, {
            method: item ? "PATCH" : "POST",
            body: changed,
          });
          ctx.notify(
            item ? `Saved “${spec.itemName(saved ?? item)}”.` : `Created “${spec.itemName(saved ?? { ...full })}”.`,
            "success",
          );
          closeEditor();
          await load();
        } catch (error) {
          // A record deleted or changed elsewhere: say so and show the list as it is now.
          if (error instanceof ApiError && (error.status === 404 || (error.status === 409 && !error.details.length))) {
            load();
            if (error.status === 404) {
              ctx.notify(describeError(error), "error");
              closeEditor();
              return;
            }
          }
          throw error;
        }
      },
    });
    editor.replaceChildren(form.element);
    spec.onFormReady?.(form, item);
    form.focusFirst();
  }

  function closeEditor() {
    editing = undefined;
    clear(editor);
    heading.focus();
  }

  const stopWatching = watchChanges(ctx, () => load());
  load();
  return {
    reload: () => load(),
    openEditor,
    unmount: () => {
      alive = false;
      stopWatching();
      section.remove();
    },
  };
}
