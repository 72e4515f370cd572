// The tasks page (`#/tasks`, `#/tasks?projectId=<id>` from a project's row):
// tasks filtered by project, status and assignee, with a form to create and
// edit one (title, project, status, priority, assignee from the members,
// estimate, due date, and the tasks of the same project that block it) and a
// confirmed delete. The API refuses a blocked-by cycle with a 422 naming
// `/blockedBy`; the form shows it beside that field. Projects and members are
// read once per load to name ids in the table and fill the selects.

import { el, formatDate } from "../dom.js";
import { fromDateInput, listPage, loadAll, toDateInput, uniqueId } from "./common.js";

/** Task statuses in board order, with their labels. */
export const STATUSES = [
  ["todo", "To do"],
  ["in_progress", "In progress"],
  ["blocked", "Blocked"],
  ["done", "Done"],
];
const PRIORITIES = [
  ["low", "Low"],
  ["medium", "Medium"],
  ["high", "High"],
  ["urgent", "Urgent"],
];
const label = (pairs, value) => pairs.find(([key]) => key === value)?.[1] ?? String(value ?? "");
const options = (pairs) => pairs.map(([value, text]) => ({ value, label: text }));

/** Mounts the tasks page into `container`; returns the function that unmounts it. */
export function mount(container, ctx) {
  const wanted = new URLSearchParams(location.hash.split("?")[1] ?? "");
  const filters = { projectId: wanted.get("projectId") ?? "", status: wanted.get("status") ?? "", assigneeId: "" };
  let projects = [];
  let members = [];
  const projectName = (id) => projects.find((project) => project.id === id)?.name ?? "(unknown project)";
  const memberName = (id) =>
    id ? (members.find((member) => member.id === id)?.displayName ?? "(former member)") : "Unassigned";
  // Titles of the tasks listed now, to name a row's blockers (others are counted).
  let titles = new Map();
  const blockersText = (ids) => {
    if (ids.length === 0) return "—";
    const named = ids.filter((id) => titles.has(id)).map((id) => titles.get(id));
    const others = ids.length - named.length;
    return [...named, others ? `${others} other task${others === 1 ? "" : "s"}` : null].filter(Boolean).join(", ");
  };
  const projectOptions = () =>
    projects.map((project) => ({ value: project.id, label: project.name + (project.archived ? " (archived)" : "") }));
  const memberOptions = () => [
    { value: "", label: "Unassigned" },
    ...members.map((member) => ({ value: member.id, label: member.displayName })),
  ];

  const filterSelect = (name, text, choices) => {
    const id = uniqueId(`tasks-filter-${name}`);
    const select = el("select", {
      id,
      name,
      onchange: () => {
        filters[name] = select.value;
        page.reload();
      },
    });
    const fill = (list) => {
      select.replaceChildren(
        ...[{ value: "", label: "Any" }, ...list].map((o) => el("option", { value: o.value }, o.label)),
      );
      select.value = filters[name];
    };
    fill(choices);
    return { node: el("div", { class: "page-filter" }, el("label", { for: id }, text), select), fill };
  };
  const projectFilter = filterSelect("projectId", "Project", []);
  const statusFilter = filterSelect("status", "Status", options(STATUSES));
  const assigneeFilter = filterSelect("assigneeId", "Assignee", []);

  // Tasks of `projectId` a task may wait for: not the task itself.
  const blockerOptions = async (projectId, selfId) => {
    if (!projectId) return [];
    const tasks = await loadAll(ctx.api, `/api/tasks?projectId=${encodeURIComponent(projectId)}`);
    return tasks.filter((task) => task.id !== selfId).map((task) => ({ value: task.id, label: task.title }));
  };

  const page = listPage(container, ctx, {
    title: "Tasks",
    noun: "task",
    endpoint: "/api/tasks",
    listPath: () => {
      const query = new URLSearchParams(Object.entries(filters).filter(([, value]) => value));
      return `/api/tasks${query.size ? `?${query}` : ""}`;
    },
    prepare: async () => {
      [projects, members] = await Promise.all([
        loadAll(ctx.api, "/api/projects?archived=any"),
        loadAll(ctx.api, "/api/members"),
      ]);
      projectFilter.fill(projectOptions());
      assigneeFilter.fill(memberOptions().slice(1));
    },
    onItems: (items) => {
      titles = new Map(items.map((task) => [task.id, task.title]));
    },
    canCreate: true,
    canDelete: true,
    filters: el("div", { class: "page-filters" }, projectFilter.node, statusFilter.node, assigneeFilter.node),
    emptyText: "No tasks match these filters.",
    itemName: (task) => task.title,
    columns: [
      { label: "Title", cell: (task) => task.title },
      { label: "Project", cell: (task) => projectName(task.projectId) },
      {
        label: "Status",
        cell: (task) => el("span", { class: ["status-badge", `status-${task.status}`] }, label(STATUSES, task.status)),
      },
      { label: "Priority", cell: (task) => label(PRIORITIES, task.priority) },
      { label: "Assignee", cell: (task) => memberName(task.assigneeId) },
      {
        label: "Estimate",
        cell: (task) =>
          task.estimateHours === null || task.estimateHours === undefined ? "—" : `${task.estimateHours} h`,
      },
      { label: "Due", cell: (task) => formatDate(task.dueDate) },
      { label: "Blocked by", cell: (task) => blockersText(task.blockedBy ?? []) },
    ],
    fields: async (task) => {
      const projectId = task?.projectId ?? (filters.projectId || projects[0]?.id || "");
      return [
        { name: "title", label: "Title", required: true },
        { name: "projectId", label: "Project", type: "select", required: true, options: projectOptions() },
        { name: "status", label: "Status", type: "select", options: options(STATUSES) },
        { name: "priority", label: "Priority", type: "select", options: options(PRIORITIES) },
        { name: "assigneeId", label: "Assignee", type: "select", options: memberOptions() },
        { name: "estimateHours", label: "Estimate (hours)", type: "number", min: "0", max: "10000", step: "0.25" },
        { name: "dueDate", label: "Due date", type: "date" },
        {
          name: "blockedBy",
          label: "Blocked by",
          type: "multiselect",
          hint: "Tasks of the same project that must finish first (Ctrl or Shift to choose several).",
          options: await blockerOptions(projectId, task?.id),
        },
        { name: "description", label: "Description", type: "textarea" },
      ];
    },
    formValues: (task) => ({
      title: task?.title ?? "",
      projectId: task?.projectId ?? (filters.projectId || projects[0]?.id || ""),
      status: task?.status ?? "todo",
      priority: task?.priority ?? "medium",
      assigneeId: task?.assigneeId ?? "",
      estimateHours: task?.estimateHours ?? null,
      dueDate: toDateInput(task?.dueDate),
      blockedBy: task?.blockedBy ?? [],
      description: task?.description ?? "",
    }),
    toBody: (values) => ({
      title: values.title,
      projectId: values.projectId,
      status: values.status,
      priority: values.priority,
      assigneeId: values.assigneeId || null,
      estimateHours: values.estimateHours,
      dueDate: fromDateInput(values.dueDate),
      blockedBy: values.blockedBy,
      description: values.description,
    }),
    onFormReady: (form, task) => {
      // Another project: its own tasks become the possible blockers (kept ones stay chosen).
      form.input("projectId")?.addEventListener("change", async (event) => {
        const chosen = form.values().blockedBy;
        form.setOptions("blockedBy", await blockerOptions(event.target.value, task?.id), chosen);
      });
    },
  });
  return page.unmount;
}
