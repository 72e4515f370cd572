//! `[tokens]`: lifetimes of API tokens (personal access and service tokens).

use agentdeck_services::api_tokens::TokenLifetimes;
use serde::{Deserialize, Serialize};

/// Lifetimes of API tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokensSettings {
    /// The longest lifetime a token may be given, in days; a longer `expiresInDays` is refused.
    pub max_lifetime_days: u32,
    /// The lifetime of a token created without `expiresInDays`, in days (capped at the maximum).
    pub default_lifetime_days: u32,
}

impl Default for TokensSettings {
    fn default() -> Self {
        Self { max_lifetime_days: 365, default_lifetime_days: 90 }
    }
}

impl TokensSettings {
    /// The lifetimes the token service applies.
    pub fn lifetimes(&self) -> TokenLifetimes {
        TokenLifetimes { max_days: self.max_lifetime_days, default_days: self.default_lifetime_days }
    }
}
