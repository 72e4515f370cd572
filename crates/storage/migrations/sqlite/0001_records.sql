-- Records of every workspace (SQLite, embedded mode).
--
-- Ids are hyphenated lowercase uuid strings, times are milliseconds since the
-- Unix epoch (UTC), enums are their wire names. Flags are INTEGER 0/1 rather
-- than BOOLEAN: sqlx's Any driver cannot decode a column declared BOOLEAN on
-- SQLite, and the CHECK keeps the column honest.
--
-- Composite foreign keys on (workspace_id, id) make the database itself refuse a
-- link between records of different workspaces; the store checks references
-- first so that callers get a precise error instead of a constraint failure.

CREATE TABLE workspaces (
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE projects (
    id TEXT NOT NULL PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    start_date BIGINT,
    due_date BIGINT,
    archived INTEGER NOT NULL CHECK (archived IN (0, 1)),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    revision BIGINT NOT NULL,
    UNIQUE (workspace_id, id)
);
CREATE INDEX projects_list ON projects (workspace_id, created_at DESC, id DESC);
CREATE INDEX projects_archived ON projects (workspace_id, archived, created_at DESC, id DESC);

CREATE TABLE members (
    id TEXT NOT NULL PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    user_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    email TEXT,
    role TEXT NOT NULL,
    weekly_capacity_hours REAL NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    revision BIGINT NOT NULL,
    UNIQUE (workspace_id, user_id)
);
CREATE INDEX members_list ON members (workspace_id, created_at DESC, id DESC);

CREATE TABLE tasks (
    id TEXT NOT NULL PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    project_id TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    -- Member ids are globally unique, so a plain key suffices; SET NULL on a
    -- composite key would also clear workspace_id.
    assignee_id TEXT REFERENCES members (id) ON DELETE SET NULL,
    estimate_hours REAL,
    due_date BIGINT,
    completed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    revision BIGINT NOT NULL,
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, project_id) REFERENCES projects (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX tasks_list ON tasks (workspace_id, created_at DESC, id DESC);
CREATE INDEX tasks_project ON tasks (project_id, created_at DESC, id DESC);
CREATE INDEX tasks_status ON tasks (workspace_id, status, created_at DESC, id DESC);
CREATE INDEX tasks_assignee ON tasks (assignee_id, created_at DESC, id DESC);
CREATE INDEX tasks_due ON tasks (workspace_id, due_date);

-- One row per blocked-by link; `position` keeps the order the client gave.
CREATE TABLE task_blockers (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    task_id TEXT NOT NULL,
    blocked_by_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (task_id, blocked_by_id),
    FOREIGN KEY (workspace_id, task_id) REFERENCES tasks (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, blocked_by_id) REFERENCES tasks (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX task_blockers_workspace ON task_blockers (workspace_id, task_id, position);
CREATE INDEX task_blockers_blocked_by ON task_blockers (blocked_by_id);

-- The activity log. project_id has no foreign key: entries outlive the project
-- they describe (a project's deletion is itself an entry).
CREATE TABLE activity (
    id TEXT NOT NULL PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    project_id TEXT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    target_name TEXT NOT NULL,
    details TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX activity_list ON activity (workspace_id, at DESC, id DESC);
CREATE INDEX activity_project ON activity (project_id, at DESC, id DESC);
CREATE INDEX activity_actor ON activity (workspace_id, actor, at DESC, id DESC);

-- The log is append-only: history that can be edited is not history.
CREATE TRIGGER activity_no_update BEFORE UPDATE ON activity
BEGIN
    SELECT RAISE(ABORT, 'activity is append-only');
END;

CREATE TRIGGER activity_no_delete BEFORE DELETE ON activity
BEGIN
    SELECT RAISE(ABORT, 'activity is append-only');
END;
