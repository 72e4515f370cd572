// What every widget renderer shares: reading times and numbers from a payload
// without trusting them, the small pieces each card repeats (badges, empty
// states, "and N more"), and formatting in one fixed time zone (UTC) so a
// card reads the same on every machine and in every screenshot.
//
// A payload passed the widget schema before it gets here, but the renderers
// still check every value they compute with: a date that does not parse or a
// number that is not finite is shown as "—" and never reaches an attribute.

import { el } from "../dom.js";

/** Rows a list renders at most; the rest is summed up as "and N more" (keeps the DOM bounded). */
export const MAX_ROWS = 50;

/** Milliseconds since the epoch of an RFC 3339 date-time, or `null` when it does not parse. */
export function timeOf(value) {
  if (typeof value !== "string" || value.length === 0) return null;
  const time = Date.parse(value);
  return Number.isFinite(time) ? time : null;
}

/** `value` when it is a finite number, else `fallback`. */
export function finite(value, fallback = 0) {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

/** `value` limited to `[low, high]`. */
export function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

const dateFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  timeZone: "UTC",
});
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  timeZone: "UTC",
  timeZoneName: "short",
});
const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

/** A day such as "Mar 3, 2026" (UTC), or "—". */
export function dayText(time) {
  return time === null ? "—" : dateFormat.format(time);
}

/** A date and time such as "Mar 3, 2026, 09:30 UTC", or "—". */
export function dateTimeText(time) {
  return time === null ? "—" : dateTimeFormat.format(time);
}

/** A number for reading ("1,234.5"), or "—" when it is not finite. */
export function numberText(value) {
  return typeof value === "number" && Number.isFinite(value) ? numberFormat.format(value) : "—";
}

const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const RELATIVE_UNITS = [
  ["year", 365 * 86_400_000],
  ["month", 30 * 86_400_000],
  ["week", 7 * 86_400_000],
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
];

/** How long before or after `now` a time is ("3 hours ago", "in 2 days"), or "—". */
export function relativeText(time, now) {
  if (time === null || !Number.isFinite(now)) return "—";
  const difference = time - now;
  for (const [unit, size] of RELATIVE_UNITS) {
    if (Math.abs(difference) >= size) return relativeFormat.format(Math.round(difference / size), unit);
  }
  return "just now";
}

/** A `<time>` element showing `text` with the machine-readable time. */
export function timeElement(time, text, attributes = {}) {
  return el("time", { datetime: time === null ? null : new Date(time).toISOString(), ...attributes }, text);
}

/** The current time of the card's context as milliseconds (a fixed `now` in tests and the gallery). */
export function nowOf(ctx) {
  try {
    const now = typeof ctx?.now === "function" ? ctx.now() : new Date();
    const time = now instanceof Date ? now.getTime() : Number.NaN;
    return Number.isFinite(time) ? time : Date.now();
  } catch {
    return Date.now();
  }
}

/**
 * A status badge: an icon for the eye and the word for everyone (never colour
 * alone). `tone` picks the colour: ok, warn, danger, info, muted.
 */
export function badge(text, tone, icon) {
  return el(
    "span",
    { class: ["w-badge", `w-tone-${tone}`] },
    icon ? el("span", { class: "w-badge__icon", "aria-hidden": "true" }, icon) : null,
    text,
  );
}

/** The text a list or chart shows when it has nothing to show. */
export function emptyState(text) {
  return el("p", { class: "w-empty" }, text);
}

/** "and N more" under a list cut at its limit; `null` when nothing was cut. */
export function moreNote(hidden, noun = "more") {
  return hidden > 0 ? el("p", { class: "w-more" }, `and ${numberText(hidden)} ${noun}`) : null;
}

/** `text` cut to `max` characters with an ellipsis (for SVG text, which cannot ellipsize by CSS). */
export function truncate(text, max) {
  const characters = Array.from(String(text ?? ""));
  return characters.length <= max ? characters.join("") : characters.slice(0, Math.max(1, max - 1)).join("") + "…";
}

let nextId = 0;

/** An id unique in the page, for `aria-labelledby` and SVG references. */
export function uniqueId(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/** Words for an enum value: `in_progress` → "In progress". */
export function words(value) {
  const text = String(value ?? "").replaceAll("_", " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
