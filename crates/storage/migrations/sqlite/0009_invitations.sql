-- Invitations to a workspace (issue 14). The token itself is never stored, only its
-- SHA-256 digest (lowercase hex), unique. An invitation is pending while accepted_at
-- and revoked_at are NULL and expires_at (milliseconds) lies ahead; accepting is a
-- conditional UPDATE on exactly that, so a token is used once even when two race.
-- (Numbered 0009: 0007 and 0008 are the sessions' and the API tokens' migrations.)
CREATE TABLE invitations (
    id TEXT NOT NULL PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    token_digest TEXT NOT NULL,
    invited_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    accepted_at BIGINT,
    accepted_by TEXT,
    revoked_at BIGINT
);

CREATE UNIQUE INDEX invitations_token_digest ON invitations (token_digest);
CREATE INDEX invitations_workspace ON invitations (workspace_id, created_at);
