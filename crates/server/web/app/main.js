// The page's entry point: it ties the shell together.
//
// - Signed out, the sign-in view shows (session.js). Signed in (here, or
//   already in another tab), the tab opens ONE sync client
//   (`/assets/sync-client.js`) and every state it publishes flows one way:
//   connection indicator (status.js) → theme → answer text (ask.js) → the
//   grid (grid.js) → whoever subscribed through `ctx.onStateChange` (pages).
// - Hash routes: `#/` is the dashboard (question box, widget grid, and the
//   agents and usage panels beside it); `#/projects`, `#/tasks`, `#/members`
//   mount the data pages (`mount(container, ctx) → unmount`). Navigating moves
//   the focus to the new view's heading, so keyboard and screen reader users
//   land where the content is.
// - An invitation link (`#invite=<token>`) opens the invitation view
//   (invitation.js) in place of the others, signed in or not; joining starts
//   the new member's cookie session (`startCookieSession`) and its dashboard.
// - `window.agentdeck` carries the test hooks of docs/web.md ("Test contract"):
//   `ready` (resolves after the first dashboard render), `renders` and
//   `renderTotal` (card builds), `setNow(iso)` (a fixed "today"), `sync` (the
//   client). The first render is marked `agentdeck:first-render` and every later
//   state's DOM update measured as `agentdeck:delta` (Performance API), which
//   the benchmark in docs/benchmarks.md reads.

import { api, ApiError, authHeaders, refreshCsrf } from "./api.js";
import { el } from "./dom.js";
import { createAsk } from "./ask.js";
import { createGrid } from "./grid.js";
import { showInvitation, takeInvitationToken } from "./invitation.js";
import { initSession, startCookieSession } from "./session.js";
import { initSso } from "./sso.js";
import { createStatusIndicator } from "./status.js";
import { loadWidgetSchema } from "./widgets/index.js";
import { createSyncClient } from "../sync-client.js";

const THEME_KEY = "agentdeck.theme";
const THEMES = new Set(["light", "dark", "system"]);
const PAGES = new Set(["projects", "tasks", "members"]);
const PANELS = ["agents", "usage"];
const MAX_NOTICES = 4;
const MAX_DELTA_MEASURES = 200;
/** How long a socket closed with 4001 waits before asking the API whether its credential still holds. */
const CREDENTIAL_CHECK_DELAY_MS = 300;

const $ = (selector) => document.querySelector(selector);
const views = {
  signin: $('[data-view="signin"]'),
  dashboard: $('[data-view="dashboard"]'),
  page: $('[data-view="page"]'),
};
const nav = $('[data-role="nav"]');
const panelsAside = $('[data-role="panels"]');
const themeSelect = $('[data-role="theme"]');
const notices = $('[data-role="notices"]');
const statusElement = $('[data-role="sync-status"]');

// ---- test hooks ---------------------------------------------------------------

let resolveReady;
let nowOverride = null;
const hooks = {
  ready: null,
  renders: {},
  renderTotal: 0,
  sync: null,
  /** Fixes the page's "now" (`null`: the real clock) and rebuilds every card with it. */
  setNow(iso) {
    const date = iso === null || iso === undefined ? null : new Date(iso);
    nowOverride = date && !Number.isNaN(date.getTime()) ? date : null;
    if (dashboard?.grid && dashboard.sync.state) dashboard.grid.render(dashboard.sync.state, { force: true });
  },
};
function resetHooks() {
  hooks.ready = new Promise((resolve) => {
    resolveReady = resolve;
  });
  hooks.renders = {};
  hooks.renderTotal = 0;
  hooks.sync = null;
}
resetHooks();
window.agentdeck = hooks;

const now = () => (nowOverride ? new Date(nowOverride.getTime()) : new Date());

// ---- notices ------------------------------------------------------------------

/** Shows `text` in the page's live region (`kind`: info | error | success); the newest few are kept. */
function notify(text, kind = "info") {
  const notice = el(
    "div",
    { class: ["notice", `notice-${kind}`], role: kind === "error" ? "alert" : null },
    el("p", {}, text),
    el(
      "button",
      { type: "button", class: "button-quiet", "aria-label": "Dismiss notice", onclick: () => notice.remove() },
      "✕",
    ),
  );
  notices.append(notice);
  while (notices.children.length > MAX_NOTICES) notices.firstElementChild.remove();
  if (kind !== "error") setTimeout(() => notice.remove(), 8000);
}

// ---- theme --------------------------------------------------------------------

const darkQuery = window.matchMedia("(prefers-color-scheme: dark)");
let themePreference = THEMES.has(localStorage.getItem(THEME_KEY)) ? localStorage.getItem(THEME_KEY) : "system";

function applyTheme(preference) {
  const next = THEMES.has(preference) ? preference : "system";
  const unchanged = next === themePreference && document.documentElement.dataset.themePreference === next;
  themePreference = next;
  if (unchanged && themePreference !== "system") return;
  const resolved = themePreference === "system" ? (darkQuery.matches ? "dark" : "light") : themePreference;
  document.documentElement.dataset.theme = resolved;
  document.documentElement.dataset.themePreference = themePreference;
  if (themeSelect.value !== themePreference) themeSelect.value = themePreference;
  if (localStorage.getItem(THEME_KEY) !== themePreference) localStorage.setItem(THEME_KEY, themePreference);
}
darkQuery.addEventListener("change", () => {
  if (themePreference === "system") applyTheme("system");
});
applyTheme(themePreference);

themeSelect.addEventListener("change", () => {
  const value = themeSelect.value;
  applyTheme(value);
  // Written to the dashboard state, so the user's other tabs and devices follow.
  dashboard?.sync.patch([{ op: "add", path: "/preferences/theme", value }]).catch((error) => {
    notify(`The theme could not be saved: ${error.message}`, "error");
    applyTheme(dashboard?.sync.state?.preferences?.theme);
  });
});

// ---- the signed-in dashboard ------------------------------------------------------

/** Everything that lives while signed in: `{session, sync, grid, ask, indicator, listeners}`. */
let dashboard = null;
const ask = createAsk(views.dashboard, { api, notify });

/** Starts the signed-in page; `interactive`: the person just signed in here, so the focus moves to the content. */
function startDashboard(session, { interactive = false } = {}) {
  stopDashboard();
  nav.hidden = false;
  views.signin.hidden = true;

  const listeners = new Set();
  const indicator = createStatusIndicator(statusElement);
  let schemaLoaded = false;
  let firstRendered = false;
  let checkingToken = false;

  // Declared before the client so its first callbacks find it; `grid` is set right after.
  const current = { session, sync: null, grid: null, indicator, listeners, page: null, panels: [] };
  const render = (state) => {
    if (!schemaLoaded || !state || !current.grid || current !== dashboard) return;
    if (!firstRendered) {
      current.grid.render(state);
      firstRendered = true;
      performance.mark("agentdeck:first-render");
      resolveReady();
      return;
    }
    if (performance.getEntriesByName("agentdeck:delta", "measure").length >= MAX_DELTA_MEASURES) {
      performance.clearMeasures("agentdeck:delta");
    }
    const start = performance.now();
    current.grid.render(state);
    performance.measure("agentdeck:delta", { start, end: performance.now() });
  };

  /** Asks the API whether the credential still holds; a 401 signs out (onUnauthorized), else `then` runs. */
  const checkCredential = (then) => {
    if (checkingToken) return;
    checkingToken = true;
    api("/api/projects?limit=1")
      .then(() => then?.())
      .catch(() => null)
      .finally(() => {
        checkingToken = false;
      });
  };

  const sync = createSyncClient({
    baseUrl: location.origin,
    // The bearer token, or a cookie session's CSRF token (the browser adds the cookie).
    getTicketHeaders: () => authHeaders("POST"),
    onState: (state, version) => {
      indicator.version(version);
      applyTheme(state?.preferences?.theme);
      ask.update(state);
      render(state);
      for (const listener of listeners) listener(state);
    },
    onStatus: (status, detail) => {
      indicator.status(status);
      // A refused ticket may mean a revoked token, or a server still starting: ask the API
      // (its 401 signs out through onUnauthorized; a network error or 503 changes nothing).
      // A 403 is a cookie session's CSRF token gone stale (rotated by a switch in another tab): learn the new one.
      if (status === "error" && /answered 403/.test(String(detail?.error))) refreshCsrf();
      if (status === "error" && /answered 401/.test(String(detail?.error))) checkCredential();
      // 4001: the server ended the socket because its credential ended (signed out, revoked,
      // disabled) and said not to reconnect. The API's 401 returns the page to the sign-in view;
      // if the credential still holds (another tab signed in again), the socket comes back.
      // The wait lets a sign-out in another tab of this browser (whose `storage` event follows the
      // server's close by a moment) end this dashboard first, so it has nothing to ask.
      if (status === "disconnected" && detail?.code === 4001) {
        const closed = dashboard;
        setTimeout(() => {
          if (dashboard !== closed) return;
          checkCredential(() => {
            if (current === dashboard) current.sync?.reconnectNow();
          });
        }, CREDENTIAL_CHECK_DELAY_MS);
      }
    },
    onReject: (frame) => {
      // A refused patch of ours is reported by whoever sent it; one without an op id by us.
      if (!frame?.op) notify(`The server refused a change: ${frame?.detail ?? frame?.code}`, "error");
    },
  });
  hooks.sync = sync;

  current.sync = sync;
  current.grid = createGrid($('[data-role="grid-host"]'), { sync, api, hooks, notify, now, navigate });
  dashboard = current;
  current.grid.render(null);

  loadWidgetSchema()
    .catch((error) => notify(`The widget schema could not be loaded: ${error.message}`, "error"))
    .finally(() => {
      schemaLoaded = true;
      render(sync.state);
    });
  ask.loadProjects();
  route({ focus: interactive });
}

function stopDashboard() {
  if (!dashboard) return;
  const ending = dashboard;
  dashboard = null;
  ending.sync.close();
  ending.indicator.stop();
  ending.page?.();
  for (const unmount of ending.panels) unmount?.();
  ending.grid.destroy();
  ending.listeners.clear();
  ask.reset();
  resetHooks();
}

function showSignIn(message) {
  stopDashboard();
  nav.hidden = true;
  panelsAside.hidden = true;
  views.dashboard.hidden = true;
  views.page.hidden = true;
  views.page.replaceChildren();
  views.signin.hidden = false;
  notices.replaceChildren();
  if (message) {
    notify(message, "info");
    $("#signin-heading").focus();
  }
}

// ---- routing ------------------------------------------------------------------

function navigate(hash) {
  location.hash = hash;
}

/** The route of the current hash: `dashboard` or a page name. */
function currentRoute() {
  const first = location.hash.replace(/^#\/?/, "").split(/[/?]/)[0];
  return PAGES.has(first) ? first : "dashboard";
}

function pageContext() {
  const { user, workspace } = dashboard.session.user ?? {};
  const listeners = dashboard.listeners;
  const sync = dashboard.sync;
  return {
    api,
    navigate,
    notify,
    user: user ?? null,
    workspace: workspace ?? null,
    /** Calls `fn(state)` now (when a state is there) and on every change; returns the unsubscribe. */
    onStateChange(fn) {
      listeners.add(fn);
      if (sync.state) fn(sync.state);
      return () => listeners.delete(fn);
    },
  };
}

let routeCounter = 0;

async function route({ focus = true } = {}) {
  if (!dashboard) return;
  const current = dashboard;
  const name = currentRoute();
  const counter = ++routeCounter;
  for (const link of nav.querySelectorAll("a[data-route]")) {
    if (link.dataset.route === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  current.page?.();
  current.page = null;
  if (name === "dashboard") {
    views.page.hidden = true;
    views.page.replaceChildren();
    views.dashboard.hidden = false;
    panelsAside.hidden = false;
    if (current.panels.length === 0) mountPanels(current);
    document.title = "Dashboard · agentdeck";
    if (focus) $("#dashboard-heading").focus();
    return;
  }
  views.dashboard.hidden = true;
  panelsAside.hidden = true;
  for (const unmount of current.panels.splice(0)) unmount?.();
  const container = el("div", { class: "page-body" });
  views.page.replaceChildren(container);
  views.page.hidden = false;
  document.title = `${name[0].toUpperCase()}${name.slice(1)} · agentdeck`;
  try {
    const module = await import(`./pages/${name}.js`);
    if (counter !== routeCounter || current !== dashboard) return;
    current.page = module.mount(container, pageContext()) ?? null;
  } catch (error) {
    container.replaceChildren(
      el("h1", { tabindex: "-1" }, "This page could not be loaded"),
      el("p", {}, String(error)),
    );
  }
  if (focus) {
    const heading = container.querySelector("h1, h2");
    if (heading) {
      if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  }
}

async function mountPanels(current) {
  for (const name of PANELS) {
    const container = panelsAside.querySelector(`[data-panel="${name}"]`);
    try {
      const module = await import(`./panels/${name}.js`);
      if (current !== dashboard || currentRoute() !== "dashboard") return;
      current.panels.push(module.mount(container, pageContext()) ?? null);
    } catch (error) {
      container.replaceChildren(el("p", { class: "muted" }, `The ${name} panel could not be loaded: ${error}`));
    }
  }
}

window.addEventListener("hashchange", () => {
  const invitation = takeInvitationToken();
  if (invitation) openInvitation(invitation);
  else route();
});

// ---- invitations ----------------------------------------------------------------

/** The open invitation view's unmount, or `null`. */
let closeInvitation = null;

/** Shows the invitation of `invitationToken` in place of every other view. */
function openInvitation(invitationToken) {
  closeInvitation?.();
  stopDashboard();
  for (const view of Object.values(views)) view.hidden = true;
  nav.hidden = true;
  panelsAside.hidden = true;
  const leave = (message) => {
    closeInvitation?.();
    closeInvitation = null;
    session.resume().then((resumed) => {
      if (!resumed && !session.current()) showSignIn(message);
    });
  };
  closeInvitation = showInvitation($("main"), invitationToken, {
    api,
    // The server set the session cookie: the page starts that session (its `me` carries the CSRF token).
    onAccepted: async (answer) => {
      try {
        await startCookieSession(answer?.me);
        notify(`Welcome to ${answer?.workspace?.name ?? "the workspace"}.`, "success");
      } catch {
        leave(`You joined ${answer?.workspace?.name ?? "the workspace"}. Sign in with your e-mail and password.`);
      }
    },
    onLeave: () => leave(null),
  });
}

// ---- start --------------------------------------------------------------------

initSso(document);
const session = initSession(document, {
  onSignedIn: (started, { interactive }) => {
    closeInvitation?.();
    closeInvitation = null;
    startDashboard(started, { interactive });
  },
  onSignedOut: (message) => {
    if (!closeInvitation) showSignIn(message);
  },
  notify,
});
const invitationAtStart = takeInvitationToken();
if (invitationAtStart) openInvitation(invitationAtStart);
else {
  session.resume().then((resumed) => {
    if (!resumed && !session.current()) showSignIn(null);
  });
}

// Unhandled failures of API calls made by event handlers: say so instead of failing silently.
window.addEventListener("unhandledrejection", (event) => {
  if (event.reason instanceof ApiError && event.reason.status !== 401) {
    notify(`Something failed: ${event.reason.message}`, "error");
    event.preventDefault();
  }
});
