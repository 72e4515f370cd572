// agentdeck browser sync client: a plain ES module (no build step) for the
// `dash.v1` protocol of `GET /api/sync` (see docs/http-api.md, "Real-time sync").
//
// How it talks to the server:
// - Before every connect it asks `POST /api/ws-ticket` (with the caller's bearer
//   token from `getToken()`, or the headers `getTicketHeaders()` returns, e.g. the
//   `X-CSRF-Token` of a cookie session) for a single-use ticket and offers it as the
//   subprotocol `dash.ticket.<ticket>` next to `dash.v1`: browsers cannot set an
//   Authorization header on a WebSocket, and a ticket expires in 30 s.
// - On open it sends `sub {epoch, v}` with what it holds (nothing on first
//   load), so after a reconnect the server replays the missed changes as one
//   `batch` (or sends a `snapshot` when it no longer has them).
// - `snapshot` replaces the state. `delta` and `batch` apply only when their
//   `base` equals the local version; an older or equal `v` is a duplicate and is
//   ignored; any other gap (or an epoch change, or ops that do not apply) means
//   the local copy cannot be trusted, so it asks `resync` for a snapshot.
// - One patch is in flight at a time. Its ops are applied locally only when the
//   `ack` arrives (the server sends the ack instead of echoing the delta), so
//   the local state is always a state the server committed (an `ack` carrying
//   `ops` means the server's rules changed more than the patch, e.g. trimmed a
//   full list: those ops are applied instead); a `reject` drops the patch and
//   calls `onReject`.
// - Where the browser has `DecompressionStream`, it opens `/api/sync?compress=gzip`
//   and large snapshots arrive as binary frames of gzip-compressed JSON. Frames
//   are handled strictly in arrival order (a frame being inflated holds back
//   the ones after it), because each delta must follow the state before it.
// - `ping` is answered with `pong`. A lost socket reconnects with full-jitter
//   exponential backoff (base 100 ms, cap 10 s); `goaway` sets the next wait to
//   its `retryAfterMs`. Every close code leads to a reconnect (4008 too slow,
//   4010 the server could not read the state for `sub`, 4011 restart, …), so a
//   socket opened during a storage outage gets its state once storage is back —
//   except after a `goaway` with `reconnect: false` (4001: the credential ended),
//   which leaves the client paused until `reconnectNow()`; the page decides.
//
// The module never writes HTML: callers render state with `textContent`.

const TAB_KEY = "agentdeck.sync.tab";
const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 10_000;

/** Whether this browser can inflate gzip frames (`DecompressionStream`). */
const GZIP_FRAMES = typeof DecompressionStream === "function";

/** The text of a gzip-compressed binary frame. */
async function inflate(buffer) {
  const stream = new Blob([buffer]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).text();
}

/** The id of this browser tab: survives reloads of the tab, differs between tabs. */
export function tabId() {
  let id = sessionStorage.getItem(TAB_KEY);
  if (!id) {
    id = crypto.randomUUID();
    sessionStorage.setItem(TAB_KEY, id);
  }
  return id;
}

// ---- RFC 6902 on plain JSON -------------------------------------------------

/** Splits a JSON pointer (RFC 6901) into unescaped tokens; `~1` before `~0`, as the RFC says. */
function parsePointer(pointer) {
  if (pointer === "") return [];
  if (typeof pointer !== "string" || pointer[0] !== "/") throw new Error(`bad JSON pointer: ${pointer}`);
  return pointer
    .slice(1)
    .split("/")
    .map((token) => token.replace(/~1/g, "/").replace(/~0/g, "~"));
}

const hasOwn = (object, key) => Object.prototype.hasOwnProperty.call(object, key);
const isContainer = (value) => value !== null && typeof value === "object";

/** An array index token: digits without leading zeros, below `limit` (inclusive when adding). */
function arrayIndex(token, length, inclusive) {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new Error(`bad array index: ${token}`);
  const index = Number(token);
  if (index > length || (!inclusive && index === length)) throw new Error(`array index out of range: ${token}`);
  return index;
}

function getAt(doc, tokens) {
  let node = doc;
  for (const token of tokens) {
    if (Array.isArray(node)) node = node[arrayIndex(token, node.length, false)];
    else if (isContainer(node) && hasOwn(node, token)) node = node[token];
    else throw new Error(`path not found: /${tokens.join("/")}`);
  }
  return node;
}

// defineProperty, not `obj[key] = v`: a key like `__proto__` must stay an ordinary member.
function setMember(object, key, value) {
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
}

function addAt(doc, tokens, value) {
  if (tokens.length === 0) return value;
  const parent = getAt(doc, tokens.slice(0, -1));
  const key = tokens[tokens.length - 1];
  if (Array.isArray(parent)) {
    parent.splice(key === "-" ? parent.length : arrayIndex(key, parent.length, true), 0, value);
  } else if (isContainer(parent)) {
    setMember(parent, key, value);
  } else {
    throw new Error("parent is not a container");
  }
  return doc;
}

function removeAt(doc, tokens) {
  if (tokens.length === 0) throw new Error("cannot remove the root");
  const parent = getAt(doc, tokens.slice(0, -1));
  const key = tokens[tokens.length - 1];
  if (Array.isArray(parent)) parent.splice(arrayIndex(key, parent.length, false), 1);
  else if (isContainer(parent) && hasOwn(parent, key)) delete parent[key];
  else throw new Error(`path not found: /${tokens.join("/")}`);
  return doc;
}

function deepEqual(a, b) {
  if (a === b) return true;
  if (!isContainer(a) || !isContainer(b) || Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => hasOwn(b, key) && deepEqual(a[key], b[key]));
}

const clone = (value) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

/** Applies RFC 6902 `ops` to a copy of `doc` and returns it; throws (leaving `doc` alone) when an op fails. */
export function applyPatch(doc, ops) {
  if (!Array.isArray(ops)) throw new Error("a patch is an array of operations");
  let result = clone(doc);
  for (const op of ops) {
    const path = parsePointer(op.path);
    switch (op.op) {
      case "add":
        result = addAt(result, path, clone(op.value));
        break;
      case "remove":
        result = removeAt(result, path);
        break;
      case "replace":
        getAt(result, path); // must exist
        result = path.length === 0 ? clone(op.value) : addAt(removeAt(result, path), path, clone(op.value));
        break;
      case "move": {
        const from = parsePointer(op.from);
        if (op.path !== op.from && op.path.startsWith(op.from + "/")) throw new Error("cannot move into a child");
        const value = getAt(result, from);
        result = addAt(removeAt(result, from), path, value);
        break;
      }
      case "copy":
        result = addAt(result, path, clone(getAt(result, parsePointer(op.from))));
        break;
      case "test":
        if (!deepEqual(getAt(result, path), op.value)) throw new Error(`test failed at ${op.path}`);
        break;
      default:
        throw new Error(`unknown op: ${op.op}`);
    }
  }
  return result;
}

// ---- the client -------------------------------------------------------------

/**
 * Opens and keeps a sync subscription.
 * `getToken()` returns (a promise of) the bearer token used to obtain each ticket;
 * `getTicketHeaders()`, when given, instead returns (a promise of) the headers of
 * the ticket request (a cookie session sends its CSRF token; the browser adds the cookie).
 * `onState(state, version)`, `onStatus(status, detail)`, `onReject(frame)` are optional.
 */
export function createSyncClient({ baseUrl = location.origin, getToken, getTicketHeaders, onState, onStatus, onReject } = {}) {
  const tab = tabId();
  const base = baseUrl.replace(/\/$/, "");
  const listeners = new Set();
  const queue = []; // patches waiting to be sent, oldest first
  let state = null;
  let epoch = null;
  let version = null;
  let socket = null;
  let live = false; // `subscribed` seen on the current socket
  let closed = false; // close(): never reconnect
  let paused = false; // disconnect(): no reconnect until reconnectNow()
  let attempt = 0;
  let nextDelay = null; // from goaway
  let timer = null;
  let pending = null; // the one patch in flight: {op, ops, resolve, reject}
  let opCounter = 0;
  let lastSubscribed = null;

  const status = (name, detail) => onStatus?.(name, detail);

  function publish() {
    onState?.(state, version);
    for (const listener of listeners) listener(state, version);
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  }

  function resync() {
    send({ t: "resync" });
  }

  /** Applies changes that follow `base`; returns false when the caller must resync. */
  function applyChanges(frameEpoch, frameBase, frameV, opsList) {
    if (frameEpoch !== epoch) return false;
    if (frameV <= version) return true; // already have it
    if (frameBase !== version) return false;
    try {
      let next = state;
      for (const ops of opsList) next = applyPatch(next, ops);
      state = next;
      version = frameV;
    } catch {
      return false;
    }
    publish();
    return true;
  }

  function sendNext() {
    if (pending || !live || queue.length === 0) return;
    pending = queue.shift();
    send({ t: "patch", op: pending.op, base: version, ops: pending.ops, tab });
  }

  function onFrame(frame) {
    switch (frame.t) {
      case "snapshot":
        state = frame.state;
        epoch = frame.epoch;
        version = frame.v;
        publish();
        break;
      case "delta":
        if (!applyChanges(frame.epoch, frame.base, frame.v, [frame.ops])) resync();
        break;
      case "batch":
        if (!applyChanges(frame.epoch, frame.base, frame.v, frame.deltas.map((delta) => delta.ops))) resync();
        break;
      case "subscribed":
        live = true;
        attempt = 0;
        lastSubscribed = frame;
        if (frame.epoch !== epoch || frame.v !== version) resync();
        status("live", { recovered: frame.recovered, wasRecovering: frame.wasRecovering, replayed: frame.replayed });
        sendNext();
        break;
      case "ack": {
        if (!pending || frame.op !== pending.op) break;
        const done = pending;
        pending = null;
        // Our ops are the change from base to v; when we are not at base we missed
        // something, and a snapshot brings both.
        if (frame.v > version) {
          if (frame.base === version) {
            try {
              // `ops` in the ack: the server's rules changed more than ours said (trims, derived values).
              state = applyPatch(state, frame.ops ?? done.ops);
              version = frame.v;
              publish();
            } catch {
              resync();
            }
          } else {
            resync();
          }
        }
        done.resolve({ v: frame.v });
        sendNext();
        break;
      }
      case "reject": {
        if (pending && (frame.op === undefined || frame.op === pending.op)) {
          const done = pending;
          pending = null;
          const error = new Error(`patch rejected: ${frame.code}`);
          error.frame = frame;
          done.reject(error);
        }
        onReject?.(frame);
        sendNext();
        break;
      }
      case "ping":
        send({ t: "pong", ts: frame.ts });
        break;
      case "goaway":
        if (frame.reconnect === false) paused = true;
        else if (typeof frame.retryAfterMs === "number") nextDelay = frame.retryAfterMs;
        break;
      default:
        break; // hello and future frames need nothing here
    }
  }

  function scheduleReconnect() {
    if (closed || paused || timer) return;
    // Full jitter: a random wait up to the exponential bound, so tabs do not reconnect in step.
    const delay = nextDelay ?? Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
    nextDelay = null;
    attempt += 1;
    status("reconnecting", { delay });
    timer = setTimeout(() => {
      timer = null;
      connect();
    }, delay);
  }

  async function connect() {
    if (closed || paused || socket) return;
    status("connecting");
    let ticket;
    try {
      const headers = getTicketHeaders ? await getTicketHeaders() : { Authorization: `Bearer ${await getToken()}` };
      const response = await fetch(`${base}/api/ws-ticket`, { method: "POST", headers, credentials: "same-origin" });
      if (!response.ok) throw new Error(`ws-ticket answered ${response.status}`);
      ticket = (await response.json()).ticket;
    } catch (error) {
      status("error", { error: String(error) });
      scheduleReconnect();
      return;
    }
    if (closed || paused || socket) return;
    const query = GZIP_FRAMES ? "?compress=gzip" : "";
    const ws = new WebSocket(`${base.replace(/^http/, "ws")}/api/sync${query}`, ["dash.v1", `dash.ticket.${ticket}`]);
    ws.binaryType = "arraybuffer";
    socket = ws;
    // Frames are decoded in a chain so a slow (compressed) one never lets a later one overtake it.
    let inbox = Promise.resolve();
    ws.onopen = () => {
      const sub = { t: "sub" };
      if (epoch !== null) {
        sub.epoch = epoch;
        sub.v = version;
      }
      ws.send(JSON.stringify(sub));
    };
    ws.onmessage = (event) => {
      inbox = inbox.then(async () => {
        if (socket !== ws) return;
        let frame;
        try {
          frame = JSON.parse(typeof event.data === "string" ? event.data : await inflate(event.data));
        } catch {
          // Unreadable: whatever it carried is lost, so the local copy can no longer be trusted.
          resync();
          return;
        }
        if (socket === ws) onFrame(frame);
      });
    };
    ws.onclose = (event) => {
      if (socket !== ws) return;
      lostSocket();
      status("disconnected", { code: event.code });
      scheduleReconnect();
    };
  }

  function dropSocket() {
    if (timer) clearTimeout(timer);
    timer = null;
    const ws = socket;
    if (ws) {
      // Settle now instead of waiting for the close handshake; the old socket's events are ignored.
      lostSocket();
      ws.close();
      status("disconnected", { code: 1000 });
    }
  }

  function lostSocket() {
    socket = null;
    live = false;
    // Whether an unacknowledged patch was committed is unknown; the caller decides to retry.
    if (pending) {
      const lost = pending;
      pending = null;
      lost.reject(new Error("connection lost before the patch was acknowledged"));
    }
  }

  connect();

  return {
    get state() {
      return state;
    },
    get version() {
      return version;
    },
    get epoch() {
      return epoch;
    },
    get tab() {
      return tab;
    },
    get live() {
      return live;
    },
    /** The last `subscribed` frame (tells whether missed changes were recovered). */
    get lastSubscribed() {
      return lastSubscribed;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Sends RFC 6902 `ops`; resolves on `ack`, rejects on `reject` or a lost connection. */
    patch(ops) {
      return new Promise((resolve, reject) => {
        opCounter += 1;
        queue.push({ op: `${tab}:${Date.now()}:${opCounter}`, ops, resolve, reject });
        sendNext();
      });
    },
    /** Closes the socket and stays offline (keeping epoch and v) until `reconnectNow()`. */
    disconnect() {
      paused = true;
      dropSocket();
    },
    /** Drops any socket and connects now, recovering with `sub {epoch, v}`. */
    reconnectNow() {
      paused = false;
      attempt = 0;
      dropSocket();
      connect();
    },
    close() {
      closed = true;
      dropSocket();
      for (const waiting of queue.splice(0)) waiting.reject(new Error("client closed"));
    },
  };
}
