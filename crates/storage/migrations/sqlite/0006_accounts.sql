-- Accounts of people (issue 14). Emails are stored normalised (trimmed, lowercased)
-- by the domain, so a plain unique index makes them unique. Flags are INTEGER 0/1:
-- the `Any` driver refuses SQLite columns declared BOOLEAN (see sql/rows.rs).
-- `password_hash` is an Argon2id PHC string, NULL when the account has no password.
CREATE TABLE accounts (
    id TEXT NOT NULL PRIMARY KEY,
    email TEXT NOT NULL,
    display_name TEXT NOT NULL,
    password_hash TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    instance_admin INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX accounts_email ON accounts (email);

-- An instance admin can disable a workspace; it is kept, not deleted.
ALTER TABLE workspaces ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
