//! Why a dashboard request failed; the HTTP edge maps each variant to one status.

use agentdeck_domain::dashboard::patch::PatchError;
use agentdeck_domain::dashboard::version::StateVersion;
use agentdeck_storage::StateError;

/// Why a dashboard read or write failed; nothing was changed.
///
/// Statuses (mapped at the edge): `NotFound` 404, `PreconditionFailed` 412,
/// `Conflict` 409, `Rejected` 422 — except [`PatchError::TooLarge`] 413 and
/// [`PatchError::TestFailed`] 409 (a failed `test` op is a compare-and-set
/// that lost, the same situation as a conflict) — `Unreadable` 409,
/// `Unavailable` 503, `Storage` 500.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// The principal has no dashboard state yet.
    #[error("no dashboard state")]
    NotFound,
    /// `If-Match` names no version the write can be made against.
    #[error("the dashboard state is not at the version named in If-Match")]
    PreconditionFailed {
        /// The current version, `None` when there is no state.
        current: Option<StateVersion>,
    },
    /// The write overlaps changes made since its base version, or lost every race for the retry budget.
    #[error("the change conflicts with changes made since its base version")]
    Conflict {
        /// The current version, to read and retry against.
        current: StateVersion,
        /// The places of the write that conflict (after lost races: every place it writes); never empty.
        paths: Vec<String>,
    },
    /// The patch or document breaks a rule.
    #[error(transparent)]
    Rejected(#[from] PatchError),
    /// The stored document cannot be read back; writes are refused so it is not lost.
    #[error("the stored dashboard state cannot be read by this server; DELETE resets it")]
    Unreadable,
    /// The state store cannot be reached; retry later.
    #[error("the dashboard state store is unavailable")]
    Unavailable(#[source] StateError),
    /// Any other store failure.
    #[error("dashboard state store error")]
    Storage(#[source] StateError),
}

impl From<StateError> for DashboardError {
    fn from(error: StateError) -> Self {
        match error {
            StateError::Unavailable(_) => Self::Unavailable(error),
            other => Self::Storage(other),
        }
    }
}
