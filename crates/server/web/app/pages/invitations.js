// The invitations part of the members page, for owners and admins: a form to
// invite someone by email with a role, the pending invitations with "Resend"
// and "Revoke", and where each link went. With SMTP configured the server mails
// the link; without, it answers with the link, shown here once for the inviter
// to pass on (it is never stored in the page or shown again: a resend makes a
// new one). A failed mail still created the invitation: the reason is shown
// and "Resend" tries again. Only owners are offered the owner role; the server
// decides all the same (403).

import { ApiError } from "../api.js";
import { el, formatDateTime } from "../dom.js";
import { createForm, describeError, uniqueId } from "./common.js";

const ROLE_LABELS = { owner: "Owner", admin: "Admin", member: "Member" };

/** Mounts the invitations section into `container`; returns the function that unmounts it. */
export function mountInvitations(container, ctx) {
  const headingId = uniqueId("invitations-title");
  const roles = ctx.user?.role === "owner" ? ["member", "admin", "owner"] : ["member", "admin"];
  const inviteButton = el(
    "button",
    { type: "button", class: "primary", dataset: { action: "invite" }, onclick: () => openForm() },
    "Invite someone",
  );
  const formHost = el("div", { class: "page-editor" });
  const result = el("div", { class: "invitation-result", dataset: { role: "invitation-result" }, "aria-live": "polite" });
  const status = el("p", { class: "page-status", role: "status" });
  const body = el("tbody");
  const table = el(
    "table",
    { class: "data-table", dataset: { role: "invitations" } },
    el("caption", { class: "visually-hidden" }, "Pending invitations"),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        ["E-mail", "Role", "Expires", "Actions"].map((label) => el("th", { scope: "col" }, label)),
      ),
    ),
    body,
  );
  const section = el(
    "section",
    { class: "data-page invitations", "aria-labelledby": headingId, dataset: { page: "invitations" } },
    el("div", { class: "page-header" }, el("h2", { id: headingId }, "Invitations"), inviteButton),
    formHost,
    result,
    status,
    el("div", { class: "table-scroll" }, table),
  );
  container.append(section);
  let alive = true;

  function openForm() {
    const form = createForm({
      title: "Invite someone",
      submitLabel: "Send invitation",
      fields: [
        { name: "email", label: "E-mail", type: "email", required: true, hint: "The invitation is for this address." },
        {
          name: "role",
          label: "Role",
          type: "select",
          options: roles.map((role) => ({ value: role, label: ROLE_LABELS[role] })),
          hint: roles.includes("owner") ? null : "Only owners invite owners.",
        },
      ],
      values: { email: "", role: "member" },
      onSubmit: async (values) => {
        const issued = await ctx.api("/api/workspace/invitations", {
          method: "POST",
          body: { email: values.email, role: values.role },
        });
        closeForm();
        showIssued(issued, "created");
        await load();
      },
      onCancel: () => {
        closeForm();
        inviteButton.focus();
      },
    });
    formHost.replaceChildren(form.element);
    inviteButton.hidden = true;
    form.focusFirst();
  }

  function closeForm() {
    formHost.replaceChildren();
    inviteButton.hidden = false;
  }

  /** Says where the link of a created (or re-sent) invitation went; a link is shown with a copy button. */
  function showIssued(issued, verb) {
    const invitation = issued?.invitation ?? {};
    const delivery = issued?.delivery ?? {};
    const who = `${invitation.email} (${ROLE_LABELS[invitation.role] ?? invitation.role})`;
    if (delivery.status === "email") {
      result.replaceChildren(el("p", { class: "notice notice-success" }, `Invitation ${verb} and mailed to ${who}.`));
      return;
    }
    if (delivery.status === "failed") {
      result.replaceChildren(
        el(
          "p",
          { class: "notice notice-error", role: "alert" },
          `The invitation for ${who} was ${verb}, but the mail could not be sent: ${delivery.reason}. `,
          "Use “Resend” below to try again.",
        ),
      );
      return;
    }
    const linkId = uniqueId("invitation-link");
    const input = el("input", {
      id: linkId,
      type: "text",
      readonly: true,
      value: delivery.link ?? "",
      dataset: { role: "invitation-link" },
      spellcheck: "false",
    });
    const copied = el("span", { class: "muted", role: "status" });
    const copy = el(
      "button",
      {
        type: "button",
        onclick: async () => {
          input.select();
          try {
            await navigator.clipboard.writeText(input.value);
            copied.textContent = "Copied.";
          } catch {
            copied.textContent = "Selected: copy it with Ctrl+C (⌘C).";
          }
        },
      },
      "Copy link",
    );
    result.replaceChildren(
      el(
        "div",
        { class: "card invitation-link" },
        el("p", {}, `Invitation ${verb} for ${who}. No mail server is configured: send this link yourself.`),
        el(
          "p",
          { class: "muted" },
          `It works once, until ${formatDateTime(invitation.expiresAt)}, and is shown only now.`,
        ),
        el("label", { for: linkId }, "Invitation link"),
        el("div", { class: "ask-row" }, input, copy),
        copied,
      ),
    );
    input.focus();
    input.select();
  }

  async function act(invitation, action) {
    status.textContent = "";
    try {
      if (action === "resend") {
        const issued = await ctx.api(`/api/workspace/invitations/${invitation.id}/resend`, { method: "POST" });
        showIssued(issued, "re-sent");
      } else {
        await ctx.api(`/api/workspace/invitations/${invitation.id}`, { method: "DELETE" });
        result.replaceChildren(el("p", { class: "notice notice-success" }, `Invitation for ${invitation.email} revoked.`));
      }
    } catch (error) {
      status.textContent = describeError(error);
    }
    await load();
  }

  async function load() {
    try {
      const page = await ctx.api("/api/workspace/invitations?limit=200");
      if (!alive) return;
      const items = page?.items ?? [];
      body.replaceChildren(
        ...items.map((invitation) =>
          el(
            "tr",
            { dataset: { id: invitation.id } },
            el("td", {}, invitation.email),
            el("td", {}, ROLE_LABELS[invitation.role] ?? invitation.role),
            el("td", {}, formatDateTime(invitation.expiresAt)),
            el(
              "td",
              { class: "row-actions" },
              el(
                "button",
                {
                  type: "button",
                  dataset: { action: "resend" },
                  "aria-label": `Resend the invitation for ${invitation.email}`,
                  onclick: () => act(invitation, "resend"),
                },
                "Resend",
              ),
              el(
                "button",
                {
                  type: "button",
                  class: "danger",
                  dataset: { action: "revoke" },
                  "aria-label": `Revoke the invitation for ${invitation.email}`,
                  onclick: () => act(invitation, "revoke"),
                },
                "Revoke",
              ),
            ),
          ),
        ),
      );
      table.hidden = items.length === 0;
      if (items.length === 0 && !status.textContent) status.textContent = "No pending invitations.";
      else if (items.length > 0 && status.textContent === "No pending invitations.") status.textContent = "";
    } catch (error) {
      if (!alive) return;
      if (error instanceof ApiError && error.status === 403) section.hidden = true;
      else status.textContent = describeError(error);
    }
  }

  load();
  return () => {
    alive = false;
    section.remove();
  };
}
