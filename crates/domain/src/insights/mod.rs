//! The rules the agents report with: project status (Navi) and health and
//! risks (Pulse), as pure functions of the records and the current time.
//!
//! - [`status`]: progress, `completed`/`on_track`/`at_risk`/`behind`.
//! - [`health`]: the 0–100 health score of a set of tasks, its four parts,
//!   its band, and the risks with their severities.
//!
//! Every rule is written out in its module's docs, and unit-tested with
//! hand-computed numbers.

pub mod health;
pub mod status;
