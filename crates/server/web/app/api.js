// The REST API from the page: one place that says who is calling, reads the
// one JSON error shape (docs/http-api.md, "Errors") and tells the page when
// the session stopped being accepted.
//
// Two ways to say who is calling (session.js picks one):
// - a bearer token (a pasted JWT or API token, or the dev login's JWT): every
//   call carries `Authorization: Bearer …`, and the server never looks at the
//   cookie then;
// - the session cookie (`POST /api/auth/login`): the browser attaches it by
//   itself (`credentials: "same-origin"`; scripts cannot read it, it is
//   HttpOnly). Because a browser would attach it to a forged cross-site request
//   too, every unsafe call (anything but GET/HEAD/OPTIONS) also carries
//   `X-CSRF-Token`, the session's token that only this origin's scripts can
//   learn (from `GET /api/me` or the sign-in answer). When the server refuses a
//   call for its CSRF token (the token rotated: the workspace was switched in
//   another tab), the page asks `/api/me` for the current one once and sends
//   the call again.

/** A failed API call: the server's `error` object with the HTTP status. */
export class ApiError extends Error {
  constructor(status, code, message, details = [], retryAfter = null) {
    super(message);
    this.name = "ApiError";
    /** HTTP status (0 when the server could not be reached). */
    this.status = status;
    /** The server's error code (`validation_failed`, `conflict`, …), or `network`. */
    this.code = code;
    /** `[{path, message}]` for validation failures: JSON Pointers into the request body. */
    this.details = Array.isArray(details) ? details : [];
    /** Seconds from the `Retry-After` header (429, 503), or `null`. */
    this.retryAfter = retryAfter;
  }

  /** The messages of the details whose path is `pointer` (e.g. `/name`) or below it. */
  messagesFor(pointer) {
    return this.details
      .filter((detail) => detail && (detail.path === pointer || String(detail.path).startsWith(pointer + "/")))
      .map((detail) => String(detail.message ?? ""));
  }
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

let currentToken = null;
let currentCsrf = null;
let csrfRefresher = null;
let refreshing = null;
const unauthorizedListeners = new Set();

/** Sets the bearer token the calls carry (`null`: none, the cookie speaks). */
export function setToken(token) {
  currentToken = token;
}

/** The bearer token in use, or `null`. */
export function token() {
  return currentToken;
}

/** Sets the cookie session's CSRF token that unsafe calls carry (`null`: none). */
export function setCsrfToken(value) {
  currentCsrf = typeof value === "string" && value ? value : null;
}

/** The CSRF token in use, or `null`. */
export function csrfToken() {
  return currentCsrf;
}

/**
 * Sets `refresh() → Promise` that learns the session's current CSRF token
 * (session.js reads `GET /api/me`), used once when the server refuses a call for it.
 */
export function setCsrfRefresher(refresh) {
  csrfRefresher = refresh;
}

/** Calls `listener()` whenever the server answers 401 (the token or session expired or was revoked). */
export function onUnauthorized(listener) {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/** The headers that say who calls with `method`: the bearer token, else the CSRF token for unsafe methods. */
export function authHeaders(method = "GET") {
  if (currentToken) return { Authorization: `Bearer ${currentToken}` };
  if (currentCsrf && !SAFE_METHODS.has(method.toUpperCase())) return { "X-CSRF-Token": currentCsrf };
  return {};
}

/** Whether `error` is the server refusing a cookie call for its CSRF token (not for a role, not for Origin). */
function isCsrfRefusal(status, error) {
  return status === 403 && error?.code === "forbidden" && /csrf/i.test(String(error?.message ?? ""));
}

/** Asks the refresher for the current CSRF token; concurrent refusals share one request. Resolves to whether it worked. */
export function refreshCsrf() {
  if (!csrfRefresher) return Promise.resolve(false);
  refreshing ??= Promise.resolve()
    .then(() => csrfRefresher())
    .then(
      () => true,
      () => false,
    )
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

/** Seconds of a `Retry-After` header (delta seconds or an HTTP date), or `null`. */
function retryAfterSeconds(value) {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/**
 * Calls the API: `api("/api/projects", { method: "POST", body: {...} })`.
 * Resolves to the parsed JSON body (`null` for 204), rejects with an `ApiError`.
 * `headers` are added; a `body` object is sent as JSON unless `contentType` says otherwise.
 */
export async function api(path, options = {}) {
  return call(path, options, false);
}

async function call(path, options, retried) {
  const { method = "GET", body, headers = {}, contentType = "application/json", signal } = options;
  const init = {
    method,
    headers: { Accept: "application/json", ...headers, ...authHeaders(method) },
    credentials: "same-origin",
    signal,
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = contentType;
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error?.name === "AbortError") throw error;
    throw new ApiError(0, "network", "the server could not be reached");
  }
  if (response.status === 204 || response.status === 304) return null;
  const text = await response.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (response.ok) return parsed;
  const error = parsed?.error ?? {};
  // A stale CSRF token of a cookie session: learn the current one and try once more.
  if (!retried && !currentToken && isCsrfRefusal(response.status, error) && (await refreshCsrf())) {
    return call(path, options, true);
  }
  if (response.status === 401) for (const listener of unauthorizedListeners) listener();
  throw new ApiError(
    response.status,
    error.code ?? "http_" + response.status,
    error.message ?? `${method} ${path} failed (${response.status})`,
    error.details,
    retryAfterSeconds(response.headers.get("Retry-After")),
  );
}
