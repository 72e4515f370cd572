// The start page: dev-mode sign-in and the demo projects (a file: the Content-Security-Policy refuses inline scripts).
// Text from the API is inserted with textContent only: data is never HTML.
const who = document.getElementById("who");
const table = document.getElementById("projects");
const day = (iso) => (iso ? new Date(iso).toLocaleDateString() : "—");

document.getElementById("login").addEventListener("click", async () => {
  who.className = "muted";
  const login = await fetch("/api/dev/login", { method: "POST" });
  if (!login.ok) {
    const body = await login.json().catch(() => ({}));
    who.className = "error";
    who.textContent = body.error?.message ?? `sign-in failed (${login.status})`;
    return;
  }
  const { token, user, workspace } = await login.json();
  who.textContent = `${user.displayName} in ${workspace.name}`;
  const response = await fetch("/api/projects?archived=any", { headers: { Authorization: `Bearer ${token}` } });
  const page = await response.json();
  const rows = table.querySelector("tbody");
  rows.replaceChildren(...page.items.map((project) => {
    const row = document.createElement("tr");
    for (const text of [project.name + (project.archived ? " (archived)" : ""), day(project.startDate), day(project.dueDate)]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    return row;
  }));
  table.hidden = false;
});
