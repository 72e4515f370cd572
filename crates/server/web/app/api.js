// The REST API from the page: one place that adds the bearer token, reads the
// one JSON error shape (docs/http-api.md, "Errors") and tells the page when
// the token stopped being accepted.

/** A failed API call: the server's `error` object with the HTTP status. */
export class ApiError extends Error {
  constructor(status, code, message, details = []) {
    super(message);
    this.name = "ApiError";
    /** HTTP status (0 when the server could not be reached). */
    this.status = status;
    /** The server's error code (`validation_failed`, `conflict`, …), or `network`. */
    this.code = code;
    /** `[{path, message}]` for validation failures: JSON Pointers into the request body. */
    this.details = Array.isArray(details) ? details : [];
  }

  /** The messages of the details whose path is `pointer` (e.g. `/name`) or below it. */
  messagesFor(pointer) {
    return this.details
      .filter((detail) => detail && (detail.path === pointer || String(detail.path).startsWith(pointer + "/")))
      .map((detail) => String(detail.message ?? ""));
  }
}

let currentToken = null;
const unauthorizedListeners = new Set();

/** Sets the bearer token the calls carry (`null`: none). */
export function setToken(token) {
  currentToken = token;
}

/** The bearer token in use, or `null`. */
export function token() {
  return currentToken;
}

/** Calls `listener()` whenever the server answers 401 (the token expired or was revoked). */
export function onUnauthorized(listener) {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/**
 * Calls the API: `api("/api/projects", { method: "POST", body: {...} })`.
 * Resolves to the parsed JSON body (`null` for 204), rejects with an `ApiError`.
 * `headers` are added; a `body` object is sent as JSON unless `contentType` says otherwise.
 */
export async function api(path, { method = "GET", body, headers = {}, contentType = "application/json", signal } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, signal };
  if (currentToken) init.headers.Authorization = `Bearer ${currentToken}`;
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
  if (response.status === 401) for (const listener of unauthorizedListeners) listener();
  const error = parsed?.error ?? {};
  throw new ApiError(
    response.status,
    error.code ?? "http_" + response.status,
    error.message ?? `${method} ${path} failed (${response.status})`,
    error.details,
  );
}
