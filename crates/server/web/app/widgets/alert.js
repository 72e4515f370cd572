// Alert: a message that needs attention. The severity is an icon and a word;
// the action is a link only when `safeHref` accepts its URL (a relative link
// or https), and an https link opens without handing over `window.opener` or
// the referrer. Any other URL is shown as plain text, never followed.

import { el, safeHref } from "../dom.js";
import { badge } from "./common.js";

const SEVERITY = {
  info: { text: "Info", tone: "info", icon: "ℹ" },
  warning: { text: "Warning", tone: "warn", icon: "⚠" },
  error: { text: "Error", tone: "danger", icon: "✕" },
  success: { text: "Success", tone: "ok", icon: "✓" },
};

/** The heading when the widget has no title. */
export function defaultTitle(data) {
  if (typeof data?.title === "string") return data.title;
  return SEVERITY[data?.severity]?.text ?? "Alert";
}

/** The card's body. */
export function render(data, ctx, widget) {
  const severity = SEVERITY[data.severity] ?? { text: String(data.severity), tone: "muted", icon: "?" };
  return [
    el(
      "div",
      { class: ["w-alert", `w-alert--${severity.tone}`] },
      badge(severity.text, severity.tone, severity.icon),
      widget.title && data.title ? el("p", { class: "w-alert__title" }, data.title) : null,
      el("p", { class: "w-alert__message" }, data.message),
      data.action ? action(data.action) : null,
    ),
  ];
}

function action({ label, href }) {
  const safe = safeHref(href);
  if (safe === null) {
    return el(
      "p",
      { class: "w-alert__action w-alert__action--blocked" },
      `${label} (link not opened: `,
      el("code", {}, String(href)),
      ")",
    );
  }
  const external = /^https:/i.test(safe);
  return el(
    "p",
    { class: "w-alert__action" },
    el("a", { class: "w-button", href: safe, rel: external ? "noopener noreferrer" : null }, label),
  );
}
