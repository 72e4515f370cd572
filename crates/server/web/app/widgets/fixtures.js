// Fixed example payloads of every widget type, for the gallery (gallery.html),
// the visual baselines and the browser tests. Dates are fixed and `FIXTURE_NOW`
// is the "now" the gallery renders with, so relative times and today lines
// are the same on every run. Each type has a `normal` payload, an `empty` one
// where the type has an empty state, and a `broken` one that fails the schema.

/** The gallery's "now": today lines and "3 hours ago" are measured from it. */
export const FIXTURE_NOW = "2026-03-10T12:00:00Z";

const tasks = [
  {
    id: "t1",
    title: "Write the API spec",
    status: "done",
    priority: "high",
    assignee: "Ada Lovelace",
    dueDate: "2026-03-02T17:00:00Z",
  },
  {
    id: "t2",
    title: "Build the sync client",
    status: "in_progress",
    priority: "urgent",
    assignee: "Grace Hopper",
    dueDate: "2026-03-09T17:00:00Z",
  },
  {
    id: "t3",
    title: "Design the dashboard grid",
    status: "in_progress",
    priority: "medium",
    assignee: "Alan Turing",
    dueDate: "2026-03-16T17:00:00Z",
  },
  { id: "t4", title: "Migrate the old records", status: "blocked", priority: "high", dueDate: "2026-03-20T17:00:00Z" },
  { id: "t5", title: "Accessibility review", status: "todo", priority: "low", assignee: "Katherine Johnson" },
  {
    id: "t6",
    title: "Release notes",
    status: "todo",
    priority: "medium",
    assignee: "Ada Lovelace",
    dueDate: "2026-03-31T17:00:00Z",
  },
];

/** Payloads by widget type: `{normal, empty?, broken}`. */
export const FIXTURES = {
  ProjectStatus: {
    normal: {
      type: "ProjectStatus",
      id: "fixture-status",
      title: "Website relaunch",
      data: {
        projectId: "7d3c9a52-1f0e-4d5e-9c61-2b7f3f0a1e11",
        projectName: "Website relaunch",
        status: "at_risk",
        progress: 62,
        tasksCompleted: 18,
        tasksTotal: 29,
        dueDate: "2026-04-15T00:00:00Z",
      },
    },
    broken: {
      type: "ProjectStatus",
      id: "fixture-status-broken",
      title: "Website relaunch",
      data: { projectId: "p1", projectName: "Website relaunch", status: "fine", progress: 140, tasksCompleted: 3 },
    },
  },
  TaskList: {
    normal: { type: "TaskList", id: "fixture-tasks", title: "Open tasks", data: { tasks, limit: 5 } },
    empty: { type: "TaskList", id: "fixture-tasks-empty", title: "Open tasks", data: { tasks: [] } },
    broken: {
      type: "TaskList",
      id: "fixture-tasks-broken",
      title: "Open tasks",
      data: {
        tasks: [{ id: "t1", title: "Write the API spec", status: "finished", priority: "high", dueDate: "tomorrow" }],
      },
    },
  },
  Metrics: {
    normal: {
      type: "Metrics",
      id: "fixture-metrics",
      title: "This week",
      data: {
        metrics: [
          { label: "Tasks done", value: 42, change: { value: 8, direction: "up" }, status: "ok" },
          {
            label: "Cycle time",
            value: 3.5,
            unit: "days",
            change: { value: 0.5, direction: "down" },
            status: "warning",
          },
          { label: "Blocked", value: 4, change: { value: 0, direction: "stable" }, status: "critical" },
          { label: "Focus time", value: "3h 20m" },
        ],
      },
    },
    empty: { type: "Metrics", id: "fixture-metrics-empty", title: "This week", data: { metrics: [] } },
    broken: {
      type: "Metrics",
      id: "fixture-metrics-broken",
      title: "This week",
      data: { metrics: [{ label: "Tasks done", value: { count: 42 }, change: { direction: "sideways" } }] },
    },
  },
  Alert: {
    normal: {
      type: "Alert",
      id: "fixture-alert",
      data: {
        severity: "warning",
        title: "Deadline at risk",
        message: "Website relaunch is due in 5 weeks and 4 tasks are blocked.",
        action: { label: "Show blocked tasks", href: "#/tasks?status=blocked" },
      },
    },
    broken: {
      type: "Alert",
      id: "fixture-alert-broken",
      data: { severity: "panic", action: { label: "Open", href: "javascript:alert(1)" } },
    },
  },
  TeamActivity: {
    normal: {
      type: "TeamActivity",
      id: "fixture-activity",
      title: "Recent activity",
      data: {
        activities: [
          {
            id: "a1",
            user: "Grace Hopper",
            action: "completed",
            target: "Write the API spec",
            time: "2026-03-10T09:00:00Z",
          },
          {
            id: "a2",
            user: "Alan Turing",
            action: "commented on",
            target: "Design the dashboard grid",
            time: "2026-03-09T15:30:00Z",
          },
          { id: "a3", user: "Ada Lovelace", action: "created", target: "Release notes", time: "2026-03-06T10:00:00Z" },
          { id: "a4", user: "Katherine Johnson", action: "joined the project", time: "2026-02-20T08:00:00Z" },
        ],
      },
    },
    empty: { type: "TeamActivity", id: "fixture-activity-empty", title: "Recent activity", data: { activities: [] } },
    broken: {
      type: "TeamActivity",
      id: "fixture-activity-broken",
      title: "Recent activity",
      data: { activities: [{ id: "a1", user: "", action: "completed", time: "last week" }] },
    },
  },
  KanbanBoard: {
    normal: {
      type: "KanbanBoard",
      id: "fixture-board",
      title: "Website relaunch",
      data: {
        columns: [
          {
            id: "todo",
            title: "To do",
            cards: [{ id: "t5", title: "Accessibility review", assignee: "Katherine Johnson" }],
          },
          {
            id: "in_progress",
            title: "In progress",
            cards: [
              {
                id: "t2",
                title: "Build the sync client",
                assignee: "Grace Hopper",
                description: "Reconnect with backoff.",
              },
              { id: "t3", title: "Design the dashboard grid" },
            ],
          },
          { id: "done", title: "Done", cards: [] },
        ],
      },
    },
    empty: { type: "KanbanBoard", id: "fixture-board-empty", title: "Website relaunch", data: { columns: [] } },
    broken: {
      type: "KanbanBoard",
      id: "fixture-board-broken",
      title: "Website relaunch",
      data: { columns: [{ id: "todo", cards: [{ title: "No id" }] }] },
    },
  },
  GanttChart: {
    normal: {
      type: "GanttChart",
      id: "fixture-gantt",
      title: "Website relaunch",
      data: {
        tasks: [
          {
            id: "g1",
            title: "Write the API spec",
            start: "2026-03-01T00:00:00Z",
            end: "2026-03-05T00:00:00Z",
            progress: 100,
          },
          {
            id: "g2",
            title: "Build the sync client",
            start: "2026-03-05T00:00:00Z",
            end: "2026-03-14T00:00:00Z",
            progress: 60,
            dependencies: ["g1"],
          },
          {
            id: "g3",
            title: "Design the dashboard grid",
            start: "2026-03-03T00:00:00Z",
            end: "2026-03-12T00:00:00Z",
            progress: 30,
          },
          {
            id: "g4",
            title: "Accessibility review",
            start: "2026-03-14T00:00:00Z",
            end: "2026-03-20T00:00:00Z",
            dependencies: ["g2", "g3"],
          },
          {
            id: "g5",
            title: "Launch",
            start: "2026-03-21T00:00:00Z",
            end: "2026-03-21T00:00:00Z",
            dependencies: ["g4"],
          },
        ],
      },
    },
    empty: { type: "GanttChart", id: "fixture-gantt-empty", title: "Website relaunch", data: { tasks: [] } },
    broken: {
      type: "GanttChart",
      id: "fixture-gantt-broken",
      title: "Website relaunch",
      data: { tasks: [{ id: "g1", title: "Spec", start: "2026-03-01", progress: 250 }] },
    },
  },
  BurndownChart: {
    normal: {
      type: "BurndownChart",
      id: "fixture-burndown",
      title: "Website relaunch",
      data: {
        sprintName: "Sprint 14",
        startDate: "2026-03-02T00:00:00Z",
        endDate: "2026-03-13T00:00:00Z",
        points: [
          { date: "2026-03-02T00:00:00Z", ideal: 40, actual: 40 },
          { date: "2026-03-03T00:00:00Z", ideal: 36.4, actual: 39 },
          { date: "2026-03-04T00:00:00Z", ideal: 32.7, actual: 35 },
          { date: "2026-03-05T00:00:00Z", ideal: 29.1, actual: 33 },
          { date: "2026-03-06T00:00:00Z", ideal: 25.5, actual: 30 },
          { date: "2026-03-09T00:00:00Z", ideal: 21.8, actual: 24 },
          { date: "2026-03-10T00:00:00Z", ideal: 18.2, actual: 22 },
        ],
      },
    },
    empty: {
      type: "BurndownChart",
      id: "fixture-burndown-empty",
      title: "Website relaunch",
      data: { sprintName: "Sprint 15", startDate: "2026-03-16T00:00:00Z", endDate: "2026-03-27T00:00:00Z", points: [] },
    },
    broken: {
      type: "BurndownChart",
      id: "fixture-burndown-broken",
      title: "Website relaunch",
      data: { startDate: "2026-03-02T00:00:00Z", points: [{ date: "2026-03-02T00:00:00Z", ideal: -5, actual: "40" }] },
    },
  },
  Error: {
    normal: {
      type: "Error",
      id: "gateway-unavailable-pulse",
      title: "Vitals",
      data: {
        message: "Vitals did not answer: the agent timed out after 10 s.",
        widgetType: "Metrics",
        retryable: true,
      },
    },
    broken: { type: "Error", id: "fixture-error-broken", data: { message: "", retryable: "yes" } },
  },
  Loading: {
    normal: { type: "Loading", id: "fixture-loading", title: "Project status", data: { widgetType: "ProjectStatus" } },
    broken: { type: "Loading", id: "fixture-loading-broken", data: { widgetType: 7 } },
  },
};

/** The Loading payload shown in place of a widget of `type`. */
export function loadingFixture(type) {
  const title = FIXTURES[type]?.normal?.title;
  return { type: "Loading", id: `fixture-loading-${type}`, ...(title ? { title } : {}), data: { widgetType: type } };
}
