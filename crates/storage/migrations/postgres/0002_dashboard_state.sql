-- Dashboard state of every room (PostgreSQL).
--
-- Cluster mode keeps dashboard state in Redis; these tables mirror the SQLite
-- ones so that both migration sets stay parallel (and a PostgreSQL-backed state
-- store remains possible). Id columns use the "C" collation as in 0001.
--
-- One room per (workspace, user): its current document with (epoch, version),
-- the recent history of changes, and the idempotency keys of recent writes.
-- Times are milliseconds since the Unix epoch (UTC). A room whose expires_at has
-- passed reads as absent and is removed by the store's purge. No foreign key to
-- workspaces: the state is a cache of the user's view, and a workspace's
-- deletion must not wait on it.

CREATE TABLE dashboard_states (
    workspace_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    epoch TEXT NOT NULL,
    version BIGINT NOT NULL,
    document BYTEA NOT NULL,
    updated_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX dashboard_states_expiry ON dashboard_states (expires_at);

-- One row per committed version of the current epoch; trimmed to the last N.
CREATE TABLE dashboard_history (
    workspace_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL,
    op_key TEXT,
    ops TEXT NOT NULL,
    written_paths TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id, version)
);

-- Idempotency keys of recent commits, with the version each one produced.
CREATE TABLE dashboard_ops (
    workspace_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    op_key TEXT NOT NULL,
    epoch TEXT NOT NULL,
    version BIGINT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id, op_key)
);
CREATE INDEX dashboard_ops_version ON dashboard_ops (workspace_id, user_id, version);
