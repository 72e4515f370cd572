-- Signed-in sessions and the auth log (issue 14). A session row holds the
-- SHA-256 digest of the cookie's secret, never the secret. Times are
-- milliseconds; the absolute timeout is stored per session (`expires_at`),
-- the idle timeout is a setting applied to `last_seen_at`.
CREATE TABLE sessions (
    id TEXT NOT NULL PRIMARY KEY,
    digest TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX sessions_digest ON sessions (digest);
CREATE INDEX sessions_account ON sessions (account_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

-- The auth log: sign-ins, failures, locks, sign-outs, token and invitation
-- events. No foreign keys: entries name emails without accounts, and outlive
-- what they name. The email index serves the per-account lockout's count.
CREATE TABLE auth_events (
    id TEXT NOT NULL PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    account_id TEXT,
    workspace_id TEXT,
    email TEXT,
    client_address TEXT,
    user_agent TEXT,
    detail TEXT
);

CREATE INDEX auth_events_list ON auth_events (at DESC, id DESC);
CREATE INDEX auth_events_email ON auth_events (email, kind, at);
