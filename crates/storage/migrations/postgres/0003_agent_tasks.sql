-- A2A tasks of the hosted agents, their event logs, the message ids that
-- make sends idempotent, and push notification configs.
--
-- A task belongs to a scope: `tenant` (the caller's workspace id, or `public`
-- for unauthenticated calls to an agent that allows them), `owner` (the
-- caller's user id) and `agent` (the hosted agent's name). Nothing outside
-- the scope sees it. `body` is the task in its A2A 1.0 JSON form, history and
-- artifacts included; the other columns are what lists filter and sort on.
-- `last_seq` is the sequence number of the task's newest event (SSE `id:`).

CREATE TABLE a2a_tasks (
    id TEXT NOT NULL PRIMARY KEY,
    tenant TEXT NOT NULL,
    owner TEXT NOT NULL,
    agent TEXT NOT NULL,
    context_id TEXT NOT NULL,
    state TEXT NOT NULL,
    status_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    body TEXT NOT NULL
);

CREATE INDEX a2a_tasks_listing ON a2a_tasks (tenant, owner, agent, status_at, id);

-- The newest events of each task, for resuming a stream from Last-Event-ID.
CREATE TABLE a2a_task_events (
    task_id TEXT NOT NULL REFERENCES a2a_tasks (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (task_id, seq)
);

-- Every message id a scope has sent, and the task it went to: a retried send
-- with the same id answers with that task instead of starting another.
CREATE TABLE a2a_message_ids (
    tenant TEXT NOT NULL,
    owner TEXT NOT NULL,
    agent TEXT NOT NULL,
    message_id TEXT NOT NULL,
    task_id TEXT NOT NULL REFERENCES a2a_tasks (id) ON DELETE CASCADE,
    PRIMARY KEY (tenant, owner, agent, message_id)
);

-- Push notification configs; `body` holds the credentials, which reads redact.
CREATE TABLE a2a_push_configs (
    task_id TEXT NOT NULL REFERENCES a2a_tasks (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (task_id, id)
);
