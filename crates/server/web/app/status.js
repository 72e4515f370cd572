// The connection indicator in the header: what the sync socket is doing, in
// three words a person (and a test) can rely on.
//
// `data-sync-status` is `connected` while the socket is subscribed,
// `reconnecting` while the sync client backs off and tries again, and `offline`
// when the browser says it has no network (`navigator.onLine === false`) or
// no connection has been made for more than 10 s. `data-sync-version` is the
// last version of the dashboard this tab holds, so "Live · v12" means the
// state shown is version 12. The element is a polite live region; its text
// changes only when the status word changes, so screen readers are not told
// about every version.

const OFFLINE_AFTER_MS = 10_000;

/**
 * Drives `element` from the sync client's `onStatus` callbacks.
 * Returns `{ status(name), version(v), stop() }`.
 */
export function createStatusIndicator(element) {
  let live = false;
  let lostSince = Date.now();
  let version = null;
  let everLive = false;
  let shown = null;

  function render() {
    let status;
    let text;
    if (live && navigator.onLine !== false) {
      status = "connected";
      text = version === null ? "Live" : `Live · v${version}`;
    } else if (navigator.onLine === false || Date.now() - lostSince > OFFLINE_AFTER_MS) {
      status = "offline";
      text = "Offline — retrying";
    } else {
      status = "reconnecting";
      text = everLive ? "Reconnecting…" : "Connecting…";
    }
    if (version !== null) element.dataset.syncVersion = String(version);
    if (shown === status && element.textContent === text) return;
    shown = status;
    element.dataset.syncStatus = status;
    element.textContent = text;
    element.title = status === "connected" ? "Changes arrive live" : "Changes will arrive once the connection is back";
  }

  const recheck = () => render();
  window.addEventListener("online", recheck);
  window.addEventListener("offline", recheck);
  // The 10 s threshold passes without any event; a slow tick notices it.
  const timer = setInterval(() => {
    if (!live) render();
  }, 1000);
  element.hidden = false;
  render();

  return {
    /** A status name from the sync client (`live`, `connecting`, `reconnecting`, `disconnected`, `error`). */
    status(name) {
      if (name === "live") {
        live = true;
        everLive = true;
      } else if (name === "disconnected" || name === "error" || name === "reconnecting") {
        if (live) lostSince = Date.now();
        live = false;
      }
      render();
    },
    /** The version of the state the tab now holds. */
    version(v) {
      version = v;
      render();
    },
    /** Stops watching and hides the indicator (sign-out). */
    stop() {
      clearInterval(timer);
      window.removeEventListener("online", recheck);
      window.removeEventListener("offline", recheck);
      element.hidden = true;
      delete element.dataset.syncVersion;
      element.dataset.syncStatus = "offline";
    },
  };
}
