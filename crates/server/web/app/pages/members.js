// The members page (`#/members`): the people of the workspace with their role
// and weekly capacity (the hours tasks are planned against), and a form to
// change the capacity and, for owners and admins, the role. The server decides
// who may change what: a member's attempt answers 403, shown as a clear message
// in the form. People join by invitation: owners and admins get the
// invitations section below the list (pages/invitations.js) instead of a
// create form; the last owner cannot be demoted (a 422 on `/role`).

import { listPage } from "./common.js";
import { mountInvitations } from "./invitations.js";

const ROLES = [
  ["owner", "Owner"],
  ["admin", "Admin"],
  ["member", "Member"],
];
const roleLabel = (role) => ROLES.find(([key]) => key === role)?.[1] ?? String(role ?? "");

/** Mounts the members page into `container`; returns the function that unmounts it. */
export function mount(container, ctx) {
  const managesMembers = ["owner", "admin"].includes(ctx.user?.role);
  const page = listPage(container, ctx, {
    title: "Members",
    noun: "member",
    endpoint: "/api/members",
    listPath: () => "/api/members",
    canCreate: false,
    canDelete: false,
    emptyText: "No members yet.",
    itemName: (member) => member.displayName,
    columns: [
      { label: "Name", cell: (member) => member.displayName },
      { label: "E-mail", cell: (member) => member.email ?? "—" },
      { label: "Role", cell: (member) => roleLabel(member.role) },
      { label: "Weekly capacity", cell: (member) => `${member.weeklyCapacityHours} h` },
    ],
    fields: () => [
      {
        name: "weeklyCapacityHours",
        label: "Weekly capacity (hours)",
        type: "number",
        required: true,
        min: "0",
        max: "168",
        step: "0.5",
        hint: "Hours a week this person can take on (0–168).",
      },
      {
        name: "role",
        label: "Role",
        type: "select",
        options: ROLES.map(([value, text]) => ({ value, label: text })),
        hint: managesMembers ? null : "Only owners and admins change roles.",
      },
    ],
    formValues: (member) => ({
      weeklyCapacityHours: member?.weeklyCapacityHours ?? null,
      role: member?.role ?? "member",
    }),
    toBody: (values) => ({ weeklyCapacityHours: values.weeklyCapacityHours, role: values.role }),
    onFormReady: (form) => {
      // A member cannot change roles; the field shows the role without offering a change.
      if (!managesMembers) form.input("role").disabled = true;
    },
  });
  const unmountInvitations = managesMembers ? mountInvitations(container, ctx) : null;
  return () => {
    unmountInvitations?.();
    page.unmount();
  };
}
