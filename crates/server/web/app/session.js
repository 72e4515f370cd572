// Who is signed in, and how they got there.
//
// The session is a bearer token kept in `localStorage` under `agentdeck.token`
// (plus `agentdeck.user`, what the header shows), so every tab of the browser
// shares it: a second tab opens signed in, and the `storage` event tells the
// other tabs when one signs in or out. Two ways in:
// - development mode: one click on `POST /api/dev/login` (404 when the server
//   runs in production mode: the page says so and points to the token field);
// - a pasted token, accepted only after `GET /api/projects?limit=1` answered
//   with it (a wrong one is reported next to the field, nothing is stored).
// A 401 from any API call (`api.js` `onUnauthorized`) ends the session with a
// message. The sync socket's own ticket requests are not 401-checked here: the
// shell confirms with a REST call first, because a server that is restarting
// must not sign anyone out.

import { api, ApiError, onUnauthorized, setToken } from "./api.js";

const TOKEN_KEY = "agentdeck.token";
const USER_KEY = "agentdeck.user";

/** The stored session `{token, user}` or `null`. */
function readStored() {
  const token = localStorage.getItem(TOKEN_KEY);
  if (!token) return null;
  let user = null;
  try {
    user = JSON.parse(localStorage.getItem(USER_KEY) ?? "null");
  } catch {
    user = null;
  }
  return { token, user: user ?? userFromToken(token) };
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

/**
 * Wires the sign-in view and the sign-out button.
 * `onSignedIn(session, {interactive})` runs when a session starts (`interactive`:
 * signed in on this page just now, not resumed or started by another tab),
 * `onSignedOut(message)` when it ends (`message`: why, or `null`).
 * Returns `{ current(), signOut(message) }`.
 */
export function initSession(root, { onSignedIn, onSignedOut }) {
  const devButton = root.querySelector('[data-action="dev-login"]');
  const devError = root.querySelector('[data-role="dev-login-error"]');
  const tokenForm = root.querySelector('form[data-role="token-login"]');
  const tokenInput = tokenForm.elements.namedItem("token");
  const tokenError = root.querySelector('[data-role="token-error"]');
  const signOutButton = root.querySelector('[data-action="sign-out"]');
  let session = null;

  const showError = (node, text) => {
    node.textContent = text ?? "";
    node.hidden = !text;
  };

  function start(next, store) {
    session = next;
    setToken(next.token);
    if (store) {
      localStorage.setItem(TOKEN_KEY, next.token);
      localStorage.setItem(USER_KEY, JSON.stringify(next.user));
    }
    showError(devError, null);
    showError(tokenError, null);
    tokenInput.removeAttribute("aria-invalid");
    tokenForm.reset();
    onSignedIn(next, { interactive: store });
  }

  function end(message, { forget = true } = {}) {
    if (!session) return;
    session = null;
    setToken(null);
    if (forget) {
      localStorage.removeItem(TOKEN_KEY);
      localStorage.removeItem(USER_KEY);
    }
    onSignedOut(message);
  }

  devButton.addEventListener("click", async () => {
    showError(devError, null);
    devButton.disabled = true;
    try {
      const login = await api("/api/dev/login", { method: "POST" });
      start({ token: login.token, user: { user: login.user, workspace: login.workspace } }, true);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        showError(devError, "Development sign-in is off on this server. Paste an access token instead.");
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
      start({ token, user: userFromToken(token) }, true);
    } catch {
      fail("The server could not be reached to check the token.");
    } finally {
      submit.disabled = false;
    }
  });

  signOutButton.addEventListener("click", () => end(null));

  onUnauthorized(() => end("Your session has ended (the server no longer accepts the token). Please sign in again."));

  // Another tab signed in or out.
  window.addEventListener("storage", (event) => {
    if (event.key !== TOKEN_KEY && event.key !== null) return;
    const stored = readStored();
    if (!stored && session) end("You signed out in another tab.", { forget: false });
    else if (stored && (!session || session.token !== stored.token)) {
      if (session) end(null, { forget: false });
      start(stored, false);
    }
  });

  return {
    /** The current session `{token, user: {user, workspace}}`, or `null`. */
    current: () => session,
    /** Starts the stored session, if any; returns whether there was one. */
    resume() {
      const stored = readStored();
      if (stored) start(stored, false);
      return Boolean(stored);
    },
    /** Ends the session everywhere with `message` shown on the sign-in view. */
    signOut: (message) => end(message ?? null),
  };
}
