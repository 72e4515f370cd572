// Building DOM without HTML: every string becomes a text node or an attribute
// value, never markup, so nothing in a widget, a project name or an error
// message can run as code (DESIGN §4: strings are data). The page has no
// `innerHTML` anywhere; the Content-Security-Policy refuses inline script too.

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * An element: `el("button", { type: "button", class: "x", onclick: fn }, "text", child)`.
 * Attributes whose name starts with `on` and whose value is a function become
 * listeners; `class` may be an array (falsy entries dropped); `dataset` an object;
 * `null`, `undefined` and `false` values are left out; children may be nested arrays.
 */
export function el(tag, attributes = {}, ...children) {
  return build(document.createElement(tag), attributes, children);
}

/** The same for SVG elements (charts). */
export function svg(tag, attributes = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attributes, children);
}

function build(node, attributes, children) {
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      const names = Array.isArray(value) ? value.filter(Boolean) : String(value).split(/\s+/).filter(Boolean);
      node.classList.add(...names);
    } else if (name === "dataset") {
      for (const [key, data] of Object.entries(value)) {
        if (data !== null && data !== undefined) node.dataset[key] = String(data);
      }
    } else if (name === "text") {
      node.textContent = String(value);
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.append(child);
    else node.append(document.createTextNode(String(child)));
  }
}

/**
 * `href` when it is safe to follow from a link: a relative reference (`/x`,
 * `?q`, `#a`, `page`) or an absolute `https:` URL; `null` for anything else
 * (`javascript:`, `data:`, `http:`, protocol-relative `//host`, control characters).
 */
export function safeHref(href) {
  if (typeof href !== "string" || href.length === 0 || href.length > 2000) return null;
  if (/[\u0000-\u001f\u007f\\\s]/.test(href)) return null;
  if (href.startsWith("//")) return null;
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(href);
  if (!scheme) return href;
  if (scheme[1].toLowerCase() !== "https") return null;
  try {
    return new URL(href).protocol === "https:" ? href : null;
  } catch {
    return null;
  }
}

/** Removes every child of `node`. */
export function clear(node) {
  node.replaceChildren();
}

/** A date (`2026-03-01` or an RFC 3339 date-time) shown in the reader's locale, or `fallback`. */
export function formatDate(value, fallback = "—") {
  if (!value) return fallback;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return fallback;
  return date.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" });
}

/** A date-time in the reader's locale, or `fallback`. */
export function formatDateTime(value, fallback = "—") {
  if (!value) return fallback;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return fallback;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
