-- Single sign-on (issue 14): identities of accounts at OpenID Connect providers,
-- unique by (issuer, subject), and the sign-ins in flight towards a provider.
CREATE TABLE identities (
    id TEXT NOT NULL PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    email TEXT,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);

CREATE UNIQUE INDEX identities_issuer_subject ON identities (issuer, subject);
CREATE INDEX identities_account ON identities (account_id);

-- A pending sign-in, found by the SHA-256 of its `state` and deleted when the
-- callback takes it (or once expired). `pkce_verifier` and `nonce` are secrets
-- until the code is exchanged; they live 10 minutes at most.
CREATE TABLE oidc_logins (
    state_digest TEXT NOT NULL PRIMARY KEY,
    provider TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    nonce TEXT NOT NULL,
    link_account_id TEXT,
    return_path TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX oidc_logins_expiry ON oidc_logins (expires_at);
