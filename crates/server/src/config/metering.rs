//! `[metering]`: token counting and the daily quota.

use serde::{Deserialize, Serialize};

/// `[metering]`: tokens of agent messages per workspace and day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MeteringSettings {
    /// Tokens (in and out) a workspace may use per UTC day before alerts at 80 % and 95 %; 0: no quota.
    pub daily_quota_tokens: u64,
}
