-- API tokens for scripts and agents (issue 14): personal access tokens and
-- workspace service tokens. Only the SHA-256 digest of a token is stored (hex);
-- the clear text is shown once at creation. `prefix` is what lists show
-- (`adk_pat_AbC1…`), `scopes` the scope names joined by commas in canonical
-- order. Revoked tokens are kept (revoked_at set) but refused and not listed.
CREATE TABLE api_tokens (
    id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    digest TEXT COLLATE "C" NOT NULL,
    kind TEXT NOT NULL,
    workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces (id),
    account_id TEXT COLLATE "C" REFERENCES accounts (id),
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    prefix TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

-- Every authenticated request finds its token by digest: one index lookup.
CREATE UNIQUE INDEX api_tokens_digest ON api_tokens (digest);
CREATE INDEX api_tokens_account ON api_tokens (account_id, created_at DESC, id DESC);
CREATE INDEX api_tokens_workspace ON api_tokens (workspace_id, kind, created_at DESC, id DESC);
