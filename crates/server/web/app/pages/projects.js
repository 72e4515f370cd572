// The projects page (`#/projects`): the workspace's projects in a table (name,
// start, due, archived; active ones first, archived ones on request), with a
// form to create and edit one and a confirmed delete (which deletes its tasks
// too, as the API does). Each row links to the project's tasks. The list,
// forms and live refresh are common.js's; this file only says what a project is.

import { el, formatDate } from "../dom.js";
import { fromDateInput, listPage, toDateInput, uniqueId } from "./common.js";

/** Mounts the projects page into `container`; returns the function that unmounts it. */
export function mount(container, ctx) {
  let archived = "false";
  const filterId = uniqueId("projects-archived");
  const filter = el(
    "select",
    {
      id: filterId,
      name: "archived",
      onchange: () => {
        archived = filter.value;
        page.reload();
      },
    },
    el("option", { value: "false" }, "Active"),
    el("option", { value: "true" }, "Archived"),
    el("option", { value: "any" }, "All"),
  );
  const page = listPage(container, ctx, {
    title: "Projects",
    noun: "project",
    endpoint: "/api/projects",
    listPath: () => `/api/projects?archived=${archived}`,
    canCreate: true,
    canDelete: true,
    filters: el("div", { class: "page-filters" }, el("label", { for: filterId }, "Show"), filter),
    emptyText: "No projects here yet.",
    itemName: (project) => project.name,
    columns: [
      { label: "Name", cell: (project) => project.name },
      { label: "Start", cell: (project) => formatDate(project.startDate) },
      { label: "Due", cell: (project) => formatDate(project.dueDate) },
      { label: "Archived", cell: (project) => (project.archived ? "Yes" : "No") },
      {
        label: "Tasks",
        cell: (project) =>
          el(
            "a",
            { href: `#/tasks?projectId=${encodeURIComponent(project.id)}`, "aria-label": `Tasks of ${project.name}` },
            "Tasks",
          ),
      },
    ],
    fields: () => [
      { name: "name", label: "Name", required: true },
      { name: "description", label: "Description", type: "textarea" },
      { name: "startDate", label: "Start date", type: "date" },
      { name: "dueDate", label: "Due date", type: "date", hint: "Not before the start date." },
      { name: "archived", label: "Archived", type: "checkbox" },
    ],
    formValues: (project) => ({
      name: project?.name ?? "",
      description: project?.description ?? "",
      startDate: toDateInput(project?.startDate),
      dueDate: toDateInput(project?.dueDate),
      archived: project?.archived ?? false,
    }),
    toBody: (values) => ({
      name: values.name,
      description: values.description,
      startDate: fromDateInput(values.startDate),
      dueDate: fromDateInput(values.dueDate),
      archived: values.archived,
    }),
  });
  return page.unmount;
}
