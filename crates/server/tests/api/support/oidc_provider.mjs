// A real OpenID Connect provider for the single sign-on tests: npm's
// `oidc-provider` (installed by scripts/test into the test-tools dir), with
// one confidential client registered for the callback under test and its
// development login pages (any login and password sign in).
//
// Environment:
//   AGENTDECK_TEST_TOOLS  the test-tools dir holding node_modules/oidc-provider
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI   the client
//   OIDC_ACCOUNTS  JSON {login: {email, email_verified}}: what each login's
//                  claims say; the login typed on the page is the `sub`
// Listens on a free port of 127.0.0.1 and prints `listening <port>` once ready.
// `GET /test/last-callback` answers the last redirect to the client's callback
// (its code and state), so a test can replay it.

import http from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";

const tools = process.env.AGENTDECK_TEST_TOOLS;
const entry = path.join(tools, "node_modules", "oidc-provider", "lib", "index.js");
const { default: Provider } = await import(pathToFileURL(entry).href);
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || "{}");

const server = http.createServer();
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.OIDC_CLIENT_ID,
      client_secret: process.env.OIDC_CLIENT_SECRET,
      redirect_uris: [process.env.OIDC_REDIRECT_URI],
      response_types: ["code"],
      grant_types: ["authorization_code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  pkce: { required: () => true, methods: ["S256"] },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ["agentdeck-test-cookie-key"] },
  // Every login is granted what it asks for, so no consent page comes between login and callback.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid email profile");
    await grant.save();
    return grant;
  },
  async findAccount(ctx, id) {
    const known = accounts[id] ?? {};
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: known.email ?? `${id}@idp.example`,
          email_verified: known.email_verified ?? false,
          name: id,
        };
      },
    };
  },
});
// Quiet: a refused request is the test's business, not this process's stderr.
provider.on("server_error", (_ctx, error) => console.error("server_error", error));

let lastCallback = "";
provider.use(async (ctx, next) => {
  if (ctx.path === "/test/last-callback") {
    ctx.body = { url: lastCallback };
    return;
  }
  await next();
  const location = ctx.response.get("location");
  if (location && location.startsWith(process.env.OIDC_REDIRECT_URI)) lastCallback = location;
});

server.on("request", provider.callback());
server.on("clientError", (error, socket) => { console.error("clientError", error.code, String(error.rawPacket ?? "")); socket.destroy(); });
console.log(`listening ${port}`);
