-- Accounts of people (issue 14). Emails are stored normalised (trimmed, lowercased)
-- by the domain, so a plain unique index makes them unique. `password_hash` is an
-- Argon2id PHC string, NULL when the account has no password.
CREATE TABLE accounts (
    id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    email TEXT NOT NULL,
    display_name TEXT NOT NULL,
    password_hash TEXT,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    instance_admin BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX accounts_email ON accounts (email);

-- An instance admin can disable a workspace; it is kept, not deleted.
ALTER TABLE workspaces ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
