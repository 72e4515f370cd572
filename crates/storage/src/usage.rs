//! Token usage records (see [`crate::store::UsageStore`]).

/// One workspace's token counts of one UTC day.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageDay {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Tokens of messages sent to hosted agents.
    pub tokens_in: i64,
    /// Tokens of the agents' answers.
    pub tokens_out: i64,
}
