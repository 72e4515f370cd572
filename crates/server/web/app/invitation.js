// The invitation view: what a link `…/#invite=<token>` opens.
//
// The token sits in the URL's fragment, which the browser never sends to a
// server (no access log, proxy or Referer sees it). The page takes it out of
// the address bar at once (`history.replaceState`, so it is not kept in the
// history either), asks `POST /api/invitations/preview` what it opens, and
// shows the workspace, the invited email and the role with a form: a new
// person chooses a display name and a password; someone whose email already
// has an account enters that account's password (or, signed in as that
// account in this browser, just confirms). `POST
// /api/invitations/accept` then adds the member and signs the browser in (the
// server sets the session cookie); `onAccepted(answer)` hands over to the
// session. A token that cannot be used (unknown, expired, used, revoked) gets
// one message, as the server gives one answer.

import { el } from "./dom.js";
import { createForm, describeError } from "./pages/common.js";

const TOKEN_PATTERN = /^#invite=([A-Za-z0-9_-]{1,64})$/;
const ROLE_LABELS = { owner: "an owner", admin: "an admin", member: "a member" };

/** The invitation token of the current address, removed from it; `null` when there is none. */
export function takeInvitationToken() {
  const match = TOKEN_PATTERN.exec(location.hash);
  if (!match) return null;
  history.replaceState(null, "", `${location.pathname}${location.search}#/`);
  return match[1];
}

/**
 * Shows the invitation of `token` in `host` (the page's `main`). `onAccepted(answer)`
 * runs after joining (the answer of `/api/invitations/accept`), `onLeave()` when the
 * person turns away (or the link cannot be used and they go on). Returns the unmount.
 */
export function showInvitation(host, token, { api, onAccepted, onLeave }) {
  const heading = el("h1", { id: "invitation-heading", tabindex: "-1" }, "Join a workspace");
  const content = el("div", { class: "invitation-content" }, el("p", { role: "status" }, "Opening the invitation…"));
  const section = el(
    "section",
    { class: "signin invitation data-page", dataset: { view: "invitation" }, "aria-labelledby": "invitation-heading" },
    heading,
    content,
  );
  host.append(section);
  heading.focus();
  document.title = "Invitation · agentdeck";
  let alive = true;

  const leaveButton = (label) => el("button", { type: "button", onclick: () => onLeave() }, label);

  api("/api/invitations/preview", { method: "POST", body: { token } })
    .then((preview) => {
      if (!alive) return;
      const workspace = preview.workspace?.name ?? "a workspace";
      heading.textContent = `Join ${workspace}`;
      const intro = el(
        "p",
        { dataset: { role: "invitation-summary" } },
        `You are invited to the workspace “${workspace}” as ${ROLE_LABELS[preview.role] ?? preview.role}, with the e-mail address `,
        el("strong", { dataset: { role: "invitation-email" } }, preview.email),
        ".",
      );
      const fields = preview.signedIn
        ? []
        : preview.accountExists
        ? [{ name: "password", label: "Password of your account", type: "password", required: true }]
        : [
            { name: "displayName", label: "Your name", required: true, hint: "Shown to the people of the workspace." },
            { name: "password", label: "Choose a password", type: "password", required: true, hint: "At least 12 characters." },
          ];
      const form = createForm({
        title: preview.signedIn ? "Join with your account" : preview.accountExists ? "Sign in to join" : "Create your account",
        submitLabel: "Join workspace",
        fields,
        onSubmit: async (values) => {
          const body = { token };
          if (!preview.signedIn) body.password = values.password;
          if (!preview.accountExists) body.displayName = values.displayName;
          const answer = await api("/api/invitations/accept", { method: "POST", body });
          if (!alive) return;
          onAccepted(answer);
        },
        onCancel: () => onLeave(),
      });
      const password = form.input("password");
      password?.setAttribute("autocomplete", preview.accountExists ? "current-password" : "new-password");
      password?.setAttribute("maxlength", "1024");
      // Password managers file the new password under the invited email.
      const username = el("input", {
        type: "email",
        name: "username",
        autocomplete: "username",
        value: preview.email,
        readonly: true,
        hidden: true,
      });
      form.element.prepend(username);
      form.input("displayName")?.setAttribute("autocomplete", "name");
      const note = preview.signedIn
        ? el("p", { class: "muted" }, "You are signed in with this e-mail address's account on this browser.")
        : preview.accountExists
        ? el("p", { class: "muted" }, "This e-mail address already has an account: enter its password to join.")
        : null;
      content.replaceChildren(...[intro, note, form.element].filter(Boolean));
      if (preview.signedIn) form.element.querySelector('[type="submit"]').focus();
      else form.focusFirst();
    })
    .catch((error) => {
      if (!alive) return;
      heading.textContent = "This invitation cannot be used";
      const text =
        error?.status === 404
          ? "It is unknown, expired or already used. Ask whoever invited you for a new link."
          : describeError(error);
      content.replaceChildren(
        el("p", { role: "alert", dataset: { role: "invitation-error" } }, text),
        leaveButton("Go to sign in"),
      );
      heading.focus();
    });

  return () => {
    alive = false;
    section.remove();
  };
}
