-- Invitations to a workspace (issue 14). The token itself is never stored, only its
-- SHA-256 digest (lowercase hex), unique. An invitation is pending while accepted_at
-- and revoked_at are NULL and expires_at (milliseconds) lies ahead; accepting is a
-- conditional UPDATE on exactly that, so a token is used once even when two race
-- (the second UPDATE waits for the first's row lock, then finds the row no longer pending).
CREATE TABLE invitations (
    id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces (id),
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    token_digest TEXT COLLATE "C" NOT NULL,
    invited_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    accepted_at BIGINT,
    accepted_by TEXT COLLATE "C",
    revoked_at BIGINT
);

CREATE UNIQUE INDEX invitations_token_digest ON invitations (token_digest);
CREATE INDEX invitations_workspace ON invitations (workspace_id, created_at);
