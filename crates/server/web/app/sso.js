// Single sign-on buttons on the sign-in view, and what the server's redirect
// after a refused sign-in says.
//
// The buttons are plain links to `GET /api/auth/oidc/{id}/start` (a browser
// navigation to the provider and back, not an API call), one per provider of
// `GET /api/auth/providers`, in the sign-in form's `[data-sso]` container
// (empty, and so not shown, when the server has no provider). A refused
// sign-in comes back as `/#sso-error=<code>`: the message for the code is
// shown in the container (`[data-role="sso-error"]`, an alert) and the
// fragment removed, so a reload does not show it again.

import { api } from "./api.js";

/** What each code of `/#sso-error=<code>` means to the person who tried. */
const MESSAGES = {
  no_account: "No account is linked to this sign-in. Ask a workspace owner for an invitation, then link it from your account.",
  access_denied: "The sign-in was cancelled or refused at the provider.",
  expired: "This sign-in took too long or was already used. Please try again.",
  state_mismatch: "This sign-in was started in another tab or browser. Please try again here.",
  provider_unavailable: "The sign-in provider cannot be reached right now. Please try again later.",
  invalid_token: "The sign-in provider's answer could not be verified. Please try again, or ask an administrator.",
  identity_taken: "This sign-in is already linked to another account.",
  account_disabled: "Your account is disabled. Ask an administrator.",
  too_many_identities: "Your account has as many linked sign-ins as it may have; unlink one first.",
  not_signed_in: "Sign in first to link another way of signing in.",
  no_workspace: "You are not a member of any usable workspace. Ask a workspace owner for an invitation.",
  unknown_provider: "This sign-in provider is not configured on this server.",
  unavailable: "The server could not complete the sign-in right now. Please try again.",
};

/** The message for an error code (unknown codes get a generic one). */
export function ssoMessage(code) {
  return MESSAGES[code] ?? "The sign-in did not succeed. Please try again.";
}

/** Fills the `[data-sso]` container of `root` and shows a pending `#sso-error`. */
export async function initSso(root) {
  const container = root.querySelector("[data-sso]");
  if (!container) return;
  const match = /^#sso-error=([a-z_]{1,40})$/.exec(location.hash);
  if (match) {
    const error = document.createElement("p");
    error.className = "field-error";
    error.dataset.role = "sso-error";
    error.setAttribute("role", "alert");
    error.textContent = ssoMessage(match[1]);
    container.prepend(error);
    history.replaceState(null, "", location.pathname + location.search);
  }
  try {
    const { providers } = await api("/api/auth/providers");
    container.append(
      ...providers.map((provider) => {
        const link = document.createElement("a");
        link.className = "button";
        link.href = provider.startUrl;
        link.dataset.provider = provider.id;
        link.textContent = `Sign in with ${provider.name}`;
        return link;
      }),
    );
  } catch {
    // No list, no buttons: the other ways in still work.
  }
}
