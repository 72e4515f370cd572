-- Tokens of agent messages per workspace and UTC day (`day` is YYYY-MM-DD):
-- `tokens_in` of messages sent to hosted agents, `tokens_out` of what they answered.
CREATE TABLE token_usage (
    workspace_id TEXT NOT NULL,
    day TEXT NOT NULL,
    tokens_in BIGINT NOT NULL,
    tokens_out BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, day)
);
