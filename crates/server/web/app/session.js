// Who is signed in, and how they got there.
//
// Three ways in, and two kinds of session:
// - email and password (`POST /api/auth/login`): the server sets an HttpOnly
//   session cookie that scripts never see; the page keeps only the session's
//   CSRF token (from the answer or `GET /api/me`) in memory, for api.js to send
//   with every unsafe call. A reload asks `GET /api/me` whether the cookie is
//   still good. The header then offers the workspace switcher (the account's
//   `workspaces`), "Sign out" and "Sign out everywhere".
// - development mode: one click on `POST /api/dev/login` (404 when the server
//   runs in production mode: the page says so and points to the token field);
// - a pasted token (a JWT or an API token), accepted only after
//   `GET /api/projects?limit=1` answered with it (a wrong one is reported next
//   to the field, nothing is stored).
// The last two are bearer sessions: the token is kept in `localStorage`
// (`agentdeck.token`, plus `agentdeck.user`, what the header shows), and a
// stored token wins over a cookie on load, as before cookies existed.
//
// Every tab of the browser shares the session. A bearer session is shared
// through the stored token itself; a cookie session through the key
// `agentdeck.session` (no secret in it: the workspace id and a time), which a
// tab writes when it signs in or switches workspace and removes when it signs
// out. The `storage` event tells the other tabs, which then ask `/api/me`
// (signed in, or switched) or return to the sign-in view (signed out). The key
// is also why a fresh tab asks `/api/me` at all: without it (never signed in
// with a cookie here) the page shows the form without a request that could
// only answer 401. A flow that sets the cookie outside the page (single
// sign-on's callback) sends the browser to `/#signed-in`, which asks too.
//
// A 401 from any API call (`api.js` `onUnauthorized`) ends the session with a
// message: an expired or revoked token, or a cookie session ended elsewhere
// ("Sign out everywhere" on another device). The sync socket's own ticket
// requests are not 401-checked here: the shell confirms with a REST call first,
// because a server that is restarting must not sign anyone out.

import { api, ApiError, onUnauthorized, setCsrfRefresher, setCsrfToken, setToken } from "./api.js";

const TOKEN_KEY = "agentdeck.token";
const USER_KEY = "agentdeck.user";
const SESSION_KEY = "agentdeck.session";
/** The address a cookie-setting flow outside the page (SSO) returns to. */
const SIGNED_IN_HASH = "#signed-in";

/** The stored bearer session `{kind, token, user}` or `null`. */
function readStored() {
  const token = localStorage.getItem(TOKEN_KEY);
  if (!token) return null;
  let user = null;
  try {
    user = JSON.parse(localStorage.getItem(USER_KEY) ?? "null");
  } catch {
    user = null;
  }
  return { kind: "token", token, user: user ?? userFromToken(token), workspaces: [] };
}

/** What a JWT says about its holder (unverified: for display only; the server checks it). */
function userFromToken(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(payload));
    return {
      user: {
        id: String(claims.sub ?? ""),
        displayName: String(claims.sub ?? "token user"),
        role: claims.role ?? null,
      },
      workspace: { id: String(claims.workspace ?? ""), name: null },
    };
  } catch {
    return { user: { id: "", displayName: "token user", role: null }, workspace: { id: "", name: null } };
  }
}

/** A cookie session from what `GET /api/me` (or the sign-in answer) says, or `null` when it names no account. */
function sessionFromMe(me) {
  const account = me?.account;
  if (!account || typeof account !== "object") return null;
  const workspaces = (Array.isArray(me.workspaces) ? me.workspaces : [])
    .filter((entry) => entry && entry.id)
    .map((entry) => ({ id: String(entry.id), name: String(entry.name ?? entry.id), role: entry.role ?? null }));
  // `/api/me` names the current workspace by id; its name is in the account's list.
  const workspaceId = String(me.workspaceId ?? "");
  const workspace = workspaces.find((entry) => entry.id === workspaceId) ?? { id: workspaceId, name: null };
  return {
    kind: "cookie",
    token: null,
    csrfToken: typeof me.csrfToken === "string" ? me.csrfToken : null,
    user: {
      user: {
        id: String(account.id ?? ""),
        displayName: String(account.displayName ?? account.email ?? "signed in"),
        email: account.email ?? null,
        role: me.role ?? workspace.role ?? null,
      },
      workspace: { id: String(workspace.id ?? ""), name: workspace.name ?? null },
    },
    workspaces,
  };
}

/** "in 40 seconds", "in 15 minutes", "in 2 hours" for a `Retry-After` in seconds. */
function inTime(seconds) {
  if (!Number.isFinite(seconds) || seconds <= 0) return "in a moment";
  const plural = (n, unit) => `in ${n} ${unit}${n === 1 ? "" : "s"}`;
  if (seconds < 90) return plural(Math.ceil(seconds), "second");
  if (seconds < 90 * 60) return plural(Math.ceil(seconds / 60), "minute");
  return plural(Math.ceil(seconds / 3600), "hour");
}

/** The server's message as a sentence: a capital first letter and a full stop. */
function sentence(text) {
  const trimmed = String(text ?? "").trim();
  if (!trimmed) return "";
  const capital = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** What the form says about a failed sign-in. */
function signInErrorText(error) {
  if (!(error instanceof ApiError)) return `Sign-in failed: ${error?.message ?? error}`;
  switch (error.status) {
    case 0:
      return "The server could not be reached. Check your connection and try again.";
    case 401:
      return sentence(error.message) || "The email or password is not right.";
    case 429: {
      const when = error.retryAfter === null ? "later" : inTime(error.retryAfter);
      return `${sentence(error.message) || "Too many sign-in attempts."} Try again ${when}.`;
    }
    case 422: {
      const details = error.details.map((detail) => detail.message).filter(Boolean);
      return details.length ? details.join(" ") : error.message;
    }
    default:
      return `Sign-in failed: ${error.message}`;
  }
}

/** The controller of this page, for modules that start a cookie session themselves (invitations). */
let controller = null;

/**
 * Starts the cookie session the server has just set (e.g. accepting an
 * invitation), from its answer in the shape of `GET /api/me` (or without one: asks `/api/me`).
 */
export async function startCookieSession(me) {
  if (!controller) throw new Error("the session is not initialised");
  return controller.startCookie(me);
}

/**
 * Wires the sign-in view and the signed-in header.
 * `onSignedIn(session, {interactive})` runs when a session starts (`interactive`:
 * signed in on this page just now, not resumed or started by another tab; also
 * after a workspace switch, with the new workspace), `onSignedOut(message)` when
 * it ends (`message`: why, or `null`), `notify(text, kind)` shows a notice.
 * Returns `{ current(), resume(), signOut(message) }`.
 */
export function initSession(root, { onSignedIn, onSignedOut, notify = () => {} }) {
  const devButton = root.querySelector('[data-action="dev-login"]');
  const devError = root.querySelector('[data-role="dev-login-error"]');
  const tokenForm = root.querySelector('form[data-role="token-login"]');
  const tokenInput = tokenForm.elements.namedItem("token");
  const tokenError = root.querySelector('[data-role="token-error"]');
  const passwordForm = root.querySelector('form[data-role="password-login"]');
  const emailInput = passwordForm.elements.namedItem("email");
  const passwordInput = passwordForm.elements.namedItem("password");
  const signInError = root.querySelector('[data-role="signin-error"]');
  const who = root.querySelector('[data-role="who"]');
  const switcher = root.querySelector('[data-role="workspace-switch"]');
  const workspaceSelect = root.querySelector('select[data-role="workspace"]');
  const signOutButton = root.querySelector('[data-action="sign-out"]');
  const signOutEverywhereButton = root.querySelector('[data-action="sign-out-everywhere"]');
  let session = null;

  const showError = (node, text) => {
    node.textContent = text ?? "";
    node.hidden = !text;
  };

  /** The header's part of the session: who, the workspace switcher, the sign-out buttons. */
  function renderHeader() {
    const cookie = session?.kind === "cookie";
    const { user, workspace } = session?.user ?? {};
    const switchable = cookie && session.workspaces.length > 1;
    // With the switcher, the workspace's name is in the select; else after the person's name.
    who.textContent = session ? [user?.displayName, switchable ? null : workspace?.name].filter(Boolean).join(" · ") : "";
    who.hidden = !session;
    switcher.hidden = !switchable;
    if (switchable) {
      workspaceSelect.replaceChildren(
        ...session.workspaces.map((entry) => {
          const option = document.createElement("option");
          option.value = entry.id;
          option.textContent = entry.name;
          return option;
        }),
      );
      workspaceSelect.value = workspace?.id ?? "";
    } else {
      workspaceSelect.replaceChildren();
    }
    signOutButton.hidden = !session;
    signOutEverywhereButton.hidden = !cookie;
  }

  /** Tells the other tabs that the cookie session changed (signed in, switched): they ask `/api/me`. */
  function announceCookieSession(next) {
    localStorage.setItem(SESSION_KEY, JSON.stringify({ workspaceId: next.user.workspace.id, at: Date.now() }));
  }

  function start(next, { interactive = false, announce = false } = {}) {
    session = next;
    if (next.kind === "cookie") {
      setToken(null);
      setCsrfToken(next.csrfToken);
      if (announce) {
        // A stored token would win over the cookie on the next load.
        localStorage.removeItem(TOKEN_KEY);
        localStorage.removeItem(USER_KEY);
        announceCookieSession(next);
      }
    } else {
      setToken(next.token);
      setCsrfToken(null);
      if (announce) {
        localStorage.setItem(TOKEN_KEY, next.token);
        localStorage.setItem(USER_KEY, JSON.stringify(next.user));
        localStorage.removeItem(SESSION_KEY);
      }
    }
    showError(devError, null);
    showError(tokenError, null);
    showError(signInError, null);
    for (const input of [tokenInput, emailInput, passwordInput]) input.removeAttribute("aria-invalid");
    tokenForm.reset();
    passwordForm.reset();
    renderHeader();
    onSignedIn(next, { interactive });
  }

  function end(message, { forget = true } = {}) {
    if (!session) return;
    session = null;
    setToken(null);
    setCsrfToken(null);
    if (forget) {
      localStorage.removeItem(TOKEN_KEY);
      localStorage.removeItem(USER_KEY);
      localStorage.removeItem(SESSION_KEY);
    }
    renderHeader();
    onSignedOut(message);
  }

  /** Asks `/api/me` about the cookie; `null` when it names no account (a 401 ends the session through onUnauthorized). */
  async function readMe() {
    return sessionFromMe(await api("/api/me"));
  }

  /** Brings this tab to what the cookie says now (after another tab signed in or switched workspace). */
  async function follow() {
    let next;
    try {
      next = await readMe();
    } catch {
      return;
    }
    if (!next) return;
    if (session?.kind === "cookie" && session.user.workspace.id === next.user.workspace.id) {
      // Same workspace: only the CSRF token (rotated) and the lists may have changed.
      session = { ...session, csrfToken: next.csrfToken, workspaces: next.workspaces, user: next.user };
      setCsrfToken(next.csrfToken);
      renderHeader();
      return;
    }
    const switched = session?.kind === "cookie";
    if (session) end(null, { forget: false });
    start(next);
    if (switched) notify(`Another tab switched to the workspace ${next.user.workspace.name ?? next.user.workspace.id}.`);
  }

  // A cookie call refused for its CSRF token: the current one is in `/api/me`.
  setCsrfRefresher(async () => {
    if (session?.kind !== "cookie") return;
    const next = await readMe();
    if (!next) return;
    if (next.user.workspace.id !== session.user.workspace.id) {
      // Switched elsewhere meanwhile: the retried call would act on the other workspace's data.
      follow();
      throw new Error("the workspace changed");
    }
    session = { ...session, csrfToken: next.csrfToken };
    setCsrfToken(next.csrfToken);
  });

  const failSignIn = (text, { invalid = true, focus = passwordInput } = {}) => {
    showError(signInError, text);
    for (const input of [emailInput, passwordInput]) {
      if (invalid) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
    focus.focus();
  };

  passwordForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const email = emailInput.value.trim();
    const password = passwordInput.value;
    if (!email) return failSignIn("Enter your email address.", { focus: emailInput });
    if (!password) return failSignIn("Enter your password.");
    const submit = passwordForm.querySelector('button[type="submit"]');
    submit.disabled = true;
    passwordForm.setAttribute("aria-busy", "true");
    showError(signInError, null);
    try {
      // The sign-in itself carries no bearer token (it would win over the cookie) and no CSRF token (none yet).
      setToken(null);
      const answer = await api("/api/auth/login", { method: "POST", body: { email, password } });
      const next = sessionFromMe(answer) ?? (await readMe());
      if (!next) return failSignIn("Signed in, but the server did not say as whom. Reload the page.");
      if (!next.csrfToken) next.csrfToken = (await api("/api/me"))?.csrfToken ?? null;
      start(next, { interactive: true, announce: true });
    } catch (error) {
      passwordInput.value = "";
      const locked = error instanceof ApiError && error.status === 429;
      failSignIn(signInErrorText(error), { invalid: !locked });
    } finally {
      submit.disabled = false;
      passwordForm.removeAttribute("aria-busy");
    }
  });

  devButton.addEventListener("click", async () => {
    showError(devError, null);
    devButton.disabled = true;
    try {
      const login = await api("/api/dev/login", { method: "POST" });
      start(
        { kind: "token", token: login.token, user: { user: login.user, workspace: login.workspace }, workspaces: [] },
        { interactive: true, announce: true },
      );
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        showError(devError, "Development sign-in is off on this server. Sign in with your account or an access token.");
        tokenInput.focus();
      } else {
        showError(devError, `Sign-in failed: ${error.message}`);
      }
    } finally {
      devButton.disabled = false;
    }
  });

  tokenForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = tokenInput.value.trim();
    const fail = (text) => {
      showError(tokenError, text);
      tokenInput.setAttribute("aria-invalid", "true");
      tokenInput.focus();
    };
    if (!token) return fail("Paste a token first.");
    const submit = tokenForm.querySelector('button[type="submit"]');
    submit.disabled = true;
    try {
      // Checked with the token itself, not the current one, and without triggering onUnauthorized.
      const response = await fetch("/api/projects?limit=1", {
        headers: { Accept: "application/json", Authorization: `Bearer ${token}` },
      });
      if (response.status === 401) return fail("This token was not accepted (unknown, expired or wrongly signed).");
      if (!response.ok) return fail(`The server could not check the token (HTTP ${response.status}).`);
      start({ kind: "token", token, user: userFromToken(token), workspaces: [] }, { interactive: true, announce: true });
    } catch {
      fail("The server could not be reached to check the token.");
    } finally {
      submit.disabled = false;
    }
  });

  workspaceSelect.addEventListener("change", async () => {
    if (session?.kind !== "cookie") return;
    const previous = session.user.workspace.id;
    const workspaceId = workspaceSelect.value;
    if (!workspaceId || workspaceId === previous) return;
    workspaceSelect.disabled = true;
    try {
      const answer = await api("/api/auth/workspace", { method: "POST", body: { workspaceId } });
      let next = sessionFromMe(answer);
      if (!next?.csrfToken || next.user.workspace.id !== workspaceId) next = await readMe();
      if (!next) return;
      end(null, { forget: false });
      start(next, { announce: true });
      notify(`Switched to the workspace ${next.user.workspace.name ?? workspaceId}.`, "success");
    } catch (error) {
      if (session) workspaceSelect.value = previous;
      if (!(error instanceof ApiError && error.status === 401)) {
        notify(`The workspace could not be switched: ${error.message}`, "error");
      }
    } finally {
      workspaceSelect.disabled = false;
      if (!switcher.hidden) workspaceSelect.focus();
    }
  });

  // While this page ends its own session, the server closing its socket (4001) or refusing a request
  // is the sign-out it asked for, not news to report: the sign-out says what happened when it returns.
  let signingOut = false;

  signOutButton.addEventListener("click", async () => {
    if (session?.kind === "cookie") {
      signOutButton.disabled = true;
      signingOut = true;
      // Tell the other tabs first: ending the session closes their sockets (4001) at once, and a
      // tab that already knows it is signed out has nothing to ask the server.
      localStorage.removeItem(SESSION_KEY);
      try {
        await api("/api/auth/logout", { method: "POST" });
      } catch (error) {
        // Signed out here anyway; a cookie the server could not end expires by itself.
        if (!(error instanceof ApiError && error.status === 401)) {
          end(`You are signed out on this page, but the server could not be told (${error.message}).`);
        }
      } finally {
        signOutButton.disabled = false;
        signingOut = false;
      }
    }
    end(null);
  });

  signOutEverywhereButton.addEventListener("click", async () => {
    if (session?.kind !== "cookie") return;
    signOutEverywhereButton.disabled = true;
    signingOut = true;
    try {
      await api("/api/auth/logout-all", { method: "POST" });
      end("You are signed out on every device and browser.");
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        end(sessionEndedMessage());
      } else {
        notify(`Signing out everywhere failed: ${error.message}`, "error");
      }
    } finally {
      signOutEverywhereButton.disabled = false;
      signingOut = false;
    }
  });

  const sessionEndedMessage = () =>
    session?.kind === "cookie"
      ? "Your session has ended (it expired, or you signed out on another device). Please sign in again."
      : "Your session has ended (the server no longer accepts the token). Please sign in again.";

  onUnauthorized(() => {
    if (signingOut) return;
    end(sessionEndedMessage());
  });

  // Another tab signed in or out, or switched workspace.
  window.addEventListener("storage", (event) => {
    if (event.key !== TOKEN_KEY && event.key !== SESSION_KEY && event.key !== null) return;
    const stored = readStored();
    if (stored) {
      if (!session || session.token !== stored.token) {
        if (session) end(null, { forget: false });
        start(stored);
      }
    } else if (localStorage.getItem(SESSION_KEY)) {
      if (event.key !== TOKEN_KEY) follow();
    } else if (session) {
      end("You signed out in another tab.", { forget: false });
    }
  });

  controller = {
    async startCookie(me) {
      const next = sessionFromMe(me) ?? (await readMe());
      if (!next) throw new Error("the server did not start a session");
      if (session) end(null, { forget: false });
      start(next, { interactive: true, announce: true });
      return next;
    },
  };
  renderHeader();

  return {
    /** The current session `{kind: "token"|"cookie", token, user: {user, workspace}, workspaces}`, or `null`. */
    current: () => session,
    /** Starts the stored bearer session, else the cookie's (asking `/api/me`); resolves to whether there was one. */
    async resume() {
      const stored = readStored();
      if (stored) {
        start(stored);
        return true;
      }
      const arrived = location.hash === SIGNED_IN_HASH;
      if (arrived) history.replaceState(null, "", `${location.pathname}${location.search}#/`);
      if (!arrived && !localStorage.getItem(SESSION_KEY)) return false;
      try {
        const next = await readMe();
        if (next) {
          // Announced only when new to this browser's tabs (arrived from SSO), not on every reload.
          start(next, { interactive: arrived, announce: arrived });
          return true;
        }
      } catch (error) {
        if (error instanceof ApiError && error.status === 0) return false;
      }
      localStorage.removeItem(SESSION_KEY);
      return false;
    },
    /** Ends the session everywhere with `message` shown on the sign-in view. */
    signOut: (message) => end(message ?? null),
  };
}
