-- A2A sends are made retry-safe by an `Idempotency-Key` request header
-- (IETF draft httpapi-idempotency-key-header), no longer by the message id:
-- a repeated messageId without a key is a new send, as the protocol says.
DROP TABLE a2a_message_ids;

-- The first outcome of a send made with an idempotency key, kept until
-- `expires_at` (milliseconds; `a2a.idempotency_ttl_secs` after the send).
-- The scope is the caller's: `tenant`, `owner` and `agent` as for tasks,
-- except that an anonymous caller's `owner` names its client address, so
-- anonymous callers never share keys. `params_digest` is the hex SHA-256 of
-- the request's params: the same key with other params is refused. The
-- outcome is a task (`task_id`, with `first_seq`, the first event of that
-- send, where a streamed retry replays from) or, when the agent answered
-- directly, the reply message in its A2A JSON form (`reply`).
CREATE TABLE a2a_idempotency_keys (
    tenant TEXT NOT NULL,
    owner TEXT NOT NULL,
    agent TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    params_digest TEXT NOT NULL,
    task_id TEXT REFERENCES a2a_tasks (id) ON DELETE CASCADE,
    first_seq BIGINT,
    reply TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, owner, agent, idempotency_key)
);

-- The sweep deletes expired keys by this.
CREATE INDEX a2a_idempotency_keys_expiry ON a2a_idempotency_keys (expires_at);
