-- The dashboard state tables as clustered b-trees (SQLite, embedded mode).
--
-- 0002 made them rowid tables with TEXT primary keys, so every table was two
-- b-trees (the rows by rowid, and the automatic index of the key), and a
-- commit wrote a page of each. WITHOUT ROWID keeps each row in its key's
-- b-tree: a commit writes the room's state row, its history row and its op key
-- row, one page each. The op keys lose their version index: a room's op keys
-- are trimmed every 32 versions by scanning that room's rows (its key prefix),
-- which costs less than writing an index page on every commit. The rows stay
-- small (documents above the compression threshold are stored compressed), as
-- WITHOUT ROWID tables want. Same columns, same keys, same data.

CREATE TABLE dashboard_states_clustered (
    workspace_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    epoch TEXT NOT NULL,
    version BIGINT NOT NULL,
    document BLOB NOT NULL,
    updated_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
) WITHOUT ROWID;
INSERT INTO dashboard_states_clustered (workspace_id, user_id, epoch, version, document, updated_at, expires_at)
    SELECT workspace_id, user_id, epoch, version, document, updated_at, expires_at FROM dashboard_states;
DROP TABLE dashboard_states;
ALTER TABLE dashboard_states_clustered RENAME TO dashboard_states;
CREATE INDEX dashboard_states_expiry ON dashboard_states (expires_at);

CREATE TABLE dashboard_history_clustered (
    workspace_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    op_key TEXT,
    ops TEXT NOT NULL,
    written_paths TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id, version)
) WITHOUT ROWID;
INSERT INTO dashboard_history_clustered (workspace_id, user_id, version, op_key, ops, written_paths, at)
    SELECT workspace_id, user_id, version, op_key, ops, written_paths, at FROM dashboard_history;
DROP TABLE dashboard_history;
ALTER TABLE dashboard_history_clustered RENAME TO dashboard_history;

CREATE TABLE dashboard_ops_clustered (
    workspace_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    op_key TEXT NOT NULL,
    epoch TEXT NOT NULL,
    version BIGINT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id, op_key)
) WITHOUT ROWID;
INSERT INTO dashboard_ops_clustered (workspace_id, user_id, op_key, epoch, version, at)
    SELECT workspace_id, user_id, op_key, epoch, version, at FROM dashboard_ops;
DROP TABLE dashboard_ops;
ALTER TABLE dashboard_ops_clustered RENAME TO dashboard_ops;
